"""Issue 26 against the real binary.

Plans: an inline API with two plans (Gravitee's API key plans with selection rules), one chosen by a
header (the rule written in Gravitee's {#...} form), one by the key's keytype claim. Each request
reaches its plan, is counted against that plan's subscription tier on its own (the same key gets
3 requests a minute on the gold plan and 2 more on the sandbox plan), and the plan's name is in
its access log line; a request no plan takes answers 403/900908 saying so, the rules tried only in
the log. A rule with a syntax error is a load error naming the line and the column.

Key locations: an API that takes the key as "Authorization: Bearer <key>" and in the cookie
mgw_key accepts both, and the backend gets neither (the other cookies stay); an API that does not
refuses them (401/900902). On an OpenAPI API that takes OAuth2 tokens and bearer API keys on the
same header, a JWT of the [[jwtTokenConfig]] issuer goes the OAuth2 way (its scope is checked)
and an STS key goes the API key way.
"""
import datetime
import json
import os
import subprocess
import time
import unittest
import uuid

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

import harness
from harness import curl

IDP_ISSUER = "https://idp.plans.test/oauth2/token"

MIXED_API = """
openapi: 3.0.0
info: {title: Mixed, version: 1.0.0}
servers: [{url: "BACKEND/echo"}]
x-wso2-basePath: /mixed/1.0.0
components:
  securitySchemes:
    oauth:
      type: oauth2
      flows: {clientCredentials: {tokenUrl: "https://idp.plans.test/token", scopes: {read: read}}}
    bearerKey: {type: http, scheme: bearer, x-mgw-api-key: true}
security:
  - oauth: [read]
  - bearerKey: []
paths:
  /items:
    get: {responses: {"200": {description: ok}}}
"""


def self_signed(common_name):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    return key, cert


def plans_api(backend):
    return f"""
[[throttling.policy]]
name = "PlanGold"
level = "subscription"
count = 3
unitTime = 1
timeUnit = "min"

[[throttling.policy]]
name = "PlanSandbox"
level = "subscription"
count = 2
unitTime = 1
timeUnit = "min"

[[apis.api]]
name = "Plans"
version = "1.0.0"
context = "/plans/1.0.0"
production = "{backend.url}/echo"
sandbox = "{backend.sandbox_url}/echo"

  [[apis.api.plans]]
  name = "gold"
  tier = "PlanGold"
  selectionRule = "{{#request.headers['x-tier'][0] == 'gold'}}"

  [[apis.api.plans]]
  name = "sandbox"
  tier = "PlanSandbox"
  selectionRule = '''
key.claims['keytype'] == 'SANDBOX'
  && request.path matches '^/plans/1.0.0/'
'''
"""


