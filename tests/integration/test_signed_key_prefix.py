"""Signed keys framed for secret scanners (issue 25 item 4), against the real micro-gw: with
[apikey.issuer.tokenConfig] keyPrefix = true the STS hands out "mgw_<JWS>_<checksum>"; the gateway
takes it in every key location (header, query, Authorization: Bearer, cookie) and refuses a wrong
checksum (mistyped, truncated) on the checksum; the JWS inside is what is revoked (by the framed
value, the bare one or the jti) and reported leaked; `micro-gw token inspect` and `keys scan` read
it; and after keyPrefix is turned off again framed and bare keys both keep working."""
import base64
import json
import re
import signal
import subprocess
import urllib.parse
import zlib

import harness
from harness import ADMIN_BASIC, curl
from test_lifecycle import ALICE, BOB, LifecycleBase, lifecycle_config
from test_opaque_key_rotation import assert_scan_finds, base62

MENU = "/pizzashack/1.0.0/menu"
# The JWS between the prefix and the checksum is base64url with its own '_' and '-': the frame is
# read from both ends.
FRAMED = re.compile(r"^mgw_([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)_([0-9A-Za-z]{6})$")


def unframe(key):
    """The README's recipe: the JWS inside, after checking the checksum."""
    m = FRAMED.match(key)
    assert m, key
    jws, check = m.groups()
    assert base62(zlib.crc32(jws.encode()), 6) == check, key
    return jws


def claims_of(jws):
    payload = jws.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def prefix_config(workdir, backend, on=True):
    text = lifecycle_config(workdir, backend) + f"""
[apikey]
leakReporters = ["bob"]

[[apis.api]]
name = "EchoAPI"
version = "2.0.0"
context = "/where/2.0.0"
production = "{backend.url}/echo"
apiKeyBearer = true
apiKeyCookie = "mgw_key"
"""
    anchor = "validityTime = -1\n"
    assert anchor in text
    return text.replace(anchor, anchor + f"keyPrefix = {'true' if on else 'false'}\n", 1)


