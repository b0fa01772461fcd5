"""WSO2 API Microgateway 3.x projects run unchanged (issues 16 and 24, SPEC section 9).

The project's own fixtures in WSO2's formats (tests/testdata/wso2/: api-key.conf, validation.conf,
library_api.yaml, policies.yaml; nothing copied from WSO2) are laid out as a WSO2 project folder:
conf/micro-gw.conf, runtime/bre/security/*.p12, api_definitions/library_api.yaml (no [apis]
definitions in the file). The PKCS#12 keystores are made here with `openssl pkcs12 -export -legacy`
(RC2-40 certificates, 3DES key: the encryption Java 8 and OpenSSL 1.x wrote, which OpenSSL 3 reads
only through its legacy provider) from a key generated for the run. Only the runtime home
(MGW_RUNTIME_HOME) is chosen by the test.

LoadUnchanged: --validate accepts api-key.conf, validation.conf and library_api.yaml as they are,
with one warning per WSO2 key micro-gw ignores, and still refuses a key that is not WSO2's.

ApiKeyTestCasePort: the cases of WSO2's APIKeyTestCase (ported, not copied) against the real
binary, each asserting WSO2's expected status or the SPEC section 9 difference named in a comment.
For the gateway to run next to other tests, the listener ports are 0 (any free port) and the
definition's backend https://localhost:2380 is a TLS test backend on a free port (its CA in the
default truststore folder). The bearer-token cases need a trusted OAuth2 issuer: this class appends
one [[jwtTokenConfig]] with a key made here (micro-gw trusts no bearer issuer by default). The
definition's throttling tiers (20PerMin for the whole API, 4PerMin on GET /book/{bookId}) would
throttle this port's two dozen requests, so its policies.yaml lifts them. For basic auth on the
definition's resources, one more user is appended: scopedUser, a SHA-1 user as WSO2 writes them,
with the scopes WSO2 checks for basic auth on OAuth2-scoped resources.

BasicAuthOnResources: basic-auth security schemes on resources (OpenAPI 3 http basic, Swagger 2
basic, x-wso2-application-security basic_auth) against [b7a.users], with a definition of its own:
forwarded without the Authorization header, 401 with a Basic challenge, API key OR basic, the SHA-1
legacy user, the login throttle (900429), HTTPS only, and an API-key request that completes while
slow argon2id verifications are in flight on a gateway with one I/O thread (argon2id runs on the
worker pool). Also a SANDBOX key on an API whose only sandbox endpoints are an operation's.

EndpointOverrides: WSO2 MGW 3.x's runtime endpoint overrides (<name>_prod_endpoint_0,
<name>_prod_basic_password, ...) from the environment, micro-gw.conf's top level and the command
line: traffic redirected to a second real backend, the basic auth the backend sees, a SIGHUP that
applies a changed override and refuses a bad one, and a bad override stopping the load by name.
"""
import ctypes
import http.client
import datetime
import hashlib
import threading
import base64
import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import tempfile
import time
import unittest
import uuid

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

import harness
from recording_backend import RecordingBackend, default_responder
from test_upstream_tls import _pem_key, make_ca, make_leaf

WSO2 = os.path.join(harness.SOURCE_DIR, "tests", "testdata", "wso2")
GATEWAY_AUDIENCE = "http://library.test/gateway"  # api-key.conf's audience
API_KEY_ISSUER = "https://sts.library.test:9695/apikey"  # api-key.conf's issuer
KEYSTORE_PASSWORD = "library-store-pw"  # api-key.conf's keyStorePassword
TRUSTSTORE_PASSWORD = "ballerina"  # WSO2's default trustStorePassword
AM_ISSUER = "https://idp.library.test/oauth2/token"
SHA1_USER = "Basic " + base64.b64encode(b"libraryClerk:shelf-3-secret").decode()


def read(name, mode="r"):
    with open(os.path.join(WSO2, name), mode) as f:
        return f.read()


def self_signed(common_name, key=None, days=365):
    key = key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=days)).sign(key, hashes.SHA256()))
    return key, cert


_SIGNING = {}


def signing_identity():
    """The run's STS signing key and certificate (alias ballerina), made once per test process."""
    if not _SIGNING:
        _SIGNING["key"], _SIGNING["cert"] = self_signed("library-sts")
    return _SIGNING["key"], _SIGNING["cert"]


