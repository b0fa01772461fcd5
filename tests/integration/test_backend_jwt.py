"""The backend JWT (SPEC section 15), against the real binary and a recording backend: the token the
backend receives verifies with python3-jwt against the gateway's JWKS, says who called which API,
is reused for the same key and API, is never the client's own X-JWT-Assertion, and is never
accepted as an API key."""
import json
import os
import ssl
import unittest
import urllib.request

import jwt

import harness
from harness import ADMIN_BASIC, curl
from recording_backend import RecordingBackend

HEADER = "X-JWT-Assertion"


class BackendJwtTest(harness.GatewayTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = RecordingBackend()
        cls.addClassCleanup(cls.backend.stop)
        url = cls.backend.url
        extra = f"""
[jwtGenerator]
enabled = true
issuer = "https://gw.test/backend"
validitySeconds = 300

[[apis.api]]
name = "JwtAPI"
version = "1.0.0"
context = "/jwt"
production = "{url}/jwt"

[[apis.api]]
name = "OtherAPI"
version = "2.0.0"
context = "/other"
production = "{url}/other"

[[apis.api]]
name = "OpenAPI"
version = "1.0.0"
context = "/open"
production = "{url}/open"
security = []
"""
        apis = [("JwtAPI", "*"), ("OtherAPI", "*"), ("OpenAPI", "*")]
        cls.gw = cls.start(harness.MicroGw(cls.workdir, harness.base_config(None, apis, extra)))
        cls.key = cls.new_key()
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        with urllib.request.urlopen(cls.gw.https("/.well-known/jwks.json"), context=ctx, timeout=10) as r:
            cls.jwks = json.loads(r.read())

    @classmethod
    def new_key(cls):
        r = curl(cls.gw.https("/apikey"), headers=[f"Authorization: {ADMIN_BASIC}"])
        assert r.status == 200, r.body
        return r.body.strip()

    def call(self, path, key=None, extra=()):
        headers = list(extra)
        if key:
            headers.append(f"apikey: {key}")
        r = curl(self.gw.http(path), headers=headers)
        got = [x for x in self.backend.requests() if x.target.endswith(path.split("/", 2)[2])]
        return r, got[-1] if got else None

    def verify(self, token, audience):
        kid = jwt.get_unverified_header(token)["kid"]
        jwks = jwt.PyJWKSet.from_dict(self.jwks)
        keys = [k for k in jwks.keys if k.key_id == kid]
        self.assertEqual(len(keys), 1, f"kid {kid} not in the JWKS {self.jwks}")
        alg = [k for k in self.jwks["keys"] if k["kid"] == kid][0]["alg"]
        return jwt.decode(token, keys[0].key, algorithms=[alg], audience=audience,
                          issuer="https://gw.test/backend")

    def test_backend_gets_a_verifiable_jwt_with_the_callers_claims(self):
        r, seen = self.call("/jwt/menu?verify=1", self.key)
        self.assertEqual(r.status, 200, r.body)
        tokens = seen.header(HEADER)
        self.assertEqual(len(tokens), 1)
        token = tokens[0].decode()
        self.assertEqual(jwt.get_unverified_header(token)["kid"], "micro-gw-backend")
        claims = self.verify(token, "JwtAPI:1.0.0")
        key_claims = jwt.decode(self.key, options={"verify_signature": False})
        self.assertEqual(claims["sub"], "admin")
        self.assertEqual(claims["subscriber"], "admin")
        self.assertEqual(claims["keytype"], "PRODUCTION")
        self.assertEqual(claims["apiName"], "JwtAPI")
        self.assertEqual(claims["apiVersion"], "1.0.0")
        self.assertEqual(claims["apiContext"], "/jwt")
        self.assertEqual(claims["exp"] - claims["iat"], 300)
        self.assertTrue(claims["jti"])
        if "tier" in key_claims:  # the key's tier claim, when the STS writes one
            self.assertEqual(claims["tier"], key_claims["tier"])
        else:
            self.assertNotIn("tier", claims)
        # The API key itself never reaches the backend.
        self.assertNotIn(self.key.encode(), b"\n".join(seen.header_lines))
        # Another API's audience does not accept it.
        with self.assertRaises(jwt.InvalidAudienceError):
            self.verify(token, "OtherAPI:2.0.0")

    def test_jwks_publishes_both_keys(self):
        kids = sorted(k["kid"] for k in self.jwks["keys"])
        self.assertEqual(kids, ["ballerina", "micro-gw-backend"])

    def test_signed_by_a_key_of_its_own_not_the_sts_key(self):
        """Issue 22 item 8: without [jwtGenerator] signingKey, a key of its own is generated at first
        start next to the STS key; a backend that trusts it does not thereby trust API keys."""
        keys = {k["kid"]: k for k in self.jwks["keys"]}
        public = lambda k: {f: k.get(f) for f in ("kty", "crv", "x", "y", "n", "e")}
        self.assertNotEqual(public(keys["micro-gw-backend"]), public(keys["ballerina"]))
        self.assertEqual(keys["micro-gw-backend"]["alg"], "ES256")
        security = os.path.join(self.workdir, "runtime", "security")
        self.assertTrue(os.path.exists(os.path.join(security, "micro-gw-backend-jwt.pem")))
        self.assertTrue(os.path.exists(os.path.join(security, "micro-gw-signing.pem")))
        r, seen = self.call("/jwt/own-key", self.key)
        self.assertEqual(r.status, 200, r.body)
        token = seen.header(HEADER)[0].decode()
        sts = jwt.PyJWK.from_dict(keys["ballerina"])
        with self.assertRaises(Exception):  # a key of another type, or a bad signature
            jwt.decode(token, sts.key, algorithms=["ES256", "RS256", "EdDSA"], audience="JwtAPI:1.0.0")

    def test_names_the_credentials_issuer_and_the_authentication_method(self):
        """Issue 22 item 8: idp is the credential's issuer (a partner's "admin" is not the local
        "admin"), authMethod how it was presented."""
        r, seen = self.call("/jwt/who", self.key)
        self.assertEqual(r.status, 200, r.body)
        claims = self.verify(seen.header(HEADER)[0].decode(), "JwtAPI:1.0.0")
        self.assertEqual(claims["idp"], "https://localhost:9095/apikey")
        self.assertEqual(claims["authMethod"], "api_key")

    def test_cached_per_key_and_api(self):
        _, a = self.call("/jwt/cache?n=1", self.key)
        _, b = self.call("/jwt/cache?n=2", self.key)
        self.assertEqual(a.header(HEADER), b.header(HEADER))  # the same token, not re-signed
        _, other = self.call("/other/cache?n=3", self.key)
        self.assertNotEqual(other.header(HEADER), a.header(HEADER))
        self.assertEqual(self.verify(other.header(HEADER)[0].decode(), "OtherAPI:2.0.0")["apiName"], "OtherAPI")
        second_key = self.new_key()
        _, c = self.call("/jwt/cache?n=4", second_key)
        self.assertNotEqual(c.header(HEADER), a.header(HEADER))

    def test_client_sent_assertion_never_reaches_the_backend(self):
        forged = jwt.encode({"sub": "root", "apiName": "JwtAPI"}, "secret", algorithm="HS256")
        r, seen = self.call("/jwt/forged?x=1", self.key,
                            [f"{HEADER}: {forged}", f"x-jwt-assertion: {forged}"])
        self.assertEqual(r.status, 200, r.body)
        values = seen.header(HEADER)
        self.assertEqual(len(values), 1)
        self.assertNotEqual(values[0].decode(), forged)
        self.assertFalse(self.backend.saw(forged))
        # An open resource: no caller, so no JWT, and the client's is still removed.
        r, seen = self.call("/open/forged?x=2", None, [f"{HEADER}: {forged}"])
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(seen.header(HEADER), [])
        self.assertFalse(self.backend.saw(forged))

    def test_backend_jwt_is_not_an_api_key(self):
        _, seen = self.call("/jwt/replay?x=1", self.key)
        token = seen.header(HEADER)[0].decode()
        r = curl(self.gw.http("/jwt/replay?x=2"), headers=[f"apikey: {token}"])
        self.assertEqual(r.status, 401, r.body)


if __name__ == "__main__":
    unittest.main()
