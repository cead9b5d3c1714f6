#!/usr/bin/env python3
"""oneway-pcap.py IN OUT - keeps only the client side of a little-endian
Ethernet/IPv4 pcap: frames sent from TCP port 80, 443 or 8000-8099 are
dropped. Every request is then left without a response and comes out when
its connection times out, so the order of the events is decided by flow
expiry (the sensor's clock), not by the packets of the flow itself."""
import struct
import sys

data = open(sys.argv[1], "rb").read()
out = [data[:24]]
pos = 24
while pos + 16 <= len(data):
    incl = struct.unpack("<I", data[pos + 8:pos + 12])[0]
    rec = data[pos:pos + 16 + incl]
    frame = rec[16:]
    pos += 16 + incl
    if len(frame) >= 38 and frame[12:14] == b"\x08\x00" and frame[23] == 6:
        sport = struct.unpack("!H", frame[14 + (frame[14] & 15) * 4:][:2])[0]
        if sport in (80, 443) or 8000 <= sport <= 8099:
            continue
    out.append(rec)
open(sys.argv[2], "wb").write(b"".join(out))
