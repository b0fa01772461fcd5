"""Issue 22 item 6 against the real binary: with GET /admin secured and GET /{page} open, the
spellings a servlet container or a case-insensitive backend reads as /admin (/admin;jsessionid=x,
/Admin, /admin., //admin) never reach the backend without a key; each is a precise 400."""
import json
import os
import unittest

import harness
from harness import ADMIN_BASIC, curl
from recording_backend import RecordingBackend

SPELLINGS = ["/admin;jsessionid=x", "/Admin", "/admin.", "//admin"]


def definition(url, allow=None):
    doc = {
        "openapi": "3.0.1",
        "info": {"title": "SiteAPI", "version": "1.0.0"},
        "x-wso2-basePath": "/site",
        "x-wso2-production-endpoints": {"urls": [url + "/site"]},
        "components": {"securitySchemes": {"apikey": {"type": "apiKey", "name": "apikey",
                                                      "in": "header"}}},
        "security": [{"apikey": []}],
        "paths": {
            "/admin": {"get": {"responses": {"200": {"description": "secured"}}}},
            "/{page}": {"get": {"security": [],
                                "parameters": [{"name": "page", "in": "path", "required": True,
                                                "schema": {"type": "string"}}],
                                "responses": {"200": {"description": "open"}}}},
            "/files/*": {"get": {"security": [], "responses": {"200": {"description": "open"}}}},
            "/files/private": {"get": {"responses": {"200": {"description": "secured"}}}},
        },
    }
    if allow is not None:
        doc["x-mgw-allow-path-parameters"] = allow
    return json.dumps(doc)


class PathSpellingTest(harness.GatewayTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = RecordingBackend()
        cls.addClassCleanup(cls.backend.stop)
        defs = os.path.join(cls.workdir, "defs")
        os.makedirs(defs)
        with open(os.path.join(defs, "site.json"), "w") as f:
            f.write(definition(cls.backend.url))
        extra = f'\n[apis]\ndefinitions = ["{defs}"]\n'
        cls.gw = cls.start(harness.MicroGw(cls.workdir, harness.base_config(
            None, [("SiteAPI", "*")], extra)))

    def forwarded_since(self, before):
        """The requests the backend received since `before` (a list of them): compared by identity,
        since requests() lists them by connection, and a pooled connection gets new ones too."""
        seen = {id(r) for r in before}
        return [r for r in self.backend.requests() if id(r) not in seen]

    def get(self, path, key=None, gw=None):
        before = self.backend.requests()
        raw = (f"GET /site{path} HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n"
               + (f"apikey: {key}\r\n" if key else "") + "\r\n").encode()
        reply = harness.raw_request((gw or self.gw).http_port, raw)
        return reply, self.forwarded_since(before)

    def test_the_issue_spellings_never_reach_the_backend_without_a_key(self):
        for path in SPELLINGS:
            reply, forwarded = self.get(path)
            self.assertEqual(forwarded, [], f"{path} reached the backend: {reply.body}")
            self.assertIn(reply.status, (400, 404), f"{path}: {reply.status} {reply.body}")
        reply, _ = self.get("/admin;jsessionid=x")
        self.assertEqual(reply.status, 400, reply.body)
        fault = reply.json()["fault"]
        self.assertEqual(fault["code"], 900400)
        self.assertIn("'admin;jsessionid=x' holds a ';' parameter", fault["description"])
        for path in ("/Admin", "/admin.", "/files/Private", "/files//private"):
            reply, _ = self.get(path)
            self.assertEqual(reply.status, 400, f"{path}: {reply.body}")
            self.assertIn("another spelling of the secured resource GET /site/",
                          reply.json()["fault"]["description"])

    def test_the_secured_spelling_and_open_pages_work(self):
        reply, forwarded = self.get("/admin")
        self.assertEqual(reply.status, 401, reply.body)
        self.assertEqual(forwarded, [])
        key = curl(self.gw.https("/apikey"), headers=[f"Authorization: {ADMIN_BASIC}"]).body.strip()
        reply, forwarded = self.get("/admin", key)
        self.assertEqual(reply.status, 200, reply.body)
        self.assertEqual([r.target for r in forwarded], ["/site/admin"])
        reply, forwarded = self.get("/about")
        self.assertEqual(reply.status, 200, reply.body)
        self.assertEqual([r.target for r in forwarded], ["/site/about"])
        reply, forwarded = self.get("/files/public.txt")
        self.assertEqual(reply.status, 200, reply.body)

    def test_an_api_may_allow_path_parameters(self):
        home = os.path.join(self.workdir, "allow")
        defs = os.path.join(home, "defs")
        os.makedirs(defs)
        with open(os.path.join(defs, "site.json"), "w") as f:
            f.write(definition(self.backend.url, allow=True))
        gw = self.start(harness.MicroGw(home, harness.base_config(
            None, [("SiteAPI", "*")], f'\n[apis]\ndefinitions = ["{defs}"]\n')))
        reply, forwarded = self.get("/about;v=2", gw=gw)
        self.assertEqual(reply.status, 200, reply.body)
        self.assertEqual([r.target for r in forwarded], ["/site/about;v=2"])
        # Allowed parameters never open the secured literal.
        reply, forwarded = self.get("/admin;jsessionid=x", gw=gw)
        self.assertEqual(reply.status, 400, reply.body)
        self.assertEqual(forwarded, [])


if __name__ == "__main__":
    unittest.main()
