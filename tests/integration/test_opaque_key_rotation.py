"""Opaque keys that can be rotated, traced and found when they leak (issue 25 items 2 to 5), against
the real micro-gw: the <prefix>_<random>_<checksum> format and its checksum refusal, `micro-gw keys
scan`, regenerate with a grace period (Deprecation/Sunset headers), POST /apikeys/leaked, last use
(batched store writes, kept over a restart, `keys stale`) and the expiry warning."""
import http.client
import json
import os
import re
import signal
import ssl
import subprocess
import tempfile
import time
import urllib.request
import zlib

import harness
from harness import ADMIN_BASIC, curl
from test_lifecycle import ALICE, BOB, LifecycleBase, lifecycle_config

KEY_FORMAT = re.compile(r"^mgw_[0-9A-Za-z]{43}_[0-9A-Za-z]{6}$")
MENU = "/pizzashack/1.0.0/menu"


def rotation_config(workdir, backend):
    # lifecycle_config's [server] etc. come first; [apikey] keys are appended as their own table.
    return lifecycle_config(workdir, backend) + """
[apikey]
maxGracePeriodSeconds = 600
expiryWarningDays = 7
leakReporters = ["bob"]
"""


BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def base62(n, width):
    out = ""
    while n:
        out = BASE62[n % 62] + out
        n //= 62
    return out.rjust(width, "0")


def python_key(prefix="mgw"):
    random = base62(int.from_bytes(os.urandom(32), "big"), 43)
    return f"{prefix}_{random}_{base62(zlib.crc32(random.encode()), 6)}"


def assert_scan_finds(test, keys, contexts, others=""):
    """Writes each key into a file of a folder tree in one of contexts (str.format patterns), and
    others into one more file; `micro-gw keys scan` of the folder must list each key once, masked,
    and nothing else."""
    with tempfile.TemporaryDirectory() as d:
        for i, key in enumerate(keys):
            sub = os.path.join(d, f"dir{i % 3}")
            os.makedirs(sub, exist_ok=True)
            with open(os.path.join(sub, f"f{i}.txt"), "w") as f:
                f.write("noise line\n" + contexts[i % len(contexts)].format(key))
        with open(os.path.join(d, "others.txt"), "w") as f:
            f.write(others)
        r = subprocess.run([harness.MGW_BINARY, "keys", "scan", d], capture_output=True, text=True,
                           timeout=60)
        test.assertEqual(r.returncode, 1, r.stderr)
        lines = r.stdout.splitlines()
        test.assertEqual(len(lines), len(keys), r.stdout)
        for key in keys:
            test.assertNotIn(key, r.stdout)  # never the whole value
            test.assertTrue(any(l.endswith(key[:8] + "..." + key[-4:]) for l in lines), key)


def metric(gw, name):
    with urllib.request.urlopen(f"http://127.0.0.1:{gw.metrics_port}/metrics", timeout=10) as r:
        text = r.read().decode()
    m = re.search(rf"^{name} (\d+)$", text, re.MULTILINE)
    return int(m.group(1)) if m else None


