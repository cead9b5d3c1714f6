#!/bin/sh
# oracle.sh - every capture of the shared public corpus against its tshark
# oracle (../shared/pcaps/public, made by people who are not us), through
# ../shared/tools/oracle-diff. A capture where tapir knowingly differs from the
# oracle has test/oracle/<source>/<name>.diff: the exact oracle-diff output we
# expect, and <name>.why: the reason. No other exclusions.
# UPDATE=1 rewrites the .diff files of captures that differ (write the .why!).
cd "$(dirname "$0")/.." || exit 2
corpus=../shared/pcaps/public
tool=../shared/tools/oracle-diff
tapir=${TAPIR:-build/tapir-san}
if [ ! -d "$corpus" ] || [ ! -x "$tool" ]; then
	echo "skip oracle: $corpus is not here (the shared corpus is optional)"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
total=0 matched=0
for oracle in $(find "$corpus" -path "$corpus/tls-keylog" -prune -o -name '*.oracle.jsonl' -print | sort); do
	base=${oracle%.oracle.jsonl}
	cap=$base.pcap
	[ -f "$cap" ] || cap=$base.pcapng
	rel=${base#$corpus/}
	name=oracle:$rel
	if ! "$tapir" -r "$cap" --events "$tmp/ev" >/dev/null 2>"$tmp/err"; then
		echo "not ok $name: tapir failed: $(head -c 300 "$tmp/err")"
		continue
	fi
	python3 "$tool" "$oracle" "$tmp/ev" >"$tmp/diff" 2>&1
	rc=$?
	last=$(tail -n 1 "$tmp/diff")
	m=$(echo "$last" | sed -nE 's/^matched ([0-9]+) of ([0-9]+).*/\1/p')
	n=$(echo "$last" | sed -nE 's/^matched ([0-9]+) of ([0-9]+).*/\2/p')
	total=$((total + ${n:-0}))
	matched=$((matched + ${m:-0}))
	expect=test/oracle/$rel.diff
	if [ "$rc" -eq 0 ] && [ ! -f "$expect" ]; then
		echo "ok $name ($last)"
	elif [ -f "$expect" ] && cmp -s "$expect" "$tmp/diff"; then
		echo "ok $name (known difference, see test/oracle/$rel.why: $last)"
	elif [ "${UPDATE:-}" = 1 ]; then
		mkdir -p "$(dirname "$expect")"
		cp "$tmp/diff" "$expect"
		echo "ok $name (updated $expect)"
	else
		echo "not ok $name: $last"
		sed 's/^/    /' "$tmp/diff" | head -n 20
		[ -f "$expect" ] && { echo "    expected:"; sed 's/^/    /' "$expect" | head -n 10; }
	fi
done
echo "# oracle corpus: matched $matched of $total oracle exchanges"
