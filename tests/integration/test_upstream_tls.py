"""Upstream TLS (SPEC section 10, issue 9): HTTPS backends are verified by OpenSSL against the
truststore, with the host name checked as SSL_set1_host does: a certificate with a SAN is never
matched by its CN, and an IP address only matches an IP SAN. Each backend here is a real TLS server
(Python's ssl) with a certificate from a CA made at test time; the CA is the only entry of the
gateway's truststore (`[listenerConfig] trustStorePath`, a folder of PEM files).

A refusal is 502 with fault 101503, the backend never gets a request, and micro-gw logs why
(certificate verification)."""
import datetime
import ipaddress
import os
import re
import ssl
import time
import unittest

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

import harness
import wire
from recording_backend import RecordingBackend


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _pem_key(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def make_ca(cn):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(_name(cn))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    return key, cert


def make_leaf(ca_key, ca_cert, cn, dns=(), ips=()):
    """A server certificate signed by the CA; no SAN extension at all when dns and ips are empty."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    b = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(ca_cert.subject)
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
         .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
         .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False))
    names = [x509.DNSName(d) for d in dns] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    if names:
        b = b.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return key, b.sign(ca_key, hashes.SHA256())


# name -> (CN, SAN DNS names, SAN IPs, host in the API's URL, accepted?)
CASES = {
    "right_dns": ("localhost", ["localhost"], ["127.0.0.1"], "localhost", True),
    "right_ip": ("localhost", ["localhost"], ["127.0.0.1"], "127.0.0.1", True),
    "cn_only_ip": ("127.0.0.1", ["wrong.example"], [], "127.0.0.1", False),
    "cn_only_dns": ("localhost", ["wrong.example"], [], "localhost", False),
    "wrong_san": ("wrong.example", ["wrong.example"], ["10.1.2.3"], "localhost", False),
    "wrong_ip": ("127.0.0.1", [], ["7f00:1::"], "127.0.0.1", False),
    "ip_as_dns_san": ("127.0.0.1", ["127.0.0.1"], [], "127.0.0.1", False),
}


class UpstreamTlsTest(harness.GatewayTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        ca_key, ca_cert = make_ca("micro-gw test CA")
        rogue_key, rogue_cert = make_ca("micro-gw rogue CA")
        trust = os.path.join(cls.workdir, "test-truststore")
        os.makedirs(trust)
        with open(os.path.join(trust, "test-ca.pem"), "wb") as f:
            f.write(ca_cert.public_bytes(serialization.Encoding.PEM))
        cls.backends = {}
        cases = dict(CASES)
        cases["untrusted_ca"] = ("localhost", ["localhost"], ["127.0.0.1"], "localhost", False)
        cls.cases = cases
        extra = ""
        for name, (cn, dns, ips, host, _) in cases.items():
            signer = (rogue_key, rogue_cert) if name == "untrusted_ca" else (ca_key, ca_cert)
            key, cert = make_leaf(*signer, cn, dns, ips)
            cert_path = os.path.join(cls.workdir, f"{name}.pem")
            with open(cert_path, "wb") as f:
                f.write(cert.public_bytes(serialization.Encoding.PEM) + _pem_key(key))
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(cert_path)
            backend = RecordingBackend(ssl_context=ctx)
            cls.addClassCleanup(backend.stop)
            cls.backends[name] = backend
            extra += f"""
[[apis.api]]
name = "Tls_{name}"
version = "1.0.0"
context = "/{name}"
production = "https://{host}:{backend.port}/up"
security = []
timeoutSeconds = 5
"""
        config = harness.with_listener_keys(harness.base_config(None, None, extra), trustStorePath=trust)
        cls.gw = cls.start(harness.MicroGw(cls.workdir, config))

    def call(self, name):
        with wire.Client(self.gw.http_port) as c:
            c.send(f"GET /{name}/x HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            resps = c.read_responses(1, timeout=15)
        self.assertEqual(len(resps), 1, f"no answer for {name}")
        return resps[0]

    def assert_accepted(self, name):
        r = self.call(name)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["target"], "/up/x")
        self.assertEqual(len(self.backends[name].requests()), 1)

    def assert_refused(self, name):
        log_before = len(self.gw.output())
        r = self.call(name)
        self.assertEqual(r.status, 502, r)
        self.assertEqual(r.json()["fault"]["code"], 101503, r)
        self.assertEqual(self.backends[name].requests(), [], "a request reached a backend that failed verification")
        time.sleep(0.3)
        new_log = self.gw.output()[log_before:]
        self.assertTrue(re.search(r"certificate|verif", new_log, re.I),
                        f"no log line says why the backend was refused:\n{new_log[-2000:]}")

    def test_right_name_accepted(self):
        """SAN DNS:localhost + IP:127.0.0.1 from the truststore's CA: accepted by name and by IP."""
        self.assert_accepted("right_dns")
        self.assert_accepted("right_ip")

    def test_cn_only_match_refused(self):
        """CN=127.0.0.1 with SAN DNS:wrong.example, for https://127.0.0.1 (and CN=localhost for
        https://localhost): a certificate with a SAN is never matched by its CN."""
        self.assert_refused("cn_only_ip")
        self.assert_refused("cn_only_dns")

    def test_wrong_san_refused(self):
        """SAN DNS:wrong.example + IP:10.1.2.3 for https://localhost."""
        self.assert_refused("wrong_san")

    def test_wrong_ip_san_refused(self):
        """An IPv6 SAN 7f00:1:: only, for https://127.0.0.1 (its first 4 bytes spell 127.0.0.1)."""
        self.assert_refused("wrong_ip")

    def test_ip_in_a_dns_san_refused(self):
        """SAN DNS:127.0.0.1 for https://127.0.0.1: an IP address only matches an IP SAN."""
        self.assert_refused("ip_as_dns_san")

    def test_untrusted_ca_refused(self):
        """A right name, signed by a CA outside the truststore (and the system CAs)."""
        self.assert_refused("untrusted_ca")


if __name__ == "__main__":
    unittest.main()
