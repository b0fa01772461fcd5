"""Throttling against the real micro-gw and the real sample backend (SPEC section 13): each level
with small policies (3 per minute, 5 per second), the 429 answer and its headers, 64 concurrent
clients, WSO2 API Manager keys' subscriptionTier and application.tier, STS keys' tiers, opaque keys'
tiers and micro-gw applications' tiers (POST /apikeys, POST /applications), stopOnQuotaReach = false
in the metrics and the log."""
import base64
import http.client
import json
import os
import re
import subprocess
import threading
import time

import jwt  # Debian's python3-jwt: signs WSO2 API Manager-style keys
from cryptography.hazmat.primitives import serialization

import harness
from harness import ADMIN_BASIC, curl

APIM_ISSUER = "https://apim.example.com:443/oauth2/token"
SILVER_BASIC = "Basic " + base64.b64encode(b"silver:admin").decode()

POLICIES_YAML = """# WSO2 API Microgateway 3.x's format, unchanged
resourcePolicies:
  - ThreePerMin:
      count: 3
      unitTime: 1
      timeUnit: min
  - FivePerSec:
      count: 5
      unitTime: 1
      timeUnit: sec
applicationPolicies:
  - AppThree:
      count: 3
      unitTime: 1
      timeUnit: min
subscriptionPolicies:
  - SubThree:
      count: 3
      unitTime: 1
      timeUnit: min
  - SubFive:
      count: 5
      unitTime: 1
      timeUnit: sec
"""

DEFINITION = """openapi: 3.0.0
info:
  title: ResourceAPI
  version: 1.0.0
x-wso2-basePath: /res/1.0.0
x-wso2-production-endpoints:
  urls: ["BACKEND/echo"]
security: []
paths:
  /three:
    get:
      x-wso2-throttling-tier: ThreePerMin
  /five:
    get:
      x-wso2-throttling-tier: FivePerSec
  /free:
    get: {}
  /missing:
    get:
      x-wso2-throttling-tier: NonExistingPolicy
"""


class Client:
    """A keep-alive HTTP/1.1 client: requests follow each other within a millisecond or two, so a
    5-per-second burst is decided before the counter refills (one request per 200 ms)."""

    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)

    def get(self, path, key=None):
        headers = {"apikey": key} if key else {}
        self.conn.request("GET", path, headers=headers)
        r = self.conn.getresponse()
        body = r.read().decode("utf-8", "replace")
        return harness.Reply(r.status, {k.lower(): v for k, v in r.getheaders()}, body)

    def close(self):
        self.conn.close()