def legacy_pkcs12(out_path, password, cert, key=None, alias="ballerina"):
    """A PKCS#12 file as Java 8 / OpenSSL 1.x wrote them, by `openssl pkcs12 -export -legacy`
    (certificates only, a truststore, when key is None)."""
    with tempfile.TemporaryDirectory() as tmp:
        cert_pem = os.path.join(tmp, "cert.pem")
        with open(cert_pem, "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
        argv = ["openssl", "pkcs12", "-export", "-legacy", "-in", cert_pem, "-name", alias, "-out", out_path,
                "-passout", "pass:" + password]
        if key is None:
            argv.append("-nokeys")
        else:
            key_pem = os.path.join(tmp, "key.pem")
            with open(key_pem, "wb") as f:
                f.write(_pem_key(key))
            argv += ["-inkey", key_pem]
        subprocess.run(argv, check=True, capture_output=True, timeout=60)


def wso2_project(home, conf_text, definition_text=None, policies_text=None, definition_name="library_api.yaml"):
    """A WSO2 project folder under home: conf/, runtime/bre/security/ (keystores made by openssl
    -legacy), api_definitions/<definition_name>, policies.yaml."""
    os.makedirs(os.path.join(home, "conf"), exist_ok=True)
    with open(os.path.join(home, "conf", "micro-gw.conf"), "w") as f:
        f.write(conf_text)
    security = os.path.join(home, "runtime", "bre", "security")
    os.makedirs(security, exist_ok=True)
    key, cert = signing_identity()
    legacy_pkcs12(os.path.join(security, "ballerinaKeystore.p12"), KEYSTORE_PASSWORD, cert, key)
    legacy_pkcs12(os.path.join(security, "ballerinaTruststore.p12"), TRUSTSTORE_PASSWORD, cert)
    definitions = os.path.join(home, "api_definitions")
    os.makedirs(definitions, exist_ok=True)
    with open(os.path.join(definitions, definition_name), "w") as f:
        f.write(definition_text if definition_text is not None else read("library_api.yaml"))
    with open(os.path.join(home, "policies.yaml"), "w") as f:
        f.write(policies_text if policies_text is not None else read("policies.yaml"))
    return os.path.join(home, "conf", "micro-gw.conf")


def validate(config_path, home, env=None):
    full_env = dict(os.environ, MGW_RUNTIME_HOME=home)
    full_env.update(env or {})
    return subprocess.run([harness.MGW_BINARY, "--validate", "--config", config_path], capture_output=True,
                          text=True, timeout=60, env=full_env)


def b64json(segment):
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


class LoadUnchanged(unittest.TestCase):
    def setUp(self):
        self.home = tempfile.mkdtemp(prefix="mgw-wso2-")
        self.addCleanup(shutil.rmtree, self.home, True)

    def test_api_key_conf_and_common_api_load_unchanged(self):
        result = validate(wso2_project(self.home, read("api-key.conf")), self.home)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertEqual(result.stdout.strip(), "OK")
        warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
        # One warning per ignored WSO2 key, each saying it is ignored; [apikey.tokenConfigs]
        # audience is ignored as WSO2 3.2.10 ignored it (issue 24 item 6), the STS's is honoured.
        self.assertEqual(len([w for w in warnings if "tokenListenerPort" in w]), 1, warnings)
        self.assertEqual(len([w for w in warnings if "[apim.eventHub]" in w]), 1, warnings)
        audience = [w for w in warnings if "audience" in w]
        self.assertEqual(len(audience), 1, warnings)
        self.assertIn("[apikey.tokenConfigs] audience", audience[0])
        self.assertIn("enforceAudience = true", audience[0])
        for w in warnings:
            if "tokenListenerPort" in w or "[apim.eventHub]" in w or "audience" in w:
                self.assertIn("WSO2 API Microgateway 3.x setting, ignored", w)

    def test_validation_conf_loads_unchanged(self):
        result = validate(wso2_project(self.home, read("validation.conf")), self.home)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
        # [validationConfig] is honoured now (issue 27): no warning.
        self.assertEqual(len([w for w in warnings if "[validationConfig]" in w]), 0, warnings)
        self.assertEqual(len([w for w in warnings if "tokenListenerPort" in w]), 1, warnings)

    def test_a_key_that_is_not_wso2s_is_still_an_error(self):
        conf = read("api-key.conf").replace("tokenListenerPort=9696", "tokenListenerPort=9696\ntokenListenerPorts=1")
        result = validate(wso2_project(self.home, conf), self.home)
        self.assertEqual(result.returncode, 1, result.stdout)
        self.assertIn("[listenerConfig] tokenListenerPorts = 1: unknown key", result.stdout)

    def test_mutual_ssl_config_loads_and_per_api_aliases_are_refused(self):
        # Issue 24 item 7: [mutualSSLConfig] as WSO2's template writes it loads (sslVerifyClient
        # honoured, the TLS and load-balancer keys warned about by name); per-API alias lists are
        # refused with the reason (ignoring them would open those APIs to every trusted CA's
        # certificates); a value WSO2 never accepted is an error.
        table = MUTUAL_SSL_TABLE
        result = validate(wso2_project(self.home, read("api-key.conf") + table), self.home)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        for key in ("protocolVersions", "ciphers", "certificateHeaderName", "isClientCertificateValidationEnabled"):
            self.assertIn(key, result.stderr)
        conf = read("api-key.conf") + table + """
    [[mutualSSLConfig.api.certificates]]
      name = "ShelvesAPI"
      version = "1.0.0"
      aliasList = ["clientca"]
"""
        result = validate(wso2_project(self.home, conf), self.home)
        self.assertEqual(result.returncode, 1, result.stdout)
        self.assertIn("[mutualSSLConfig.api]", result.stdout)
        self.assertIn("per-API certificate aliases are not served", result.stdout)
        conf = read("api-key.conf") + table.replace('"optional"', '"want"')
        result = validate(wso2_project(self.home, conf), self.home)
        self.assertEqual(result.returncode, 1, result.stdout)
        self.assertIn('must be "optional" or "require"', result.stdout)

    def test_without_the_legacy_provider_the_error_says_so(self):
        # OPENSSL_MODULES points OpenSSL at a folder without legacy.so: the keystore cannot be read,
        # and the error says why and how to fix it (never a crash, never a silent fallback).
        empty = os.path.join(self.home, "no-modules")
        os.makedirs(empty)
        result = validate(wso2_project(self.home, read("api-key.conf")), self.home, {"OPENSSL_MODULES": empty})
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertIn("legacy provider could not be loaded", result.stdout)
        self.assertIn("ballerinaKeystore.p12", result.stdout)


SHORTHANDS_API = """openapi: 3.0.0
info: {title: ShorthandAPI, version: "1.0.0"}
x-wso2-basePath: /shorthand/v1
x-wso2-production-endpoints: {urls: ["https://localhost:2380/shorthand"]}
components:
  securitySchemes:
    api_key: {type: apiKey, in: header, name: api_key}
    shelf_auth: {type: oauth2, flows: {implicit: {authorizationUrl: "https://idp.library.test/a", scopes: {}}}}
paths:
  /undeclared: {get: {security: [{shelf_oauth: []}]}}
  /as-string: {get: {security: [api_key]}}
  /scopes-string: {get: {security: [{shelf_auth: "read:shelves write:shelves"}]}}
"""


AUTH_HEADER_API = """openapi: 3.0.0
info: {title: CatalogueSearchAPI, version: "1.0.0"}
x-wso2-basePath: /catalogue-search/v1
x-wso2-auth-header: X-Library-Auth
x-wso2-production-endpoints: {urls: ["https://localhost:2380/search"]}
components:
  securitySchemes:
    search_auth: {type: oauth2, flows: {implicit: {authorizationUrl: "https://idp.library.test/a", scopes: {}}}}
security: [{search_auth: []}]
paths:
  /search: {get: {}}
"""


NO_SECURITY_API = """openapi: 3.0.0
info: {title: StacksAPI, version: "1.0.0"}
x-wso2-basePath: /stacks/v1
x-wso2-production-endpoints: {urls: ["https://localhost:2380/stacks"]}
paths:
  /floors: {get: {}}
"""


ARCHIVE_PASSWORD = "dusty-folio-77"
ARCHIVE_API = """openapi: 3.0.0
info: {title: ArchiveAPI, version: "1.0.0"}
x-wso2-basePath: /archive/v1
x-wso2-endpoints:
  - archiveBackend:
      urls: ["https://localhost:2380/archive"]
      securityConfig: {type: basic, username: archivist, password: "%s"}
      advanceEndpointConfig: {timeoutInMillis: 1500, retryConfig: {count: 2}}
x-wso2-production-endpoints: "#/x-wso2-endpoints/archiveBackend"
x-wso2-sandbox-endpoints: "#/x-wso2-endpoints/archiveBackend"
components:
  securitySchemes:
    archive_auth: {type: oauth2, flows: {implicit: {authorizationUrl: "https://idp.library.test/a", scopes: {}}}}
security: [{archive_auth: []}]
paths:
  /boxes: {get: {}}
  /slow: {get: {}}
""" % ARCHIVE_PASSWORD


def slow_archive_responder(req):
    """The backend of ApiKeyTestCasePort: /archive/slow answers after 4 seconds."""
    if req.target.startswith("/archive/slow"):
        time.sleep(4)
    return default_responder(req)


class Round2LoadsAndRefusals(unittest.TestCase):
    """Issue 24 item 5: what stopped a WSO2 project's load, each mapped (loads, with a warning
    saying how) or refused with the reason, through the binary's --validate."""

    def setUp(self):
        self.home = tempfile.mkdtemp(prefix="mgw-wso2-r2-")
        self.addCleanup(shutil.rmtree, self.home, True)

    def check(self, conf, definition=None, ok=True):
        result = validate(wso2_project(self.home, conf, definition), self.home)
        self.assertEqual(result.returncode, 0 if ok else 1, result.stdout + result.stderr)
        warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
        return result.stdout, warnings

    def test_validate_subscriptions_true_is_mapped_onto_every_issuer(self):
        idp_pem = os.path.join(self.home, "idp.pem")
        with open(idp_pem, "wb") as f:
            f.write(self_signed("library-idp")[1].public_bytes(serialization.Encoding.PEM))
        conf = read("api-key.conf") + (
            "\n[security]\n  validateSubscriptions = true\n"
            '[[jwtTokenConfig]]\n  issuer = "https://idp.library.test/oauth2/token"\n'
            f'  certificateFile = "{idp_pem}"\n')
        _, warnings = self.check(conf)
        mapped = [w for w in warnings if "validateSubscriptions" in w]
        self.assertEqual(len(mapped), 1, warnings)
        self.assertIn("mapped: validateSubscription = true on every [[jwtTokenConfig]] (1 issuer(s))", mapped[0])

    def test_ballerina_sha2_hashes_load_with_the_sha1_warning(self):
        conf = read("api-key.conf")
        for name, algo in (("u256", "sha256"), ("u384", "sha384"), ("u512", "sha512")):
            digest = hashlib.new(algo, b"shelf-secret").hexdigest()
            conf += f'\n[b7a.users.{name}]\n  password="@{algo}:{{{digest}}}"\n'
        _, warnings = self.check(conf)
        for name, bits in (("u256", "256"), ("u384", "384"), ("u512", "512")):
            line = [w for w in warnings if f"b7a.users.{name}" in w]
            self.assertEqual(len(line), 1, warnings)
            self.assertIn(f"unsalted SHA-{bits} password (WSO2 legacy)", line[0])
        # The SHA-1 user of api-key.conf gets the same warning.
        self.assertTrue([w for w in warnings if "libraryClerk" in w and "unsalted SHA-1 password (WSO2 legacy)" in w],
                        warnings)
        # A digest of the wrong length is still refused.
        bad = read("api-key.conf") + '\n[b7a.users.short]\n  password="@sha384:{abcd}"\n'
        out, _ = self.check(bad, ok=False)
        self.assertIn("b7a.users.short", out)
        self.assertIn("@sha384:{hex}", out)

    def test_jwt_token_config_without_a_certificate_alias_is_refused_with_the_reason(self):
        conf = read("api-key.conf") + '\n[[jwtTokenConfig]]\n  issuer = "https://idp.library.test/oauth2/token"\n'
        out, _ = self.check(conf, ok=False)
        self.assertIn("[[jwtTokenConfig]] certificateAlias", out)
        self.assertIn("verified no signature", out)

    def test_token_configs_holding_only_a_switch_take_wso2s_defaults(self):
        conf = read("api-key.conf")
        start = conf.index("[apikey.tokenConfigs]")
        end = conf.index("[apikey.issuer]")
        conf = conf[:start] + "[apikey.tokenConfigs]\n  validateAllowedAPIs=true\n\n" + conf[end:]
        # The STS keeps WSO2's default issuer too, so its own key verifies (as in WSO2).
        conf = conf.replace('    issuer="https://sts.library.test:9695/apikey"\n', "")
        _, warnings = self.check(conf)
        self.assertTrue([w for w in warnings if "[apikey.tokenConfigs] issuer" in w
                         and '"https://localhost:9095/apikey" applies' in w], warnings)
        self.assertTrue([w for w in warnings if "[apikey.tokenConfigs] certificateAlias" in w
                         and '"ballerina" applies' in w], warnings)

    def test_definition_shorthands_load_with_warnings(self):
        _, warnings = self.check(read("api-key.conf"), SHORTHANDS_API)
        self.assertTrue([w for w in warnings if "'shelf_oauth' is not declared" in w], warnings)
        self.assertTrue([w for w in warnings if "security entry 'api_key' is a string" in w], warnings)
        self.assertTrue([w for w in warnings if "scopes of 'shelf_auth' are a string" in w], warnings)

    def test_operation_tier_next_to_an_api_tier_and_unsupported_extensions_are_named(self):
        # Issue 24 item 6: the operation's tier is dropped for the API's (WSO2's toolkit did the
        # same); interceptors, response caching and x-wso2-transports are warned about by name.
        definition = read("library_api.yaml").replace(
            "x-wso2-basePath: /library/v2",
            "x-wso2-basePath: /library/v2\nx-wso2-transports: [https]\n"
            "x-wso2-response-cache: {enabled: true, cacheTimeoutInSeconds: 60}\n"
            "x-wso2-request-interceptor: validateRequest").replace(
            "      operationId: getStock\n",
            "      operationId: getStock\n      x-wso2-response-interceptor: java:org.library.Stamp\n")
        _, warnings = self.check(read("api-key.conf"), definition)
        self.assertTrue([w for w in warnings if "resource tier 4PerMin ignored: the API-level tier 20PerMin" in w],
                        warnings)
        for name in ("x-wso2-transports ignored", "x-wso2-response-cache ignored",
                     "x-wso2-request-interceptor ignored", "/paths/~1stock~1inventory/get/x-wso2-response-interceptor"):
            self.assertTrue([w for w in warnings if name in w], (name, warnings))

    def test_base_path_star_and_etcd_endpoints_are_refused_by_name(self):
        star = SHORTHANDS_API.replace("x-wso2-basePath: /shorthand/v1", "x-wso2-basePath: /*")
        out, _ = self.check(read("api-key.conf"), star, ok=False)
        self.assertIn("bad basePath '/*': an API on every path is not served", out)
        etcd = SHORTHANDS_API.replace('"https://localhost:2380/shorthand"', '"etcd(shelfKey, https://localhost:2380/s)"')
        out, _ = self.check(read("api-key.conf"), etcd, ok=False)
        self.assertIn("etcd(...) service discovery is not supported", out)


class ApiKeyTestCasePort(harness.GatewayTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        home = cls.workdir
        # The TLS backend standing in for WSO2's mock at https://localhost:2380.
        ca_key, ca_cert = make_ca("wso2 migration test CA")
        key, cert = make_leaf(ca_key, ca_cert, "localhost", ["localhost"], ["127.0.0.1"])
        cert_path = os.path.join(home, "backend.pem")
        with open(cert_path, "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM) + _pem_key(key))
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert_path)
        cls.backend = RecordingBackend(ssl_context=ctx, responder=slow_archive_responder)
        cls.addClassCleanup(cls.backend.stop)
        truststore = os.path.join(home, "runtime", "security", "truststore")
        os.makedirs(truststore, exist_ok=True)
        with open(os.path.join(truststore, "test-ca.pem"), "wb") as f:
            f.write(ca_cert.public_bytes(serialization.Encoding.PEM))

        # An API Manager stand-in: its signing key, its certificate as a PEM file.
        cls.am_key, am_cert = self_signed("library-idp", days=1)
        am_pem = os.path.join(home, "library-idp.pem")
        with open(am_pem, "wb") as f:
            f.write(am_cert.public_bytes(serialization.Encoding.PEM))

        # The STS's signing key, as the keystore made for the run holds it.
        cls.ballerina_key, cls.ballerina_cert = signing_identity()

        conf = read("api-key.conf").replace("httpPort=9690", "httpPort=0").replace("httpsPort=9695", "httpsPort=0")
        conf += f"""
[[jwtTokenConfig]]
  issuer = "{AM_ISSUER}"
  audience = "{GATEWAY_AUDIENCE}"
  certificateFile = "{am_pem}"
  validateSubscription = false
  consumerKeyClaim = "aud"
"""
        # WSO2's backend JWT tables (issue 24 item 6: mapped onto [jwtGenerator]).
        conf += """
[jwtConfig]
  header="X-JWT-Assertion"
[jwtGeneratorConfig]
  jwtGeneratorEnabled=true
  claimDialect="http://library.test/claims"
  signingAlgorithm="SHA256withRSA"
  certificateAlias="ballerina"
  privateKeyAlias="ballerina"
  tokenExpiry=120000
  issuer="library.test/gateway"
  [jwtGeneratorConfig.jwtGeneratorCaching]
    tokenCacheEnable=true
    tokenCacheCapacity=500
"""
        scoped_sha1 = hashlib.sha1(b"scoped-secret").hexdigest()
        conf += f"""
[b7a.users.scopedUser]
  password="{scoped_sha1}"
  scopes="write:books,write:booksNew"
"""
        definition = read("library_api.yaml").replace("https://localhost:2380", f"https://localhost:{cls.backend.port}")
        lifted = "resourcePolicies:\n" + "".join(
            f"  - {tier}:\n     count: 1000000\n     unitTime: 1\n     timeUnit: min\n"
            for tier in ("20PerMin", "4PerMin", "40kPerMin"))
        wso2_project(home, conf, definition, lifted)
        with open(os.path.join(home, "api_definitions", "reading_room_api.yaml"), "w") as f:
            f.write(read("reading_room_api.yaml").replace("https://localhost:2380",
                                                          f"https://localhost:{cls.backend.port}"))
        with open(os.path.join(home, "api_definitions", "archive.yaml"), "w") as f:
            f.write(ARCHIVE_API.replace("https://localhost:2380", f"https://localhost:{cls.backend.port}"))
        with open(os.path.join(home, "api_definitions", "stacks.yaml"), "w") as f:
            f.write(NO_SECURITY_API.replace("https://localhost:2380", f"https://localhost:{cls.backend.port}"))
        with open(os.path.join(home, "api_definitions", "catalogue_search.yaml"), "w") as f:
            f.write(AUTH_HEADER_API.replace("https://localhost:2380", f"https://localhost:{cls.backend.port}"))
        cls.gw = cls.start(harness.MicroGw(home, conf))
        cls.apikey = None

    # --- helpers ---

    def am_token(self, scope=None, aud=GATEWAY_AUDIENCE, **extra):
        """A JWT as TokenUtil.getBasicJWT writes it (RS256, x5t, no kid), from the AM stand-in."""
        now = int(time.time())
        claims = {"aud": aud, "sub": "admin", "iss": AM_ISSUER, "keytype": "PRODUCTION", "iat": now,
                  "exp": now + 3600, "jti": str(uuid.uuid4()),
                  "application": {"name": "jwtApp", "tier": "Unlimited", "id": 7}}
        if scope is not None:
            claims["scope"] = scope
        claims.update(extra)
        return jwt.encode(claims, self.am_key, algorithm="RS256", headers={"x5t": "UB_BQy2HFV3EMTgq64Q-1VitYbE"})

    def issued_key(self):
        if ApiKeyTestCasePort.apikey is None:
            reply = harness.curl(self.gw.https("/apikey"), headers=[f"Authorization: {SHA1_USER}"])
            self.assertEqual(reply.status, 200, reply.body)
            ApiKeyTestCasePort.apikey = reply.body
        return ApiKeyTestCasePort.apikey

    def get(self, path, headers=(), method=None, data=None):
        return harness.curl(self.gw.http("/library/v2" + path), method=method, headers=headers, data=data)

    # --- WSO2's APIKeyTestCase, in its order ---

    def test_1_api_key_issue(self):
        # APIKeyIssueTest: the STS with the SHA-1 user of api-key.conf -> 200, the bare key.
        reply = harness.curl(self.gw.https("/apikey"), headers=[f"Authorization: {SHA1_USER}"])
        self.assertEqual(reply.status, 200, reply.body)
        self.assertTrue(reply.headers["content-type"].startswith("text/plain"))
        header, payload, signature = reply.body.split(".")
        self.assertEqual(b64json(header)["kid"], "ballerina")
        claims = b64json(payload)
        self.assertEqual(claims["aud"], GATEWAY_AUDIENCE)  # [apikey.issuer.tokenConfig] audience
        self.assertEqual(claims["allowedAPIs"], [{"name": "LibraryAPI", "version": "2.1.0"}])
        self.assertEqual(claims["exp"] - claims["iat"], 900)  # validityTime
        # Signed with the key of ballerinaKeystore.p12 (legacy PKCS#12).
        self.ballerina_cert.public_key().verify(
            base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)),
            f"{header}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256())

    def test_2_invoke_api_key_header(self):
        # invokeAPIKeyHeaderTest: api_key header on GET /book/1 -> 200.
        reply = self.get("/book/1?trace=case2", headers=[f"api_key: {self.issued_key()}"])
        self.assertEqual(reply.status, 200, reply.body)
        forwarded = self.backend.find("trace=case2")[0]
        self.assertEqual(forwarded.target, "/v3/book/1?trace=case2")
        self.assertEqual(forwarded.header("api_key"), [])  # SPEC section 9: the key is not forwarded

    def test_3_invoke_api_key_no_query(self):
        # invokeAPIKeyNoQueryTest: ?api_key= on /stock/inventory, which declares api_key in the
        # header only -> 401.
        reply = self.get("/stock/inventory?api_key=" + self.issued_key())
        self.assertEqual(reply.status, 401, reply.body)
        self.assertEqual(reply.fault_code(), 900902)

    def test_4_invoke_api_key_query(self):
        # invokeAPIKeyQueryTest: ?api_key_query= on GET /book/1 -> 200.
        reply = self.get("/book/1?api_key_query=" + self.issued_key())
        self.assertEqual(reply.status, 200, reply.body)

    def test_5_validate_allowed_apis(self):
        # validateAPIsAPIKeyTest: WSO2 answers 401. SPEC section 9: a valid key that is not allowed
        # for the API is 403 (900908), as WSO2 API Manager answers, and the description names the
        # switch (validateAllowedAPIs) that decides. The key: signed by the STS's key (alias
        # ballerina), "allowedAPIs": [] as in WSO2's case.
        claims = {"sub": "admin", "iss": API_KEY_ISSUER, "iat": int(time.time()), "jti": str(uuid.uuid4()),
                  "aud": GATEWAY_AUDIENCE, "keytype": "PRODUCTION", "allowedAPIs": []}
        key = jwt.encode(claims, self.ballerina_key, algorithm="RS256", headers={"kid": "ballerina"})
        reply = self.get("/book/1", headers=[f"api_key: {key}"])
        self.assertEqual(reply.status, 403, reply.body)
        self.assertEqual(reply.fault_code(), 900908)
        self.assertIn("validateAllowedAPIs", reply.json()["fault"]["description"])

    def test_6_api_key_on_oauth2_scoped_resource(self):
        # invokeAPIKeyWithOauth2ScopeProtectedResource: POST /book/ (oauth2 with a scope, basic, or
        # api_key) with an API key -> 200.
        reply = self.get("/book/", method="POST", headers=[f"api_key: {self.issued_key()}"], data="")
        self.assertEqual(reply.status, 200, reply.body)

    def test_7_oauth2_token_without_the_scope(self):
        # invokeOauth2ScopeProtectedResource: a bearer JWT without write:booksNew -> 403.
        reply = self.get("/book/", method="POST", headers=[f"Authorization: Bearer {self.am_token()}"], data="")
        self.assertEqual(reply.status, 403, reply.body)
        self.assertEqual(reply.fault_code(), 900910)

    # --- what a migrating user meets besides (issue 16 items 4, 5, 6, 7, 8) ---

    def test_oauth2_token_with_the_scope_is_forwarded_without_it(self):
        reply = self.get("/book?trace=scoped", method="POST", data="{}",
                         headers=[f"Authorization: Bearer {self.am_token(scope='read:books write:booksNew')}"])
        self.assertEqual(reply.status, 200, reply.body)
        forwarded = self.backend.find("trace=scoped")[0]
        self.assertEqual(forwarded.header("Authorization"), [])  # removeAuthHeaderFromOutMessage

    def test_bearer_tokens_and_api_keys_stay_apart(self):
        # An API key sent as a bearer token, an API Manager token sent as an API key: both 401.
        reply = self.get("/book/1", headers=[f"Authorization: Bearer {self.issued_key()}"])
        self.assertEqual(reply.status, 401, reply.body)
        reply = self.get("/book/1", headers=[f"api_key: {self.am_token()}"])
        self.assertEqual(reply.status, 401, reply.body)

    def test_bearer_token_audience_is_checked(self):
        reply = self.get("/book/1", headers=[f"Authorization: Bearer {self.am_token(aud='https://elsewhere')}"])
        self.assertEqual(reply.status, 401, reply.body)
        self.assertEqual(reply.fault_code(), 900901)
        reply = self.get("/book/1", headers=[f"Authorization: Bearer {self.am_token()}"])
        self.assertEqual(reply.status, 200, reply.body)

    def test_key_location_is_per_resource(self):
        # api_key_query is declared by GET /book/{bookId} only: on /stock/inventory it is no key.
        reply = self.get("/stock/inventory?api_key_query=" + self.issued_key())
        self.assertEqual(reply.status, 401, reply.body)
        self.assertEqual(reply.fault_code(), 900902)
        reply = self.get("/stock/inventory", headers=[f"api_key: {self.issued_key()}"])
        self.assertNotIn(reply.status, (401, 403), reply.body)

    def test_disable_security_wins(self):
        # PUT /book: x-wso2-disable-security: true next to an oauth2 requirement -> open.
        reply = self.get("/book", method="PUT", data="{}")
        self.assertEqual(reply.status, 200, reply.body)

    def test_operation_disable_security_false_secures_under_an_api_level_true(self):
        # Issue 24 item 1 (security): reading_room_api.yaml is opened by an API-level
        # x-wso2-disable-security: true; operations saying false are secured again, as WSO2's toolkit
        # read the operation's value over the API's.
        room = lambda path, **kw: harness.curl(self.gw.http("/reading-room/v1" + path), **kw)
        reply = room("/seats?trace=room1")
        self.assertEqual(reply.status, 200, reply.body)  # no operation value: the API's true
        reply = room("/seats/4/booking?trace=room2", method="POST", data="{}")
        self.assertEqual(reply.status, 401, reply.body)
        self.assertEqual(reply.fault_code(), 900902)
        self.assertFalse(self.backend.saw("trace=room2"))
        # Its own requirement applies: a token without write:bookings is 403, with it 200.
        reply = room("/seats/4/booking?trace=room3", method="POST", data="{}",
                     headers=[f"Authorization: Bearer {self.am_token()}"])
        self.assertEqual(reply.status, 403, reply.body)
        self.assertEqual(reply.fault_code(), 900910)
        reply = room("/seats/4/booking?trace=room4", method="POST", data="{}",
                     headers=[f"Authorization: Bearer {self.am_token(scope='write:bookings')}"])
        self.assertEqual(reply.status, 200, reply.body)
        # Without an own requirement, the API's (room_auth) applies.
        reply = room("/seats/4?trace=room5")
        self.assertEqual(reply.status, 401, reply.body)
        self.assertFalse(self.backend.saw("trace=room5"))
        reply = room("/seats/4?trace=room6", headers=[f"Authorization: Bearer {self.am_token()}"])
        self.assertEqual(reply.status, 200, reply.body)
        self.assertEqual(self.backend.find("trace=room6")[0].target, "/room/seats/4?trace=room6")

    def test_x_wso2_auth_header_carries_the_bearer_token(self):
        # Issue 24 item 6: x-wso2-auth-header names the header of "Bearer <token>"; it is not
        # forwarded, and Authorization is then no way in.
        room = lambda path, headers: harness.curl(self.gw.http("/catalogue-search/v1" + path), headers=headers)
        token = self.am_token()
        reply = room("/search?trace=hdr1", [f"X-Library-Auth: Bearer {token}"])
        self.assertEqual(reply.status, 200, reply.body)
        self.assertEqual(self.backend.find("trace=hdr1")[0].header("X-Library-Auth"), [])
        reply = room("/search?trace=hdr2", [f"Authorization: Bearer {token}"])
        self.assertEqual(reply.status, 401, reply.body)
        self.assertFalse(self.backend.saw("trace=hdr2"))

    def test_definition_without_security_takes_wso2s_default(self):
        # Issue 24 item 2: nothing declared -> OAuth2 bearer tokens from [[jwtTokenConfig]], no API
        # key (WSO2 MGW 3.x's default auth providers).
        stacks = lambda path, headers=(): harness.curl(self.gw.http("/stacks/v1" + path), headers=headers)
        reply = stacks("/floors?trace=def1")
        self.assertEqual(reply.status, 401, reply.body)
        self.assertEqual(reply.fault_code(), 900902)
        reply = stacks("/floors?trace=def2", [f"apikey: {self.issued_key()}"])
        self.assertEqual(reply.status, 401, reply.body)
        reply = stacks("/floors?apikey=" + self.issued_key() + "&trace=def3")
        self.assertEqual(reply.status, 401, reply.body)
        reply = stacks("/floors?trace=def4", [f"Authorization: Bearer {self.am_token()}"])
        self.assertEqual(reply.status, 200, reply.body)
        for marker in ("def1", "def2", "def3"):
            self.assertFalse(self.backend.saw(f"trace={marker}"), marker)
        self.assertIn("no security declared: WSO2 API Microgateway 3.x's default applies", self.gw.output())

    def test_endpoints_by_reference_with_backend_basic_auth_and_timeout(self):
        # Issue 24 item 3: x-wso2-production-endpoints as the string "#/x-wso2-endpoints/name";
        # its securityConfig (basic) puts the gateway's Authorization on the forwarded request
        # (the caller's bearer token never), advanceEndpointConfig timeoutInMillis 1500 bounds the
        # wait (rounded up to 2 s); the password is never logged.
        archive = lambda path: harness.curl(self.gw.http("/archive/v1" + path),
                                            headers=[f"Authorization: Bearer {self.am_token()}"])
        reply = archive("/boxes?trace=arc1")
        self.assertEqual(reply.status, 200, reply.body)
        forwarded = self.backend.find("trace=arc1")[0]
        self.assertEqual(forwarded.target, "/archive/boxes?trace=arc1")
        expected = "Basic " + base64.b64encode(f"archivist:{ARCHIVE_PASSWORD}".encode()).decode()
        self.assertEqual(forwarded.header("Authorization"), [expected.encode()])
        started = time.monotonic()
        reply = archive("/slow?trace=arc2")
        elapsed = time.monotonic() - started
        self.assertEqual(reply.status, 504, reply.body)
        self.assertEqual(reply.fault_code(), 101504)
        self.assertLess(elapsed, 3.5)
        self.assertGreater(elapsed, 1.4)
        log = self.gw.output()
        self.assertNotIn(ARCHIVE_PASSWORD, log)
        self.assertNotIn(expected.split()[1], log)
        self.assertIn("retryConfig ignored", log)

    def test_operation_endpoints_route_the_operation(self):
        token = self.am_token()
        reply = self.get("/book/findByGenre?status=sold1", headers=[f"Authorization: Bearer {token}"])
        self.assertEqual(reply.status, 200, reply.body)
        self.assertEqual(self.backend.find("status=sold1")[0].target, "/v1/book/findByGenre?status=sold1")
        # An endpoint with its own query: it comes before the request's.
        reply = self.get("/book/findByGenreNew?status=sold2", headers=[f"Authorization: Bearer {token}"])
        self.assertEqual(reply.status, 200, reply.body)
        self.assertEqual(self.backend.find("status=sold2")[0].target,
                         "/v1/book/findByGenreNew/book/findByGenreNew?shelf=a&floor=2&status=sold2")

    def test_kid_is_not_read_for_a_single_certificate_issuer(self):
        # WSO2 selects the key by the configured alias and never reads kid (SPEC section 7).
        now = int(time.time())
        claims = {"sub": "libraryClerk", "iss": API_KEY_ISSUER, "iat": now, "exp": now + 60,
                  "jti": str(uuid.uuid4()), "aud": GATEWAY_AUDIENCE, "keytype": "PRODUCTION",
                  "allowedAPIs": [{"name": "LibraryAPI", "version": "2.1.0"}]}
        key = jwt.encode(claims, self.ballerina_key, algorithm="RS256", headers={"kid": "not-the-alias"})
        reply = self.get("/book/1", headers=[f"api_key: {key}"])
        self.assertEqual(reply.status, 200, reply.body)

    def test_api_key_audience_is_not_checked_as_wso2_did_not(self):
        # Issue 24 item 6: api-key.conf's [apikey.tokenConfigs] audience is ignored (WSO2 3.2.10
        # never checked it), so a key WSO2 issued with another aud keeps working.
        claims = {"sub": "admin", "iss": API_KEY_ISSUER, "iat": int(time.time()), "jti": str(uuid.uuid4()),
                  "aud": "http://some-other-gateway.test", "keytype": "PRODUCTION",
                  "allowedAPIs": [{"name": "LibraryAPI", "version": "2.1.0"}]}
        key = jwt.encode(claims, self.ballerina_key, algorithm="RS256", headers={"kid": "ballerina"})
        reply = self.get("/book/1?trace=aud1", headers=[f"api_key: {key}"])
        self.assertEqual(reply.status, 200, reply.body)

    def test_jwt_generator_config_sends_a_backend_jwt(self):
        # Issue 24 item 6: [jwtGeneratorConfig] (with [jwtConfig] header) is mapped onto
        # [jwtGenerator]: the backend gets X-JWT-Assertion, signed by the STS key, with WSO2's
        # configured issuer and tokenExpiry (120000 ms).
        reply = self.get("/book/1?trace=bjwt", headers=[f"api_key: {self.issued_key()}"])
        self.assertEqual(reply.status, 200, reply.body)
        assertion = self.backend.find("trace=bjwt")[0].header("X-JWT-Assertion")
        self.assertEqual(len(assertion), 1, assertion)
        claims = jwt.decode(assertion[0], self.ballerina_cert.public_key(), algorithms=["RS256"],
                            options={"verify_aud": False})
        self.assertEqual(claims["iss"], "library.test/gateway")
        self.assertEqual(claims["exp"] - claims["iat"], 120)

    def test_iat_in_milliseconds_is_accepted_and_a_future_one_still_refused(self):
        # Issue 24 item 6: WSO2's own test keys carry iat in milliseconds. Read as seconds (a value
        # >= 10^12 is milliseconds); the future-iat refusal applies to the seconds.
        def key(iat):
            claims = {"sub": "admin", "iss": API_KEY_ISSUER, "iat": iat, "jti": str(uuid.uuid4()),
                      "aud": GATEWAY_AUDIENCE, "keytype": "PRODUCTION",
                      "allowedAPIs": [{"name": "LibraryAPI", "version": "2.1.0"}]}
            return jwt.encode(claims, self.ballerina_key, algorithm="RS256", headers={"kid": "ballerina"})
        now_ms = int(time.time() * 1000)
        reply = self.get("/book/1?trace=iat1", headers=[f"api_key: {key(now_ms - 60000)}"])
        self.assertEqual(reply.status, 200, reply.body)
        for marker, iat in (("iat2", now_ms + 3600 * 1000), ("iat3", int(time.time()) + 3600)):
            reply = self.get(f"/book/1?trace={marker}", headers=[f"api_key: {key(iat)}"])
            self.assertEqual(reply.status, 401, reply.body)
            self.assertEqual(reply.fault_code(), 900901)
            self.assertFalse(self.backend.saw(f"trace={marker}"))

    def test_apikey_content_negotiation(self):
        js_default = harness.curl(self.gw.https("/apikey"), headers=[
            f"Authorization: {SHA1_USER}", "Accept: application/json, text/plain, */*"])
        self.assertEqual(js_default.status, 200)
        self.assertTrue(js_default.headers["content-type"].startswith("text/plain"))
        self.assertEqual(js_default.body.count("."), 2)
        as_json = harness.curl(self.gw.https("/apikey"), headers=[
            f"Authorization: {SHA1_USER}", "Accept: application/json"])
        self.assertEqual(as_json.status, 200)
        self.assertEqual(as_json.json()["tokenType"], "apikey")

    # --- basic auth on library_api.yaml's resources (library_basic: type http, scheme basic) ---

    def basic(self, path, user, password, method="POST", marker=""):
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        return harness.curl(self.gw.https("/library/v2" + path + marker), method=method, data="{}",
                            headers=[f"Authorization: Basic {token}"])

    def test_basic_on_a_scoped_resource_as_wso2_checks_it(self):
        # POST /book: library_auth [write:booksNew] OR library_basic OR api_key. WSO2 applies the
        # OAuth2 scopes to basic-auth users too ("due to ballerina impl", says the definition):
        # scopedUser holds write:booksNew -> forwarded, without the Authorization header.
        reply = self.basic("/book", "scopedUser", "scoped-secret", marker="?trace=basic1")
        self.assertEqual(reply.status, 200, reply.body)
        forwarded = self.backend.find("trace=basic1")[0]
        self.assertEqual(forwarded.header("Authorization"), [])
        # libraryClerk (api-key.conf's SHA-1 user) authenticates, but has no scope: 403 900910.
        reply = self.basic("/book", "libraryClerk", "shelf-3-secret", marker="?trace=basic2")
        self.assertEqual(reply.status, 403, reply.body)
        self.assertEqual(reply.fault_code(), 900910)
        self.assertFalse(self.backend.saw("trace=basic2"))
        # DELETE /book/{bookId}: library_auth [write:books, read:books] OR library_basic.
        reply = self.basic("/book/7", "scopedUser", "scoped-secret", method="DELETE", marker="?trace=basic3")
        self.assertEqual(reply.status, 200, reply.body)

    def test_basic_with_a_wrong_password_is_challenged(self):
        reply = self.basic("/book", "scopedUser", "not-the-password", marker="?trace=basic4")
        self.assertEqual(reply.status, 401, reply.body)
        self.assertEqual(reply.fault_code(), 900901)
        self.assertTrue(reply.headers["www-authenticate"].startswith("Basic realm="), reply.headers)
        self.assertFalse(self.backend.saw("trace=basic4"))

    def test_startup_log_names_the_ignored_keys(self):
        log = self.gw.output()
        self.assertEqual(len(re.findall(r"tokenListenerPort", log)), 1, log[-3000:])
        self.assertIn("consumerKeyClaim", log)


def argon2id(password, opslimit, memlimit=64 * 1024 * 1024):
    """An argon2id string from libsodium itself (the library micro-gw verifies with), so a test can
    choose slower parameters than `micro-gw hash-password`."""
    lib = ctypes.CDLL("libsodium.so.23")
    if lib.sodium_init() < 0:
        raise RuntimeError("sodium_init failed")
    lib.crypto_pwhash_str_alg.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulonglong,
                                          ctypes.c_ulonglong, ctypes.c_size_t, ctypes.c_int]
    out = ctypes.create_string_buffer(128)
    secret = password.encode()
    if lib.crypto_pwhash_str_alg(out, secret, len(secret), opslimit, memlimit, 2) != 0:  # 2 = ARGON2ID13
        raise RuntimeError("crypto_pwhash_str_alg failed")
    return out.value.decode()


