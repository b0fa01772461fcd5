"""Configuration faults (issue 6, item 5) with the real binary: SIGHUP with a valid configuration
applies new keys and APIs without dropping in-flight requests; SIGHUP with an invalid one keeps the
running configuration and logs why; a missing, unreadable or wrongly protected keystore and an
expired certificate are refused at start (exit 1) with a message naming the file."""
import json
import os
import signal
import subprocess
import threading
import time
import unittest

import harness
from harness import ADMIN_BASIC, curl


def slow_api(backend, name="SlowAPI", context="/slowapi/1.0.0"):
    # The whole backend behind the context: /slowapi/1.0.0/slow?ms=N reaches the backend's /slow.
    return f'\n[[apis.api]]\nname = "{name}"\nversion = "1.0.0"\ncontext = "{context}"\nproduction = "{backend.url}"\n'


def new_api(backend):
    return f'\n[[apis.api]]\nname = "NewAPI"\nversion = "1.0.0"\ncontext = "/newapi/1.0.0"\nproduction = "{backend.url}/echo"\n'


def pinned(config, gw):
    """The same configuration with the ports the running gateway listens on (listener settings are not
    reloaded; keeping them identical makes the reload change only what the test means to change)."""
    return config.replace("httpPort = 0", f"httpPort = {gw.http_port}").replace(
        "httpsPort = 0", f"httpsPort = {gw.https_port}")


