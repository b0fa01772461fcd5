"""HTTP/2 to backends and gRPC through micro-gw (issue 23 items 3 and 4), with the real binary, the
gRPC sample (samples/grpc/echo_server.py, Python grpcio) and nghttpd as backends:

- an HTTP/1.1 client reaches h2c:// backends: a 4 MiB download from nghttpd, a gRPC frame relayed
  with its trailers (chunked, trailer fields);
- python3-grpcio clients over h2c (the HTTP listener) and TLS h2 (the HTTPS listener, the dev
  certificate): the four call kinds with a valid key, custom trailing metadata reaching the client,
  the key never reaching the service; missing, wrong and revoked keys answered UNAUTHENTICATED (16),
  a throttled call RESOURCE_EXHAUSTED (8) with the retry delay in grpc-message, no such method
  UNIMPLEMENTED (12), a backend that is down UNAVAILABLE (14); a service's own status passes through;
- many concurrent calls share a few multiplexed connections to the backend.
"""
import hashlib
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time

import grpc
from cryptography.hazmat.primitives import serialization

import harness
from harness import ADMIN_BASIC, curl
from recording_backend import RecordingBackend
from test_upstream_tls import _pem_key, make_ca, make_leaf

ECHO_SERVER = os.path.join(harness.SOURCE_DIR, "samples", "grpc", "echo_server.py")
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable


def grpc_frame(message):
    return b"\x00" + len(message).to_bytes(4, "big") + message


def wait_listening(port, proc, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"exited with {proc.returncode}")
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def backend_connections(port):
    """Established TCP connections to 127.0.0.1:port (the gateway's, during a test)."""
    out = subprocess.run(["ss", "-Htn", "state", "established", "dst", f"127.0.0.1:{port}"],
                         capture_output=True, text=True).stdout
    return len([line for line in out.splitlines() if line.strip()])