def basic_header(user, password):
    return "Authorization: Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


BASIC_OPENAPI = """openapi: 3.0.0
info: {{title: BasicAPI, version: "1.0.0"}}
x-wso2-basePath: /basic/1.0.0
x-wso2-production-endpoints: {{urls: ["{backend}/prod"]}}
components:
  securitySchemes:
    basic: {{type: http, scheme: basic}}
    key: {{type: apiKey, in: header, name: apikey}}
paths:
  /only-basic: {{get: {{security: [{{basic: []}}]}}}}
  /key-or-basic: {{get: {{security: [{{key: []}}, {{basic: []}}]}}}}
  /only-key: {{get: {{security: [{{key: []}}]}}}}
  /sandboxed:
    get:
      security: [{{key: []}}]
      x-wso2-sandbox-endpoints: {{urls: ["{backend}/sand"]}}
"""

BASIC_SWAGGER2 = """swagger: "2.0"
info: {{title: SwaggerBasic, version: "1"}}
x-wso2-basePath: /swagger-basic
x-wso2-production-endpoints: {{urls: ["{backend}/swag"]}}
securityDefinitions:
  b: {{type: basic}}
security: [{{b: []}}]
paths:
  /x: {{get: {{responses: {{"200": {{description: ok}}}}}}}}
"""

