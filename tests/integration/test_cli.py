"""The command line (SPEC section 2) and start-up refusals, with the real binary."""
import json
import os
import signal
import subprocess
import tempfile
import unittest

import harness
from harness import curl

import base64


def run(*args, stdin=None, env=None):
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run([harness.MGW_BINARY, *args], input=stdin, capture_output=True, text=True, timeout=60,
                          env=full_env)


class CliTest(harness.GatewayTestCase):
    def test_validate_shipped_configuration(self):
        out = run("--validate", "--config", os.path.join(harness.SOURCE_DIR, "conf", "micro-gw.conf"),
                  env={"MGW_RUNTIME_HOME": harness.SOURCE_DIR})
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertEqual(out.stdout.strip(), "OK")

    def test_validate_reports_every_error_with_file_line_and_key(self):
        home = tempfile.mkdtemp(dir=self.workdir)
        conf = os.path.join(home, "bad.conf")
        with open(conf, "w") as f:
            f.write('[listenerConfig]\nhttpPort = 70000\nhots = "x"\n\n[apikey.issuer.tokenConfig]\n'
                    'signatureAlgorithm = "HS256"\n')
        out = run("--validate", "--config", conf, env={"MGW_RUNTIME_HOME": home})
        self.assertEqual(out.returncode, 1)
        self.assertIn(f"{conf}:2:", out.stdout)
        self.assertIn("httpPort", out.stdout)
        self.assertIn(f"{conf}:3:", out.stdout)
        self.assertIn("did you mean", out.stdout)
        self.assertIn(f"{conf}:6:", out.stdout)
        self.assertIn("RS256, ES256, EdDSA", out.stdout)
        self.assertFalse(os.path.exists(os.path.join(home, "runtime")), "--validate must not write files")

    def test_hash_password_from_stdin_logs_in(self):
        out = run("hash-password", stdin="s3cret-Passw0rd\n")
        self.assertEqual(out.returncode, 0, out.stderr)
        hashed = out.stdout.strip()
        self.assertTrue(hashed.startswith("$argon2id$"), hashed)
        self.assertNotIn("s3cret", out.stdout + out.stderr)
        config = harness.base_config() + f'\n[b7a.users.carol]\npassword = "{hashed}"\n'
        gw = self.start(harness.MicroGw(os.path.join(self.workdir, "carol"), config))
        basic = "Basic " + base64.b64encode(b"carol:s3cret-Passw0rd").decode()
        self.assertEqual(curl(gw.https("/apikey"), headers=[f"Authorization: {basic}"]).status, 200)

    def test_keystore_init_each_algorithm_and_no_overwrite(self):
        for alg in ("RS256", "ES256", "EdDSA"):
            with self.subTest(alg=alg):
                out_dir = os.path.join(self.workdir, "ks-" + alg)
                first = run("keystore", "init", "--alg", alg, "--out", out_dir)
                self.assertEqual(first.returncode, 0, first.stderr)
                pem = os.path.join(out_dir, "micro-gw-signing.pem")
                self.assertEqual(os.stat(pem).st_mode & 0o777, 0o600)
                again = run("keystore", "init", "--alg", alg, "--out", out_dir)
                self.assertNotEqual(again.returncode, 0)
        self.assertEqual(run("keystore", "init", "--alg", "HS256").returncode, 2)

    def test_signing_with_each_algorithm(self):
        for alg in ("ES256", "EdDSA"):
            with self.subTest(alg=alg):
                config = harness.base_config().replace('validityTime = -1', f'validityTime = -1\nsignatureAlgorithm = "{alg}"')
                gw = self.start(harness.MicroGw(os.path.join(self.workdir, "alg-" + alg), config))
                token = curl(gw.https("/apikey"), headers=[f"Authorization: {harness.ADMIN_BASIC}"]).body
                header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
                self.assertEqual(header["alg"], alg)
                jwks = curl(gw.https("/.well-known/jwks.json")).json()
                self.assertEqual(jwks["keys"][0]["alg"], alg)

    def test_token_inspect_malformed(self):
        out = run("token", "inspect", "not-a-key")
        self.assertEqual(out.returncode, 1)
        self.assertIn("malformed key", out.stdout + out.stderr)
        self.assertIn("3", out.stdout + out.stderr)

    def test_well_known_password_refused_off_loopback(self):
        # admin gets a password of its own there (below); any other user with "admin" stops the start.
        config = harness.base_config().replace('host = "127.0.0.1"', 'host = "0.0.0.0"') + (
            f'\n[b7a.users.bob]\npassword = "{harness.shipped_admin_hash()}"\n')
        gw = harness.MicroGw(os.path.join(self.workdir, "public"), config, wait=False)
        code = gw.proc.wait(timeout=30)
        gw.log.close()
        self.assertEqual(code, 1)
        self.assertIn("well-known password", gw.output())
        self.assertIn("bob", gw.output())

    def test_first_start_off_loopback_generates_the_admin_password(self):
        # The shipped host line, as the container image runs it (MGW_HOST=0.0.0.0).
        config = harness.base_config().replace('host = "127.0.0.1"', 'host = "${MGW_HOST:-127.0.0.1}"')
        home = os.path.join(self.workdir, "first-start")
        self.assertEqual(run("--validate", "--config", self._write(home, config),
                             env={"MGW_RUNTIME_HOME": home, "MGW_HOST": "0.0.0.0"}).stdout.strip(), "OK")
        password_file = os.path.join(home, "runtime", "security", "initial-admin-password")
        self.assertFalse(os.path.exists(password_file), "--validate must not write the password file")

        gw = self.start(harness.MicroGw(home, config, env={"MGW_HOST": "0.0.0.0"}))
        self.assertEqual(os.stat(password_file).st_mode & 0o777, 0o600)
        with open(password_file) as f:
            password = f.read().strip()
        self.assertEqual(len(password), 32)
        self.assertIn(password_file, gw.output())
        self.assertNotIn(password, gw.output())
        basic = "Basic " + base64.b64encode(f"admin:{password}".encode()).decode()
        self.assertEqual(curl(gw.https("/apikey"), headers=[f"Authorization: {basic}"]).status, 200)
        self.assertEqual(curl(gw.https("/apikey"), headers=[f"Authorization: {harness.ADMIN_BASIC}"]).status, 401)

        # A restart reads the same password back; the file is not replaced.
        gw.stop()
        gw = self.start(harness.MicroGw(home, config, env={"MGW_HOST": "0.0.0.0"}))
        with open(password_file) as f:
            self.assertEqual(f.read().strip(), password)
        self.assertEqual(curl(gw.https("/apikey"), headers=[f"Authorization: {basic}"]).status, 200)

    def test_admin_password_from_the_environment(self):
        config = harness.base_config().replace('host = "127.0.0.1"', 'host = "0.0.0.0"')
        home = os.path.join(self.workdir, "env-password")
        gw = self.start(harness.MicroGw(home, config, env={"MGW_ADMIN_PASSWORD": "Env-Passw0rd-42"}))
        basic = "Basic " + base64.b64encode(b"admin:Env-Passw0rd-42").decode()
        self.assertEqual(curl(gw.https("/apikey"), headers=[f"Authorization: {basic}"]).status, 200)
        self.assertEqual(curl(gw.https("/apikey"), headers=[f"Authorization: {harness.ADMIN_BASIC}"]).status, 401)
        self.assertNotIn("Env-Passw0rd-42", gw.output())
        self.assertFalse(os.path.exists(os.path.join(home, "runtime", "security", "initial-admin-password")))

    def test_loopback_keeps_admin_admin(self):
        gw = self.start(harness.MicroGw(os.path.join(self.workdir, "loopback"), harness.base_config()))
        self.assertEqual(curl(gw.https("/apikey"), headers=[f"Authorization: {harness.ADMIN_BASIC}"]).status, 200)
        self.assertFalse(os.path.exists(os.path.join(self.workdir, "loopback", "runtime", "security",
                                                     "initial-admin-password")))

    def test_health_subcommand(self):
        gw = self.start(harness.MicroGw(os.path.join(self.workdir, "health"), harness.base_config()))
        ok = run("health", "--url", gw.http("/health"))
        self.assertEqual(ok.returncode, 0, ok.stdout + ok.stderr)
        self.assertIn("200", ok.stdout)
        self.assertEqual(run("health", "--url", gw.https("/health")).returncode, 0)
        self.assertEqual(run("health", "--url", gw.http("/no-such-api")).returncode, 1)
        gw.stop()
        down = run("health", "--url", gw.http("/health"))
        self.assertEqual(down.returncode, 1)
        self.assertIn("health", down.stderr)
        self.assertEqual(run("health", "--url", "ftp://x").returncode, 2)

    @staticmethod
    def _write(home, config):
        path = os.path.join(home, "conf", "micro-gw.conf")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(config)
        return path

    def test_missing_configured_keystore_refused(self):
        config = harness.base_config().replace('validityTime = -1',
                                               'validityTime = -1\nkeyStorePath = "nowhere/signing.p12"')
        gw = harness.MicroGw(os.path.join(self.workdir, "nokeystore"), config, wait=False)
        self.assertEqual(gw.proc.wait(timeout=30), 1)
        gw.log.close()
        self.assertIn("keystore not found", gw.output())

    def test_sighup_reload_keeps_running_config_when_invalid(self):
        home = os.path.join(self.workdir, "reload")
        gw = self.start(harness.MicroGw(home, harness.base_config()))
        with open(gw.config_path, "a") as f:
            f.write("\n[nonsense]\n")
        gw.proc.send_signal(signal.SIGHUP)
        import time
        time.sleep(0.5)
        self.assertIn("reload refused", gw.output())
        self.assertEqual(curl(gw.https("/apikey"), headers=[f"Authorization: {harness.ADMIN_BASIC}"]).status, 200)
        # A valid change applies: the issuer is switched off.
        with open(gw.config_path, "w") as f:
            f.write(harness.base_config().replace("enabled = true", "enabled = false").replace(
                "httpPort = 0", f"httpPort = {gw.http_port}").replace("httpsPort = 0", f"httpsPort = {gw.https_port}"))
        gw.proc.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        self.assertEqual(curl(gw.https("/apikey"), headers=[f"Authorization: {harness.ADMIN_BASIC}"]).status, 503)


if __name__ == "__main__":
    unittest.main()
