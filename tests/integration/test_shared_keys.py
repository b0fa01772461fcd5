"""Issue 26 against the real binary: subscriptions to a plan and the shared API key mode.

Gravitee's application API key type: an application chooses, when it is created or at its second
subscription, between one key per subscription (the default) and one shared key for all its
subscriptions; the choice never changes (409). A shared key works on every API its application is
subscribed to and only while subscribed (403/900908 elsewhere, and at once after an unsubscription;
on another node of the cluster within 1 s). A second plan of the same API is not served by the
shared key (it falls back to its own key). An API's publishers see a shared key that subscribes to
their API but may not renew or revoke it (403); its owner may; a per-subscription key is managed by
either. A subscription to plan gold takes the key through gold and not through the silver plan that
requires a subscription too.
"""
import hashlib
import json
import os
import time
import unittest

import harness
from harness import ADMIN_BASIC, curl
from test_lifecycle import basic

ALICE = basic("alice", "alice-password")  # owns the applications
BOB = basic("bob", "bob-password")  # publishes Alpha and TwoPlans
CAROL = basic("carol", "carol-password")  # nobody in particular

APIS = ("Alpha", "Beta", "Gamma", "Delta", "Tiered", "TwoPlans")


def shared_keys_config(backend, extra=""):
    users = ""
    for name in ("alice", "bob", "carol"):
        digest = hashlib.sha256(f"{name}-password".encode()).hexdigest()
        users += f'\n[b7a.users.{name}]\npassword = "@sha256:{digest}"\nroles = []\n'
    apis = ""
    for name in ("Alpha", "Beta", "Gamma", "Delta"):
        apis += f"""
[[apis.api]]
name = "{name}"
version = "1.0.0"
context = "/{name.lower()}/1.0.0"
production = "{backend.url}/echo"
subscriptionRequired = true
{'publishers = ["bob"]' if name == "Alpha" else ""}
"""
    apis += f"""
[[apis.api]]
name = "Tiered"
version = "1.0.0"
context = "/tiered/1.0.0"
production = "{backend.url}/echo"

  [[apis.api.plans]]
  name = "gold"
  subscriptionRequired = true
  selectionRule = "request.headers['x-tier'] == 'gold'"

  [[apis.api.plans]]
  name = "silver"
  subscriptionRequired = true

[[apis.api]]
name = "TwoPlans"
version = "1.0.0"
context = "/twoplans/1.0.0"
production = "{backend.url}/echo"
publishers = ["bob"]

  [[apis.api.plans]]
  name = "p1"
  subscriptionRequired = true
  selectionRule = "request.headers['x-plan'] == 'p1'"

  [[apis.api.plans]]
  name = "p2"
  subscriptionRequired = true
  selectionRule = "request.headers['x-plan'] == 'p2'"
"""
    return harness.base_config(None, [(name, "1.0.0") for name in APIS], users + apis + extra)


class SharedKeysBase(harness.GatewayTestCase):
    gw = None

    def mgmt(self, method, path, auth=ALICE, body=None, gw=None):
        data = json.dumps(body) if body is not None else ("" if method == "POST" else None)
        return curl((gw or self.gw).https(path), method=method,
                    headers=[f"Authorization: {auth}", "Content-Type: application/json"], data=data)

    def ok(self, r, status=200):
        self.assertEqual(r.status, status, r.body)
        return r.json() if r.body else None

    def assertFault(self, r, status, code, description=None):
        self.assertEqual(r.status, status, r.body)
        self.assertEqual(r.json()["fault"]["code"], code, r.body)
        if description:
            self.assertIn(description, r.json()["fault"]["description"])

    def application(self, name, auth=ALICE, **fields):
        return self.ok(self.mgmt("POST", "/applications", auth, {"name": name, **fields}), 201)

    def subscribe(self, app, api, auth=ALICE, expect=201, gw=None, **fields):
        r = self.mgmt("POST", f"/applications/{app['id']}/subscriptions", auth,
                      {"api": {"name": api, "version": "1.0.0"}, **fields}, gw)
        self.assertEqual(r.status, expect, r.body)
        return r

    def unsubscribe(self, app, api, auth=ALICE, gw=None, **fields):
        return self.ok(self.mgmt("DELETE", f"/applications/{app['id']}/subscriptions", auth,
                                 {"api": {"name": api, "version": "1.0.0"}, **fields}, gw), 204)

    def shared_key(self, app, auth=ALICE, expect=201):
        r = self.mgmt("POST", "/apikeys", auth, {"name": "shared", "application": app["id"], "shared": True})
        self.assertEqual(r.status, expect, r.body)
        return r.json()

    def own_key(self, app, api, auth=ALICE):
        return self.ok(self.mgmt("POST", "/apikeys", auth, {"name": "own", "application": app["id"],
                                                            "api": {"name": api, "version": "1.0.0"}}), 201)

    def call(self, api, key, headers=(), gw=None):
        return curl((gw or self.gw).http(f"/{api.lower()}/1.0.0/x"), headers=[f"apikey: {key}", *headers])


