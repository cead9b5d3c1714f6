#!/usr/bin/env python3
"""relink.py IN.pcap OUT KIND - rewrite an Ethernet pcap's frames for another
link type, to test that every link type decodes to the same events.

KIND: sll | sll2 | raw | ipv4 | null | null-be | loop | pcapng | dlt105
(dlt105 writes IEEE 802.11 as the link type, which tapir must refuse).
VLAN tags are dropped for the non-Ethernet kinds (those links carry none).
"""
import struct
import sys

ETH_P_8021Q = (0x8100, 0x88a8, 0x9100)


def read_pcap(path):
    data = open(path, "rb").read()
    magic = struct.unpack("<I", data[:4])[0]
    if magic in (0xa1b2c3d4, 0xa1b23c4d):
        e = "<"
    else:
        e = ">"
    _, _, _, _, _, snap, linktype = struct.unpack(e + "IHHiIII", data[:24])
    if linktype != 1:
        sys.exit("relink.py: input must be Ethernet")
    off = 24
    frames = []
    while off + 16 <= len(data):
        sec, frac, caplen, wirelen = struct.unpack(e + "IIII", data[off:off + 16])
        off += 16
        frames.append((sec, frac, data[off:off + caplen]))
        off += caplen
    return magic if e == "<" else struct.unpack(">I", data[:4])[0], frames


def strip_eth(frame):
    et = struct.unpack(">H", frame[12:14])[0]
    off = 14
    while et in ETH_P_8021Q:
        et = struct.unpack(">H", frame[off + 2:off + 4])[0]
        off += 4
    return et, frame[off:]


def main():
    src, dst, kind = sys.argv[1:4]
    magic, frames = read_pcap(src)
    out = []
    link = {"sll": 113, "sll2": 276, "raw": 101, "ipv4": 228, "null": 0, "null-be": 0,
            "loop": 108, "pcapng": 1, "dlt105": 105}[kind]
    for sec, frac, f in frames:
        et, ip = strip_eth(f)
        if kind == "sll":
            f2 = struct.pack(">HHH8sH", 0, 1, 6, f[6:12] + b"\0\0", et) + ip
        elif kind == "sll2":
            f2 = struct.pack(">HHIHBB8s", et, 0, 2, 1, 0, 6, f[6:12] + b"\0\0") + ip
        elif kind in ("raw", "ipv4"):
            if kind == "ipv4" and et != 0x0800:
                continue
            f2 = ip
        elif kind in ("null", "null-be", "loop"):
            af = 2 if et == 0x0800 else (30 if kind != "null" else 10)
            fmt = "<I" if kind == "null" else ">I"
            f2 = struct.pack(fmt, af) + ip
        else:
            f2 = f
        out.append((sec, frac, f2))
    with open(dst, "wb") as o:
        if kind == "pcapng":
            shb_body = struct.pack("<IHHq", 0x1a2b3c4d, 1, 0, -1)
            o.write(struct.pack("<II", 0x0a0d0d0a, 12 + len(shb_body)) + shb_body +
                    struct.pack("<I", 12 + len(shb_body)))
            idb_body = struct.pack("<HHI", link, 0, 262144)
            o.write(struct.pack("<II", 1, 12 + len(idb_body)) + idb_body +
                    struct.pack("<I", 12 + len(idb_body)))
            nano = magic == 0xa1b23c4d
            for sec, frac, f2 in out:
                ts = sec * 1000000 + (frac // 1000 if nano else frac)
                pad = b"\0" * ((4 - len(f2) % 4) % 4)
                body = struct.pack("<IIIII", 0, ts >> 32, ts & 0xffffffff, len(f2), len(f2)) + f2 + pad
                o.write(struct.pack("<II", 6, 12 + len(body)) + body + struct.pack("<I", 12 + len(body)))
        else:
            o.write(struct.pack("<IHHiIII", magic if magic in (0xa1b2c3d4, 0xa1b23c4d) else 0xa1b2c3d4,
                                2, 4, 0, 0, 262144, link))
            for sec, frac, f2 in out:
                o.write(struct.pack("<IIII", sec, frac, len(f2), len(f2)) + f2)


main()
