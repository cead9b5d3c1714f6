#!/usr/bin/env python3
"""pcap-pace.py CAPTURE SECONDS [HOLD] - writes CAPTURE (classic pcap) to
standard output at a pace: packet times are mapped linearly onto SECONDS of
wall time, so a replay through `tapir -r -` takes that long and a test can act
(stop Redis, kill tapir) while alerts are being raised. Then keeps the pipe
open for HOLD more seconds (default 0) before closing it."""
import struct
import sys
import time


def main():
    path, seconds = sys.argv[1], float(sys.argv[2])
    hold = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
    data = open(path, "rb").read()
    magic = data[:4]
    endian = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    out = sys.stdout.buffer
    out.write(data[:24])
    recs, off = [], 24
    while off + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        recs.append((sec + frac / (1e9 if nano else 1e6), off, 16 + incl))
        off += 16 + incl
    if not recs:
        return
    t0, t1 = recs[0][0], recs[-1][0]
    scale = seconds / (t1 - t0) if t1 > t0 else 0.0
    start = time.monotonic()
    for ts, o, n in recs:
        due = start + (ts - t0) * scale
        delay = due - time.monotonic()
        if delay > 0.005:
            out.flush()
            time.sleep(delay)
        out.write(data[o:o + n])
    out.flush()
    time.sleep(hold)


if __name__ == "__main__":
    try:
        main()
    except BrokenPipeError:
        pass