class PlansTest(harness.GatewayTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = cls.start(harness.Backend(cls.workdir))
        cls.idp_key, idp_cert = self_signed("plans idp")
        idp_pem = os.path.join(cls.workdir, "idp.pem")
        with open(idp_pem, "wb") as f:
            f.write(idp_cert.public_bytes(serialization.Encoding.PEM))
        definitions = os.path.join(cls.workdir, "apis")
        os.makedirs(definitions, exist_ok=True)
        with open(os.path.join(definitions, "mixed.yaml"), "w") as f:
            f.write(MIXED_API.replace("BACKEND", cls.backend.url))
        extra = f"""
[apis]
definitions = ["{definitions}"]

[[jwtTokenConfig]]
issuer = "{IDP_ISSUER}"
certificateFile = "{idp_pem}"
""" + plans_api(cls.backend) + f"""
[[apis.api]]
name = "Where"
version = "1.0.0"
context = "/where/1.0.0"
production = "{cls.backend.url}/echo"
apiKeyBearer = true
apiKeyCookie = "mgw_key"

[[apis.api]]
name = "Elsewhere"
version = "1.0.0"
context = "/elsewhere/1.0.0"
production = "{cls.backend.url}/echo"
"""
        apis = [(n, "1.0.0") for n in ("Plans", "Where", "Elsewhere", "Mixed")]
        cls.gw = cls.start(harness.MicroGw(cls.workdir, harness.base_config(issuer_apis=apis, extra=extra)))
        cls.key = harness.issue_key(cls.gw)
        cls.sandbox_key = harness.issue_key(cls.gw, {"keyType": "SANDBOX"})

    def access_lines(self, path):
        lines = []
        for line in self.gw.output().splitlines():
            start = line.find("{")
            if start < 0 or '"type":"access"' not in line:
                continue
            try:
                entry = json.loads(line[start:])
            except ValueError:
                continue
            if entry.get("path") == path:
                lines.append(entry)
        return lines

    def idp_token(self, scope="read", key=None):
        now = int(time.time())
        claims = {"sub": "carol", "iss": IDP_ISSUER, "iat": now, "exp": now + 600, "jti": str(uuid.uuid4()),
                  "scope": scope}
        return jwt.encode(claims, key or self.idp_key, algorithm="RS256")

    # --- plans ---

    def test_each_request_reaches_its_plan_and_its_tier(self):
        gold = [curl(self.gw.http(f"/plans/1.0.0/g{i}"), headers=[f"apikey: {self.sandbox_key}", "X-Tier: gold"])
                for i in range(4)]
        self.assertEqual([r.status for r in gold], [200, 200, 200, 429], [r.body for r in gold])
        self.assertEqual(gold[3].fault_code(), 900804)
        self.assertEqual(gold[3].headers["ratelimit-policy"], '"PlanGold";q=3;w=60')
        # The same key without the header: the sandbox plan (keytype rule), its own quota of 2.
        sandbox = [curl(self.gw.http(f"/plans/1.0.0/s{i}"), headers=[f"apikey: {self.sandbox_key}"])
                   for i in range(3)]
        self.assertEqual([r.status for r in sandbox], [200, 200, 429], [r.body for r in sandbox])
        self.assertEqual(sandbox[2].headers["ratelimit-policy"], '"PlanSandbox";q=2;w=60')
        # The sandbox plan's request went to the sandbox endpoint (a SANDBOX key).
        self.assertEqual(sandbox[0].json().get("environment"), "sandbox")
        time.sleep(0.3)
        self.assertEqual([e.get("plan") for e in self.access_lines("/plans/1.0.0/g0")], ["gold"])
        self.assertEqual([e.get("plan") for e in self.access_lines("/plans/1.0.0/s0")], ["sandbox"])
        page = curl(f"http://127.0.0.1:{self.gw.metrics_port}/metrics").body
        self.assertIn('mgw_plan_requests_total{api="Plans",version="1.0.0",plan="gold"} 4', page)
        self.assertIn('mgw_plan_requests_total{api="Plans",version="1.0.0",plan="sandbox"} 3', page)

    def test_no_plan_matches(self):
        # A PRODUCTION key without the header: neither rule holds.
        r = curl(self.gw.http("/plans/1.0.0/none"), headers=[f"apikey: {self.key}", "X-Tier: silver"])
        self.assertEqual(r.status, 403, r.body)
        self.assertEqual(r.fault_code(), 900908)
        self.assertIn("no plan of API Plans:1.0.0 matches", r.json()["fault"]["description"])
        self.assertNotIn("x-tier", r.body)  # the rules stay in the log
        time.sleep(0.3)
        lines = self.access_lines("/plans/1.0.0/none")
        self.assertEqual(len(lines), 1)
        self.assertIn("no plan matched (rules tried: gold:", lines[0]["detail"])
        self.assertNotIn("plan", lines[0])

    def test_a_rule_with_a_syntax_error_is_a_load_error_with_line_and_column(self):
        home = os.path.join(self.workdir, "bad")
        os.makedirs(os.path.join(home, "conf"), exist_ok=True)
        conf = harness.base_config(extra=plans_api(self.backend).replace(
            "&& request.path matches", "&& request.path = "))
        path = os.path.join(home, "conf", "micro-gw.conf")
        with open(path, "w") as f:
            f.write(conf)
        out = subprocess.run([harness.MGW_BINARY, "--validate", "--config", path], capture_output=True, text=True,
                             timeout=60, env=dict(os.environ, MGW_RUNTIME_HOME=home))
        self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
        text = out.stdout + out.stderr
        # The rule's own line and column (TOML drops the newline right after the opening quotes).
        self.assertIn("[[apis.api.plans]] sandbox selectionRule: line 2, column 19: '=' is not an operator", text)
        self.assertIn(f"{path}:", text)

    # --- key locations ---

    def test_bearer_and_cookie_keys_where_configured_stripped_before_the_backend(self):
        r = curl(self.gw.http("/where/1.0.0/b"), headers=[f"Authorization: Bearer {self.key}"])
        self.assertEqual(r.status, 200, r.body)
        self.assertNotIn("authorization", r.json()["headers"])
        r = curl(self.gw.http("/where/1.0.0/c"), headers=[f"Cookie: theme=dark; mgw_key={self.key}; lang=en"])
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["headers"].get("cookie"), "theme=dark; lang=en")
        self.assertNotIn(self.key, r.body)
        # The key header still works; a backend's own Authorization passes when the key came elsewhere.
        r = curl(self.gw.http("/where/1.0.0/h"), headers=[f"apikey: {self.key}", "Authorization: Basic Zm9vOmJhcg=="])
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["headers"].get("authorization"), "Basic Zm9vOmJhcg==")
        # Only the key cookie: no Cookie field at all reaches the backend.
        r = curl(self.gw.http("/where/1.0.0/c2"), headers=[f"Cookie: mgw_key={self.key}"])
        self.assertEqual(r.status, 200, r.body)
        self.assertNotIn("cookie", r.json()["headers"])
        # An OAuth2 token is no API key, even where bearer keys are taken.
        r = curl(self.gw.http("/where/1.0.0/t"), headers=[f"Authorization: Bearer {self.idp_token()}"])
        self.assertEqual(r.status, 401, r.body)
        self.assertEqual(r.fault_code(), 900901)

    def test_bearer_and_cookie_keys_refused_elsewhere(self):
        for header in (f"Authorization: Bearer {self.key}", f"Cookie: mgw_key={self.key}"):
            r = curl(self.gw.http("/elsewhere/1.0.0/x"), headers=[header])
            self.assertEqual(r.status, 401, r.body)
            self.assertEqual(r.fault_code(), 900902)
            self.assertIn("'apikey' header", r.json()["fault"]["description"])

    def test_bearer_jwt_of_the_oauth2_issuer_goes_the_oauth2_way(self):
        # An OAuth2 token with the resource's scope: accepted as OAuth2, stripped.
        r = curl(self.gw.http("/mixed/1.0.0/items"), headers=[f"Authorization: Bearer {self.idp_token()}"])
        self.assertEqual(r.status, 200, r.body)
        self.assertNotIn("authorization", r.json()["headers"])
        # Without the scope: refused by the OAuth2 check (an API key would have no scope to miss).
        r = curl(self.gw.http("/mixed/1.0.0/items"), headers=[f"Authorization: Bearer {self.idp_token('write')}"])
        self.assertEqual(r.status, 403, r.body)
        # Claiming the issuer with another key: the OAuth2 way, and its signature fails.
        forged = self.idp_token(key=rsa.generate_private_key(public_exponent=65537, key_size=2048))
        r = curl(self.gw.http("/mixed/1.0.0/items"), headers=[f"Authorization: Bearer {forged}"])
        self.assertEqual(r.status, 401, r.body)
        self.assertEqual(r.fault_code(), 900901)
        # An STS key on the same header is an API key.
        r = curl(self.gw.http("/mixed/1.0.0/items"), headers=[f"Authorization: Bearer {self.key}"])
        self.assertEqual(r.status, 200, r.body)
        self.assertNotIn("authorization", r.json()["headers"])


if __name__ == "__main__":
    unittest.main()
