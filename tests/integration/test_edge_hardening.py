"""Issue 22 item 8, the smaller items, through the real micro-gw on loopback with raw sockets and a
recording backend: what the backend is told about the client (X-Forwarded-For, Forwarded,
X-Real-IP, X-Forwarded-Host from an absolute-form target), a chunk-size line with whitespace and
no extension, Strict-Transport-Security on the TLS listener, CSRF on /apikey and the key
management API, and AND within one OpenAPI security requirement object.
"""
import os
import socket
import ssl
import uuid

import harness
import wire
from harness import curl
from recording_backend import RecordingBackend, default_responder


def marker():
    return uuid.uuid4().hex[:16]


def wire_tls_get(port, target):
    """One GET over TLS on a raw socket; the bytes of the answer (read to the close)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with context.wrap_socket(raw) as s:
            s.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
            out = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    return out
                out += chunk


OPEN_API = """
[[apis.api]]
name = "RecAPI"
version = "1.0.0"
context = "/rec"
production = "{url}/up"
security = []
"""


class ForwardedHeadersTest(harness.GatewayTestCase):
    """Two gateways before one recording backend: one with no trusted proxy and the default
    hstsMaxAge, one trusting 127.0.0.1 (the test client's address) with hstsMaxAge = 0."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.canned = {}  # marker -> the bytes the backend answers a target ending in it
        cls.backend = RecordingBackend(responder=cls.respond)
        cls.addClassCleanup(cls.backend.stop)
        extra = OPEN_API.format(url=cls.backend.url)
        plain = harness.base_config(None, [], extra)
        cls.gw = cls.start(harness.MicroGw(cls.workdir + "/untrusting", plain))
        trusting = harness.with_listener_keys(plain, trustedProxies=["127.0.0.1"], hstsMaxAge=0)
        cls.trusting = cls.start(harness.MicroGw(cls.workdir + "/trusting", trusting))

    @classmethod
    def respond(cls, req):
        return cls.canned.get(req.target.rsplit("/", 1)[-1]) or default_responder(req)

    def forwarded(self, port, lines, target=None, host=b"gw.test"):
        """Sends one GET with the given extra header lines; returns what the backend received."""
        m = marker()
        target = target or f"/rec/{m}".encode()
        target = target.replace(b"MARK", m.encode())
        payload = b"GET " + target + b" HTTP/1.1\r\nHost: " + host + b"\r\n" + b"".join(
            line + b"\r\n" for line in lines) + b"\r\n"
        with wire.Client(port) as c:
            c.send(payload)
            resps = c.read_responses(1)
        self.assertEqual([r.status for r in resps], [200], c.data[:500])
        got = self.backend.find(m)
        self.assertEqual(len(got), 1, got)
        return got[0]

    def test_client_chain_is_dropped_from_an_untrusted_peer(self):
        seen = self.forwarded(self.gw.http_port, [b"X-Forwarded-For: 10.9.9.9", b"X-Forwarded-For: 10.8.8.8"])
        self.assertEqual(seen.header("x-forwarded-for"), [b"127.0.0.1"])

    def test_client_chain_is_kept_and_extended_from_a_trusted_proxy(self):
        seen = self.forwarded(self.trusting.http_port, [b"X-Forwarded-For: 10.9.9.9", b"X-Forwarded-For: 10.8.8.8"])
        self.assertEqual(seen.header("x-forwarded-for"), [b"10.9.9.9, 10.8.8.8, 127.0.0.1"])

    def test_forwarded_and_x_real_ip_never_reach_the_backend(self):
        for port in (self.gw.http_port, self.trusting.http_port):
            with self.subTest(port=port):
                seen = self.forwarded(port, [b"Forwarded: for=10.9.9.9;host=evil.test", b"X-Real-IP: 10.9.9.9",
                                             b"x-real-ip: 10.7.7.7", b"X-Kept: yes"])
                self.assertEqual(seen.header("forwarded"), [])
                self.assertEqual(seen.header("x-real-ip"), [])
                self.assertEqual(seen.header("x-kept"), [b"yes"])

    def test_absolute_form_authority_is_the_forwarded_host(self):
        """RFC 9112 section 3.2.2: with an absolute-form target the Host field is ignored."""
        seen = self.forwarded(self.gw.http_port, [], target=b"http://api.example.com:8443/rec/MARK?q=1",
                              host=b"other.test")
        self.assertEqual(seen.header("x-forwarded-host"), [b"api.example.com:8443"])
        self.assertTrue(seen.target.endswith("?q=1"), seen.target)
        origin = self.forwarded(self.gw.http_port, [], host=b"other.test")
        self.assertEqual(origin.header("x-forwarded-host"), [b"other.test"])

    def test_absolute_form_with_userinfo_is_400(self):
        m = marker()
        with wire.Client(self.gw.http_port) as c:
            c.send(f"GET http://user:pw@api.example.com/rec/{m} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            resps = c.read_responses(1)
        self.assertEqual([r.status for r in resps], [400])
        self.assertIn("authority", resps[0].json()["fault"]["description"])
        self.assertFalse(self.backend.saw(m))

    def test_chunk_size_with_whitespace_and_no_extension_is_400(self):
        """RFC 9112 section 7.1: BWS only before ";". "5 \\r\\n" is refused, "5 ;x\\r\\n" is served."""
        for size_line, status in ((b"5 ", 400), (b"5\t", 400), (b"5 ;x=1", 200)):
            with self.subTest(size_line=size_line):
                m = marker()
                payload = (f"POST /rec/{m} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
                           + size_line + b"\r\nhello\r\n0\r\n\r\n")
                with wire.Client(self.gw.http_port) as c:
                    c.send(payload)
                    resps = c.read_responses(1)
                    if status == 400:
                        self.assertTrue(c.wait_closed(5), "the connection stayed open after the 400")
                self.assertEqual([r.status for r in resps], [status], c.data[:400])
                if status == 400:
                    self.assertEqual(resps[0].json()["fault"]["code"], 900400)
                    self.assertIn("chunked", resps[0].json()["fault"]["description"])
                    self.assertFalse([r for r in self.backend.find(m) if r.complete])
                else:
                    self.assertEqual(bytes(self.backend.find(m)[0].body), b"hello")

    def test_strict_transport_security_on_the_tls_listener_only(self):
        """RFC 6797: every HTTPS answer (micro-gw's own, a fault, a relayed one) carries it once;
        the plain listener never does; hstsMaxAge = 0 turns it off."""
        for path in ("/health", "/rec/x", "/nothing-here"):
            with self.subTest(path=path):
                r = curl(self.gw.https(path))
                self.assertEqual(r.headers.get("strict-transport-security"), "max-age=31536000", r.headers)
                plain = curl(self.gw.http(path))
                self.assertNotIn("strict-transport-security", plain.headers)
                off = curl(self.trusting.https(path))
                self.assertNotIn("strict-transport-security", off.headers)
        # a backend's own value is replaced, never sent twice
        m = marker()
        canned = (b"HTTP/1.1 200 OK\r\nStrict-Transport-Security: max-age=0\r\nContent-Length: 2\r\n\r\nok")
        self.canned[m] = canned
        raw = wire_tls_get(self.gw.https_port, f"/rec/{m}")
        self.assertEqual(raw.lower().count(b"strict-transport-security"), 1, raw)
        self.assertIn(b"max-age=31536000", raw)


class CrossSiteTest(harness.GatewayTestCase):
    """CSRF on /apikey and the key management API: foreign origins refused with 403, changes
    with a body JSON only (415), and the seed's and README's curl commands as they are."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        config = harness.with_listener_keys(harness.base_config(),
                                            managementAllowedOrigins=["https://admin.example"])
        cls.gw = cls.start(harness.MicroGw(cls.workdir, config))
        cls.own = f"https://127.0.0.1:{cls.gw.https_port}"

    def call(self, path, method="GET", headers=(), data=None):
        return curl(self.gw.https(path), method=method, data=data,
                    headers=[f"Authorization: {harness.ADMIN_BASIC}", *headers])

    def test_seed_commands_work_as_written(self):
        """WSO2's STS page: GET /apikey with basic auth, and with a JSON body."""
        self.assertEqual(self.call("/apikey").status, 200)
        r = self.call("/apikey", headers=["Content-Type: application/json"], data='{"validityTime":600}')
        self.assertEqual(r.status, 200, r.body)

    def test_foreign_origin_is_403(self):
        for origin in ("https://evil.example", "null", "http://127.0.0.1:%d" % self.gw.https_port):
            for method, path, data in (("GET", "/apikey", None), ("POST", "/apikey", "{}"),
                                       ("GET", "/apikeys", None), ("POST", "/apikey/revoke", '{"sub": "admin"}')):
                with self.subTest(origin=origin, path=path):
                    r = self.call(path, method, [f"Origin: {origin}", "Content-Type: application/json"], data)
                    self.assertEqual(r.status, 403, r.body)
                    self.assertEqual(r.fault_code(), 900403)
                    self.assertIn("CSRF", r.json()["fault"]["description"])
        r = self.call("/apikey", headers=["Sec-Fetch-Site: cross-site"])
        self.assertEqual((r.status, r.fault_code()), (403, 900403))

    def test_own_and_listed_origins_are_served(self):
        for origin in (self.own, "https://admin.example"):
            with self.subTest(origin=origin):
                r = self.call("/apikey", "POST", [f"Origin: {origin}", "Content-Type: application/json"], "{}")
                self.assertEqual(r.status, 200, r.body)
                self.assertEqual(self.call("/apikeys", headers=[f"Origin: {origin}"]).status, 200)

    def test_changes_with_a_body_must_be_json(self):
        for ctype in ("text/plain", "multipart/form-data; boundary=x"):
            with self.subTest(ctype=ctype):
                r = self.call("/apikey/revoke", "POST", [f"Content-Type: {ctype}"], '{"sub": "nobody"}')
                self.assertEqual((r.status, r.fault_code()), (415, 900415), r.body)
        # A browser (Origin sent), even from the listener's own origin: JSON only.
        r = self.call("/apikey/revoke", "POST", [f"Origin: {self.own}"], '{"sub": "nobody"}')
        self.assertEqual((r.status, r.fault_code()), (415, 900415), r.body)
        # curl -d as the README writes it (application/x-www-form-urlencoded), no Origin: served.
        r = self.call("/apikey/revoke", "POST", data='{"sub": "nobody", "issuedBefore": 1}')
        self.assertNotEqual(r.status, 415, r.body)
        self.assertIn(r.status, (200, 400, 403), r.body)


AND_OR_DEFINITION = """openapi: 3.0.0
info: {title: AndOrAPI, version: 1.0.0}
x-wso2-basePath: /andor
x-wso2-production-endpoints: {urls: ["BACKEND/andor"]}
components:
  securitySchemes:
    key: {type: apiKey, in: header, name: apikey}
    basic: {type: http, scheme: basic}
paths:
  /both: {get: {security: [{key: [], basic: []}]}}
  /either: {get: {security: [{key: []}, {basic: []}]}}
"""


class SecurityAndOrTest(harness.GatewayTestCase):
    """OpenAPI 3 section 4.8.30 on the real binary: one requirement object's schemes are all
    required, the list's objects are alternatives."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = RecordingBackend()
        cls.addClassCleanup(cls.backend.stop)
        definition = os.path.join(cls.workdir, "andor.yaml")
        with open(definition, "w") as f:
            f.write(AND_OR_DEFINITION.replace("BACKEND", cls.backend.url))
        extra = f'\n[apis]\ndefinitions = ["{definition}"]\n'
        cls.gw = cls.start(harness.MicroGw(cls.workdir, harness.base_config(None, [("AndOrAPI", "*")], extra)))
        r = curl(cls.gw.https("/apikey"), headers=[f"Authorization: {harness.ADMIN_BASIC}"])
        assert r.status == 200, r.body
        cls.key = r.body.strip()

    def get(self, path, key=False, basic=False):
        headers = []
        if key:
            headers.append(f"apikey: {self.key}")
        if basic:
            headers.append(f"Authorization: {harness.ADMIN_BASIC}")
        return curl(self.gw.https(path), headers=headers)

    def test_one_object_needs_every_scheme(self):
        for key, basic in ((True, False), (False, True), (False, False)):
            with self.subTest(key=key, basic=basic):
                r = self.get("/andor/both", key, basic)
                self.assertEqual((r.status, r.fault_code()), (401, 900902), r.body)
        r = self.get("/andor/both", True, True)
        self.assertEqual(r.status, 200, r.body)

    def test_list_of_objects_takes_either(self):
        self.assertEqual(self.get("/andor/either", key=True).status, 200)
        self.assertEqual(self.get("/andor/either", basic=True).status, 200)
        self.assertEqual(self.get("/andor/either").status, 401)
