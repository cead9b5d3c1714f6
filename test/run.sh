#!/bin/sh
# run.sh - the whole suite behind `make check`: unit test programs (built with
# ASan+UBSan), then the scripted tests, which print one line per test:
# "ok NAME", "not ok NAME: why" or "skip NAME: why". Ends with the closing line
# "N passed, N failed, N skipped"; exit status 1 when anything failed.
cd "$(dirname "$0")/.." || exit 2
passed=0 failed=0 skipped=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

for t in build/san/test_*; do
	[ -x "$t" ] || continue
	"$t" >"$log" 2>&1
	rc=$?
	line=$(grep -E '^[a-z_0-9]+: [0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
	if [ -z "$line" ]; then
		cat "$log"
		echo "not ok $t: exited $rc without a result line"
		failed=$((failed + 1))
		continue
	fi
	p=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed.*/\1/')
	f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed$/\1/')
	[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
	[ "$f" -ne 0 ] && cat "$log"
	echo "$line"
	passed=$((passed + p))
	failed=$((failed + f))
done

for s in test/cli.sh test/golden.sh test/reader.sh test/identity.sh test/secrets.sh test/routes_corpus.sh test/audit.sh test/redis.sh test/redis-tsan.sh test/engine.sh test/sim.sh test/oracle.sh test/fuzz.sh test/live.sh test/daemon.sh test/workers.sh; do
	sh "$s" >"$log" 2>&1
	cat "$log"
	passed=$((passed + $(grep -c '^ok ' "$log")))
	failed=$((failed + $(grep -c '^not ok ' "$log")))
	skipped=$((skipped + $(grep -c '^skip ' "$log")))
done

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
