#!/bin/sh
# cli.sh - the command line contract (INTERFACE.md): bad usage, bad input and
# bad configuration give one line on stderr naming what was wrong, exit 2.
cd "$(dirname "$0")/.." || exit 2
tapir=${TAPIR:-build/tapir-san}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cap=pcaps/http1-keepalive.pcap

# expect NAME STATUS PATTERN -- ARGS...: exit status and a stderr line matching PATTERN
expect() {
	name=$1 want=$2 pat=$3
	shift 4
	"$tapir" "$@" >"$tmp/out" 2>"$tmp/err"
	got=$?
	lines=$(wc -l <"$tmp/err")
	if [ "$got" -ne "$want" ]; then
		echo "not ok cli:$name: exit $got, wanted $want ($(head -c 200 "$tmp/err"))"
	elif [ -n "$pat" ] && ! grep -qE -- "$pat" "$tmp/err"; then
		echo "not ok cli:$name: stderr does not match /$pat/: $(head -c 200 "$tmp/err")"
	elif [ "$want" -eq 2 ] && [ "$lines" -ne 1 ]; then
		echo "not ok cli:$name: error is $lines lines, wanted one"
	else
		echo "ok cli:$name"
	fi
}

expect no-source 2 'exactly one of -r' -- 
expect both-sources 2 'exactly one of -r' -- -r "$cap" -i lo
expect missing-file 2 "nope.pcap: cannot open" -- -r "$tmp/nope.pcap"
printf 'not a capture at all, just text\n' >"$tmp/text.pcap"
expect not-pcap 2 "text.pcap: not a pcap or pcapng file" -- -r "$tmp/text.pcap"
python3 test/relink.py "$cap" "$tmp/wifi.pcap" dlt105
expect bad-linktype 2 "link type 105 .* is not supported" -- -r "$tmp/wifi.pcap"
expect bad-filter 2 '^tapir: -f: bad filter "tcp port banana"' -- -r "$cap" -f 'tcp port banana'
expect unknown-option 2 '^tapir: --frobnicate: unknown option' -- -r "$cap" --frobnicate
expect extra-arg 2 'unexpected argument "extra"' -- -r "$cap" extra
expect bad-snaplen 2 '^tapir: --snaplen: "9" is not a whole number' -- -r "$cap" --snaplen 9
expect bad-workers 2 '^tapir: --workers: "-1" is not a whole number from 0 to 64' -- -r "$cap" --workers -1
expect bad-workers-high 2 '^tapir: --workers: "65" is not a whole number' -- -r "$cap" --workers 65
printf 'sensor:\n  workers: 100\n' >"$tmp/workers.yaml"
expect bad-workers-key 2 'workers.yaml:2:12: sensor.workers: 100 is out of range \(0..64\)' -- -r "$cap" -c "$tmp/workers.yaml"
expect bad-buffer 2 '^tapir: --buffer: bad size "lots"' -- -r "$cap" --buffer lots
expect no-such-iface 2 '^tapir: -i tapir-nonexistent0' -- -i tapir-nonexistent0
expect missing-config 2 'nope.yaml: cannot read' -- -r "$cap" -c "$tmp/nope.yaml"
printf 'flows:\n  idle_timeout: 5 minutes\n' >"$tmp/bad.yaml"
expect bad-config 2 'bad.yaml:2:[0-9]+: flows.idle_timeout' -- -r "$cap" -c "$tmp/bad.yaml"
expect check-config-bad 2 'bad.yaml:2:[0-9]+: flows.idle_timeout' -- check-config "$tmp/bad.yaml"
expect check-config-example 0 '' -- check-config config/tapir.yaml
printf 'output:\n  redis: {url: "rediss://:pw@cache:6380"}\n' >"$tmp/tls.yaml"
expect check-config-redis-tls 2 'tls.yaml: output.redis.url: rediss:// \(TLS\)' -- check-config "$tmp/tls.yaml"
expect redis-bad-url 2 '^tapir: --redis: bad Redis URL: the port' -- -r "$cap" --redis redis://h:99999
expect spool-without-redis 2 '^tapir: --spool needs Redis' -- -r "$cap" --spool "$tmp/spool"
expect version 0 '' -- --version
expect filter-ok 0 '' -- -r "$cap" -f 'tcp port 8080' --events "$tmp/ev"

# A filter that matches nothing gives no events; one that matches gives all.
"$tapir" -r "$cap" -f 'udp' --events "$tmp/none"
if [ -f "$tmp/none" ] && [ ! -s "$tmp/none" ] && [ -s "$tmp/ev" ]; then
	echo "ok cli:filter-applies"
else
	echo "not ok cli:filter-applies: 'udp' filter should give no events, 'tcp port 8080' some"
fi

# --stats: one JSON object on stderr with the capture and decoder counters.
"$tapir" -r "$cap" --stats 2>"$tmp/stats" >/dev/null
if python3 -c '
import json,sys
s=json.load(open(sys.argv[1]))
assert s["type"]=="stats" and s["packets"]>0 and s["http"]["events"]==5, s
assert "kernel_dropped" in s["capture"] and "gaps" in s["tcp"]
assert s["http"]["memory"] == 0, s["http"]["memory"]
' "$tmp/stats" 2>"$tmp/err"; then
	echo "ok cli:stats-json"
else
	echo "not ok cli:stats-json: $(tail -n 1 "$tmp/err")"
fi

# --events - writes to stdout; events are valid JSON with the INTERFACE.md fields.
"$tapir" -r "$cap" --events - >"$tmp/stdout" 2>/dev/null
if python3 -c '
import json,sys
want=["type","ts","proto","client_ip","client_port","server_ip","server_port","method","host",
      "path","query_keys","route","status","req_bytes","resp_bytes","duration_ms","user_agent",
      "content_type","identity"]
n=0
for line in open(sys.argv[1]):
    e=json.loads(line)
    if e.get("type") == "alert":
        continue  # alerts share standard output when there is no Redis
    n+=1
    missing=[k for k in want if k not in e]
    assert not missing, missing
    assert e["identity"]=={"kind":"none","id":None}, e["identity"]
    assert "?" not in e["path"]
assert n==5, n
' "$tmp/stdout" 2>"$tmp/err"; then
	echo "ok cli:events-schema"
else
	echo "not ok cli:events-schema: $(tail -n 1 "$tmp/err")"
fi
