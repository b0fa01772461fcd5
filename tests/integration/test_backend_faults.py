"""Failing backends behind the real micro-gw (issue 6, item 4; SPEC section 7 "Forwarding"): a refused
connection, a reset mid-response, a response slower than the API's timeout, a malformed response
and a backend that closes keep-alive connections. Each answers the exact fault, the next request
after the backend recovers succeeds, and 200 faulty requests leak no thread and no connection."""
import socket
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import harness
from harness import ADMIN_BASIC, curl


class FaultyBackend:
    """A raw-socket HTTP backend in a thread whose behaviour is switched by `mode`:
    good        answers 200 and keeps the connection open (keep-alive)
    close_after answers 200 without "Connection: close", then closes (a pooled connection goes stale)
    reset       sends the status line, headers and part of the body, then resets the connection
    garbage     answers bytes that are not HTTP, then closes
    truncated   announces Content-Length 1000, sends 10 bytes, closes cleanly
    crlf_header answers a redirect whose Location holds a percent-encoded CRLF
    ignore_get_body  reads no body on GET (as cpp-httplib 0.11 and Python's http.server), so the
                body of a GET is parsed as the next request on the connection; its answer comes 50 ms
                late, as a slower handler's would
    late_answer answers 204, then 50 ms later a second answer nobody asked for
    Every answer's JSON names the request target it answers. Like every real server, it closes a
    connection after answering a request that says "Connection: close".
    """

    def __init__(self):
        self.mode = "good"
        self.requests = 0
        self.targets = []  # every request target received, in order
        self.connections = 0
        self.lock = threading.Lock()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        self.open = set()
        self.stopping = False
        threading.Thread(target=self.accept_loop, daemon=True).start()

    def accept_loop(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
                self.open.add(conn)
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def read_request(self, conn, buffered):
        data = buffered
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return None, b""
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        if self.mode == "ignore_get_body" and head.startswith(b"GET "):
            length = 0
        while len(rest) < length:
            chunk = conn.recv(65536)
            if not chunk:
                return None, b""
            rest += chunk
        return head, rest[length:]

    def serve(self, conn):
        buffered = b""
        try:
            conn.settimeout(30)
            while True:
                pipelined = bool(buffered)
                head, buffered = self.read_request(conn, buffered)
                if head is None:
                    return
                mode = self.mode
                target = head.split(b" ")[1] if b" " in head else b""
                with self.lock:
                    self.requests += 1
                    self.targets.append(target.decode("latin-1"))
                body = (b'{"backend": "faulty", "mode": "' + mode.encode() + b'", "target": "' +
                        target + b'"}')
                ok = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                      str(len(body)).encode() + b"\r\n\r\n" + body)
                close = b"\r\nconnection: close" in head.lower()
                if mode in ("good", "ignore_get_body"):
                    if pipelined:
                        time.sleep(0.05)
                    conn.sendall(ok)
                    if close:
                        return
                    continue
                if mode == "late_answer":
                    conn.sendall(b"HTTP/1.1 204 No Content\r\n\r\n")
                    time.sleep(0.05)
                    late = b'{"target": "/late-answer"}'
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                 b"Content-Length: " + str(len(late)).encode() + b"\r\n\r\n" + late)
                    continue
                if mode == "close_after":
                    conn.sendall(ok)
                    return
                if mode == "reset":
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\npartial")
                    time.sleep(0.05)
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    return
                if mode == "garbage":
                    conn.sendall(b"\x00\xff\xfeNOT HTTP AT ALL\r\n\x7f\x80garbage\r\n\r\n")
                    return
                if mode == "crlf_header":  # legitimate percent-encoding that a decoder turns into CRLF
                    conn.sendall(b"HTTP/1.1 302 Found\r\nLocation: /login?next=%0d%0aSet-Cookie:%20evil=1\r\n"
                                 b"Content-Length: 0\r\n\r\n")
                    continue
                if mode == "truncated":
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789")
                    return
                raise AssertionError(f"unknown mode {mode}")
        except OSError:
            pass
        finally:
            with self.lock:
                self.open.discard(conn)
            conn.close()

    def stop(self):
        self.stopping = True
        self.sock.close()
        with self.lock:
            for c in list(self.open):
                try:
                    c.close()
                except OSError:
                    pass


