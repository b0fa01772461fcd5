"""CORS at the gateway (SPEC section 15), against the real binary: preflights answered before any
key is looked at (allowed and refused origins, methods, headers, credentials, one-label wildcards),
the fields of actual answers (the gateway's own faults included), the backend's Access-Control-*
fields replaced, the three places a policy comes from (x-wso2-cors, [[apis.api]] cors, [cors]),
and a real browser (headless Chromium) calling an API from another origin."""
import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import unittest

import harness
from harness import ADMIN_BASIC, curl
from recording_backend import RecordingBackend, response

PAGE = """<!doctype html>
<html><head><title>cors</title></head><body><pre id="out">pending</pre>
<script>
fetch(%(url)s, {headers: {apikey: %(key)s}})
  .then(r => r.text().then(t => {
    document.getElementById("out").textContent = "RESULT " + r.status + " " + t;
  }))
  .catch(e => {
    console.error("FETCH FAILED " + e);
    document.getElementById("out").textContent = "FETCH FAILED " + e;
  });
</script></body></html>
"""


def backend_answer(req):
    # A backend that sets its own CORS fields: the gateway owns them when the API has CORS on.
    body = json.dumps({"target": req.target, "method": req.method}).encode()
    return response(200, headers=[("Content-Type", "application/json"),
                                  ("Access-Control-Allow-Origin", "*"),
                                  ("Access-Control-Allow-Methods", "DELETE"),
                                  ("X-Total-Count", "42")], body=body)


