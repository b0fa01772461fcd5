"""Key lifecycle against the real micro-gw and the real sample backend (SPEC section 8): revocation by
apiKey, jti and sub + issuedBefore; API-bound opaque keys (environment, restrictions, regenerate,
custom values); applications and subscriptions; durability across a SIGKILL; no key value at rest."""
import base64
import glob
import hashlib
import json
import os
import signal
import time
import urllib.parse

import harness
from harness import ADMIN_BASIC, curl
from test_gateway import write_definitions


def basic(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


ALICE = basic("alice", "alice-password")
BOB = basic("bob", "bob-password")
FORBIDDEN_CHARACTERS = "^#%@\\/;=?|~, "


def lifecycle_config(workdir, backend):
    definitions = write_definitions(workdir, backend)
    users = ""
    for name, password in (("alice", "alice-password"), ("bob", "bob-password")):
        digest = hashlib.sha256(password.encode()).hexdigest()
        users += f'\n[b7a.users.{name}]\npassword = "@sha256:{digest}"\nroles = []\n'
    extra = users + f"""
[server]
timestampSkew = 0

[apis]
definitions = ["{definitions}"]

[[apis.api]]
name = "NoSandboxAPI"
version = "1.0.0"
context = "/nosandbox/1.0.0"
production = "{backend.url}/echo"

[[apis.api]]
name = "SubAPI"
version = "1.0.0"
context = "/sub/1.0.0"
production = "{backend.url}/echo"
subscriptionRequired = true
"""
    apis = [("PizzaShackAPI", "1.0.0"), ("EchoAPI", "*"), ("NoSandboxAPI", "1.0.0"), ("SubAPI", "1.0.0"),
            ("Swagger Petstore New", "1.0.0")]
    return harness.base_config(backend, apis, extra)


class LifecycleBase(harness.GatewayTestCase):
    def mgmt(self, method, path, auth=ADMIN_BASIC, body=None):
        # An empty POST still sends Content-Length: 0: the HTTP library (cpp-httplib 0.11) reads a
        # request body without a length until the connection closes.
        data = json.dumps(body) if body is not None else ("" if method == "POST" else None)
        return curl(self.gw.https(path), method=method, headers=[f"Authorization: {auth}",
                                                                 "Content-Type: application/json"], data=data)

    def issue(self, auth=ADMIN_BASIC, body=None):
        r = curl(self.gw.https("/apikey"), headers=[f"Authorization: {auth}", "Accept: application/json"],
                 data=json.dumps(body) if body is not None else None)
        self.assertEqual(r.status, 200, r.body)
        return r.json()

    def create_key(self, api=("PizzaShackAPI", "1.0.0"), auth=ADMIN_BASIC, expect=201, **fields):
        body = {"api": {"name": api[0], "version": api[1]}, "name": fields.pop("name", "test key")}
        body.update(fields)
        r = self.mgmt("POST", "/apikeys", auth, body)
        self.assertEqual(r.status, expect, r.body)
        return r.json()

    def call(self, path, key, headers=(), **kw):
        return curl(self.gw.https(path), headers=[f"apikey: {key}", *headers], **kw)

    def assertFault(self, r, status, code, description=None):
        self.assertEqual(r.status, status, r.body)
        self.assertEqual(r.json()["fault"]["code"], code, r.body)
        if description:
            self.assertIn(description, r.json()["fault"]["description"])
        self.assertEqual(r.headers.get("cache-control", "no-store") if status != 401 else "no-store", "no-store")

    def revoke(self, body, auth=ADMIN_BASIC):
        return self.mgmt("POST", "/apikey/revoke", auth, body)


class LifecycleTest(LifecycleBase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = cls.start(harness.Backend(cls.workdir))
        cls.gw = cls.start(harness.MicroGw(cls.workdir, lifecycle_config(cls.workdir, cls.backend)))

    # --- revocation of signed keys ---

    def test_revoke_by_api_key_own_key(self):
        key = self.issue(ALICE)["apiKey"]
        self.assertEqual(self.call("/pizzashack/1.0.0/menu", key).status, 200)
        r = self.revoke({"apiKey": key}, ALICE)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.headers.get("cache-control"), "no-store")
        self.assertEqual(r.json()["revoked"]["type"], "jti")
        self.assertNotIn(key, r.body)
        self.assertFault(self.call("/pizzashack/1.0.0/menu", key), 401, 900901, "revoked")
        self.assertIn("www-authenticate", self.call("/pizzashack/1.0.0/menu", key).headers)

    def test_revoke_by_jti_is_for_admins(self):
        issued = self.issue()
        self.assertEqual(self.call("/pizzashack/1.0.0/menu", issued["apiKey"]).status, 200)
        self.assertFault(self.revoke({"jti": issued["jti"]}, ALICE), 403, 900403, "only an admin")
        self.assertEqual(self.call("/pizzashack/1.0.0/menu", issued["apiKey"]).status, 200)
        r = self.revoke({"jti": issued["jti"]})
        self.assertEqual(r.status, 200, r.body)
        self.assertFault(self.call("/pizzashack/1.0.0/menu", issued["apiKey"]), 401, 900901, "revoked")

    def test_revoke_by_subject_issued_before(self):
        first = self.issue(BOB)["apiKey"]
        second = self.issue(BOB, {"allowedAPIs": [{"name": "EchoAPI", "version": "1.0.0"}]})["apiKey"]
        alice = self.issue(ALICE)["apiKey"]
        r = self.revoke({"sub": "bob", "issuedBefore": int(time.time())}, BOB)
        self.assertEqual(r.status, 200, r.body)
        self.assertFault(self.call("/pizzashack/1.0.0/menu", first), 401, 900901, "revoked")
        self.assertFault(self.call("/echoapi/1.0.0/x", second), 401, 900901, "revoked")
        self.assertEqual(self.call("/pizzashack/1.0.0/menu", alice).status, 200)
        time.sleep(1.1)  # iat has one-second resolution; the watermark covers its own second
        fresh = self.issue(BOB)["apiKey"]
        self.assertEqual(self.call("/pizzashack/1.0.0/menu", fresh).status, 200)

    def test_revoke_subject_refuses_a_future_watermark(self):
        r = self.revoke({"sub": "bob", "issuedBefore": int(time.time()) + 3600}, BOB)
        self.assertFault(r, 400, 900400, "future")

    def test_non_admin_cannot_revoke_someone_elses_key(self):
        admin_key = self.issue()["apiKey"]
        self.assertFault(self.revoke({"apiKey": admin_key}, ALICE), 403, 900403)
        self.assertFault(self.revoke({"sub": "admin", "issuedBefore": int(time.time())}, ALICE), 403, 900403)
        opaque = self.create_key()
        self.assertFault(self.revoke({"apiKey": opaque["apiKey"]}, ALICE), 403, 900403)
        self.assertFault(self.mgmt("DELETE", f"/apikeys/{opaque['id']}", ALICE), 403, 900403)
        self.assertEqual(self.call("/pizzashack/1.0.0/menu", admin_key).status, 200)
        self.assertEqual(self.call("/pizzashack/1.0.0/menu", opaque["apiKey"]).status, 200)
        # An admin may revoke anyone's key.
        bob_key = self.issue(BOB)["apiKey"]
        self.assertEqual(self.revoke({"apiKey": bob_key}).status, 200)
        self.assertFault(self.call("/pizzashack/1.0.0/menu", bob_key), 401, 900901)

    def test_revoke_refuses_keys_that_do_not_verify(self):
        key = self.issue()["apiKey"]
        head, payload, sig = key.split(".")
        tampered = f"{head}.{payload}.{sig[:-4]}AAAA"
        self.assertFault(self.revoke({"apiKey": tampered}), 400, 900400, "does not verify")
        self.assertFault(self.revoke({"apiKey": "unknown-opaque-value"}), 400, 900400, "known opaque key")
        self.assertFault(self.revoke({"apiKey": key, "jti": "x"}), 400, 900400, "exactly one")
        self.assertFault(self.revoke({"nope": 1}), 400, 900400, "unknown field")
        r = curl(self.gw.https("/apikey/revoke"), method="POST", data="{not json")
        self.assertFault(r, 401, 900902)

    def test_revoke_of_an_expired_key_answers_200_and_stores_nothing(self):
        key = self.issue(ALICE, {"validityTime": 1})["apiKey"]
        time.sleep(2.2)
        r = self.revoke({"apiKey": key}, ALICE)
        self.assertEqual(r.status, 200, r.body)
        self.assertIsNone(r.json()["revoked"])
        self.assertTrue(r.json()["expired"])

    def test_management_needs_https_and_credentials(self):
        self.assertFault(curl(self.gw.https("/apikeys")), 401, 900902)
        r = curl(self.gw.https("/apikeys"), headers=["Authorization: " + basic("alice", "wrong")])
        self.assertFault(r, 401, 900901)
        self.assertEqual(r.headers.get("www-authenticate"), 'Basic realm="micro-gw"')
        r = curl(self.gw.http("/apikeys"), headers=[f"Authorization: {ADMIN_BASIC}"])
        self.assertEqual(r.status, 404, r.body)
        r = curl(self.gw.http("/apikey/revoke"), method="POST", headers=[f"Authorization: {ADMIN_BASIC}"], data="{}")
        self.assertEqual(r.status, 404, r.body)

    # --- opaque keys at the gateway ---

    def test_opaque_key_calls_its_api_only(self):
        created = self.create_key(name="pizza")
        key = created["apiKey"]
        self.assertEqual(len(key), 54)  # mgw_<43 base62>_<6 base62> (issue 25)
        self.assertEqual(created["lastFour"], key[-4:])
        self.assertEqual(created["api"], {"name": "PizzaShackAPI", "version": "1.0.0"})
        r = self.call("/pizzashack/1.0.0/menu", key)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()[0]["name"], "BBQ Chicken Bacon")
        r = curl(self.gw.https("/pizzashack/1.0.0/menu?apikey=" + urllib.parse.quote(key, safe="")))
        self.assertEqual(r.status, 200, r.body)
        r = curl(self.gw.https("/petstore/v1/pet/findByStatus?status=available"), headers=[f"api_key: {key}"])
        self.assertFault(r, 403, 900908, "PizzaShackAPI:1.0.0")
        self.assertFault(self.call("/echoapi/1.0.0/x", key), 403, 900908)
        self.assertFault(self.call("/pizzashack/1.0.0/menu", key[:-1] + ("A" if key[-1] != "A" else "B")),
                         401, 900901)

    def test_opaque_key_environments(self):
        prod = self.create_key(("EchoAPI", "1.0.0"), keyType="PRODUCTION")["apiKey"]
        sandbox = self.create_key(("EchoAPI", "1.0.0"), keyType="SANDBOX")["apiKey"]
        r = self.call("/echoapi/1.0.0/where", prod)
        self.assertEqual(r.status, 200, r.body)
        self.assertNotEqual(r.headers.get("x-environment"), "sandbox")
        r = self.call("/echoapi/1.0.0/where", sandbox)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.headers.get("x-environment"), "sandbox")
        seen = r.json()
        self.assertNotIn("apikey", seen["headers"])
        self.assertNotIn(sandbox, json.dumps(seen))
        nosandbox = self.create_key(("NoSandboxAPI", "1.0.0"), keyType="SANDBOX")["apiKey"]
        self.assertFault(self.call("/nosandbox/1.0.0/x", nosandbox), 403, 900908, "sandbox")
        self.assertFault(self.mgmt("POST", "/apikeys", body={"api": {"name": "EchoAPI", "version": "1.0.0"},
                                                              "name": "x", "keyType": "TEST"}), 400, 900400)

    def test_opaque_key_permitted_ip_and_referer(self):
        far = self.create_key(permittedIP="10.9.9.9")["apiKey"]
        self.assertFault(self.call("/pizzashack/1.0.0/menu", far), 403, 900908)
        near = self.create_key(permittedIP="127.0.0.1, ::1")["apiKey"]
        self.assertEqual(self.call("/pizzashack/1.0.0/menu", near).status, 200)
        web = self.create_key(permittedReferer="*.example.com/*")["apiKey"]
        self.assertFault(self.call("/pizzashack/1.0.0/menu", web), 403, 900908, "Referer")
        r = self.call("/pizzashack/1.0.0/menu", web, headers=["Referer: https://shop.example.com/cart"])
        self.assertEqual(r.status, 200, r.body)
        self.create_key(permittedIP="10.9.9.300", expect=400)

    def test_opaque_key_expiry(self):
        created = self.create_key(validityPeriod=1)
        self.assertIsNotNone(created["expires"])
        self.assertEqual(self.call("/pizzashack/1.0.0/menu", created["apiKey"]).status, 200)
        time.sleep(2.2)
        self.assertFault(self.call("/pizzashack/1.0.0/menu", created["apiKey"]), 401, 900901, "expired")
        self.assertIsNone(self.create_key()["expires"])
        self.create_key(validityPeriod=0, expect=400)
        self.create_key(validityPeriod="abc", expect=400)

    def test_regenerate(self):
        app = self.mgmt("POST", "/applications", ALICE, {"name": "regen-app"}).json()
        created = self.create_key(auth=ALICE, application=app["id"])
        old = created["apiKey"]
        self.assertEqual(self.call("/pizzashack/1.0.0/menu", old).status, 200)
        r = self.mgmt("POST", f"/apikeys/{created['id']}/regenerate", ALICE)
        self.assertEqual(r.status, 200, r.body)
        new = r.json()["apiKey"]
        self.assertEqual(r.json()["id"], created["id"])
        self.assertNotEqual(new, old)
        self.assertEqual(r.json()["application"], app["id"])  # association kept
        self.assertFault(self.call("/pizzashack/1.0.0/menu", old), 401, 900901)
        self.assertEqual(self.call("/pizzashack/1.0.0/menu", new).status, 200)
        self.assertFault(self.mgmt("POST", f"/apikeys/{created['id']}/regenerate", BOB), 403, 900403)
        self.assertFault(self.mgmt("POST", "/apikeys/00000000-0000-4000-8000-000000000000/regenerate"),
                         404, 900404)

    def test_delete_revokes(self):
        created = self.create_key(auth=BOB)
        self.assertEqual(self.call("/pizzashack/1.0.0/menu", created["apiKey"]).status, 200)
        r = self.mgmt("DELETE", f"/apikeys/{created['id']}", BOB)
        self.assertEqual(r.status, 204, r.body)
        self.assertFault(self.call("/pizzashack/1.0.0/menu", created["apiKey"]), 401, 900901, "revoked")
        self.assertTrue(self.mgmt("GET", f"/apikeys/{created['id']}", BOB).json()["revoked"])
        self.assertFault(self.mgmt("POST", f"/apikeys/{created['id']}/regenerate", BOB), 409, 900409)

    def test_revoke_opaque_by_value(self):
        created = self.create_key(auth=ALICE)
        r = self.revoke({"apiKey": created["apiKey"]}, ALICE)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["revoked"], {"type": "opaque", "id": created["id"]})
        self.assertFault(self.call("/pizzashack/1.0.0/menu", created["apiKey"]), 401, 900901, "revoked")

    def test_listing_never_shows_a_key(self):
        values = [self.create_key(auth=ALICE, name=f"list {i}")["apiKey"] for i in range(3)]
        values.append(self.create_key(auth=ALICE, value="Custom-Listed-Key-0001")["apiKey"])
        listing = self.mgmt("GET", "/apikeys", ALICE)
        self.assertEqual(listing.status, 200, listing.body)
        self.assertEqual(listing.headers.get("cache-control"), "no-store")
        ids = [k["id"] for k in listing.json()["list"]]
        self.assertTrue(all(k["owner"] == "alice" for k in listing.json()["list"]))
        everything = listing.body + "".join(self.mgmt("GET", f"/apikeys/{i}", ALICE).body for i in ids)
        everything += self.mgmt("GET", "/apikeys").body
        for v in values:
            self.assertNotIn(v, everything)
            self.assertNotIn(v[:-4], everything)
            self.assertIn(f'"lastFour":"{v[-4:]}"', everything)
        for field in ("id", "name", "api", "keyType", "lastFour", "created", "expires", "permittedIP",
                      "permittedReferer", "application"):
            self.assertIn(field, listing.json()["list"][0])
        self.assertNotIn("apiKey", listing.json()["list"][0])
        # Owner checks: bob sees none of alice's keys; the admin sees all.
        self.assertFalse(set(ids) & {k["id"] for k in self.mgmt("GET", "/apikeys", BOB).json()["list"]})
        self.assertTrue(set(ids) <= {k["id"] for k in self.mgmt("GET", "/apikeys").json()["list"]})
        self.assertFault(self.mgmt("GET", f"/apikeys/{ids[0]}", BOB), 403, 900403)
        self.assertEqual(self.mgmt("GET", f"/apikeys/{ids[0]}").status, 200)
        self.assertFault(self.mgmt("GET", "/apikeys/no-such-id"), 404, 900404)

    def test_database_holds_no_key_value(self):
        values = [self.create_key(name=f"db {i}")["apiKey"] for i in range(3)]
        values.append(self.create_key(value="Db-Custom-Value-42")["apiKey"])
        regenerated = self.create_key(name="db regen")
        r = self.mgmt("POST", f"/apikeys/{regenerated['id']}/regenerate")
        values += [regenerated["apiKey"], r.json()["apiKey"]]
        files = glob.glob(os.path.join(self.workdir, "runtime", "data", "micro-gw.db*"))
        self.assertTrue(any(f.endswith("micro-gw.db") for f in files), files)
        data = b""
        for path in files:
            with open(path, "rb") as f:
                data += f.read()
        self.assertGreater(len(data), 0)
        for v in values:
            for candidate in (v.encode(), v.encode("utf-16-le"), base64.b64encode(v.encode())):
                self.assertNotIn(candidate, data, f"a key value is stored in {files}")
        self.assertEqual(os.stat(os.path.join(self.workdir, "runtime", "data", "micro-gw.db")).st_mode & 0o077, 0)

    def test_custom_key_values(self):
        for c in FORBIDDEN_CHARACTERS:
            r = self.mgmt("POST", "/apikeys", body={"api": {"name": "PizzaShackAPI", "version": "1.0.0"},
                                                     "name": "custom", "value": f"abcd{c}efgh"})
            self.assertFault(r, 400, 900400)
            self.assertNotIn(f"abcd{c}efgh", r.body)
        self.create_key(value="a" * 7, expect=400)
        self.create_key(value="b" * 65, expect=400)
        short = self.create_key(value="Abc-1234")["apiKey"]
        self.assertEqual(short, "Abc-1234")
        self.assertEqual(self.call("/pizzashack/1.0.0/menu", short).status, 200)
        longest = "L" * 60 + "!$()"
        self.assertEqual(self.create_key(value=longest)["apiKey"], longest)
        self.assertEqual(self.call("/pizzashack/1.0.0/menu", longest).status, 200)
        r = self.mgmt("POST", "/apikeys", body={"api": {"name": "PizzaShackAPI", "version": "1.0.0"},
                                                 "name": "dup", "value": "Abc-1234"})
        self.assertFault(r, 409, 900409)
        # Taken by another user: the answer any refused value gets (issue 10 item 7: 409 would tell
        # alice that someone holds this key). A value is never reused.
        r = self.mgmt("POST", "/apikeys", auth=ALICE,
                      body={"api": {"name": "PizzaShackAPI", "version": "1.0.0"}, "name": "x", "value": "Abc-1234"})
        self.assertFault(r, 400, 900400)
        self.assertNotIn("exists", r.body)

    def test_create_checks_the_api(self):
        self.create_key(("NoSuchAPI", "1.0.0"), expect=404)
        self.create_key(("PizzaShackAPI", "9.9.9"), expect=404)
        self.create_key(("PizzaShackAPI", "1.0.0"), name="", expect=400)
        r = self.mgmt("POST", "/apikeys", body={"name": "x"})
        self.assertFault(r, 400, 900400, "api is required")
        r = self.mgmt("POST", "/apikeys", body={"api": {"name": "PizzaShackAPI", "version": "1.0.0"}, "name": "x",
                                                 "colour": "red"})
        self.assertFault(r, 400, 900400, "unknown field")

    def test_subscription_required_api(self):
        created = self.create_key(("SubAPI", "1.0.0"), auth=ALICE)
        key = created["apiKey"]
        self.assertFault(self.call("/sub/1.0.0/x", key), 403, 900908, "subscription")
        app = self.mgmt("POST", "/applications", ALICE, {"name": "sub-app"})
        self.assertEqual(app.status, 201, app.body)
        app_id = app.json()["id"]
        r = self.mgmt("POST", f"/apikeys/{created['id']}/associate", ALICE, {"application": app_id})
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["application"], app_id)
        self.assertFault(self.call("/sub/1.0.0/x", key), 403, 900908, "not subscribed")
        r = self.mgmt("POST", f"/applications/{app_id}/subscriptions", ALICE,
                      {"api": {"name": "SubAPI", "version": "1.0.0"}})
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(self.call("/sub/1.0.0/x", key).status, 200)
        self.assertFault(self.mgmt("POST", f"/applications/{app_id}/subscriptions", ALICE,
                                   {"api": {"name": "SubAPI", "version": "1.0.0"}}), 409, 900409)
        self.assertEqual(len(self.mgmt("GET", f"/applications/{app_id}", ALICE).json()["subscriptions"]), 1)
        # Dissociate, then associate again; unsubscribe ends it.
        self.assertEqual(self.mgmt("DELETE", f"/apikeys/{created['id']}/associate", ALICE).status, 204)
        self.assertFault(self.call("/sub/1.0.0/x", key), 403, 900908)
        self.mgmt("POST", f"/apikeys/{created['id']}/associate", ALICE, {"application": app_id})
        self.assertEqual(self.call("/sub/1.0.0/x", key).status, 200)
        r = self.mgmt("DELETE", f"/applications/{app_id}/subscriptions", ALICE,
                      {"api": {"name": "SubAPI", "version": "1.0.0"}})
        self.assertEqual(r.status, 204, r.body)
        self.assertFault(self.call("/sub/1.0.0/x", key), 403, 900908)
        self.assertFault(self.mgmt("DELETE", f"/applications/{app_id}/subscriptions", ALICE,
                                   {"api": {"name": "SubAPI", "version": "1.0.0"}}), 404, 900404)
        # A subscriptionless API takes the key without any of this.
        plain = self.create_key(("PizzaShackAPI", "1.0.0"), auth=ALICE)["apiKey"]
        self.assertEqual(self.call("/pizzashack/1.0.0/menu", plain).status, 200)

    def test_applications_are_owned(self):
        r = self.mgmt("POST", "/applications", BOB, {"name": "bobs"})
        self.assertEqual(r.status, 201, r.body)
        app_id = r.json()["id"]
        self.assertEqual(r.json()["owner"], "bob")
        self.assertFault(self.mgmt("POST", "/applications", BOB, {"name": "bobs"}), 409, 900409)
        self.assertFault(self.mgmt("GET", f"/applications/{app_id}", ALICE), 403, 900403)
        self.assertFault(self.mgmt("DELETE", f"/applications/{app_id}", ALICE), 403, 900403)
        self.assertFault(self.mgmt("POST", f"/applications/{app_id}/subscriptions", ALICE,
                                   {"api": {"name": "SubAPI", "version": "1.0.0"}}), 403, 900403)
        alice_key = self.create_key(auth=ALICE)
        self.assertFault(self.mgmt("POST", f"/apikeys/{alice_key['id']}/associate", ALICE, {"application": app_id}),
                         403, 900403)
        self.assertNotIn(app_id, self.mgmt("GET", "/applications", ALICE).body)
        self.assertIn(app_id, self.mgmt("GET", "/applications").body)
        self.assertFault(self.mgmt("GET", "/applications/00000000-0000-4000-8000-000000000000"), 404, 900404)
        # Deleting an application dissociates its keys.
        bob_key = self.create_key(("SubAPI", "1.0.0"), auth=BOB, application=app_id)
        self.mgmt("POST", f"/applications/{app_id}/subscriptions", BOB, {"api": {"name": "SubAPI", "version": "1.0.0"}})
        self.assertEqual(self.call("/sub/1.0.0/x", bob_key["apiKey"]).status, 200)
        self.assertEqual(self.mgmt("DELETE", f"/applications/{app_id}", BOB).status, 204)
        self.assertFault(self.call("/sub/1.0.0/x", bob_key["apiKey"]), 403, 900908)
        self.assertIsNone(self.mgmt("GET", f"/apikeys/{bob_key['id']}", BOB).json()["application"])
        self.assertFault(self.mgmt("GET", f"/applications/{app_id}", BOB), 404, 900404)

    def test_user_may_only_bind_apis_they_may_use(self):
        # alice has no [b7a.users.alice] apis list: every [[apikey.issuer.api]] entry; Petstore is one.
        self.create_key(("Swagger Petstore New", "1.0.0"), auth=ALICE)
        # PizzaShackAPI:1.0.0 is deployed but EchoAPI "*" covers any version; an undeclared API is refused.
        r = self.mgmt("POST", "/apikeys", ALICE, {"api": {"name": "PizzaShackAPI", "version": "1.0.0"},
                                                  "name": "ok"})
        self.assertEqual(r.status, 201, r.body)

    def test_access_log_names_opaque_keys_by_id(self):
        created = self.create_key(name="logged")
        self.call("/pizzashack/1.0.0/menu", created["apiKey"])
        time.sleep(0.2)
        log = self.gw.output()
        lines = [json.loads(l) for l in log.splitlines() if l.startswith("{") and '"access"' in l]
        self.assertTrue(any(l.get("key") == "opaque:" + created["id"] and l["status"] == 200 for l in lines))
        self.assertNotIn(created["apiKey"], log)


