"""Issue 10 (hardening, round 2) against the real binary: login abuse behind a trusted proxy,
throttle surviving SIGHUP, reload and --validate safety, STS key size, revocation dates, key
guessing."""
import base64
import json
import os
import signal
import subprocess
import time
import unittest

import harness
from harness import ADMIN_BASIC, curl

WRONG = "Authorization: Basic " + base64.b64encode(b"admin:wrong").decode()
GOOD = f"Authorization: {ADMIN_BASIC}"
PROXY = """
[authentication]
maxFailures = 3
maxFailuresPerAddress = 10
failureWindowSeconds = 60
credentialCacheSeconds = 0
keyLookupFailuresPerMinute = 5
"""


def behind_proxy(extra=""):
    return harness.base_config(extra=PROXY + extra).replace(
        'httpsPort = 0\n', 'httpsPort = 0\ntrustedProxies = ["127.0.0.1"]\n', 1)


def validate(config_text, home):
    os.makedirs(os.path.join(home, "conf"), exist_ok=True)
    path = os.path.join(home, "conf", "micro-gw.conf")
    with open(path, "w") as f:
        f.write(config_text)
    env = dict(os.environ, MGW_RUNTIME_HOME=home)
    return subprocess.run([harness.MGW_BINARY, "--validate", "--config", path], capture_output=True,
                          text=True, timeout=60, env=env)


