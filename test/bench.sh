#!/bin/sh
# bench.sh - behind `make bench`: throughput measured side by side in one run.
#   tapir replaying a capture with events on, vs a libpcap loop that only
#   counts bytes (test/bench/pcap-null.c), vs tshark extracting the same HTTP
#   fields; reported as ratios, with peak RSS. Then the module benchmarks that
#   exist (engine, audit log).
# The capture: $TAPIR_BENCH_PCAP, or one made by ../shared/bench/gen-capture.sh
# (real nginx/nghttpx/wrk/h2load/curl traffic, needs root) of $TAPIR_BENCH_SIZE.
cd "$(dirname "$0")/.." || exit 2
size=${TAPIR_BENCH_SIZE:-256M}
cap=${TAPIR_BENCH_PCAP:-build/bench/api-$size.pcap}
mkdir -p build/bench
if [ ! -f "$cap" ]; then
	gen=../shared/bench/gen-capture.sh
	if [ ! -x "$gen" ] && [ ! -f "$gen" ]; then
		echo "bench: no capture: set TAPIR_BENCH_PCAP, or make one with ../shared/bench/gen-capture.sh" >&2
		exit 1
	fi
	echo "bench: making a $size capture of real API traffic with $gen ..." >&2
	bash "$gen" "$(pwd)/$cap" "$size" >build/bench/gen.log 2>&1 || { tail -n 5 build/bench/gen.log; exit 1; }
fi
cc -O2 -o build/bench/pcap-null test/bench/pcap-null.c -lpcap || exit 1
bytes=$(stat -c %s "$cap")
cat "$cap" >/dev/null # page cache: every reader starts warm

# best of three wall-clock runs, and the peak RSS of the last (GNU time's %M, KiB)
run() {
	best=
	for _ in 1 2 3; do
		t0=$(date +%s.%N)
		/usr/bin/time -f %M -o build/bench/rss "$@" >/dev/null 2>&1
		t1=$(date +%s.%N)
		t=$(echo "$t1 - $t0" | bc -l)
		if [ -z "$best" ] || [ "$(echo "$t < $best" | bc -l)" = 1 ]; then best=$t; fi
	done
	echo "$best $(cat build/bench/rss)"
}
command -v bc >/dev/null && [ -x /usr/bin/time ] || { echo "bench: needs bc and GNU time (apt-get install -y bc time)" >&2; exit 1; }
set -- $(run build/bench/pcap-null "$cap"); null_s=$1
set -- $(run build/tapir -r "$cap" --events /dev/null --alerts /dev/null); tapir_s=$1; tapir_rss=$2
events=$(build/tapir -r "$cap" --events - --alerts /dev/null 2>/dev/null | wc -l)
mbps() { echo "scale=1; $bytes / $1 / 1000000" | bc -l; }
echo "capture: $cap ($bytes bytes, $events events)"
printf 'libpcap null loop   %8.3f s  %8s MB/s\n' "$null_s" "$(mbps "$null_s")"
printf 'tapir (events on)   %8.3f s  %8s MB/s  %s events/s  peak RSS %s MiB\n' "$tapir_s" "$(mbps "$tapir_s")" \
	"$(echo "$events / $tapir_s" | bc)" "$((tapir_rss / 1024))"
echo "tapir / null loop   $(echo "scale=3; $null_s / $tapir_s" | bc -l) of the null loop's throughput"
if command -v tshark >/dev/null; then
	set -- $(run tshark -n -r "$cap" -Y 'http.request || http2.headers.method' -T fields \
		-e http.request.method -e http.host -e http.request.uri -e http2.headers.method \
		-e http2.headers.authority -e http2.headers.path); tshark_s=$1
	printf 'tshark (same fields) %7.3f s  %8s MB/s\n' "$tshark_s" "$(mbps "$tshark_s")"
	echo "tapir / tshark      $(echo "scale=1; $tshark_s / $tapir_s" | bc -l)x faster"
else
	echo "tshark: not installed (apt-get install -y tshark) - ratio skipped"
fi
for b in test/bench/engine-bench.c test/bench/audit-bench.c; do
	[ -f "$b" ] || continue
	echo "== $b"
	sh test/bench/run-one.sh "$b" || echo "bench: $b failed"
done
