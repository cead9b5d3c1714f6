#!/usr/bin/env python3
"""frag-pcap.py IN OUT - rewrites a little-endian Ethernet pcap so that every
IPv4 packet with more than 48 bytes after its IP header is cut into IP
fragments (offsets in 8-byte units, the last one first, as some stacks send
them). Non-first fragments carry no TCP ports: a pipeline that hashed them by
ports alone would split the flow. tapir must read the same exchanges from the
rewritten capture as from the original."""
import struct
import sys


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def fragments(eth, ip):
    ihl = (ip[0] & 15) * 4
    total = struct.unpack("!H", ip[2:4])[0]
    body = ip[ihl:total]
    if ip[0] >> 4 != 4 or len(body) <= 48 or struct.unpack("!H", ip[6:8])[0] & 0x3FFF:
        return [eth + ip]
    size = max(8, (len(body) // 3 + 7) // 8 * 8)
    out = []
    for off in range(0, len(body), size):
        part = body[off:off + size]
        more = off + size < len(body)
        h = bytearray(ip[:ihl])
        struct.pack_into("!H", h, 2, ihl + len(part))
        struct.pack_into("!H", h, 6, (0x2000 if more else 0) | (off // 8))
        struct.pack_into("!H", h, 10, 0)
        struct.pack_into("!H", h, 10, csum(bytes(h)))
        out.append(eth + bytes(h) + part)
    return out[-1:] + out[:-1]


def main():
    data = open(sys.argv[1], "rb").read()
    magic, _, _, _, _, _, link = struct.unpack("<IHHiIII", data[:24])
    if magic != 0xA1B2C3D4 or link != 1:
        sys.exit("frag-pcap.py: wants a little-endian microsecond Ethernet pcap")
    out = [data[:24]]
    pos = 24
    while pos + 16 <= len(data):
        sec, usec, incl, orig = struct.unpack("<IIII", data[pos:pos + 16])
        frame = data[pos + 16:pos + 16 + incl]
        pos += 16 + incl
        frames = [frame]
        if incl == orig and len(frame) > 34 and frame[12:14] == b"\x08\x00":
            frames = fragments(frame[:14], frame[14:])
        for f in frames:
            out.append(struct.pack("<IIII", sec, usec, len(f), len(f)) + f)
    open(sys.argv[2], "wb").write(b"".join(out))


main()
