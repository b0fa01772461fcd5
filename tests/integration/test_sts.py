"""The API key STS against the real micro-gw binary (SPEC section 5), with curl as the client."""
import json
import os
import subprocess
import time
import unittest

import jwt  # Debian's python3-jwt: an independent verifier
from jwt import PyJWKClient  # noqa: F401  (imported to prove the JWKS support is there)

import harness
from harness import ADMIN_BASIC, curl


class StsTest(harness.GatewayTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        extra = """
[b7a.users.alice]
password = "{hash}"
apis = ["PizzaShackAPI:1.0.0"]

[authentication]
maxFailures = 5
failureWindowSeconds = 60
""".format(hash=harness.shipped_admin_hash())
        cls.gw = cls.start(harness.MicroGw(cls.workdir, harness.base_config(extra=extra)))

    def get_key(self, *args, **kwargs):
        return curl(self.gw.https("/apikey"), *args, **kwargs)

    def jwks_verify(self, token):
        jwks = curl(self.gw.https("/.well-known/jwks.json")).json()
        header = jwt.get_unverified_header(token)
        keys = {k["kid"]: k for k in jwks["keys"]}
        self.assertIn(header["kid"], keys)
        key = jwt.PyJWK.from_dict(keys[header["kid"]])
        return jwt.decode(token, key.key, algorithms=[header["alg"]], options={"verify_aud": False})

    # The seed's commands, as written (port adjusted).
    def test_seed_command_returns_a_key_that_verifies_with_the_jwks(self):
        r = self.get_key(method="GET", headers=["Authorization:Basic YWRtaW46YWRtaW4="])
        self.assertEqual(r.status, 200, r.body)
        self.assertTrue(r.headers["content-type"].startswith("text/plain"))
        self.assertEqual(r.headers.get("cache-control"), "no-store")
        token = r.body
        self.assertEqual(token.count("."), 2)
        claims = self.jwks_verify(token)
        self.assertEqual(claims["sub"], "admin")
        self.assertEqual(claims["iss"], "https://localhost:9095/apikey")
        self.assertEqual(claims["keytype"], "PRODUCTION")
        self.assertNotIn("exp", claims)  # validityTime = -1
        self.assertIn({"name": "PizzaShackAPI", "version": "1.0.0"}, claims["allowedAPIs"])
        header = jwt.get_unverified_header(token)
        self.assertEqual(header, {"alg": "RS256", "typ": "JWT", "kid": "ballerina"})

    def test_seed_command_with_validity_time(self):
        r = self.get_key(method="GET", headers=["Content-Type: application/json", "Authorization:Basic YWRtaW46YWRtaW4="],
                         data='{"validityTime":600}')
        self.assertEqual(r.status, 200, r.body)
        claims = self.jwks_verify(r.body)
        self.assertEqual(claims["exp"] - claims["iat"], 600)

    def test_json_answer(self):
        r = self.get_key(method="POST", headers=[f"Authorization: {ADMIN_BASIC}", "Accept: application/json"],
                         data='{"validityTime":"120"}')
        self.assertEqual(r.status, 200, r.body)
        body = r.json()
        self.assertEqual(body["tokenType"], "apikey")
        self.assertEqual(body["expiresIn"], 120)
        self.assertEqual(self.jwks_verify(body["apiKey"])["jti"], body["jti"])

    def test_unlimited_key_json_has_null_expiry(self):
        r = self.get_key(headers=[f"Authorization: {ADMIN_BASIC}", "Accept: application/json"])
        self.assertIsNone(r.json()["expiresIn"])

    def test_validity_longer_than_configured_is_ignored(self):
        gw = self.start(harness.MicroGw(os.path.join(self.workdir, "short"),
                                        harness.base_config().replace("validityTime = -1", "validityTime = 300")))
        r = curl(gw.https("/apikey"), headers=[f"Authorization: {ADMIN_BASIC}", "Accept: application/json"],
                 data='{"validityTime": 99999}')
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["expiresIn"], 300)
        claims = jwt.decode(r.json()["apiKey"], options={"verify_signature": False})
        self.assertEqual(claims["exp"] - claims["iat"], 300)
        shorter = curl(gw.https("/apikey"), headers=[f"Authorization: {ADMIN_BASIC}", "Accept: application/json"],
                       data='{"validityTime": 30}')
        self.assertEqual(shorter.json()["expiresIn"], 30)

    def test_narrower_allowed_apis_and_sandbox(self):
        body = json.dumps({"allowedAPIs": [{"name": "PizzaShackAPI", "version": "1.0.0"}], "keyType": "SANDBOX",
                           "permittedIP": "127.0.0.1, 10.0.0.0/8", "permittedReferer": "*.example.com/*"})
        r = self.get_key(headers=[f"Authorization: {ADMIN_BASIC}"], data=body)
        self.assertEqual(r.status, 200, r.body)
        claims = self.jwks_verify(r.body)
        self.assertEqual(claims["allowedAPIs"], [{"name": "PizzaShackAPI", "version": "1.0.0"}])
        self.assertEqual(claims["keytype"], "SANDBOX")
        self.assertEqual(claims["permittedIP"], "127.0.0.1, 10.0.0.0/8")
        self.assertEqual(claims["permittedReferer"], "*.example.com/*")

    def assertFault(self, r, status, code):
        self.assertEqual(r.status, status, r.body)
        self.assertEqual(r.json()["fault"]["code"], code, r.body)
        self.assertEqual(r.headers.get("cache-control"), "no-store")

    def test_broader_allowed_apis_refused(self):
        body = json.dumps({"allowedAPIs": [{"name": "SomeOtherAPI", "version": "1.0.0"}]})
        r = self.get_key(headers=[f"Authorization: {ADMIN_BASIC}"], data=body)
        self.assertFault(r, 400, 900400)
        self.assertIn("SomeOtherAPI", r.json()["fault"]["description"])

    def test_user_api_list_narrows(self):
        alice = "Basic " + __import__("base64").b64encode(b"alice:admin").decode()
        r = self.get_key(headers=[f"Authorization: {alice}"])
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(self.jwks_verify(r.body)["allowedAPIs"], [{"name": "PizzaShackAPI", "version": "1.0.0"}])
        broader = self.get_key(headers=[f"Authorization: {alice}"],
                               data=json.dumps({"allowedAPIs": [{"name": "EchoAPI", "version": "1.0.0"}]}))
        self.assertFault(broader, 400, 900400)

    def test_bad_bodies(self):
        for body in ['{"validityTime":', '[1,2]', '{"validityTime": "ten"}', '{"keyType": "TEST"}',
                     '{"allowedAPIs": "PizzaShackAPI"}', '{"permittedIP": "300.1.1.1"}', '{"validty": 5}']:
            with self.subTest(body=body):
                r = self.get_key(headers=[f"Authorization: {ADMIN_BASIC}"], data=body)
                self.assertFault(r, 400, 900400)

    def test_credentials_errors(self):
        cases = [
            ([], 401, 900902),                                              # missing header
            (["Authorization: Bearer abc"], 401, 900901),                   # malformed
            (["Authorization: Basic !!!notbase64"], 401, 900901),           # malformed
        ]
        for headers, status, code in cases:
            with self.subTest(headers=headers):
                r = self.get_key(headers=headers)
                self.assertFault(r, status, code)
                self.assertEqual(r.headers.get("www-authenticate"), 'Basic realm="micro-gw"')

    def test_wrong_password_and_unknown_user_answer_alike(self):
        gw = self.start(harness.MicroGw(os.path.join(self.workdir, "alike"), harness.base_config()))
        wrong = curl(gw.https("/apikey"), headers=["Authorization: Basic " + __import__("base64").b64encode(b"admin:nope").decode()])
        unknown = curl(gw.https("/apikey"), headers=["Authorization: Basic " + __import__("base64").b64encode(b"nobody:nope").decode()])
        self.assertFault(wrong, 401, 900901)
        self.assertEqual((wrong.status, wrong.body, wrong.headers.get("www-authenticate")),
                         (unknown.status, unknown.body, unknown.headers.get("www-authenticate")))
        self.assertNotIn("nope", gw.output())  # no password in the log

    def test_repeated_failures_get_429(self):
        gw = self.start(harness.MicroGw(os.path.join(self.workdir, "throttle"),
                                        harness.base_config(extra="[authentication]\nmaxFailures = 3\nfailureWindowSeconds = 60\n")))
        bad = "Authorization: Basic " + __import__("base64").b64encode(b"admin:wrong").decode()
        statuses = [curl(gw.https("/apikey"), headers=[bad]).status for _ in range(3)]
        self.assertEqual(statuses, [401, 401, 401])
        r = curl(gw.https("/apikey"), headers=[bad])
        self.assertFault(r, 429, 900429)
        self.assertGreater(int(r.headers["retry-after"]), 0)
        # Even the right password waits: the address is throttled.
        self.assertEqual(curl(gw.https("/apikey"), headers=[f"Authorization: {ADMIN_BASIC}"]).status, 429)

    def test_sts_is_https_only(self):
        r = curl(self.gw.http("/apikey"), headers=[f"Authorization: {ADMIN_BASIC}"])
        self.assertEqual(r.status, 404, r.body)
        self.assertIn("HTTPS", r.json()["fault"]["description"])

    def test_health(self):
        self.assertEqual(curl(self.gw.http("/health")).status, 200)
        self.assertEqual(curl(self.gw.https("/health")).status, 200)

    def test_issuer_disabled_is_503(self):
        gw = self.start(harness.MicroGw(os.path.join(self.workdir, "disabled"),
                                        harness.base_config().replace("enabled = true", "enabled = false")))
        r = curl(gw.https("/apikey"), headers=[f"Authorization: {ADMIN_BASIC}"])
        self.assertFault(r, 503, 900503)

    def test_token_inspect(self):
        token = self.get_key(headers=[f"Authorization: {ADMIN_BASIC}"]).body
        out = subprocess.run([harness.MGW_BINARY, "token", "inspect", token], capture_output=True, text=True)
        self.assertEqual(out.returncode, 0)
        self.assertIn("NOT VERIFIED", out.stdout)
        self.assertIn('"sub": "admin"', out.stdout)

    def test_no_key_or_password_in_logs(self):
        token = self.get_key(headers=[f"Authorization: {ADMIN_BASIC}"]).body
        time.sleep(0.1)
        log = self.gw.output()
        self.assertNotIn(token, log)
        self.assertNotIn(token.split(".")[2], log)
        self.assertNotIn("YWRtaW46YWRtaW4=", log)


if __name__ == "__main__":
    unittest.main()
