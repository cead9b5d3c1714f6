#!/bin/sh
# golden.sh - the repo's own captures (pcaps/*.pcap, real traffic made by
# test/make-pcaps.sh) against their checked-in expected events
# (pcaps/NAME.events.jsonl), and every capture again after rewriting its link
# layer (SLL, SLL2, raw IP, BSD null and loopback, pcapng): same events.
# UPDATE=1 rewrites the expected files; review the diff before committing.
cd "$(dirname "$0")/.." || exit 2
tapir=${TAPIR:-build/tapir-san}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for cap in pcaps/*.pcap; do
	name=$(basename "$cap" .pcap)
	expect=pcaps/$name.events.jsonl
	if ! "$tapir" -r "$cap" --events "$tmp/ev" >/dev/null 2>"$tmp/err"; then
		echo "not ok golden:$name: tapir failed: $(head -c 300 "$tmp/err")"
		continue
	fi
	if [ "${UPDATE:-}" = 1 ]; then
		cp "$tmp/ev" "$expect"
		echo "ok golden:$name (updated)"
	elif [ ! -f "$expect" ]; then
		echo "not ok golden:$name: no $expect (make it with UPDATE=1 and review it)"
	elif cmp -s "$expect" "$tmp/ev"; then
		echo "ok golden:$name ($(wc -l <"$expect") events)"
	else
		echo "not ok golden:$name: events differ from $expect"
		diff "$expect" "$tmp/ev" | head -n 10 | sed 's/^/    /'
	fi
	# An independent check: tshark's view of the same capture (made once with
	# ../shared/tools/make-oracle and checked in), as (method, host, path, status).
	oracle=pcaps/$name.oracle.jsonl
	if [ -f "$oracle" ]; then
		if python3 - "$oracle" "$tmp/ev" <<'PY'
import collections, json, sys
def keys(path, host):
    out = collections.Counter()
    for line in open(path):
        o = json.loads(line)
        h = o.get(host)
        out[(o["method"], h.lower() if h else None, o["path"], o["status"])] += 1
    return out
a, b = keys(sys.argv[1], "authority"), keys(sys.argv[2], "host")
if a != b:
    print("    only tshark: %s; only tapir: %s" % (dict(a - b), dict(b - a)))
    sys.exit(1)
PY
		then
			echo "ok tshark:$name"
		else
			echo "not ok tshark:$name: events disagree with tshark ($oracle)"
		fi
	fi
	for kind in sll sll2 raw null null-be loop pcapng; do
		python3 test/relink.py "$cap" "$tmp/relinked" "$kind" || { echo "not ok link:$name:$kind: relink failed"; continue; }
		"$tapir" -r "$tmp/relinked" --events "$tmp/ev2" >/dev/null 2>"$tmp/err"
		# Rewritten links carry no VLAN tag; compare without it.
		sed 's/,"vlan":[0-9]*//' "$tmp/ev" >"$tmp/a"
		if cmp -s "$tmp/a" "$tmp/ev2"; then
			echo "ok link:$name:$kind"
		else
			echo "not ok link:$name:$kind: events differ from the Ethernet capture's"
			diff "$tmp/a" "$tmp/ev2" | head -n 6 | sed 's/^/    /'
		fi
	done
done
