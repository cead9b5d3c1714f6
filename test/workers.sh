#!/bin/sh
# workers.sh - the multi-core pipeline (--workers N, sensor/pipeline.c):
#  1. replay: every repo capture and every capture of ../shared/pcaps/public
#     gives byte-identical --events with --workers 1 and 4 as inline
#     (--workers 0, no threads); demo.pcap with config/demo.yaml gives
#     identical alerts and audit log;
#     the sensors' counters summed over the workers equal one sensor's
#  2. fragments: captures rewritten into IP fragments (test/frag-pcap.py) give
#     the events of the originals, with 1 and with 4 workers
#  3. expiry order: a client-only capture (test/oneway-pcap.py) whose events all
#     come from connections timing out, with short and default timeouts; and
#     flows ended at the end of input at the newest packet time (late-pcap.py)
#  4. memory: 320 MiB replays with frames by reference (--workers 1 and 3;
#     frames padded to 2 KiB, and to 16 KiB: a ring's worth of them is more
#     than the reader's 64 MiB bound) keep their peak RSS within 112 MiB of
#     the inline run's: the mapped reader keeps only what the workers may
#     still read (pages released under a worker would stay resident for good:
#     the whole file); and the events and alerts are the inline run's
#  5. ThreadSanitizer: the ring's two-thread stress, test_pipeline (frames
#     copied and by reference) and a few replays under
#     build/tsan/tapir-tsan (slow threads shuffle the timing); any report, or
#     events and alerts other than one worker's, fails
#  6. live (with the ASan binary, then the TSan one): nginx (HTTP/1.1) and nghttpd (h2c) in one namespace, h2load clients
#     in the other at a sustained rate for ~10 s, `tapir -i --workers 3` on the
#     veth: every exchange the clients completed is an event; kernel drops are
#     in --stats
cd "$(dirname "$0")/.." || exit 2
tapir=build/tapir
tsan=build/tsan/tapir-tsan
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# same NAME ARGS...: events and alerts with 1 and 4 workers must be the bytes of
# the inline path (--workers 0: no threads).
same() {
	name=$1
	shift
	if ! "$tapir" "$@" --workers 0 --events "$tmp/e0" --alerts "$tmp/a0" 2>"$tmp/err0"; then
		echo "not ok workers:$name: tapir failed: $(head -c 300 "$tmp/err0")"
		return
	fi
	for n in 1 4; do
		if ! "$tapir" "$@" --workers $n --events "$tmp/e$n" --alerts "$tmp/a$n" 2>"$tmp/err$n"; then
			echo "not ok workers:$name: tapir --workers $n failed: $(head -c 300 "$tmp/err$n")"
			return
		fi
		if ! cmp -s "$tmp/e0" "$tmp/e$n" || ! cmp -s "$tmp/a0" "$tmp/a$n"; then
			echo "not ok workers:$name: --workers $n events or alerts differ from --workers 0:"
			diff "$tmp/e0" "$tmp/e$n" | head -n 6
			diff "$tmp/a0" "$tmp/a$n" | head -n 6
			return
		fi
	done
	echo "ok workers:$name ($(wc -l <"$tmp/e0") events, $(wc -l <"$tmp/a0") alerts, 0 = 1 = 4 workers)"
}

