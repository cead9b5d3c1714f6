#!/usr/bin/env python3
"""pcap-server.py PORT - a small real HTTP/1.1 API server (Python's http.server)
for the repo's captures: the framings nginx does not produce on its own.

  POST /v1/upload        reads a Content-Length body (answers Expect: 100-continue), 201
  GET  /v1/stream        chunked response with a trailer field
  GET  /v1/legacy        body delimited by closing the connection (no length)
  DELETE /v1/users/ID    204
  anything else          404 JSON
"""
import http.server
import json
import sys


class Api(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send_json(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        got = 0
        while got < n:
            chunk = self.rfile.read(min(65536, n - got))
            if not chunk:
                break
            got += len(chunk)
        if self.path.startswith("/v1/upload"):
            self.send_json(201, {"stored": got})
        else:
            self.send_json(404, {"error": "no such route"})

    def do_GET(self):
        if self.path.startswith("/v1/stream"):
            self.send_response(200)
            self.send_header("Content-Type", "application/x-ndjson")
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Trailer", "X-Checksum")
            self.end_headers()
            for i in range(5):
                line = (json.dumps({"seq": i, "pad": "x" * (200 * i)}) + "\n").encode()
                self.wfile.write(b"%x;ext=1\r\n%s\r\n" % (len(line), line))
                self.wfile.flush()
            self.wfile.write(b"0\r\nX-Checksum: 1234\r\n\r\n")
        elif self.path.startswith("/v1/legacy"):
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Connection", "close")
            self.end_headers()
            for i in range(20):
                self.wfile.write(b"legacy line %d\n" % i)
            self.close_connection = True
        else:
            self.send_json(404, {"error": "no such route"})

    def do_DELETE(self):
        if self.path.startswith("/v1/users/"):
            self.send_response(204)
            self.end_headers()
        else:
            self.send_json(404, {"error": "no such route"})


class Server(http.server.ThreadingHTTPServer):
    allow_reuse_address = True


if __name__ == "__main__":
    host = sys.argv[2] if len(sys.argv) > 2 else "0.0.0.0"
    Server((host, int(sys.argv[1])), Api).serve_forever()