BASIC_APP_SECURITY = """openapi: 3.0.0
info: {{title: AppSecurityBasic, version: "1"}}
x-wso2-basePath: /app-basic
x-wso2-production-endpoints: {{urls: ["{backend}/app"]}}
x-wso2-application-security: {{security-types: [basic_auth]}}
paths:
  /x: {{get: {{}}}}
"""

SLOW_PASSWORD = "slow-secret-pw-5821"
WRONG_PASSWORD = "wrong-pw-xyz-4417"


class BasicAuthOnResources(harness.GatewayTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        home = cls.workdir
        cls.backend = RecordingBackend()
        cls.addClassCleanup(cls.backend.stop)
        files = []
        for name, text in (("basic.yaml", BASIC_OPENAPI), ("swagger2.yaml", BASIC_SWAGGER2),
                           ("app.yaml", BASIC_APP_SECURITY)):
            path = os.path.join(home, name)
            with open(path, "w") as f:
                f.write(text.format(backend=cls.backend.url))
            files.append(path)
        # slowUser's argon2id takes about a second (t=16), so verifications are surely in flight
        # when the API-key request is sent.
        slow = argon2id(SLOW_PASSWORD, 16)
        admin = harness.shipped_admin_hash()
        extra = f"""
[b7a.users.generalUser1]
password = "5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8"

[b7a.users.slowUser]
password = "{slow}"

[b7a.users.victim]
password = "{admin}"

[authentication]
maxFailures = 3
credentialCacheSeconds = 0
# Two slow checks at once (test_zz_argon2id...); the default cap is workerThreads / 2.
maxConcurrentPasswordChecks = 2

[apis]
definitions = {json.dumps(files)}
"""
        conf = harness.base_config(issuer_apis=[("BasicAPI", "1.0.0")], extra=extra)
        # One I/O thread: if argon2id ran on it, every other request would wait for it.
        conf = harness.with_listener_keys(conf, ioThreads=1, workerThreads=2)
        cls.gw = cls.start(harness.MicroGw(home, conf))
        reply = harness.curl(cls.gw.https("/apikey"), headers=[f"Authorization: {harness.ADMIN_BASIC}"])
        assert reply.status == 200, reply.body
        cls.key = reply.body

    def get(self, path, headers=(), tls=True):
        url = (self.gw.https if tls else self.gw.http)("/basic/1.0.0" + path)
        return harness.curl(url, headers=headers)

    def test_basic_only_forwards_without_the_authorization_header(self):
        reply = self.get("/only-basic?trace=b1", [basic_header("admin", "admin")])
        self.assertEqual(reply.status, 200, reply.body)
        forwarded = self.backend.find("trace=b1")[0]
        self.assertEqual(forwarded.target, "/prod/only-basic?trace=b1")
        self.assertEqual(forwarded.header("Authorization"), [])
        # An API key is no way in where the requirement is basic only.
        reply = self.get("/only-basic?trace=b1k", [f"apikey: {self.key}"])
        self.assertEqual(reply.status, 401, reply.body)
        self.assertFalse(self.backend.saw("trace=b1k"))

    def test_wrong_password_and_no_credentials_are_401_with_a_basic_challenge(self):
        reply = self.get("/only-basic?trace=b2", [basic_header("generalUser1", WRONG_PASSWORD)])
        self.assertEqual(reply.status, 401, reply.body)
        self.assertEqual(reply.fault_code(), 900901)
        self.assertEqual(reply.headers["www-authenticate"], 'Basic realm="micro-gw"')
        self.assertNotIn(WRONG_PASSWORD, reply.body)
        reply = self.get("/only-basic?trace=b3")
        self.assertEqual(reply.status, 401, reply.body)
        self.assertEqual(reply.fault_code(), 900902)
        self.assertEqual(reply.headers["www-authenticate"], 'Basic realm="micro-gw"')
        reply = self.get("/only-basic?trace=b3m", ["Authorization: Basic !!!not-base64"])
        self.assertEqual(reply.status, 401, reply.body)
        self.assertEqual(reply.fault_code(), 900901)
        for marker in ("trace=b2", "trace=b3", "trace=b3m"):
            self.assertFalse(self.backend.saw(marker), marker)

    def test_api_key_or_basic_accepts_either(self):
        reply = self.get("/key-or-basic?trace=b4", [f"apikey: {self.key}"])
        self.assertEqual(reply.status, 200, reply.body)
        reply = self.get("/key-or-basic?trace=b5", [basic_header("admin", "admin")])
        self.assertEqual(reply.status, 200, reply.body)
        self.assertEqual(self.backend.find("trace=b5")[0].header("Authorization"), [])
        # Neither: 401, and both ways in are announced.
        out = subprocess.run(["curl", "-sk", "-D", "-", "-o", "/dev/null",
                              self.gw.https("/basic/1.0.0/key-or-basic?trace=b6")],
                             capture_output=True, text=True, timeout=30)
        self.assertIn(" 401", out.stdout.splitlines()[0])
        challenges = [line.split(":", 1)[1].strip() for line in out.stdout.splitlines()
                      if line.lower().startswith("www-authenticate:")]
        self.assertIn('Basic realm="micro-gw"', challenges)
        self.assertIn('APIKey realm="micro-gw"', challenges)
        # Basic is not a way in on an API-key-only resource.
        reply = self.get("/only-key?trace=b7", [basic_header("admin", "admin")])
        self.assertEqual(reply.status, 401, reply.body)
        self.assertFalse(self.backend.saw("trace=b7"))

    def test_sha1_legacy_user_as_in_wso2_api_key_conf(self):
        reply = self.get("/only-basic?trace=b8", [basic_header("generalUser1", "password")])
        self.assertEqual(reply.status, 200, reply.body)
        self.assertEqual(self.backend.find("trace=b8")[0].header("Authorization"), [])

    def test_swagger2_basic_and_application_security_basic_auth(self):
        reply = harness.curl(self.gw.https("/swagger-basic/x?trace=b9"), headers=[basic_header("admin", "admin")])
        self.assertEqual(reply.status, 200, reply.body)
        self.assertEqual(self.backend.find("trace=b9")[0].target, "/swag/x?trace=b9")
        reply = harness.curl(self.gw.https("/swagger-basic/x?trace=b10"))
        self.assertEqual(reply.status, 401, reply.body)
        reply = harness.curl(self.gw.https("/app-basic/x?trace=b11"), headers=[basic_header("admin", "admin")])
        self.assertEqual(reply.status, 200, reply.body)
        reply = harness.curl(self.gw.https("/app-basic/x?trace=b12"), headers=[f"apikey: {self.key}"])
        self.assertEqual(reply.status, 401, reply.body)
        self.assertFalse(self.backend.saw("trace=b12"))

    def test_basic_over_plain_http_is_refused_unchecked(self):
        # SPEC section 1: passwords are taken on HTTPS only.
        reply = self.get("/only-basic?trace=b13", [basic_header("admin", "admin")], tls=False)
        self.assertEqual(reply.status, 401, reply.body)
        self.assertIn("HTTPS", reply.json()["fault"]["description"])
        self.assertFalse(self.backend.saw("trace=b13"))

    def test_login_throttle_applies(self):
        # maxFailures = 3 per (user, address): the fourth wrong password is 429 900429 without a
        # verification, and then the right one too (the pair is blocked for the window).
        for i in range(3):
            reply = self.get(f"/only-basic?trace=t{i}", [basic_header("victim", WRONG_PASSWORD)])
            self.assertEqual(reply.status, 401, reply.body)
        reply = self.get("/only-basic?trace=t3", [basic_header("victim", WRONG_PASSWORD)])
        self.assertEqual(reply.status, 429, reply.body)
        self.assertEqual(reply.fault_code(), 900429)
        self.assertGreater(int(reply.headers["retry-after"]), 0)
        reply = self.get("/only-basic?trace=t4", [basic_header("victim", "admin")])
        self.assertEqual(reply.status, 429, reply.body)
        for i in range(5):
            self.assertFalse(self.backend.saw(f"trace=t{i}"))

    def test_sandbox_key_routes_to_the_operations_sandbox(self):
        reply = harness.curl(self.gw.https("/apikey"), method="POST", data='{"keyType": "SANDBOX"}',
                             headers=[f"Authorization: {harness.ADMIN_BASIC}", "Content-Type: application/json"])
        self.assertEqual(reply.status, 200, reply.body)
        sandbox_key = reply.body
        reply = self.get("/sandboxed?trace=s1", [f"apikey: {sandbox_key}"])
        self.assertEqual(reply.status, 200, reply.body)
        self.assertEqual(self.backend.find("trace=s1")[0].target, "/sand/sandboxed?trace=s1")
        # An operation without sandbox endpoints (and none on the API): 403 900908.
        reply = self.get("/only-key?trace=s2", [f"apikey: {sandbox_key}"])
        self.assertEqual(reply.status, 403, reply.body)
        self.assertEqual(reply.fault_code(), 900908)

    def test_zz_argon2id_never_blocks_the_io_thread_and_no_password_is_logged(self):
        # Two slow verifications (about a second each) on the worker pool; the gateway has one I/O
        # thread. An API-key request sent meanwhile is answered before either of them.
        finished = {}

        def slow(name):
            reply = self.get(f"/only-basic?trace={name}", [basic_header("slowUser", SLOW_PASSWORD)])
            finished[name] = (time.monotonic(), reply.status)

        threads = [threading.Thread(target=slow, args=(f"slow{i}",)) for i in range(2)]
        for t in threads:
            t.start()
        time.sleep(0.25)
        reply = self.get("/only-key?trace=fast", [f"apikey: {self.key}"])
        fast_done = time.monotonic()
        self.assertEqual(reply.status, 200, reply.body)
        for t in threads:
            t.join(30)
        self.assertEqual(sorted(finished), ["slow0", "slow1"])
        for name, (done, status) in finished.items():
            self.assertEqual(status, 200, name)
            self.assertLess(fast_done, done, f"the API-key request waited for {name}'s argon2id")
        # No password, in clear or in its base64 form, reached the log.
        log = self.gw.output()
        for secret in (SLOW_PASSWORD, WRONG_PASSWORD, "scoped-secret"):
            self.assertNotIn(secret, log)
            self.assertNotIn(base64.b64encode(f"slowUser:{secret}".encode()).decode(), log)
        self.assertIn("authentication failed", log)
        # The failures are counted, and no password is in the metrics either.
        metrics = harness.curl(f"http://127.0.0.1:{self.gw.metrics_port}/metrics").body
        failures = re.search(r"^mgw_login_failures_total (\d+)$", metrics, re.MULTILINE)
        self.assertIsNotNone(failures, metrics[-2000:])
        self.assertGreaterEqual(int(failures.group(1)), 4)  # wrong passwords, malformed, victim's
        for secret in (SLOW_PASSWORD, WRONG_PASSWORD):
            self.assertNotIn(secret, metrics)


# Issue 24 items 4 and 7: WSO2's [mutualSSLConfig] as its template writes it, plus micro-gw's crlPath.
MUTUAL_SSL_TABLE = """
[mutualSSLConfig]
  protocolName = "TLS"
  protocolVersions = "TLSv1.2,TLSv1.1"
  ciphers = "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
  sslVerifyClient = "optional"
  certificateHeaderName = "X-WSO2-CLIENT-CERTIFICATE"
  isClientCertificateValidationEnabled = true
"""

SHELVES_API = """openapi: 3.0.0
info: {title: ShelvesAPI, version: "1.0.0"}
x-wso2-basePath: /shelves/v1
x-wso2-production-endpoints: {urls: ["https://localhost:2380/shelves"]}
x-wso2-mutual-ssl: mandatory
components:
  securitySchemes:
    api_key: {type: apiKey, name: api_key, in: header}
security: [{api_key: []}]
paths:
  /rows: {get: {}}
"""

READING_API = """openapi: 3.0.0
info: {title: ReadingAPI, version: "1.0.0"}
x-wso2-basePath: /reading/v1
x-wso2-production-endpoints: {urls: ["https://localhost:2380/reading"]}
x-wso2-mutual-ssl: mandatory
x-wso2-application-security: {security-types: [api_key], optional: true}
paths:
  /desks: {get: {}}
"""

CATALOG_API = """openapi: 3.0.0
info: {title: CatalogAPI, version: "1.0.0"}
x-wso2-basePath: /catalog/v1
x-wso2-production-endpoints: {urls: ["https://localhost:2380/catalog"]}
x-wso2-mutual-ssl: optional
components:
  securitySchemes:
    api_key: {type: apiKey, name: api_key, in: header}
security: [{api_key: []}]
paths:
  /cards: {get: {}}
"""

ANNEX_API = """openapi: 3.0.0
info: {title: AnnexAPI, version: "1.0.0"}
x-wso2-basePath: /annex/v1
x-wso2-production-endpoints: {urls: ["https://localhost:2380/annex"]}
x-wso2-disable-security: true
paths:
  /rooms: {get: {}}
"""


def make_client_cert(ca_key, ca_cert, cn, expired=False):
    """A client certificate (EKU clientAuth) signed by the CA; expired: valid until yesterday."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    start, end = (now - datetime.timedelta(days=10), now - datetime.timedelta(days=1)) if expired else \
        (now - datetime.timedelta(minutes=5), now + datetime.timedelta(days=1))
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Library Test"),
                                     x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
            .issuer_name(ca_cert.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    return key, cert


class MutualTlsAndPkcs12Truststore(harness.GatewayTestCase):
    """Issue 24 items 4 and 7, a WSO2 project whose [listenerConfig] trustStorePath is its
    ballerinaTruststore.p12 (made here by openssl -legacy: the STS certificate, the backends' CA and
    the client CA). Item 4: an HTTPS backend is verified with that truststore (a backend whose CA it
    lacks: 502/101503 and an error-level log line naming the certificate and the reason). Item 7:
    [mutualSSLConfig] (sslVerifyClient optional, then require on a second gateway; micro-gw's crlPath
    with a CRL of the client CA) and x-wso2-mutual-ssl mandatory/optional, with Python's ssl client
    over TLS 1.2 and 1.3 (and curl over HTTP/2): a trusted certificate, none, an untrusted, an expired
    and a revoked one; the certificate's subject as the caller (x-wso2-application-security
    optional), in the backend JWT and in the access log."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        home = cls.workdir
        backend_ca_key, backend_ca = make_ca("library backend CA")
        rogue_ca_key, rogue_ca = make_ca("library rogue CA")
        client_ca_key, client_ca = make_ca("library client CA")

        def tls_backend(signer_key, signer_cert, name):
            key, cert = make_leaf(signer_key, signer_cert, "localhost", ["localhost"], ["127.0.0.1"])
            path = os.path.join(home, name + ".pem")
            with open(path, "wb") as f:
                f.write(cert.public_bytes(serialization.Encoding.PEM) + _pem_key(key))
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(path)
            backend = RecordingBackend(ssl_context=ctx)
            cls.addClassCleanup(backend.stop)
            return backend, cert

        cls.backend, _ = tls_backend(backend_ca_key, backend_ca, "backend")
        cls.rogue_backend, cls.rogue_cert = tls_backend(rogue_ca_key, rogue_ca, "rogue-backend")

        cls.certs = {}
        for name, signer, expired in (("trusted", (client_ca_key, client_ca), False),
                                      ("untrusted", (rogue_ca_key, rogue_ca), False),
                                      ("expired", (client_ca_key, client_ca), True),
                                      ("revoked", (client_ca_key, client_ca), False)):
            key, cert = make_client_cert(*signer, f"library-{name}-reader", expired)
            path = os.path.join(home, f"client-{name}.pem")
            with open(path, "wb") as f:
                f.write(cert.public_bytes(serialization.Encoding.PEM) + _pem_key(key))
            cls.certs[name] = (path, cert)
        now = datetime.datetime.now(datetime.timezone.utc)
        crl = (x509.CertificateRevocationListBuilder().issuer_name(client_ca.subject)
               .last_update(now - datetime.timedelta(minutes=5)).next_update(now + datetime.timedelta(days=1))
               .add_revoked_certificate(x509.RevokedCertificateBuilder()
                                        .serial_number(cls.certs["revoked"][1].serial_number)
                                        .revocation_date(now - datetime.timedelta(minutes=5)).build())
               .sign(client_ca_key, hashes.SHA256()))
        cls.crl_path = os.path.join(home, "client-ca.crl.pem")
        with open(cls.crl_path, "wb") as f:
            f.write(crl.public_bytes(serialization.Encoding.PEM))

        cls.ballerina_key, cls.ballerina_cert = signing_identity()
        cls.confs = {}
        cls.gw = cls.start(harness.MicroGw(home, cls.project(home, "optional", client_ca, backend_ca)))
        cls.home_require = tempfile.mkdtemp(prefix="mgw-it-require-")
        cls.addClassCleanup(shutil.rmtree, cls.home_require, True)
        cls.gw_require = cls.start(harness.MicroGw(cls.home_require,
                                                   cls.project(cls.home_require, "require", client_ca, backend_ca)))

    @classmethod
    def project(cls, home, verify, client_ca, backend_ca):
        """The WSO2 project folder: api-key.conf with its truststore as a PKCS#12 file,
        [mutualSSLConfig], [jwtGeneratorConfig]; the four definitions of this class."""
        port = cls.backend.port
        conf = read("api-key.conf").replace("httpPort=9690", "httpPort=0").replace("httpsPort=9695", "httpsPort=0")
        conf = conf.replace("tokenListenerPort=9696", "tokenListenerPort=9696\n"
                            'trustStorePath="${mgw-runtime.home}/runtime/bre/security/ballerinaTruststore.p12"\n'
                            f'trustStorePassword="{TRUSTSTORE_PASSWORD}"')
        conf += MUTUAL_SSL_TABLE.replace('"optional"', f'"{verify}"') + f'  crlPath = "{cls.crl_path}"\n'
        conf += """
[jwtConfig]
  header="X-JWT-Assertion"
[jwtGeneratorConfig]
  jwtGeneratorEnabled=true
  issuer="library.test/gateway"
"""
        wso2_project(home, conf, SHELVES_API.replace("2380", str(port)), definition_name="shelves.yaml")
        definitions = os.path.join(home, "api_definitions")
        for name, text, backend_port in (("reading.yaml", READING_API, port), ("catalog.yaml", CATALOG_API, port),
                                         ("annex.yaml", ANNEX_API, cls.rogue_backend.port)):
            with open(os.path.join(definitions, name), "w") as f:
                f.write(text.replace("2380", str(backend_port)))
        # ballerinaTruststore.p12 as WSO2 projects keep it: every trusted certificate under an alias.
        with tempfile.TemporaryDirectory() as tmp:
            bundle = os.path.join(tmp, "bundle.pem")
            with open(bundle, "wb") as f:
                for cert in (cls.ballerina_cert, backend_ca, client_ca):
                    f.write(cert.public_bytes(serialization.Encoding.PEM))
            subprocess.run(["openssl", "pkcs12", "-export", "-legacy", "-nokeys", "-in", bundle,
                            "-caname", "ballerina", "-caname", "backendca", "-caname", "clientca",
                            "-out", os.path.join(home, "runtime", "bre", "security", "ballerinaTruststore.p12"),
                            "-passout", "pass:" + TRUSTSTORE_PASSWORD], check=True, capture_output=True, timeout=60)
        return conf

    # --- helpers ---

    def key_for(self, api):
        claims = {"sub": "desk-clerk", "iss": API_KEY_ISSUER, "iat": int(time.time()), "jti": str(uuid.uuid4()),
                  "aud": GATEWAY_AUDIENCE, "keytype": "PRODUCTION",
                  "allowedAPIs": [{"name": api, "version": "1.0.0"}]}
        return jwt.encode(claims, self.ballerina_key, algorithm="RS256", headers={"kid": "ballerina"})

    def call(self, path, cert=None, version=ssl.TLSVersion.TLSv1_3, headers=None, gw=None):
        """GET over TLS with Python's ssl: (status, headers, body), or ("refused", why) when the TLS
        handshake (or, in TLS 1.3, the first read after it) was refused."""
        gw = gw or self.gw
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.minimum_version = ctx.maximum_version = version
        if cert:
            ctx.load_cert_chain(self.certs[cert][0])
        conn = http.client.HTTPSConnection("127.0.0.1", gw.https_port, context=ctx, timeout=15)
        try:
            conn.request("GET", path, headers=headers or {})
            reply = conn.getresponse()
            return reply.status, {k.lower(): v for k, v in reply.getheaders()}, reply.read().decode()
        except (OSError, http.client.HTTPException) as e:
            return "refused", repr(e)
        finally:
            conn.close()

    def subject(self, name):
        return self.certs[name][1].subject.rfc4514_string()

    def sha256(self, name):
        return self.certs[name][1].fingerprint(hashes.SHA256()).hex()

    def wait_for_log(self, pattern, gw=None, timeout=5.0):
        gw = gw or self.gw
        deadline = time.time() + timeout
        while time.time() < deadline:
            match = re.search(pattern, gw.output())
            if match:
                return match
            time.sleep(0.1)
        self.fail(f"no log line matches {pattern}:\n{gw.output()[-3000:]}")

    def log_lines(self, needle, gw=None):
        out = []
        for line in (gw or self.gw).output().splitlines():
            if needle in line:
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass
        return out

    # --- item 4: backends verified with the PKCS#12 truststore ---

    def test_backend_verified_by_the_pkcs12_truststore(self):
        status, _, body = self.call("/shelves/v1/rows?trace=p12ok", cert="trusted",
                                    headers={"api_key": self.key_for("ShelvesAPI")})
        self.assertEqual(status, 200, body)
        self.assertEqual(len(self.backend.find("trace=p12ok")), 1)

    def test_backend_outside_the_truststore_is_refused_with_an_error_log(self):
        status, _, body = self.call("/annex/v1/rooms?trace=rogue")
        self.assertEqual(status, 502, body)
        self.assertEqual(json.loads(body)["fault"]["code"], 101503, body)
        self.assertEqual(self.rogue_backend.requests(), [])
        self.wait_for_log(r"backend certificate refused")
        refused = [e for e in self.log_lines("backend certificate refused")
                   if e.get("backend") == f"https://localhost:{self.rogue_backend.port}"]
        self.assertTrue(refused, self.gw.output()[-3000:])
        self.assertEqual(refused[-1]["level"], "error", refused[-1])
        self.assertIn("CN=library rogue CA", refused[-1]["subject"] + refused[-1]["issuer"])
        self.assertIn("unable to get local issuer certificate", refused[-1]["reason"])

    # --- item 7: mutual TLS ---

    def test_trusted_certificate_with_a_key_over_tls12_and_tls13(self):
        for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
            trace = f"shelf{version.name}"
            status, _, body = self.call(f"/shelves/v1/rows?trace={trace}", cert="trusted", version=version,
                                        headers={"api_key": self.key_for("ShelvesAPI")})
            self.assertEqual(status, 200, (version, body))
            assertion = self.backend.find(f"trace={trace}")[0].header("X-JWT-Assertion")
            claims = jwt.decode(assertion[0], self.ballerina_cert.public_key(), algorithms=["RS256"],
                                options={"verify_aud": False})
            # The key's holder is the caller; the certificate goes with it (RFC 8705 cnf).
            self.assertEqual(claims["authMethod"], "api_key")
            self.assertEqual(claims["clientCertificateSubject"], self.subject("trusted"))
            digest = base64.urlsafe_b64encode(bytes.fromhex(self.sha256("trusted"))).rstrip(b"=").decode()
            self.assertEqual(claims["cnf"], {"x5t#S256": digest})

    def test_mandatory_without_a_certificate_is_401(self):
        # WSO2's MutualSSLHandler: 401, 900901 and the Mutual SSL challenge; the key alone is not enough.
        for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
            status, headers, body = self.call("/shelves/v1/rows", version=version,
                                              headers={"api_key": self.key_for("ShelvesAPI")})
            self.assertEqual(status, 401, body)
            self.assertEqual(json.loads(body)["fault"]["code"], 900901, body)
            self.assertIn("Mutual SSL", headers.get("www-authenticate", ""))
        reply = harness.curl(self.gw.http("/shelves/v1/rows"), headers=[f"api_key: {self.key_for('ShelvesAPI')}"])
        self.assertEqual(reply.status, 401, reply.body)

    def test_mandatory_with_a_certificate_but_no_key_is_401(self):
        status, _, body = self.call("/shelves/v1/rows", cert="trusted")
        self.assertEqual(status, 401, body)
        self.assertEqual(json.loads(body)["fault"]["code"], 900902, body)

    def test_untrusted_expired_and_revoked_certificates_are_refused_in_the_handshake(self):
        reasons = {"untrusted": "unable to get local issuer certificate", "expired": "certificate has expired",
                   "revoked": "certificate revoked"}
        for name, reason in reasons.items():
            for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
                result = self.call(f"/shelves/v1/rows?trace=bad{name}", cert=name, version=version,
                                   headers={"api_key": self.key_for("ShelvesAPI")})
                self.assertEqual(result[0], "refused", (name, version, result))
            self.assertEqual(self.backend.find(f"trace=bad{name}"), [])
            self.wait_for_log(r"client certificate refused")
            lines = [e for e in self.log_lines("client certificate refused") if e.get("reason") == reason]
            self.assertTrue(lines, f"{name}: {self.gw.output()[-3000:]}")
            if name != "untrusted":
                self.assertEqual(lines[-1]["subject"], self.subject(name))

    def test_certificate_alone_is_the_caller_where_application_security_is_optional(self):
        status, _, body = self.call("/reading/v1/desks?trace=certcaller", cert="trusted")
        self.assertEqual(status, 200, body)
        assertion = self.backend.find("trace=certcaller")[0].header("X-JWT-Assertion")
        claims = jwt.decode(assertion[0], self.ballerina_cert.public_key(), algorithms=["RS256"],
                            options={"verify_aud": False})
        self.assertEqual(claims["authMethod"], "mutualssl")
        self.assertEqual(claims["sub"], self.subject("trusted"))
        # The access log names the certificate (subject and fingerprint) and its key id.
        self.wait_for_log(r'"key":"x509:' + self.sha256("trusted"))
        entry = [e for e in self.log_lines('"type":"access"') if e.get("path") == "/reading/v1/desks"
                 and e.get("status") == 200][-1]
        self.assertEqual(entry["clientCert"], self.subject("trusted"))
        self.assertEqual(entry["clientCertSha256"], self.sha256("trusted"))
        self.assertEqual(entry["key"], "x509:" + self.sha256("trusted"))
        # Without a certificate: mutual TLS is mandatory, a key alone does not do.
        status, _, body = self.call("/reading/v1/desks", headers={"api_key": self.key_for("ReadingAPI")})
        self.assertEqual(status, 401, body)

    def test_optional_api_takes_a_key_with_or_without_a_certificate(self):
        status, _, body = self.call("/catalog/v1/cards?trace=optnone", headers={"api_key": self.key_for("CatalogAPI")})
        self.assertEqual(status, 200, body)
        status, _, body = self.call("/catalog/v1/cards?trace=optcert", cert="trusted",
                                    version=ssl.TLSVersion.TLSv1_2, headers={"api_key": self.key_for("CatalogAPI")})
        self.assertEqual(status, 200, body)
        none = jwt.decode(self.backend.find("trace=optnone")[0].header("X-JWT-Assertion")[0],
                          self.ballerina_cert.public_key(), algorithms=["RS256"], options={"verify_aud": False})
        self.assertNotIn("cnf", none)
        with_cert = jwt.decode(self.backend.find("trace=optcert")[0].header("X-JWT-Assertion")[0],
                               self.ballerina_cert.public_key(), algorithms=["RS256"], options={"verify_aud": False})
        self.assertEqual(with_cert["clientCertificateSubject"], self.subject("trusted"))
        # Still a key is needed: the certificate does not replace it here.
        status, _, body = self.call("/catalog/v1/cards", cert="trusted")
        self.assertEqual(status, 401, body)

    def test_http2_carries_the_certificate_too(self):
        path, _ = self.certs["trusted"]
        reply = harness.curl(self.gw.https("/reading/v1/desks?trace=h2cert"),
                             extra=["--http2", "--cert", path, "--key", path])
        self.assertEqual(reply.status, 200, reply.body)
        self.wait_for_log(r'"protocol":"HTTP/2"')
        entry = [e for e in self.log_lines('"type":"access"') if e.get("protocol") == "HTTP/2"
                 and e.get("clientCert")]
        self.assertTrue(entry, self.gw.output()[-2000:])
        self.assertEqual(entry[-1]["clientCertSha256"], self.sha256("trusted"))

    def test_require_refuses_a_client_without_a_certificate(self):
        for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
            result = self.call("/catalog/v1/cards", version=version, gw=self.gw_require,
                               headers={"api_key": self.key_for("CatalogAPI")})
            self.assertEqual(result[0], "refused", (version, result))
            status, _, body = self.call("/catalog/v1/cards", cert="trusted", version=version, gw=self.gw_require,
                                        headers={"api_key": self.key_for("CatalogAPI")})
            self.assertEqual(status, 200, body)
        result = self.call("/catalog/v1/cards", cert="untrusted", gw=self.gw_require,
                           headers={"api_key": self.key_for("CatalogAPI")})
        self.assertEqual(result[0], "refused", result)

