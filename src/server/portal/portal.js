// micro-gw developer portal: plain JavaScript, no framework, no build step. Talks only to the JSON
// endpoints the README documents (/apikey, /apikeys, /applications, /apikey/revoke,
// /apikey/apis/definition) plus /portal/session. Every value from the gateway is put in the page
// as text (textContent, never innerHTML). A key value lives only in the one-time box: never in a
// URL, the page's storage or the console.
'use strict';

const $ = (id) => document.getElementById(id);
let session = null;   // GET /portal/session: user, admin, csrfToken, apis, tiers
let applications = [];

// An element with attributes and children; strings become text nodes.
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') node.textContent = String(v);
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    node.append(typeof c === 'string' ? document.createTextNode(c) : c);
  }
  return node;
}

function when(seconds) {
  if (!seconds) return 'never';
  return new Date(seconds * 1000).toISOString().slice(0, 16).replace('T', ' ');
}

function nowSeconds() {
  return Math.floor(Date.now() / 1000);
}

// The grace periods offered on regenerate: those up to the gateway's [apikey] maxGracePeriodSeconds.
const GRACE_PERIODS = [[0, 'no grace period'], [3600, 'grace: 1 hour'], [86400, 'grace: 1 day'],
  [7 * 86400, 'grace: 7 days']];

function status(message) {
  $('status').textContent = message;
}

class ApiError extends Error {
  constructor(message, statusCode, fault) {
    super(message);
    this.status = statusCode;
    this.fault = fault;
  }
}