class SignedKeyPrefixTest(LifecycleBase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = cls.start(harness.Backend(cls.workdir))
        cls.gw = cls.start(harness.MicroGw(cls.workdir, prefix_config(cls.workdir, cls.backend)))

    def framed_key(self, auth=ADMIN_BASIC):
        issued = self.issue(auth)
        jws = unframe(issued["apiKey"])
        self.assertEqual(claims_of(jws)["jti"], issued["jti"])
        return issued["apiKey"], jws, issued["jti"]

    def test_the_sts_frames_keys_and_the_plain_answer_too(self):
        key, jws, _ = self.framed_key()
        self.assertTrue(jws.startswith("eyJ"))
        r = curl(self.gw.https("/apikey"), headers=[f"Authorization: {ADMIN_BASIC}"])
        self.assertEqual(r.status, 200, r.body)
        unframe(r.body.strip())

    def test_every_key_location_takes_a_framed_key_and_strips_it(self):
        key, _, _ = self.framed_key()
        self.assertEqual(self.call(MENU, key).status, 200)
        r = curl(self.gw.https(MENU + "?apikey=" + urllib.parse.quote(key, safe="")))
        self.assertEqual(r.status, 200, r.body)
        r = curl(self.gw.https("/where/2.0.0/x"), headers=[f"Authorization: Bearer {key}"])
        self.assertEqual(r.status, 200, r.body)
        self.assertNotIn("authorization", r.json()["headers"])
        r = curl(self.gw.https("/where/2.0.0/x"), headers=[f"Cookie: theme=dark; mgw_key={key}"])
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["headers"].get("cookie"), "theme=dark")
        self.assertNotIn(key, r.body)

    def test_a_wrong_checksum_is_refused_on_the_checksum_in_every_location(self):
        key, jws, _ = self.framed_key()
        i = len(key) - 1
        mangled = key[:i] + ("a" if key[i] != "a" else "b")
        changed_jws = key[:20] + ("a" if key[20] != "a" else "b") + key[21:]  # the JWS changed
        for bad in (mangled, key[:-1], key[:-7], changed_jws):
            self.assertFault(self.call(MENU, bad), 401, 900901, "checksum")
            r = curl(self.gw.https(MENU + "?apikey=" + urllib.parse.quote(bad, safe="")))
            self.assertFault(r, 401, 900901, "checksum")
            r = curl(self.gw.https("/where/2.0.0/x"), headers=[f"Authorization: Bearer {bad}"])
            self.assertFault(r, 401, 900901, "checksum")
            r = curl(self.gw.https("/where/2.0.0/x"), headers=[f"Cookie: mgw_key={bad}"])
            self.assertFault(r, 401, 900901, "checksum")
            self.assertNotIn(bad, r.body)
        # Another prefix is not this gateway's frame: refused as a malformed key, not on a checksum.
        r = self.call(MENU, "acme_" + key[len("mgw_"):])
        self.assertEqual(r.status, 401, r.body)
        self.assertNotIn("checksum", r.json()["fault"]["description"])
        # The bare JWS inside is the same key.
        self.assertEqual(self.call(MENU, jws).status, 200)

    def test_revocation_by_the_framed_value_the_bare_one_or_the_jti(self):
        for form in ("framed", "bare", "jti"):
            key, jws, jti = self.framed_key(ALICE)
            body = {"framed": {"apiKey": key}, "bare": {"apiKey": jws},
                    "jti": {"jti": jti, "expiresAt": 4102444800}}[form]
            r = self.revoke(body, ADMIN_BASIC if form == "jti" else ALICE)
            self.assertEqual(r.status, 200, r.body)
            self.assertEqual(r.json()["revoked"]["jti"], jti, form)
            self.assertFault(self.call(MENU, key), 401, 900901, "revoked")
            self.assertFault(self.call(MENU, jws), 401, 900901, "revoked")
        key, _, _ = self.framed_key(ALICE)
        r = self.revoke({"apiKey": key[:-1] + ("a" if key[-1] != "a" else "b")}, ALICE)
        self.assertFault(r, 400, 900400, "checksum")
        self.assertEqual(self.call(MENU, key).status, 200)

    def test_leak_report_revokes_a_framed_key_by_its_jti(self):
        key, jws, jti = self.framed_key(ALICE)
        report = [{"token": key, "type": "micro_gw_api_key", "url": "https://example.invalid/a"},
                  {"token": key[:-1] + ("a" if key[-1] != "a" else "b"), "type": "micro_gw_api_key"}]
        r = self.mgmt("POST", "/apikeys/leaked", BOB, report)
        self.assertEqual(r.status, 200, r.body)
        self.assertNotIn(key, r.body)
        body = r.json()
        self.assertEqual([x["action"] for x in body["results"]], ["revoked", "bad_checksum"])
        self.assertEqual(body["results"][0]["jti"], jti)
        self.assertEqual([x["label"] for x in body["results"]], ["true_positive", "false_positive"])
        self.assertFault(self.call(MENU, jws), 401, 900901, "revoked")

    def test_token_inspect_reads_the_jws_inside(self):
        key, _, jti = self.framed_key()
        r = subprocess.run([harness.MGW_BINARY, "token", "inspect", key], capture_output=True, text=True,
                           timeout=30)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("framed: mgw_<JWS>_<checksum>", r.stdout)
        self.assertIn(jti, r.stdout)
        r = subprocess.run([harness.MGW_BINARY, "token", "inspect", key[:-1]], capture_output=True,
                           text=True, timeout=30)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("checksum", r.stdout + r.stderr)

    def test_keys_scan_finds_every_framed_key(self):
        keys = [self.framed_key()[0] for _ in range(20)]
        # Where keys end up: .env files, JSON, shell history, URLs, YAML, prose with a full stop.
        contexts = ["API_KEY={}\n", '{{"apikey": "{}"}}\n', "curl -H 'Authorization: Bearer {}' https://x\n",
                    "https://api.example/?apikey={}&x=1\n", "  key: {}\n", "The key is {}.\n",
                    "Cookie: mgw_key={}; theme=dark\n"]
        # A mangled one and a bare JWS are not reported.
        others = keys[0][:-1] + ("a" if keys[0][-1] != "a" else "b") + "\n" + unframe(keys[1]) + "\n"
        assert_scan_finds(self, keys, contexts, others)
        # No false positive over the repository's own tree: test_opaque_key_rotation's
        # test_keys_scan_finds_every_generated_key_and_nothing_in_the_repository scans `git ls-files`
        # with the same scanner, which finds both kinds.

    def test_zz_turned_off_framed_and_bare_keys_keep_working(self):
        framed, jws, _ = self.framed_key()
        self.gw.stop(signal.SIGTERM)
        type(self).gw = self.start(harness.MicroGw(self.workdir, prefix_config(self.workdir, self.backend,
                                                                                on=False)))
        bare = self.issue()["apiKey"]
        self.assertTrue(bare.startswith("eyJ"), bare)
        self.assertEqual(bare.count("."), 2)
        for key in (framed, jws, bare):
            self.assertEqual(self.call(MENU, key).status, 200, key[:12])
        self.assertFault(self.call(MENU, framed[:-1]), 401, 900901, "checksum")


if __name__ == "__main__":
    import unittest
    unittest.main()