def wait_for_log(gw, text, start, timeout=10.0):
    """The log written since offset `start`, once it contains `text` (fails after timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        tail = gw.output()[start:]
        if text in tail:
            return tail
        if time.monotonic() > deadline:
            raise AssertionError(f"{text!r} not logged within {timeout}s; log since the signal:\n{tail[-3000:]}")
        time.sleep(0.05)


def run_cli(*args, env=None):
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run([harness.MGW_BINARY, *args], capture_output=True, text=True, timeout=60, env=full_env)


def openssl(*args, cwd=None):
    out = subprocess.run(["openssl", *args], capture_output=True, text=True, timeout=60, cwd=cwd)
    if out.returncode != 0:
        raise AssertionError(f"openssl {' '.join(args)} failed: {out.stderr}")
    return out


class ReloadTest(harness.GatewayTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = cls.start(harness.Backend(cls.workdir))

    def start_gateway(self, name, config):
        return self.start(harness.MicroGw(os.path.join(self.workdir, name), config))

    def issue(self, gw):
        r = curl(gw.https("/apikey"), headers=[f"Authorization: {ADMIN_BASIC}"])
        self.assertEqual(r.status, 200, r.body)
        return r.body.strip()

    def sighup(self, gw, config_text):
        start = len(gw.output())
        with open(gw.config_path, "w") as f:
            f.write(config_text)
        gw.proc.send_signal(signal.SIGHUP)
        return start

    def test_valid_reload_applies_new_keys_and_apis_without_dropping_in_flight_requests(self):
        apis = [("EchoAPI", "*"), ("SlowAPI", "1.0.0")]
        before = harness.base_config(self.backend, apis, slow_api(self.backend))
        gw = self.start_gateway("reload-valid", before)
        old_key = self.issue(gw)
        self.assertEqual(curl(gw.http("/echoapi/1.0.0/x"), headers=[f"apikey: {old_key}"]).status, 200)
        # NewAPI is not configured yet: no route for it.
        self.assertEqual(curl(gw.http("/newapi/1.0.0/x"), headers=[f"apikey: {old_key}"]).status, 404)

        # Requests in flight across the reload, on both listeners.
        results = {}

        def slow(label, url):
            t0 = time.monotonic()
            r = curl(url, headers=[f"apikey: {old_key}"], timeout=30)
            results[label] = (r, time.monotonic() - t0)

        threads = [threading.Thread(target=slow, args=(f"http-{i}", gw.http("/slowapi/1.0.0/slow?ms=1500")))
                   for i in range(3)]
        threads.append(threading.Thread(target=slow, args=("https", gw.https("/slowapi/1.0.0/slow?ms=1500"))))
        for t in threads:
            t.start()
        time.sleep(0.5)  # the requests have reached the backend and sleep there

        after = harness.base_config(self.backend, apis + [("NewAPI", "1.0.0")],
                                    slow_api(self.backend) + new_api(self.backend))
        start = self.sighup(gw, pinned(after, gw))
        log = wait_for_log(gw, "configuration reloaded", start)
        self.assertNotIn("reload refused", log)
        for t in threads:
            t.join(40)
        self.assertEqual(len(results), 4)
        for label, (r, seconds) in results.items():
            with self.subTest(request=label):
                self.assertEqual(r.status, 200, r.body)
                self.assertEqual(r.json(), {"sleptMs": 1500})
                self.assertGreaterEqual(seconds, 1.4)
        self.assertTrue(gw.alive())

        # The new API exists; a key issued after the reload carries it (the new [[apikey.issuer.api]]).
        new_key = self.issue(gw)
        r = curl(gw.http("/newapi/1.0.0/hello"), headers=[f"apikey: {new_key}"])
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["path"], "/echo/hello")
        # A key issued before the reload still works where it was allowed, and is not widened.
        self.assertEqual(curl(gw.http("/echoapi/1.0.0/x"), headers=[f"apikey: {old_key}"]).status, 200)
        r = curl(gw.http("/newapi/1.0.0/hello"), headers=[f"apikey: {old_key}"])
        self.assertEqual(r.status, 403, r.body)
        self.assertIn("not allowed for API NewAPI", r.body)

        # And a later reload removes an API just as well.
        start = self.sighup(gw, pinned(before, gw))
        wait_for_log(gw, "configuration reloaded", start)
        self.assertEqual(curl(gw.http("/newapi/1.0.0/hello"), headers=[f"apikey: {new_key}"]).status, 404)

    def test_invalid_reload_keeps_the_running_configuration_and_logs_why(self):
        config = harness.base_config(self.backend)
        gw = self.start_gateway("reload-invalid", config)
        key = self.issue(gw)
        conf = gw.config_path

        def still_serving():
            self.assertTrue(gw.alive())
            self.assertEqual(curl(gw.http("/echoapi/1.0.0/x"), headers=[f"apikey: {key}"]).status, 200)
            self.assertEqual(curl(gw.https("/apikey"), headers=[f"Authorization: {ADMIN_BASIC}"]).status, 200)
            self.assertEqual(curl(gw.http("/newapi/1.0.0/x"), headers=[f"apikey: {key}"]).status, 404)

        # 1. Not TOML at all (and a new API in it, which must not appear).
        broken = pinned(config, gw) + new_api(self.backend) + '\n[[apis.api]\nname = "Broken\n'
        start = self.sighup(gw, broken)
        log = wait_for_log(gw, "reload refused", start)
        self.assertIn(conf, log)
        still_serving()

        # 2. Valid TOML, a semantic error: the file, the line and the key are named.
        lines = pinned(config, gw).splitlines()
        lines.insert(4, "readTimeoutSeconds = -5")  # inside [listenerConfig], line 5 of the file
        bad_line = 5
        start = self.sighup(gw, "\n".join(lines) + new_api(self.backend))
        log = wait_for_log(gw, "reload refused", start)
        self.assertIn(f"{conf}:{bad_line}", log)
        self.assertIn("readTimeoutSeconds", log)
        still_serving()

        # 3. A configuration that loads but cannot be built: the signing keystore it names is missing.
        missing = os.path.join(gw.workdir, "gone", "signing.pem")
        text = pinned(config, gw).replace("validityTime = -1",
                                          f'validityTime = -1\nkeyStorePath = "{missing}"') + new_api(self.backend)
        start = self.sighup(gw, text)
        log = wait_for_log(gw, "reload refused", start)
        self.assertIn(missing, log)
        self.assertIn("keystore not found", log)
        still_serving()

        # 4. An inline API with an unusable backend URL.
        text = pinned(config, gw) + new_api(self.backend).replace(self.backend.url, "ftp://127.0.0.1:1")
        start = self.sighup(gw, text)
        log = wait_for_log(gw, "reload refused", start)
        self.assertIn("ftp://127.0.0.1:1", log)
        still_serving()

        # The running configuration was never replaced, and a good reload still works afterwards.
        start = self.sighup(gw, pinned(config, gw) + new_api(self.backend))
        wait_for_log(gw, "configuration reloaded", start)
        self.assertNotEqual(curl(gw.http("/newapi/1.0.0/x"), headers=[f"apikey: {key}"]).status, 404)


class StartupRefusalTest(harness.GatewayTestCase):
    """Each case: micro-gw exits 1 before it listens, and its log names the file and the reason."""

    def refused(self, name, extra_issuer="", extra_listener="", validate=True):
        home = os.path.join(self.workdir, name)
        config = harness.base_config()
        if extra_issuer:
            config = config.replace("validityTime = -1", "validityTime = -1\n" + extra_issuer)
        if extra_listener:
            config = config.replace("httpsPort = 0", "httpsPort = 0\n" + extra_listener)
        gw = harness.MicroGw(home, config, wait=False)
        try:
            code = gw.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            gw.stop(signal.SIGKILL)
            self.fail(f"micro-gw started with a bad keystore:\n{gw.output()[-3000:]}")
        gw.log.close()
        out = gw.output()
        self.assertEqual(code, 1, out)
        self.assertFalse(os.path.exists(gw.ready_path), "refused, yet it wrote the ready file")
        self.assertIn("startup error", out)
        if validate:
            # --validate (the check before a deploy) refuses the same configuration.
            v = run_cli("--validate", "--config", gw.config_path, env={"MGW_RUNTIME_HOME": home})
            self.assertEqual(v.returncode, 1, v.stdout + v.stderr)
            out += "\n--validate: " + v.stdout
        return out

    def keystore_dir(self, name, *args):
        out_dir = os.path.join(self.workdir, name)
        r = run_cli("keystore", "init", "--out", out_dir, *args)
        self.assertEqual(r.returncode, 0, r.stderr)
        return out_dir

    def expired_pem(self, name):
        """A private key and a self-signed certificate whose notAfter is a day in the past."""
        d = os.path.join(self.workdir, name)
        os.makedirs(d)
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem", "-out", "req.csr",
                "-subj", "/CN=expired.micro-gw.test", cwd=d)
        # OpenSSL 3.0 has no -not_after; a negative -days puts notAfter in the past.
        openssl("x509", "-req", "-in", "req.csr", "-signkey", "key.pem", "-days", "-1", "-out", "cert.pem", cwd=d)
        check = subprocess.run(["openssl", "x509", "-in", "cert.pem", "-noout", "-checkend", "0"], cwd=d,
                               capture_output=True, text=True)
        self.assertNotEqual(check.returncode, 0, "the test certificate is not expired: " + check.stdout)
        path = os.path.join(d, "expired.pem")
        with open(path, "w") as out:
            for part in ("key.pem", "cert.pem"):
                with open(os.path.join(d, part)) as f:
                    out.write(f.read())
        return path

    def test_missing_signing_keystore(self):
        path = os.path.join(self.workdir, "absent", "signing.pem")
        out = self.refused("missing-signing", extra_issuer=f'keyStorePath = "{path}"')
        self.assertIn(f"{path}: keystore not found", out)

    def test_missing_tls_keystore(self):
        path = os.path.join(self.workdir, "absent", "tls.pem")
        out = self.refused("missing-tls", extra_listener=f'keyStorePath = "{path}"', validate=False)
        self.assertIn(f"{path}: keystore not found", out)

    def test_keystore_path_is_a_directory(self):
        path = self.keystore_dir("ks-dir")  # a directory that holds a keystore, not the keystore
        out = self.refused("dir-signing", extra_issuer=f'keyStorePath = "{path}"')
        self.assertIn(f"cannot read {path}: Is a directory", out)
        self.assertNotIn(f"{path}: {path}", out)

    def test_unreadable_keystore(self):
        if os.geteuid() == 0:
            self.skipTest("root reads a mode-000 file anyway (the directory case covers unreadable)")
        path = os.path.join(self.keystore_dir("ks-000"), "micro-gw-signing.pem")
        os.chmod(path, 0)
        out = self.refused("unreadable-signing", extra_issuer=f'keyStorePath = "{path}"')
        self.assertIn(path, out)
        self.assertIn("Permission denied", out)

    def test_wrong_pkcs12_password(self):
        path = os.path.join(self.keystore_dir("ks-p12", "--p12", "--password", "right"), "micro-gw-signing.p12")
        out = self.refused("wrong-password", extra_issuer=f'keyStorePath = "{path}"\nkeyStorePassword = "wrong"')
        self.assertIn(f"{path}: wrong password for the PKCS#12 keystore", out)
        # The control: the right password starts.
        home = os.path.join(self.workdir, "right-password")
        config = harness.base_config().replace(
            "validityTime = -1", f'validityTime = -1\nkeyStorePath = "{path}"\nkeyStorePassword = "right"')
        gw = self.start(harness.MicroGw(home, config))
        self.assertEqual(curl(gw.https("/apikey"), headers=[f"Authorization: {ADMIN_BASIC}"]).status, 200)

    def test_wrong_pkcs12_password_for_the_tls_keystore(self):
        path = os.path.join(self.keystore_dir("ks-p12-tls", "--alg", "ES256", "--p12", "--password", "right"),
                            "micro-gw-signing.p12")
        out = self.refused("wrong-password-tls",
                           extra_listener=f'keyStorePath = "{path}"\nkeyStorePassword = "wrong"')
        self.assertIn(f"{path}: wrong password for the PKCS#12 keystore", out)

    def test_expired_signing_certificate(self):
        path = self.expired_pem("expired-signing")
        out = self.refused("expired-signing-gw", extra_issuer=f'keyStorePath = "{path}"')
        self.assertIn(path, out)
        self.assertIn("certificate expired on", out)

    def test_expired_tls_certificate(self):
        path = self.expired_pem("expired-tls")
        out = self.refused("expired-tls-gw", extra_listener=f'keyStorePath = "{path}"')
        self.assertIn(path, out)
        self.assertIn("certificate expired on", out)


if __name__ == "__main__":
    unittest.main()


class PortInUseTest(harness.GatewayTestCase):
    """Issue 22 item 11: every listener sets SO_REUSEPORT (the I/O threads share a port), which let a
    second micro-gw on the same host and port start without an error and take a share of the
    connections. A port in use is now a start error naming it, as nginx and HAProxy report it."""

    def test_a_second_process_on_the_same_port_does_not_start_and_names_the_port(self):
        port = harness.unused_port()
        config = harness.base_config().replace("httpPort = 0", f"httpPort = {port}", 1)
        self.assertIn(f"httpPort = {port}", config)
        first = self.start(harness.MicroGw(os.path.join(self.workdir, "first"), config))
        second = harness.MicroGw(os.path.join(self.workdir, "second"), config, wait=False)
        try:
            code = second.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            code = None
        finally:
            if second.alive():
                second.stop(signal.SIGKILL)
        self.assertIsNotNone(code, "a second micro-gw started on a port another one listens on")
        self.assertNotEqual(code, 0)
        self.assertIn(f"cannot listen on 127.0.0.1:{port}: Address already in use", second.output())
        self.assertEqual(curl(first.http("/health")).status, 200)

