"""README.md runs top to bottom as written: every ```sh block, in order, in one bash session, against
the real micro-gw (the shipped conf/micro-gw.conf and samples/apis/) and the real sample backend.

Only the ports change (any free port instead of 9090/9095/9080/9081, so tests run side by side).
Blocks that are not run here, and why: `make run` / `make test` (this test is what they start) and
`docker` (make image-test runs the image). Every curl fails on an HTTP error status
(--fail-with-body), so a command the README shows as working must work. Also checked: the error table
lists every status and code of src/common/status.cc.
"""
import json
import os
import re
import shutil
import subprocess
import unittest

import harness

README = os.path.join(harness.SOURCE_DIR, "README.md")
SKIPPED = re.compile(r"^\s*(make |docker )", re.MULTILINE)


def readme_blocks():
    with open(README) as f:
        text = f.read()
    return re.findall(r"^```sh\n(.*?)^```", text, re.MULTILINE | re.DOTALL)


class ReadmeTest(harness.GatewayTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = cls.start(harness.Backend(cls.workdir))
        # The shipped configuration and sample APIs, on free ports.
        home = os.path.join(cls.workdir, "home")
        os.makedirs(os.path.join(home, "conf"))
        shutil.copytree(os.path.join(harness.SOURCE_DIR, "samples", "apis"), os.path.join(home, "samples", "apis"))
        for name in os.listdir(os.path.join(home, "samples", "apis")):
            path = os.path.join(home, "samples", "apis", name)
            with open(path) as f:
                text = f.read()
            text = text.replace("127.0.0.1:9080", f"127.0.0.1:{cls.backend.port}")
            text = text.replace("127.0.0.1:9081", f"127.0.0.1:{cls.backend.sandbox_port}")
            with open(path, "w") as f:
                f.write(text)
        with open(os.path.join(harness.SOURCE_DIR, "conf", "micro-gw.conf")) as f:
            conf = f.read()
        conf = conf.replace("httpPort = 9090", "httpPort = 0").replace("httpsPort = 9095", "httpsPort = 0")
        self_check = conf.count("\n[observability]\n")
        assert self_check == 1, "the shipped configuration has one [observability] table"
        conf = conf.replace("\n[observability]\n", "\n[observability]\n  metricsPort = 0\n")
        cls.gw = cls.start(harness.MicroGw(home, conf))
        # `./build/micro-gw` as the README types it, from a folder standing for the repository.
        cls.repo = os.path.join(cls.workdir, "repo")
        os.makedirs(os.path.join(cls.repo, "build"))
        os.symlink(harness.MGW_BINARY, os.path.join(cls.repo, "build", "micro-gw"))

    def adjust(self, block):
        block = block.replace("localhost:9095", f"localhost:{self.gw.https_port}")
        return block.replace("localhost:9090", f"localhost:{self.gw.http_port}")

    def test_every_sh_block_runs_as_written(self):
        blocks = readme_blocks()
        self.assertGreater(len(blocks), 5)
        script = ["set -euo pipefail", 'curl() { command curl --fail-with-body -sS "$@"; echo; }']
        ran = 0
        for number, block in enumerate(blocks, 1):
            if SKIPPED.search(block):
                continue
            ran += 1
            # A second between blocks: a revocation by issuedBefore covers keys issued in its second.
            script += [f"echo '=== README block {number}' >&2", self.adjust(block), "sleep 1.1"]
        out = subprocess.run(["bash", "-c", "\n".join(script)], cwd=self.repo, capture_output=True, text=True,
                             timeout=300)
        self.assertEqual(out.returncode, 0,
                         f"a README block failed:\n{out.stderr[-3000:]}\n--- stdout:\n{out.stdout[-3000:]}")
        self.assertGreaterEqual(ran, 6)
        self.assertIn("NOT VERIFIED", out.stdout)  # token inspect ran
        self.assertIn("Chicken", out.stdout)  # proxied PizzaShack menu
        # "One refusal in full" prints one fault, not every body of 200 requests (34 KB before).
        refusals = [line for line in out.stdout.splitlines() if '"code":900804' in line]
        self.assertTrue(refusals, out.stdout[-2000:])
        # (the block before it ends without a newline: its fault shares the line)
        self.assertRegex(refusals[-1], r'\{"fault":\{"code":900804[^{}]*\}\}$')
        self.assertLess(len(refusals[-1]), 600, refusals[-1][:300])

    def test_error_table_lists_every_status_and_code(self):
        with open(os.path.join(harness.SOURCE_DIR, "src", "common", "status.cc")) as f:
            pairs = set(re.findall(r"return \{(\d{3}), (\d{6}),", f.read()))
        with open(README) as f:
            text = f.read()
        table = text[text.index("### Errors"):]
        table = table[:table.index("\n## ")]
        rows = [line for line in table.splitlines() if line.startswith("| ")]
        missing = []
        for status, code in sorted(pairs):
            if not any(status in row.split("|")[1] and code in row.split("|")[2] for row in rows):
                missing.append(f"{status} {code}")
        self.assertEqual(missing, [], "README's error table misses these")


def readme_section(title):
    """The README from the heading `title` to the next heading of its level or above (code blocks,
    whose comments start with '#', are not headings)."""
    with open(README) as f:
        lines = f.read().split("\n")
    level = len(title) - len(title.lstrip("#"))
    start = lines.index(title) if title in lines else next(i for i, l in enumerate(lines) if l.startswith(title))
    out, fenced = [lines[start]], False
    for line in lines[start + 1:]:
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and re.match(r"#{1,%d} " % level, line):
            break
        out.append(line)
    return "\n".join(out)


class ReadmeNewUserTest(harness.GatewayTestCase):
    """Issue 22 item 12: what a new user hits reading the README top to bottom, beyond the sh blocks."""

    def test_backend_jwt_example_verifies_against_the_development_certificate(self):
        # The python block of "The backend JWT", run as written (only the port changes) in the runtime
        # home, against a gateway with [jwtGenerator] on and a real token a backend received.
        from recording_backend import RecordingBackend
        backend = RecordingBackend()
        self.addCleanup(backend.stop)
        extra = f"""
[jwtGenerator]
enabled = true

[[apis.api]]
name = "PizzaShackAPI"
version = "1.0.0"
context = "/pizzashack/1.0.0"
production = "{backend.url}/pizzashack"
"""
        home = os.path.join(self.workdir, "jwt")
        gw = self.start(harness.MicroGw(home, harness.base_config(extra=extra)))
        made = harness.curl(gw.https("/apikeys"), headers=[f"Authorization: {harness.ADMIN_BASIC}"],
                            data='{"api": {"name": "PizzaShackAPI", "version": "1.0.0"}, "name": "jwt", '
                                 '"tier": "Bronze"}')
        self.assertEqual(made.status, 201, made.body)
        reply = harness.curl(gw.http("/pizzashack/1.0.0/menu"), headers=[f"apikey: {made.json()['apiKey']}"])
        self.assertEqual(reply.status, 200, reply.body)
        token = backend.requests()[-1].header("X-JWT-Assertion")[0].decode()
        code = re.findall(r"^```python\n(.*?)^```", readme_section("### The backend JWT"),
                          re.MULTILINE | re.DOTALL)
        self.assertEqual(len(code), 1)
        script = code[0].replace("localhost:9095", f"localhost:{gw.https_port}")
        script += f"\nprint(json.dumps(caller({{'X-JWT-Assertion': {token!r}}})))\n"
        out = subprocess.run(["/usr/bin/python3", "-c", script], cwd=home, capture_output=True, text=True,
                             timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        # An opaque key's backend JWT carries its tier, as the README lists.
        self.assertEqual(json.loads(out.stdout), ["admin", None, "PRODUCTION", "Bronze"])

    def test_first_run_time_and_expiry_are_said(self):
        with open(README) as f:
            text = f.read()
        intro = text[:text.index("## Walkthrough")]
        self.assertIn("about 10 minutes", intro)
        self.assertIn("Keys never expire by default", readme_section("## Walkthrough"))

    def test_several_nodes_block_waits_for_readiness_and_sets_a_redis_password(self):
        block = re.findall(r"^```bash\n(.*?)^```", readme_section("## Several nodes"), re.MULTILINE | re.DOTALL)
        self.assertEqual(len(block), 1)
        self.assertNotIn("sleep 1\n", block[0])
        self.assertIn("--ready-file", block[0])
        self.assertIn("requirepass", block[0])
        self.assertIn("redisPassword", block[0])

    def test_container_block_removes_its_container_and_avoids_make_runs_ports(self):
        section = readme_section("## Container")
        run = [line for line in section.splitlines() if line.startswith("docker run")]
        self.assertTrue(run)
        for line in run:
            self.assertIn("--rm", line)
            self.assertNotIn("-p 9090:", line)
            self.assertNotIn("-p 9095:", line)
        self.assertIn("make run", section)
        self.assertIn("rlimit", section)


if __name__ == "__main__":
    unittest.main()
