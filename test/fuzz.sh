#!/bin/sh
# fuzz.sh - part of `make check`: every fuzz harness, built with gcc under
# ASan+UBSan as a replay program (build/san/fuzz/replay_NAME), runs its
# committed corpus (test/fuzz/corpus/NAME) and its regressions (inputs that
# once crashed, test/fuzz/regressions/NAME). One ok/not ok line per harness.
cd "$(dirname "$0")/.." || exit 2
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for name in packet tcp http1 http2 identity config; do
	bin=build/san/fuzz/replay_$name
	if [ ! -x "$bin" ]; then
		echo "not ok fuzz_$name: $bin not built"
		continue
	fi
	dirs=""
	for d in test/fuzz/corpus/$name test/fuzz/regressions/$name; do
		[ -d "$d" ] && dirs="$dirs $d"
	done
	# shellcheck disable=SC2086 # the directory list is split on purpose
	"$bin" $dirs >"$log" 2>&1
	rc=$?
	n=$(sed -n 's/^\([0-9]*\) inputs$/\1/p' "$log")
	if [ "$rc" -eq 0 ] && [ "${n:-0}" -gt 0 ]; then
		echo "ok fuzz_$name: $n inputs replayed"
	else
		tail -n 30 "$log"
		echo "not ok fuzz_$name: exit $rc after ${n:-0} inputs"
	fi
done