for cap in pcaps/*.pcap; do
	same "$(basename "$cap")" -r "$cap"
done
corpus=../shared/pcaps/public
if [ -d "$corpus" ]; then
	for cap in $(find "$corpus" -name '*.pcap' -o -name '*.pcapng' | sort); do
		same "public:${cap#$corpus/}" -r "$cap"
	done
else
	echo "skip workers:public: $corpus is not here (the shared corpus is optional)"
fi

# Alerts, audit log and counters of the demo: the same with 3 workers as inline.
for n in 0 3; do
	"$tapir" -r pcaps/demo.pcap -c config/demo.yaml --workers $n --alerts "$tmp/a$n" \
		--audit "$tmp/audit$n" --stats >/dev/null 2>"$tmp/s$n"
done
if [ -s "$tmp/a0" ] && cmp -s "$tmp/a0" "$tmp/a3"; then
	echo "ok workers:demo-alerts ($(wc -l <"$tmp/a0") alerts)"
else
	echo "not ok workers:demo-alerts: alerts differ with 3 workers"
fi
# The log files hold wall-clock times; the records (and their order) must match.
"$tapir" audit search "$tmp/audit0" >"$tmp/r0" 2>&1
"$tapir" audit search "$tmp/audit3" >"$tmp/r3" 2>&1
if [ -s "$tmp/r0" ] && cmp -s "$tmp/r0" "$tmp/r3" && "$tapir" audit verify "$tmp/audit3" >/dev/null 2>&1; then
	echo "ok workers:demo-audit ($(wc -l <"$tmp/r0") records)"
else
	echo "not ok workers:demo-audit: audit records differ with 3 workers, or the log does not verify"
fi
python3 - "$tmp/s0" "$tmp/s3" <<'PY'
import json, sys
one, three = (json.loads(open(p).read().strip().splitlines()[-1]) for p in sys.argv[1:3])
pipe = three.pop("pipeline", None)
def flat(d, pre=""):
    for k, v in d.items():
        if isinstance(v, dict):
            yield from flat(v, pre + k + ".")
        else:
            yield pre + k, v
a, b = dict(flat(one)), dict(flat(three))
# Peaks and memory gauges are sums over the workers: not one sensor's figure.
diff = [k for k in a if a[k] != b.get(k) and "peak" not in k]
ok = pipe and pipe["workers"] == 3 and not diff and \
    sum(w["events"] for w in pipe["per_worker"]) == one["http"]["events"]
print(("ok" if ok else "not ok") + " workers:demo-stats" + ("" if ok else ": %s %s" % (diff[:5], pipe)))
PY

# IP fragments: reassembled before dispatch, so a flow's fragments reach its worker.
for p in http1-keepalive h2-concurrent demo; do
	python3 test/frag-pcap.py "pcaps/$p.pcap" "$tmp/frag.pcap" || continue
	"$tapir" -r "pcaps/$p.pcap" --events "$tmp/orig" >/dev/null 2>&1
	"$tapir" -r "$tmp/frag.pcap" --workers 4 --events "$tmp/f4" --stats >/dev/null 2>"$tmp/fs"
	frags=$(tail -n 1 "$tmp/fs" | sed -nE 's/.*"ipfrag":\{"fragments":([0-9]+),"reassembled":([0-9]+).*/\2/p')
	if [ "${frags:-0}" -gt 0 ] && cmp -s "$tmp/orig" "$tmp/f4"; then
		echo "ok workers:fragments-$p ($frags datagrams reassembled)"
	else
		echo "not ok workers:fragments-$p: events from fragments differ (reassembled: ${frags:-?})"
	fi
	same "fragments-$p-0v1v4" -r "$tmp/frag.pcap"
done

# Flow expiry decides the order: requests left unanswered (test/oneway-pcap.py)
# come out when their connection times out, in another worker than the frame
# whose time ends it. Fails without the capture thread's ticks or the merge order.
python3 test/oneway-pcap.py pcaps/demo.pcap "$tmp/oneway.pcap"
printf 'flows:\n  idle_timeout: 1s\n  closed_timeout: 0s\n' >"$tmp/short.yaml"
same oneway-expiry -r "$tmp/oneway.pcap" -c "$tmp/short.yaml"
same oneway-shutdown -r "$tmp/oneway.pcap"
if [ "$(grep -c '"status":null' "$tmp/e0")" -lt 800 ]; then
	echo "not ok workers:oneway-check: the one-way capture should leave most requests unanswered"
fi

# End of input: flows end at the newest packet time, not at their worker's last
# frame (an h2 connection cut mid-stream, then a frame no worker gets).
python3 test/late-pcap.py pcaps/h2-concurrent.pcap "$tmp/late.pcap" 20
same late-finish -r "$tmp/late.pcap"
if ! grep -q '"duration_ms":3000\.' "$tmp/e0"; then
	echo "not ok workers:late-check: the cut capture should end with a response in progress"
fi

