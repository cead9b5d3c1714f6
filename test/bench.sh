#!/bin/sh
# bench.sh - behind `make bench`: throughput measured side by side in one run.
#   tapir replaying a capture with events and alerts on, vs a libpcap loop that
#   only counts bytes (test/bench/pcap-null.c), vs tshark extracting the same
#   HTTP fields; as ratios, with events/s and peak RSS. Then a flow-churn run
#   (test/bench/churn-gen.c: a million short flows and a SYN flood) showing
#   tapir's memory held at its caps, and the module benchmarks (engine, audit).
#
# The capture: $TAPIR_BENCH_PCAP, or one made by ../shared/bench/gen-capture.sh
# (real nginx/nghttpx/wrk/h2load/curl traffic, needs root) of $TAPIR_BENCH_SIZE
# (default 2G: about a minute to make on the 2-core machine, 1-2 s per 75 MB).
# tshark is about 200 times slower than tapir, so it reads the first
# $TAPIR_BENCH_TSHARK_MB MB of the capture (default 100) and is compared by
# MB/s; 0 reads the whole file.
# Churn: $TAPIR_BENCH_CHURN_FLOWS flows and as many flood SYNs (default
# 1000000), replayed with --max-flows $TAPIR_BENCH_CHURN_CAP (default 65536).
cd "$(dirname "$0")/.." || exit 2
size=${TAPIR_BENCH_SIZE:-2G}
cap=${TAPIR_BENCH_PCAP:-build/bench/api-$size.pcap}
tshark_mb=${TAPIR_BENCH_TSHARK_MB:-100}
churn_flows=${TAPIR_BENCH_CHURN_FLOWS:-1000000}
churn_cap=${TAPIR_BENCH_CHURN_CAP:-65536}
mkdir -p build/bench
command -v bc >/dev/null && [ -x /usr/bin/time ] || { echo "bench: needs bc and GNU time (apt-get install -y bc time)" >&2; exit 1; }
if [ ! -f "$cap" ]; then
	gen=../shared/bench/gen-capture.sh
	if [ ! -f "$gen" ]; then
		echo "bench: no capture: set TAPIR_BENCH_PCAP, or make one with ../shared/bench/gen-capture.sh" >&2
		exit 1
	fi
	echo "bench: making a $size capture of real API traffic with $gen ..." >&2
	# network namespaces: one user at a time, as the live tests do
	(exec 9>/tmp/tapir-netns.lock; flock 9; bash "$gen" "$(pwd)/$cap" "$size") >build/bench/gen.log 2>&1 ||
		{ tail -n 5 build/bench/gen.log; exit 1; }
fi
cc -O2 -o build/bench/pcap-null test/bench/pcap-null.c -lpcap || exit 1
cc -O2 -o build/bench/churn-gen test/bench/churn-gen.c -lpcap || exit 1
bytes=$(stat -c %s "$cap")

# best of three runs: wall-clock seconds, the peak RSS of that run (GNU time's
# %M, KiB), and the least CPU seconds (user + system) of the three. On a shared
# machine the CPU time is the steadier measure: other jobs stretch the wall
# time, not the work done.
run() {
	best=
	cpu=
	for _ in 1 2 3; do
		t0=$(date +%s.%N)
		/usr/bin/time -f '%M %U %S' -o build/bench/rss "$@" >/dev/null 2>&1
		t1=$(date +%s.%N)
		t=$(echo "$t1 - $t0" | bc -l)
		c=$(awk '{print $2 + $3}' build/bench/rss)
		if [ -z "$best" ] || [ "$(echo "$t < $best" | bc -l)" = 1 ]; then
			best=$t
			rss=$(awk '{print $1}' build/bench/rss)
		fi
		if [ -z "$cpu" ] || [ "$(echo "$c < $cpu" | bc -l)" = 1 ]; then cpu=$c; fi
	done
	echo "$best $rss $cpu"
}
mbps() { echo "scale=1; $1 / $2 / 1000000" | bc -l; } # bytes seconds
ratio() { printf '%.4f' "$(echo "scale=6; $1 / $2" | bc -l)"; }
row() { # name seconds MB/s rss-KiB events/s ratio-to-null cpu-seconds cpu-ratio
	printf '%-32s %7.3f s %8s MB/s %8s %6s MiB %8s %7.2f s %8s\n' "$1" "$2" "$3" "$5" "$(($4 / 1024))" \
		"$6" "$7" "$8"
}

cat "$cap" >/dev/null # page cache: every reader starts warm
events=$(build/tapir -r "$cap" --events - --alerts /dev/null 2>/dev/null | wc -l)
echo "capture: $cap ($bytes bytes, $events events)"
echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)," \
	"$(free -g | awk '/^Mem:/ {print $2}') GiB, $(uname -sr)"
printf '%-32s %9s %13s %8s %10s %8s %9s %8s\n' "" wall throughput events/s "peak RSS" "vs null" \
	"CPU" "vs null"