class HardeningTest(harness.GatewayTestCase):
    def sts(self, gw, *headers, data=None):
        return curl(gw.https("/apikey"), headers=list(headers), data=data)

    # Item 1: failures per (user, client address); the real user elsewhere is not locked out.
    def test_attacked_user_still_logs_in_from_a_clean_address(self):
        gw = self.start(harness.MicroGw(os.path.join(self.workdir, "attack"), behind_proxy()))
        for i in range(3):
            self.assertEqual(self.sts(gw, WRONG, "X-Forwarded-For: 198.51.100.7").status, 401)
        refused = self.sts(gw, GOOD, "X-Forwarded-For: 198.51.100.7")
        self.assertEqual(refused.status, 429, refused.body)
        self.assertGreater(int(refused.headers["retry-after"]), 0)
        # More attackers, each from its own address: the name is now under attack.
        for n in range(1, 6):
            self.sts(gw, WRONG, f"X-Forwarded-For: 203.0.113.{n}")
        # The real user, from an address with no failures, is accepted.
        ok = self.sts(gw, GOOD, "X-Forwarded-For: 192.0.2.50")
        self.assertEqual(ok.status, 200, ok.body)
        # An attacker address that already failed is slowed on the attacked name.
        slowed = [self.sts(gw, WRONG, "X-Forwarded-For: 203.0.113.1").status for _ in range(3)]
        self.assertIn(429, slowed)
        # The proxy's own address was never what was counted: another client is unaffected.
        self.assertEqual(self.sts(gw, GOOD, "X-Forwarded-For: 192.0.2.51").status, 200)

    # Item 4: SIGHUP keeps the throttle.
    def test_sighup_keeps_the_login_throttle(self):
        gw = self.start(harness.MicroGw(os.path.join(self.workdir, "hup"), behind_proxy()))
        for _ in range(3):
            self.sts(gw, WRONG, "X-Forwarded-For: 198.51.100.9")
        self.assertEqual(self.sts(gw, GOOD, "X-Forwarded-For: 198.51.100.9").status, 429)
        gw.proc.send_signal(signal.SIGHUP)
        time.sleep(1.0)
        self.assertIn("configuration reloaded", gw.output())
        self.assertEqual(self.sts(gw, GOOD, "X-Forwarded-For: 198.51.100.9").status, 429)

    # Item 3: an argon2id string the loader used to pass and the user store refused.
    def test_bad_argon2id_never_aborts_validate_or_reload(self):
        bad = harness.base_config().replace(harness.shipped_admin_hash(),
                                            "$argon2id$v=18$m=1,t=1,p=1$abc$def")
        out = validate(bad, os.path.join(self.workdir, "v-argon"))
        self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
        self.assertIn("password", out.stdout)
        bad19 = bad.replace("v=18", "v=19")
        out = validate(bad19, os.path.join(self.workdir, "v-argon19"))
        self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
        gw = self.start(harness.MicroGw(os.path.join(self.workdir, "reload-argon"), harness.base_config()))
        with open(gw.config_path, "w") as f:
            f.write(bad19.replace("httpPort = 0", f"httpPort = {gw.http_port}").replace(
                "httpsPort = 0", f"httpsPort = {gw.https_port}"))
        gw.proc.send_signal(signal.SIGHUP)
        time.sleep(1.0)
        self.assertTrue(gw.alive(), gw.output()[-2000:])
        self.assertIn("reload refused", gw.output())
        self.assertEqual(self.sts(gw, GOOD).status, 200)

    # Item 11: --validate makes the start's checks.
    def test_validate_refuses_a_well_known_password_on_every_interface(self):
        # admin/admin itself gets a generated first-start password off loopback (SPEC section 11);
        # any other user with the password "admin" is refused, by --validate as by a start.
        conf = harness.base_config().replace('host = "127.0.0.1"', 'host = "0.0.0.0"')
        conf += f'\n[b7a.users.ops]\npassword = "{harness.shipped_admin_hash()}"\nroles = []\n'
        out = validate(conf, os.path.join(self.workdir, "v-host"))
        self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
        self.assertIn("well-known password", out.stdout)
        self.assertNotIn("OK", out.stdout.split())

    # Item 5: bounded lists, and never a key the gateway refuses.
    def test_sts_refuses_oversized_restrictions(self):
        gw = self.start(harness.MicroGw(os.path.join(self.workdir, "size"), harness.base_config()))
        many = ",".join(f"www{i}.example.com/*" for i in range(400))
        r = self.sts(gw, GOOD, data=json.dumps({"permittedReferer": many}))
        self.assertEqual(r.status, 400, r.body)
        r = self.sts(gw, GOOD, data=json.dumps({"permittedIP": ",".join(f"10.0.0.{i}" for i in range(60))}))
        self.assertEqual(r.status, 400, r.body)
        # Within the bounds: still a key of at most 8 KiB.
        within = ",".join(f"w{i}.example.com/*" for i in range(40))
        r = self.sts(gw, GOOD, data=json.dumps({"permittedReferer": within}))
        self.assertEqual(r.status, 200, r.body)
        self.assertLessEqual(len(r.body), 8192)

    # Item 10: an expiresAt in the past would let the next start purge a live revocation.
    def test_revoke_by_jti_refuses_expires_at_in_the_past(self):
        gw = self.start(harness.MicroGw(os.path.join(self.workdir, "revoke"), harness.base_config()))
        r = curl(gw.https("/apikey/revoke"), method="POST", headers=[GOOD],
                 data=json.dumps({"jti": "2b0f0000-0000-4000-8000-000000000000", "expiresAt": 1767225600}))
        self.assertEqual(r.status, 400, r.body)
        r = curl(gw.https("/apikey/revoke"), method="POST", headers=[GOOD],
                 data=json.dumps({"jti": "2b0f0000-0000-4000-8000-000000000000", "expiresAt": 2051222400}))
        self.assertEqual(r.status, 200, r.body)

    # Item 7: failed key lookups per client address.
    def test_key_guessing_is_throttled_per_address(self):
        os.makedirs(os.path.join(self.workdir, "guess-backend"), exist_ok=True)
        backend = self.start(harness.Backend(os.path.join(self.workdir, "guess-backend")))
        conf = harness.base_config(backend=backend, extra=PROXY).replace(
            'httpsPort = 0\n', 'httpsPort = 0\ntrustedProxies = ["127.0.0.1"]\n', 1)
        gw = self.start(harness.MicroGw(os.path.join(self.workdir, "guess"), conf))
        key = curl(gw.https("/apikey"), headers=[f"Authorization: {harness.ADMIN_BASIC}"]).body
        used = curl(gw.http("/echoapi/1.0.0/x"), headers=[f"apikey: {key}", "X-Forwarded-For: 198.51.100.77"])
        self.assertEqual(used.status, 200, used.body)
        statuses = [curl(gw.http("/echoapi/1.0.0/x"),
                         headers=[f"apikey: guess-{i:04d}-abcdefgh", "X-Forwarded-For: 198.51.100.77"]).status
                    for i in range(7)]
        self.assertEqual(statuses[:5], [401] * 5)
        self.assertEqual(statuses[5], 429)
        other = curl(gw.http("/echoapi/1.0.0/x"), headers=["apikey: guess-9999-abcdefgh",
                                                          "X-Forwarded-For: 198.51.100.78"])
        self.assertEqual(other.status, 401)
        # A key already verified is no guess: still served from the throttled address (NAT).
        again = curl(gw.http("/echoapi/1.0.0/x"), headers=[f"apikey: {key}", "X-Forwarded-For: 198.51.100.77"])
        self.assertEqual(again.status, 200, again.body)


if __name__ == "__main__":
    unittest.main()
