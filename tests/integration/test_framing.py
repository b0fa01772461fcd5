"""HTTP/1.1 on the wire (SPEC section 10, issue 9): raw-socket probes through the real micro-gw to a
recording backend.

Each refusal test asserts four things: the status, the JSON fault body
`{"fault": {"code", "message", "description"}}` with the status's code, that the server closed the
connection after answering (nothing after a bad request is ever read as a request), and that the
backend received nothing the client did not frame: neither the refused request nor a request
smuggled after it. Every probe carries a unique marker in its request target so the backend's
recording can be searched for it.

Then forwarding: header values and the request target byte for byte (only the API key query
parameter removed), response headers relayed as the backend sent them, HEAD, 1xx, 304, bodies never
compressed or re-encoded by the gateway, pipelining, a 1 GiB body streamed with bounded memory, and
the permittedIP bypass through two X-Forwarded-For lines.
"""
import gzip
import json
import os
import socket
import threading
import time
import unittest
import uuid

import harness
import wire
from harness import ADMIN_BASIC, curl
from recording_backend import RecordingBackend, default_responder, response

MAX_HEADER_BYTES = 8192
MAX_HEADER_COUNT = 30
MAX_REQUEST_BYTES = 65536
HEADER_TIMEOUT = 3
KEEPALIVE_TIMEOUT = 2

FAULT_CODES = {400: 900400, 408: 900408, 413: 900413, 414: 900414, 417: 900417, 431: 900431,
               501: 900501, 505: 900505, 502: 101503, 504: 101504}


def marker():
    return uuid.uuid4().hex[:16]


class FramingTest(harness.GatewayTestCase):
    """One gateway, one recording backend behind an open API (/rec -> /up) and a secured one
    (/srec -> /sup)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.canned = {}  # marker -> response bytes the backend gives to a target containing it
        cls.backend = RecordingBackend(responder=cls.respond, continue_100=False)
        cls.addClassCleanup(cls.backend.stop)
        extra = f"""
[[apis.api]]
name = "RecAPI"
version = "1.0.0"
context = "/rec"
production = "{cls.backend.url}/up"
security = []

