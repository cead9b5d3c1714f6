#!/bin/sh
# reader.sh - the mapped pcap reader (sensor/pcapfile.c) against libpcap's, end
# to end: every capture of pcaps/ and ../shared/pcaps/public/ (skipped when
# absent), and files made from one of them (nanosecond, big-endian, cut short,
# empty, header only), replayed twice: as tapir reads them, and with
# TAPIR_READER=libpcap (sensor/main.c), which makes capture.c use pcap_loop.
# Events, alerts, --stats, messages and exit status must be the same.
# test/test_capture.c compares the frames themselves, on more kinds of file.
cd "$(dirname "$0")/.." || exit 2
tapir=${TAPIR:-build/tapir-san}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# same NAME CAPTURE [tapir options]: both readers, all outputs compared. The
# --stats line is left out with --workers (per-worker counts depend on timing).
same() {
	name=$1
	cap=$2
	shift 2
	stats=--stats
	case "$*" in *--workers*) stats= ;; esac
	for r in mapped libpcap; do
		rm -f "$tmp/ev.$r" "$tmp/al.$r"
		if [ $r = libpcap ]; then
			TAPIR_READER=libpcap "$tapir" -r "$cap" --events "$tmp/ev.$r" --alerts "$tmp/al.$r" \
				$stats "$@" >/dev/null 2>"$tmp/err.$r"
		else
			"$tapir" -r "$cap" --events "$tmp/ev.$r" --alerts "$tmp/al.$r" $stats "$@" \
				>/dev/null 2>"$tmp/err.$r"
		fi
		echo $? >"$tmp/rc.$r"
		touch "$tmp/ev.$r" "$tmp/al.$r"
	done
	for f in rc ev al err; do
		if ! cmp -s "$tmp/$f.mapped" "$tmp/$f.libpcap"; then
			echo "not ok reader:$name: $f differs (mapped, then libpcap)"
			diff "$tmp/$f.mapped" "$tmp/$f.libpcap" | head -n 6 | sed 's/^/    /'
			return
		fi
	done
	echo "ok reader:$name (exit $(cat "$tmp/rc.mapped"), $(wc -l <"$tmp/ev.mapped") events)"
}

for cap in pcaps/*.pcap; do
	same "$(basename "$cap" .pcap)" "$cap"
done
same demo:workers2 pcaps/demo.pcap --workers 2
same demo:filter pcaps/demo.pcap -f 'tcp and greater 100'

corpus=../shared/pcaps/public
if [ -d "$corpus" ]; then
	find "$corpus" -name '*.pcap' -o -name '*.pcapng' | sort >"$tmp/list"
	while read -r cap; do
		same "public:$(basename "$cap")" "$cap"
	done <"$tmp/list"
else
	echo "skip reader:public: $corpus is not here (the shared corpus is optional)"
fi

src=pcaps/http1-keepalive.pcap
size=$(stat -c %s "$src")
same source "$src"
cp "$tmp/ev.mapped" "$tmp/ev.source"
# like NAME: the events of the last `same` are the source's.
like() {
	cmp -s "$tmp/ev.mapped" "$tmp/ev.source" && [ -s "$tmp/ev.source" ] &&
		echo "ok reader:$1-events" || echo "not ok reader:$1-events: not the source capture's events"
}
for n in 0 10 24 30 100 $((size / 2)) $((size - 1)); do
	head -c "$n" "$src" >"$tmp/cut.pcap"
	same "cut-$n" "$tmp/cut.pcap"
done
grep -q "truncated dump file" "$tmp/err.mapped" &&
	echo "ok reader:cut-message" || echo "not ok reader:cut-message: $(head -c 200 "$tmp/err.mapped")"

if command -v editcap >/dev/null; then
	editcap -F nsecpcap "$src" "$tmp/nsec.pcap" && same nanosecond "$tmp/nsec.pcap" && like nanosecond
else
	echo "skip reader:nanosecond: no editcap"
fi
# The same capture in big-endian byte order: the header and every record header swapped.
python3 - "$src" "$tmp/big.pcap" <<'PY'
import struct, sys
b = open(sys.argv[1], "rb").read()
out = [struct.pack(">IHHiiII", *struct.unpack("<IHHiiII", b[:24]))]
at = 24
while at + 16 <= len(b):
    sec, frac, caplen, length = struct.unpack("<IIII", b[at:at + 16])
    out.append(struct.pack(">IIII", sec, frac, caplen, length) + b[at + 16:at + 16 + caplen])
    at += 16 + caplen
open(sys.argv[2], "wb").write(b"".join(out))
PY
same big-endian "$tmp/big.pcap"
like big-endian
