"""Observability (SPEC section 12) against the real binary: the metrics listener's /metrics,
/health/live and /health/ready; counters equal to the traffic sent, under concurrency; promtool's
verdict on a scrape after traffic of every kind; no key, password, path, query or header value in a
label; W3C traceparent and X-Request-Id forwarded as the issue says (checked on the bytes a
recording backend received); readiness following the store.
"""
import http.client
import json
import os
import re
import shutil
import subprocess
import time
import unittest
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

import harness
from harness import ADMIN_BASIC, curl
from recording_backend import RecordingBackend

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_ID}-01"
TRACEPARENT_RE = re.compile(rb"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")

SAMPLE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?')


def parse_scrape(text):
    """{(name, frozenset(labels.items())): value} for every sample line."""
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE_RE.match(line)
        assert m, f"not a sample line: {line!r}"
        labels = dict(LABEL_RE.findall(m.group(3) or ""))
        samples[(m.group(1), frozenset(labels.items()))] = float(m.group(4))
    return samples


def value(samples, name, **labels):
    """The sum over every series of `name` whose labels include `labels`."""
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= set(ls))


class ObservabilityTest(harness.GatewayTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = cls.start(harness.Backend(cls.workdir))
        cls.recording = RecordingBackend()
        cls.store_dir = os.path.join(cls.workdir, "store")
        extra = f"""
[authentication]
keyLookupFailuresPerMinute = 100000

[storage]
path = "{cls.store_dir}/micro-gw.db"

[observability]
metricsPort = 0
metricsHost = "127.0.0.1"

[[apis.api]]
name = "RecordedAPI"
version = "2.0"
context = "/recorded"
production = "{cls.recording.url}/r"
security = []

[[apis.api]]
name = "DownAPI"
version = "1.0.0"
context = "/down"
production = "http://127.0.0.1:{harness.unused_port()}/x"
security = []
"""
        cls.gw = cls.start(harness.MicroGw(cls.workdir, harness.base_config(cls.backend, extra=extra)))
        assert cls.gw.metrics_port > 0, cls.gw.metrics_port
        cls.key = cls.issue()
        cls.revoked_key = cls.issue()
        r = curl(cls.gw.https("/apikey/revoke"), method="POST",
                 headers=[f"Authorization: {ADMIN_BASIC}", "Content-Type: application/json"],
                 data=json.dumps({"apiKey": cls.revoked_key}))
        assert r.status == 200, r.body

    @classmethod
    def tearDownClass(cls):
        try:
            assert cls.gw.alive(), "micro-gw died:\n" + cls.gw.output()[-3000:]
        finally:
            cls.recording.stop()
            super().tearDownClass()

    @classmethod
    def issue(cls):
        r = curl(cls.gw.https("/apikey"), headers=[f"Authorization: {ADMIN_BASIC}"])
        assert r.status == 200, r.body
        return r.body

    # --- helpers -------------------------------------------------------------------------------

    def get(self, port, path, headers=None, method="GET"):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
        try:
            conn.request(method, path, headers=headers or {})
            r = conn.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            conn.close()

    def scrape(self):
        status, headers, body = self.get(self.gw.metrics_port, "/metrics")
        self.assertEqual(status, 200)
        self.assertEqual(headers["content-type"], "text/plain; version=0.0.4; charset=utf-8")
        return body.decode()

    def traffic(self, kind, n, workers=8):
        """n requests of one kind, concurrently; returns their statuses."""
        port = self.gw.http_port
        requests = {
            "valid": ("/echoapi/1.0.0/ok", {"apikey": self.key}),
            "invalid": ("/echoapi/1.0.0/ok", {"apikey": "not-a-key"}),  # unknown (not a JWS: an opaque key)
            "revoked": ("/echoapi/1.0.0/ok", {"apikey": self.revoked_key}),
            "down": ("/down/x", {}),
            "unmatched": ("/no/such/api", {}),
        }
        path, headers = requests[kind]
        with ThreadPoolExecutor(workers) as pool:
            return list(pool.map(lambda _: self.get(port, path, headers)[0], range(n)))

    # --- the listener --------------------------------------------------------------------------

    def test_liveness_and_the_listener_paths(self):
        status, headers, body = self.get(self.gw.metrics_port, "/health/live")
        self.assertEqual((status, json.loads(body)), (200, {"status": "UP"}))
        self.assertEqual(self.get(self.gw.metrics_port, "/elsewhere")[0], 404)
        self.assertEqual(self.get(self.gw.metrics_port, "/metrics", method="POST")[0], 405)
        # The gateway's own listener does not serve the metrics: it is just a path there.
        self.assertEqual(self.get(self.gw.http_port, "/metrics")[0], 404)

    def test_promtool_accepts_a_scrape_after_every_kind_of_traffic(self):
        for kind in ("valid", "invalid", "revoked", "down", "unmatched"):
            self.traffic(kind, 2)
        curl(self.gw.https("/apikey"), headers=["Authorization: Basic " + "d3Jvbmc6d3Jvbmc="])  # wrong:wrong
        text = self.scrape()
        out = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True,
                             timeout=60)
        self.assertEqual(out.returncode, 0, f"promtool: {out.stdout}{out.stderr}\n--- scrape:\n{text[:3000]}")
        for family in ("mgw_requests_total", "mgw_request_duration_seconds", "mgw_upstream_duration_seconds",
                       "mgw_key_validations_total", "mgw_key_cache_hits_total", "mgw_key_cache_misses_total",
                       "mgw_key_cache_entries", "mgw_keys_issued_total", "mgw_login_failures_total",
                       "mgw_throttled_requests_total", "mgw_connections_active", "mgw_upstream_connections",
                       "mgw_build_info", "process_cpu_seconds_total", "process_resident_memory_bytes",
                       "process_open_fds", "process_start_time_seconds"):
            self.assertIn(f"# TYPE {family} ", text)
        self.assertIn('mgw_request_duration_seconds_bucket{api="EchoAPI",version="1.0.0",le="+Inf"}', text)
        self.assertIn('le="0.0001"', text)
        self.assertIn('le="10"', text)
        samples = parse_scrape(text)
        for level in ("api", "resource", "application", "subscription"):
            self.assertEqual(value(samples, "mgw_throttled_requests_total", level=level), 0)
        self.assertGreaterEqual(value(samples, "mgw_login_failures_total"), 1)
        self.assertGreaterEqual(value(samples, "mgw_keys_issued_total", algorithm="RS256", key_type="PRODUCTION"), 2)
        self.assertGreaterEqual(value(samples, "mgw_connections_active", listener="metrics"), 1)
        self.assertGreater(value(samples, "process_resident_memory_bytes"), 1e6)
        self.assertGreater(value(samples, "process_start_time_seconds"), time.time() - 3600)
        self.assertLessEqual(value(samples, "process_start_time_seconds"), time.time() + 1)

    def test_counters_equal_the_traffic_sent_under_concurrency(self):
        n = 40
        before = parse_scrape(self.scrape())
        kinds = ("valid", "invalid", "revoked", "down", "unmatched")
        with ThreadPoolExecutor(len(kinds)) as pool:
            statuses = dict(zip(kinds, pool.map(lambda k: self.traffic(k, n), kinds)))
        self.assertEqual(statuses["valid"], [200] * n)
        self.assertEqual(statuses["invalid"], [401] * n)
        self.assertEqual(statuses["revoked"], [401] * n)
        self.assertEqual(statuses["down"], [502] * n)
        self.assertEqual(statuses["unmatched"], [404] * n)
        # A request is counted once its answer is written: the client may read the last answer
        # before the counter moves, so the scrape is retried briefly until every request is in.
        deadline = time.monotonic() + 5
        while True:
            after = parse_scrape(self.scrape())
            total = value(after, "mgw_requests_total") - value(before, "mgw_requests_total")
            if total >= 5 * n or time.monotonic() > deadline:
                break
            time.sleep(0.05)

        def delta(name, **labels):
            return value(after, name, **labels) - value(before, name, **labels)

        echo = {"api": "EchoAPI", "version": "1.0.0", "method": "GET"}
        self.assertEqual(delta("mgw_requests_total", status="200", fault="none", **echo), n)
        self.assertEqual(delta("mgw_requests_total", status="401", reason="unknown_key", fault="900901", **echo), n)
        self.assertEqual(delta("mgw_requests_total", status="401", reason="revoked", **echo), n)
        self.assertEqual(delta("mgw_requests_total", api="DownAPI", status="502", reason="backend_refused",
                               fault="101503"), n)
        self.assertEqual(delta("mgw_requests_total", api="none", version="none", status="404", reason="no_api"), n)
        self.assertEqual(delta("mgw_requests_total"), 5 * n)
        self.assertEqual(delta("mgw_key_validations_total", result="valid"), n)
        self.assertEqual(delta("mgw_key_validations_total", result="unknown_key"), n)
        self.assertEqual(delta("mgw_key_validations_total", result="revoked"), n)
        self.assertEqual(delta("mgw_key_validations_total"), 3 * n)
        # Each valid and revoked request looked its key up in the cache (an unknown opaque-looking
        # key never reaches it: the opaque index refuses it first).
        self.assertEqual(delta("mgw_key_cache_hits_total") + delta("mgw_key_cache_misses_total"), 2 * n)
        self.assertEqual(delta("mgw_request_duration_seconds_count", api="EchoAPI"), 3 * n)
        self.assertEqual(delta("mgw_request_duration_seconds_bucket", api="EchoAPI", le="+Inf"), 3 * n)
        self.assertEqual(delta("mgw_upstream_duration_seconds_count", api="EchoAPI"), n)
        self.assertEqual(delta("mgw_upstream_duration_seconds_count", api="DownAPI"), 0)
        self.assertEqual(delta("mgw_request_duration_seconds_count", api="none"), n)
        # Nothing is busy once every answer arrived; the pool keeps some idle connections.
        self.assertEqual(value(after, "mgw_upstream_connections", api="EchoAPI", state="busy"), 0)
        self.assertGreaterEqual(value(after, "mgw_upstream_connections", api="EchoAPI", state="idle"), 1)

    def test_no_key_password_or_unbounded_value_in_any_label(self):
        marker = "zq7marker"
        key_marker = f"eyJ{marker}KEY.eyJ{marker}.sig"
        self.get(self.gw.http_port, f"/echoapi/1.0.0/{marker}PATH?{marker}QUERY=1&apikey={marker}QKEY")
        self.get(self.gw.http_port, f"/echoapi/1.0.0/ok?x={marker}Q2", {"apikey": self.key, "X-Custom": f"{marker}HDR",
                                                                       "X-Request-Id": f"{marker}RID",
                                                                       "traceparent": f"{marker}TP"})
        self.get(self.gw.http_port, "/echoapi/1.0.0/ok", {"apikey": key_marker})
        self.get(self.gw.http_port, f"/{marker}NOAPI/x?{marker}=1", {"User-Agent": f"{marker}UA"})
        self.get(self.gw.http_port, "/echoapi/1.0.0/ok", {"apikey": self.key}, method=f"{marker.upper()}")
        import base64
        creds = base64.b64encode(f"admin:{marker}PASSWORD".encode()).decode()
        curl(self.gw.https("/apikey"), headers=[f"Authorization: Basic {creds}"])
        text = self.scrape()
        self.assertNotIn(marker, text.lower())
        self.assertNotIn(self.key[-20:], text)
        allowed = {
            "api": {"none", "EchoAPI", "RecordedAPI", "DownAPI"},
            "method": {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "other"},
        }
        for (name, labels), _ in parse_scrape(text).items():
            for k, v in labels:
                if k in allowed:
                    self.assertIn(v, allowed[k], f"{name} {k}={v}")
                if k == "status":
                    self.assertRegex(v, r"^[0-9]{1,3}$")
                self.assertLessEqual(len(v), 64, f"{name} {k}={v}")

    # --- trace context -------------------------------------------------------------------------

    def recorded(self, headers, marker):
        status, reply_headers, _ = self.get(self.gw.http_port, f"/recorded/{marker}", headers)
        self.assertEqual(status, 200)
        reqs = self.recording.find(marker)
        self.assertEqual(len(reqs), 1)
        return reqs[0], reply_headers

    def test_a_valid_traceparent_keeps_its_trace_id_with_the_gateway_as_parent(self):
        req, reply = self.recorded({"traceparent": TRACEPARENT, "tracestate": "vendor=abc"}, "trace-valid")
        sent = req.header("traceparent")
        self.assertEqual(len(sent), 1, sent)
        m = TRACEPARENT_RE.match(sent[0])
        self.assertTrue(m, sent)
        self.assertEqual(m.group(1).decode(), TRACE_ID)
        self.assertNotEqual(m.group(2).decode(), PARENT_ID)  # the gateway's own span
        self.assertNotEqual(m.group(2), b"0" * 16)
        self.assertEqual(m.group(3), b"01")  # the caller's flags
        self.assertEqual(req.header("tracestate"), [b"vendor=abc"])
        # The access log line carries the trace id.
        deadline = time.time() + 5
        while TRACE_ID not in self.gw.output() and time.time() < deadline:
            time.sleep(0.05)
        lines = [json.loads(line) for line in self.gw.output().splitlines()
                 if TRACE_ID in line and line.startswith("{")]
        self.assertTrue(lines)
        access = [line for line in lines if line.get("path") == "/recorded/trace-valid"]
        self.assertEqual(len(access), 1, lines)
        entry = access[0]
        self.assertEqual(entry["trace_id"], TRACE_ID)
        self.assertEqual(entry["request_id"], reply["x-request-id"])
        self.assertGreater(entry["bytesIn"], 0)
        self.assertGreater(entry["bytesOut"], 0)
        self.assertGreaterEqual(entry["upstreamLatencyMs"], 0)

    def test_a_new_trace_when_absent_invalid_or_repeated(self):
        cases = {
            "trace-absent": {},
            "trace-upper": {"traceparent": TRACEPARENT.upper(), "tracestate": "vendor=dropped"},
            "trace-zero": {"traceparent": f"00-{'0' * 32}-{PARENT_ID}-01"},
        }
        seen = set()
        for marker, headers in cases.items():
            req, reply = self.recorded(headers, marker)
            sent = req.header("traceparent")
            self.assertEqual(len(sent), 1, (marker, sent))
            m = TRACEPARENT_RE.match(sent[0])
            self.assertTrue(m, (marker, sent))
            self.assertNotEqual(m.group(1).decode(), TRACE_ID)
            self.assertNotEqual(m.group(1), b"0" * 32)
            seen.add(m.group(1))
            self.assertEqual(req.header("tracestate"), [], marker)  # never without its traceparent
            # A generated request id reaches the backend and the client alike.
            self.assertEqual(req.header("x-request-id"), [reply["x-request-id"].encode()])
            self.assertRegex(reply["x-request-id"], r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
        self.assertEqual(len(seen), len(cases))
        # Two traceparent fields: invalid, and the backend still gets exactly one.
        raw = (f"GET /recorded/trace-two HTTP/1.1\r\nHost: x\r\ntraceparent: {TRACEPARENT}\r\n"
               f"traceparent: 00-{'1' * 32}-{PARENT_ID}-01\r\nConnection: close\r\n\r\n").encode()
        harness.raw_request(self.gw.http_port, raw)
        reqs = self.recording.find("trace-two")
        self.assertEqual(len(reqs), 1)
        sent = reqs[0].header("traceparent")
        self.assertEqual(len(sent), 1, sent)
        self.assertNotIn(TRACE_ID.encode(), sent[0])
        self.assertNotIn(b"1" * 32, sent[0])

    def test_x_request_id_passed_through_when_sane(self):
        req, reply = self.recorded({"X-Request-Id": "abc-123_x.y"}, "rid-sane")
        self.assertEqual(req.header("x-request-id"), [b"abc-123_x.y"])
        self.assertEqual(reply["x-request-id"], "abc-123_x.y")
        req, reply = self.recorded({"X-Request-Id": "has space " + "x" * 200}, "rid-insane")
        self.assertEqual(len(req.header("x-request-id")), 1)
        self.assertNotIn(b"space", req.header("x-request-id")[0])
        self.assertEqual(req.header("x-request-id")[0].decode(), reply["x-request-id"])
        # Refusals carry it too.
        status, headers, _ = self.get(self.gw.http_port, "/echoapi/1.0.0/x", {"X-Request-Id": "refused-1"})
        self.assertEqual((status, headers.get("x-request-id")), (401, "refused-1"))

    # --- readiness -----------------------------------------------------------------------------

    def ready(self):
        status, _, body = self.get(self.gw.metrics_port, "/health/ready")
        return status, json.loads(body)

    def test_readiness_follows_the_store(self):
        status, body = self.ready()
        self.assertEqual(status, 200, body)
        self.assertEqual(body["checks"], {"configuration": "UP", "keys": "UP", "store": "UP", "listeners": "UP"})
        # The store's folder goes away (a volume unmounted, a wrong cleanup): the file cannot be
        # opened, so the node must leave the load balancer; the process stays live.
        moved = self.store_dir + ".away"
        os.rename(self.store_dir, moved)
        try:
            # The store is probed every second, off the request path (issue 22 item 3).
            deadline = time.monotonic() + 3
            status, body = self.ready()
            while status == 200 and time.monotonic() < deadline:
                time.sleep(0.1)
                status, body = self.ready()
            self.assertEqual(status, 503, body)
            self.assertEqual(body["status"], "DOWN")
            self.assertEqual(body["checks"]["store"], "DOWN")
            self.assertEqual(body["checks"]["configuration"], "UP")
            self.assertEqual(self.get(self.gw.metrics_port, "/health/live")[0], 200)
        finally:
            os.rename(moved, self.store_dir)
        deadline = time.monotonic() + 3
        status, body = self.ready()
        while status != 200 and time.monotonic() < deadline:
            time.sleep(0.1)
            status, body = self.ready()
        self.assertEqual(status, 200, body)
        self.assertIn("not ready", self.gw.output())


if __name__ == "__main__":
    unittest.main()