# Memory: the workers read frames by reference well after the reader handed
# them out (a ring of records, 2 KiB of file each here); the reader must keep
# those pages, and no more than its bound. Padded frames: file, not work.
# With 16 KiB frames a ring holds more than the bound: the reader waits.
if [ -x /usr/bin/time ]; then
	peak() { # N [ARGS]: peak RSS in KiB of a replay with N workers
		n=$1
		shift
		/usr/bin/time -f %M -o "$tmp/rss" "$tapir" -r "$tmp/big.pcap" -c config/demo.yaml \
			--workers "$n" --events "$tmp/be$n" --alerts "$tmp/ba$n" "$@" >/dev/null 2>&1 &&
			cat "$tmp/rss"
	}
	for pad in 2048 16384; do
		python3 test/big-pcap.py pcaps/demo.pcap "$tmp/big.pcap" 320 $pad
		base=$(peak 0)
		for n in 1 3; do
			rss=$(peak $n)
			name="workers:memory-$pad-$n"
			if [ -z "$base" ] || [ -z "$rss" ]; then
				echo "not ok $name: the replay failed"
			elif [ "$rss" -gt $((base + 112 * 1024)) ]; then
				echo "not ok $name: peak RSS $((rss / 1024)) MiB, inline $((base / 1024)) MiB: more of the file stayed resident than the reader may hold"
			elif ! cmp -s "$tmp/be0" "$tmp/be$n" || ! cmp -s "$tmp/ba0" "$tmp/ba$n"; then
				echo "not ok $name: events or alerts differ from --workers 0"
			else
				echo "ok $name (320 MiB file: peak RSS $((rss / 1024)) MiB, inline $((base / 1024)) MiB, $(wc -l <"$tmp/be0") events)"
			fi
		done
	done
	# A filter passes the first copy only: no frame reaches the pipeline after
	# it, and the reader must not go on holding the file from the last one.
	base=$(peak 0 -f 'net 10.1.0.0/16')
	rss=$(peak 2 -f 'net 10.1.0.0/16')
	if [ -n "$base" ] && [ -n "$rss" ] && [ "$rss" -le $((base + 112 * 1024)) ] &&
		[ -s "$tmp/be0" ] && cmp -s "$tmp/be0" "$tmp/be2"; then
		echo "ok workers:memory-filtered (peak RSS $((rss / 1024)) MiB, inline $((base / 1024)) MiB)"
	else
		echo "not ok workers:memory-filtered: peak RSS ${rss:-?} KiB, inline ${base:-?} KiB, or events differ"
	fi
	rm -f "$tmp/big.pcap"
else
	echo "skip workers:memory: no /usr/bin/time"
fi

# ThreadSanitizer.
if [ -x build/tsan/test_ring ] && [ -x "$tsan" ]; then
	if build/tsan/test_ring >"$tmp/tr" 2>&1 && ! grep -q ThreadSanitizer "$tmp/tr"; then
		echo "ok workers:tsan-ring"
	else
		echo "not ok workers:tsan-ring: $(grep -m 3 -E 'ThreadSanitizer|FAIL' "$tmp/tr")"
	fi
	# The pipeline in-process, frames copied and by reference (test_pipeline.c),
	# also on the fragmented demo: rebuilt datagrams are copied.
	if [ ! -x build/tsan/test_pipeline ]; then
		echo "not ok workers:tsan-pipeline: build/tsan/test_pipeline not built (make check builds it)"
	elif build/tsan/test_pipeline "$tmp/frag.pcap" >"$tmp/tp" 2>&1 &&
		grep -q 'test_pipeline: 4 passed, 0 failed' "$tmp/tp" && ! grep -q ThreadSanitizer "$tmp/tp"; then
		echo "ok workers:tsan-pipeline"
	else
		echo "not ok workers:tsan-pipeline: $(grep -m 3 -E 'ThreadSanitizer|FAIL|differ' "$tmp/tp")"
	fi
	# bigt.pcap: 24 MiB, so the reader releases pages and asks the pipeline's hold.
	python3 test/big-pcap.py pcaps/demo.pcap "$tmp/bigt.pcap" 24 2048
	for cap in pcaps/demo.pcap "$tmp/oneway.pcap" "$tmp/frag.pcap" pcaps/h2-concurrent.pcap \
		"$tmp/bigt.pcap"; do
		n=3
		[ "$cap" = pcaps/h2-concurrent.pcap ] && n=1
		TSAN_OPTIONS="halt_on_error=1 exitcode=66" "$tsan" -r "$cap" -c config/demo.yaml \
			--workers $n --events "$tmp/te" --alerts "$tmp/ta" --stats >/dev/null 2>"$tmp/terr"
		rc=$?
		"$tapir" -r "$cap" -c config/demo.yaml --events "$tmp/re" --alerts "$tmp/ra" >/dev/null 2>&1
		if [ $rc -eq 0 ] && ! grep -q "WARNING: ThreadSanitizer" "$tmp/terr" &&
			cmp -s "$tmp/te" "$tmp/re" && cmp -s "$tmp/ta" "$tmp/ra"; then
			echo "ok workers:tsan-$(basename "$cap")"
		else
			echo "not ok workers:tsan-$(basename "$cap"): exit $rc, or events/alerts differ from one worker's: $(grep -m 2 -A 3 ThreadSanitizer "$tmp/terr")"
		fi
	done
else
	echo "not ok workers:tsan: build/tsan/test_ring or $tsan not built (make check builds them)"
fi

sh test/workers-live.sh
# The same live run under ThreadSanitizer: signals, reload and shutdown.
[ -x "$tsan" ] && TAPIR=$tsan LIVE_NAME=workers-live-tsan sh test/workers-live.sh
