"""Issue 22 item 5 against the real binary: a user on a 3-a-minute subscription tier gets 3 requests
a minute on an API whatever number of keys she holds (three STS keys and an opaque key: 3 of 12
pass, not 9 or 12), another user keeps her own quota, and the live opaque keys one user may hold
are capped ([storage] maxKeysPerUser: 409 with a description naming the key)."""
import base64
import json
import unittest

import harness
from harness import curl

TRIO_BASIC = "Basic " + base64.b64encode(b"trio:admin").decode()
DUO_BASIC = "Basic " + base64.b64encode(b"duo:admin").decode()


class SubscriptionQuotaTest(harness.GatewayTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = cls.start(harness.Backend(cls.workdir))
        users = "".join(f"""
[b7a.users.{name}]
password = "{harness.shipped_admin_hash()}"
tier = "SubThree"
""" for name in ("trio", "duo"))
        extra = users + f"""
[storage]
maxKeysPerUser = 2

[[throttling.policy]]
name = "SubThree"
level = "subscription"
count = 3
unitTime = 1
timeUnit = "min"

[[apis.api]]
name = "Quota"
version = "1.0.0"
context = "/quota/1.0.0"
production = "{cls.backend.url}/echo"
"""
        cls.gw = cls.start(harness.MicroGw(cls.workdir, harness.base_config(
            issuer_apis=[("Quota", "1.0.0")], extra=extra)))

    def sts_key(self, basic):
        r = curl(self.gw.https("/apikey"), headers=[f"Authorization: {basic}", "Accept: application/json"],
                 data=json.dumps({"allowedAPIs": [{"name": "Quota", "version": "1.0.0"}]}))
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["tier"], "SubThree")
        return r.json()["apiKey"]

    def opaque_key(self, basic, name):
        return curl(self.gw.https("/apikeys"), headers=[f"Authorization: {basic}", "Content-Type: application/json"],
                    data=json.dumps({"name": name, "api": {"name": "Quota", "version": "1.0.0"}}))

    def call(self, key):
        return curl(self.gw.http("/quota/1.0.0/x"), headers=[f"apikey: {key}"])

    def test_three_keys_of_one_user_share_one_quota(self):
        keys = [self.sts_key(TRIO_BASIC) for _ in range(3)]
        made = self.opaque_key(TRIO_BASIC, "fourth")
        self.assertEqual(made.status, 201, made.body)
        keys.append(made.json()["apiKey"])
        statuses = [self.call(keys[i % 4]).status for i in range(12)]
        self.assertEqual(statuses.count(200), 3, statuses)
        self.assertEqual(statuses[:3], [200] * 3, statuses)
        refused = self.call(keys[1])
        self.assertEqual(refused.status, 429, refused.body)
        self.assertEqual(refused.json()["fault"]["code"], 900804)
        self.assertEqual(refused.headers["ratelimit-policy"], '"SubThree";q=3;w=60')
        # Another user on the same tier has her own quota.
        other = self.sts_key(DUO_BASIC)
        self.assertEqual(self.call(other).status, 200)

    def test_live_opaque_keys_per_user_are_capped(self):
        first = self.opaque_key(DUO_BASIC, "one")
        self.assertEqual(first.status, 201, first.body)
        self.assertEqual(self.opaque_key(DUO_BASIC, "two").status, 201)
        over = self.opaque_key(DUO_BASIC, "three")
        self.assertEqual(over.status, 409, over.body)
        fault = over.json()["fault"]
        self.assertEqual(fault["code"], 900409)
        self.assertIn("you hold 2 live API keys", fault["description"])
        self.assertIn("[storage] maxKeysPerUser", fault["description"])
        # Revoking one frees a place.
        r = curl(self.gw.https("/apikeys/" + first.json()["id"]), method="DELETE",
                 headers=[f"Authorization: {DUO_BASIC}"])
        self.assertIn(r.status, (200, 204), r.body)
        self.assertEqual(self.opaque_key(DUO_BASIC, "three").status, 201)


if __name__ == "__main__":
    unittest.main()
