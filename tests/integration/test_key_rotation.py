"""Signing-key rotation of the STS (issue 25 item 1) with the real binary: `micro-gw keystore rotate`
+ SIGHUP under load. A client calls continuously with keys issued before, during and after the
rotation: every answer is 2xx. PyJWT verifies every key against a cached JWKS (refetched only for
an unknown kid, as JWKS caches do): the new key is published before it signs, so a JWKS fetched
before it activated verifies its keys. The retired key's kid leaves the JWKS only after the last
key it signed expired. Short validity (4 s) and lead time (2 s) keep it quick."""
import json
import os
import re
import signal
import ssl
import subprocess
import threading
import time
import http.client
import unittest

import jwt

import harness
from harness import ADMIN_BASIC

VALIDITY = 4
# The new key's lead time: rotate, a second rotate, list, two reloads and a JWKS fetch must all
# happen before it signs, which took over 2 s in the sanitizer build on a loaded machine.
LEAD = 6
SKEW_MS = 1000


def rotation_config(backend, validity=VALIDITY, extra="", shared=None):
    settings = f'validityTime = {validity}\nsignatureAlgorithm = "ES256"\nrotationLeadTime = {LEAD}'
    if shared:  # several nodes: the keystore and the key set folder are files every node reads
        settings += (f'\nkeyStorePath = "{shared}/micro-gw-signing.pem"'
                     f'\nkeySetPath = "{shared}/signing-keys"')
    text = harness.base_config(backend).replace("validityTime = -1", settings)
    return text + f"\n[server]\ntimestampSkew = {SKEW_MS}\n" + extra


def run_cli(*args):
    return subprocess.run([harness.MGW_BINARY, *args], capture_output=True, text=True, timeout=60,
                          env=dict(os.environ))


class Client:
    """Keep-alive connections to one gateway: HTTPS for the STS and the JWKS, HTTP for the API."""

    def __init__(self, gw):
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        self.sts = http.client.HTTPSConnection("127.0.0.1", gw.https_port, context=ctx, timeout=20)
        self.api = http.client.HTTPConnection("127.0.0.1", gw.http_port, timeout=20)

    def _call(self, conn, method, path, headers=None):
        # A keep-alive connection idle past keepAliveTimeout (5 s) is closed by the gateway; like every
        # HTTP client, send the GET again on a new connection then (only then: no answer was given).
        for attempt in (1, 2):
            try:
                conn.request(method, path, headers=headers or {})
                r = conn.getresponse()
                return r.status, r.read().decode()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                conn.close()
                if attempt == 2:
                    raise

    def close(self):
        self.sts.close()
        self.api.close()

    def issue(self):
        status, body = self._call(self.sts, "GET", "/apikey", {"Authorization": ADMIN_BASIC})
        assert status == 200, body
        return body.strip()

    def jwks(self):
        status, body = self._call(self.sts, "GET", "/.well-known/jwks.json")
        assert status == 200, body
        return json.loads(body)

    def call_api(self, key):
        return self._call(self.api, "GET", "/echoapi/1.0.0/x", {"apikey": key})


class JwksCache:
    """What a relying party does: verifies with its cached JWKS; fetches again only for an unknown kid."""

    def __init__(self, gw):
        self.client = Client(gw)
        self.lock = threading.Lock()
        self.keys = {}
        self.fetches = 0
        self.refresh()

    def refresh(self):
        with self.lock:
            self.fetches += 1
            self.keys = {k["kid"]: k for k in self.client.jwks()["keys"]}

    def verify(self, token):
        kid = jwt.get_unverified_header(token)["kid"]
        if kid not in self.keys:
            self.refresh()
        jwk = jwt.PyJWK.from_dict(self.keys[kid])
        return kid, jwt.decode(token, jwk.key, algorithms=[self.keys[kid]["alg"]], leeway=SKEW_MS / 1000)


