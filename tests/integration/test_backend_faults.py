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
    """

    def __init__(self):
        self.mode = "good"
        self.requests = 0
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

    @staticmethod
    def read_request(conn, buffered):
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
                head, buffered = self.read_request(conn, buffered)
                if head is None:
                    return
                with self.lock:
                    self.requests += 1
                mode = self.mode
                body = b'{"backend": "faulty", "mode": "' + mode.encode() + b'"}'
                ok = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                      str(len(body)).encode() + b"\r\n\r\n" + body)
                if mode == "good":
                    conn.sendall(ok)
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
name = "SlowAPI"
version = "1.0.0"
context = "/slowapi"
production = "{cls.backend.url}"
security = []
timeoutSeconds = 1
"""
        cls.gw = cls.start(harness.MicroGw(cls.workdir, harness.base_config(
            cls.backend, issuer_apis=[("EchoAPI", "*"), ("ClosedAPI", "*")], extra=extra)))
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
