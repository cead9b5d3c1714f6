#!/usr/bin/env python3
"""late-pcap.py IN OUT N - the first N frames of a little-endian Ethernet pcap,
then one UDP frame 3 s after the last of them. Connections cut mid-exchange
end at the end of input, at the time of that UDP frame, which reaches no
pipeline worker: a worker that ended its flows at the time of its own last
frame would give other durations than one sensor."""
import struct
import sys

data = open(sys.argv[1], "rb").read()
keep = int(sys.argv[3])
pos, n, last = 24, 0, None
while pos + 16 <= len(data) and n < keep:
    last = data[pos:pos + 16]
    pos += 16 + struct.unpack("<I", data[pos + 8:pos + 12])[0]
    n += 1
sec, usec = struct.unpack("<II", last[:8])
udp = struct.pack("!HHHH", 5353, 5353, 16, 0) + b"late-udp"
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                 bytes([10, 9, 9, 1]), bytes([10, 9, 9, 2]))
frame = b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00" + ip + udp
rec = struct.pack("<IIII", sec + 3, usec, len(frame), len(frame)) + frame
open(sys.argv[2], "wb").write(data[:pos] + rec)