class KeyRotationTest(harness.GatewayTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = cls.start(harness.Backend(cls.workdir))

    def start_gateway(self, name, config):
        return self.start(harness.MicroGw(os.path.join(self.workdir, name), config))

    def keystore(self, gw, *args):
        return run_cli("keystore", *args, "--config", gw.config_path)

    def sighup_and_wait(self, gw):
        start = len(gw.output())
        gw.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while "configuration reloaded" not in gw.output()[start:]:
            self.assertNotIn("reload refused", gw.output()[start:])
            self.assertLess(time.monotonic(), deadline, gw.output()[start:])
            time.sleep(0.05)

    def test_rotation_under_load_on_two_nodes_keeps_every_key_working(self):
        # Two nodes sharing the keystore and the key set folder; keys issued on one are used on the other.
        shared = os.path.join(self.workdir, "shared")
        init = run_cli("keystore", "init", "--alg", "ES256", "--out", shared)
        self.assertEqual(init.returncode, 0, init.stderr)
        config = rotation_config(self.backend, shared=shared)
        nodes = [self.start_gateway("node-a", config), self.start_gateway("node-b", config)]
        gw = nodes[0]
        client = Client(gw)
        cache = JwksCache(gw)
        self.assertEqual(list(cache.keys), ["ballerina"])  # the configured key, kid = certificateAlias

        issued = []  # (kid, exp, token)
        failures = []
        calls = [0]
        old_after_switch = [0]  # calls with an old key once the new key signs
        stop = threading.Event()

        def load():
            # Each round: issue a key (PyJWT verifies it at once with the cached JWKS), then call the
            # API with every key issued in the last 3 s, so keys of the old signing key keep being used
            # after the new one signs.
            clients = [Client(n) for n in nodes]
            rounds = 0
            while not stop.is_set():
                rounds += 1
                c = clients[(rounds + 1) % 2]
                try:
                    token = clients[rounds % 2].issue()
                    kid, claims = cache.verify(token)
                    issued.append((kid, claims["exp"], token))
                    now = time.time()
                    for k, exp, t in issued[-40:]:
                        if exp - now < VALIDITY - 3:
                            continue
                        status, body = c.call_api(t)
                        calls[0] += 1
                        if k == "ballerina" and any(i[0] != "ballerina" for i in issued):
                            old_after_switch[0] += 1
                        if not 200 <= status < 300:
                            failures.append((k, status, body))
                except Exception as e:  # noqa: BLE001 - any failure of the client is a test failure
                    failures.append(("client", repr(e), ""))
                time.sleep(0.02)
            for c in clients:
                c.close()

        thread = threading.Thread(target=load)
        thread.start()
        try:
            time.sleep(1.0)
            out = self.keystore(gw, "rotate")
            self.assertEqual(out.returncode, 0, out.stderr)
            kid = re.search(r"created signing key (\S+) \(ES256\)", out.stdout).group(1)
            self.assertNotEqual(kid, "ballerina")
            self.assertTrue(os.path.exists(os.path.join(shared, "signing-keys", kid + ".pem")))
            # A second rotation while a key is still next is refused.
            again = self.keystore(gw, "rotate")
            self.assertEqual(again.returncode, 1)
            self.assertIn("already next", again.stderr)

            listing = self.keystore(gw, "list")
            self.assertEqual(listing.returncode, 0, listing.stderr)
            self.assertRegex(listing.stdout, r"ballerina\s+active")
            self.assertRegex(listing.stdout, kid + r"\s+next\s+ES256")

            for node in nodes:
                self.sighup_and_wait(node)
                c = Client(node)
                self.assertEqual([k["kid"] for k in c.jwks()["keys"]], ["ballerina", kid])
                c.close()
            # A relying party's cache taken now, before the new key signs, must verify its keys later.
            cache.refresh()
            fetches_before = cache.fetches
            with open(os.path.join(shared, "signing-keys", "keyset.json")) as f:
                entries = {e["kid"]: e for e in json.load(f)["keys"]}
            self.assertEqual(entries["ballerina"]["file"], "")
            self.assertEqual(entries[kid]["file"], kid + ".pem")

            # Until the last key the old signing key made has expired, it stays.
            deadline = time.monotonic() + LEAD + VALIDITY + SKEW_MS / 1000 + 15
            gone_at = None
            while time.monotonic() < deadline:
                kids = [k["kid"] for k in client.jwks()["keys"]]
                if "ballerina" not in kids:
                    gone_at = time.time()
                    break
                self.assertIn(kid, kids)
                time.sleep(0.1)
            self.assertIsNotNone(gone_at, "the retired key never left the JWKS")
            time.sleep(1.0)  # a little load after it left
        finally:
            stop.set()
            thread.join(30)

        self.assertEqual(failures, [])
        kids = [k for k, _, _ in issued]
        old = [exp for k, exp, _ in issued if k == "ballerina"]
        new = [k for k in kids if k == kid]
        self.assertGreater(len(old), 5)
        self.assertGreater(len(new), 5)
        # Old keys first, then new ones: never back to the old key once the new one signs.
        self.assertEqual(kids, sorted(kids, key=lambda k: k == kid))
        # The retired kid left the JWKS only after the last key it signed expired (plus the skew).
        self.assertGreaterEqual(gone_at, max(old) + SKEW_MS / 1000)
        self.assertGreater(calls[0], 50)
        self.assertGreater(old_after_switch[0], 5)
        # Every key of the new signing key verified with the JWKS cached before it signed.
        self.assertEqual(cache.fetches, fetches_before)
        listing = self.keystore(gw, "list")
        self.assertRegex(listing.stdout, r"ballerina\s+expired")
        self.assertRegex(listing.stdout, kid + r"\s+active")
        # A key of the retired signing key is now refused (its exp has passed anyway) on both nodes,
        # and both publish the same keys.
        for node in nodes:
            c = Client(node)
            self.assertEqual(c.call_api(next(t for k, _, t in issued if k == "ballerina"))[0], 401)
            self.assertEqual([k["kid"] for k in c.jwks()["keys"]], [kid])
            c.close()
        client.close()
        cache.client.close()

    def test_unlimited_validity_makes_the_operator_choose(self):
        gw = self.start_gateway("unlimited", rotation_config(self.backend, validity=-1))
        out = self.keystore(gw, "rotate", "--lead-time", "0")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("verifies until you set its verifyUntil", out.stdout)
        check = run_cli("--validate", "--config", gw.config_path)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        self.assertIn('signing key "ballerina" retired at', check.stderr)
        self.assertIn("set \"verifyUntil\"", check.stderr)
        listing = self.keystore(gw, "list")
        self.assertRegex(listing.stdout, r"ballerina\s+retired\s+ES256\s+-\s+\S+\s+-")

        # The operator's date: the next rotation sets it for the key it retires; then no warning for it.
        os.remove(os.path.join(gw.workdir, "runtime", "security", "signing-keys", "keyset.json"))
        until = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
        out = self.keystore(gw, "rotate", "--lead-time", "0", "--verify-until", until)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("verifies until " + until, out.stdout)
        check = run_cli("--validate", "--config", gw.config_path)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        self.assertNotIn('signing key "ballerina"', check.stderr)

        # SIGHUP applies: the new key signs at once (lead time 0) and the old one still verifies.
        client = Client(gw)
        self.sighup_and_wait(gw)
        token = client.issue()
        kid = jwt.get_unverified_header(token)["kid"]
        self.assertNotEqual(kid, "ballerina")
        self.assertEqual(client.call_api(token)[0], 200)
        client.close()

    def test_a_replaced_key_file_is_refused(self):
        gw = self.start_gateway("tampered", rotation_config(self.backend))
        out = self.keystore(gw, "rotate")
        self.assertEqual(out.returncode, 0, out.stderr)
        kid = re.search(r"created signing key (\S+) ", out.stdout).group(1)
        folder = os.path.join(gw.workdir, "runtime", "security", "signing-keys")
        # Another key under this kid's name: refused by --validate, and a SIGHUP keeps the running set.
        os.remove(os.path.join(folder, kid + ".pem"))
        gen = run_cli("keystore", "init", "--alg", "ES256", "--out", folder)
        self.assertEqual(gen.returncode, 0, gen.stderr)
        os.rename(os.path.join(folder, "micro-gw-signing.pem"), os.path.join(folder, kid + ".pem"))
        check = run_cli("--validate", "--config", gw.config_path)
        self.assertEqual(check.returncode, 1)
        self.assertIn("not this kid", check.stdout)
        start = len(gw.output())
        gw.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while "reload refused" not in gw.output()[start:]:
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.05)
        c = Client(gw)
        self.assertEqual([k["kid"] for k in c.jwks()["keys"]], ["ballerina"])
        c.close()


if __name__ == "__main__":
    unittest.main()