class PageServer:
    """A static page on its own origin (http://127.0.0.1:<port>), in a daemon thread."""

    def __init__(self, directory):
        class Quiet(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args):
                pass

        handler = functools.partial(Quiet, directory=directory)
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.port = self.httpd.server_address[1]
        self.origin = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class CorsTest(harness.GatewayTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = RecordingBackend(responder=backend_answer)
        cls.addClassCleanup(cls.backend.stop)
        # The page origins exist before the gateway starts: one is allowed, the other is not.
        cls.pages = tempfile.mkdtemp(prefix="mgw-cors-pages-")
        cls.addClassCleanup(shutil.rmtree, cls.pages, True)
        cls.allowed_page = PageServer(cls.pages)
        cls.addClassCleanup(cls.allowed_page.stop)
        cls.refused_page = PageServer(cls.pages)
        cls.addClassCleanup(cls.refused_page.stop)
        allowed = cls.allowed_page.origin
        url = cls.backend.url
        definition = os.path.join(cls.workdir, "defapi.yaml")
        with open(definition, "w") as f:
            f.write(f"""openapi: 3.0.0
info: {{title: DefAPI, version: 1.0.0}}
x-wso2-basePath: /def/1.0.0
x-wso2-production-endpoints: {{urls: ["{url}/def"]}}
x-wso2-cors:
  corsConfigurationEnabled: true
  accessControlAllowOrigins: ["https://def.example"]
  accessControlAllowHeaders: [apikey]
  accessControlAllowMethods: [GET]
paths:
  /items:
    get: {{security: [{{api_key: []}}]}}
components:
  securitySchemes:
    api_key: {{type: apiKey, name: apikey, in: header}}
""")
        extra = f"""
[apis]
definitions = ["{definition}"]

[cors]
accessControlAllowOrigins = ["https://global.example"]

[[apis.api]]
name = "CorsAPI"
version = "1.0.0"
context = "/cors"
production = "{url}/up"
[apis.api.cors]
accessControlAllowOrigins = ["{allowed}", "https://*.example.com"]
accessControlAllowMethods = ["GET", "POST"]
accessControlAllowHeaders = ["apikey", "Content-Type"]
accessControlExposeHeaders = ["X-Total-Count"]
accessControlMaxAge = 600

[[apis.api]]
name = "CredAPI"
version = "1.0.0"
context = "/cred"
production = "{url}/cred"
[apis.api.cors]
accessControlAllowOrigins = ["https://anywhere.test"]
accessControlAllowCredentials = true

[[apis.api]]
name = "GlobalAPI"
version = "1.0.0"
context = "/global"
production = "{url}/global"

[[apis.api]]
name = "PlainAPI"
version = "1.0.0"
context = "/plain"
production = "{url}/plain"
[apis.api.cors]
corsConfigurationEnabled = false
"""
        apis = [(n, "*") for n in ("CorsAPI", "CredAPI", "GlobalAPI", "PlainAPI", "DefAPI")]
        cls.gw = cls.start(harness.MicroGw(cls.workdir, harness.base_config(None, apis, extra)))
        r = curl(cls.gw.https("/apikey"), headers=[f"Authorization: {ADMIN_BASIC}"])
        assert r.status == 200, r.body
        cls.key = r.body.strip()

    def preflight(self, path, origin, method="GET", headers=None):
        h = [f"Origin: {origin}", f"Access-Control-Request-Method: {method}"]
        if headers:
            h.append(f"Access-Control-Request-Headers: {headers}")
        return curl(self.gw.http(path), method="OPTIONS", headers=h)

    def backend_saw_preflights(self):
        return [r for r in self.backend.requests() if r.header("access-control-request-method")]

    # --- preflights ---

    def test_allowed_preflight_is_answered_without_a_key(self):
        origin = self.allowed_page.origin
        r = self.preflight("/cors/menu", origin, "POST", "apikey, content-type")
        self.assertEqual(r.status, 204, r.body)
        self.assertEqual(r.headers.get("access-control-allow-origin"), origin)
        self.assertEqual(r.headers.get("access-control-allow-methods"), "GET, POST")
        self.assertEqual(r.headers.get("access-control-allow-headers"), "apikey, Content-Type")
        self.assertEqual(r.headers.get("access-control-max-age"), "600")
        self.assertIn("Origin", r.headers.get("vary", ""))
        self.assertNotIn("access-control-allow-credentials", r.headers)
        self.assertNotIn("www-authenticate", r.headers)
        self.assertEqual(self.backend_saw_preflights(), [])

    def test_refused_preflights_carry_no_cors_fields(self):
        allowed = self.allowed_page.origin
        for origin, method, headers, why in [
            (self.refused_page.origin, "GET", "apikey", "origin"),
            ("http://127.0.0.1:1", "GET", None, "origin"),
            (allowed, "DELETE", None, "method"),
            (allowed, "get", None, "method case"),
            (allowed, "GET", "apikey, X-Secret", "header"),
            ("https://a.b.example.com", "GET", None, "two labels"),
            ("https://example.com", "GET", None, "no label"),
            ("null", "GET", None, "opaque origin"),
        ]:
            with self.subTest(why=why):
                r = self.preflight("/cors/menu", origin, method, headers)
                self.assertEqual(r.status, 403, r.body)
                self.assertEqual(r.fault_code(), 900403)
                self.assertFalse([h for h in r.headers if h.startswith("access-control-")], r.headers)
        self.assertEqual(self.backend_saw_preflights(), [])

    def test_preflight_bytes_on_a_kept_alive_connection(self):
        # A 204 has no body and no Content-Length (RFC 9110 section 8.6); the next request on the
        # same connection is read and answered after it.
        origin = self.allowed_page.origin
        payload = (f"OPTIONS /cors/menu HTTP/1.1\r\nHost: gw\r\nOrigin: {origin}\r\n"
                   "Access-Control-Request-Method: GET\r\nAccess-Control-Request-Headers: apikey\r\n\r\n"
                   f"GET /cors/menu HTTP/1.1\r\nHost: gw\r\nOrigin: {origin}\r\nConnection: close\r\n\r\n"
                   ).encode()
        data = harness.raw_exchange(self.gw.http_port, payload)
        first, _, rest = data.partition(b"\r\n\r\n")
        self.assertTrue(first.startswith(b"HTTP/1.1 204 "), data[:300])
        self.assertNotIn(b"content-length", first.lower())
        self.assertIn(f"Access-Control-Allow-Origin: {origin}".encode(), first)
        second = harness.parse_http_response(rest)
        self.assertEqual(second.status, 401, rest[:300])
        self.assertEqual(second.headers.get("access-control-allow-origin"), origin)

    def test_wildcard_subdomain_matches_one_label(self):
        r = self.preflight("/cors/menu", "https://shop.example.com", "GET", "apikey")
        self.assertEqual(r.status, 204)
        self.assertEqual(r.headers.get("access-control-allow-origin"), "https://shop.example.com")
        self.assertEqual(self.preflight("/cors/menu", "https://a.shop.example.com").status, 403)

    def test_credentials_echo_the_origin_never_star(self):
        r = self.preflight("/cred/x", "https://anywhere.test", "PUT", "apikey")
        self.assertEqual(r.status, 204, r.body)
        self.assertEqual(r.headers.get("access-control-allow-origin"), "https://anywhere.test")
        self.assertEqual(r.headers.get("access-control-allow-credentials"), "true")
        a = curl(self.gw.http("/cred/x"), headers=[f"apikey: {self.key}", "Origin: https://anywhere.test"])
        self.assertEqual(a.status, 200, a.body)
        self.assertEqual(a.headers.get("access-control-allow-origin"), "https://anywhere.test")
        self.assertEqual(a.headers.get("access-control-allow-credentials"), "true")
        # with credentials the origins are listed ("*" is refused at load, issue 22 item 8)
        self.assertEqual(self.preflight("/cred/x", "https://elsewhere.test").status, 403)

    def test_policy_sources_definition_inline_and_global(self):
        # x-wso2-cors in the definition
        self.assertEqual(self.preflight("/def/1.0.0/items", "https://def.example", "GET", "apikey").status, 204)
        self.assertEqual(self.preflight("/def/1.0.0/items", "https://global.example").status, 403)
        # the global [cors] for an API without its own
        g = self.preflight("/global/x", "https://global.example", "GET", "apikey")
        self.assertEqual(g.status, 204, g.body)
        self.assertEqual(self.preflight("/global/x", "https://def.example").status, 403)
        # corsConfigurationEnabled = false: the global one is off, so a preflight is an ordinary
        # OPTIONS request, which needs a key like any other
        p = self.preflight("/plain/x", "https://global.example", "GET", "apikey")
        self.assertEqual(p.status, 401)
        self.assertNotIn("access-control-allow-origin", p.headers)

    def test_options_without_cors_fields_is_an_ordinary_request(self):
        r = curl(self.gw.http("/cors/menu"), method="OPTIONS", headers=[f"Origin: {self.allowed_page.origin}"])
        self.assertEqual(r.status, 401)  # no Access-Control-Request-Method: needs a key
        r = curl(self.gw.http("/cors/menu?plain-options"), method="OPTIONS", headers=[f"apikey: {self.key}"])
        self.assertEqual(r.status, 200, r.body)
        seen = [x.method for x in self.backend.requests() if "plain-options" in x.target]
        self.assertEqual(seen, ["OPTIONS"])

    # --- actual answers ---

    def test_actual_answer_fields_replace_the_backends(self):
        origin = self.allowed_page.origin
        r = curl(self.gw.http("/cors/menu"), headers=[f"apikey: {self.key}", f"Origin: {origin}"])
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.headers.get("access-control-allow-origin"), origin)  # not the backend's *
        self.assertEqual(r.headers.get("access-control-expose-headers"), "X-Total-Count")
        self.assertNotIn("access-control-allow-methods", r.headers)  # the backend's, removed
        self.assertEqual(r.headers.get("vary"), "Origin")
        self.assertEqual(r.headers.get("x-total-count"), "42")

        other = curl(self.gw.http("/cors/menu"), headers=[f"apikey: {self.key}", "Origin: https://evil.test"])
        self.assertEqual(other.status, 200)
        self.assertFalse([h for h in other.headers if h.startswith("access-control-")], other.headers)

        # CORS off for the API: the backend's fields pass as received
        plain = curl(self.gw.http("/plain/x"), headers=[f"apikey: {self.key}", f"Origin: {origin}"])
        self.assertEqual(plain.headers.get("access-control-allow-origin"), "*")
        self.assertEqual(plain.headers.get("access-control-allow-methods"), "DELETE")

    def test_gateway_faults_are_readable_by_the_allowed_origin(self):
        origin = self.allowed_page.origin
        r = curl(self.gw.http("/cors/menu"), headers=[f"Origin: {origin}"])
        self.assertEqual(r.status, 401)
        self.assertEqual(r.headers.get("access-control-allow-origin"), origin)
        self.assertEqual(r.headers.get("access-control-expose-headers"), "X-Total-Count")
        self.assertEqual(r.fault_code(), 900902)
        bad = curl(self.gw.http("/cors/menu"), headers=[f"Origin: {origin}", "apikey: not-a-key-at-all-x"])
        self.assertEqual(bad.status, 401)
        self.assertEqual(bad.headers.get("access-control-allow-origin"), origin)
        refused = curl(self.gw.http("/cors/menu"), headers=["Origin: https://evil.test"])
        self.assertEqual(refused.status, 401)
        self.assertNotIn("access-control-allow-origin", refused.headers)

    # --- a browser ---

    def chromium(self, page_origin, name):
        """Loads <page_origin>/<name> in headless Chromium; returns (the page's #out text, stderr)."""
        binary = shutil.which("chromium") or shutil.which("chromium-browser")
        self.assertIsNotNone(binary, "chromium is not installed (Makefile TEST_DEPS)")
        profile = tempfile.mkdtemp(prefix="mgw-chromium-")
        try:
            argv = [binary, "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run",
                    "--disable-extensions", "--disable-background-networking", "--disable-dev-shm-usage",
                    f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
                    "--virtual-time-budget=15000", "--dump-dom", f"{page_origin}/{name}"]
            out = subprocess.run(argv, capture_output=True, text=True, timeout=90)
        finally:
            shutil.rmtree(profile, ignore_errors=True)
        m = re.search(r'<pre id="out">(.*?)</pre>', out.stdout, re.S)
        self.assertIsNotNone(m, f"no page in chromium's output:\n{out.stdout[-2000:]}\n{out.stderr[-3000:]}")
        return m.group(1), out.stderr

    def write_page(self, name, path):
        with open(os.path.join(self.pages, name), "w") as f:
            f.write(PAGE % {"url": json.dumps(self.gw.http(path)), "key": json.dumps(self.key)})

    def test_browser_on_an_allowed_origin_calls_the_api(self):
        self.write_page("allowed.html", "/cors/menu?browser=allowed")
        text, err = self.chromium(self.allowed_page.origin, "allowed.html")
        self.assertTrue(text.startswith("RESULT 200 "), f"{text}\n{err[-3000:]}")
        self.assertIn("/up/menu?browser=allowed", text)  # the backend's answer, read by the page
        seen = [r for r in self.backend.requests() if "browser=allowed" in r.target]
        self.assertEqual([r.method for r in seen], ["GET"])  # the preflight stayed at the gateway
        self.assertEqual(seen[0].header("origin"), [self.allowed_page.origin.encode()])

    def test_browser_on_another_origin_gets_a_cors_error(self):
        self.write_page("refused.html", "/cors/menu?browser=refused")
        text, err = self.chromium(self.refused_page.origin, "refused.html")
        self.assertTrue(text.startswith("FETCH FAILED TypeError"), f"{text}\n{err[-3000:]}")
        self.assertIn("CORS policy", err)  # the console's "blocked by CORS policy"
        self.assertEqual([r for r in self.backend.requests() if "browser=refused" in r.target], [])


if __name__ == "__main__":
    unittest.main()
