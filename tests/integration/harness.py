"""Starts the real micro-gw binary and the real sample backend on 127.0.0.1 for integration tests.

Every process is started with --ready-file (so tests use kernel-chosen ports), tracked by PID and
stopped at the end; a process that died of a signal fails the test.
"""
import base64
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

MGW_BINARY = os.environ.get("MGW_BINARY", "build/micro-gw")
BACKEND_BINARY = os.environ.get("MGW_BACKEND", "build/samples/backend/mgw-sample-backend")
SOURCE_DIR = os.environ.get("MGW_SOURCE_DIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))

ADMIN_BASIC = "Basic " + base64.b64encode(b"admin:admin").decode()  # the seed's YWRtaW46YWRtaW4=
# argon2id("admin"), the same string the shipped conf/micro-gw.conf carries.
ADMIN_HASH = None


def shipped_admin_hash():
    """The argon2id hash of 'admin' from the shipped configuration (so tests never hash at start)."""
    global ADMIN_HASH
    if ADMIN_HASH is None:
        with open(os.path.join(SOURCE_DIR, "conf", "micro-gw.conf")) as f:
            for line in f:
                line = line.strip()
                if line.startswith("password") and "$argon2id$" in line:
                    ADMIN_HASH = line.split("=", 1)[1].strip().strip('"')
                    break
    return ADMIN_HASH


def wait_for_file(path, proc, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(path) and os.path.getsize(path) > 0:
            with open(path) as f:
                try:
                    return json.load(f)
                except ValueError:
                    pass
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before it was ready")
        time.sleep(0.02)
    raise RuntimeError(f"not ready after {timeout}s")


def unused_port():
    """A port on 127.0.0.1 with nothing listening (bound once, then released): a backend that
    refuses connections, or a port for a process the test starts."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Process:
    """A child process with its stderr captured to a file."""

    def __init__(self, argv, workdir, name, env=None):
        self.name = name
        self.log_path = os.path.join(workdir, f"{name}.log")
        self.log = open(self.log_path, "wb")
        full_env = dict(os.environ)
        if env:
            full_env.update(env)
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, env=full_env, cwd=workdir)

    def alive(self):
        return self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=15.0):
        """Stops the process; returns its exit code (negative = died of a signal)."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError(f"{self.name} did not stop within {timeout}s of signal {sig}")
        self.log.close()
        return self.proc.returncode

    def output(self):
        if not self.log.closed:
            self.log.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")


class Backend(Process):
    def __init__(self, workdir):
        ready = os.path.join(workdir, "backend.ready")
        super().__init__([BACKEND_BINARY, "--host", "127.0.0.1", "--port", "0", "--sandbox-port", "0",
                          "--ready-file", ready], workdir, "backend",
                         # Under `make test-tsan` the sample backend is built with TSan too, but it is a
                         # fixture, not the product: cpp-httplib's uninstrumented library makes TSan
                         # report races inside it that would halt the backend mid-test.
                         env={"TSAN_OPTIONS": "report_bugs=0"})
        try:
            info = wait_for_file(ready, self.proc)
        except RuntimeError:
            self.stop(signal.SIGKILL)
            raise
        self.port = info["port"]
        self.sandbox_port = info["sandboxPort"]
        self.url = f"http://127.0.0.1:{self.port}"
        self.sandbox_url = f"http://127.0.0.1:{self.sandbox_port}"


class MicroGw(Process):
    def __init__(self, workdir, config_text, extra_args=(), env=None, wait=True):
        self.workdir = workdir
        self.config_path = os.path.join(workdir, "conf", "micro-gw.conf")
        os.makedirs(os.path.dirname(self.config_path), exist_ok=True)
        if not re.search(r"^\[observability\]", config_text, re.MULTILINE):
            # The metrics listener's default port (9797) would collide between parallel tests.
            config_text += "\n[observability]\nmetricsPort = 0\n"
        with open(self.config_path, "w") as f:
            f.write(config_text)
        self.ready_path = os.path.join(workdir, "mgw.ready")
        if os.path.exists(self.ready_path):
            os.remove(self.ready_path)
        full_env = {"MGW_RUNTIME_HOME": workdir}
        if env:
            full_env.update(env)
        super().__init__([MGW_BINARY, "--config", self.config_path, "--ready-file", self.ready_path, *extra_args],
                         workdir, "micro-gw", full_env)
        if wait:
            try:
                info = wait_for_file(self.ready_path, self.proc)
            except RuntimeError as e:
                self.stop(signal.SIGKILL)  # never registered with a test class: stop it here
                raise RuntimeError(f"{e}\n{self.output()[-4000:]}") from None
            self.http_port = info["httpPort"]
            self.https_port = info["httpsPort"]
            self.metrics_port = info.get("metricsPort", -1)

    def https(self, path):
        return f"https://127.0.0.1:{self.https_port}{path}"

    def http(self, path):
        return f"http://127.0.0.1:{self.http_port}{path}"


class Reply:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # lower-case name -> last value
        self.body = body

    def json(self):
        return json.loads(self.body)

    def fault_code(self):
        return self.json()["fault"]["code"]


def curl(url, method=None, headers=(), data=None, extra=(), timeout=20):
    """One request with the real curl binary; returns status, headers and body."""
    with tempfile.TemporaryDirectory() as tmp:
        head_path = os.path.join(tmp, "h")
        body_path = os.path.join(tmp, "b")
        argv = ["curl", "-sk", "--max-time", str(timeout), "-D", head_path, "-o", body_path, "-w", "%{http_code}"]
        if method:
            argv += ["-X", method]
        for h in headers:
            argv += ["-H", h]
        if data is not None:
            argv += ["--data-binary", data]
        argv += list(extra)
        argv.append(url)
        out = subprocess.run(argv, capture_output=True, text=True, timeout=timeout + 5)
        status = int(out.stdout.strip() or 0)
        hdrs = {}
        if os.path.exists(head_path):
            with open(head_path, "rb") as f:
                for line in f.read().decode("latin-1").splitlines():
                    if ":" in line:
                        k, v = line.split(":", 1)
                        hdrs[k.strip().lower()] = v.strip()
        body = ""
        if os.path.exists(body_path):
            with open(body_path, "rb") as f:
                body = f.read().decode("utf-8", "replace")
        return Reply(status, hdrs, body)


def issue_key(gw, body=None):
    """A signed API key from the gateway's /apikey, asked for by the shipped admin user."""
    r = curl(gw.https("/apikey"), headers=[f"Authorization: {ADMIN_BASIC}"],
             data=json.dumps(body) if body is not None else None)
    assert r.status == 200, r.body
    return r.body


def copy_node_secrets(source, workdir):
    """One gateway on several nodes: the STS signing key (a key issued by one verifies on all) and the
    opaque key hash secret (an opaque key made on one matches on all) of source, copied for a node whose
    runtime home is workdir."""
    for rel in ("runtime/security/micro-gw-signing.pem", "runtime/data/micro-gw.db.key"):
        dst = os.path.join(workdir, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(os.path.join(source.workdir, rel), dst)
        os.chmod(dst, 0o600)


def base_config(backend=None, issuer_apis=None, extra=""):
    """A complete micro-gw.conf for a test: any free ports, the shipped admin user, test APIs."""
    apis = issuer_apis if issuer_apis is not None else [("PizzaShackAPI", "1.0.0"), ("EchoAPI", "*")]
    text = f"""
[listenerConfig]
host = "127.0.0.1"
httpPort = 0
httpsPort = 0

[b7a.users.admin]
password = "{shipped_admin_hash()}"
roles = ["admin"]

[apikey.issuer.tokenConfig]
enabled = true
issuer = "https://localhost:9095/apikey"
certificateAlias = "ballerina"
validityTime = -1
"""
    for name, versions in apis:
        text += f'\n[[apikey.issuer.api]]\nname = "{name}"\nversions = "{versions}"\n'
    text += extra
    if backend is not None:
        text += f"""
[[apis.api]]
name = "EchoAPI"
version = "1.0.0"
context = "/echoapi/1.0.0"
production = "{backend.url}/echo"
sandbox = "{backend.sandbox_url}/echo"
"""
    return text


class GatewayTestCase(unittest.TestCase):
    """Gives each test class a temp runtime home; subclasses start what they need."""

    @classmethod
    def setUpClass(cls):
        cls.workdir = tempfile.mkdtemp(prefix="mgw-it-")
        cls.processes = []
        # tearDownClass does not run when setUpClass fails part-way; class cleanups do, so no
        # backend or gateway started so far outlives the test.
        cls.addClassCleanup(cls._kill_leftovers)

    @classmethod
    def tearDownClass(cls):
        failures = []
        for p in reversed(cls.processes):
            code = p.stop()
            if code is not None and code < 0 and code != -signal.SIGKILL:
                failures.append(f"{p.name} died of signal {-code}:\n{p.output()[-3000:]}")
            elif p.name == "micro-gw" and code not in (0, -signal.SIGKILL):
                failures.append(f"{p.name} exited with {code} on SIGTERM:\n{p.output()[-3000:]}")
        if os.environ.get("MGW_KEEP_TMP") is None:
            shutil.rmtree(cls.workdir, ignore_errors=True)
        if failures:
            raise AssertionError("\n".join(failures))

    @classmethod
    def _kill_leftovers(cls):
        for p in cls.processes:
            if p.alive():
                p.stop(signal.SIGKILL)

    @classmethod
    def start(cls, process):
        cls.processes.append(process)
        return process


# --- Raw sockets: for clients and backends that misbehave on purpose. ---

def parse_http_response(data):
    """One HTTP/1.1 response from raw bytes -> Reply (status 0 when nothing parseable arrived)."""
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep or not head.startswith(b"HTTP/"):
        return Reply(0, {}, data.decode("utf-8", "replace"))
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    hdrs = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            hdrs[k.strip().lower()] = v.strip()
    if "content-length" in hdrs:
        body = body[:int(hdrs["content-length"])]
    return Reply(status, hdrs, body.decode("utf-8", "replace"))


def raw_exchange(port, payload, timeout=10.0, host="127.0.0.1"):
    """Sends payload bytes as they are on a fresh connection, reads until the server closes the
    connection, a whole Content-Length response arrived, or timeout. Returns the bytes received."""
    import socket
    with socket.create_connection((host, port), timeout=timeout) as s:
        try:
            s.sendall(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer and close before reading everything
        received = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            received += chunk
            reply = parse_http_response(received)
            if reply.status and "content-length" in reply.headers:
                head_len = received.find(b"\r\n\r\n") + 4
                if len(received) - head_len >= int(reply.headers["content-length"]):
                    break
        return received


def raw_request(port, payload, timeout=10.0):
    """raw_exchange, parsed as one response."""
    return parse_http_response(raw_exchange(port, payload, timeout))


def thread_count(pid):
    """Threads of a live process, from /proc/<pid>/status."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    raise AssertionError(f"no Threads line for {pid}")


def open_fd_count(pid):
    """Open file descriptors of a live process (sockets included)."""
    return len(os.listdir(f"/proc/{pid}/fd"))


def with_listener_keys(config_text, **keys):
    """base_config() text with extra [listenerConfig] keys (values written as TOML: str quoted,
    list as an array, int/bool as they are)."""
    def toml(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return '"' + v + '"'
        if isinstance(v, (list, tuple)):
            return "[" + ", ".join(toml(x) for x in v) + "]"
        return str(v)
    lines = "".join(f"{k} = {toml(v)}\n" for k, v in keys.items())
    return config_text.replace("httpsPort = 0\n", "httpsPort = 0\n" + lines, 1)


def vm_rss_kib(pid):
    """Resident set size of a live process in KiB, from /proc/<pid>/status."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError(f"no VmRSS line for {pid}")


def cpu_seconds(pid):
    """User plus system CPU time a live process used so far, from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