set -- $(run build/bench/pcap-null "$cap"); null_s=$1; null_cpu=$3
null_mbps=$(mbps "$bytes" "$null_s")
row "libpcap null loop" "$null_s" "$null_mbps" "$2" "-" "1.0000" "$3" "1.0000"
set -- $(run build/tapir -r "$cap" --events /dev/null --alerts /dev/null); tapir_s=$1; tapir_cpu=$3
tapir_mbps=$(mbps "$bytes" "$tapir_s")
row "tapir, no threads (--workers 0)" "$tapir_s" "$tapir_mbps" "$2" "$(echo "$events / $tapir_s" | bc)" \
	"$(ratio "$null_s" "$tapir_s")" "$3" "$(ratio "$null_cpu" "$3")"
if build/tapir --help 2>&1 | grep -q -- --workers; then
	# Issue #8's figure is --workers 1: capture thread, one worker, merge thread.
	for n in 1 2; do
		set -- $(run build/tapir -r "$cap" --workers $n --events /dev/null --alerts /dev/null); w_s=$1
		row "tapir --workers $n" "$w_s" "$(mbps "$bytes" "$w_s")" "$2" "$(echo "$events / $w_s" | bc)" \
			"$(ratio "$null_s" "$w_s")" "$3" "$(ratio "$null_cpu" "$3")"
	done
fi
if command -v tshark >/dev/null; then
	tcap=$cap
	if [ "$tshark_mb" -gt 0 ] && [ "$bytes" -gt $((tshark_mb * 1000000)) ]; then
		# the first packets up to about that many MB (editcap keeps whole packets)
		pkts=$(build/bench/pcap-null "$cap" | awk -v b="$bytes" -v w=$((tshark_mb * 1000000)) \
			'{printf "%d", $1 * w / b}')
		tcap=build/bench/tshark-slice.pcap
		editcap -F pcap -r "$cap" "$tcap" "1-$pkts" >/dev/null 2>&1 || tcap=$cap
	fi
	tbytes=$(stat -c %s "$tcap")
	set -- $(run tshark -n -r "$tcap" -Y 'http.request || http2.headers.method' -T fields \
		-e http.request.method -e http.host -e http.request.uri -e http2.headers.method \
		-e http2.headers.authority -e http2.headers.path); tshark_s=$1
	tshark_mbps=$(mbps "$tbytes" "$tshark_s")
	row "tshark, same fields" "$tshark_s" "$tshark_mbps" "$2" "-" \
		"$(ratio "$tshark_mbps" "$null_mbps")" "$3" "-"
	[ "$tcap" = "$cap" ] || echo "  (tshark read the first $tbytes bytes; compared by MB/s)"
	tshark_cpu=$3
	echo "tapir / tshark: $(echo "scale=1; $tapir_mbps / $tshark_mbps" | bc -l)x the throughput" \
		"(by CPU time: $(echo "scale=1; $bytes * $tshark_cpu / $tbytes / $tapir_cpu" | bc -l)x)"
else
	echo "tshark: not installed (apt-get install -y tshark) - ratio skipped"
fi
echo "target (issue #8): tapir >= 0.5 of the null loop, >= 100x tshark; load average now: $(cut -d' ' -f1-3 /proc/loadavg)"

# Flow churn: memory must stay at the caps however many flows go by.
churn=build/bench/churn-$churn_flows.pcap
[ -f "$churn" ] || build/bench/churn-gen "$churn" "$churn_flows" "$churn_flows" || exit 1
cat "$churn" >/dev/null
echo "== flow churn: $churn ($(stat -c %s "$churn") bytes: $churn_flows short HTTP flows + $churn_flows flood SYNs)"
for flows_max in "$churn_cap" default; do
	opt=
	[ "$flows_max" = default ] || opt="--max-flows $flows_max"
	t0=$(date +%s.%N)
	/usr/bin/time -f %M -o build/bench/rss build/tapir -r "$churn" $opt --events /dev/null \
		--alerts /dev/null --stats 2>build/bench/churn-stats >/dev/null
	t1=$(date +%s.%N)
	python3 - "$flows_max" "$(cat build/bench/rss)" "$(echo "$t1 - $t0" | bc -l)" build/bench/churn-stats <<'EOF'
import json, sys
cap, rss_kib, secs, path = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
line = [l for l in open(path) if l.startswith('{"type":"stats"')][-1]
s = json.loads(line)
f, mib = s["flows"], lambda b: b / 1048576
print(f"flows.max {cap:>7}: {secs:6.2f} s, {s['http']['events']} events; flows created {f['created']}, "
      f"evicted {f['evicted']}, peak held {f['peak']}; peak RSS {rss_kib / 1024:.0f} MiB "
      f"(reassembly peak {mib(s['tcp']['memory_peak']):.1f} MiB of 256, "
      f"engine {mib(s['engine']['memory']):.0f} MiB reserved, routes {mib(s['routes']['memory']):.1f} MiB)")
EOF
done

for b in test/bench/engine-bench.c test/bench/audit-bench.c; do
	[ -f "$b" ] || continue
	echo "== $b"
	sh test/bench/run-one.sh "$b" || echo "bench: $b failed"
done

# The merge/output thread's work alone on this capture's events (issue #8).
echo "== test/bench/output-bench.c"
sh test/bench/run-one.sh test/bench/output-bench.c "$cap" || echo "bench: output-bench failed"
