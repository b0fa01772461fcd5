"""Request and response validation against the OpenAPI definitions (issue 27), with the real binary
and a recording backend: parameters of every location, JSON bodies ($ref chains, nullable,
additionalProperties: false, OpenAPI 3.0's boolean exclusiveMinimum), the 413 before the backend,
a valid body forwarded byte for byte, answers checked (status, content type, JSON body), the
refusal metrics; Swagger 2.0's `in: body`; load errors for dangling and circular $refs.
"""
import json
import os
import subprocess
import unittest
import urllib.request

import harness
from recording_backend import RecordingBackend, response

TESTDATA = os.path.join(harness.SOURCE_DIR, "tests", "testdata", "validation")
MAX_BODY = 4096

VALID_PET = {"id": 7, "name": "rex", "photoUrls": ["a.png"], "status": "available",
             "category": {"id": 1, "tag": {"label": "dogs"}}}


def answer(req):
    """The backend: JSON answers per target, some of them breaking the definition on purpose."""
    t = req.target
    js = [("Content-Type", "application/json")]
    if t == "/store/pet/7":
        return response(200, headers=js, body=json.dumps(VALID_PET).encode())
    if t == "/store/pet/8":  # status outside the enum
        return response(200, headers=js, body=json.dumps(dict(VALID_PET, status="hello")).encode())
    if t == "/store/pet/9":  # a status the definition does not declare
        return response(418, headers=js, body=b"{}")
    if t == "/store/pet/10":  # a content type the definition does not declare
        return response(200, headers=[("Content-Type", "text/html")], body=b"<p>rex</p>")
    if t == "/store/pet/11":  # chunked: beyond what is validated, relayed with a log line
        body = json.dumps(dict(VALID_PET, status="hello")).encode()
        return response(200, headers=js + [("Transfer-Encoding", "chunked")],
                        body=b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body), content_length=False)
    if t == "/store/pet/12":  # no such pet: declared without content
        return response(404, body=b"gone")
    if t == "/store/pet" and req.method == "POST":
        return response(201, headers=js, body=bytes(req.body))
    if t == "/store/owner":
        return response(204)
    if t.startswith("/store/pet/findByStatus"):
        return response(200, headers=js, body=b"[]")
    return response(200, headers=js, body=b"{}")


def definition(name, backend_url):
    with open(os.path.join(TESTDATA, name)) as f:
        return f.read().replace("BACKEND", backend_url)