class ThrottlingTest(harness.GatewayTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = cls.start(harness.Backend(cls.workdir))
        with open(os.path.join(cls.workdir, "policies.yaml"), "w") as f:  # the runtime home's
            f.write(POLICIES_YAML)
        os.makedirs(os.path.join(cls.workdir, "apis"), exist_ok=True)
        with open(os.path.join(cls.workdir, "apis", "resource.yaml"), "w") as f:
            f.write(DEFINITION.replace("BACKEND", cls.backend.url))
        cls.apim_dir = os.path.join(cls.workdir, "apim")
        subprocess.run([harness.MGW_BINARY, "keystore", "init", "--alg", "RS256", "--out", cls.apim_dir],
                       check=True, capture_output=True)
        cls.apim_pem = os.path.join(cls.apim_dir, "micro-gw-signing.pem")
        apis = ""
        for name, ctx, tier, open_ in (("ApiThree", "/apithree", "ThreePerMin", True),
                                       ("ApiFive", "/apifive", "FivePerSec", True),
                                       ("Crowd", "/crowd", "TenPerMin", True),
                                       ("Soft", "/soft", "SoftTwo", True),
                                       ("Keyed", "/keyed", "", False),
                                       ("Pizza", "/pizza", "", False)):
            apis += f"""
[[apis.api]]
name = "{name}"
version = "1.0.0"
context = "{ctx}/1.0.0"
production = "{cls.backend.url}/echo"
{'security = []' if open_ else ''}
{f'throttlingTier = "{tier}"' if tier else ''}
"""
        extra = f"""
[b7a.users.silver]
password = "{harness.shipped_admin_hash()}"
tier = "SubFive"

[apis]
definitions = ["apis"]

[[apikey.tokenConfigs]]
issuer = "https://localhost:9095/apikey"
certificateAlias = "ballerina"

[[apikey.tokenConfigs]]
issuer = "{APIM_ISSUER}"
certificateAlias = "gateway_certificate_alias"
certificateFile = "{cls.apim_pem}"

[[throttling.policy]]
name = "TenPerMin"
level = "api"
count = 10
unitTime = 1
timeUnit = "min"

[[throttling.policy]]
name = "SoftTwo"
level = "api"
count = 2
stopOnQuotaReach = false
{apis}"""
        cls.config = harness.base_config(issuer_apis=[("Keyed", "1.0.0"), ("Pizza", "1.0.0")], extra=extra)
        cls.gw = cls.start(harness.MicroGw(cls.workdir, cls.config))

    def setUp(self):
        self.client = Client(self.gw.http_port)

    def tearDown(self):
        self.client.close()

    # --- helpers ---

    def assertThrottled(self, r, code, policy, count, window):
        self.assertEqual(r.status, 429, r.body)
        self.assertEqual(r.json()["fault"]["code"], code, r.body)
        retry = int(r.headers["retry-after"])
        self.assertGreaterEqual(retry, 1)
        self.assertLessEqual(retry, window)
        self.assertEqual(r.headers["ratelimit-policy"], f'"{policy}";q={count};w={window}')
        self.assertEqual(r.headers["ratelimit"], f'"{policy}";r=0;t={retry}')
        return retry

    def burst(self, path, n, key=None):
        """n requests as fast as one connection goes; returns the statuses."""
        return [self.client.get(path, key).status for _ in range(n)]

    def sts_key(self, basic=ADMIN_BASIC, body=None, api="Keyed"):
        body = dict(body or {})
        body.setdefault("allowedAPIs", [{"name": api, "version": "1.0.0"}])
        return curl(self.gw.https("/apikey"), headers=[f"Authorization: {basic}", "Accept: application/json"],
                    data=json.dumps(body))

    def apim_key(self, jti, subscription_tier, app_tier, app_id):
        with open(self.apim_pem, "rb") as f:
            private = serialization.load_pem_private_key(f.read(), password=None)
        claims = {"sub": "kanchana", "iss": APIM_ISSUER, "iat": int(time.time()), "jti": jti,
                  "keytype": "PRODUCTION",
                  "application": {"owner": "kanchana", "tier": app_tier, "name": "App" + str(app_id),
                                  "id": app_id, "uuid": f"uuid-{app_id}"},
                  "tierInfo": {subscription_tier: {"stopOnQuotaReach": True}},
                  "subscribedAPIs": [{"subscriberTenantDomain": "carbon.super", "name": "Pizza",
                                      "context": "/pizza/1.0.0", "publisher": "admin", "version": "1.0.0",
                                      "subscriptionTier": subscription_tier}]}
        return jwt.encode(claims, private, algorithm="RS256", headers={"kid": "gateway_certificate_alias"})

    # --- API level ---

    def test_api_level_three_per_minute(self):
        self.assertEqual(self.burst("/apithree/1.0.0/x", 3), [200, 200, 200])
        r = self.client.get("/apithree/1.0.0/y")
        retry = self.assertThrottled(r, 900800, "ThreePerMin", 3, 60)
        self.assertGreaterEqual(retry, 19)  # one request per 20 s comes back (GCRA)
        self.assertIn("ThreePerMin", r.json()["fault"]["description"])

    def test_api_level_five_per_second_then_allowed_after_the_window(self):
        self.assertEqual(self.burst("/apifive/1.0.0/x", 5), [200] * 5)
        r = self.client.get("/apifive/1.0.0/x")
        retry = self.assertThrottled(r, 900800, "FivePerSec", 5, 1)
        time.sleep(retry + 0.05)
        # A whole window later, the whole quota is back: exactly 5 again.
        self.assertEqual(self.burst("/apifive/1.0.0/x", 6), [200] * 5 + [429])

    def test_64_concurrent_clients_exactly_n_allowed(self):
        statuses = []
        lock = threading.Lock()
        start = threading.Barrier(64)

        def one():
            c = Client(self.gw.http_port)
            try:
                start.wait()
                s = c.get("/crowd/1.0.0/x").status
            finally:
                c.close()
            with lock:
                statuses.append(s)

        threads = [threading.Thread(target=one) for _ in range(64)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(len(statuses), 64)
        self.assertEqual(statuses.count(200), 10, statuses)
        self.assertEqual(statuses.count(429), 54, statuses)
        # The refusals reach the metrics (SPEC section 12), by level.
        metrics = curl(f"http://127.0.0.1:{self.gw.metrics_port}/metrics").body
        api = re.search(r'^mgw_throttled_requests_total\{level="api"\} (\d+)', metrics, re.M)
        self.assertIsNotNone(api, metrics[:2000])
        self.assertGreaterEqual(int(api.group(1)), 54)

    def test_stop_on_quota_reach_false_counts_without_refusing(self):
        # SoftTwo: 2 per minute, stopOnQuotaReach = false. 12 requests: all let through, 10 over.
        self.assertEqual(self.burst("/soft/1.0.0/x", 12), [200] * 12)
        metrics = curl(f"http://127.0.0.1:{self.gw.metrics_port}/metrics").body
        over = re.search(r'^mgw_throttle_over_quota_total\{level="api"\} (\d+)', metrics, re.M)
        self.assertIsNotNone(over, metrics[:3000])
        self.assertEqual(int(over.group(1)), 10)  # only this test uses a soft policy
        self.assertRegex(metrics, r'(?m)^mgw_throttle_over_quota_total\{level="subscription"\} 0$')
        deadline = time.monotonic() + 5
        while "over a throttling quota" not in self.gw.output() and time.monotonic() < deadline:
            time.sleep(0.05)
        # Logged once per counter and window (60 s here), not once per request.
        lines = [json.loads(l) for l in self.gw.output().splitlines()
                 if l.startswith("{") and "over a throttling quota" in l]
        self.assertEqual(len(lines), 1, lines)
        self.assertEqual(lines[0]["level"], "api")
        self.assertEqual(lines[0]["policy"], "SoftTwo")
        self.assertEqual(lines[0]["counter"], "Soft:1.0.0")
        self.assertEqual(lines[0]["windowSeconds"], 60)

    # --- resource level ---

    def test_resource_level(self):
        self.assertEqual(self.burst("/res/1.0.0/three", 3), [200] * 3)
        self.assertThrottled(self.client.get("/res/1.0.0/three"), 900802, "ThreePerMin", 3, 60)
        # Another resource of the same API counts on its own; an untiered one not at all.
        self.assertEqual(self.burst("/res/1.0.0/free", 8), [200] * 8)
        self.assertEqual(self.burst("/res/1.0.0/five", 5), [200] * 5)
        retry = self.assertThrottled(self.client.get("/res/1.0.0/five"), 900802, "FivePerSec", 5, 1)
        time.sleep(retry + 0.05)
        self.assertEqual(self.client.get("/res/1.0.0/five").status, 200)

    def test_unknown_tier_in_a_definition_answers_500_naming_it(self):
        r = self.client.get("/res/1.0.0/missing")
        self.assertEqual(r.status, 500, r.body)
        self.assertEqual(r.json()["fault"]["code"], 900809)
        self.assertIn("NonExistingPolicy", r.json()["fault"]["description"])
        # The start logged it, and --validate lists it (and still says OK: it is a warning).
        self.assertIn("NonExistingPolicy", self.gw.output())
        out = subprocess.run([harness.MGW_BINARY, "--validate", "--config", self.gw.config_path],
                             capture_output=True, text=True, env={**os.environ, "MGW_RUNTIME_HOME": self.workdir})
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn("NonExistingPolicy", out.stderr)

    # --- subscription and application levels: WSO2 API Manager keys ---

    def test_api_manager_subscription_tier(self):
        key = self.apim_key("apim-sub-1", "SubThree", "Unlimited", 101)
        self.assertEqual(self.burst("/pizza/1.0.0/x", 3, key), [200] * 3)
        self.assertThrottled(self.client.get("/pizza/1.0.0/x", key), 900804, "SubThree", 3, 60)
        # Another key (another subscription) is not affected.
        other = self.apim_key("apim-sub-2", "SubThree", "Unlimited", 102)
        self.assertEqual(self.client.get("/pizza/1.0.0/x", other).status, 200)

    def test_api_manager_application_tier_is_shared_by_the_applications_keys(self):
        first = self.apim_key("apim-app-1", "Unlimited", "AppThree", 201)
        second = self.apim_key("apim-app-2", "Unlimited", "AppThree", 201)
        self.assertEqual(self.burst("/pizza/1.0.0/x", 2, first), [200, 200])
        self.assertEqual(self.client.get("/pizza/1.0.0/x", second).status, 200)
        self.assertThrottled(self.client.get("/pizza/1.0.0/x", second), 900803, "AppThree", 3, 60)
        self.assertThrottled(self.client.get("/pizza/1.0.0/x", first), 900803, "AppThree", 3, 60)
        # Another application is not affected.
        self.assertEqual(self.client.get("/pizza/1.0.0/x", self.apim_key("apim-app-3", "Unlimited",
                                                                          "AppThree", 202)).status, 200)

    # --- subscription level: STS keys ---

    def test_sts_key_carries_the_users_tier(self):
        # On Pizza: silver's quota for Keyed is spent by the other tests (one per user and API).
        r = self.sts_key(SILVER_BASIC, api="Pizza")
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["tier"], "SubFive")
        key = r.json()["apiKey"]
        out = subprocess.run([harness.MGW_BINARY, "token", "inspect", key], capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertRegex(out.stdout, r'"tier":\s*"SubFive"')
        self.assertEqual(self.burst("/pizza/1.0.0/x", 5, key), [200] * 5)
        retry = self.assertThrottled(self.client.get("/pizza/1.0.0/x", key), 900804, "SubFive", 5, 1)
        time.sleep(retry + 0.05)
        self.assertEqual(self.client.get("/pizza/1.0.0/x", key).status, 200)

    def test_sts_key_with_a_lower_requested_tier(self):
        r = self.sts_key(SILVER_BASIC, {"tier": "SubThree"})
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["tier"], "SubThree")
        key = r.json()["apiKey"]
        self.assertEqual(self.burst("/keyed/1.0.0/x", 3, key), [200] * 3)
        self.assertThrottled(self.client.get("/keyed/1.0.0/x", key), 900804, "SubThree", 3, 60)

    def test_sts_higher_or_unknown_requested_tier_is_refused(self):
        for tier in ("Unlimited", "Gold", "NoSuchTier"):
            r = self.sts_key(SILVER_BASIC, {"tier": tier})
            self.assertEqual(r.status, 400, tier + ": " + r.body)
            self.assertEqual(r.json()["fault"]["code"], 900400)
        self.assertEqual(self.sts_key(SILVER_BASIC, {"tier": 5}).status, 400)
        # admin's tier is Unlimited (the default): any tier is lower.
        r = self.sts_key(ADMIN_BASIC, {"tier": "Gold"})
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["tier"], "Gold")

    # --- opaque keys' and micro-gw applications' tiers (POST /apikeys, POST /applications) ---

    def manage(self, path, body=None, basic=ADMIN_BASIC, method=None):
        return curl(self.gw.https(path), method=method,
                    headers=[f"Authorization: {basic}", "Content-Type: application/json"],
                    data=None if body is None else json.dumps(body))

    def opaque_key(self, name, basic=ADMIN_BASIC, **fields):
        r = self.manage("/apikeys", {"name": name, "api": {"name": "Keyed", "version": "1.0.0"}, **fields},
                        basic)
        self.assertEqual(r.status, 201, r.body)
        return r.json()

    def test_opaque_key_with_a_small_tier(self):
        created = self.opaque_key("three", tier="SubThree")
        self.assertEqual(created["tier"], "SubThree")
        key = created["apiKey"]
        self.assertEqual(self.burst("/keyed/1.0.0/x", 3, key), [200] * 3)
        retry = self.assertThrottled(self.client.get("/keyed/1.0.0/x", key), 900804, "SubThree", 3, 60)
        self.assertGreaterEqual(retry, 19)
        # Counted per subscription (the user and the API, issue 22 item 5), not per key: another key
        # of the same user draws on the same quota.
        other = self.opaque_key("three-bis", tier="SubThree")["apiKey"]
        self.assertThrottled(self.client.get("/keyed/1.0.0/x", other), 900804, "SubThree", 3, 60)
        # The tier shows wherever the key is described (never the value).
        got = self.manage("/apikeys/" + created["id"])
        self.assertEqual(got.status, 200, got.body)
        self.assertEqual(got.json()["tier"], "SubThree")
        self.assertNotIn(key, got.body)
        listed = {k["id"]: k for k in self.manage("/apikeys").json()["list"]}
        self.assertEqual(listed[created["id"]]["tier"], "SubThree")

    def test_opaque_key_tier_follows_the_sts_rule(self):
        # No tier: the owner's [b7a.users.<name>] tier, as for an STS key.
        default = self.opaque_key("silver-default", SILVER_BASIC)
        self.assertEqual(default["tier"], "SubFive")
        self.assertEqual(self.burst("/keyed/1.0.0/x", 6, default["apiKey"]), [200] * 5 + [429])
        self.assertEqual(self.opaque_key("silver-lower", SILVER_BASIC, tier="SubThree")["tier"], "SubThree")
        # Higher than the user's, or unknown, or not a string: 400 with a precise description.
        for tier, words in (("Gold", "higher than user 'silver'"), ("Unlimited", "higher than user 'silver'"),
                            ("NoSuchTier", "is not a subscription policy"), ("AppThree", "is not a subscription policy")):
            r = self.manage("/apikeys", {"name": "bad-" + tier, "api": {"name": "Keyed", "version": "1.0.0"},
                                         "tier": tier}, SILVER_BASIC)
            self.assertEqual(r.status, 400, tier + ": " + r.body)
            self.assertEqual(r.json()["fault"]["code"], 900400)
            self.assertIn(words, r.json()["fault"]["description"])
            self.assertIn(tier, r.json()["fault"]["description"])
        r = self.manage("/apikeys", {"name": "bad-type", "api": {"name": "Keyed", "version": "1.0.0"}, "tier": 3})
        self.assertEqual(r.status, 400, r.body)
        self.assertIn("tier must be a string", r.json()["fault"]["description"])
        # Unlimited is admin's own tier: no limit at all.
        unlimited = self.opaque_key("admin-default")
        self.assertEqual(unlimited["tier"], "Unlimited")
        self.assertEqual(self.burst("/keyed/1.0.0/x", 12, unlimited["apiKey"]), [200] * 12)

    def test_application_tier_is_shared_by_the_applications_keys(self):
        r = self.manage("/applications", {"name": "three-app", "tier": "AppThree"})
        self.assertEqual(r.status, 201, r.body)
        app = r.json()
        self.assertEqual(app["tier"], "AppThree")
        first = self.opaque_key("app-first", application=app["id"])["apiKey"]
        second = self.opaque_key("app-second", application=app["id"])["apiKey"]
        self.assertEqual(self.burst("/keyed/1.0.0/x", 2, first), [200, 200])
        self.assertEqual(self.client.get("/keyed/1.0.0/x", second).status, 200)
        self.assertThrottled(self.client.get("/keyed/1.0.0/x", second), 900803, "AppThree", 3, 60)
        self.assertThrottled(self.client.get("/keyed/1.0.0/x", first), 900803, "AppThree", 3, 60)
        # A key associated later shares the same counter; a key of no application is not affected.
        third = self.opaque_key("app-third")
        self.assertEqual(self.client.get("/keyed/1.0.0/x", third["apiKey"]).status, 200)
        r = self.manage(f"/apikeys/{third['id']}/associate", {"application": app["id"]})
        self.assertEqual(r.status, 200, r.body)
        self.assertThrottled(self.client.get("/keyed/1.0.0/x", third["apiKey"]), 900803, "AppThree", 3, 60)
        # Shown in the application's JSON.
        self.assertEqual(self.manage("/applications/" + app["id"]).json()["tier"], "AppThree")
        listed = {a["id"]: a for a in self.manage("/applications").json()["list"]}
        self.assertEqual(listed[app["id"]]["tier"], "AppThree")
        # Deleting the application drops its tier: the keys stay valid and are no longer counted.
        self.assertEqual(self.manage("/applications/" + app["id"], method="DELETE").status, 204)
        self.assertEqual(self.client.get("/keyed/1.0.0/x", first).status, 200)

    def test_application_tier_validation(self):
        for tier, words in (("NoSuchTier", "is not an application-level throttling policy"),
                            ("SubThree", "is not an application-level throttling policy"), ("", "1 to 64")):
            r = self.manage("/applications", {"name": "bad-" + tier, "tier": tier})
            self.assertEqual(r.status, 400, tier + ": " + r.body)
            self.assertEqual(r.json()["fault"]["code"], 900400)
            self.assertIn(words, r.json()["fault"]["description"])
        # The description lists the application policies there are.
        r = self.manage("/applications", {"name": "x", "tier": "Nope"})
        self.assertIn("AppThree", r.json()["fault"]["description"])
        self.assertIn("50PerMin", r.json()["fault"]["description"])
        # No tier: Unlimited (any user may choose any application tier: it only adds a limit).
        r = self.manage("/applications", {"name": "plain-app"}, SILVER_BASIC)
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(r.json()["tier"], "Unlimited")
        r = self.manage("/applications", {"name": "silver-app", "tier": "50PerMin"}, SILVER_BASIC)
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(r.json()["tier"], "50PerMin")

    def test_unthrottled_admin_key_is_never_refused(self):
        key = self.sts_key().json()["apiKey"]
        self.assertEqual(self.burst("/keyed/1.0.0/x", 20, key), [200] * 20)


if __name__ == "__main__":
    import unittest
    unittest.main()
