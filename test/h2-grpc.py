#!/usr/bin/python3
"""h2-grpc.py - a real gRPC server and client (Debian's python3-grpcio, the C
core's HTTP/2 stack) for test/make-pcaps-h2.sh. No generated code: methods
take and return raw bytes.

  h2-grpc.py server ADDR PORT   serves tapir.Items/Get (unary: "42" found,
                                anything else NOT_FOUND with a message) and
                                tapir.Items/List (server streaming, 3 replies)
  h2-grpc.py client HOST PORT   calls Get("42"), Get("7"), List()
"""
import sys
import time
from concurrent import futures

import grpc


def ident(b):
    return b


def get(request, context):
    if request == b"42":
        return b'{"id":42,"name":"answer"}'
    context.abort(grpc.StatusCode.NOT_FOUND, "item %s not found" % request.decode())


def list_items(request, context):
    for i in range(3):
        yield b'{"id":%d}' % i


def server(addr, port):
    handlers = {
        "Get": grpc.unary_unary_rpc_method_handler(get, ident, ident),
        "List": grpc.unary_stream_rpc_method_handler(list_items, ident, ident),
    }
    srv = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    srv.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("tapir.Items", handlers),))
    srv.add_insecure_port("%s:%s" % (addr, port))
    srv.start()
    srv.wait_for_termination(timeout=60)


def client(host, port):
    with grpc.insecure_channel("%s:%s" % (host, port)) as ch:
        get_ = ch.unary_unary("/tapir.Items/Get", ident, ident)
        list_ = ch.unary_stream("/tapir.Items/List", ident, ident)
        print(get_(b"42", timeout=5))
        try:
            get_(b"7", timeout=5)
        except grpc.RpcError as e:
            print(e.code(), e.details())
        print(list(list_(b"", timeout=5)))
        time.sleep(0.2)


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in ("server", "client"):
        sys.stderr.write(__doc__)
        sys.exit(2)
    {"server": server, "client": client}[sys.argv[1]](sys.argv[2], sys.argv[3])
