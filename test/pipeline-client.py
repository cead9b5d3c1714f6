#!/usr/bin/env python3
"""pipeline-client.py HOST PORT PATH... - sends every request on one
connection in a single write (HTTP/1.1 pipelining, RFC 9112 9.3.2), then reads
until the server has answered them all or closes."""
import socket
import sys

host, port, paths = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
s = socket.create_connection((host, port), timeout=5)
reqs = b"".join(b"GET %s HTTP/1.1\r\nHost: api.example.com\r\nUser-Agent: pipeline-client/1.0\r\n\r\n"
                % p.encode() for p in paths)
reqs = reqs[:-4] + b"\r\nConnection: close\r\n\r\n"
s.sendall(reqs)
while True:
    try:
        b = s.recv(65536)
    except socket.timeout:
        break
    if not b:
        break
s.close()
