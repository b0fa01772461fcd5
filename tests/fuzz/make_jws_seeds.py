"""Writes the JWS seed corpus (corpus/jws/): keys signed with the RFC example keys in
tests/testdata/token, shaped like micro-gw and WSO2 API Manager keys, plus classic attacks.
Run from tests/fuzz: python3 make_jws_seeds.py (python3-jwt, python3-cryptography)."""
import base64
import json
import os

import jwt

HERE = os.path.dirname(os.path.abspath(__file__))
TESTDATA = os.path.join(HERE, "..", "testdata", "token")
OUT = os.path.join(HERE, "corpus", "jws")
ISS = "https://localhost:9095/apikey"
NOW = 1700000000


def key(name):
    with open(os.path.join(TESTDATA, name), "rb") as f:
        return f.read()


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def write(name, token):
    with open(os.path.join(OUT, name), "w") as f:
        f.write(token)


claims = {"sub": "admin", "iss": ISS, "iat": NOW - 60, "jti": "0f6e2a4c-8c1e-4d55-9b8e-2d1f1f1c0a01",
          "keytype": "PRODUCTION", "allowedAPIs": [{"name": "PizzaShackAPI", "version": "1.0.0"}]}
rsa = key("rfc7515_a2_rsa_private.pem")
ec = key("rfc7515_a3_ec_private.pem")
ed = key("rfc8037_a_ed25519_private.pem")

write("valid_rs256", jwt.encode(claims, rsa, "RS256", headers={"kid": "ballerina", "typ": "JWT"}))
write("valid_es256", jwt.encode(claims, ec, "ES256", headers={"kid": "ec", "typ": "JWT"}))
write("valid_eddsa", jwt.encode(claims, ed, "EdDSA", headers={"kid": "ed", "typ": "JWT"}))
restricted = dict(claims, exp=NOW + 600, nbf=NOW - 10, keytype="SANDBOX", permittedIP="10.0.0.0/8, ::1",
                  permittedReferer="*.example.com/*")
write("valid_restricted", jwt.encode(restricted, rsa, "RS256", headers={"kid": "ballerina", "typ": "JWT"}))
wso2 = dict(claims, subscribedAPIs=[{"name": "PizzaShackAPI", "version": "1.0.0", "context": "/pizzashack/1.0.0"}],
            iat=str(NOW), exp=str(NOW + 60))
del wso2["allowedAPIs"]
write("wso2_subscribed_apis", jwt.encode(wso2, rsa, "RS256", headers={"kid": "ballerina", "typ": "JWT"}))
write("expired", jwt.encode(dict(claims, exp=NOW - 3600), ec, "ES256", headers={"kid": "ec"}))
write("not_yet_valid", jwt.encode(dict(claims, nbf=NOW + 3600), ec, "ES256", headers={"kid": "ec"}))
write("wrong_issuer", jwt.encode(dict(claims, iss="https://evil.example.com"), ed, "EdDSA", headers={"kid": "ed"}))
write("kid_alg_mismatch", jwt.encode(claims, ec, "ES256", headers={"kid": "ballerina"}))
write("unknown_kid", jwt.encode(claims, ec, "ES256", headers={"kid": "nobody"}))
write("huge_exp", jwt.encode(dict(claims, exp=9223372036854775807), ec, "ES256", headers={"kid": "ec"}))
write("float_exp", jwt.encode(dict(claims, exp=1e300), ec, "ES256", headers={"kid": "ec"}))
body = b64(json.dumps(claims).encode())
write("alg_none", b64(b'{"alg":"none","kid":"ballerina"}') + "." + body + ".")
# HMAC keyed with the public key (RFC 8725 section 2.1): must never verify.
import hmac, hashlib  # noqa: E401
signing_input = b64(b'{"alg":"HS256","kid":"ballerina"}') + "." + body
mac = hmac.new(key("rfc7515_a2_rsa_public.pem"), signing_input.encode(), hashlib.sha256).digest()
write("hs256_with_public_key", signing_input + "." + b64(mac))
padded = jwt.encode(claims, rsa, "RS256", headers={"kid": "ballerina"}).split(".")
write("wso2_padded", ".".join(p + "=" * (-len(p) % 4) for p in padded))
write("two_segments", padded[0] + "." + padded[1])
write("four_segments", ".".join(padded + ["x"]))
write("header_not_object", b64(b"[1,2]") + "." + body + ".AAAA")
write("bad_base64", "eyJ!!!." + body + ".sig")
write("empty", "")
write("dots", "..")
write("nested_json", b64(b'{"alg":"RS256","kid":{"a":[[[[[[[[1]]]]]]]]}}') + "." + b64(b"{}") + ".AA")
