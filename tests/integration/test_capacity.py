"""Capacity (SPEC section 10, issue 9): event-driven I/O, so the only limits on concurrent clients are
maxConnections and file descriptors. 1,000 idle connections and 1,000 connections trickling one
header byte a second do not keep a new client waiting, and the trickling ones are closed when
headerTimeoutSeconds (a deadline for the whole head) runs out."""
import resource
import selectors
import socket
import time
import unittest

import harness
import wire
from recording_backend import RecordingBackend

IDLE = 1000
TRICKLING = 1000
HEADER_TIMEOUT = 4
NEW_CLIENT_BUDGET = 0.5


def raise_fd_limit(wanted):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class CapacityTest(harness.GatewayTestCase):
    @classmethod
    def setUpClass(cls):
        # Our 2,000 sockets plus the gateway's (it inherits this limit, and may raise its own).
        cls.fd_limit = raise_fd_limit(8192)
        super().setUpClass()
        cls.backend = RecordingBackend()
        cls.addClassCleanup(cls.backend.stop)
        extra = f"""
[[apis.api]]
name = "RecAPI"
version = "1.0.0"
context = "/rec"
production = "{cls.backend.url}/up"
security = []
"""
        config = harness.with_listener_keys(harness.base_config(None, None, extra),
                                            headerTimeoutSeconds=HEADER_TIMEOUT, keepAliveTimeoutSeconds=HEADER_TIMEOUT,
                                            maxConnections=10000,
                                            # Thousands of clients, all on 127.0.0.1 here: the
                                            # per-address cap (test_shared_resources) is off.
                                            maxConnectionsPerAddress=0)
        cls.gw = cls.start(harness.MicroGw(cls.workdir, config))
        cls.port = cls.gw.http_port

    def connect_many(self, n):
        socks = []
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.settimeout(2)
            s.connect(("127.0.0.1", self.port))
            socks.append(s)
        return socks

    def new_client(self):
        """One fresh client: a proxied GET; returns (status, seconds)."""
        started = time.monotonic()
        with wire.Client(self.port, timeout=3) as c:
            c.send(b"GET /rec/new HTTP/1.1\r\nHost: x\r\n\r\n")
            resps = c.read_responses(1, timeout=3)
        return (resps[0].status if resps else 0), time.monotonic() - started

    def test_idle_and_trickling_connections_do_not_stop_new_clients(self):
        """With 1,000 idle and 1,000 trickling connections held, five new clients in a row are each
        answered in < 500 ms; then every trickling connection is closed at headerTimeoutSeconds
        (not before it, not much after), although it sent a byte every second."""
        self.assertGreaterEqual(self.fd_limit, IDLE + TRICKLING + 200, "RLIMIT_NOFILE too low for this test")
        idle = trickling = []
        # Warm-up: the first backend connection and first request are not what is measured here.
        self.assertEqual(self.new_client()[0], 200)
        sel = selectors.DefaultSelector()
        try:
            idle = self.connect_many(IDLE)
            trickling = []
            opened = {}
            closed_at = {}
            for _ in range(TRICKLING):
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.settimeout(2)
                s.connect(("127.0.0.1", self.port))
                s.sendall(b"GET /rec/trickle HTTP/1.1\r\nHost: x\r\nX-Trickle: ")
                s.setblocking(False)
                opened[s] = time.monotonic()
                trickling.append(s)
                sel.register(s, selectors.EVENT_READ)
            last_drip = time.monotonic()
            timings = []

            def pump(until):
                """Drips a byte into every open trickling connection each second and notes closes."""
                nonlocal last_drip
                while time.monotonic() < until:
                    for key, _ in sel.select(timeout=0.05):
                        s = key.fileobj
                        try:
                            data = s.recv(4096)
                        except BlockingIOError:
                            continue
                        except ConnectionResetError:
                            data = b""
                        if not data:  # an answer (408) before the close is fine: wait for the close
                            closed_at[s] = time.monotonic()
                            sel.unregister(s)
                    if time.monotonic() - last_drip >= 1.0:
                        last_drip = time.monotonic()
                        for s in trickling:
                            if s in closed_at:
                                continue
                            try:
                                s.send(b"a")
                            except (BrokenPipeError, ConnectionResetError):
                                closed_at[s] = time.monotonic()
                                sel.unregister(s)
                            except BlockingIOError:
                                pass

            # New clients while both crowds are held (well within headerTimeoutSeconds).
            pump(time.monotonic() + 0.7)  # the crowds are all accepted and waiting
            for _ in range(5):
                pump(time.monotonic() + 0.3)
                timings.append(self.new_client())
            for status, seconds in timings:
                self.assertEqual(status, 200, f"a new client was not answered: {timings}")
                self.assertLess(seconds, NEW_CLIENT_BUDGET, f"a new client waited: {timings}")
            still_open = IDLE - sum(1 for s in idle if self._closed(s))
            self.assertGreater(still_open, IDLE // 2, "the idle crowd was gone before the new clients came")

            # Every trickling connection is closed at the header deadline.
            pump(max(opened.values()) + HEADER_TIMEOUT + 3)
            never = [s for s in trickling if s not in closed_at]
            self.assertFalse(never, f"{len(never)} of {TRICKLING} trickling connections were never closed")
            lifetimes = sorted(closed_at[s] - opened[s] for s in trickling)
            self.assertGreaterEqual(lifetimes[0], HEADER_TIMEOUT - 0.5, "closed before headerTimeoutSeconds")
            self.assertLessEqual(lifetimes[-1], HEADER_TIMEOUT + 2.5, "closed well after headerTimeoutSeconds")
            # And the gateway still serves.
            status, seconds = self.new_client()
            self.assertEqual(status, 200)
        finally:
            sel.close()
            for s in list(idle) + list(trickling):
                s.close()

    @staticmethod
    def _closed(s):
        """True when the peer closed s or answered on it (it gave up on it); a non-destructive peek."""
        s.setblocking(False)
        try:
            s.recv(1, socket.MSG_PEEK)
            return True
        except BlockingIOError:
            return False
        except OSError:
            return True
        finally:
            s.settimeout(2)


if __name__ == "__main__":
    unittest.main()