class RestrictedUserTest(LifecycleBase):
    """A user with a narrower [b7a.users.<name>] apis list may bind keys only to those APIs."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = cls.start(harness.Backend(cls.workdir))
        text = lifecycle_config(cls.workdir, cls.backend).replace(
            '[b7a.users.alice]\n', '[b7a.users.alice]\napis = ["PizzaShackAPI:1.0.0"]\n')
        cls.gw = cls.start(harness.MicroGw(cls.workdir, text))

    def test_apis_outside_the_users_list_are_forbidden(self):
        self.create_key(("PizzaShackAPI", "1.0.0"), auth=ALICE)
        r = self.mgmt("POST", "/apikeys", ALICE, {"api": {"name": "EchoAPI", "version": "1.0.0"}, "name": "x"})
        self.assertFault(r, 403, 900403, "may not use API EchoAPI:1.0.0")
        self.create_key(("EchoAPI", "1.0.0"))  # the admin may use any deployed API


class StoreStartupTest(harness.GatewayTestCase):
    def test_a_store_that_cannot_open_stops_the_start(self):
        bad = os.path.join(self.workdir, "not-a-db")
        with open(bad, "wb") as f:
            f.write(b"garbage" * 1000)
        gw = harness.MicroGw(self.workdir, harness.base_config() + f'\n[storage]\npath = "{bad}"\n', wait=False)
        self.assertEqual(gw.proc.wait(30), 1)
        out = gw.output()
        gw.stop()
        self.assertIn("[storage] path: " + bad, out)
        self.assertIn("not a readable micro-gw database", out)


class RestartTest(LifecycleBase):
    """Revocations and keys are durable: a SIGKILL and a new process on the same store keep them."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = cls.start(harness.Backend(cls.workdir))
        cls.config_text = lifecycle_config(cls.workdir, cls.backend)
        cls.gw = cls.start(harness.MicroGw(cls.workdir, cls.config_text))

    def test_revocations_and_keys_survive_sigkill(self):
        by_key = self.issue(ALICE)["apiKey"]
        by_jti = self.issue()
        by_sub = self.issue(BOB)["apiKey"]
        opaque_revoked = self.create_key(auth=ALICE)
        opaque_live = self.create_key(auth=ALICE, permittedIP="127.0.0.1")
        regenerated = self.create_key(auth=ALICE)
        app = self.mgmt("POST", "/applications", ALICE, {"name": "durable"}).json()
        sub_key = self.create_key(("SubAPI", "1.0.0"), auth=ALICE, application=app["id"])
        self.mgmt("POST", f"/applications/{app['id']}/subscriptions", ALICE,
                  {"api": {"name": "SubAPI", "version": "1.0.0"}})
        new_value = self.mgmt("POST", f"/apikeys/{regenerated['id']}/regenerate", ALICE).json()["apiKey"]
        live_signed = self.issue()["apiKey"]
        self.assertEqual(self.revoke({"apiKey": by_key}, ALICE).status, 200)
        self.assertEqual(self.revoke({"jti": by_jti["jti"]}).status, 200)
        self.assertEqual(self.revoke({"sub": "bob", "issuedBefore": int(time.time())}, BOB).status, 200)
        self.assertEqual(self.mgmt("DELETE", f"/apikeys/{opaque_revoked['id']}", ALICE).status, 204)

        self.assertEqual(self.gw.stop(signal.SIGKILL), -signal.SIGKILL)
        type(self).gw = self.start(harness.MicroGw(self.workdir, self.config_text))

        for key, path in ((by_key, "/pizzashack/1.0.0/menu"), (by_jti["apiKey"], "/pizzashack/1.0.0/menu"),
                          (by_sub, "/pizzashack/1.0.0/menu"), (opaque_revoked["apiKey"], "/pizzashack/1.0.0/menu"),
                          (regenerated["apiKey"], "/pizzashack/1.0.0/menu")):
            self.assertFault(self.call(path, key), 401, 900901)
        self.assertFault(self.call("/pizzashack/1.0.0/menu", by_key), 401, 900901, "revoked")
        self.assertEqual(self.call("/pizzashack/1.0.0/menu", opaque_live["apiKey"]).status, 200)
        self.assertEqual(self.call("/pizzashack/1.0.0/menu", new_value).status, 200)
        self.assertEqual(self.call("/pizzashack/1.0.0/menu", live_signed).status, 200)
        self.assertEqual(self.call("/sub/1.0.0/x", sub_key["apiKey"]).status, 200)
        self.assertIn("embedded store loaded", self.gw.output())


if __name__ == "__main__":
    import unittest
    unittest.main()
