"""A raw-socket HTTP/1.1 backend for the wire tests (SPEC section 10): it records every byte it
receives, per connection, and answers every request it can frame.

Unlike http.server it never normalises anything: the request line and each header line are kept as
the bytes that arrived, so a test can assert that the gateway forwarded a header value or a request
target byte for byte, or that a refused request (or a request smuggled inside one) never reached the
backend at all. It frames requests itself, as RFC 9112 says: Content-Length, chunked, or no body;
keep-alive and pipelining work; a request it cannot frame closes the connection.

Answers come from `responder(request) -> bytes` (build them with `response()`); the default is a
200 whose JSON body names the request target and the request's number on its connection, so a
client can tell which answer belongs to which request. With `keep_bodies=False` and a small
`raw_limit` it streams a body of any size through without keeping it (the 1 GiB test).
"""
import json
import socket
import ssl
import threading
import time


class Request:
    """One request as the backend framed it; every field is the received bytes, undecoded."""

    def __init__(self, conn_index, seq, request_line, header_lines):
        self.conn_index = conn_index  # which connection of the backend it arrived on
        self.seq = seq  # its number on that connection, from 0
        self.request_line = request_line  # b"GET /x?y HTTP/1.1"
        parts = request_line.split(b" ")
        self.method = parts[0].decode("latin-1")
        self.target = parts[1].decode("latin-1") if len(parts) > 1 else ""
        self.version = parts[2].decode("latin-1") if len(parts) > 2 else ""
        self.header_lines = header_lines  # [b"Name: value", ...] exactly as received
        self.headers = []  # [(lower-case name str, value bytes with OWS trimmed)]
        for line in header_lines:
            name, _, value = line.partition(b":")
            self.headers.append((name.decode("latin-1").lower(), value.strip(b" \t")))
        self.body = bytearray()
        self.body_length = 0  # counted even when the body is not kept
        self.complete = False  # the whole body arrived

    def header(self, name):
        """Every value of a header (bytes), in order of arrival."""
        name = name.lower()
        return [v for n, v in self.headers if n == name]

    def __repr__(self):
        return f"<Request {self.method} {self.target} conn={self.conn_index} seq={self.seq}>"


class Connection:
    def __init__(self, index):
        self.index = index
        self.raw = bytearray()  # the received bytes, up to the backend's raw_limit
        self.received = 0  # every byte received, counted
        self.requests = []
        self.closed = False


def response(status=200, reason=None, headers=(), body=b"", content_length=True, interim=()):
    """The bytes of one HTTP/1.1 response. headers: [(name, value)] as str or bytes, sent as given;
    Content-Length is added from the body unless content_length is False or a header already sets
    it. interim: earlier 1xx responses, as (status, reason, headers) tuples."""
    reasons = {100: "Continue", 103: "Early Hints", 200: "OK", 204: "No Content", 206: "Partial Content",
               302: "Found", 304: "Not Modified", 404: "Not Found", 500: "Internal Server Error"}

    def b(x):
        return x if isinstance(x, bytes) else str(x).encode("latin-1")

    out = b""
    for st, rs, hs in interim:
        out += b"HTTP/1.1 %d %s\r\n" % (st, b(rs or reasons.get(st, "Info")))
        for n, v in hs:
            out += b(n) + b": " + b(v) + b"\r\n"
        out += b"\r\n"
    out += b"HTTP/1.1 %d %s\r\n" % (status, b(reason or reasons.get(status, "Status")))
    has_length = False
    for n, v in headers:
        if b(n).lower() in (b"content-length", b"transfer-encoding"):
            has_length = True
        out += b(n) + b": " + b(v) + b"\r\n"
    if content_length and not has_length:
        out += b"Content-Length: %d\r\n" % len(body)
    out += b"\r\n" + b(body)
    return out


def default_responder(req):
    body = json.dumps({"target": req.target, "method": req.method, "seq": req.seq,
                       "bodyLength": req.body_length}).encode()
    if req.method == "HEAD":  # the length of the GET answer, no body
        return response(200, headers=[("Content-Type", "application/json"),
                                      ("Content-Length", str(len(body)))])
    return response(200, headers=[("Content-Type", "application/json")], body=body)


