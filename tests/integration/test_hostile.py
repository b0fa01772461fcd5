"""Hostile clients against the real micro-gw (issue 6, item 3): slow and oversized requests, floods
of invalid keys, clients that vanish, request smuggling probes. Every case checks the exact answer,
that valid traffic keeps working, and at the end that the process is alive, healthy and never
logged a key."""
import http.client
import http.server
import os
import random
import socket
import string
import threading
import time
import unittest
import uuid

import harness
from harness import ADMIN_BASIC, curl, raw_request

MAX_HEADER_BYTES = 16384  # the whole head (the default)
READ_TIMEOUT = 2
MAX_REQUEST_BYTES = 65536
MAX_HEADER_COUNT = 50


class RecordingBackend:
    """A tiny HTTP backend that records every request line it receives (the smuggling probes'
    witness: a smuggled request would show up here as its own request)."""

    def __init__(self):
        self.requests = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                outer.requests.append((self.command, self.path, body))
                reply = b'{"recorded": true}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            do_GET = do_POST = do_PUT = do_DELETE = _answer

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def paths(self):
        return [p for _, p, _ in self.requests]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class HostileClientTest(harness.GatewayTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = cls.start(harness.Backend(cls.workdir))
        cls.recorder = RecordingBackend()
        extra = f"""
[[apis.api]]
name = "SampleAPI"
version = "1.0.0"
context = "/sample"
production = "{cls.backend.url}"
security = []

[[apis.api]]
name = "RecordAPI"
version = "1.0.0"
context = "/record"
production = "http://127.0.0.1:{cls.recorder.port}/rec"
security = []
"""
        config = harness.base_config(cls.backend, extra=extra).replace(
            "httpsPort = 0\n",
            f"httpsPort = 0\nbodyTimeoutSeconds = {READ_TIMEOUT}\nheaderTimeoutSeconds = {READ_TIMEOUT}\n"
            f"maxHeaderBytes = {MAX_HEADER_BYTES}\nmaxRequestBytes = {MAX_REQUEST_BYTES}\n"
            f"maxHeaderCount = {MAX_HEADER_COUNT}\nworkerThreads = 16\n", 1)
        # These tests send thousands of bad keys on purpose (test_hardening covers the limit).
        config = config.replace("[apikey.issuer.tokenConfig]",
                                "[authentication]\nkeyLookupFailuresPerMinute = 1000000\n\n"
                                "[apikey.issuer.tokenConfig]", 1)
        cls.gw = cls.start(harness.MicroGw(cls.workdir, config))
        r = curl(cls.gw.https("/apikey"), headers=[f"Authorization: {ADMIN_BASIC}"])
        assert r.status == 200, r.body
        cls.key = r.body
        cls.port = cls.gw.http_port

    @classmethod
    def tearDownClass(cls):
        # The last word: alive, healthy, and no key in the log.
        try:
            assert cls.gw.alive(), "micro-gw died:\n" + cls.gw.output()[-3000:]
            health = curl(cls.gw.http("/health"))
            assert health.status == 200, health.body
            log = cls.gw.output()
            assert cls.key not in log and cls.key.split(".")[2] not in log, "a valid key appears in the log"
            for leaked in getattr(cls, "invalid_keys_sent", []):
                assert leaked not in log, "an invalid key appears in the log"
        finally:
            cls.recorder.stop()
            super().tearDownClass()

    # --- helpers ---

    def valid_request(self, suffix="/ok"):
        return curl(self.gw.http("/echoapi/1.0.0" + suffix), headers=[f"apikey: {self.key}"], timeout=10)

    def assert_valid_request_works(self, suffix="/ok", max_seconds=None):
        started = time.monotonic()
        r = self.valid_request(suffix)
        elapsed = time.monotonic() - started
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["path"], "/echo" + suffix)
        if max_seconds is not None:
            self.assertLess(elapsed, max_seconds, "a normal request was held up by hostile clients")

    def assert_fault(self, reply, status, code=None):
        self.assertEqual(reply.status, status, reply.body)
        body = reply.json()  # always a JSON fault
        self.assertIn("fault", body)
        if code is not None:
            self.assertEqual(body["fault"]["code"], code, reply.body)

    def slow_client(self, prefix, drip, results, index, max_seconds=15.0):
        """Sends prefix, then drip one byte per second; records how long until the server cut it off
        (None if it never did within max_seconds) and what it answered."""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=max_seconds)
        started = time.monotonic()
        received = b""
        try:
            s.sendall(prefix)
            for b in drip:
                if time.monotonic() - started > max_seconds:
                    break
                s.settimeout(1.0)
                try:
                    chunk = s.recv(4096)
                    if not chunk:
                        raise ConnectionResetError("closed")
                    received += chunk
                    break  # the server answered (e.g. 408/400): it gave up on us
                except socket.timeout:
                    pass
                s.sendall(bytes([b]))
            else:
                results[index] = (None, received)
                return
            results[index] = (time.monotonic() - started, received)
        except (ConnectionResetError, BrokenPipeError):
            results[index] = (time.monotonic() - started, received)
        finally:
            s.close()

    def run_slow_clients(self, prefix, count=4, max_seconds=15.0):
        drip = (b"x" * 64)
        results = [None] * count
        threads = [threading.Thread(target=self.slow_client, args=(prefix, drip, results, i, max_seconds))
                   for i in range(count)]
        for t in threads:
            t.start()
        time.sleep(1.0)
        # Other clients are served while the slow ones hold their connections.
        for _ in range(3):
            self.assert_valid_request_works(max_seconds=2.0)
        for t in threads:
            t.join(30)
        return results

    # --- slow clients (slowloris) ---

    SLOW_HEADERS = b"GET /echoapi/1.0.0/slow-headers HTTP/1.1\r\nHost: x\r\nX-Slow: "

    def slow_body_prefix(self):
        return (b"POST /echoapi/1.0.0/slow-body HTTP/1.1\r\nHost: x\r\napikey: " + self.key.encode() +
                b"\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n")

    def test_slow_headers_and_bodies_do_not_hold_other_clients(self):
        # run_slow_clients asserts that normal requests are answered quickly meanwhile.
        self.run_slow_clients(self.SLOW_HEADERS, count=3, max_seconds=5)
        self.run_slow_clients(self.slow_body_prefix(), count=3, max_seconds=5)
        self.assert_valid_request_works()

    # headerTimeoutSeconds bounds the whole head, however slowly it trickles in.
    def test_slow_headers_are_cut_off_at_the_header_timeout(self):
        results = self.run_slow_clients(self.SLOW_HEADERS, count=2, max_seconds=READ_TIMEOUT * 2 + 3)
        for elapsed, _ in results:
            self.assertIsNotNone(elapsed, "a client sending one header byte per second was never cut off")
            self.assertLessEqual(elapsed, READ_TIMEOUT * 2 + 2)

    # bodyTimeoutSeconds bounds each wait for body bytes (nginx's client_body_timeout): a client that
    # stops sending its body is cut off; one that keeps sending costs one connection, not a thread.
    def test_stalled_body_is_cut_off_at_the_body_timeout(self):
        with socket.create_connection(("127.0.0.1", self.port)) as s:
            s.sendall(self.slow_body_prefix() + b"only part of the body")
            s.settimeout(READ_TIMEOUT * 3 + 5)
            started = time.monotonic()
            received = b""
            try:
                while True:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    received += chunk
            except ConnectionResetError:
                pass
            elapsed = time.monotonic() - started
        self.assertLess(elapsed, READ_TIMEOUT * 3 + 2, "a stalled body was never cut off")
        self.assertGreater(elapsed, READ_TIMEOUT - 1, "cut off before bodyTimeoutSeconds")
        self.assert_valid_request_works()

    def test_idle_connection_is_closed_and_others_are_served(self):
        # Connect and say nothing: closed after the keep-alive/read timeout, nobody else waits.
        idle = [socket.create_connection(("127.0.0.1", self.port)) for _ in range(4)]
        try:
            self.assert_valid_request_works(max_seconds=2.0)
            idle[0].settimeout(15)
            started = time.monotonic()
            self.assertEqual(idle[0].recv(1), b"")
            self.assertLess(time.monotonic() - started, 12)
        finally:
            for s in idle:
                s.close()

    # --- oversized requests ---

    def test_oversized_request_line_is_414(self):
        target = "/echoapi/1.0.0/" + "a" * (MAX_HEADER_BYTES + 100)
        r = raw_request(self.port, f"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        self.assert_fault(r, 414, 900414)
        self.assert_valid_request_works()

    def test_header_line_over_8k_is_refused_with_a_json_fault(self):
        r = raw_request(self.port, b"GET /echoapi/1.0.0/big HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * (MAX_HEADER_BYTES + 100) +
                        b"\r\n\r\n")
        # The whole head is over maxHeaderBytes: 431, refused while reading.
        self.assert_fault(r, 431, 900431)
        self.assert_valid_request_works()

    def test_too_many_headers_is_431(self):
        headers = "".join(f"X-H{i}: v\r\n" for i in range(MAX_HEADER_COUNT + 10))
        r = raw_request(self.port, f"GET /echoapi/1.0.0/many HTTP/1.1\r\nHost: x\r\n{headers}\r\n".encode())
        self.assert_fault(r, 431, 900431)
        self.assertIn(str(MAX_HEADER_COUNT), r.json()["fault"]["description"])
        # At the limit it is served.
        headers = "".join(f"X-H{i}: v\r\n" for i in range(MAX_HEADER_COUNT - 3))
        r = raw_request(self.port, (f"GET /echoapi/1.0.0/many HTTP/1.1\r\nHost: x\r\napikey: {self.key}\r\n"
                                    f"{headers}\r\n").encode())
        self.assertEqual(r.status, 200, r.body)

    def test_largest_key_that_fits_a_header_line_is_401_900901(self):
        # The largest key the validator takes (8 KiB): it reaches the validator and is refused as
        # malformed, never crashes or echoes it.
        key = self.key + "A" * (8192 - len(self.key))
        r = raw_request(self.port, f"GET /echoapi/1.0.0/k HTTP/1.1\r\nHost: x\r\napikey: {key}\r\n\r\n".encode())
        self.assert_fault(r, 401, 900901)
        self.assertIn("www-authenticate", r.headers)
        self.assertNotIn(key, r.body)

    def test_key_over_8k_in_the_query_or_header_is_refused(self):
        key = "A" * 8200
        # Within maxHeaderBytes: the validator refuses it by its size, without parsing it.
        for request in (f"GET /echoapi/1.0.0/k HTTP/1.1\r\nHost: x\r\napikey: {key}\r\n\r\n",
                        f"GET /echoapi/1.0.0/k?apikey={key} HTTP/1.1\r\nHost: x\r\n\r\n"):
            r = raw_request(self.port, request.encode())
            self.assert_fault(r, 401, 900901)
            self.assertIn("larger than 8 KiB", r.json()["fault"]["description"])

    def test_key_over_8k_split_over_folded_header_is_not_accepted(self):
        # Obsolete line folding (RFC 9112 section 5.2) must not glue a long key together.
        part = "A" * 5000
        r = raw_request(self.port, (f"GET /echoapi/1.0.0/k HTTP/1.1\r\nHost: x\r\napikey: {part}\r\n {part}\r\n"
                                    "\r\n").encode())
        self.assertIn(r.status, (400, 401), r.body)
        self.assertIn("fault", r.json())

    def test_body_over_max_request_bytes_is_413(self):
        body = b"z" * (MAX_REQUEST_BYTES + 1000)
        r = raw_request(self.port, (f"POST /echoapi/1.0.0/big HTTP/1.1\r\nHost: x\r\napikey: {self.key}\r\n"
                                    f"Content-Length: {len(body)}\r\n\r\n").encode() + body)
        self.assert_fault(r, 413, 900413)
        # Announced but not sent: refused on the header alone.
        r = raw_request(self.port, (f"POST /echoapi/1.0.0/big HTTP/1.1\r\nHost: x\r\napikey: {self.key}\r\n"
                                    "Content-Length: 99999999999\r\n\r\n").encode())
        self.assert_fault(r, 413, 900413)
        self.assert_valid_request_works()

    # cpp-httplib 0.11.4 enforces payload_max_length only on Content-Length bodies: a chunked body
    # is read whole, whatever its size; the route refuses it before anything is forwarded.
    def test_chunked_body_over_max_request_bytes_is_413(self):
        chunk = b"8000\r\n" + b"c" * 0x8000 + b"\r\n"
        r = raw_request(self.port, (f"POST /echoapi/1.0.0/big HTTP/1.1\r\nHost: x\r\napikey: {self.key}\r\n"
                                    "Transfer-Encoding: chunked\r\n\r\n").encode() + chunk * 3 + b"0\r\n\r\n")
        self.assertEqual(r.status, 413, r.body[:300])
        self.assert_fault(r, 413, 900413)

    # --- floods ---

    def test_flood_of_invalid_keys_while_valid_traffic_runs(self):
        threads_n, per_thread = 4, 750
        rng = random.Random(6)
        signature = self.key.split(".")[2]
        header, payload = self.key.split(".")[:2]

        def invalid_key(i):
            kind = i % 4
            if kind == 0:  # garbage
                return "".join(rng.choice(string.ascii_letters + "-_.") for _ in range(rng.randint(1, 300)))
            if kind == 1:  # valid shape, signature flipped
                return f"{header}.{payload}.{signature[:-4]}{uuid.uuid4().hex[:4]}"
            if kind == 2:  # valid signature, payload changed
                return f"{header}.{payload[:-2]}{rng.choice('ABCD')}{rng.choice('ABCD')}.{signature}"
            return f"x{uuid.uuid4().hex}.y.z"  # three segments, not base64url JSON

        keys = [[invalid_key(t * per_thread + i) for i in range(per_thread)] for t in range(threads_n)]
        type(self).invalid_keys_sent = [k for ks in keys for k in ks[:20] if len(k) > 20]
        statuses = {}
        lock = threading.Lock()
        stop = threading.Event()
        valid_results = []

        def flood(my_keys):
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
            for k in my_keys:
                for attempt in range(2):
                    try:
                        conn.request("GET", "/echoapi/1.0.0/flood", headers={"apikey": k})
                        resp = conn.getresponse()
                        resp.read()
                        with lock:
                            statuses[resp.status] = statuses.get(resp.status, 0) + 1
                        break
                    except (http.client.HTTPException, ConnectionError):
                        conn.close()
                        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
            conn.close()

        def valid_traffic():
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
            while not stop.is_set():
                try:
                    conn.request("GET", "/echoapi/1.0.0/valid", headers={"apikey": self.key})
                    resp = conn.getresponse()
                    resp.read()
                    valid_results.append(resp.status)
                except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                    # keep-alive ended by the server (keepAliveMaxRequests/timeout): reconnect.
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
            conn.close()

        valid = [threading.Thread(target=valid_traffic) for _ in range(2)]
        floods = [threading.Thread(target=flood, args=(ks,)) for ks in keys]
        for t in valid + floods:
            t.start()
        for t in floods:
            t.join(300)
        stop.set()
        for t in valid:
            t.join(30)
        self.assertEqual(sum(statuses.values()), threads_n * per_thread, statuses)
        self.assertEqual(set(statuses), {401}, statuses)
        self.assertGreater(len(valid_results), 20)
        self.assertEqual(set(valid_results), {200}, f"{len(valid_results)} valid requests: "
                                                    f"{ {s: valid_results.count(s) for s in set(valid_results)} }")

    # --- clients that disappear ---

    def test_clients_disconnecting_mid_request(self):
        for i in range(30):
            s = socket.create_connection(("127.0.0.1", self.port))
            if i % 3 == 0:
                s.sendall(b"GET /echoapi/1.0.0/half HTTP/1.1\r\nHost: x\r\nap")
            elif i % 3 == 1:
                s.sendall((f"POST /echoapi/1.0.0/half HTTP/1.1\r\nHost: x\r\napikey: {self.key}\r\n"
                           "Content-Length: 1000\r\n\r\n" + "q" * 100).encode())
            else:
                s.sendall(b"GET /echoapi/1.0.0/half HTTP/1.1\r\nHost: x\r\n")
            # RST instead of FIN on some: SO_LINGER with a zero timeout.
            if i % 2:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            s.close()
        self.assert_valid_request_works()

    def test_clients_disconnecting_mid_response(self):
        # While the gateway waits for the backend, and while it writes a large response.
        big = "w" * 60000
        for i in range(20):
            s = socket.create_connection(("127.0.0.1", self.port))
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            if i % 2 == 0:
                s.sendall(b"GET /sample/slow?ms=400 HTTP/1.1\r\nHost: x\r\n\r\n")
                time.sleep(0.05)
            else:
                s.sendall((f"POST /echoapi/1.0.0/big HTTP/1.1\r\nHost: x\r\napikey: {self.key}\r\n"
                           f"Content-Length: {len(big)}\r\n\r\n{big}").encode())
                s.recv(100)  # the first bytes of the response, then vanish
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            s.close()
        time.sleep(0.6)
        self.assert_valid_request_works()
        r = curl(self.gw.http("/sample/slow?ms=10"))
        self.assertEqual(r.status, 200, r.body)

    # --- request smuggling ---

    def smuggle(self, head, body=b""):
        """Sends a probe whose body hides a second request; asserts that neither the probe (refused)
        nor the hidden request reached the backend."""
        marker = uuid.uuid4().hex
        smuggled = f"GET /record/SMUGGLED-{marker} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
        payload = head.replace(b"MARKER", marker.encode()) + body.replace(b"SMUGGLED", smuggled)
        r = raw_request(self.port, payload, timeout=5)
        time.sleep(0.2)
        arrived = [p for p in self.recorder.paths() if marker in p]
        self.assertFalse(arrived, f"a refused probe or its hidden request reached the backend: {arrived}")
        return r

    def test_content_length_with_transfer_encoding_is_refused(self):
        body = b"0\r\n\r\nSMUGGLED"
        r = self.smuggle(b"POST /record/front-MARKER HTTP/1.1\r\nHost: x\r\nContent-Length: "
                         + str(len(body) + 60).encode() + b"\r\nTransfer-Encoding: chunked\r\n\r\n", body)
        self.assert_fault(r, 400, 900400)
        self.assertEqual(r.headers.get("connection"), "close")
        # Transfer-Encoding first, and on a secured API.
        r = self.smuggle(b"POST /echoapi/1.0.0/front-MARKER HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                         b"Content-Length: 4\r\n\r\n", body)
        self.assert_fault(r, 400, 900400)

    def test_duplicate_content_length_is_refused(self):
        r = self.smuggle(b"POST /record/front-MARKER HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
                         b"Content-Length: 47\r\n\r\n", b"SMUGGLED")
        self.assert_fault(r, 400, 900400)
        # Equal values are still two framings (RFC 9112 section 6.3 allows refusing them).
        r = self.smuggle(b"POST /record/front-MARKER HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                         b"content-length: 3\r\n\r\n", b"abc")
        self.assert_fault(r, 400, 900400)

    def test_obfuscated_framing_never_smuggles(self):
        # Variants that front ends and back ends have parsed differently: whatever micro-gw answers,
        # the smuggled request never reaches the backend as a request of its own.
        probes = [
            b"POST /record/front-MARKER HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: xchunked\r\n\r\n",
            b"POST /record/front-MARKER HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding : chunked\r\n\r\n",
            b"POST /record/front-MARKER HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding:\tchunked\r\n\r\n",
            b"POST /record/front-MARKER HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 40\r\n\r\n",
            b"POST /record/front-MARKER HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\n",
            b"POST /record/front-MARKER HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n",
            b"POST /record/front-MARKER HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n Transfer-Encoding: chunked\r\n\r\n",
        ]
        for probe in probes:
            with self.subTest(probe=probe[40:110]):
                r = self.smuggle(probe, b"0\r\n\r\nSMUGGLED")
                self.assert_fault(r, 400, 900400)
        self.assert_valid_request_works()

    def test_encoded_crlf_in_a_header_value_is_relayed_as_text(self):
        # Header values are never percent-decoded (SPEC section 10): "%0d%0a" reaches the backend as
        # six characters, so it can neither inject a header nor hide a second request.
        marker = uuid.uuid4().hex
        r = raw_request(self.port, (f"GET /record/front-{marker} HTTP/1.1\r\nHost: x\r\nX-Inject: a%0d%0aContent-"
                                    f"Length:%200%0d%0a%0d%0aGET%20/rec/SMUGGLED-{marker}%20HTTP/1.1\r\n\r\n").encode())
        self.assertEqual(r.status, 200, r.body)
        time.sleep(0.2)
        arrived = [p for p in self.recorder.paths() if marker in p]
        self.assertEqual(arrived, [f"/rec/front-{marker}"], arrived)
        # A real CR, LF or NUL in a value is refused before any handler (test_framing has each).
        r = self.smuggle(b"GET /record/front-MARKER HTTP/1.1\r\nHost: x\r\nX-Nul: a\x00b\r\n\r\n")
        self.assert_fault(r, 400, 900400)
        self.assert_valid_request_works()

    def test_form_body_fields_are_not_query_parameters(self):
        # The HTTP library parses an application/x-www-form-urlencoded body into its parameter
        # list; the gateway must neither take a key from there nor forward the fields as a query.
        r = curl(self.gw.http("/echoapi/1.0.0/form?a=1"), method="POST", data=f"apikey={self.key}&b=2",
                 headers=["Content-Type: application/x-www-form-urlencoded"])
        self.assert_fault(r, 401, 900902)
        r = curl(self.gw.http("/echoapi/1.0.0/form?a=1"), method="POST", data="b=2&c=3",
                 headers=["Content-Type: application/x-www-form-urlencoded", f"apikey: {self.key}"])
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["query"], "a=1")
        self.assertEqual(r.json()["body"], "b=2&c=3")

    def test_backend_connection_is_not_poisoned_after_refused_probes(self):
        # After the probes, requests on fresh and kept-alive connections reach the backend intact.
        before = len(self.recorder.requests)
        for i in range(5):
            r = curl(self.gw.http(f"/record/after-{i}"), method="POST", data=f"body-{i}")
            self.assertEqual(r.status, 200, r.body)
        got = self.recorder.requests[before:]
        self.assertEqual([(m, p, b) for m, p, b in got],
                         [("POST", f"/rec/after-{i}", f"body-{i}".encode()) for i in range(5)])
