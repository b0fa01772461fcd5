"""Issue 22, items 2, 3, 4 and 9: what one client (or a few) can take from every other one.

- item 3: a flood of wrong passwords neither delays readiness nor a cached credential, and the
  argon2id checks in flight are capped (503 with Retry-After past the cap);
- item 4: connection slots (per-address cap, the metrics listener's own budget, idle keep-alive
  connections closed first under pressure);
- item 9: lingering close (a client that reads the 413 only after sending its whole body gets it);
- item 2: slow request bodies (buffered before a backend connection is taken, 408 when stalled).

Clients bind their sockets to 127.0.0.2..7 to be seen as different addresses (Linux routes all of
127.0.0.0/8 to the loopback interface).
"""
import base64
import http.client
import json
import socket
import ssl
import threading
import time
import unittest

import harness


def tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def basic(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def timed_get(port, path, headers=None, tls=False, source="127.0.0.1", timeout=20):
    """One GET on a fresh connection from `source`: (status, headers, body, seconds)."""
    started = time.monotonic()
    if tls:
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=timeout, context=tls_context(),
                                           source_address=(source, 0))
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout, source_address=(source, 0))
    try:
        conn.request("GET", path, headers=headers or {})
        res = conn.getresponse()
        body = res.read()
        return res.status, {k.lower(): v for k, v in res.getheaders()}, body, time.monotonic() - started
    finally:
        conn.close()


class PasswordFloodTest(harness.GatewayTestCase):
    """Item 3: wrong passwords from six addresses keep the worker pool busy with argon2id."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Two workers: one password check at a time by default (workerThreads / 2).
        config = harness.with_listener_keys(harness.base_config(), workerThreads=2)
        cls.gw = cls.start(harness.MicroGw(cls.workdir, config))

    def test_readiness_and_cached_credentials_answer_during_a_password_flood(self):
        gw = self.gw
        # The admin's credential is verified once, so later calls are cache hits.
        status, _, _, _ = timed_get(gw.https_port, "/apikey", {"Authorization": harness.ADMIN_BASIC}, tls=True)
        self.assertEqual(status, 200)

        stop = threading.Event()
        statuses = []
        busy = []
        lock = threading.Lock()

        def flood(address, worker):
            # One kept-alive connection per thread: the load is the password checks, not TLS
            # handshakes (which would only measure this machine's CPU).
            conn = None
            n = 0
            while not stop.is_set() and n < 20:
                n += 1
                try:
                    if conn is None:
                        conn = http.client.HTTPSConnection("127.0.0.1", gw.https_port, timeout=30,
                                                           context=tls_context(), source_address=(address, 0))
                    conn.request("GET", "/apikey", headers={"Authorization": basic(f"nobody-{worker}-{n}", "wrong")})
                    res = conn.getresponse()
                    body = res.read()
                    s, h = res.status, {k.lower(): v for k, v in res.getheaders()}
                except (OSError, http.client.HTTPException):
                    if conn is not None:
                        conn.close()
                    conn = None
                    continue
                if h.get("connection", "").lower() == "close":
                    conn.close()
                    conn = None
                with lock:
                    statuses.append(s)
                    if s == 503:
                        busy.append((h, body))
            if conn is not None:
                conn.close()

        threads = [threading.Thread(target=flood, args=(f"127.0.0.{2 + i}", f"{i}-{j}"))
                   for i in range(6) for j in range(4)]
        for t in threads:
            t.start()
        try:
            time.sleep(0.5)  # the pool's queue fills
            ready_times, key_times = [], []
            for _ in range(5):
                s, _, _, took = timed_get(gw.metrics_port, "/health/ready")
                self.assertEqual(s, 200)
                ready_times.append(took)
                s, _, _, took = timed_get(gw.https_port, "/apikey", {"Authorization": harness.ADMIN_BASIC}, tls=True)
                self.assertEqual(s, 200)
                key_times.append(took)
                time.sleep(0.1)
        finally:
            stop.set()
            for t in threads:
                t.join(60)
        self.assertLess(max(ready_times), 2.0, f"/health/ready took {ready_times}")
        self.assertLess(max(key_times), 2.0, f"/apikey with a cached credential took {key_times}")
        # The cap answered: 503, fault 900503, Retry-After, a description saying why.
        self.assertTrue(busy, f"no 503 among {sorted(set(statuses))}")
        headers, body = busy[0]
        self.assertGreaterEqual(int(headers["retry-after"]), 1)
        fault = json.loads(body)["fault"]
        self.assertEqual(fault["code"], 900503)
        self.assertIn("too many passwords", fault["description"])
        self.assertIn(401, statuses)  # some wrong passwords were checked and refused
        self.assertTrue(gw.alive())


def connect(port, source="127.0.0.1"):
    s = socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(source, 0))
    return s


def answered(sock, request=b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n", timeout=5.0):
    """Sends a request on an open socket; the status of the answer, or 0 when the connection was
    closed or reset without one."""
    sock.settimeout(timeout)
    try:
        sock.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    except (ConnectionResetError, BrokenPipeError, socket.timeout):
        return 0
    return harness.parse_http_response(data).status


class ConnectionSlotsTest(harness.GatewayTestCase):
    """Item 4: per-address cap, idle connections closed first under pressure, the metrics
    listener's own budget."""

    def gateway(self, **keys):
        keys.setdefault("keepAliveTimeoutSeconds", 60)
        keys.setdefault("headerTimeoutSeconds", 60)
        workdir = self.workdir + "/" + self.id().rsplit(".", 1)[1]
        config = harness.with_listener_keys(harness.base_config(), ioThreads=2, **keys)
        gw = harness.MicroGw(workdir, config)
        self.processes.append(gw)
        return gw

    def hold(self, sockets):
        self.addCleanup(lambda: [s.close() for s in sockets])
        return sockets

    def test_one_address_takes_its_cap_and_no_more(self):
        gw = self.gateway(maxConnectionsPerAddress=3)
        held = self.hold([connect(gw.http_port, "127.0.0.2") for _ in range(3)])
        for s in held:
            self.assertEqual(answered(s), 200)  # kept alive, idle, holding a slot
        extra = self.hold([connect(gw.http_port, "127.0.0.2")])[0]
        self.assertEqual(answered(extra), 0)  # the fourth from that address: closed at once
        other = self.hold([connect(gw.http_port, "127.0.0.3")])[0]
        self.assertEqual(answered(other), 200)
        held[0].close()
        time.sleep(0.3)
        again = self.hold([connect(gw.http_port, "127.0.0.2")])[0]
        self.assertEqual(answered(again), 200)  # a slot given back is a slot again

    def test_idle_keep_alive_connections_make_room_for_a_new_client(self):
        gw = self.gateway(maxConnections=4)
        held = self.hold([connect(gw.http_port, f"127.0.0.{2 + i}") for i in range(4)])
        for s in held:
            self.assertEqual(answered(s), 200)
        time.sleep(0.2)
        fresh = self.hold([connect(gw.http_port, "127.0.0.6")])[0]
        self.assertEqual(answered(fresh), 200)
        # One idle connection went to make room (the longest idle on the I/O thread that accepted
        # the new one, or on another): its next request sees the close; the others still serve.
        statuses = [answered(s, timeout=2) for s in held]
        self.assertEqual(sorted(statuses), [0, 200, 200, 200], statuses)

    def test_metrics_listener_answers_while_the_gateway_is_full(self):
        gw = self.gateway(maxConnections=3)
        # Partial heads: connections in use, not idle, so nothing can be closed to make room.
        held = self.hold([connect(gw.http_port, f"127.0.0.{2 + i}") for i in range(3)])
        for s in held:
            s.sendall(b"GET /health HTTP/1.1\r\n")
        time.sleep(0.3)
        refused = self.hold([connect(gw.http_port, "127.0.0.6")])[0]
        self.assertEqual(answered(refused), 0)
        status, _, body, took = timed_get(gw.metrics_port, "/health/live")
        self.assertEqual(status, 200)
        status, _, _, _ = timed_get(gw.metrics_port, "/health/ready")
        self.assertEqual(status, 200)