class RecordingBackend:
    """Listens on 127.0.0.1 (any free port) in daemon threads; see the module docstring."""

    def __init__(self, responder=None, keep_bodies=True, raw_limit=16 * 1024 * 1024, ssl_context=None,
                 continue_100=False):
        self.responder = responder or default_responder
        self.keep_bodies = keep_bodies
        self.raw_limit = raw_limit
        self.ssl_context = ssl_context
        self.continue_100 = continue_100  # answer "Expect: 100-continue" with 100 before reading the body
        self.connections = []
        self.lock = threading.Lock()
        self.errors = []  # TLS handshake failures and the like, as strings
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(512)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.stopping = False
        self.thread = threading.Thread(target=self._accept_loop, daemon=True)
        self.thread.start()

    # --- what arrived ---

    def requests(self):
        """Every request framed so far (complete or still receiving its body), all connections."""
        with self.lock:
            return [r for c in self.connections for r in c.requests]

    def targets(self):
        return [r.target for r in self.requests()]

    def all_bytes(self):
        """Every recorded byte of every connection, concatenated (connections in accept order)."""
        with self.lock:
            return b"".join(bytes(c.raw) for c in self.connections)

    def saw(self, marker):
        """True when marker (str or bytes) occurs in any byte the backend received."""
        if isinstance(marker, str):
            marker = marker.encode()
        with self.lock:
            return any(marker in c.raw for c in self.connections)

    def wait_for_requests(self, n, timeout=5.0, complete=True):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            reqs = [r for r in self.requests() if r.complete or not complete]
            if len(reqs) >= n:
                return reqs
            time.sleep(0.01)
        return [r for r in self.requests() if r.complete or not complete]

    def find(self, marker):
        """Requests whose target contains marker."""
        return [r for r in self.requests() if marker in r.target]

    def stop(self):
        self.stopping = True
        try:
            self.sock.close()
        except OSError:
            pass

    # --- serving ---

    def _accept_loop(self):
        while not self.stopping:
            try:
                s, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                conn = Connection(len(self.connections))
                self.connections.append(conn)
            threading.Thread(target=self._serve, args=(s, conn), daemon=True).start()

    def _serve(self, s, conn):
        try:
            if self.ssl_context is not None:
                s.settimeout(10)
                try:
                    s = self.ssl_context.wrap_socket(s, server_side=True)
                except (ssl.SSLError, OSError) as e:
                    self.errors.append(f"TLS handshake: {e}")
                    s.close()
                    return
                s.settimeout(None)
            self._read_loop(s, conn)
        except (OSError, ssl.SSLError):
            pass
        finally:
            conn.closed = True
            try:
                s.close()
            except OSError:
                pass

    def _recv(self, s, conn):
        data = s.recv(1 << 20)
        if data:
            conn.received += len(data)
            if len(conn.raw) < self.raw_limit:
                with self.lock:
                    conn.raw += data[:self.raw_limit - len(conn.raw)]
        return data

    def _read_loop(self, s, conn):
        buf = bytearray()
        seq = 0
        while True:
            # The head.
            while b"\r\n\r\n" not in buf:
                if len(buf) > 1024 * 1024:
                    return
                data = self._recv(s, conn)
                if not data:
                    return
                buf += data
            end = buf.index(b"\r\n\r\n")
            lines = bytes(buf[:end]).split(b"\r\n")
            del buf[:end + 4]
            req = Request(conn.index, seq, lines[0], lines[1:])
            seq += 1
            with self.lock:
                conn.requests.append(req)
            te = b",".join(req.header("transfer-encoding")).lower()
            cl = req.header("content-length")
            if req.header("expect") and self.continue_100:
                s.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            if te:
                if not te.replace(b" ", b"").endswith(b"chunked"):
                    return  # not framable: close
                if not self._read_chunked(s, conn, buf, req):
                    return
            elif cl:
                try:
                    lengths = {int(v) for v in cl}
                except ValueError:
                    return
                if len(lengths) != 1:
                    return
                if not self._read_exact(s, conn, buf, req, lengths.pop()):
                    return
            req.complete = True
            reply = self.responder(req)
            if reply is None:  # the responder wants the connection dropped without an answer
                return
            s.sendall(reply)
            if b"\r\nconnection: close" in reply.split(b"\r\n\r\n")[0].lower() + b"\r\n":
                return

    def _take(self, req, data):
        req.body_length += len(data)
        if self.keep_bodies:
            req.body += data

    def _read_exact(self, s, conn, buf, req, n):
        while n > 0:
            if not buf:
                data = self._recv(s, conn)
                if not data:
                    return False
                if len(data) <= n:  # all body: no copy through buf (the 1 GiB test)
                    self._take(req, data)
                    n -= len(data)
                    continue
                buf += data
            take = min(n, len(buf))
            self._take(req, bytes(buf[:take]))
            del buf[:take]
            n -= take
        return True

    def _read_line(self, s, conn, buf):
        while b"\r\n" not in buf:
            if len(buf) > 65536:
                return None
            data = self._recv(s, conn)
            if not data:
                return None
            buf += data
        i = buf.index(b"\r\n")
        line = bytes(buf[:i])
        del buf[:i + 2]
        return line

    def _read_chunked(self, s, conn, buf, req):
        while True:
            line = self._read_line(s, conn, buf)
            if line is None:
                return False
            size_text = line.split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                return False
            if size == 0:
                while True:  # trailers, up to the empty line
                    t = self._read_line(s, conn, buf)
                    if t is None:
                        return False
                    if t == b"":
                        return True
            if not self._read_exact(s, conn, buf, req, size):
                return False
            if self._read_line(s, conn, buf) != b"":
                return False