# Issue 24 item 3, endpoint_override: WSO2 MGW 3.x's runtime overrides of a definition's endpoints
# (the project's own definition, in WSO2's shapes: an x-wso2-endpoints entry with securityConfig
# basic and no password, as WSO2's docs wrote it, and an API's own x-wso2-production-endpoints).
SHELF_API = """openapi: 3.0.0
info: {title: ShelfAPI, version: "2.1"}
x-wso2-basePath: /shelves/v2
x-wso2-disable-security: true
x-wso2-endpoints:
  - shelfBackend:
      urls: ["%(first)s/shelves"]
      securityConfig: {type: basic, username: shelver}
x-wso2-production-endpoints: "#/x-wso2-endpoints/shelfBackend"
paths:
  /rows: {get: {}}
  /labels:
    get:
      x-wso2-production-endpoints: {urls: ["%(first)s/inline"]}
"""
STACKS_API = """openapi: 3.0.0
info: {title: StacksAPI, version: "1.0.0"}
x-wso2-basePath: /stacks/v1
x-wso2-disable-security: true
x-wso2-production-endpoints: {urls: ["%(first)s/stacks"]}
paths:
  /floors: {get: {}}
"""
SHELF_PASSWORD = "shelf-backend-pw-31"


class EndpointOverrides(harness.GatewayTestCase):
    """WSO2 MGW 3.x's endpoint overrides at run time, from where WSO2 read them: the environment,
    micro-gw.conf's top level and --<key>=<value> on the command line; applied at start and on
    SIGHUP; a bad one stops the load naming it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.first = RecordingBackend()  # the definitions' backend
        cls.second = RecordingBackend()  # where the overrides send the traffic
        for b in (cls.first, cls.second):
            cls.addClassCleanup(b.stop)
        cls.home = os.path.join(cls.workdir, "project")
        # WSO2's toolkit named an API's own endpoint list api_<md5(title:version)>.
        cls.stacks_id = "api_" + hashlib.md5(b"StacksAPI:1.0.0").hexdigest()
        cls.base_conf = read("api-key.conf").replace("httpPort=9690", "httpPort=0").replace(
            "httpsPort=9695", "httpsPort=0")
        wso2_project(cls.home, cls.base_conf, SHELF_API % {"first": cls.first.url}, definition_name="shelf.yaml")
        with open(os.path.join(cls.home, "api_definitions", "stacks.yaml"), "w") as f:
            f.write(STACKS_API % {"first": cls.first.url})
        # Top-level keys come before the first table (TOML), as in WSO2's micro-gw.conf.
        conf = f'{cls.stacks_id}_prod_endpoint_0 = "{cls.second.url}/moved-stacks"\n' + cls.base_conf
        cls.gw = cls.start(harness.MicroGw(
            cls.home, conf,
            extra_args=[f"--shelfBackend_prod_basic_password={SHELF_PASSWORD}"],
            env={"shelfBackend_prod_endpoint_0": cls.second.url + "/moved-shelves"}))

    def call(self, path):
        reply = harness.curl(self.gw.http(path))
        self.assertEqual(reply.status, 200, reply.body)
        return reply

    def test_an_override_redirects_traffic_to_a_second_backend(self):
        # The environment's URL for the x-wso2-endpoints entry, micro-gw.conf's for the API's own.
        self.call("/shelves/v2/rows?trace=ov1")
        self.assertEqual([r.target for r in self.second.find("trace=ov1")], ["/moved-shelves/rows?trace=ov1"])
        self.call("/stacks/v1/floors?trace=ov2")
        self.assertEqual([r.target for r in self.second.find("trace=ov2")], ["/moved-stacks/floors?trace=ov2"])
        self.assertFalse(self.first.saw("trace=ov1") or self.first.saw("trace=ov2"))
        # An operation's inline endpoints have no override name (WSO2 3.2.10 named them by a
        # random id per build): they stay as written.
        self.call("/shelves/v2/labels?trace=ov3")
        self.assertEqual([r.target for r in self.first.find("trace=ov3")], ["/inline/labels?trace=ov3"])

    def test_a_credential_override_is_the_basic_auth_the_backend_sees(self):
        # The definition names the user only; the password comes from the command line.
        self.call("/shelves/v2/rows?trace=cred1")
        forwarded = self.second.find("trace=cred1")[0]
        expected = "Basic " + base64.b64encode(f"shelver:{SHELF_PASSWORD}".encode()).decode()
        self.assertEqual(forwarded.header("Authorization"), [expected.encode()])
        log = self.gw.output()
        self.assertNotIn(SHELF_PASSWORD, log)
        self.assertNotIn(expected.split()[1], log)

    def test_reload_applies_changed_overrides_and_refuses_a_bad_one(self):
        # SIGHUP: micro-gw.conf's overrides are read again (the user name changes), the
        # command line's and the environment's stay.
        conf = (f'shelfBackend_prod_basic_username = "night-shelver"\n'
                f'{self.stacks_id}_prod_endpoint_0 = "{self.second.url}/moved-stacks"\n')
        conf += self.base_conf.replace("httpPort=0", f"httpPort={self.gw.http_port}").replace(
            "httpsPort=0", f"httpsPort={self.gw.https_port}")
        conf += "\n[observability]\nmetricsPort = 0\n"
        with open(self.gw.config_path, "w") as f:
            f.write(conf)
        self.gw.proc.send_signal(signal.SIGHUP)
        expected = "Basic " + base64.b64encode(f"night-shelver:{SHELF_PASSWORD}".encode()).decode()
        deadline = time.monotonic() + 10
        while True:
            self.call("/shelves/v2/rows?trace=rl1")
            seen = self.second.find("trace=rl1")[-1].header("Authorization")
            if seen == [expected.encode()] or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertEqual(seen, [expected.encode()])
        # A bad one on reload: refused with its name, the running configuration stays.
        with open(self.gw.config_path, "w") as f:
            f.write('shelfBackend_prod_endpoint_3 = "http://127.0.0.1:1/x"\n' + conf)
        self.gw.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while "shelfBackend_prod_endpoint_3" not in self.gw.output() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertIn("reload refused", self.gw.output())
        self.assertIn("endpoint override shelfBackend_prod_endpoint_3: endpoint list 'shelfBackend' (production) "
                      "has fewer than 4 URLs", self.gw.output())
        self.call("/shelves/v2/rows?trace=rl2")
        self.assertTrue(self.second.find("trace=rl2"))
        # Put the configuration back for the other tests.
        with open(self.gw.config_path, "w") as f:
            f.write(f'{self.stacks_id}_prod_endpoint_0 = "{self.second.url}/moved-stacks"\n' + conf.split("\n", 2)[2])
        self.gw.proc.send_signal(signal.SIGHUP)
        time.sleep(0.5)

    def test_a_bad_override_stops_the_load_with_its_name(self):
        home = os.path.join(self.workdir, "bad")
        conf_path = wso2_project(home, self.base_conf, SHELF_API % {"first": self.first.url},
                                 definition_name="shelf.yaml")
        password = {"shelfBackend_prod_basic_password": SHELF_PASSWORD}
        cases = [
            ({"shelfBakend_prod_endpoint_0": self.second.url},
             "the environment: endpoint override shelfBakend_prod_endpoint_0: no API's endpoint list is named "
             "'shelfBakend'"),
            ({"shelfBackend_prod_endpoint_0": "ftp://127.0.0.1/shelves"},
             "the environment: endpoint override shelfBackend_prod_endpoint_0: endpoint 'ftp://127.0.0.1/shelves'"),
            ({},  # no password anywhere: the key to set is named
             "securityConfig has no password; set shelfBackend_prod_basic_password"),
        ]
        for env, expected in cases:
            result = validate(conf_path, home, dict(env, **password) if env else env)
            self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
            self.assertIn(expected, result.stdout)
            self.assertNotIn(SHELF_PASSWORD, result.stdout + result.stderr)
        # A start stops too, with the same error in its log; --<key>=<value> counts as the command line.
        run = subprocess.run([harness.MGW_BINARY, "--config", conf_path,
                              f"--shelfBackend_sand_endpoint_0={self.second.url}"],
                             capture_output=True, text=True, timeout=60,
                             env=dict(os.environ, MGW_RUNTIME_HOME=home, **password))
        self.assertEqual(run.returncode, 1, run.stdout + run.stderr)
        self.assertIn("the command line: endpoint override shelfBackend_sand_endpoint_0: endpoint list "
                      "'shelfBackend' is not used as sandbox endpoints", run.stdout + run.stderr)
        self.assertNotIn(SHELF_PASSWORD, run.stdout + run.stderr)



if __name__ == "__main__":
    unittest.main()
