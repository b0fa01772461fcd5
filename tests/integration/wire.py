"""A raw HTTP/1.1 client for the wire tests: sends bytes exactly as given and splits what comes back
into responses as RFC 9112 frames them (1xx, HEAD, 204 and 304 carry no body; Content-Length;
chunked; otherwise until close), keeping every header line as the bytes that arrived."""
import json
import socket
import time


class RawResponse:
    def __init__(self, status, reason, header_lines, body):
        self.status = status
        self.reason = reason
        self.header_lines = header_lines  # [b"Name: value"] as received
        self.body = body  # bytes, de-chunked when chunked

    def header(self, name):
        """Every value of a header (bytes, OWS trimmed), in order."""
        name = name.lower().encode()
        out = []
        for line in self.header_lines:
            n, _, v = line.partition(b":")
            if n.strip().lower() == name:
                out.append(v.strip(b" \t"))
        return out

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<RawResponse {self.status} {self.header_lines} body={self.body[:200]!r}>"


class Incomplete(Exception):
    pass


def _parse_one(data, method):
    """(RawResponse, bytes consumed) for the first response in data; raises Incomplete."""
    end = data.find(b"\r\n\r\n")
    if end < 0:
        raise Incomplete()
    lines = data[:end].split(b"\r\n")
    status_line = lines[0].split(b" ", 2)
    if not status_line[0].startswith(b"HTTP/1.") or len(status_line) < 2:
        raise ValueError(f"not an HTTP response: {data[:200]!r}")
    status = int(status_line[1])
    reason = status_line[2].decode("latin-1") if len(status_line) > 2 else ""
    resp = RawResponse(status, reason, lines[1:], b"")
    pos = end + 4
    if 100 <= status < 200 or status in (204, 304) or method == "HEAD":
        return resp, pos
    te = b",".join(resp.header("transfer-encoding")).lower()
    if te.endswith(b"chunked"):
        body = b""
        while True:
            nl = data.find(b"\r\n", pos)
            if nl < 0:
                raise Incomplete()
            size = int(data[pos:nl].split(b";")[0].strip(), 16)
            pos = nl + 2
            if size == 0:
                t = data.find(b"\r\n\r\n", pos - 2)
                if t < 0:
                    raise Incomplete()
                resp.body = body
                return resp, t + 4
            if len(data) < pos + size + 2:
                raise Incomplete()
            body += data[pos:pos + size]
            pos += size + 2
    cl = resp.header("content-length")
    if cl:
        n = int(cl[0])
        if len(data) < pos + n:
            raise Incomplete()
        resp.body = data[pos:pos + n]
        return resp, pos + n
    # Delimited by close: only complete once the caller saw EOF.
    raise Incomplete()


def parse_responses(data, methods=(), eof=False):
    """Every complete response in data (interim 1xx included, as their own entries). methods: the
    request methods in order, so HEAD answers are framed without a body. Returns (responses, rest)."""
    out = []
    methods = list(methods)
    final_index = 0
    pos = 0
    while pos < len(data):
        method = methods[final_index] if final_index < len(methods) else "GET"
        try:
            resp, used = _parse_one(data[pos:], method)
        except ValueError:
            break  # not HTTP: left in rest for the caller to see
        except Incomplete:
            if eof and data[pos:].find(b"\r\n\r\n") >= 0:
                # A close-delimited body: the rest of the stream.
                head_end = data.find(b"\r\n\r\n", pos)
                lines = data[pos:head_end].split(b"\r\n")
                sl = lines[0].split(b" ", 2)
                out.append(RawResponse(int(sl[1]), sl[2].decode("latin-1") if len(sl) > 2 else "",
                                       lines[1:], data[head_end + 4:]))
                return out, b""
            break
        out.append(resp)
        pos += used
        if not 100 <= resp.status < 200:
            final_index += 1
    return out, data[pos:]


class Client:
    """One raw connection to 127.0.0.1:port."""

    def __init__(self, port, timeout=10.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.data = b""
        self.eof = False
        self.reset = False

    def send(self, payload):
        """Sends bytes; False when the server already closed (the test then reads what it said)."""
        try:
            self.sock.sendall(payload)
            return True
        except (BrokenPipeError, ConnectionResetError):
            return False

    def _recv(self, timeout):
        self.sock.settimeout(max(0.01, timeout))
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            return None
        except ConnectionResetError:
            self.reset = True
            self.eof = True
            return b""
        if not chunk:
            self.eof = True
        self.data += chunk
        return chunk

    def read_responses(self, n, methods=(), timeout=5.0):
        """Reads until n final responses arrived, the server closed, or timeout; returns the final
        responses parsed so far (1xx left out; see interim_and_final for them)."""
        deadline = time.monotonic() + timeout
        while True:
            resps, _ = parse_responses(self.data, methods, self.eof)
            finals = [r for r in resps if r.status >= 200]
            if len(finals) >= n or self.eof:
                return finals
            left = deadline - time.monotonic()
            if left <= 0:
                return finals
            self._recv(left)

    def wait_closed(self, timeout=5.0):
        """Reads (keeping the bytes) until the server closes; True if it did within timeout."""
        deadline = time.monotonic() + timeout
        while not self.eof:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self._recv(left)
        return True

    def all_responses(self, methods=()):
        return parse_responses(self.data, methods, self.eof)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
