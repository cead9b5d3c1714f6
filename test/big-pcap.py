#!/usr/bin/env python3
"""big-pcap.py IN OUT MIB [PAD] - a capture of at least MIB MiB: copies of IN (a
little-endian Ethernet pcap, µs) one after the other, each copy's IPv4
addresses moved to 10.C.x.y (C the copy number, 100 copies at most before it
wraps; x.y kept) so its connections are new ones, and its times moved past
the previous copy's last frame. With PAD, every frame is padded with zeros
after its IP datagram (link padding, which decoders ignore) to PAD bytes:
more file per frame, the same work. For the pipeline's memory test: a file
far larger than what the workers may hold of it."""
import struct
import sys

data = open(sys.argv[1], "rb").read()
want = int(sys.argv[3]) << 20
pad = int(sys.argv[4]) if len(sys.argv) > 4 else 0
recs, pos = [], 24
while pos + 16 <= len(data):
    sec, usec, cap, length = struct.unpack("<IIII", data[pos:pos + 16])
    recs.append((sec * 1000000 + usec, bytearray(data[pos + 16:pos + 16 + cap]), length))
    pos += 16 + cap
first, span = recs[0][0], recs[-1][0] - recs[0][0] + 1000000
out = [data[:24]]
size, copy = 24, 0
while size < want:
    net = 1 + copy % 100
    for ts, frame, length in recs:
        if len(frame) >= 34 and frame[12:14] == b"\x08\x00":
            frame[26] = frame[30] = 10  # source and destination 10.net.x.y
            frame[27] = frame[31] = net
        if len(frame) < pad:
            frame = frame + bytes(pad - len(frame))
        t = ts + copy * span
        out.append(struct.pack("<IIII", t // 1000000, t % 1000000, len(frame), length))
        out.append(bytes(frame))
        size += 16 + len(frame)
    copy += 1
open(sys.argv[2], "wb").write(b"".join(out))
