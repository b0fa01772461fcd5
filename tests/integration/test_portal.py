"""The developer portal (issue 28) in a real browser and with curl.

A real Chromium (Debian's chromium, driven by python3-selenium through chromium-driver, headless,
a fresh profile) signs in, gets a signed key and calls an API with it, creates, regenerates and
revokes an opaque key and sees the old value refused, and signs out; the page's first load is
measured in the browser (Navigation and Resource Timing) and axe-core (npm, pinned by
tests/portal/package-lock.json, installed with `npm ci` into the build directory) checks it.
Screenshots at 1280 and 375 px wide go to <build>/portal-screenshots/.
The attacks: XSS payloads in key and application names, a change without the CSRF token, a
cross-site form post from a page on another origin, clickjacking headers, the cookie replayed after
sign-out, wrong-password throttling shared with /apikey.
"""
import base64
import calendar
import http.server
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import unittest

from harness import (ADMIN_BASIC, MGW_BINARY, SOURCE_DIR, Backend, GatewayTestCase, MicroGw,
                     base_config, curl, shipped_admin_hash)

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service as ChromeService
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import Select, WebDriverWait
except ImportError:  # the curl tests still run; the browser test says what is missing
    webdriver = None

BUILD_DIR = os.path.dirname(os.path.abspath(MGW_BINARY))
XSS = "<img src=x onerror=\"window.__xss=1\">'\"<script>window.__xss=2</script>"
COOKIE = "__Host-mgw-portal"


BACKEND_PASSWORD = "backend-Secret-4711"
MAX_GRACE = 86400  # [apikey] maxGracePeriodSeconds: the portal offers none, 1 hour and 1 day


def shop_definition(backend):
    """An OpenAPI 3 definition with what must never reach a client: backend credentials in x-wso2-*
    extensions, backend addresses in servers; and names that only look like extensions."""
    return f"""openapi: 3.0.3
info: {{title: ShopAPI, version: 1.0.0, x-wso2-owner: internal-team}}
servers: [{{url: "http://internal-backend.example:8080/v1"}}]
x-wso2-basePath: /shop/1.0.0
x-wso2-production-endpoints:
  urls: ["{backend.url}/echo"]
  securityConfig: {{type: basic, username: shopuser, password: "{BACKEND_PASSWORD}"}}
x-wso2-sandbox-endpoints: {{$ref: "#/x-wso2-endpoints/sandboxEp"}}
x-wso2-endpoints:
  - sandboxEp:
      urls: ["{backend.sandbox_url}/echo"]
      securityConfig: {{type: basic, username: sandboxuser, password: "{BACKEND_PASSWORD}-sandbox"}}
x-mgw-subscription-required: false
security: [{{shopKey: []}}]
components:
  securitySchemes:
    shopKey: {{type: apiKey, in: header, name: x-shop-key}}
paths:
  /menu:
    servers: [{{url: "http://internal-menu.example:9000"}}]
    get:
      x-wso2-production-endpoints: {{urls: ["{backend.url}/echo"], securityConfig: {{type: basic, username: op, password: "{BACKEND_PASSWORD}-op"}}}}
      responses:
        "200":
          description: the menu
          headers:
            X-Rate-Limit: {{schema: {{type: integer}}}}
          content:
            application/json:
              schema:
                type: object
                properties:
                  x-total: {{type: integer}}
              example: {{x-keep: 1}}
"""


def portal_config(backend, workdir):
    path = os.path.join(workdir, "shop.yaml")
    with open(path, "w") as f:
        f.write(shop_definition(backend))
    issuer_apis = [("PizzaShackAPI", "1.0.0"), ("EchoAPI", "*"), ("ShopAPI", "1.0.0")]
    return base_config(backend, issuer_apis, extra=f'\n[apis]\ndefinitions = ["{path}"]\n') + f"""
[b7a.users.alice]
password = "{shipped_admin_hash()}"

[authentication]
maxFailures = 3

[[apis.api]]
name = "HiddenAPI"
version = "1.0.0"
context = "/hidden/1.0.0"
production = "{backend.url}/echo"

[apikey]
maxGracePeriodSeconds = {MAX_GRACE}
# Last use is stored every second (default 60), so the browser sees it at once.
lastUsedWriteSeconds = 1
"""


