"""The gateway against the real micro-gw and the real sample backend (SPEC sections 4 and 7)."""
import base64
import json
import os
import subprocess
import time
import urllib.parse

import jwt  # Debian's python3-jwt: signs the keys of a second, WSO2 API Manager-style issuer
from cryptography.hazmat.primitives import serialization

import harness
from harness import ADMIN_BASIC, curl

MENU_FIRST = "BBQ Chicken Bacon"
APIM_ISSUER = "https://apim.example.com:443/oauth2/token"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def write_definitions(workdir, backend):
    """The shipped sample definitions, pointed at this test's backend ports."""
    out = os.path.join(workdir, "apis")
    os.makedirs(out, exist_ok=True)
    for name in ("pizzashack.yaml", "petstore.yaml"):
        with open(os.path.join(harness.SOURCE_DIR, "samples", "apis", name)) as f:
            text = f.read()
        text = text.replace("127.0.0.1:9080", f"127.0.0.1:{backend.port}")
        text = text.replace("127.0.0.1:9081", f"127.0.0.1:{backend.sandbox_port}")
        with open(os.path.join(out, name), "w") as f:
            f.write(text)
    return out


class GatewayTest(harness.GatewayTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = cls.start(harness.Backend(cls.workdir))
        definitions = write_definitions(cls.workdir, cls.backend)

        # A second trusted issuer in WSO2 API Manager's format, and an untrusted one.
        cls.apim_dir = os.path.join(cls.workdir, "apim")
        cls.rogue_dir = os.path.join(cls.workdir, "rogue")
        for d in (cls.apim_dir, cls.rogue_dir):
            subprocess.run([harness.MGW_BINARY, "keystore", "init", "--alg", "RS256", "--out", d], check=True,
                           capture_output=True)
        cls.apim_pem = os.path.join(cls.apim_dir, "micro-gw-signing.pem")
        cls.rogue_pem = os.path.join(cls.rogue_dir, "micro-gw-signing.pem")

        extra = f"""
[server]
timestampSkew = 0

[apis]
definitions = ["{definitions}"]

[[apikey.tokenConfigs]]
issuer = "https://localhost:9095/apikey"
certificateAlias = "ballerina"

[[apikey.tokenConfigs]]
issuer = "{APIM_ISSUER}"
certificateAlias = "gateway_certificate_alias"
certificateFile = "{cls.apim_pem}"

[[apis.api]]
name = "OpenAPI"
version = "1.0.0"
context = "/open/1.0.0"
production = "{cls.backend.url}/echo"
security = []

[[apis.api]]
name = "NoSandboxAPI"
version = "1.0.0"
context = "/nosandbox/1.0.0"
production = "{cls.backend.url}/echo"

[[apis.api]]
name = "DownAPI"
version = "1.0.0"
context = "/down/1.0.0"
production = "http://127.0.0.1:1/none"

[[apis.api]]
name = "SlowAPI"
version = "1.0.0"
context = "/slow/1.0.0"
production = "{cls.backend.url}"
timeoutSeconds = 1

[[apis.api]]
name = "CustomKeyAPI"
version = "1.0.0"
context = "/custom/1.0.0"
production = "{cls.backend.url}/echo"
apiKeyHeader = "x-api-key"
apiKeyQuery = "key"
"""
        apis = [("PizzaShackAPI", "1.0.0"), ("EchoAPI", "*"), ("NoSandboxAPI", "1.0.0"), ("DownAPI", "1.0.0"),
                ("SlowAPI", "1.0.0"), ("CustomKeyAPI", "1.0.0")]
        cls.gw = cls.start(harness.MicroGw(cls.workdir, harness.base_config(cls.backend, apis, extra)))
        cls.key = cls.issue()

    @classmethod
    def issue(cls, body=None):
        r = curl(cls.gw.https("/apikey"), headers=[f"Authorization: {ADMIN_BASIC}"],
                 data=json.dumps(body) if body is not None else None)
        assert r.status == 200, r.body
        return r.body

    def call(self, path, key=None, headers=(), https=True, **kw):
        h = list(headers)
        if key is not None:
            h.append(f"apikey: {key}")
        url = self.gw.https(path) if https else self.gw.http(path)
        return curl(url, headers=h, **kw)

    def assertFault(self, r, status, code):
        self.assertEqual(r.status, status, r.body)
        self.assertEqual(r.json()["fault"]["code"], code, r.body)
        if status == 401:
            self.assertIn("www-authenticate", r.headers)

    # --- the seed's commands ---

    def test_pizzashack_menu_with_header(self):
        r = self.call("/pizzashack/1.0.0/menu", self.key, headers=["accept: application/json"])
        self.assertEqual(r.status, 200, r.body)
        menu = r.json()
        self.assertEqual(len(menu), 10)
        self.assertEqual(menu[0]["name"], MENU_FIRST)

    def test_pizzashack_menu_with_url_encoded_query(self):
        r = self.call("/pizzashack/1.0.0/menu?apikey=" + urllib.parse.quote(self.key, safe=""))
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()[0]["name"], MENU_FIRST)

    def test_http_listener_serves_apis_too(self):
        r = self.call("/pizzashack/1.0.0/menu", self.key, https=False)
        self.assertEqual(r.status, 200, r.body)

    def test_wso2_padded_key_is_accepted(self):
        # WSO2 3.1 keys carry '=' padding on their segments, and the signature covers them as sent.
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding
        with open(self.apim_pem, "rb") as f:
            private = serialization.load_pem_private_key(f.read(), password=None)
        enc = lambda b: base64.urlsafe_b64encode(b).decode()  # keeps '=' padding
        head = enc(json.dumps({"alg": "RS256", "typ": "JWT", "kid": "gateway_certificate_alias"}).encode())
        jti = "p-1"
        while True:  # a payload length that needs padding
            raw = json.dumps({"sub": "kanchana", "iss": APIM_ISSUER, "iat": int(time.time()), "jti": jti,
                              "subscribedAPIs": [{"name": "PizzaShackAPI", "version": "1.0.0"}]}).encode()
            if len(raw) % 3:
                break
            jti += "x"
        body = enc(raw)
        sig = enc(private.sign(f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256()))
        token = f"{head}.{body}.{sig}"
        self.assertTrue(body.endswith("="))
        r = self.call("/pizzashack/1.0.0/menu?apikey=" + urllib.parse.quote(token, safe=""))
        self.assertEqual(r.status, 200, r.body)

    # --- what the backend receives ---

    def test_key_is_stripped_before_forwarding(self):
        # HTTP/1.1: a field its Connection field lists is hop-by-hop (HTTP/2 has no Connection field;
        # curl would negotiate h2 and drop it).
        r = self.call("/echoapi/1.0.0/things?apikey=" + urllib.parse.quote(self.key, safe="") + "&keep=1",
                      self.key, headers=["X-Custom: yes", "Connection: keep-alive, X-Hop", "X-Hop: secret"],
                      # Connection options are HTTP/1.1's (curl drops the field over HTTP/2, ALPN h2).
                      extra=["--http1.1"])
        self.assertEqual(r.status, 200, r.body)
        seen = r.json()
        self.assertEqual(seen["path"], "/echo/things")
        self.assertNotIn("apikey", seen["headers"])
        self.assertNotIn("apikey", seen["query"])
        self.assertIn("keep=1", seen["query"])
        self.assertNotIn(self.key, json.dumps(seen))
        self.assertEqual(seen["headers"].get("x-custom"), "yes")
        self.assertNotIn("x-hop", seen["headers"])
        self.assertEqual(seen["headers"].get("x-forwarded-for"), "127.0.0.1")
        self.assertEqual(seen["headers"].get("x-forwarded-proto"), "https")
        self.assertIn("x-forwarded-host", seen["headers"])
        for pseudo in ("remote_addr", "remote_port", "local_addr", "local_port"):
            self.assertNotIn(pseudo, seen["headers"])

    def test_post_body_and_method_relayed(self):
        r = self.call("/echoapi/1.0.0/orders", self.key, data='{"pizza":"Garden Fresh"}',
                      headers=["Content-Type: application/json"], method="PUT")
        seen = r.json()
        self.assertEqual(seen["method"], "PUT")
        self.assertEqual(seen["body"], '{"pizza":"Garden Fresh"}')

    def test_custom_key_locations(self):
        pizza_only = self.issue({"allowedAPIs": [{"name": "PizzaShackAPI", "version": "1.0.0"}]})
        self.assertFault(curl(self.gw.https("/custom/1.0.0/x"), headers=[f"x-api-key: {pizza_only}"]), 403, 900908)
        key = self.issue({"allowedAPIs": [{"name": "CustomKeyAPI", "version": "1.0.0"}]})
        r = curl(self.gw.https("/custom/1.0.0/x"), headers=[f"x-api-key: {key}"])
        self.assertEqual(r.status, 200, r.body)
        self.assertNotIn("x-api-key", r.json()["headers"])
        r = curl(self.gw.https("/custom/1.0.0/x?key=" + urllib.parse.quote(key, safe="")))
        self.assertEqual(r.status, 200, r.body)
        self.assertNotIn("key=", r.json()["query"])
        # The default name is not a location of this API.
        self.assertFault(self.call("/custom/1.0.0/x", key), 401, 900902)

    # --- SPEC section 7, row by row ---

    def test_missing_key(self):
        self.assertFault(self.call("/pizzashack/1.0.0/menu"), 401, 900902)
        self.assertFault(self.call("/pizzashack/1.0.0/menu", headers=["apikey: "]), 401, 900902)

    def test_malformed_keys(self):
        for bad in ["abc", "a.b", "a.b.c.d", "!!!.e30.sig", b64url(b"not json") + "." + b64url(b"{}") + ".c2ln",
                    "x" * 8000]:
            with self.subTest(bad=bad[:20]):
                self.assertFault(self.call("/pizzashack/1.0.0/menu", bad), 401, 900901)

    def test_oversized_key_in_the_query(self):
        # Over 8 KiB: refused before any parsing (a header line that long is refused by the HTTP layer).
        token = self.key + "A" * (8300 - len(self.key))
        r = self.call("/pizzashack/1.0.0/menu?apikey=" + token, https=False)
        self.assertIn(r.status, (401, 414), r.body)
        if r.status == 401:
            self.assertEqual(r.fault_code(), 900901)

    def test_unknown_kid_alg_none_and_hs256_confusion(self):
        head, payload, sig = self.key.split(".")
        header = json.loads(base64.urlsafe_b64decode(head + "=="))
        unknown = b64url(json.dumps(dict(header, kid="nope")).encode())
        none = b64url(json.dumps({"alg": "none", "typ": "JWT", "kid": "ballerina"}).encode())
        jwks = curl(self.gw.https("/.well-known/jwks.json")).json()
        public_pem = jwt.PyJWK.from_dict(jwks["keys"][0]).key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        import hmac, hashlib
        hs_head = b64url(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "ballerina"}).encode())
        hs_sig = b64url(hmac.new(public_pem, f"{hs_head}.{payload}".encode(), hashlib.sha256).digest())
        for bad in [f"{unknown}.{payload}.{sig}", f"{none}.{payload}.", f"{hs_head}.{payload}.{hs_sig}"]:
            with self.subTest(bad=bad[:30]):
                r = self.call("/pizzashack/1.0.0/menu", bad)
                self.assertFault(r, 401, 900901)

    def test_every_signature_bit_flip_is_refused(self):
        head, payload, sig = self.key.split(".")
        raw = bytearray(base64.urlsafe_b64decode(sig + "=="))
        # Every byte, one bit each (the unit tests flip all bits; here through the real HTTP path).
        for i in range(0, len(raw), 7):
            flipped = bytearray(raw)
            flipped[i] ^= 1 << (i % 8)
            r = self.call("/pizzashack/1.0.0/menu", f"{head}.{payload}.{b64url(bytes(flipped))}")
            self.assertFault(r, 401, 900901)

    def test_changed_claim_with_old_signature(self):
        head, payload, sig = self.key.split(".")
        claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
        claims["sub"] = "mallory"
        r = self.call("/pizzashack/1.0.0/menu", f"{head}.{b64url(json.dumps(claims).encode())}.{sig}")
        self.assertFault(r, 401, 900901)

    def test_expired_key(self):
        key = self.issue({"validityTime": 1})
        self.assertEqual(self.call("/pizzashack/1.0.0/menu", key).status, 200)
        time.sleep(2.2)
        r = self.call("/pizzashack/1.0.0/menu", key)
        self.assertFault(r, 401, 900901)
        self.assertIn("expired", r.json()["fault"]["description"])

    def test_key_for_another_api_is_forbidden(self):
        key = self.issue({"allowedAPIs": [{"name": "PizzaShackAPI", "version": "1.0.0"}]})
        r = self.call("/echoapi/1.0.0/x", key)
        self.assertFault(r, 403, 900908)
        self.assertIn("EchoAPI", r.json()["fault"]["description"])

    def test_permitted_ip(self):
        self.assertEqual(self.call("/pizzashack/1.0.0/menu", self.issue({"permittedIP": "127.0.0.0/8, ::1"})).status, 200)
        r = self.call("/pizzashack/1.0.0/menu", self.issue({"permittedIP": "10.1.2.3, 2001:db8::/32"}))
        self.assertFault(r, 403, 900908)
        # X-Forwarded-For is not believed from an untrusted peer.
        key = self.issue({"permittedIP": "10.1.2.3"})
        self.assertFault(self.call("/pizzashack/1.0.0/menu", key, headers=["X-Forwarded-For: 10.1.2.3"]), 403, 900908)

    def test_permitted_referer(self):
        key = self.issue({"permittedReferer": "*.example.com/*"})
        self.assertFault(self.call("/pizzashack/1.0.0/menu", key), 403, 900908)  # missing Referer
        self.assertFault(self.call("/pizzashack/1.0.0/menu", key, headers=["Referer: https://evil.com/x"]), 403, 900908)
        r = self.call("/pizzashack/1.0.0/menu", key, headers=["Referer: https://shop.example.com/cart"])
        self.assertEqual(r.status, 200, r.body)

    def test_sandbox_key_reaches_the_sandbox_backend(self):
        key = self.issue({"keyType": "SANDBOX"})
        r = self.call("/pizzashack/1.0.0/menu", key)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.headers.get("x-environment"), "sandbox")
        prod = self.call("/pizzashack/1.0.0/menu", self.key)
        self.assertNotEqual(prod.headers.get("x-environment"), "sandbox")
        self.assertFault(self.call("/nosandbox/1.0.0/x", key), 403, 900908)

    def test_routing_faults(self):
        self.assertEqual(self.call("/nothing/here", self.key).status, 404)
        self.assertFault(self.call("/pizzashack/1.0.0/unknown", self.key), 404, 900906)
        self.assertFault(self.call("/pizzashack/1.0.0/menu", self.key, method="DELETE"), 404, 900906)
        self.assertEqual(self.call("/pizzashack/1.0.00/menu", self.key).status, 404)  # segment boundary

    def test_open_resource_needs_no_key(self):
        r = self.call("/open/1.0.0/hello")
        self.assertEqual(r.status, 200, r.body)

    def test_backend_down_and_slow(self):
        self.assertFault(self.call("/down/1.0.0/x", self.issue({"allowedAPIs": [{"name": "DownAPI", "version": "1.0.0"}]})), 502, 101503)
        slow = self.issue({"allowedAPIs": [{"name": "SlowAPI", "version": "1.0.0"}]})
        self.assertFault(self.call("/slow/1.0.0/slow?ms=3000", slow), 504, 101504)
        self.assertEqual(self.call("/slow/1.0.0/slow?ms=10", slow).status, 200)
        self.assertEqual(curl(self.gw.http("/health")).status, 200)

    # --- a second trusted issuer (WSO2 API Manager's Developer Portal) and an untrusted one ---

    def apim_key(self, pem_path, kid="gateway_certificate_alias", iss=APIM_ISSUER, api="PizzaShackAPI"):
        with open(pem_path, "rb") as f:
            private = serialization.load_pem_private_key(f.read(), password=None)
        claims = {"sub": "kanchana", "iss": iss, "iat": int(time.time()), "jti": "a9ef01fb-d405",
                  "keytype": "PRODUCTION",
                  "application": {"owner": "kanchana", "tier": "Unlimited", "name": "DefaultApplication", "id": 35},
                  "subscribedAPIs": [{"subscriberTenantDomain": "carbon.super", "name": api,
                                      "context": "/pizzashack/1.0.0", "publisher": "admin", "version": "1.0.0",
                                      "subscriptionTier": "Unlimited"}]}
        return jwt.encode(claims, private, algorithm="RS256", headers={"kid": kid, "x5t": "ZjRmYTMwNTJj"})

    def test_wso2_api_manager_key_from_a_trusted_issuer(self):
        r = self.call("/pizzashack/1.0.0/menu", self.apim_key(self.apim_pem))
        self.assertEqual(r.status, 200, r.body)
        self.assertFault(self.call("/echoapi/1.0.0/x", self.apim_key(self.apim_pem)), 403, 900908)

    def test_untrusted_issuer_is_refused(self):
        # Signed by another key under the trusted kid, and under an unknown kid.
        self.assertFault(self.call("/pizzashack/1.0.0/menu", self.apim_key(self.rogue_pem)), 401, 900901)
        self.assertFault(self.call("/pizzashack/1.0.0/menu", self.apim_key(self.rogue_pem, kid="rogue")), 401, 900901)
        # The trusted key, but claiming the local issuer's name.
        r = self.call("/pizzashack/1.0.0/menu", self.apim_key(self.apim_pem, iss="https://localhost:9095/apikey"))
        self.assertFault(r, 401, 900901)

    # --- the access log ---

    def test_access_log_has_jti_never_the_key(self):
        key = self.issue()
        self.call("/pizzashack/1.0.0/menu", key)
        self.call("/pizzashack/1.0.0/menu", key + "x")
        time.sleep(0.2)
        log = self.gw.output()
        claims = json.loads(base64.urlsafe_b64decode(key.split(".")[1] + "=="))
        lines = [json.loads(l) for l in log.splitlines() if l.startswith("{") and '"access"' in l]
        self.assertTrue(any(l.get("key") == claims["jti"] and l["status"] == 200 for l in lines))
        self.assertNotIn(key, log)
        self.assertNotIn(key.split(".")[2], log)
        for l in lines:
            for field in ("time", "client", "method", "path", "status", "latencyMs"):
                self.assertIn(field, l)


if __name__ == "__main__":
    import unittest
    unittest.main()