class SharedKeysTest(SharedKeysBase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = cls.start(harness.Backend(cls.workdir))
        cls.gw = cls.start(harness.MicroGw(cls.workdir, shared_keys_config(cls.backend)))

    def test_one_shared_key_on_three_subscribed_apis_and_not_elsewhere(self):
        app = self.application("three", keyMode="shared")
        self.assertEqual((app["keyMode"], app["keyModeChosen"]), ("shared", True))
        for api in ("Alpha", "Beta", "Gamma"):
            self.assertTrue(self.subscribe(app, api).json()["sharedKey"])
        key = self.shared_key(app)
        self.assertTrue(key["shared"])
        self.assertIsNone(key["api"])
        for api in ("Alpha", "Beta", "Gamma"):
            self.assertEqual(self.call(api, key["apiKey"]).status, 200, api)
        self.assertFault(self.call("Delta", key["apiKey"]), 403, 900908, "not subscribed to API Delta:1.0.0")
        # One shared key per application.
        self.assertFault(self.mgmt("POST", "/apikeys", ALICE, {"name": "again", "application": app["id"],
                                                               "shared": True}),
                         409, 900409, "already has a shared API key")

    def test_unsubscribing_stops_the_shared_key_at_once(self):
        app = self.application("unsub", keyMode="shared")
        self.subscribe(app, "Alpha")
        self.subscribe(app, "Beta")
        key = self.shared_key(app)["apiKey"]
        self.assertEqual(self.call("Beta", key).status, 200)
        self.unsubscribe(app, "Beta")
        self.assertFault(self.call("Beta", key), 403, 900908)
        self.assertEqual(self.call("Alpha", key).status, 200)
        # Subscribed again: served again.
        self.subscribe(app, "Beta")
        self.assertEqual(self.call("Beta", key).status, 200)

    def test_the_key_mode_never_changes(self):
        # Chosen at the second subscription.
        app = self.application("later")
        self.assertEqual((app["keyMode"], app["keyModeChosen"]), ("perSubscription", False))
        self.assertEqual(self.subscribe(app, "Alpha").json()["keyMode"], "perSubscription")
        self.assertEqual(self.subscribe(app, "Beta", keyMode="shared").json()["keyMode"], "shared")
        self.assertFault(self.subscribe(app, "Gamma", expect=409, keyMode="perSubscription"), 409, 900409,
                         "chosen for good")
        self.assertEqual(self.ok(self.mgmt("GET", f"/applications/{app['id']}"))["keyMode"], "shared")
        # The default, taken at the second subscription when none is asked for.
        plain = self.application("plain")
        self.subscribe(plain, "Alpha")
        self.subscribe(plain, "Beta")
        got = self.ok(self.mgmt("GET", f"/applications/{plain['id']}"))
        self.assertEqual((got["keyMode"], got["keyModeChosen"]), ("perSubscription", True))
        self.assertFault(self.subscribe(plain, "Gamma", expect=409, keyMode="shared"), 409, 900409)
        self.assertFault(self.mgmt("POST", "/apikeys", ALICE, {"name": "s", "application": plain["id"],
                                                               "shared": True}),
                         409, 900409, "needs keyMode \"shared\"")
        # Chosen at creation.
        fixed = self.application("fixed", keyMode="shared")
        self.assertFault(self.subscribe(fixed, "Alpha", expect=409, keyMode="perSubscription"), 409, 900409)
        # A wrong mode is a 400 naming the allowed ones.
        self.assertFault(self.mgmt("POST", "/applications", ALICE, {"name": "x", "keyMode": "SHARED"}),
                         400, 900400, "perSubscription")

    def test_publisher_sees_the_shared_key_but_cannot_renew_or_revoke_it(self):
        app = self.application("published", keyMode="shared")
        self.subscribe(app, "Alpha")  # bob publishes Alpha
        self.subscribe(app, "Beta")
        shared = self.shared_key(app)
        own = self.own_key(app, "Alpha")
        # Bob sees it: its id, last four characters and owner (nothing else).
        seen = self.ok(self.mgmt("GET", f"/apikeys/{shared['id']}", BOB))
        self.assertEqual((seen["id"], seen["lastFour"], seen["owner"], seen["shared"]),
                         (shared["id"], shared["apiKey"][-4:], "alice", True))
        self.assertNotIn("permittedIP", seen)
        self.assertNotIn("apiKey", seen)
        listed = self.ok(self.mgmt("GET", "/apikeys/published", BOB))["list"]
        ids = {k["id"]: k for k in listed}
        self.assertEqual(ids[shared["id"]]["access"], "view")
        self.assertEqual(ids[shared["id"]]["subscribes"], [{"api": {"name": "Alpha", "version": "1.0.0"},
                                                             "plan": None}])
        self.assertEqual(ids[own["id"]]["access"], "manage")
        # ... but may neither renew nor revoke it.
        self.assertFault(self.mgmt("POST", f"/apikeys/{shared['id']}/regenerate", BOB), 403, 900403,
                         "only the application's owner or an admin")
        self.assertFault(self.mgmt("DELETE", f"/apikeys/{shared['id']}", BOB), 403, 900403)
        self.assertFault(self.mgmt("POST", "/apikey/revoke", BOB, {"apiKey": shared["apiKey"]}), 403, 900403)
        self.assertEqual(self.call("Alpha", shared["apiKey"]).status, 200)
        # Carol publishes nothing: 403.
        self.assertFault(self.mgmt("GET", f"/apikeys/{shared['id']}", CAROL), 403, 900403)
        # The per-subscription key of the same application: bob manages it.
        renewed = self.ok(self.mgmt("POST", f"/apikeys/{own['id']}/regenerate", BOB))
        self.assertEqual(self.call("Alpha", renewed["apiKey"]).status, 200)
        self.assertEqual(self.ok(self.mgmt("DELETE", f"/apikeys/{own['id']}", BOB), 204), None)
        self.assertEqual(self.call("Alpha", renewed["apiKey"]).status, 401)
        # The owner renews and revokes the shared key.
        renewed = self.ok(self.mgmt("POST", f"/apikeys/{shared['id']}/regenerate", ALICE))
        self.assertEqual(self.call("Beta", renewed["apiKey"]).status, 200)
        self.assertEqual(self.call("Beta", shared["apiKey"]).status, 401)
        self.ok(self.mgmt("DELETE", f"/apikeys/{shared['id']}", ALICE), 204)
        self.assertFault(self.call("Beta", renewed["apiKey"]), 401, 900901)

    def test_a_second_plan_of_the_same_api_gets_its_own_key(self):
        app = self.application("twoplans", keyMode="shared")
        first = self.subscribe(app, "TwoPlans", plan="p1").json()
        self.assertEqual((first["plan"], first["sharedKey"]), ("p1", True))
        second = self.subscribe(app, "TwoPlans", plan="p2").json()
        self.assertEqual((second["plan"], second["sharedKey"]), ("p2", False))
        self.assertIn("uses its own key", second["description"])
        shared = self.shared_key(app)["apiKey"]
        own = self.own_key(app, "TwoPlans")["apiKey"]
        self.assertEqual(self.call("TwoPlans", shared, ["x-plan: p1"]).status, 200)
        self.assertFault(self.call("TwoPlans", shared, ["x-plan: p2"]), 403, 900908, "plan p2")
        self.assertEqual(self.call("TwoPlans", own, ["x-plan: p2"]).status, 200)
        # An unknown plan is named.
        self.assertFault(self.subscribe(app, "TwoPlans", expect=400, plan="p3"), 400, 900400,
                         "its plans: p1, p2")

    def test_a_gold_subscription_takes_the_key_through_gold_not_silver(self):
        app = self.application("gold")
        r = self.subscribe(app, "Tiered", plan="gold").json()
        self.assertEqual(r["plan"], "gold")
        key = self.own_key(app, "Tiered")["apiKey"]
        self.assertEqual(self.call("Tiered", key, ["x-tier: gold"]).status, 200)
        self.assertFault(self.call("Tiered", key), 403, 900908, "not subscribed to plan silver")
        # A shared key the same way.
        shared_app = self.application("gold-shared", keyMode="shared")
        self.subscribe(shared_app, "Tiered", plan="gold")
        shared = self.shared_key(shared_app)["apiKey"]
        self.assertEqual(self.call("Tiered", shared, ["x-tier: gold"]).status, 200)
        self.assertFault(self.call("Tiered", shared), 403, 900908)
        # Without a plan, a subscription is to the API's first plan (gold here).
        first = self.application("first")
        self.assertEqual(self.subscribe(first, "Tiered").json()["plan"], "gold")
        # And on an API without plans, to none.
        self.assertIsNone(self.subscribe(first, "Alpha").json()["plan"])


class SharedKeysClusterTest(SharedKeysBase):
    """Two nodes and a real redis-server, as test_cluster.py runs them: an unsubscription made on
    one node stops the shared key on the other within 1 s (through the change stream)."""

    @classmethod
    def setUpClass(cls):
        from test_cluster import REDIS_PASSWORD, Redis
        super().setUpClass()
        cls.redis_port = harness.unused_port()
        cls.redis = cls.start(Redis(os.path.join(cls.workdir, "redis"), cls.redis_port))
        cls.backend = cls.start(harness.Backend(cls.workdir))
        cluster = f"""
[cluster]
redis = "redis://127.0.0.1:{cls.redis_port}/0"
redisPassword = "{REDIS_PASSWORD}"
"""
        cls.nodes = []
        for name in ("a", "b"):
            workdir = os.path.join(cls.workdir, "node-" + name)
            os.makedirs(workdir, exist_ok=True)
            if cls.nodes:  # one gateway: the same opaque key hash secret and signing key
                harness.copy_node_secrets(cls.nodes[0], workdir)
            cls.nodes.append(cls.start(harness.MicroGw(workdir, shared_keys_config(cls.backend, cluster))))
        cls.gw = cls.nodes[0]

    def test_an_unsubscription_stops_the_shared_key_on_the_other_node_within_1s(self):
        a, b = self.nodes
        app = self.application("cluster", keyMode="shared")
        self.subscribe(app, "Alpha")
        self.subscribe(app, "Beta")
        key = self.shared_key(app)["apiKey"]
        # The key and the subscriptions reach node b through the change stream.
        deadline = time.monotonic() + 5
        while self.call("Beta", key, gw=b).status != 200 and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assertEqual(self.call("Beta", key, gw=b).status, 200)
        self.assertEqual(self.ok(self.mgmt("GET", f"/applications/{app['id']}", gw=b))["keyMode"], "shared")
        self.unsubscribe(app, "Beta", gw=a)
        start = time.monotonic()
        self.assertFault(self.call("Beta", key, gw=a), 403, 900908)
        while self.call("Beta", key, gw=b).status == 200 and time.monotonic() - start < 3:
            time.sleep(0.01)
        elapsed = time.monotonic() - start
        self.assertFault(self.call("Beta", key, gw=b), 403, 900908)
        self.assertLess(elapsed, 1.0, f"node b still took the key {elapsed:.3f} s after the unsubscription")
        print(f"\nshared key refused on the second node {elapsed * 1000:.0f} ms after the unsubscription")
        self.assertEqual(self.call("Alpha", key, gw=b).status, 200)
        # The mode travelled with the second subscription's change: it is fixed on node b too.
        self.assertFault(self.subscribe(app, "Gamma", expect=409, gw=b, keyMode="perSubscription"), 409, 900409)


if __name__ == "__main__":
    unittest.main()