class GrpcTest(harness.GatewayTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        ready = os.path.join(cls.workdir, "echo.ready")
        cls.echo = cls.start(harness.Process([PYTHON, ECHO_SERVER, "--port", "0", "--ready-file", ready],
                                             cls.workdir, "echo"))
        cls.echo_port = harness.wait_for_file(ready, cls.echo.proc)

        # nghttpd (Debian nghttp2-server) serves files over h2c.
        cls.htdocs = os.path.join(cls.workdir, "htdocs")
        os.makedirs(cls.htdocs)
        cls.big = os.urandom(4 * 1024 * 1024)
        with open(os.path.join(cls.htdocs, "big.bin"), "wb") as f:
            f.write(cls.big)
        cls.nghttpd_port = harness.unused_port()
        cls.nghttpd = cls.start(harness.Process(
            ["nghttpd", "--no-tls", "-d", cls.htdocs, str(cls.nghttpd_port)], cls.workdir, "nghttpd"))
        wait_listening(cls.nghttpd_port, cls.nghttpd.proc)

        # The sample over TLS (h2://, ALPN h2), its certificate from a CA in the gateway's truststore;
        # and a TLS backend that speaks HTTP/1.1 only (no ALPN h2).
        ca_key, ca_cert = make_ca("micro-gw gRPC test CA")
        trust = os.path.join(cls.workdir, "truststore")
        os.makedirs(trust)
        with open(os.path.join(trust, "ca.pem"), "wb") as f:
            f.write(ca_cert.public_bytes(serialization.Encoding.PEM))
        key, cert = make_leaf(ca_key, ca_cert, "localhost", ["localhost"], ["127.0.0.1"])
        cert_path, key_path = os.path.join(cls.workdir, "echo-cert.pem"), os.path.join(cls.workdir, "echo-key.pem")
        with open(cert_path, "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
        with open(key_path, "wb") as f:
            f.write(_pem_key(key))
        tls_ready = os.path.join(cls.workdir, "echo-tls.ready")
        cls.echo_tls = cls.start(harness.Process(
            [PYTHON, ECHO_SERVER, "--port", "0", "--tls", cert_path, key_path, "--ready-file", tls_ready],
            cls.workdir, "echo-tls"))
        cls.echo_tls_port = harness.wait_for_file(tls_ready, cls.echo_tls.proc)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        with open(os.path.join(cls.workdir, "h1.pem"), "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM) + _pem_key(key))
        ctx.load_cert_chain(os.path.join(cls.workdir, "h1.pem"))
        cls.h1_tls = RecordingBackend(ssl_context=ctx)
        cls.addClassCleanup(cls.h1_tls.stop)

        cls.down_port = harness.unused_port()
        apis_dir = os.path.join(cls.workdir, "apis")
        os.makedirs(apis_dir)
        with open(os.path.join(harness.SOURCE_DIR, "samples", "grpc", "echo.yaml")) as f:
            definition = f.read().replace("127.0.0.1:50051", f"127.0.0.1:{cls.echo_port}")
        with open(os.path.join(apis_dir, "echo.yaml"), "w") as f:
            f.write(definition)
        extra = f"""
[apis]
definitions = ["apis"]

[[throttling.policy]]
name = "TwoPerMin"
level = "api"
count = 2
unitTime = 1
timeUnit = "min"

[[apis.api]]
name = "Files"
version = "1.0.0"
context = "/files"
production = "h2c://127.0.0.1:{cls.nghttpd_port}"
security = []

[[apis.api]]
name = "Limited"
version = "1.0.0"
context = "/limited.v1.Limited"
production = "h2c://127.0.0.1:{cls.echo_port}/echo.v1.Echo"
throttlingTier = "TwoPerMin"

[[apis.api]]
name = "EchoTls"
version = "1.0.0"
context = "/tls.v1.Echo"
production = "h2://localhost:{cls.echo_tls_port}/echo.v1.Echo"

[[apis.api]]
name = "NoAlpn"
version = "1.0.0"
context = "/noalpn.v1.Echo"
production = "h2://localhost:{cls.h1_tls.port}/echo.v1.Echo"

[[apis.api]]
name = "Down"
version = "1.0.0"
context = "/down.v1.Down"
production = "h2c://127.0.0.1:{cls.down_port}/down.v1.Down"
"""
        apis = [("EchoService", "1.0.0"), ("Limited", "1.0.0"), ("Down", "1.0.0"), ("EchoTls", "1.0.0"),
                ("NoAlpn", "1.0.0")]
        config = harness.with_listener_keys(harness.base_config(issuer_apis=apis, extra=extra),
                                            trustStorePath=trust)
        cls.gw = cls.start(harness.MicroGw(cls.workdir, config))
        cls.key = cls.issue()
        cls.cert = ssl.get_server_certificate(("127.0.0.1", cls.gw.https_port)).encode()

    @classmethod
    def tearDownClass(cls):
        cls.nghttpd.stop(signal.SIGKILL)  # nghttpd has no SIGTERM handler
        super().tearDownClass()

    @classmethod
    def issue(cls):
        return harness.issue_key(cls.gw)

    def channels(self):
        """The gateway over h2c (HTTP listener) and over TLS h2 (HTTPS listener)."""
        plain = grpc.insecure_channel(f"127.0.0.1:{self.gw.http_port}")
        tls = grpc.secure_channel(f"localhost:{self.gw.https_port}",
                                  grpc.ssl_channel_credentials(root_certificates=self.cert))
        self.addCleanup(plain.close)
        self.addCleanup(tls.close)
        return {"h2c": plain, "h2": tls}

    def md(self, key=None):
        return (("apikey", self.key if key is None else key),)

    def assertStatus(self, call, code, details=None):
        with self.assertRaises(grpc.RpcError) as caught:
            call()
        self.assertEqual(caught.exception.code(), code, caught.exception.details())
        if details:
            self.assertIn(details, caught.exception.details())
        return caught.exception

    # --- HTTP/1.1 clients, h2c backends ---

    def test_http11_client_downloads_from_an_h2c_backend(self):
        r = subprocess.run(["curl", "-s", "--http1.1", "--max-time", "60", "-o", "-", "-w", "%{http_code}",
                            self.gw.http("/files/big.bin")], capture_output=True, timeout=70)
        body, status = r.stdout[:-3], r.stdout[-3:]
        self.assertEqual(status, b"200")
        self.assertEqual(len(body), len(self.big))
        self.assertEqual(hashlib.sha256(body).hexdigest(), hashlib.sha256(self.big).hexdigest())
        self.assertEqual(curl(self.gw.http("/files/missing")).status, 404)  # nghttpd's own answer

    def test_http11_client_gets_a_grpc_answer_with_trailers(self):
        frame = grpc_frame(b"over http/1.1")
        raw = harness.raw_exchange(self.gw.http_port, (
            f"POST /echo.v1.Echo/Unary HTTP/1.1\r\nHost: gw\r\napikey: {self.key}\r\n"
            f"Content-Type: application/grpc\r\nTE: trailers\r\nContent-Length: {len(frame)}\r\n"
            "Connection: close\r\n\r\n").encode() + frame, timeout=20)
        head, _, rest = raw.partition(b"\r\n\r\n")
        self.assertIn(b"HTTP/1.1 200", head)
        self.assertIn(b"transfer-encoding: chunked", head.lower())
        self.assertIn(frame, rest)
        self.assertIn(b"grpc-status: 0", rest)           # the trailers, after the last chunk
        self.assertIn(b"x-echo-trailer: Unary", rest)
        self.assertIn(b"x-echo-saw-apikey: no", rest)    # the key stays at the gateway

    def test_http11_grpc_refusal_is_grpc_shaped(self):
        r = curl(self.gw.http("/echo.v1.Echo/Unary"), method="POST",
                 headers=["Content-Type: application/grpc"], data="x")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.headers["content-type"], "application/grpc")
        self.assertEqual(r.headers["grpc-status"], "16")
        self.assertEqual(r.headers["grpc-message"], "an API key is required in the 'apikey' header")
        self.assertEqual(r.body, "")

    # --- gRPC clients ---

    def test_four_call_kinds_through_both_listeners(self):
        for name, ch in self.channels().items():
            with self.subTest(listener=name):
                unary = ch.unary_unary("/echo.v1.Echo/Unary")
                reply, call = unary.with_call(b"hello", metadata=self.md(), timeout=20)
                self.assertEqual(reply, b"hello")
                trailing = dict(call.trailing_metadata())
                self.assertEqual(trailing["x-echo-trailer"], "Unary")
                self.assertEqual(trailing["x-echo-saw-apikey"], "no")
                self.assertEqual(dict(call.initial_metadata())["x-echo-method"], "Unary")

                stream = ch.unary_stream("/echo.v1.Echo/ServerStream")(b"ab", metadata=self.md(), timeout=20)
                self.assertEqual(list(stream), [b"0:ab", b"1:ab", b"2:ab"])
                self.assertEqual(dict(stream.trailing_metadata())["x-echo-trailer"], "ServerStream")

                joined = ch.stream_unary("/echo.v1.Echo/ClientStream")(
                    iter([b"a", b"bb", b"ccc"]), metadata=self.md(), timeout=20)
                self.assertEqual(joined, b"abbccc")

                parts = [os.urandom(n) for n in (1, 1000, 70000, 300000)]  # past one window
                bidi = ch.stream_stream("/echo.v1.Echo/Bidi")(iter(parts), metadata=self.md(), timeout=30)
                self.assertEqual(list(bidi), parts)
                self.assertEqual(dict(bidi.trailing_metadata())["x-echo-trailer"], "Bidi")

    def test_h2_tls_backend_with_alpn(self):
        ch = self.channels()["h2"]
        reply, call = ch.unary_unary("/tls.v1.Echo/Unary").with_call(b"over tls", metadata=self.md(), timeout=20)
        self.assertEqual(reply, b"over tls")
        self.assertEqual(dict(call.trailing_metadata())["x-echo-trailer"], "Unary")
        parts = [b"a" * 100000, b"b"]
        self.assertEqual(list(ch.stream_stream("/tls.v1.Echo/Bidi")(iter(parts), metadata=self.md(), timeout=20)),
                         parts)
        # A TLS backend that does not agree to HTTP/2 in the handshake: UNAVAILABLE, never HTTP/1.1.
        self.assertStatus(lambda: ch.unary_unary("/noalpn.v1.Echo/Unary")(b"x", metadata=self.md(), timeout=20),
                          grpc.StatusCode.UNAVAILABLE, "unreachable")
        log = self.gw.output()
        self.assertIn("ALPN h2", log)

    def test_key_failures_are_unauthenticated(self):
        ch = self.channels()["h2c"]
        unary = ch.unary_unary("/echo.v1.Echo/Unary")
        e = self.assertStatus(lambda: unary(b"x", timeout=20), grpc.StatusCode.UNAUTHENTICATED)
        self.assertEqual(e.details(), "an API key is required in the 'apikey' header")
        self.assertStatus(lambda: unary(b"x", metadata=self.md("not-a-key"), timeout=20),
                          grpc.StatusCode.UNAUTHENTICATED)
        revoked = self.issue()
        self.assertEqual(unary(b"ok", metadata=self.md(revoked), timeout=20), b"ok")
        r = curl(self.gw.https("/apikey/revoke"), method="POST",
                 headers=[f"Authorization: {ADMIN_BASIC}", "Content-Type: application/json"],
                 data=json.dumps({"apiKey": revoked}))
        self.assertEqual(r.status, 200, r.body)
        self.assertStatus(lambda: unary(b"x", metadata=self.md(revoked), timeout=20),
                          grpc.StatusCode.UNAUTHENTICATED, "revoked")

    def test_throttled_call_is_resource_exhausted_with_the_retry_delay(self):
        unary = self.channels()["h2"].unary_unary("/limited.v1.Limited/Unary")
        for _ in range(2):
            self.assertEqual(unary(b"n", metadata=self.md(), timeout=20), b"n")
        e = self.assertStatus(lambda: unary(b"n", metadata=self.md(), timeout=20),
                              grpc.StatusCode.RESOURCE_EXHAUSTED, "retry after")
        self.assertIn("TwoPerMin", e.details())

    def test_no_such_method_is_unimplemented_and_backend_down_unavailable(self):
        ch = self.channels()["h2c"]
        self.assertStatus(lambda: ch.unary_unary("/echo.v1.Echo/Nope")(b"x", metadata=self.md(), timeout=20),
                          grpc.StatusCode.UNIMPLEMENTED, "no resource for POST /echo.v1.Echo/Nope")
        self.assertStatus(lambda: ch.unary_unary("/down.v1.Down/Call")(b"x", metadata=self.md(), timeout=20),
                          grpc.StatusCode.UNAVAILABLE, "unreachable")
        # A service's own status passes through untouched.
        self.assertStatus(lambda: ch.unary_unary("/echo.v1.Echo/Unary")(b"status:5", metadata=self.md(),
                                                                        timeout=20),
                          grpc.StatusCode.NOT_FOUND, "asked for status 5")

    def test_concurrent_calls_share_multiplexed_connections(self):
        ch = self.channels()["h2c"]
        bidi = ch.stream_stream("/echo.v1.Echo/Bidi")
        release = threading.Event()
        results = []

        def messages():
            yield b"first"
            release.wait(20)
            yield b"last"

        calls = [bidi(messages(), metadata=self.md(), timeout=30) for _ in range(24)]
        for c in calls:
            self.assertEqual(next(c), b"first")  # every call is open at once
        open_now = backend_connections(self.echo_port)
        release.set()
        for c in calls:
            results.append(list(c))
        self.assertEqual(results, [[b"last"]] * 24)
        # 24 streams at once over at most 4 connections per I/O thread (2 here by default).
        self.assertGreaterEqual(open_now, 1)
        self.assertLessEqual(open_now, 8, "one connection per call: not multiplexed")

    def test_calls_cancelled_by_the_client_while_sending(self):
        # A client cancels a call while its messages still flow (RST_STREAM CANCEL) and the backend
        # has not answered: the gateway's stream stops while the body pump beside the relay still
        # waits for the client's next DATA. Many such calls on both listeners, some with a message
        # in flight; then the gateway still answers (and the sanitizer builds check the memory).
        for name, ch in self.channels().items():
            with self.subTest(listener=name):
                client_stream = ch.stream_unary("/echo.v1.Echo/ClientStream")
                bidi = ch.stream_stream("/echo.v1.Echo/Bidi")
                for i in range(20):
                    sent = threading.Event()
                    hold = threading.Event()

                    def messages(sent=sent, hold=hold, i=i):
                        yield b"x" * (1 + i * 997)
                        sent.set()
                        hold.wait(10)
                        yield b"never sent"

                    if i % 2:
                        call = client_stream.future(messages(), metadata=self.md(), timeout=20)
                    else:
                        call = bidi(messages(), metadata=self.md(), timeout=20)
                        self.assertEqual(len(next(call)), 1 + i * 997)
                    self.assertTrue(sent.wait(10))
                    time.sleep(0.02 * (i % 3))
                    self.assertTrue(call.cancel())
                    hold.set()
                    if i % 2:
                        self.assertTrue(call.cancelled())
                    else:
                        with self.assertRaises(grpc.RpcError) as caught:
                            list(call)
                        self.assertEqual(caught.exception.code(), grpc.StatusCode.CANCELLED)
                reply = ch.unary_unary("/echo.v1.Echo/Unary")(b"still here", metadata=self.md(), timeout=20)
                self.assertEqual(reply, b"still here")
        self.assertIsNone(self.gw.proc.poll())


if __name__ == "__main__":
    import unittest
    unittest.main()