class PetstoreValidation(harness.GatewayTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = RecordingBackend(responder=answer)
        cls.addClassCleanup(cls.backend.stop)
        defs = os.path.join(cls.workdir, "defs")
        os.makedirs(defs)
        for name in ("petstore.yaml", "swagger2.yaml"):
            with open(os.path.join(defs, name), "w") as f:
                f.write(definition(name, cls.backend.url))
        extra = f"""
[apis]
definitions = ["{defs}"]

[validationConfig]
maxBodyBytes = {MAX_BODY}
"""
        cls.gw = cls.start(harness.MicroGw(cls.workdir, harness.base_config(extra=extra)))

    def call(self, path, method=None, headers=(), data=None):
        return harness.curl(self.gw.http(path), method=method, headers=headers, data=data)

    def post_json(self, path, body, method="POST", content_type="application/json"):
        data = body if isinstance(body, str) else json.dumps(body)
        return self.call(path, method=method, headers=[f"Content-Type: {content_type}"], data=data)

    def assertRefused(self, reply, status=400, *fragments):
        self.assertEqual(reply.status, status, reply.body)
        fault = reply.json()["fault"]
        if status == 400:
            self.assertEqual(fault["code"], 400)
            self.assertEqual(fault["message"], "Bad Request")
        for fragment in fragments:
            self.assertIn(fragment, fault["description"])
        return fault["description"]

    def reached(self, marker):
        return any(marker in r.target for r in self.backend.requests())

    # --- parameters ---

    def test_missing_required_query_parameter(self):
        reply = self.call("/pets/v1/pet/findByStatus?limit=5&probe=missing")
        self.assertRefused(reply, 400, "the required query parameter 'status' is missing")
        self.assertFalse(self.reached("probe=missing"))

    def test_wrong_type(self):
        self.assertRefused(self.call("/pets/v1/pet/findByStatus?status=sold&limit=abc"), 400,
                           "query parameter 'limit'", "'abc' is not a valid integer")
        self.assertRefused(self.call("/pets/v1/pet/abc"), 400, "path parameter 'petId'")
        self.assertRefused(self.call("/pets/v1/pet/0"), 400, "path parameter 'petId'")
        self.assertRefused(self.call("/pets/v1/pet/findByStatus?status=sold&limit=101"), 400,
                           "query parameter 'limit'")

    def test_enum_violation(self):
        # An exploded array: every repetition is one item, and the second is out of the enum.
        self.assertRefused(self.call("/pets/v1/pet/findByStatus?status=sold&status=lost"), 400,
                           "query parameter 'status' #/1")
        reply = self.call("/pets/v1/pet/findByStatus?status=sold&status=pending&probe=enum-ok")
        self.assertEqual(reply.status, 200, reply.body)
        self.assertTrue(self.reached("probe=enum-ok"))

    def test_header_cookie_and_form_array(self):
        base = "/pets/v1/pet/findByStatus?status=sold"
        self.assertRefused(self.call(base, headers=["X-Trace-Level: medium"]), 400,
                           "header parameter 'X-Trace-Level'")
        self.assertRefused(self.call(base, headers=["Cookie: theme=dark; session=ab"]), 400,
                           "cookie parameter 'session'")
        self.assertRefused(self.call(base + "&tags=1,2,x"), 400, "query parameter 'tags'",
                           "'x' is not a valid integer")
        self.assertRefused(self.call(base + "&tags=1,2,3,4"), 400, "query parameter 'tags'")
        ok = self.call(base + "&tags=1,2&probe=all-ok",
                       headers=["X-Trace-Level: high", "Cookie: session=abcd"])
        self.assertEqual(ok.status, 200, ok.body)

    # --- request bodies ---

    def test_body_with_a_missing_field(self):
        reply = self.post_json("/pets/v1/pet", {"id": 0})
        description = self.assertRefused(reply, 400, "request body #", "name", "photoUrls")
        self.assertLess(len(description), 600)

    def test_extra_field_with_additional_properties_false(self):
        self.assertRefused(self.post_json("/pets/v1/owner", {"name": "ann", "extra": 1}, "PUT"), 400,
                           "request body")
        self.assertEqual(self.post_json("/pets/v1/owner", {"name": "ann"}, "PUT").status, 204)

    def test_boolean_exclusive_minimum(self):
        self.assertRefused(self.post_json("/pets/v1/owner", {"name": "ann", "age": 0}, "PUT"), 400,
                           "#/age")
        self.assertEqual(self.post_json("/pets/v1/owner", {"name": "ann", "age": 1}, "PUT").status, 204)

    def test_nullable(self):
        ok = self.post_json("/pets/v1/pet", dict(VALID_PET, nickname=None))
        self.assertEqual(ok.status, 201, ok.body)
        self.assertRefused(self.post_json("/pets/v1/pet", dict(VALID_PET, nickname=5)), 400,
                           "#/nickname")
        # name is not nullable.
        self.assertRefused(self.post_json("/pets/v1/pet", dict(VALID_PET, name=None)), 400, "#/name")

    def test_ref_chain(self):
        # requestBodies/Pet -> schemas/Pet -> Category -> Tag: the innermost rule, by its pointer.
        pet = dict(VALID_PET, category={"id": 1, "tag": {"label": "far-too-long"}})
        self.assertRefused(self.post_json("/pets/v1/pet", pet), 400, "#/category/tag/label")
        pet = dict(VALID_PET, category={"id": 1, "tag": {}})
        self.assertRefused(self.post_json("/pets/v1/pet", pet), 400, "#/category/tag", "label")

    def test_not_json_and_wrong_content_type(self):
        self.assertRefused(self.post_json("/pets/v1/pet", "{\"name\": "), 400, "not valid JSON")
        # A member twice: the backend might read either; neither is forwarded unchecked.
        twice = json.dumps(VALID_PET)[:-1] + ', "name": 5}'
        self.assertRefused(self.post_json("/pets/v1/pet", twice), 400,
                           "has the member 'name' twice")
        reply = self.post_json("/pets/v1/pet", json.dumps(VALID_PET), content_type="text/plain")
        self.assertEqual(reply.status, 415, reply.body)
        self.assertIn("application/json", reply.json()["fault"]["description"])
        reply = self.call("/pets/v1/owner", method="PUT")
        self.assertRefused(reply, 400, "requires a request body")

    def test_oversized_body_is_413_before_the_backend(self):
        big = json.dumps(dict(VALID_PET, name="x" * MAX_BODY, status="pending"))
        before = len(self.backend.requests())
        reply = self.post_json("/pets/v1/pet", big)
        self.assertEqual(reply.status, 413, reply.body)
        self.assertIn("maxBodyBytes", reply.json()["fault"]["description"])
        # Chunked: no length announced, refused once the limit is passed.
        reply = self.call("/pets/v1/pet", method="POST",
                          headers=["Content-Type: application/json", "Transfer-Encoding: chunked"], data=big)
        self.assertEqual(reply.status, 413, reply.body)
        self.assertEqual(len(self.backend.requests()), before)

    def test_a_valid_body_reaches_the_backend_byte_for_byte(self):
        # Odd spacing, an escaped character and key order the gateway must not normalise.
        raw = ('{ "photoUrls" : [ "a.png" ],\n\t"name":"r\\u00e9x" , "id" : 70, '
               '"category": {"tag": {"label": "cats"}}}')
        reply = self.call("/pets/v1/pet", method="POST",
                          headers=["Content-Type: application/json; charset=utf-8"], data=raw)
        self.assertEqual(reply.status, 201, reply.body)
        sent = [r for r in self.backend.requests() if r.method == "POST" and b'"id" : 70' in bytes(r.body)]
        self.assertEqual(len(sent), 1)
        self.assertEqual(bytes(sent[0].body), raw.encode())
        self.assertEqual(sent[0].header("content-length"), [str(len(raw)).encode()])
        self.assertEqual(reply.body, raw)

    def test_swagger2_body_parameter_and_collection_format(self):
        ok = self.post_json("/orders/v1/order?ids=1|2", {"quantity": 2, "note": None})
        self.assertEqual(ok.status, 200, ok.body)
        self.assertRefused(self.post_json("/orders/v1/order", {"note": "x"}), 400, "quantity")
        self.assertRefused(self.post_json("/orders/v1/order?ids=1|x", {"quantity": 2}), 400,
                           "query parameter 'ids'")
        self.assertRefused(self.call("/orders/v1/order", method="POST"), 400, "requires a request body")

    # --- answers ---

    def test_a_valid_answer_passes(self):
        reply = self.call("/pets/v1/pet/7")
        self.assertEqual(reply.status, 200, reply.body)
        self.assertEqual(reply.json(), VALID_PET)
        self.assertEqual(self.call("/pets/v1/pet/12").status, 404)  # declared, no content

    def test_invalid_answers_become_500(self):
        reply = self.call("/pets/v1/pet/8")
        self.assertEqual(reply.status, 500, reply.body)
        fault = reply.json()["fault"]
        self.assertEqual((fault["code"], fault["message"]), (500, "Bad Response"))
        self.assertIn("#/status", fault["description"])
        self.assertNotIn("rex", reply.body)  # the backend's body is not sent
        reply = self.call("/pets/v1/pet/9")
        self.assertEqual(reply.status, 500, reply.body)
        self.assertIn("418", reply.json()["fault"]["description"])
        reply = self.call("/pets/v1/pet/10")
        self.assertEqual(reply.status, 500, reply.body)
        self.assertIn("text/html", reply.json()["fault"]["description"])
        self.assertNotIn("<p>", reply.body)

    def test_a_chunked_answer_streams_unvalidated_with_a_log_line(self):
        reply = self.call("/pets/v1/pet/11")
        self.assertEqual(reply.status, 200, reply.body)
        self.assertIn("hello", reply.body)
        self.assertIn("response not validated", self.gw.output())

    def test_refusals_are_counted_by_api_and_direction(self):
        self.call("/pets/v1/pet/findByStatus")
        self.call("/pets/v1/pet/8")
        with urllib.request.urlopen(f"http://127.0.0.1:{self.gw.metrics_port}/metrics", timeout=10) as r:
            page = r.read().decode()
        counts = {}
        for line in page.splitlines():
            if line.startswith("mgw_validation_refusals_total{") and 'api="PetValidation"' in line:
                direction = line.split('direction="')[1].split('"')[0]
                counts[direction] = float(line.rsplit(" ", 1)[1])
        self.assertGreaterEqual(counts.get("request", 0), 1, page)
        self.assertGreaterEqual(counts.get("response", 0), 1, page)


class LogOnlyAndLoadErrors(harness.GatewayTestCase):
    def write(self, name, text):
        path = os.path.join(self.workdir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def validate(self, definition_text, extra=""):
        path = self.write("def.yaml", definition_text)
        conf = self.write("micro-gw.conf", harness.base_config(extra=f'\n[apis]\ndefinitions = ["{path}"]\n' + extra))
        return subprocess.run([harness.MGW_BINARY, "--validate", "--config", conf], capture_output=True,
                              text=True, timeout=60, env=dict(os.environ, MGW_RUNTIME_HOME=self.workdir))

    def test_dangling_and_circular_refs_are_load_errors_with_their_pointer(self):
        base = definition("petstore.yaml", "http://127.0.0.1:1")
        dangling = base.replace('$ref: "#/components/schemas/Tag"', '$ref: "#/components/schemas/Label"')
        result = self.validate(dangling)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("/components/schemas/Category/properties/tag/$ref", result.stdout + result.stderr)
        self.assertIn("dangling $ref '#/components/schemas/Label'", result.stdout + result.stderr)
        circular = base.replace("label: {type: string, maxLength: 8}",
                                'label: {type: string, maxLength: 8}\n        parent: {$ref: "#/components/schemas/Tag"}')
        result = self.validate(circular)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("circular $ref '#/components/schemas/Tag'", result.stdout + result.stderr)
        # With validation off for the API the same definition loads (the schemas are not used).
        result = self.validate(circular.replace("x-mgw-validation: true", "x-mgw-validation: false"))
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_config_errors_are_precise(self):
        result = self.validate(definition("petstore.yaml", "http://127.0.0.1:1"),
                               "\n[validationConfig]\nmaxBodyBytes = 0\n")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("maxBodyBytes", result.stdout + result.stderr)
        result = self.validate(definition("petstore.yaml", "http://127.0.0.1:1").replace(
            "x-mgw-validation: true", "x-mgw-validation: {request: yes-please}"))
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("/x-mgw-validation/request", result.stdout + result.stderr)

    def test_enforce_response_false_logs_and_relays(self):
        backend = RecordingBackend(responder=answer)
        self.addCleanup(backend.stop)
        path = self.write("pets.yaml", definition("petstore.yaml", backend.url))
        extra = f'\n[apis]\ndefinitions = ["{path}"]\n\n[validationConfig]\nenforceResponse = false\n'
        gw = self.start(harness.MicroGw(os.path.join(self.workdir), harness.base_config(extra=extra)))
        reply = harness.curl(gw.http("/pets/v1/pet/8"))
        self.assertEqual(reply.status, 200, reply.body)
        self.assertIn("hello", reply.body)
        self.assertIn("invalid response", gw.output())
        # Requests are still refused.
        self.assertEqual(harness.curl(gw.http("/pets/v1/pet/findByStatus")).status, 400)


def shelf_answer(req):
    """WSO2's mock backend stand-in: book 2 comes back with a condition outside the enum."""
    if req.target == "/v2/book/2":
        return response(200, headers=[("Content-Type", "application/json")],
                        body=b'{"id": 2, "title": "Worn Atlas", "isbnList": ["1"], "condition": "hello"}')
    return response(200, headers=[("Content-Type", "application/json")], body=b'{"shelved": true}')


class ValidationTestCasePort(harness.GatewayTestCase):
    """WSO2 MGW 3.x's ValidationTestCase in its shape, on micro-gw's own fixtures
    (tests/testdata/wso2/validation.conf and validation_api.yaml): a key from /apikey with the
    project's SHA-1 user, then an invalid request body (400, code 400 "Bad Request", every missing
    required key named) and an invalid answer (500, code 500 "Bad Response", the enum at its
    pointer)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        from test_wso2_migration import SHA1_USER, read, wso2_project
        cls.backend = RecordingBackend(responder=shelf_answer)
        cls.addClassCleanup(cls.backend.stop)
        conf = read("validation.conf").replace("httpPort=9690", "httpPort=0").replace("httpsPort=9695", "httpsPort=0")
        # micro-gw checks a key's allowedAPIs by default (WSO2 3.x did not: README, "Migrating"); the
        # key names the API, so the conf stays WSO2's otherwise.
        conf += '\n[[apikey.issuer.api]]\n  name="ShelfAPI"\n  versions="1.0.0"\n'
        definition = read("validation_api.yaml").replace("https://localhost:2380", cls.backend.url)
        wso2_project(cls.workdir, conf, definition, definition_name="validation_api.yaml")
        cls.gw = cls.start(harness.MicroGw(cls.workdir, conf))
        reply = harness.curl(cls.gw.https("/apikey"), headers=[f"Authorization: {SHA1_USER}"])
        assert reply.status == 200, reply.body
        cls.apikey = reply.body

    def test_invalid_request(self):
        reply = harness.curl(self.gw.http("/shelf/v1/book"), method="POST",
                             headers=[f"api_key: {self.apikey}", "Content-Type: application/json"],
                             data='{ "id": 0}')
        self.assertEqual(reply.status, 400, reply.body)
        fault = reply.json()["fault"]
        self.assertEqual(sorted(fault), ["code", "description", "message"])
        self.assertEqual((fault["code"], fault["message"]), (400, "Bad Request"))
        # WSO2: "#: required key [name] not found, #: required key [photoUrls] not found, ".
        self.assertIn("#: Missing required property 'title'", fault["description"])
        self.assertIn("#: Missing required property 'isbnList'", fault["description"])
        self.assertFalse(any(r.method == "POST" for r in self.backend.requests()))

    def test_invalid_response(self):
        reply = harness.curl(self.gw.http("/shelf/v1/book/2"),
                             headers=[f"api_key: {self.apikey}", "accept: application/json"])
        self.assertEqual(reply.status, 500, reply.body)
        fault = reply.json()["fault"]
        self.assertEqual((fault["code"], fault["message"]), (500, "Bad Response"))
        # WSO2: "#/status: hello is not a valid enum value, ".
        self.assertIn("#/condition: ", fault["description"])
        self.assertNotIn("Worn Atlas", reply.body)


BOUNDED = """openapi: 3.0.3
info: {title: Bounded, version: 1.0.0}
x-wso2-basePath: /bounded/v1
x-wso2-production-endpoints: {urls: ["BACKEND/store"]}
x-mgw-validation: true
security: []
paths:
  /event:
    post:
      parameters:
        - {name: code, in: query, schema: {type: string, pattern: "^[a-z]+$"}}
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              properties:
                name: {type: string, pattern: "^[a-z]+$"}
                when: {type: string, format: date-time}
      responses:
        default: {description: any}
"""


class RegexInputBound(harness.GatewayTestCase):
    """A long string where valijson would run std::regex (pattern, format date-time) overflowed
    the stack and killed the gateway; it is refused by length (400) and the gateway lives on."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = RecordingBackend(responder=answer)
        cls.addClassCleanup(cls.backend.stop)
        defs = os.path.join(cls.workdir, "defs")
        os.makedirs(defs)
        with open(os.path.join(defs, "bounded.yaml"), "w") as f:
            f.write(BOUNDED.replace("BACKEND", cls.backend.url))
        extra = f"""
[apis]
definitions = ["{defs}"]

[validationConfig]
maxBodyBytes = 1048576
"""
        cls.gw = cls.start(harness.MicroGw(cls.workdir, harness.base_config(extra=extra)))

    def post(self, body, query=""):
        path = os.path.join(self.workdir, "body.json")  # too long for curl's argument list
        with open(path, "w") as f:
            json.dump(body, f)
        return harness.curl(self.gw.http("/bounded/v1/event" + query), method="POST",
                            headers=["Content-Type: application/json"], data="@" + path)

    def test_a_long_string_under_a_regex_is_refused_and_the_gateway_lives(self):
        for field in ("name", "when"):
            reply = self.post({field: "a" * 200000})
            self.assertEqual(reply.status, 400, reply.body[:300])
            description = reply.json()["fault"]["description"]
            self.assertIn(f"#/{field}: a string of 200000 bytes is longer than the 1024 bytes "
                          "a pattern is checked on", description)
            self.assertNotIn("aaaa", description)
            self.assertIsNone(self.gw.proc.poll())
            ok = self.post({"name": "abc", "when": "2026-12-07T04:30:00Z"})
            self.assertEqual(ok.status, 200, ok.body)
        # At the bound the pattern itself decides.
        self.assertEqual(self.post({"name": "a" * 1024}).status, 200)
        self.assertIn("regex", self.post({"name": "1" * 1024}).json()["fault"]["description"])
        # A parameter is checked by the same code, bounded by maxHeaderBytes only.
        reply = self.post({"name": "abc"}, "?code=" + "a" * 5000)
        self.assertEqual(reply.status, 400, reply.body[:300])
        self.assertIn("query parameter 'code' #: a string of 5000 bytes",
                      reply.json()["fault"]["description"])
        self.assertIsNone(self.gw.proc.poll())
        self.assertEqual(self.post({"name": "abc"}, "?code=abc").status, 200)


if __name__ == "__main__":
    unittest.main()
