#!/usr/bin/python3
"""h2-client.py - HTTP/2 client scenarios that curl, nghttp and h2load cannot
play, written with python3-h2 (Debian's hyper-h2, a real HTTP/2 stack) for
test/make-pcaps-h2.sh. Prior knowledge, cleartext.

  h2-client.py reset HOST PORT      four GETs; the first (a large file) is
                                    reset with CANCEL after its first DATA,
                                    the last one right after it is sent
  h2-client.py midstream HOST PORT  one request, a pause (the capture starts
                                    during it), then requests that reuse the
                                    HPACK dynamic table filled before the pause
"""
import socket
import sys
import time

import h2.config
import h2.connection
import h2.events
import h2.settings


class Client:
    def __init__(self, host, port):
        self.authority = "%s:%s" % (host, port)
        self.sock = socket.create_connection((host, int(port)))
        cfg = h2.config.H2Configuration(client_side=True, header_encoding="utf-8")
        self.conn = h2.connection.H2Connection(config=cfg)
        self.conn.initiate_connection()
        self.conn.update_settings({h2.settings.SettingCodes.ENABLE_PUSH: 0})
        self.flush()
        self.ended = set()
        self.got_data = set()

    def flush(self):
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def request(self, method, path, extra=(), body=None):
        sid = self.conn.get_next_available_stream_id()
        headers = [(":method", method), (":scheme", "http"), (":authority", self.authority),
                   (":path", path), ("user-agent", "tapir-h2-client/1.0")] + list(extra)
        if body is not None:
            headers.append(("content-length", str(len(body))))
        self.conn.send_headers(sid, headers, end_stream=body is None)
        if body is not None:
            self.conn.send_data(sid, body, end_stream=True)
        self.flush()
        return sid

    def run_until(self, done, on_data=None, timeout=5.0):
        self.sock.settimeout(timeout)
        deadline = time.time() + timeout
        while not done() and time.time() < deadline:
            data = self.sock.recv(65536)
            if not data:
                break
            for ev in self.conn.receive_data(data):
                if isinstance(ev, h2.events.DataReceived):
                    self.conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                    if on_data:
                        on_data(ev.stream_id)
                    self.got_data.add(ev.stream_id)
                elif isinstance(ev, (h2.events.StreamEnded, h2.events.StreamReset)):
                    self.ended.add(ev.stream_id)
            self.flush()

    def close(self):
        self.conn.close_connection()
        self.flush()
        time.sleep(0.2)
        self.sock.close()


def reset(host, port):
    c = Client(host, port)
    big = c.request("GET", "/big.bin")
    small = [c.request("GET", "/index.html"), c.request("GET", "/style.css?v=3")]
    gone = c.request("GET", "/app.js")
    c.conn.reset_stream(gone, error_code=8)
    c.flush()
    cancelled = []

    def on_data(sid):
        if sid == big and not cancelled:
            c.conn.reset_stream(big, error_code=8)  # CANCEL
            cancelled.append(big)

    c.run_until(lambda: all(s in c.ended for s in small) and cancelled, on_data)
    c.close()


def midstream(host, port):
    c = Client(host, port)
    common = [("x-tenant", "acme-corporation-eu-west"), ("x-client-version", "4.2.0-beta.7"),
              ("accept", "application/json")]
    first = c.request("GET", "/v1/accounts/1", common)
    c.run_until(lambda: first in c.ended)
    time.sleep(1.5)  # the capture starts here
    sids = [c.request("GET", "/v1/accounts/2?expand=owner", common),
            c.request("POST", "/v1/accounts", common + [("content-type", "application/json")],
                      body=b'{"name":"new"}'),
            c.request("GET", "/v1/accounts/3", common)]
    c.run_until(lambda: all(s in c.ended for s in sids))
    c.close()


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in ("reset", "midstream"):
        sys.stderr.write(__doc__)
        sys.exit(2)
    {"reset": reset, "midstream": midstream}[sys.argv[1]](sys.argv[2], sys.argv[3])