[[apis.api]]
name = "SecRecAPI"
version = "1.0.0"
context = "/srec"
production = "{cls.backend.url}/sup"
# ';' in a path segment is relayed as received only where an API allows it (issue 22 item 6).
allowPathParameters = true
"""
        config = harness.base_config(None, [("SecRecAPI", "1.0.0")], extra)
        config = harness.with_listener_keys(
            config, maxHeaderBytes=MAX_HEADER_BYTES, maxHeaderCount=MAX_HEADER_COUNT,
            maxRequestBytes=MAX_REQUEST_BYTES, headerTimeoutSeconds=HEADER_TIMEOUT,
            keepAliveTimeoutSeconds=KEEPALIVE_TIMEOUT, trustedProxies=["127.0.0.1"])
        cls.gw = cls.start(harness.MicroGw(cls.workdir, config))
        cls.port = cls.gw.http_port
        cls.key = cls.issue()

    @classmethod
    def issue(cls, body=None):
        r = curl(cls.gw.https("/apikey"), headers=[f"Authorization: {ADMIN_BASIC}"],
                 data=json.dumps(body) if body is not None else None)
        assert r.status == 200, r.body
        return r.body

    @classmethod
    def respond(cls, req):
        last = req.target.split(b"?" if isinstance(req.target, bytes) else "?")[0]
        last = last.rsplit(b"/" if isinstance(last, bytes) else "/", 1)[-1]
        if isinstance(last, bytes):
            last = last.decode("latin-1")
        for m, reply in list(cls.canned.items()):
            if m == last:  # the last path segment, exactly: "next-<m>" is another request
                return reply(req) if callable(reply) else reply
        return default_responder(req)

    # --- helpers ---

    def assert_fault(self, resp, status):
        self.assertIsNotNone(resp, "no response at all")
        self.assertEqual(resp.status, status, resp)
        try:
            body = resp.json()
        except ValueError:
            self.fail(f"the {status} body is not JSON: {resp.body[:300]!r}")
        fault = body.get("fault")
        self.assertIsInstance(fault, dict, body)
        self.assertEqual(fault.get("code"), FAULT_CODES[status], body)
        self.assertIsInstance(fault.get("message"), str, body)
        self.assertIsInstance(fault.get("description"), str, body)
        self.assertTrue(fault["message"] and fault["description"], body)

    def refused(self, payload, status, head_error=True, then=None, wait=5.0):
        """Sends a bad request (its target holds MARK) followed by a smuggled request for
        /rec/SMUGGLED-MARK; asserts the fault, one answer only, the close, and what the backend got.
        head_error: the fault is in the head, so not one byte of the request may reach the backend
        (otherwise only no complete request: a streaming gateway may have sent the head on).
        then: bytes sent after the first ones (the request is written in two parts)."""
        m = marker()
        smuggled = f"GET /rec/SMUGGLED-{m} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
        payload = payload.replace(b"MARK", m.encode())
        with wire.Client(self.port) as c:
            c.send(payload if then is not None else payload + smuggled)
            if then is not None:
                time.sleep(0.2)
                c.send(then.replace(b"MARK", m.encode()) + smuggled)
            closed = c.wait_closed(wait)
            resps, rest = c.all_responses()
        finals = [r for r in resps if r.status >= 200]
        self.assertTrue(finals, f"no answer; received {c.data[:300]!r}")
        self.assert_fault(finals[0], status)
        self.assertTrue(closed, f"the connection stayed open after the {status}")
        self.assertEqual(len(finals), 1, f"more than one answer: {finals}")
        self.assertEqual(rest, b"", "bytes after the answer")
        time.sleep(0.2)
        self.assertFalse(self.backend.saw("SMUGGLED-" + m), "the smuggled request reached the backend")
        if head_error:
            self.assertFalse(self.backend.saw(m), "the refused request reached the backend")
        else:
            done = [r for r in self.backend.find(m) if r.complete]
            self.assertFalse(done, f"the refused request reached the backend whole: {done}")
        return finals[0]

    def sequential(self, *steps, timeout=5.0):
        """On one connection: for each (method, bytes) step, sends the bytes and reads one answer
        before the next step (no pipelining). Returns the answers (None where none came)."""
        out = []
        with wire.Client(self.port) as c:
            methods = []
            for method, payload in steps:
                methods.append(method)
                c.send(payload)
                resps = c.read_responses(len(methods), methods, timeout)
                out.append(resps[len(methods) - 1] if len(resps) >= len(methods) else None)
                if out[-1] is None:
                    break
        return out + [None] * (len(steps) - len(out))

    def ok_exchange(self, payload, n, methods=(), timeout=5.0):
        with wire.Client(self.port) as c:
            c.send(payload)
            resps = c.read_responses(n, methods, timeout)
            return resps, c

    # --- SPEC 10, row 1: no Content-Length and no Transfer-Encoding = no body ---

    def test_post_without_length_has_empty_body_and_next_bytes_are_a_request(self):
        """A POST with neither Content-Length nor Transfer-Encoding has an empty body: the bytes
        after its head are the next request, answered on the same connection."""
        m = marker()
        resps = self.sequential(("POST", f"POST /rec/a-{m} HTTP/1.1\r\nHost: x\r\n\r\n".encode()),
                                ("GET", f"GET /rec/b-{m} HTTP/1.1\r\nHost: x\r\n\r\n".encode()))
        self.assertEqual([r and r.status for r in resps], [200, 200], resps)
        self.assertEqual([r.json()["target"] for r in resps], [f"/up/a-{m}", f"/up/b-{m}"])
        got = self.backend.find(m)
        self.assertEqual([(r.method, r.target, bytes(r.body)) for r in got],
                         [("POST", f"/up/a-{m}", b""), ("GET", f"/up/b-{m}", b"")])

    # --- row 2: bodies on GET, HEAD, OPTIONS, DELETE ---

    def test_body_on_get_head_options_delete_is_framed_not_a_next_request(self):
        """A Content-Length (or chunked) body on GET/HEAD/OPTIONS/DELETE is the request's body:
        the request hidden in it never reaches the backend, and the request after the body is
        answered as the second request of the connection."""
        for method, chunked in (("GET", False), ("HEAD", False), ("OPTIONS", False), ("DELETE", False),
                                ("GET", True)):
            with self.subTest(method=method, chunked=chunked):
                m = marker()
                hidden = f"GET /rec/SMUGGLED-{m} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
                if chunked:
                    framing = b"Transfer-Encoding: chunked\r\n"
                    body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(hidden), hidden)
                else:
                    framing = b"Content-Length: %d\r\n" % len(hidden)
                    body = hidden
                resps = self.sequential(
                    (method, f"{method} /rec/first-{m} HTTP/1.1\r\nHost: x\r\n".encode() + framing + b"\r\n" + body),
                    ("GET", f"GET /rec/after-{m} HTTP/1.1\r\nHost: x\r\n\r\n".encode()))
                self.assertEqual([r and r.status for r in resps], [200, 200], resps)
                if method == "HEAD":
                    self.assertEqual(resps[0].body, b"")
                self.assertEqual(resps[1].json()["target"], f"/up/after-{m}")
                time.sleep(0.1)
                self.assertEqual([r.target for r in self.backend.find(m)], [f"/up/first-{m}", f"/up/after-{m}"])

    # --- row 3: framing and field syntax errors: 400 (501), closed ---

    def test_content_length_and_transfer_encoding_together_is_400(self):
        """CL + TE in one request (either order) is refused: the classic CL.TE / TE.CL smuggle."""
        body = b"0\r\n\r\n"
        self.refused(b"POST /rec/MARK HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n" + body, 400)
        self.refused(b"POST /rec/MARK HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                     b"Content-Length: 3\r\n\r\n" + body, 400)

    def test_two_different_content_lengths_is_400(self):
        """Two Content-Length lines with different values."""
        self.refused(b"POST /rec/MARK HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 5\r\n\r\nhello", 400)

    def test_malformed_content_length_is_400(self):
        """Content-Length must be 1*DIGIT: `+5`, a list `5, 6` and hex `0x5` are refused."""
        for value in (b"+5", b"5, 6", b"0x5", b"5 5", b"-1", b""):
            with self.subTest(value=value):
                self.refused(b"POST /rec/MARK HTTP/1.1\r\nHost: x\r\nContent-Length: " + value + b"\r\n\r\nhello", 400)

    def test_unknown_transfer_coding_is_501(self):
        """An unknown transfer coding (`xchunked`; `%63hunked`, which is not percent-decoded) and a
        coding the gateway does not implement before chunked (`gzip, chunked`) are 501."""
        for te in (b"xchunked", b"%63hunked", b"gzip, chunked"):
            with self.subTest(te=te):
                self.refused(b"POST /rec/MARK HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " + te +
                             b"\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 501)

    def test_chunked_not_last_is_400(self):
        """A Transfer-Encoding whose last coding is not chunked (`chunked, identity`): the body
        length cannot be determined (RFC 9112 6.3): 400."""
        self.refused(b"POST /rec/MARK HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n"
                     b"5\r\nhello\r\n0\r\n\r\n", 400)

    def test_obs_fold_is_400(self):
        """A header line continued on the next line (obs-fold) is refused, even for the API key."""
        self.refused(b"GET /rec/MARK HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n", 400)
        self.refused(b"GET /rec/MARK HTTP/1.1\r\nHost: x\r\nX-A: a\r\n\tTransfer-Encoding: chunked\r\n\r\n", 400)

    def test_whitespace_before_colon_is_400(self):
        """`Name : value` and `Name\\t: value` (RFC 9112 5.1: MUST be 400)."""
        self.refused(b"POST /rec/MARK HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n", 400)
        self.refused(b"GET /rec/MARK HTTP/1.1\r\nHost: x\r\nX-A\t: b\r\n\r\n", 400)

    def test_field_name_not_a_token_is_400(self):
        """A field name with a bare CR, a space, a separator or a non-ASCII byte in it."""
        for name in (b"X-\rA", b"X A", b"X(A)", b"X-\xc3\xa9", b"X-\x00A", b""):
            with self.subTest(name=name):
                self.refused(b"GET /rec/MARK HTTP/1.1\r\nHost: x\r\n" + name + b": b\r\n\r\n", 400)

    def test_nul_cr_lf_in_a_value_is_400(self):
        """NUL, a bare CR, or a bare LF inside a field value."""
        for value in (b"a\x00b", b"a\rb", b"a\rX-Evil: 1", b"a\nX-Evil: 1"):
            with self.subTest(value=value):
                self.refused(b"GET /rec/MARK HTTP/1.1\r\nHost: x\r\nX-A: " + value + b"\r\n\r\n", 400)

    def test_malformed_chunk_is_400(self):
        """Chunk size not hex, `0x5`, a size with a sign, chunk data not followed by CRLF, and a size
        that overflows 64 bits: 400, closed, and no complete request at the backend."""
        head = b"POST /rec/MARK HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        for chunks in (b"zz\r\nhello\r\n0\r\n\r\n", b"0x5\r\nhello\r\n0\r\n\r\n", b"+5\r\nhello\r\n0\r\n\r\n",
                       b"5\r\nhelloXX0\r\n\r\n", b"5\r\nhello0\r\n\r\n",
                       b"10000000000000005\r\nhello\r\n0\r\n\r\n", b"\r\nhello\r\n0\r\n\r\n"):
            with self.subTest(chunks=chunks):
                self.refused(head + chunks, 400, head_error=False)

    def test_missing_or_duplicate_host_is_400(self):
        """HTTP/1.1 needs exactly one Host (RFC 9112 3.2)."""
        self.refused(b"GET /rec/MARK HTTP/1.1\r\nX-A: b\r\n\r\n", 400)
        self.refused(b"GET /rec/MARK HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400)

    def test_host_that_is_not_host_and_port_is_400(self):
        """A Host value must be uri-host[:port] (RFC 9112 3.2): no space, userinfo or path reaches a
        backend (X-Forwarded-Host) or a log."""
        for host in (b"a b", b"user@evil.example", b"evil.example/x", b"x:80:81", b"x:port"):
            with self.subTest(host=host):
                self.refused(b"GET /rec/MARK HTTP/1.1\r\nHost: " + host + b"\r\n\r\n", 400)

    def test_bare_lf_line_ends_are_400(self):
        """Line ends must be CRLF: bare LF in the request line or the header lines is refused."""
        self.refused(b"GET /rec/MARK HTTP/1.1\nHost: x\n\n", 400)
        self.refused(b"GET /rec/MARK HTTP/1.1\r\nHost: x\nX-A: b\r\n\r\n", 400)

    # --- row 4: sizes of the head, while reading ---

    def test_request_line_over_max_header_bytes_is_414_while_reading(self):
        """A request line longer than maxHeaderBytes is refused with 414 as soon as it passes the
        limit: the line is never finished here, so waiting for its end would never answer."""
        self.refused(b"GET /rec/MARK/" + b"a" * (MAX_HEADER_BYTES + 10), 414, then=b"b" * (4 * MAX_HEADER_BYTES))

    def test_request_line_over_max_header_bytes_whole_is_414(self):
        """The same with the whole request sent."""
        self.refused(b"GET /rec/MARK/" + b"a" * (MAX_HEADER_BYTES + 10) + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414)

    def test_header_block_over_max_header_bytes_is_431(self):
        """maxHeaderBytes bounds the whole head, not one line: 12 lines of 800 bytes (each line well
        under the limit, the count under maxHeaderCount) are 431."""
        lines = b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 800) for i in range(12))
        self.refused(b"GET /rec/MARK HTTP/1.1\r\nHost: x\r\n" + lines + b"\r\n", 431)

    def test_endless_header_line_is_431_while_reading(self):
        """A header line that never ends is refused once the head passes maxHeaderBytes."""
        self.refused(b"GET /rec/MARK HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * (MAX_HEADER_BYTES + 10), 431,
                     then=b"b" * (4 * MAX_HEADER_BYTES))

    def test_more_than_max_header_count_fields_is_431(self):
        """maxHeaderCount + 10 short fields: 431."""
        lines = b"".join(b"X-H%d: v\r\n" % i for i in range(MAX_HEADER_COUNT + 10))
        self.refused(b"GET /rec/MARK HTTP/1.1\r\nHost: x\r\n" + lines + b"\r\n", 431)

    def test_head_at_the_limits_is_served(self):
        """Just under both limits (maxHeaderCount fields, a head of about maxHeaderBytes - 200) the
        request is forwarded: the limits are not off by far."""
        m = marker()
        n = MAX_HEADER_COUNT - 2
        start = f"GET /rec/lim-{m} HTTP/1.1\r\nHost: x\r\n".encode()
        per = (MAX_HEADER_BYTES - 200 - len(start)) // n
        lines = b"".join(b"X-H%02d: %s\r\n" % (i, b"v" * (per - 9)) for i in range(n))
        resps, _ = self.ok_exchange(start + lines + b"\r\n", 1)
        self.assertEqual([r.status for r in resps], [200], resps)

    # --- row 5: body size ---

    def test_content_length_over_max_request_bytes_is_413_before_the_body(self):
        """Content-Length above maxRequestBytes: 413 on the head alone (the body is never sent)."""
        with wire.Client(self.port) as c:
            m = marker()
            c.send(f"POST /rec/{m} HTTP/1.1\r\nHost: x\r\nContent-Length: {MAX_REQUEST_BYTES + 1}\r\n\r\n".encode())
            resps = c.read_responses(1, timeout=3)
            self.assertTrue(resps, "no answer before the body was sent")
            self.assert_fault(resps[0], 413)
            self.assertTrue(c.wait_closed(3), "open after the 413")
        self.assertFalse(self.backend.saw(m))

    def test_chunked_total_over_max_request_bytes_is_413(self):
        """Chunks adding up past maxRequestBytes: 413 as soon as the total passes it (the last chunk
        is never sent), closed, and no complete request at the backend."""
        chunk = b"4000\r\n" + b"c" * 0x4000 + b"\r\n"
        n = MAX_REQUEST_BYTES // 0x4000 + 1
        with wire.Client(self.port) as c:
            m = marker()
            c.send(f"POST /rec/{m} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".encode() + chunk * n)
            resps = c.read_responses(1, timeout=3)
            self.assertTrue(resps, "no answer while the body was still open")
            self.assert_fault(resps[0], 413)
            self.assertTrue(c.wait_closed(3), "open after the 413")
        time.sleep(0.2)
        self.assertFalse([r for r in self.backend.find(m) if r.complete])

    # --- row 6: header timeout, total ---

    def test_header_timeout_is_total_not_per_read(self):
        """A client that sends one header byte every 0.5 s (each read well within any per-read
        timeout) is closed at headerTimeoutSeconds; one that sends nothing too. If anything is
        answered it is a 408 fault."""
        results = {}

        def drip(name, prefix, every):
            c = wire.Client(self.port)
            started = time.monotonic()
            try:
                c.send(prefix)
                while time.monotonic() - started < HEADER_TIMEOUT + 6:
                    if every:
                        if not c.send(b"a"):
                            break
                    c._recv(every or 0.5)
                    if c.eof:
                        break
                results[name] = (time.monotonic() - started if c.eof else None, c.data)
            finally:
                c.close()

        threads = [threading.Thread(target=drip, args=("drip", b"GET /rec/slow HTTP/1.1\r\nHost: x\r\nX-S: ", 0.5)),
                   threading.Thread(target=drip, args=("silent", b"", 0))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(HEADER_TIMEOUT + 10)
        for name in ("drip", "silent"):
            elapsed, data = results[name]
            with self.subTest(client=name):
                self.assertIsNotNone(elapsed, f"the {name} client was never closed")
                if name == "drip":  # a silent one may go earlier, at the keep-alive timeout
                    self.assertGreaterEqual(elapsed, HEADER_TIMEOUT - 0.5)
                self.assertLessEqual(elapsed, HEADER_TIMEOUT + 2)
                if data:
                    resps, _ = wire.parse_responses(data, eof=True)
                    self.assertTrue(resps, data[:200])
                    self.assert_fault(resps[0], 408)

    # --- row 7: idle keep-alive ---

    def test_idle_keep_alive_is_closed_and_costs_no_cpu(self):
        """After a request, an idle keep-alive connection is closed at keepAliveTimeoutSeconds; 100
        of them idle cost the gateway (almost) no CPU meanwhile."""
        conns = []
        try:
            for i in range(100):
                c = wire.Client(self.port)
                c.send(b"GET /rec/ka HTTP/1.1\r\nHost: x\r\n\r\n")
                conns.append(c)
            done = None
            for c in conns:
                self.assertEqual([r.status for r in c.read_responses(1)], [200])
                if done is None:
                    done = time.monotonic()  # conns[0]'s answer: its idle time starts here
            time.sleep(0.2)
            cpu0 = harness.cpu_seconds(self.gw.proc.pid)
            time.sleep(1.2)
            used = harness.cpu_seconds(self.gw.proc.pid) - cpu0
            self.assertLess(used, 0.08, f"100 idle keep-alive connections used {used:.2f} s CPU in 1.2 s")
            self.assertTrue(conns[0].wait_closed(KEEPALIVE_TIMEOUT + 3), "idle keep-alive never closed")
            elapsed = time.monotonic() - done
            self.assertGreaterEqual(elapsed, KEEPALIVE_TIMEOUT - 0.5)
            self.assertLessEqual(elapsed, KEEPALIVE_TIMEOUT + 2)
        finally:
            for c in conns:
                c.close()

    # --- row 8: pipelining ---

    def test_pipelined_requests_answered_in_order(self):
        """Four requests in one write (GET, POST with a body, HEAD, GET) are answered in order, each
        forwarded once."""
        m = marker()
        payload = (f"GET /rec/p1-{m} HTTP/1.1\r\nHost: x\r\n\r\n"
                   f"POST /rec/p2-{m} HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
                   f"HEAD /rec/p3-{m} HTTP/1.1\r\nHost: x\r\n\r\n"
                   f"GET /rec/p4-{m} HTTP/1.1\r\nHost: x\r\n\r\n").encode()
        resps, _ = self.ok_exchange(payload, 4, methods=("GET", "POST", "HEAD", "GET"))
        self.assertEqual([r.status for r in resps], [200] * 4, resps)
        self.assertEqual(resps[0].json()["target"], f"/up/p1-{m}")
        self.assertEqual(resps[1].json()["target"], f"/up/p2-{m}")
        self.assertEqual(resps[2].body, b"")
        self.assertEqual(resps[3].json()["target"], f"/up/p4-{m}")
        got = self.backend.find(m)
        self.assertEqual([r.target for r in got], [f"/up/p{i}-{m}" for i in range(1, 5)])
        self.assertEqual(bytes(got[1].body), b"abc")

    # --- byte-exact forwarding ---

    def test_header_values_reach_the_backend_byte_exact(self):
        """Header values are never percent-decoded or re-spaced: `Cookie: sess%3Dadmin` arrives as
        sent, and so do inner spaces and tabs, `+` and non-ASCII (obs-text) bytes."""
        for n, v in (("Cookie", b"sess%3Dadmin"), ("Cookie", b"b=%0d%0aX%00"), ("X-Odd", b"a%20b  c\t d+e"),
                     ("X-Bytes", b"caf\xc3\xa9 \xff"), ("Referer", b"https://a.example/p%2Fq?x=%41")):
            with self.subTest(name=n, value=v):
                m = marker()
                head = f"GET /rec/h-{m} HTTP/1.1\r\nHost: x\r\n".encode() + n.encode() + b": " + v + b"\r\n\r\n"
                resps, _ = self.ok_exchange(head, 1)
                self.assertEqual([r.status for r in resps], [200], resps)
                (req,) = self.backend.find(m)
                self.assertEqual(req.header(n), [v])

    def test_request_target_byte_exact_only_api_key_removed(self):
        """The path and query reach the backend as sent: order, encoding, `+`, empty pairs and
        look-alikes (`q=apikey`, `xapikey=`) untouched; only the `apikey` query parameter goes."""
        k = self.key
        cases = [
            # (an encoded slash in the path is refused with 400: see test_hostile)
            (f"/srec/p%2Bq/%7Euser;v=1?z=1&a=%20b&a=2&apikey={k}&b=c%3Dd+e&%C3%A9=%e2%82%ac",
             ["/sup/p%2Bq/%7Euser;v=1?z=1&a=%20b&a=2&b=c%3Dd+e&%C3%A9=%e2%82%ac"]),
            (f"/srec/x?apikey={k}&z=1", ["/sup/x?z=1"]),
            (f"/srec/x?q=apikey&xapikey=1&apikey={k}&a=1&&b=2", ["/sup/x?q=apikey&xapikey=1&a=1&&b=2"]),
            # Interpretation: with the key the only parameter, the query goes, "?" included ("?" tolerated).
            (f"/srec/x?apikey={k}", ["/sup/x", "/sup/x?"]),
        ]
        for target, expected in cases:
            with self.subTest(target=target.replace(k, "KEY")):
                m = marker()
                target = target.replace("/srec/", f"/srec/{m}/", 1)
                resps, _ = self.ok_exchange(f"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode(), 1)
                self.assertEqual([r.status for r in resps], [200], resps)
                (req,) = self.backend.find(m)
                self.assertIn(req.target, [e.replace("/sup/", f"/sup/{m}/", 1) for e in expected])
                self.assertFalse(self.backend.saw(k.split(".")[2]), "the key reached the backend")

    def test_response_headers_relayed_byte_exact(self):
        """A backend's Set-Cookie and Location with %-escapes of CR LF reach the client unchanged
        (never decoded into a header split), as do repeated Set-Cookie lines in order."""
        m = marker()
        sent = [(b"Set-Cookie", b"sess=a%0d%0aX-Evil:%20yes; Path=/"),
                (b"Set-Cookie", b"b=%3D%25; HttpOnly"),
                (b"Location", b"/next?u=%0D%0ASet-Cookie:%20x&v=%2F+1"),
                (b"X-Bytes", b"caf\xc3\xa9  x")]
        self.canned[m] = response(302, headers=sent, body=b"moved")
        resps, _ = self.ok_exchange(f"GET /rec/{m} HTTP/1.1\r\nHost: x\r\n\r\n".encode(), 1)
        self.assertEqual([r.status for r in resps], [302], resps)
        r = resps[0]
        self.assertEqual(r.header("set-cookie"), [sent[0][1], sent[1][1]])
        self.assertEqual(r.header("location"), [sent[2][1]])
        self.assertEqual(r.header("x-bytes"), [sent[3][1]])
        self.assertFalse(r.header("x-evil"))
        self.assertEqual(r.body, b"moved")

    def test_head_answer_carries_backend_content_length(self):
        """HEAD: the backend's Content-Length (1234) reaches the client, with no body, and the
        connection goes on (the next answer is not eaten as a body)."""
        m = marker()
        self.canned[m] = response(200, headers=[("Content-Type", "text/plain"), ("Content-Length", "1234")],
                                  body=b"")
        resps = self.sequential(("HEAD", f"HEAD /rec/{m} HTTP/1.1\r\nHost: x\r\n\r\n".encode()),
                                ("GET", f"GET /rec/next-{m} HTTP/1.1\r\nHost: x\r\n\r\n".encode()))
        self.assertIsNotNone(resps[0], "no answer to HEAD")
        self.assertEqual(resps[0].status, 200, resps)
        self.assertEqual(resps[0].header("content-length"), [b"1234"])
        self.assertIsNotNone(resps[1], "no answer after the HEAD (a body was expected or sent?)")
        self.assertEqual(resps[1].json()["target"], f"/up/next-{m}")

    def test_backend_gzip_body_relayed_once_unchanged(self):
        """A backend's `Content-Encoding: gzip` body is relayed as is: one Content-Encoding, the same
        bytes, even though the client accepts gzip."""
        m = marker()
        plain = b"hello " * 2000
        gz = gzip.compress(plain, mtime=0)
        self.canned[m] = response(200, headers=[("Content-Type", "text/plain"), ("Content-Encoding", "gzip")], body=gz)
        resps, _ = self.ok_exchange(f"GET /rec/{m} HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip, deflate, br\r\n\r\n"
                                    .encode(), 1)
        self.assertEqual([r.status for r in resps], [200], resps)
        self.assertEqual(resps[0].header("content-encoding"), [b"gzip"])
        self.assertEqual(resps[0].body, gz)

    def test_plain_body_never_compressed(self):
        """A compressible plain body is never compressed by the gateway."""
        m = marker()
        plain = b'{"v": "' + b"a" * 20000 + b'"}'
        self.canned[m] = response(200, headers=[("Content-Type", "application/json")], body=plain)
        resps, _ = self.ok_exchange(f"GET /rec/{m} HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip, deflate, br\r\n\r\n"
                                    .encode(), 1)
        self.assertEqual([r.status for r in resps], [200], resps)
        self.assertEqual(resps[0].header("content-encoding"), [])
        self.assertEqual(resps[0].body, plain)

    def test_range_never_applied_by_the_gateway(self):
        """`Range` goes to the backend; a backend that ignores it (200, whole body) and one that
        applies it (206) are both relayed as they are."""
        m1, m2 = marker(), marker()
        self.canned[m1] = response(200, headers=[("Content-Type", "text/plain")], body=b"0123456789")
        self.canned[m2] = response(206, headers=[("Content-Type", "text/plain"), ("Content-Range", "bytes 0-3/10")],
                                   body=b"0123")
        for m, status, body in ((m1, 200, b"0123456789"), (m2, 206, b"0123")):
            resps, _ = self.ok_exchange(f"GET /rec/{m} HTTP/1.1\r\nHost: x\r\nRange: bytes=0-3\r\n\r\n".encode(), 1)
            self.assertEqual([(r.status, r.body) for r in resps], [(status, body)])
            self.assertEqual(self.backend.find(m)[0].header("range"), [b"bytes=0-3"])

    def test_apikey_answer_never_compressed(self):
        """/apikey answers (a secret next to attacker-influenced bytes: BREACH) are never compressed."""
        r = curl(self.gw.https("/apikey"), headers=[f"Authorization: {ADMIN_BASIC}",
                                                    "Accept-Encoding: gzip, deflate, br"])
        self.assertEqual(r.status, 200, r.body)
        self.assertNotIn("content-encoding", r.headers)
        self.assertEqual(r.body.count("."), 2, "not a plain key")

    def test_interim_1xx_relayed(self):
        """A backend's 103 Early Hints reaches the client before the final answer."""
        m = marker()
        self.canned[m] = response(200, body=b"final", interim=[(103, "Early Hints", [("Link", "</s.css>; rel=preload")])])
        with wire.Client(self.port) as c:
            c.send(f"GET /rec/{m} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            c.read_responses(1)
            resps, _ = c.all_responses()
        self.assertEqual([r.status for r in resps], [103, 200], resps)
        self.assertEqual(resps[0].header("link"), [b"</s.css>; rel=preload"])
        self.assertEqual(resps[1].body, b"final")

    def test_expect_100_continue(self):
        """`Expect: 100-continue`: the client gets a 100 before it sends the body, then the answer;
        the backend gets the whole body."""
        m = marker()
        with wire.Client(self.port) as c:
            c.send(f"POST /rec/{m} HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n".encode())
            deadline = time.monotonic() + 3
            while b"\r\n\r\n" not in c.data and not c.eof and time.monotonic() < deadline:
                c._recv(deadline - time.monotonic())
            self.assertTrue(c.data.startswith(b"HTTP/1.1 100"), f"no 100 Continue: {c.data[:200]!r}")
            c.send(b"hello")
            resps = c.read_responses(1)
        self.assertEqual([r.status for r in resps], [200], resps)
        self.assertEqual(bytes(self.backend.find(m)[0].body), b"hello")

    def test_http10_keep_alive_is_announced_and_honoured(self):
        """An HTTP/1.0 client keeps its connection only when asked, and is told so
        (`Connection: keep-alive`), for micro-gw's own answers and proxied ones; without it, the
        connection closes after the answer."""
        m = marker()
        resps = self.sequential(("GET", b"GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"),
                                ("GET", f"GET /rec/{m} HTTP/1.0\r\nConnection: keep-alive\r\n\r\n".encode()),
                                ("GET", b"GET /health HTTP/1.0\r\n\r\n"))
        self.assertEqual([r and r.status for r in resps], [200, 200, 200], resps)
        for r in resps[:2]:
            self.assertEqual([v.lower() for v in r.header("connection")], [b"keep-alive"], r)
        with wire.Client(self.port) as c:
            c.send(b"GET /health HTTP/1.0\r\n\r\n")
            self.assertTrue(c.wait_closed(5), "an HTTP/1.0 connection without keep-alive stayed open")

    def test_304_relayed_without_body(self):
        """A 304 with ETag (and the representation's Content-Length) is relayed without a body; the
        next request on the connection is answered normally."""
        m = marker()
        self.canned[m] = response(304, headers=[("ETag", '"v1"'), ("Content-Length", "500")], body=b"")
        resps = self.sequential(("GET", f'GET /rec/{m} HTTP/1.1\r\nHost: x\r\nIf-None-Match: "v1"\r\n\r\n'.encode()),
                                ("GET", f"GET /rec/next-{m} HTTP/1.1\r\nHost: x\r\n\r\n".encode()))
        self.assertEqual([r and r.status for r in resps], [304, 200], resps)
        self.assertEqual(resps[0].header("etag"), [b'"v1"'])
        self.assertEqual(resps[1].json()["target"], f"/up/next-{m}")
        self.assertEqual(self.backend.find(m)[0].header("if-none-match"), [b'"v1"'])

    # --- permittedIP through X-Forwarded-For lines ---

    def test_permitted_ip_reads_every_x_forwarded_for_line(self):
        """From a trusted proxy (127.0.0.1), all X-Forwarded-For lines are joined in order and the
        client is the right-most untrusted address: a forbidden address cannot hide behind a
        permitted one in an earlier line (the bypass: only the first line used to be read)."""
        key = self.issue({"permittedIP": "10.1.2.3"})

        def call(*xff):
            m = marker()
            lines = "".join(f"X-Forwarded-For: {v}\r\n" for v in xff)
            resps, _ = self.ok_exchange(f"GET /srec/{m} HTTP/1.1\r\nHost: x\r\napikey: {key}\r\n{lines}\r\n".encode(), 1)
            self.assertEqual(len(resps), 1, xff)
            return resps[0]

        for xff in (("10.1.2.3",), ("10.9.9.9, 10.1.2.3",), ("10.9.9.9", "10.1.2.3"), ("10.9.9.9", "10.1.2.3, 127.0.0.1")):
            with self.subTest(xff=xff):
                self.assertEqual(call(*xff).status, 200)
        for xff in (("10.1.2.3", "10.9.9.9"), ("10.1.2.3", "10.9.9.9, 127.0.0.1"), ("10.1.2.3, 10.9.9.9",)):
            with self.subTest(xff=xff):
                r = call(*xff)
                self.assertEqual(r.status, 403, r)
                self.assertEqual(r.json()["fault"]["code"], 900908)


class StreamingTest(harness.GatewayTestCase):
    """A 1 GiB request body through the gateway with bounded memory."""

    SIZE = 1 << 30
    MAX_GROWTH_KIB = 32 * 1024

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = RecordingBackend(keep_bodies=False, raw_limit=65536)
        cls.addClassCleanup(cls.backend.stop)
        extra = f"""
[[apis.api]]
name = "SinkAPI"
version = "1.0.0"
context = "/sink"
production = "{cls.backend.url}/sink"
security = []
timeoutSeconds = 120
"""
        config = harness.with_listener_keys(harness.base_config(None, None, extra), maxRequestBytes=2 * cls.SIZE)
        # Under AddressSanitizer, freed blocks wait in its quarantine (256 MiB by default) before
        # reuse: that is the sanitizer's memory, not the gateway's, so it is kept small here
        # (ignored by the normal build).
        asan = os.environ.get("ASAN_OPTIONS", "")
        env = {"ASAN_OPTIONS": (asan + ":" if asan else "") + "quarantine_size_mb=4"}
        cls.gw = cls.start(harness.MicroGw(cls.workdir, config, env=env))

    def test_1gib_body_streams_with_rss_growth_under_32mib(self):
        """A 1 GiB Content-Length body, sent in 64 KiB writes, reaches the backend whole while the
        gateway's VmRSS grows by less than 32 MiB (sampled every 50 ms; the send stops early, and
        the test fails, as soon as the growth passes the bound)."""
        pid = self.gw.proc.pid
        # Warm up: one small request through the same path.
        r = curl(self.gw.http("/sink/warm"), method="POST", data="x")
        self.assertEqual(r.status, 200, r.body)
        base = harness.vm_rss_kib(pid)
        peak = [base]
        stop = threading.Event()
        over = threading.Event()

        def sample():
            while not stop.is_set():
                try:
                    rss = harness.vm_rss_kib(pid)
                except (OSError, AssertionError):
                    return
                peak[0] = max(peak[0], rss)
                if rss - base >= self.MAX_GROWTH_KIB:
                    over.set()
                time.sleep(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        block = os.urandom(65536)
        sent = 0
        started = time.monotonic()
        try:
            with wire.Client(self.gw.http_port, timeout=60) as c:
                c.send(f"POST /sink/big HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
                       f"Content-Length: {self.SIZE}\r\n\r\n".encode())
                while sent < self.SIZE and not over.is_set():
                    if not c.send(block):
                        break
                    sent += len(block)
                resps = c.read_responses(1, timeout=60) if sent == self.SIZE else []
        finally:
            stop.set()
            sampler.join(5)
        elapsed = time.monotonic() - started
        growth = peak[0] - base
        self.assertFalse(over.is_set(), f"RSS grew by {growth // 1024} MiB after {sent >> 20} MiB sent")
        self.assertEqual(sent, self.SIZE, f"the gateway stopped reading after {sent >> 20} MiB")
        self.assertEqual([r.status for r in resps], [200], resps)
        self.assertEqual(resps[0].json()["bodyLength"], self.SIZE)
        self.assertLess(growth, self.MAX_GROWTH_KIB, f"RSS grew by {growth // 1024} MiB")
        print(f"\n1 GiB in {elapsed:.1f} s, RSS growth {growth // 1024} MiB")


if __name__ == "__main__":
    unittest.main()