class KeyRotationTest(LifecycleBase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = cls.start(harness.Backend(cls.workdir))
        cls.gw = cls.start(harness.MicroGw(cls.workdir, rotation_config(cls.workdir, cls.backend)))

    def restart(self):
        self.gw.stop(signal.SIGTERM)
        type(self).gw = self.start(harness.MicroGw(self.workdir, rotation_config(self.workdir, self.backend)))

    # --- item 4: the format, the checksum, the leak report ---

    def test_new_keys_have_the_format_and_a_mangled_checksum_is_refused(self):
        created = self.create_key(auth=ALICE)
        key = created["apiKey"]
        self.assertRegex(key, KEY_FORMAT)
        self.assertEqual(self.call(MENU, key).status, 200)
        i = len(key) - 1
        mangled = key[:i] + ("a" if key[i] != "a" else "b")
        r = self.call(MENU, mangled)
        self.assertFault(r, 401, 900901, "checksum")
        # A custom value of the format must carry a right checksum (the gateway could never take it).
        r = self.mgmt("POST", "/apikeys", ALICE, {"api": {"name": "PizzaShackAPI", "version": "1.0.0"},
                                                 "name": "custom", "value": mangled})
        self.assertFault(r, 400, 900400, "checksum")
        self.assertNotIn(mangled, r.body)
        # Keys made before the format (custom values, base64url) keep working.
        old = self.create_key(auth=ALICE, value="an-old-style-custom-key-1")["apiKey"]
        self.assertEqual(self.call(MENU, old).status, 200)

    def test_leak_report_revokes_what_it_knows_and_answers_which(self):
        opaque = self.create_key(auth=ALICE)
        signed = self.issue(ALICE)
        already = self.create_key(auth=ALICE)
        self.assertEqual(self.mgmt("DELETE", f"/apikeys/{already['id']}", ALICE).status, 204)
        unreported = self.create_key(auth=ALICE)["apiKey"]
        # alice is neither an admin nor a leak reporter.
        self.assertFault(self.mgmt("POST", "/apikeys/leaked", ALICE, [{"token": unreported}]), 403, 900403)
        report = [
            {"token": opaque["apiKey"], "type": "micro_gw_api_key", "url": "https://example.invalid/a"},
            {"token": signed["apiKey"], "type": "micro_gw_api_key", "url": "https://example.invalid/b"},
            {"token": already["apiKey"], "type": "micro_gw_api_key"},
            {"token": "not-a-key-of-ours-at-all", "type": "micro_gw_api_key"},
            {"token": opaque["apiKey"][:-1] + ("a" if opaque["apiKey"][-1] != "a" else "b")},
        ]
        r = self.mgmt("POST", "/apikeys/leaked", BOB, report)  # bob is a leak reporter
        self.assertEqual(r.status, 200, r.body)
        for item in report:
            self.assertNotIn(item["token"], r.body)
        body = r.json()
        self.assertEqual(body["revoked"], 2)
        actions = [x["action"] for x in body["results"]]
        self.assertEqual(actions, ["revoked", "revoked", "already_revoked", "unknown", "bad_checksum"])
        labels = [x["label"] for x in body["results"]]
        self.assertEqual(labels, ["true_positive"] * 3 + ["false_positive"] * 2)
        self.assertEqual(body["results"][0]["id"], opaque["id"])
        self.assertEqual(body["results"][1]["jti"], signed["jti"])
        self.assertFault(self.call(MENU, opaque["apiKey"]), 401, 900901, "revoked")
        self.assertFault(self.call(MENU, signed["apiKey"]), 401, 900901, "revoked")
        self.assertEqual(self.call(MENU, unreported).status, 200)  # not reported: untouched
        self.assertFault(self.mgmt("POST", "/apikeys/leaked", ADMIN_BASIC, {"nope": 1}), 400, 900400)

    def test_keys_scan_finds_every_generated_key_and_nothing_in_the_repository(self):
        keys = [self.create_key(auth=ALICE, name=f"scan {i}")["apiKey"] for i in range(25)]
        # And keys made here by the README's recipe (zlib's CRC-32, base62): the format is what it says.
        keys += [python_key() for _ in range(75)]
        assert_scan_finds(self, keys, ["API_KEY={}\n", '{{"apikey": "{}"}}\n', "curl -H 'apikey: {}' https://x\n",
                                       "https://api.example/?apikey={}&x=1\n", "  key: {}\n"])
        # The repository's own tree: no false positive (tests write their vectors split).
        src = os.environ["MGW_SOURCE_DIR"]
        tracked = subprocess.run(["git", "-C", src, "ls-files", "-z"], capture_output=True, timeout=60)
        if tracked.returncode == 0 and tracked.stdout:
            files = [os.path.join(src, f) for f in tracked.stdout.decode().split("\0") if f]
            files = [f for f in files if os.path.isfile(f)]
        else:
            files = [os.path.join(src, d) for d in ("src", "tests", "conf", "samples", "bench", "README.md")]
        r = subprocess.run([harness.MGW_BINARY, "keys", "scan", *files], capture_output=True, text=True,
                           timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(r.stdout, "")

    # --- item 2: rotation with a grace period ---

    def test_regenerate_with_a_grace_period(self):
        created = self.create_key(auth=ALICE)
        old = created["apiKey"]
        self.assertFault(self.mgmt("POST", f"/apikeys/{created['id']}/regenerate", ALICE,
                                   {"gracePeriodSeconds": 601}), 400, 900400, "maxGracePeriodSeconds")
        self.assertFault(self.mgmt("POST", f"/apikeys/{created['id']}/regenerate", ALICE,
                                   {"gracePeriodSeconds": -1}), 400, 900400)
        before = int(time.time())
        r = self.mgmt("POST", f"/apikeys/{created['id']}/regenerate", ALICE, {"gracePeriodSeconds": 3})
        self.assertEqual(r.status, 200, r.body)
        new = r.json()["apiKey"]
        self.assertRegex(new, KEY_FORMAT)
        self.assertIn("previousValue", r.json())
        # The new value works at once, without the header.
        fresh = self.call(MENU, new)
        self.assertEqual(fresh.status, 200)
        self.assertNotIn("deprecation", fresh.headers)
        # The old one still works, saying it was replaced (RFC 9745: "@<epoch seconds>").
        r = self.call(MENU, old)
        self.assertEqual(r.status, 200, r.body)
        m = re.fullmatch(r"@(\d+)", r.headers.get("deprecation", ""))
        self.assertIsNotNone(m, r.headers)
        self.assertTrue(before <= int(m.group(1)) <= int(time.time()))
        self.assertIn("GMT", r.headers.get("sunset", ""))
        # Until the grace period ends, then 401.
        time.sleep(3.5)
        self.assertFault(self.call(MENU, old), 401, 900901, "grace period ended")
        self.assertEqual(self.call(MENU, new).status, 200)
        # Without a grace period the old value stops at once (as before).
        r = self.mgmt("POST", f"/apikeys/{created['id']}/regenerate", ALICE)
        self.assertFault(self.call(MENU, new), 401, 900901)
        self.assertEqual(self.call(MENU, r.json()["apiKey"]).status, 200)

    def test_revoking_a_key_ends_its_grace_period(self):
        created = self.create_key(auth=ALICE)
        r = self.mgmt("POST", f"/apikeys/{created['id']}/regenerate", ALICE, {"gracePeriodSeconds": 300})
        self.assertEqual(self.call(MENU, created["apiKey"]).status, 200)
        self.assertEqual(self.mgmt("DELETE", f"/apikeys/{created['id']}", ALICE).status, 204)
        self.assertFault(self.call(MENU, created["apiKey"]), 401, 900901, "revoked")
        self.assertFault(self.call(MENU, r.json()["apiKey"]), 401, 900901, "revoked")

    # --- item 5: expiry in sight ---

    def test_expiry_warning_header_and_gauge(self):
        soon = self.create_key(auth=ALICE, validityPeriod=3 * 86400)
        later = self.create_key(auth=ALICE, validityPeriod=30 * 86400)
        r = self.call(MENU, soon["apiKey"])
        self.assertEqual(r.status, 200)
        self.assertIn("GMT", r.headers.get("api-key-expires", ""))
        self.assertNotIn("api-key-expires", self.call(MENU, later["apiKey"]).headers)
        self.assertGreaterEqual(metric(self.gw, "mgw_keys_expiring"), 1)

    # --- item 3: last used (last: it restarts the gateway) ---

    def test_zz_last_used_is_batched_and_kept_over_a_restart(self):
        created = self.create_key(auth=ALICE)
        key = created["apiKey"]
        self.assertIsNone(self.mgmt("GET", f"/apikeys/{created['id']}", ALICE).json()["lastUsed"])
        writes_before = metric(self.gw, "mgw_key_last_used_writes_total")
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        conn = http.client.HTTPSConnection("127.0.0.1", self.gw.https_port, context=ctx, timeout=20)
        start = time.time()
        for _ in range(1000):
            conn.request("GET", MENU, headers={"apikey": key})
            resp = conn.getresponse()
            resp.read()
            self.assertEqual(resp.status, 200)
        minutes = int((time.time() - start) // 60) + 2  # minutes the run touched, at most
        conn.close()
        writes = metric(self.gw, "mgw_key_last_used_writes_total") - writes_before
        self.assertLessEqual(writes, minutes)
        self.restart()  # SIGTERM: the noted use is written before the process ends
        shown = self.mgmt("GET", f"/apikeys/{created['id']}", ALICE).json()["lastUsed"]
        self.assertIsNotNone(shown)
        self.assertEqual(shown % 60, 0)  # minute precision
        self.assertLessEqual(abs(shown - start), 120)
        listed = [k for k in self.mgmt("GET", "/apikeys", ALICE).json()["list"] if k["id"] == created["id"]]
        self.assertEqual(listed[0]["lastUsed"], shown)
        # keys stale: this key was used now, so 0 days lists no such key, and a key never used is
        # listed only once it is older than N days.
        r = subprocess.run([harness.MGW_BINARY, "keys", "stale", "--days", "0", "--config", self.gw.config_path],
                           capture_output=True, text=True, timeout=60,
                           env={**os.environ, "MGW_RUNTIME_HOME": self.workdir})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(created["id"], r.stdout)
        r = subprocess.run([harness.MGW_BINARY, "keys", "stale", "--days", "1", "--config", self.gw.config_path],
                           capture_output=True, text=True, timeout=60,
                           env={**os.environ, "MGW_RUNTIME_HOME": self.workdir})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn(created["id"], r.stdout)


if __name__ == "__main__":
    import unittest
    unittest.main()
