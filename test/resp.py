#!/usr/bin/env python3
"""resp.py - a tiny Redis client for the tests (RESP2 over a socket), so the
checks read exactly what Redis holds, byte for byte, without redis-cli's
formatting.

  resp.py PORT PASSWORD xrange STREAM         the field value of every entry, one per line
  resp.py PORT PASSWORD hgetall KEY           "field value" lines
  resp.py PORT PASSWORD subscribe CHANNEL N T every message payload, one per line, until N
                                              messages or T seconds of silence; prints
                                              "subscribed" on stderr once listening
  resp.py PORT PASSWORD cmd ARG...            any command; prints the reply
PASSWORD "-" means no AUTH; "user:password" logs in as an ACL user. The
environment variable RESP_DB selects a database."""
import os
import socket
import sys


class Conn:
    def __init__(self, port, password):
        self.s = socket.create_connection(("127.0.0.1", int(port)), timeout=10)
        self.f = self.s.makefile("rb")
        if password != "-":
            args = ["AUTH"] + (password.split(":", 1) if ":" in password else [password])
            r = self.call(*args)
            if isinstance(r, Exception):
                raise SystemExit("AUTH failed: %s" % r)
        if os.environ.get("RESP_DB"):
            self.call("SELECT", os.environ["RESP_DB"])

    def send(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.s.sendall(out)

    def read(self):
        line = self.f.readline()
        if not line:
            raise EOFError
        t, rest = line[:1], line[1:-2]
        if t == b"+":
            return rest
        if t == b"-":
            return Exception(rest.decode())
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.f.read(n + 2)
            return data[:-2]
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        raise ValueError("bad reply %r" % line)

    def call(self, *args):
        self.send(*args)
        return self.read()


def main():
    port, password, verb, args = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    c = Conn(port, password)
    out = sys.stdout.buffer
    if verb == "xrange":
        for _id, fields in c.call("XRANGE", args[0], "-", "+"):
            for i in range(1, len(fields), 2):
                out.write(fields[i] + b"\n")
    elif verb == "hgetall":
        r = c.call("HGETALL", args[0])
        for i in range(0, len(r), 2):
            out.write(r[i] + b" " + r[i + 1] + b"\n")
    elif verb == "subscribe":
        want, quiet = int(args[1]), float(args[2])
        c.send("SUBSCRIBE", args[0])
        c.read()
        sys.stderr.write("subscribed\n")
        sys.stderr.flush()
        c.s.settimeout(quiet)
        got = 0
        try:
            while got < want:
                m = c.read()
                if m and m[0] == b"message":
                    out.write(m[2] + b"\n")
                    out.flush()
                    got += 1
        except (socket.timeout, EOFError):
            pass
    else:
        r = c.call(verb, *args)
        out.write((r if isinstance(r, bytes) else str(r).encode()) + b"\n")
    out.flush()


if __name__ == "__main__":
    main()