class BackendFaultTest(harness.GatewayTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = cls.start(harness.Backend(cls.workdir))
        cls.faulty = FaultyBackend()
        cls.dead_port = harness.unused_port()
        extra = f"""
[[apis.api]]
name = "ClosedAPI"
version = "1.0.0"
context = "/closed"
production = "http://127.0.0.1:{cls.dead_port}/x"
security = ["api_key"]
timeoutSeconds = 2

[[apis.api]]
name = "FaultyAPI"
version = "1.0.0"
context = "/faulty"
production = "http://127.0.0.1:{cls.faulty.port}/f"
security = []
timeoutSeconds = 2

[[apis.api]]
name = "SecuredFaultyAPI"
version = "1.0.0"
context = "/securedfaulty"
production = "http://127.0.0.1:{cls.faulty.port}/f"
security = ["api_key"]
timeoutSeconds = 2

[[apis.api]]
name = "SlowAPI"
version = "1.0.0"
context = "/slowapi"
production = "{cls.backend.url}"
security = []
timeoutSeconds = 1
"""
        cls.gw = cls.start(harness.MicroGw(cls.workdir, harness.base_config(
            cls.backend, issuer_apis=[("EchoAPI", "*"), ("ClosedAPI", "*"), ("SecuredFaultyAPI", "*")], extra=extra)))
        r = curl(cls.gw.https("/apikey"), headers=[f"Authorization: {ADMIN_BASIC}"])
        assert r.status == 200, r.body
        cls.key = r.body

    @classmethod
    def tearDownClass(cls):
        try:
            assert cls.gw.alive(), "micro-gw died:\n" + cls.gw.output()[-3000:]
            assert curl(cls.gw.http("/health")).status == 200
        finally:
            cls.faulty.stop()
            super().tearDownClass()

    def setUp(self):
        self.faulty.mode = "good"

    def faulty_get(self, path="/item", timeout=15):
        return curl(self.gw.http("/faulty" + path), timeout=timeout)

    def assert_fault(self, reply, status, code):
        self.assertEqual(reply.status, status, reply.body)
        self.assertEqual(reply.json()["fault"]["code"], code, reply.body)

    def assert_good_request_works(self):
        r = curl(self.gw.http("/echoapi/1.0.0/after"), headers=[f"apikey: {self.key}"])
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["path"], "/echo/after")

    def assert_faulty_backend_recovered(self):
        self.faulty.mode = "good"
        r = self.faulty_get("/recovered")
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["mode"], "good")

    # --- one fault at a time ---

    def test_refused_connection_is_502_101503(self):
        r = curl(self.gw.http("/closed/anything"), headers=[f"apikey: {self.key}"])
        self.assert_fault(r, 502, 101503)
        self.assertNotIn(self.key, r.body)
        self.assert_good_request_works()

    def assert_cut_off(self):
        """The answer is streamed (SPEC section 10): when the backend breaks off after its head, the
        client has the head, fewer body bytes than Content-Length, and a closed connection, so it
        knows the answer is incomplete (nginx and HAProxy behave the same)."""
        raw = harness.raw_exchange(self.gw.http_port, b"GET /faulty/item HTTP/1.1\r\nHost: x\r\n\r\n")
        head, _, body = raw.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 200"), raw[:200])
        self.assertIn(b"Content-Length: 1000", head)
        self.assertLess(len(body), 1000, "a cut answer must never look complete")

    def test_reset_mid_response_is_cut_off(self):
        self.faulty.mode = "reset"
        self.assert_cut_off()
        self.assert_good_request_works()
        self.assert_faulty_backend_recovered()

    def test_truncated_response_is_cut_off(self):
        self.faulty.mode = "truncated"
        self.assert_cut_off()
        self.assert_faulty_backend_recovered()

    def test_slower_than_timeout_is_504_101504(self):
        started = time.monotonic()
        r = curl(self.gw.http("/slowapi/slow?ms=3000"))
        elapsed = time.monotonic() - started
        self.assert_fault(r, 504, 101504)
        self.assertLess(elapsed, 2.5, "the API's timeoutSeconds = 1 was not applied")
        # Within the timeout it is served.
        r = curl(self.gw.http("/slowapi/slow?ms=100"))
        self.assertEqual(r.status, 200, r.body)
        self.assert_good_request_works()

    def test_malformed_response_is_502(self):
        self.faulty.mode = "garbage"
        r = self.faulty_get()
        self.assert_fault(r, 502, 101503)
        self.assert_good_request_works()
        self.assert_faulty_backend_recovered()

    def test_backend_closing_keep_alive_connections_keeps_working(self):
        self.faulty.mode = "close_after"
        before = self.faulty.connections
        for i in range(30):
            r = self.faulty_get(f"/ka-{i}")
            self.assertEqual(r.status, 200, f"request {i}: {r.body}")
            self.assertEqual(r.json()["mode"], "close_after")
        # Each answer came on a connection the backend then closed: at least one connection each.
        self.assertGreaterEqual(self.faulty.connections - before, 30)
        # Back to keep-alive: connections are reused again.
        self.faulty.mode = "good"
        before = self.faulty.connections
        for i in range(10):
            self.assertEqual(self.faulty_get(f"/reuse-{i}").status, 200)
        self.assertLess(self.faulty.connections - before, 10, "the gateway never reused an upstream connection")

    def test_backend_closing_keep_alive_connections_under_concurrency(self):
        self.faulty.mode = "close_after"
        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(lambda i: self.faulty_get(f"/c-{i}").status, range(64)))
        self.assertEqual(set(statuses), {200}, statuses)

    def test_encoded_crlf_in_a_backend_header_does_not_split_the_response(self):
        # The HTTP library decodes %0d%0a in header values; relayed as is, the client would get an
        # injected Set-Cookie (response splitting).
        self.faulty.mode = "crlf_header"
        raw = harness.raw_exchange(self.gw.http_port, b"GET /faulty/redirect HTTP/1.1\r\nHost: x\r\n\r\n")
        head = raw.split(b"\r\n\r\n", 1)[0].decode("latin-1")
        self.assertTrue(head.startswith("HTTP/1.1 302"), head)
        names = [line.split(":", 1)[0].strip().lower() for line in head.split("\r\n")[1:]]
        self.assertNotIn("set-cookie", names, head)
        # Relayed byte for byte, as the backend sent it (SPEC section 10).
        self.assertIn("Location: /login?next=%0d%0aSet-Cookie:%20evil=1\r\n", head + "\r\n")
        self.assert_faulty_backend_recovered()

    # --- the upstream pool is never poisoned (issue 22, item 1) ---

    def test_get_body_ignored_by_the_backend_never_reaches_it_as_a_request(self):
        """A keyed GET whose body is a second request, to a backend that ignores GET bodies: the
        body must never be answered as a request, and the next client (keyless, on an open API of
        the same backend) must get its own answer, not the smuggled one."""
        self.faulty.mode = "ignore_get_body"
        smuggled = b"GET /f/admin HTTP/1.1\r\nHost: backend\r\n\r\n"
        request = (b"GET /securedfaulty/item HTTP/1.1\r\nHost: x\r\napikey: " + self.key.encode() +
                   b"\r\nContent-Length: " + str(len(smuggled)).encode() + b"\r\n\r\n" + smuggled)
        first = harness.parse_http_response(harness.raw_exchange(self.gw.http_port, request))
        self.assertEqual(first.status, 200, first.body)
        self.assertEqual(first.json()["target"], "/f/item")
        for i in range(3):
            time.sleep(0.2)
            r = self.faulty_get(f"/next-{i}")
            self.assertEqual(r.status, 200, r.body)
            self.assertEqual(r.json()["target"], f"/f/next-{i}", "another request's answer was delivered")
        self.assertNotIn("/f/admin", self.faulty.targets, "the body reached the backend as a request")
        # HEAD, OPTIONS and DELETE bodies go the same way: the backend is told to close.
        for method in ("OPTIONS", "DELETE"):
            r = curl(self.gw.http("/faulty/m"), method=method, data="x=1")
            self.assertEqual(r.status, 200, r.body)
        # A POST body has a meaning every backend reads: its connection is pooled as before.
        self.faulty.mode = "good"
        before = self.faulty.connections
        for i in range(5):
            self.assertEqual(curl(self.gw.http(f"/faulty/post-{i}"), data="a=1").status, 200)
        self.assertLess(self.faulty.connections - before, 5, "POST connections were not reused")

    def test_unsolicited_bytes_from_the_backend_cost_the_connection(self):
        """A backend that sends a second answer nobody asked for (here 50 ms after a 204): the next
        exchange, within a second, must not read it as its own answer."""
        self.faulty.mode = "late_answer"
        r = self.faulty_get("/no-content")
        self.assertEqual(r.status, 204, r.body)
        time.sleep(0.2)
        self.faulty.mode = "good"
        for i in range(3):
            r = self.faulty_get(f"/mine-{i}")
            self.assertEqual(r.status, 200, r.body)
            self.assertEqual(r.json()["target"], f"/f/mine-{i}", "the backend's stale answer was delivered")

    def test_sample_backend_frames_a_get_body_as_a_body(self):
        """The sample backend (Debian's cpp-httplib 0.11.4) reads a GET, HEAD or OPTIONS body with
        Content-Length or chunked framing as a body: a second request inside it is never answered,
        so it cannot poison a pool even without the gateway's Connection: close."""
        smuggled = b"GET /petstore/v1/store/inventory HTTP/1.1\r\nHost: b\r\n\r\n"
        chunked = b"%x\r\n" % len(smuggled) + smuggled + b"\r\n0\r\n\r\n"
        for method in (b"GET", b"HEAD", b"OPTIONS"):
            for framing, body in ((b"Content-Length: %d" % len(smuggled), smuggled),
                                  (b"Transfer-Encoding: chunked", chunked)):
                with socket.create_connection(("127.0.0.1", self.backend.port), timeout=1.0) as s:
                    s.sendall(method + b" /echo HTTP/1.1\r\nHost: b\r\n" + framing + b"\r\n\r\n" + body)
                    received = b""
                    try:
                        while True:
                            chunk = s.recv(65536)
                            if not chunk:
                                break
                            received += chunk
                    except socket.timeout:
                        pass
                self.assertEqual(received.count(b"HTTP/1.1 "), 1, (method, framing, received[:300]))

    # --- no leaks ---

    def test_no_thread_or_connection_leak_after_200_faulty_requests(self):
        pid = self.gw.proc.pid
        # Warm up: every pool and worker that will exist, exists.
        for _ in range(3):
            self.assert_good_request_works()
            self.faulty_get("/warm")
        threads_before = harness.thread_count(pid)
        fds_before = harness.open_fd_count(pid)

        # 40 requests for each of five faults: 200 in all, four at a time.
        results = []
        for mode in ("reset", "garbage", "truncated", "close_after", "closed"):
            self.faulty.mode = mode if mode != "closed" else "good"

            def one(i, mode=mode):
                if mode == "closed":
                    return mode, curl(self.gw.http(f"/closed/leak-{i}"), headers=[f"apikey: {self.key}"]).status
                return mode, self.faulty_get(f"/leak-{i}").status

            with ThreadPoolExecutor(4) as pool:
                results += list(pool.map(one, range(40)))
        # Timeouts too (each holds a worker for the API's timeout): 10 at once.
        with ThreadPoolExecutor(10) as pool:
            slow = list(pool.map(lambda _: curl(self.gw.http("/slowapi/slow?ms=2500")).status, range(10)))
        self.assertEqual(set(slow), {504})
        self.assertEqual(len(results), 200)
        # reset and truncated break off after a 200 head: curl reports the 200 (and its exit code 18).
        expected = {"reset": 200, "garbage": 502, "truncated": 200, "close_after": 200, "closed": 502}
        wrong = [(m, s) for m, s in results if s != expected[m]]
        self.assertFalse(wrong, wrong[:10])

        self.faulty.mode = "good"
        self.assert_good_request_works()
        self.assert_faulty_backend_recovered()
        time.sleep(3)  # let the slow backend calls that were abandoned finish
        threads_after = harness.thread_count(pid)
        fds_after = harness.open_fd_count(pid)
        print(f"\nthreads {threads_before} -> {threads_after}, open fds {fds_before} -> {fds_after} "
              f"after 200 faulty requests and 10 timeouts", file=sys.stderr)
        self.assertLessEqual(threads_after, threads_before + 2,
                             f"threads grew from {threads_before} to {threads_after}")
        # Upstream pools may keep a few idle connections; a leak would be ~200.
        self.assertLessEqual(fds_after, fds_before + 20, f"open fds grew from {fds_before} to {fds_after}")
