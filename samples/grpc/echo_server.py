#!/usr/bin/python3
"""The micro-gw gRPC sample: echo.v1.Echo over h2c (HTTP/2 cleartext), one method per call kind.

Messages are raw bytes (grpcio's generic handlers with identity serializers), so neither a .proto
file nor generated code is needed; a client sends any bytes and gets them back:

  /echo.v1.Echo/Unary         one message in, the same message back
  /echo.v1.Echo/ServerStream  one message in, three back: b"0:" + message, b"1:" + ..., b"2:" + ...
  /echo.v1.Echo/ClientStream  several messages in, their concatenation back
  /echo.v1.Echo/Bidi          each message echoed as it arrives

Every call answers with the initial metadata `x-echo-method` and the trailing metadata
`x-echo-trailer` (so a client sees that trailers made it through the gateway) and
`x-echo-saw-apikey` ("yes" when an `apikey` field reached the service: micro-gw strips it). A
unary message b"status:<code>" is answered with that gRPC status instead (the pass-through of a
service's own error).

  /usr/bin/python3 samples/grpc/echo_server.py --port 50051 [--tls CERT KEY] [--ready-file F]

Python grpcio from Debian (python3-grpcio); stops on SIGTERM or Ctrl-C.
"""

import argparse
import signal
import sys
import threading
from concurrent import futures

import grpc

SERVICE = "echo.v1.Echo"


def _trailers(context, method):
    saw = any(k == "apikey" for k, _ in context.invocation_metadata())
    context.send_initial_metadata((("x-echo-method", method),))
    context.set_trailing_metadata(
        (("x-echo-trailer", method), ("x-echo-saw-apikey", "yes" if saw else "no")))


def unary(request, context):
    _trailers(context, "Unary")
    if request.startswith(b"status:"):
        code = int(request[len(b"status:"):])
        status = next(s for s in grpc.StatusCode if s.value[0] == code)
        context.abort(status, "the sample was asked for status %d" % code)
    return request


def server_stream(request, context):
    _trailers(context, "ServerStream")
    for i in range(3):
        yield b"%d:" % i + request


def client_stream(request_iterator, context):
    _trailers(context, "ClientStream")
    return b"".join(request_iterator)


def bidi(request_iterator, context):
    _trailers(context, "Bidi")
    for message in request_iterator:
        yield message


def handler():
    return grpc.method_handlers_generic_handler(SERVICE, {
        "Unary": grpc.unary_unary_rpc_method_handler(unary),
        "ServerStream": grpc.unary_stream_rpc_method_handler(server_stream),
        "ClientStream": grpc.stream_unary_rpc_method_handler(client_stream),
        "Bidi": grpc.stream_stream_rpc_method_handler(bidi),
    })


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=50051, help="0: a port the kernel chooses")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"),
                        help="serve TLS (h2:// endpoints) with this PEM certificate and key")
    parser.add_argument("--ready-file", help="written with the port once serving")
    args = parser.parse_args()

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
    server.add_generic_rpc_handlers((handler(),))
    address = "%s:%d" % (args.host, args.port)
    if args.tls:
        with open(args.tls[0], "rb") as c, open(args.tls[1], "rb") as k:
            credentials = grpc.ssl_server_credentials(((k.read(), c.read()),))
        port = server.add_secure_port(address, credentials)
    else:
        port = server.add_insecure_port(address)
    if port == 0:
        sys.exit("cannot listen on %s" % address)
    server.start()
    print("echo.v1.Echo listening on %s:%d (%s)" % (args.host, port, "h2" if args.tls else "h2c"),
          flush=True)
    if args.ready_file:
        with open(args.ready_file, "w") as f:
            f.write(str(port))

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    server.stop(grace=1).wait()


if __name__ == "__main__":
    main()