def session_cookie(reply):
    cookie = reply.headers.get("set-cookie", "")
    assert cookie.startswith(COOKIE + "="), cookie
    return cookie.split(";", 1)[0]


def sign_in(gw, user="admin", password="admin"):
    r = curl(gw.https("/portal/session"), method="POST", headers=["Content-Type: application/json"],
             data=json.dumps({"username": user, "password": password}))
    return r


def axe_script():
    """axe.min.js from the npm registry: `npm ci` of tests/portal into the build directory."""
    target = os.path.join(BUILD_DIR, "portal-npm")
    script = os.path.join(target, "node_modules", "axe-core", "axe.min.js")
    if not os.path.exists(script):
        os.makedirs(target, exist_ok=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copy(os.path.join(SOURCE_DIR, "tests", "portal", name), target)
        npm = shutil.which("npm")
        if npm is None:
            raise AssertionError("npm is not installed (make test-deps installs it)")
        out = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"], cwd=target,
                             capture_output=True, text=True, timeout=240)
        if out.returncode != 0:
            raise AssertionError(f"npm ci failed:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    with open(script, encoding="utf-8") as f:
        return f.read()


class PortalTestCase(GatewayTestCase):
    """The sample backend and a gateway with the portal on (a loopback listener)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = cls.start(Backend(cls.workdir))
        cls.gw = cls.start(MicroGw(cls.workdir, portal_config(cls.backend, cls.workdir)))


class PortalHttpTest(PortalTestCase):
    """What curl sees: headers, sessions, CSRF, throttling."""

    def test_page_headers_forbid_framing_inline_script_and_caching_of_answers(self):
        r = curl(self.gw.https("/portal"))
        self.assertEqual(r.status, 200, r.body)
        csp = r.headers["content-security-policy"]
        self.assertIn("frame-ancestors 'none'", csp)
        self.assertIn("script-src 'self'", csp)
        self.assertNotIn("unsafe-inline", csp)
        self.assertNotIn("unsafe-eval", csp)
        self.assertEqual(r.headers["x-frame-options"], "DENY")
        self.assertEqual(r.headers["x-content-type-options"], "nosniff")
        self.assertEqual(r.headers["cache-control"], "no-cache")
        self.assertNotIn("<script>", r.body)  # no inline script at all
        # The CSS and JavaScript under content-hashed names, cached for a year.
        import re
        names = re.findall(r'(?:href|src)="(/portal/portal\.[0-9a-f]{12}\.(?:css|js))"', r.body)
        self.assertEqual(len(names), 2, r.body)
        for name in names:
            a = curl(self.gw.https(name))
            self.assertEqual(a.status, 200)
            self.assertEqual(a.headers["cache-control"], "public, max-age=31536000, immutable")
            again = curl(self.gw.https(name), headers=[f"If-None-Match: {a.headers['etag']}"])
            self.assertEqual(again.status, 304)
        # On plain HTTP the portal is not served (passwords never travel in clear text).
        self.assertEqual(curl(self.gw.http("/portal")).status, 404)

    def test_session_cookie_attributes_and_csrf_token_on_every_change(self):
        r = sign_in(self.gw)
        self.assertEqual(r.status, 201, r.body)
        attrs = [a.strip() for a in r.headers["set-cookie"].split(";")]
        for want in ("Path=/", "Secure", "HttpOnly", "SameSite=Strict", "Max-Age=28800"):
            self.assertIn(want, attrs)
        self.assertEqual(r.headers["cache-control"], "no-store")
        cookie = session_cookie(r)
        token = r.json()["csrfToken"]
        # A read needs no token; the answer is never cached.
        listed = curl(self.gw.https("/apikeys"), headers=[f"Cookie: {cookie}"])
        self.assertEqual(listed.status, 200, listed.body)
        self.assertEqual(listed.headers["cache-control"], "no-store")
        body = json.dumps({"api": {"name": "EchoAPI", "version": "1.0.0"}, "name": "csrf"})
        # A change without the token, or with another session's: 403, nothing made.
        for headers in ([], ["X-CSRF-Token: " + sign_in(self.gw).json()["csrfToken"]]):
            refused = curl(self.gw.https("/apikeys"), method="POST", data=body,
                           headers=[f"Cookie: {cookie}", "Content-Type: application/json", *headers])
            self.assertEqual(refused.status, 403, refused.body)
            self.assertIn("X-CSRF-Token", refused.json()["fault"]["description"])
            self.assertNotIn("www-authenticate", refused.headers)
        made = curl(self.gw.https("/apikeys"), method="POST", data=body,
                    headers=[f"Cookie: {cookie}", "Content-Type: application/json", f"X-CSRF-Token: {token}"])
        self.assertEqual(made.status, 201, made.body)
        # A cross-site form post (another origin, a form encoding): refused before the session counts.
        forged = curl(self.gw.https("/apikeys"), method="POST", data="name=x",
                      headers=[f"Cookie: {cookie}", "Origin: https://evil.example",
                               "Content-Type: application/x-www-form-urlencoded", f"X-CSRF-Token: {token}"])
        self.assertEqual(forged.status, 403, forged.body)
        self.assertEqual(forged.fault_code(), 900403)

    def test_signed_out_cookie_is_refused_everywhere(self):
        r = sign_in(self.gw)
        cookie, token = session_cookie(r), r.json()["csrfToken"]
        self.assertEqual(curl(self.gw.https("/portal/session"), headers=[f"Cookie: {cookie}"]).status, 200)
        # Signing out needs the token too (a forged sign-out is refused).
        self.assertEqual(curl(self.gw.https("/portal/session"), method="DELETE",
                              headers=[f"Cookie: {cookie}"]).status, 403)
        out = curl(self.gw.https("/portal/session"), method="DELETE",
                   headers=[f"Cookie: {cookie}", f"X-CSRF-Token: {token}"])
        self.assertEqual(out.status, 204, out.body)
        self.assertIn("Max-Age=0", out.headers["set-cookie"])
        # The stolen cookie after sign-out: 401 on the portal and on every endpoint.
        for path in ("/portal/session", "/apikeys", "/applications", "/apikey"):
            again = curl(self.gw.https(path), headers=[f"Cookie: {cookie}", "Accept: application/json"])
            self.assertEqual(again.status, 401, (path, again.body))
            self.assertNotIn("www-authenticate", again.headers)
        # A forged or tampered cookie is no session either.
        forged = cookie[:-4] + ("AAAA" if not cookie.endswith("AAAA") else "BBBB")
        self.assertEqual(curl(self.gw.https("/apikeys"), headers=[f"Cookie: {forged}"]).status, 401)

    def test_wrong_passwords_are_throttled_as_on_apikey(self):
        # maxFailures = 3: the 4th attempt for a (user, address) is 429 with Retry-After, without a
        # password check, on the portal and on /apikey alike (one throttle).
        for _ in range(3):
            r = sign_in(self.gw, "alice", "wrong")
            self.assertEqual(r.status, 401, r.body)
            self.assertIn("user name or the password is wrong", r.json()["fault"]["description"])
            self.assertNotIn("www-authenticate", r.headers)  # no browser password dialog
        locked = sign_in(self.gw, "alice", "admin")
        self.assertEqual(locked.status, 429, locked.body)
        self.assertIn("retry-after", locked.headers)
        basic = "Basic " + base64.b64encode(b"alice:admin").decode()
        self.assertEqual(curl(self.gw.https("/apikey"), headers=[f"Authorization: {basic}"]).status, 429)

    def definition(self, query, headers=None):
        auth = [f"Authorization: {ADMIN_BASIC}"] if headers is None else headers
        return curl(self.gw.https("/apikey/apis/definition" + query), headers=auth)

    def test_api_definition_without_secrets_or_backends(self):
        r = self.definition("?name=ShopAPI&version=1.0.0")
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.headers["content-type"], "application/json")
        self.assertEqual(r.headers["cache-control"], "no-store")
        self.assertIn('filename="ShopAPI-1.0.0.json"', r.headers["content-disposition"])
        self.assertIn("sandbox", r.headers["content-security-policy"])
        doc = r.json()
        # Nothing of the gateway's configuration: no credential, no backend, no extension.
        for secret in (BACKEND_PASSWORD, "shopuser", "sandboxuser", "internal-backend", "internal-menu",
                       "internal-team", str(self.backend.port), "x-wso2", "x-mgw"):
            self.assertNotIn(secret, r.body)
        # The API as a client calls it: on this gateway, under its context, with its key scheme.
        self.assertEqual(doc["servers"], [{"url": "/shop/1.0.0"}])
        self.assertEqual(doc["info"], {"title": "ShopAPI", "version": "1.0.0"})
        self.assertEqual(doc["components"]["securitySchemes"]["shopKey"]["name"], "x-shop-key")
        self.assertEqual(doc["security"], [{"shopKey": []}])
        menu = doc["paths"]["/menu"]
        self.assertNotIn("servers", menu)
        ok = menu["get"]["responses"]["200"]
        # Names that only look like extensions, and example values, are the API's own: kept.
        self.assertIn("X-Rate-Limit", ok["headers"])
        media = ok["content"]["application/json"]
        self.assertIn("x-total", media["schema"]["properties"])
        self.assertEqual(media["example"], {"x-keep": 1})
        # What the definition describes works through the gateway, with a key for it.
        key = curl(self.gw.https("/apikey"), headers=[f"Authorization: {ADMIN_BASIC}"]).body
        self.assertEqual(curl(self.gw.https("/shop/1.0.0/menu"), headers=[f"x-shop-key: {key}"]).status, 200)

    def test_api_definition_of_an_inline_api_is_generated(self):
        r = self.definition("?name=EchoAPI&version=1.0.0")
        self.assertEqual(r.status, 200, r.body)
        doc = r.json()
        self.assertEqual(doc["openapi"], "3.0.3")
        self.assertEqual(doc["info"]["title"], "EchoAPI")
        self.assertIn("[[apis.api]]", doc["info"]["description"])
        self.assertEqual(doc["servers"], [{"url": "/echoapi/1.0.0"}])
        self.assertEqual(doc["paths"], {})
        schemes = doc["components"]["securitySchemes"]
        self.assertEqual(schemes["apiKeyHeader"], {"type": "apiKey", "in": "header", "name": "apikey"})
        self.assertEqual(schemes["apiKeyQuery"], {"type": "apiKey", "in": "query", "name": "apikey"})
        self.assertNotIn(str(self.backend.port), r.body)

    def test_api_definition_refusals(self):
        # An API the user may not put in a key (not in [[apikey.issuer.api]]): 403; unknown: 404.
        r = self.definition("?name=HiddenAPI&version=1.0.0")
        self.assertEqual((r.status, r.fault_code()), (403, 900403), r.body)
        self.assertIn("HiddenAPI:1.0.0", r.json()["fault"]["description"])
        r = self.definition("?name=NoSuchAPI&version=1.0.0")
        self.assertEqual(r.status, 404, r.body)
        self.assertIn("no API NoSuchAPI:1.0.0", r.json()["fault"]["description"])
        r = self.definition("?name=ShopAPI")
        self.assertEqual(r.status, 400, r.body)
        self.assertIn("version", r.json()["fault"]["description"])
        # Authenticated like /apikey; HTTPS only; a foreign Origin is refused.
        self.assertEqual(self.definition("?name=ShopAPI&version=1.0.0", headers=[]).status, 401)
        self.assertEqual(curl(self.gw.http("/apikey/apis/definition?name=ShopAPI&version=1.0.0"),
                              headers=[f"Authorization: {ADMIN_BASIC}"]).status, 404)
        r = self.definition("?name=ShopAPI&version=1.0.0",
                            headers=[f"Authorization: {ADMIN_BASIC}", "Origin: https://evil.example"])
        self.assertEqual(r.status, 403, r.body)
        # The portal session lists the grace periods' bound.
        self.assertEqual(sign_in(self.gw).json()["maxGracePeriodSeconds"], MAX_GRACE)

    def test_missing_or_malformed_credentials_are_named(self):
        r = curl(self.gw.https("/portal/session"), method="POST", headers=["Content-Type: application/json"],
                 data=json.dumps({"username": "admin"}))
        self.assertEqual(r.status, 400)
        self.assertIn("password", r.json()["fault"]["description"])
        r = curl(self.gw.https("/portal/session"), method="POST", headers=["Content-Type: text/plain"],
                 data="username=admin&password=admin")
        self.assertEqual(r.status, 415)


@unittest.skipIf(webdriver is None, "python3-selenium is not installed (Makefile TEST_DEPS)")
class PortalBrowserTest(PortalTestCase):
    """A real Chromium through the page."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.shots = os.path.join(BUILD_DIR, "portal-screenshots")
        os.makedirs(cls.shots, exist_ok=True)
        cls.profile = tempfile.mkdtemp(prefix="mgw-portal-chromium-")
        options = webdriver.ChromeOptions()
        options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
        for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--no-first-run",
                    "--ignore-certificate-errors", "--window-size=1280,900",
                    f"--user-data-dir={cls.profile}"):
            options.add_argument(arg)
        service = ChromeService(executable_path=shutil.which("chromedriver") or "/usr/bin/chromedriver")
        cls.driver = webdriver.Chrome(options=options, service=service)
        cls.driver.set_page_load_timeout(20)
        cls.wait = WebDriverWait(cls.driver, 10)

    @classmethod
    def tearDownClass(cls):
        cls.driver.quit()
        shutil.rmtree(cls.profile, ignore_errors=True)
        super().tearDownClass()

    def by_id(self, element_id):
        return self.driver.find_element(By.ID, element_id)

    def visible(self, element_id):
        return self.wait.until(EC.visibility_of_element_located((By.ID, element_id)))

    def call_api(self, key):
        return curl(self.gw.https("/echoapi/1.0.0/portal-check"), headers=[f"apikey: {key}"]).status

    def take_secret(self):
        self.visible("secret")
        key = self.by_id("secret-value").get_attribute("value")
        self.assertTrue(key)
        self.assertIn(f"apikey: {key}", self.by_id("secret-curl").get_attribute("value"))  # ready curl
        self.assertNotIn(key, self.driver.current_url)
        stored = self.driver.execute_script(
            "return JSON.stringify(localStorage) + JSON.stringify(sessionStorage) + document.cookie")
        self.assertNotIn(key, stored)
        self.by_id("secret-done").click()
        return key

    def xss_row(self):
        button = self.driver.find_element(By.CSS_SELECTOR, "#keys-table button[aria-label^='Regenerate key <img']")
        return button.find_element(By.XPATH, "./ancestor::tr")

    def cell(self, row, label):
        return row.find_element(By.CSS_SELECTOR, f"td[data-label='{label}']").text

    def axe(self):
        self.driver.execute_script(axe_script())
        result = self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document, {resultTypes: ['violations']}).then(r => done(JSON.stringify(r.violations)))"
            ".catch(e => done(JSON.stringify([{id: 'axe-error', impact: 'critical', help: String(e)}])));")
        bad = [v for v in json.loads(result) if v.get("impact") in ("serious", "critical")]
        self.assertEqual(bad, [], json.dumps(bad, indent=1)[:4000])

    def test_portal_in_a_browser(self):
        d = self.driver
        d.set_script_timeout(30)
        # A first visit: no cookie, nothing cached (whatever the other test did).
        d.execute_cdp_cmd("Network.clearBrowserCookies", {})
        d.execute_cdp_cmd("Network.clearBrowserCache", {})
        d.get(self.gw.https("/portal"))
        self.visible("sign-in")
        d.execute_script("window.__xss = 0")
        # First load, measured by the browser: bytes transferred and time to interactive.
        timing = d.execute_script("""
            const nav = performance.getEntriesByType('navigation')[0];
            const res = performance.getEntriesByType('resource');
            const ready = performance.getEntriesByName('portal-ready')[0];
            return {bytes: nav.transferSize + res.reduce((s, r) => s + r.transferSize, 0),
                    body: nav.encodedBodySize + res.reduce((s, r) => s + r.encodedBodySize, 0),
                    interactive: ready ? ready.startTime : -1,
                    domInteractive: nav.domInteractive};""")
        print(f"\nportal first load: {timing}", flush=True)
        self.assertGreater(timing["body"], 0)
        self.assertLess(timing["bytes"], 100 * 1024, timing)
        self.assertGreater(timing["interactive"], 0, timing)
        self.assertLess(timing["interactive"], 300, timing)
        self.axe()  # the sign-in form

        # A wrong password: the gateway's words next to the form.
        self.by_id("username").send_keys("admin")
        self.by_id("password").send_keys("not-the-password")
        self.by_id("sign-in-form").submit()
        self.wait.until(lambda _: "wrong" in self.by_id("sign-in-error").text)
        self.by_id("password").send_keys("admin")
        self.by_id("sign-in-form").submit()
        self.visible("app")
        self.assertIn("admin", self.by_id("who-name").text)
        cookie = d.get_cookie(COOKIE)
        self.assertTrue(cookie["httpOnly"] and cookie["secure"])
        self.assertEqual(cookie["sameSite"], "Strict")
        self.assertEqual(d.execute_script("return document.cookie"), "")  # HttpOnly: no script sees it

        # Each API links to its definition: it opens in a new tab, as JSON, without the backend's
        # credentials; the portal stays as it was.
        portal_tab = d.current_window_handle
        d.find_element(By.CSS_SELECTOR, "#apis-table a[aria-label^='OpenAPI (JSON) definition of ShopAPI 1.0.0']").click()
        self.wait.until(lambda _: len(d.window_handles) == 2)
        d.switch_to.window([h for h in d.window_handles if h != portal_tab][0])
        self.wait.until(lambda _: "ShopAPI" in d.find_element(By.TAG_NAME, "body").text)
        self.assertIn("/apikey/apis/definition?name=ShopAPI&version=1.0.0", d.current_url)
        shown = d.find_element(By.TAG_NAME, "body").text
        self.assertEqual(json.loads(shown)["servers"], [{"url": "/shop/1.0.0"}])
        self.assertNotIn(BACKEND_PASSWORD, shown)
        d.close()
        d.switch_to.window(portal_tab)
        self.assertTrue(self.by_id("app").is_displayed())

        # A signed key for EchoAPI, called with curl.
        boxes = d.find_elements(By.CSS_SELECTOR, "#signed-apis input")
        labels = [b.find_element(By.XPATH, "..").text for b in boxes]
        boxes[labels.index("EchoAPI 1.0.0")].click()
        self.by_id("signed-validity").send_keys("600")
        self.by_id("signed-form").submit()
        signed = self.take_secret()
        self.assertEqual(self.call_api(signed), 200)
        # ... and revoked by pasting it: refused at once.
        self.by_id("revoke-key").send_keys(signed)
        self.by_id("revoke-form").submit()
        self.wait.until(lambda _: "Key revoked." in self.by_id("status").text)
        self.assertEqual(self.by_id("revoke-key").get_attribute("value"), "")
        self.assertEqual(self.call_api(signed), 401)

        # An application and an opaque key named with XSS payloads: they stay text.
        self.by_id("app-name").send_keys(XSS)
        self.by_id("app-form").submit()
        self.wait.until(lambda _: XSS in self.by_id("apps-list").text)
        self.by_id("opaque-name").send_keys(XSS)
        self.by_id("opaque-form").submit()
        first = self.take_secret()
        self.wait.until(lambda _: XSS in self.by_id("keys-table").text)
        self.assertEqual(d.execute_script("return window.__xss"), 0)
        self.assertEqual(d.find_elements(By.CSS_SELECTOR, "#main img, #main script"), [])
        self.assertEqual(self.call_api(first), 200)

        # Regenerate: the old value is refused at once, the new one works.
        d.find_element(By.CSS_SELECTOR, "#keys-table button[aria-label^='Regenerate']").click()
        second = self.take_secret()
        self.assertNotEqual(first, second)
        self.assertEqual(self.call_api(first), 401)
        self.assertEqual(self.call_api(second), 200)

        # Regenerate with a grace period: the choices stop at the gateway's maximum (1 day here);
        # the old value keeps working, and the list says until when.
        grace = Select(self.xss_row().find_element(By.CSS_SELECTOR, "select[id^='grace-']"))
        self.assertEqual([o.get_attribute("value") for o in grace.options], ["0", "3600", "86400"])
        grace.select_by_value("3600")
        self.xss_row().find_element(By.CSS_SELECTOR, "button[aria-label^='Regenerate']").click()
        third = self.take_secret()
        self.assertNotIn(third, (first, second))
        self.assertEqual(self.call_api(second), 200)  # the old value, in its grace period
        self.assertEqual(self.call_api(third), 200)
        self.assertIn("old value works until", self.by_id("status").text)
        self.wait.until(lambda _: "old value valid until" in self.cell(self.xss_row(), "Expires"))
        # A grace period the gateway refuses (a page older than a lowered maximum): its words next
        # to the field, and nothing changed.
        select = self.xss_row().find_element(By.CSS_SELECTOR, "select[id^='grace-']")
        d.execute_script("arguments[0].add(new Option('grace: 7 days', '604800'));"
                         "arguments[0].value = '604800';", select)
        self.xss_row().find_element(By.CSS_SELECTOR, "button[aria-label^='Regenerate']").click()
        error_id = select.get_attribute("aria-describedby")
        self.wait.until(lambda _: "longer than this gateway allows" in self.by_id(error_id).text)
        self.assertEqual(select.get_attribute("aria-invalid"), "true")
        self.assertFalse(self.by_id("secret").is_displayed())
        self.assertEqual(self.call_api(third), 200)

        # An application subscribed to the API, and a key of its own (for the pictures too).
        self.by_id("app-name").send_keys("web shop")
        self.by_id("app-form").submit()
        shop = "//ul[@id='apps-list']/li[h4='web shop']"
        self.wait.until(lambda _: d.find_elements(By.XPATH, shop))
        d.find_element(By.XPATH, shop + "//button[text()='Subscribe']").click()
        self.wait.until(lambda _: "EchoAPI 1.0.0 Unsubscribe" in self.by_id("apps-list").text)
        self.by_id("opaque-name").send_keys("web shop key")
        self.by_id("opaque-ip").send_keys("127.0.0.1")
        self.by_id("opaque-form").submit()
        shop_key = self.take_secret()

        # Last use: "never" until the key is used; then the minute of the call, for the key and
        # for its application ([apikey] lastUsedWriteSeconds = 1: stored within a second or two).
        shop_row = "//table[@id='keys-table']/tbody/tr[td[1]='web shop key']"
        self.wait.until(lambda _: d.find_elements(By.XPATH, shop_row))
        self.assertEqual(self.cell(d.find_element(By.XPATH, shop_row), "Last used"), "never")
        Select(d.find_element(By.XPATH, shop_row + "//select[starts-with(@id, 'assoc-')]")).select_by_visible_text("web shop")
        d.find_element(By.XPATH, shop_row + "//button[text()='Set']").click()
        self.wait.until(lambda _: "associated" in self.by_id("status").text)
        self.assertIn("last used never", d.find_element(By.XPATH, shop).text)
        before = time.time()
        self.assertEqual(self.call_api(shop_key), 200)

        def used(_):
            self.by_id("keys-refresh").click()
            time.sleep(0.3)
            return self.cell(d.find_element(By.XPATH, shop_row), "Last used") != "never"

        WebDriverWait(d, 10, poll_frequency=0.5).until(used)
        shown = self.cell(d.find_element(By.XPATH, shop_row), "Last used")
        at = calendar.timegm(time.strptime(shown, "%Y-%m-%d %H:%M"))
        self.assertLessEqual(int(before) - int(before) % 60, at, shown)
        self.assertLessEqual(at, time.time(), shown)
        self.assertIn("last used " + shown, d.find_element(By.XPATH, shop).text)

        # Screenshots for the README (the one-time box hidden: no key in a picture).
        self.axe()  # the signed-in page, every section filled
        d.execute_script("window.scrollTo(0, 0)")
        for width, name in ((1280, "portal-1280.png"), (375, "portal-375.png")):
            d.set_window_size(width, 900)
            height = d.execute_script("return document.documentElement.scrollHeight")
            d.set_window_size(width, min(height, 2400))
            wide = d.execute_script("""
                const w = document.documentElement.clientWidth;
                const over = [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > w + 1 && !e.closest('.scroll'));
                return [window.innerWidth, w, document.documentElement.scrollWidth, over.slice(0, 5).map(e => e.tagName + '#' + e.id + '.' + e.className + ':' + Math.round(e.getBoundingClientRect().right))];""")
            self.assertLessEqual(wide[2], wide[1] + 1, wide)
            d.save_screenshot(os.path.join(self.shots, name))
        d.set_window_size(1280, 900)

        # Revoke: refused.
        d.find_element(By.CSS_SELECTOR, "#keys-table button[aria-label^='Revoke key <img']").click()
        self.wait.until(lambda _: "revoked" in self.by_id("status").text)
        self.assertEqual(self.call_api(second), 401)  # both values: the one in its grace period too
        self.assertEqual(self.call_api(third), 401)

        # Sign out: the page shows the sign-in form, and the cookie no longer works anywhere.
        self.by_id("sign-out").click()
        self.visible("sign-in")
        stolen = f"{COOKIE}={cookie['value']}"
        self.assertEqual(curl(self.gw.https("/apikeys"), headers=[f"Cookie: {stolen}"]).status, 401)
        self.assertEqual(curl(self.gw.https("/portal/session"), headers=[f"Cookie: {stolen}"]).status, 401)
        d.get(self.gw.https("/portal"))
        self.visible("sign-in")

    def test_cross_site_form_post_and_framing_are_refused(self):
        d = self.driver
        # Signed in, so the browser holds a session cookie a forged request could ride on.
        d.get(self.gw.https("/portal"))
        self.visible("sign-in")
        if not self.by_id("app").is_displayed():
            self.by_id("username").send_keys("admin")
            self.by_id("password").send_keys("admin")
            self.by_id("sign-in-form").submit()
            self.visible("app")
        target = self.gw.https("/apikeys")
        page = f"""<!doctype html><title>evil</title>
<form id="f" method="POST" action="{target}" enctype="text/plain">
<input name='{{"api":{{"name":"EchoAPI","version":"1.0.0"}},"name":"forged","x":"' value='"}}'></form>
<iframe id="frame" src="{self.gw.https('/portal')}"></iframe>"""
        directory = tempfile.mkdtemp(prefix="mgw-evil-")
        with open(os.path.join(directory, "evil.html"), "w") as f:
            f.write(page)
        class Quiet(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *a, **k):
                super().__init__(*a, directory=directory, **k)

            def log_message(self, *args):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            d.get(f"http://127.0.0.1:{server.server_address[1]}/evil.html")
            # The frame stays empty: the portal refuses to be framed.
            time.sleep(0.5)
            d.switch_to.frame(self.by_id("frame"))
            self.assertEqual(d.find_elements(By.ID, "sign-in-form"), [])
            d.switch_to.default_content()
            self.by_id("f").submit()
            self.wait.until(lambda _: "fault" in d.page_source)
            self.assertIn("900403", d.page_source)
        finally:
            server.shutdown()
            server.server_close()
            shutil.rmtree(directory, ignore_errors=True)
        listed = curl(self.gw.https("/apikeys"), headers=[f"Authorization: {ADMIN_BASIC}"]).json()
        self.assertNotIn("forged", [k["name"] for k in listed["list"]])


class PortalOffTest(GatewayTestCase):
    """[portal] enabled = false: no page, and a session cookie authenticates nothing."""

    def test_portal_off(self):
        gw = self.start(MicroGw(self.workdir, base_config() + "\n[portal]\nenabled = false\n"))
        self.assertEqual(curl(gw.https("/portal")).status, 404)
        self.assertEqual(sign_in(gw).status, 404)


if __name__ == "__main__":
    unittest.main()
