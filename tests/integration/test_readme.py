"""README.md runs top to bottom as written: every ```sh block, in order, in one bash session, against
the real micro-gw (the shipped conf/micro-gw.conf and samples/apis/) and the real sample backend.

Only the ports change (any free port instead of 9090/9095/9080/9081, so tests run side by side).
Blocks that are not run here, and why: `make run` / `make test` (this test is what they start) and
`docker` (make image-test runs the image). Every curl fails on an HTTP error status
(--fail-with-body), so a command the README shows as working must work. Also checked: the error table
lists every status and code of src/common/status.cc.
"""
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


if __name__ == "__main__":
    unittest.main()