// One call to the gateway: JSON in and out, the CSRF token on every change.
async function call(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (session && method !== 'GET') headers['X-CSRF-Token'] = session.csrfToken;
  const res = await fetch(path, {
    method, headers, credentials: 'same-origin', cache: 'no-store', redirect: 'error',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch (e) { data = null; }
  }
  if (!res.ok) {
    const fault = data && data.fault ? data.fault : null;
    let message = fault ? (fault.description || fault.message) : 'the gateway answered ' + res.status;
    const retry = res.headers.get('Retry-After');
    if (retry && !/retry after/i.test(message)) message += ' (retry after ' + retry + ' s)';
    if (res.status === 401 && session && path !== '/portal/session') signedOut('Your session has ended: sign in again.');
    throw new ApiError(message, res.status, fault);
  }
  return data;
}

// Errors in words next to the field they are about (the description names it), else the form's.
function clearErrors(form) {
  for (const p of form.querySelectorAll('.error')) p.textContent = '';
  for (const i of form.querySelectorAll('[aria-invalid]')) i.removeAttribute('aria-invalid');
}

function showError(form, generalId, error) {
  const message = error instanceof ApiError ? error.message : 'the gateway could not be reached';
  for (const input of form.querySelectorAll('input[name], select[name]')) {
    const name = input.getAttribute('name');
    const pattern = new RegExp('(^|[^A-Za-z])' + name + '([^A-Za-z]|$)');
    const target = $(input.id + '-error');
    if (target && pattern.test(message)) {
      target.textContent = message;
      input.setAttribute('aria-invalid', 'true');
      input.focus();
      return;
    }
  }
  $(generalId).textContent = message;
}

function optionalNumber(input, errors) {
  const v = input.value.trim();
  if (v === '') return undefined;
  if (!/^-?[0-9]+$/.test(v)) {
    errors.push([input, 'must be a whole number of seconds']);
    return undefined;
  }
  return Number(v);
}

function reportLocal(errors) {
  for (const [input, message] of errors) {
    $(input.id + '-error').textContent = message;
    input.setAttribute('aria-invalid', 'true');
  }
  if (errors.length) errors[0][0].focus();
  return errors.length > 0;
}

// --- the one-time key box ---

function curlFor(api, key) {
  const url = location.origin + (api ? api.context : '') + '/';
  const header = api && api.keyHeader ? api.keyHeader : 'apikey';
  return "curl -k '" + url + "' -H '" + header + ': ' + key + "'";
}

function showSecret(key, api) {
  $('secret-value').value = key;
  $('secret-curl').value = curlFor(api, key);
  $('secret').hidden = false;
  $('secret').focus();
}

function hideSecret() {
  $('secret-value').value = '';
  $('secret-curl').value = '';
  $('secret').hidden = true;
}

async function copy(id, button) {
  const text = $(id).value;
  try {
    await navigator.clipboard.writeText(text);
  } catch (e) {
    $(id).select();
    document.execCommand('copy');
  }
  const label = button.textContent;
  button.textContent = 'Copied';
  setTimeout(() => { button.textContent = label; }, 1500);
}

// --- rendering ---

function apiLabel(api) {
  return api.name + ' ' + api.version;
}

function findApi(name, version) {
  return session.apis.find((a) => a.name === name && a.version === version);
}

function fillSelect(select, values, keepFirst) {
  const first = keepFirst ? select.options[0] : null;
  select.replaceChildren(...(first ? [first] : []));
  for (const v of values) select.append(el('option', { value: v.value, text: v.label }));
}

// Each cell names its column (data-label): on a narrow screen a row reads as a card.
function labelCells(table) {
  const names = [...table.tHead.rows[0].cells].map((c) => c.textContent);
  for (const row of table.tBodies[0].rows) {
    [...row.cells].forEach((cell, i) => {
      if (row.cells.length > 1) cell.dataset.label = names[i];
    });
  }
}

function renderSession() {
  $('who-name').textContent = session.user + (session.admin ? ' (admin)' : '');
  const body = $('apis-table').tBodies[0];
  body.replaceChildren();
  for (const api of session.apis) {
    body.append(el('tr', {},
      el('td', { text: api.name }), el('td', { text: api.version }),
      el('td', { class: 'mono', text: api.context }),
      el('td', { text: api.keyHeader ? 'header ' + api.keyHeader : 'query ' + (api.keyQuery || '') }),
      el('td', { text: api.subscriptionRequired ? 'required' : 'not required' }),
      el('td', { text: api.throttlingTier || '-' }),
      el('td', {}, el('a', {
        href: '/apikey/apis/definition?name=' + encodeURIComponent(api.name) + '&version=' + encodeURIComponent(api.version),
        target: '_blank', rel: 'noopener noreferrer',
        'aria-label': 'OpenAPI (JSON) definition of ' + apiLabel(api) + ', opens in a new tab',
      }, 'OpenAPI (JSON)'))));
  }
  if (!session.apis.length) body.append(el('tr', {}, el('td', { colspan: 7, text: 'No API is open to you.' })));
  labelCells($('apis-table'));
  const checks = $('signed-apis');
  checks.replaceChildren();
  session.apis.forEach((api, i) => {
    const id = 'signed-api-' + i;
    checks.append(el('label', { for: id }, el('input', { type: 'checkbox', id, value: String(i) }), apiLabel(api)));
  });
  $('signed').hidden = !session.signedKeys;
  const apiOptions = session.apis.map((a, i) => ({ value: String(i), label: apiLabel(a) }));
  fillSelect($('opaque-api'), apiOptions, false);
  fillSelect($('signed-tier'), session.subscriptionTiers.map((t) => ({ value: t, label: t })), true);
  fillSelect($('app-tier'), session.applicationTiers.map((t) => ({ value: t, label: t })), true);
  $('keys-title').textContent = session.admin ? 'Every user\'s keys' : 'Your keys';
  $('revoke-sub').value = session.user;
  $('revoke-sub').readOnly = !session.admin;  // a user revokes her own keys; an admin anyone's
}

function restrictions(k) {
  const parts = [];
  if (k.permittedIP) parts.push('IP: ' + k.permittedIP);
  if (k.permittedReferer) parts.push('referrer: ' + k.permittedReferer);
  return parts.length ? parts.join('; ') : 'none';
}

// The Expires cell: the key's expiry and, after a regenerate with a grace period, until when the
// old value still works.
function expiryCell(k) {
  const cell = el('td', { text: k.revoked ? 'revoked ' + when(k.revokedAt) : when(k.expires) });
  const previous = k.previousValue;
  if (!k.revoked && previous && previous.validUntil > nowSeconds()) {
    cell.append(el('span', { class: 'note', text: 'old value valid until ' + when(previous.validUntil) }));
  }
  return cell;
}

function regenerateControls(k) {
  const graceId = 'grace-' + k.id;
  const errorId = graceId + '-error';
  const max = session.maxGracePeriodSeconds || 0;
  const grace = el('select', { id: graceId, 'aria-describedby': errorId },
    ...GRACE_PERIODS.filter(([seconds]) => seconds <= max).map(([seconds, label]) => el('option', { value: String(seconds), text: label })));
  return [
    el('label', { for: graceId, class: 'visually-hidden', text: 'How long the old value of key ' + k.name + ' keeps working once regenerated' }),
    grace,
    el('button', { type: 'button', 'aria-label': 'Regenerate key ' + k.name, onclick: () => regenerate(k, grace, errorId) }, 'Regenerate'),
    el('p', { class: 'error', id: errorId, role: 'alert' }),
  ];
}

function renderKeys(list) {
  const body = $('keys-table').tBodies[0];
  body.replaceChildren();
  for (const k of list) {
    const app = applications.find((a) => a.id === k.application);
    const actions = el('div', { class: 'actions' });
    if (!k.revoked) {
      actions.append(
        ...regenerateControls(k),
        el('button', { type: 'button', class: 'danger', 'aria-label': 'Revoke key ' + k.name, onclick: () => revokeKey(k) }, 'Revoke'));
      const selectId = 'assoc-' + k.id;
      const select = el('select', { id: selectId },
        el('option', { value: '', text: 'no application' }),
        ...applications.map((a) => el('option', { value: a.id, text: a.name, selected: a.id === k.application })));
      actions.append(el('label', { for: selectId, class: 'visually-hidden', text: 'Application for key ' + k.name }), select,
        el('button', { type: 'button', 'aria-label': 'Save the application of key ' + k.name, onclick: () => associate(k, select.value) }, 'Set'));
    }
    body.append(el('tr', { class: k.revoked ? 'revoked' : null },
      el('td', { text: k.name || '(no name)' }), el('td', { text: k.owner }),
      el('td', { text: k.api.name + ' ' + k.api.version }), el('td', { text: k.keyType }),
      el('td', { class: 'mono', text: '…' + k.lastFour }), el('td', { text: when(k.created) }),
      expiryCell(k), el('td', { text: when(k.lastUsed) }),
      el('td', { text: restrictions(k) }),
      el('td', { text: app ? app.name : (k.application ? k.application : '-') }),
      el('td', {}, actions)));
  }
  if (!list.length) body.append(el('tr', {}, el('td', { colspan: 11, text: 'No opaque key yet.' })));
  labelCells($('keys-table'));
}

function renderApplications() {
  const list = $('apps-list');
  list.replaceChildren();
  for (const a of applications) {
    const subs = el('ul', {});
    for (const s of a.subscriptions) {
      subs.append(el('li', {}, apiLabel(s.api) + ' ',
        el('button', { type: 'button', class: 'secondary', 'aria-label': 'Unsubscribe ' + a.name + ' from ' + apiLabel(s.api), onclick: () => unsubscribe(a, s.api) }, 'Unsubscribe')));
    }
    if (!a.subscriptions.length) subs.append(el('li', { text: 'No subscription.' }));
    const selectId = 'sub-' + a.id;
    const errorId = 'sub-' + a.id + '-error';
    const select = el('select', { id: selectId, 'aria-describedby': errorId },
      ...session.apis.map((api, i) => el('option', { value: String(i), text: apiLabel(api) })));
    list.append(el('li', {},
      el('h4', { text: a.name }),
      el('p', { class: 'meta', text: 'owner ' + a.owner + ' · tier ' + a.tier + ' · created ' + when(a.created) + ' · last used ' + when(a.lastUsed) }),
      subs,
      el('div', { class: 'actions' },
        el('label', { for: selectId, text: 'Subscribe to' }), select,
        el('button', { type: 'button', onclick: () => subscribe(a, select.value, errorId) }, 'Subscribe'),
        el('button', { type: 'button', class: 'danger', 'aria-label': 'Delete application ' + a.name, onclick: () => deleteApplication(a) }, 'Delete')),
      el('p', { class: 'error', id: errorId, role: 'alert' })));
  }
  if (!applications.length) list.append(el('li', { text: 'No application yet.' }));
}

async function refresh() {
  try {
    const apps = await call('GET', '/applications');
    applications = apps.list;
    renderApplications();
  } catch (e) {
    $('apps-error').textContent = e.message;
  }
  try {
    const keys = await call('GET', '/apikeys');
    renderKeys(keys.list);
  } catch (e) {
    $('keys-error').textContent = e.message;
  }
}

// --- actions ---

async function regenerate(k, grace, errorId) {
  $('keys-error').textContent = '';
  $(errorId).textContent = '';
  grace.removeAttribute('aria-invalid');
  const gracePeriodSeconds = Number(grace.value);
  try {
    const made = await call('POST', '/apikeys/' + encodeURIComponent(k.id) + '/regenerate',
      gracePeriodSeconds > 0 ? { gracePeriodSeconds } : undefined);
    showSecret(made.apiKey, findApi(k.api.name, k.api.version));
    const until = made.previousValue && made.previousValue.validUntil > nowSeconds() ? made.previousValue.validUntil : 0;
    status('Key "' + k.name + '" regenerated: ' + (until ? 'the old value works until ' + when(until) + ' UTC.' : 'the old value no longer works.'));
    await refresh();
  } catch (e) {
    // The gateway's words next to the grace period (e.g. longer than it allows).
    $(errorId).textContent = e instanceof ApiError ? e.message : 'the gateway could not be reached';
    grace.setAttribute('aria-invalid', 'true');
    grace.focus();
  }
}

async function revokeKey(k) {
  $('keys-error').textContent = '';
  try {
    await call('DELETE', '/apikeys/' + encodeURIComponent(k.id));
    status('Key "' + k.name + '" revoked.');
    await refresh();
  } catch (e) { $('keys-error').textContent = e.message; }
}

async function associate(k, applicationId) {
  $('keys-error').textContent = '';
  try {
    const path = '/apikeys/' + encodeURIComponent(k.id) + '/associate';
    if (applicationId) await call('POST', path, { application: applicationId });
    else await call('DELETE', path);
    status('Key "' + k.name + '" ' + (applicationId ? 'associated.' : 'dissociated.'));
    await refresh();
  } catch (e) { $('keys-error').textContent = e.message; }
}

async function subscribe(a, apiIndex, errorId) {
  $(errorId).textContent = '';
  const api = session.apis[Number(apiIndex)];
  if (!api) return;
  try {
    await call('POST', '/applications/' + encodeURIComponent(a.id) + '/subscriptions', { api: { name: api.name, version: api.version } });
    status(a.name + ' subscribed to ' + apiLabel(api) + '.');
    await refresh();
  } catch (e) { $(errorId).textContent = e.message; }
}

async function unsubscribe(a, api) {
  try {
    await call('DELETE', '/applications/' + encodeURIComponent(a.id) + '/subscriptions', { api: { name: api.name, version: api.version } });
    status(a.name + ' unsubscribed from ' + apiLabel(api) + '.');
    await refresh();
  } catch (e) { $('apps-error').textContent = e.message; }
}

async function deleteApplication(a) {
  try {
    await call('DELETE', '/applications/' + encodeURIComponent(a.id));
    status('Application ' + a.name + ' deleted.');
    await refresh();
  } catch (e) { $('apps-error').textContent = e.message; }
}

async function onSignedKey(event) {
  event.preventDefault();
  const form = event.currentTarget;
  clearErrors(form);
  const errors = [];
  const body = { keyType: $('signed-type').value };
  const validity = optionalNumber($('signed-validity'), errors);
  if (reportLocal(errors)) return;
  if (validity !== undefined) body.validityTime = validity;
  const chosen = [...$('signed-apis').querySelectorAll('input:checked')].map((c) => session.apis[Number(c.value)]);
  if (chosen.length) body.allowedAPIs = chosen.map((a) => ({ name: a.name, version: a.version }));
  if ($('signed-ip').value.trim()) body.permittedIP = $('signed-ip').value.trim();
  if ($('signed-referer').value.trim()) body.permittedReferer = $('signed-referer').value.trim();
  if ($('signed-tier').value) body.tier = $('signed-tier').value;
  try {
    const issued = await call('POST', '/apikey', body);
    showSecret(issued.apiKey, chosen[0] || session.apis[0]);
    status('Signed key issued' + (issued.expiresIn > 0 ? ', valid for ' + issued.expiresIn + ' s.' : ', without expiry.'));
  } catch (e) { showError(form, 'signed-error', e); }
}

async function onOpaqueKey(event) {
  event.preventDefault();
  const form = event.currentTarget;
  clearErrors(form);
  const errors = [];
  const api = session.apis[Number($('opaque-api').value)];
  if (!api) errors.push([$('opaque-api'), 'choose an API']);
  const validity = optionalNumber($('opaque-validity'), errors);
  if (reportLocal(errors)) return;
  const body = { api: { name: api.name, version: api.version }, keyType: $('opaque-type').value };
  if ($('opaque-name').value.trim()) body.name = $('opaque-name').value.trim();
  if (validity !== undefined) body.validityPeriod = validity;
  if ($('opaque-ip').value.trim()) body.permittedIP = $('opaque-ip').value.trim();
  if ($('opaque-referer').value.trim()) body.permittedReferer = $('opaque-referer').value.trim();
  try {
    const made = await call('POST', '/apikeys', body);
    showSecret(made.apiKey, api);
    status('Opaque key "' + made.name + '" created.');
    form.reset();
    await refresh();
  } catch (e) { showError(form, 'opaque-error', e); }
}

async function onApplication(event) {
  event.preventDefault();
  const form = event.currentTarget;
  clearErrors(form);
  const body = { name: $('app-name').value.trim() };
  if ($('app-tier').value) body.tier = $('app-tier').value;
  try {
    const made = await call('POST', '/applications', body);
    status('Application ' + made.name + ' created.');
    form.reset();
    await refresh();
  } catch (e) { showError(form, 'app-error', e); }
}

async function onRevokeKey(event) {
  event.preventDefault();
  const form = event.currentTarget;
  clearErrors(form);
  const input = $('revoke-key');
  if (!input.value.trim()) return reportLocal([[input, 'paste the key to revoke']]);
  try {
    const done = await call('POST', '/apikey/revoke', { apiKey: input.value.trim() });
    input.value = '';
    status(done.revoked ? 'Key revoked.' : 'The key had already expired: nothing to revoke.');
    await refresh();
  } catch (e) { showError(form, 'revoke-error', e); }
}

async function onRevokeUser(event) {
  event.preventDefault();
  const form = event.currentTarget;
  clearErrors(form);
  const input = $('revoke-sub');
  if (!input.value.trim()) return reportLocal([[input, 'name the user']]);
  try {
    const done = await call('POST', '/apikey/revoke', { sub: input.value.trim(), issuedBefore: Math.floor(Date.now() / 1000) });
    status('Every key of ' + done.revoked.sub + ' issued until now is revoked (' + done.revoked.opaqueKeys + ' opaque).');
    await refresh();
  } catch (e) { showError(form, 'revoke-user-error', e); }
}

// --- session ---

function signedOut(message) {
  session = null;
  applications = [];
  hideSecret();
  $('app').hidden = true;
  $('who').hidden = true;
  $('sign-in').hidden = false;
  status(message || '');
  $('username').focus();
}

async function signedIn(info) {
  session = info;
  renderSession();
  $('sign-in').hidden = true;
  $('who').hidden = false;
  $('app').hidden = false;
  await refresh();
}

async function onSignIn(event) {
  event.preventDefault();
  const form = event.currentTarget;
  clearErrors(form);
  const username = $('username').value;
  const password = $('password');
  try {
    const info = await call('POST', '/portal/session', { username, password: password.value });
    password.value = '';
    status('Signed in as ' + info.user + '.');
    await signedIn(info);
    $('apis-title').focus();
  } catch (e) {
    password.value = '';
    $('sign-in-error').textContent = e.message;
    password.focus();
  }
}

async function onSignOut() {
  try {
    await call('DELETE', '/portal/session');
  } catch (e) { /* the session is gone either way */ }
  signedOut('Signed out.');
}

async function start() {
  $('sign-in-form').addEventListener('submit', onSignIn);
  $('signed-form').addEventListener('submit', onSignedKey);
  $('opaque-form').addEventListener('submit', onOpaqueKey);
  $('app-form').addEventListener('submit', onApplication);
  $('revoke-form').addEventListener('submit', onRevokeKey);
  $('revoke-user-form').addEventListener('submit', onRevokeUser);
  $('sign-out').addEventListener('click', onSignOut);
  $('copy-key').addEventListener('click', (e) => copy('secret-value', e.currentTarget));
  $('copy-curl').addEventListener('click', (e) => copy('secret-curl', e.currentTarget));
  $('secret-done').addEventListener('click', hideSecret);
  $('keys-refresh').addEventListener('click', async () => {
    $('keys-error').textContent = '';
    await refresh();
    status('Keys and applications refreshed.');
  });
  $('apis-title').setAttribute('tabindex', '-1');
  try {
    await signedIn(await call('GET', '/portal/session'));
  } catch (e) {
    signedOut(e.status === 401 ? '' : e.message);
  }
  performance.mark('portal-ready');
  document.documentElement.dataset.ready = 'true';
}

start();