class LingeringCloseTest(harness.GatewayTestCase):
    """Item 9: a client that sends its whole (too large) body before reading gets the 413."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = cls.start(harness.Backend(cls.workdir))
        config = harness.with_listener_keys(harness.base_config(cls.backend), maxRequestBytes=1048576)
        config += '\n[[apis.api]]\nname = "Open"\nversion = "1"\ncontext = "/open"\n' \
                  f'production = "{cls.backend.url}/echo"\nsecurity = []\n'
        cls.gw = cls.start(harness.MicroGw(cls.workdir, config))

    def send_then_read(self, conn, size=20 * 1024 * 1024, piece=256 * 1024, pause=0.01):
        conn.putrequest("POST", "/open/upload")
        conn.putheader("Content-Type", "application/octet-stream")
        conn.putheader("Content-Length", str(size))
        conn.endheaders()
        block = b"x" * piece
        sent = 0
        while sent < size:
            conn.send(block[:min(piece, size - sent)])
            sent += piece
            time.sleep(pause)
        res = conn.getresponse()
        return res.status, res.read()

    def test_plain_http_client_gets_the_413(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.gw.http_port, timeout=20)
        try:
            status, body = self.send_then_read(conn)
        finally:
            conn.close()
        self.assertEqual(status, 413)
        self.assertEqual(json.loads(body)["fault"]["code"], 900413)
        self.assertIn(b"maxRequestBytes", body)

    def test_tls_client_gets_the_413(self):
        conn = http.client.HTTPSConnection("127.0.0.1", self.gw.https_port, timeout=20, context=tls_context())
        try:
            status, body = self.send_then_read(conn)
        finally:
            conn.close()
        self.assertEqual(status, 413)
        self.assertIn(b"maxRequestBytes", body)


class SlowBodyTest(harness.GatewayTestCase):
    """Item 2: slow request bodies are buffered before a backend connection is taken, a stalled or
    too slow body gets 408, and a backend's connections in use are capped."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        from recording_backend import RecordingBackend, response

        def responder(req):
            if req.target.endswith("/slow"):
                time.sleep(2.5)
            return response(200, body=b"ok")

        cls.backend = RecordingBackend(responder=responder)
        cls.addClassCleanup(cls.backend.stop)
        url = cls.backend.url
        extra = f"""
[[apis.api]]
name = "SlowAPI"
version = "1.0.0"
context = "/keyed"
production = "{url}/keyed"

[[apis.api]]
name = "OpenAPI"
version = "1.0.0"
context = "/open"
production = "{url}/open"
security = []
"""
        config = harness.with_listener_keys(
            harness.base_config(None, [("SlowAPI", "*")], extra),
            bodyTimeoutSeconds=2, maxConnectionsPerBackend=4)
        cls.gw = cls.start(harness.MicroGw(cls.workdir, config))
        status, _, body, _ = timed_get(cls.gw.https_port, "/apikey", {"Authorization": harness.ADMIN_BASIC}, tls=True)
        assert status == 200, body
        cls.key = body.decode().strip()

    def connections(self):
        with self.backend.lock:
            return len(self.backend.connections)

    def post_head(self, path, length, source="127.0.0.1"):
        s = connect(self.gw.http_port, source)
        s.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n".encode())
        return s

    def read_answer(self, s, timeout=15):
        s.settimeout(timeout)
        data = b""
        try:
            while b"\r\n\r\n" not in data:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        except (ConnectionResetError, socket.timeout):
            pass
        return harness.parse_http_response(data)

    def test_slow_keyless_bodies_hold_no_backend_connection(self):
        import selectors
        before = self.connections()
        slow = [self.post_head("/open/upload", 100, f"127.0.0.{2 + i}") for i in range(4)]
        self.addCleanup(lambda: [s.close() for s in slow])
        started = time.monotonic()
        sel = selectors.DefaultSelector()
        for s in slow:
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ)
        answers = {}
        keyed = None
        while len(answers) < len(slow) and time.monotonic() - started < 10:
            for s in slow:  # one byte a second on every connection still open: never a stall
                if s not in answers:
                    try:
                        s.send(b"x")
                    except OSError:
                        pass
            if keyed is None and time.monotonic() - started > 3:
                self.assertEqual(self.connections(), before, "a slow body took a backend connection")
                keyed = timed_get(self.gw.http_port, "/keyed/x", {"apikey": self.key})
            tick = time.monotonic() + 1
            while time.monotonic() < tick:
                for key, _ in sel.select(timeout=0.05):
                    s = key.fileobj
                    sel.unregister(s)
                    s.setblocking(True)
                    answers[s] = (self.read_answer(s), time.monotonic() - started)
        # The keyed request went through promptly, meanwhile.
        self.assertIsNotNone(keyed)
        self.assertEqual(keyed[0], 200, keyed[2])
        self.assertLess(keyed[3], 1.0)
        # 1 byte/s is under minBodyBytesPerSecond (240) once the 5 s grace is over: 408.
        self.assertEqual(len(answers), len(slow))
        for reply, at in answers.values():
            self.assertEqual(reply.status, 408, reply.body)
            self.assertEqual(json.loads(reply.body)["fault"]["code"], 900408)
            self.assertGreater(at, 4.0)
            self.assertLess(at, 8.0)
        self.assertFalse([r for r in self.backend.requests() if r.target == "/open/upload"])

    def test_stalled_body_gets_408_after_body_timeout(self):
        s = self.post_head("/open/upload", 100)
        self.addCleanup(s.close)
        s.sendall(b"0123456789")
        started = time.monotonic()
        reply = self.read_answer(s)
        took = time.monotonic() - started
        self.assertEqual(reply.status, 408, reply.body)
        self.assertIn("bodyTimeoutSeconds", json.loads(reply.body)["fault"]["description"])
        self.assertGreater(took, 1.5)
        self.assertLess(took, 4.5)

    def test_a_buffered_body_reaches_the_backend_whole(self):
        body = bytes(range(256)) * 1024  # 256 KiB, under requestBufferBytes
        conn = http.client.HTTPConnection("127.0.0.1", self.gw.http_port, timeout=20)
        try:
            conn.request("POST", "/open/whole", body=body)
            res = conn.getresponse()
            res.read()
        finally:
            conn.close()
        self.assertEqual(res.status, 200)
        got = [r for r in self.backend.requests() if r.target == "/open/whole"]
        self.assertEqual(len(got), 1)
        self.assertEqual(bytes(got[0].body), body)

    def test_backend_connections_are_capped(self):
        results = []

        def call():
            results.append(timed_get(self.gw.http_port, "/keyed/slow", {"apikey": self.key})[:3])

        threads = [threading.Thread(target=call) for _ in range(5)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        statuses = sorted(r[0] for r in results)
        self.assertEqual(statuses, [200, 200, 200, 200, 503], results)
        busy = next(r for r in results if r[0] == 503)
        self.assertEqual(busy[1]["retry-after"], "1")
        self.assertEqual(json.loads(busy[2])["fault"]["code"], 900503)
        self.assertIn("maxConnectionsPerBackend", json.loads(busy[2])["fault"]["description"])


if __name__ == "__main__":
    unittest.main()
