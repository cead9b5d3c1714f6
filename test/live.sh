#!/bin/sh
# live.sh - tapir on a real interface: a veth pair between two network
# namespaces this test creates, Python's http.server-based API on one side,
# curl on the other, `tapir -i` on the client's end of the veth. Every
# exchange must come out as an event; --stats must carry the kernel counters.
cd "$(dirname "$0")/.." || exit 2
tapir=${TAPIR:-build/tapir-san}
if ! sh test/netns.sh check 2>/dev/null; then
	echo "skip live: cannot create network namespaces here (needs root and ip netns)"
	exit 0
fi
# One test network per machine (fixed names): other checkouts running their
# tests at the same time wait here.
exec 9>/tmp/tapir-netns.lock
flock 9
tmp=$(mktemp -d)
SRV="ip netns exec tapir-srv" CLI="ip netns exec tapir-cli"
cleanup() {
	[ -n "${tpid:-}" ] && kill "$tpid" 2>/dev/null
	sh test/netns.sh down
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
sh test/netns.sh up || { echo "not ok live: could not set up the namespaces"; exit 0; }

$SRV python3 test/pcap-server.py 8000 198.18.1.1 &
printf 'sensor:\n  name: live-test\n' >"$tmp/tapir.yaml"
$CLI "$tapir" -i tapir-c0 -c "$tmp/tapir.yaml" --events "$tmp/ev" --inventory "$tmp/inv" --stats 2>"$tmp/err" &
tpid=$!
# Wait for the server to listen and tapir to be capturing.
for _ in $(seq 50); do
	grep -q "capturing on tapir-c0" "$tmp/err" 2>/dev/null &&
		$CLI curl -s -o /dev/null http://198.18.1.1:8000/ready 2>/dev/null && break
	sleep 0.1
done

C="$CLI curl -s -o /dev/null -H Host:api.example.com"
n=0
for i in 1 2 3 4 5 6 7 8 9 10; do
	$C "http://198.18.1.1:8000/v1/stream?i=$i" && n=$((n + 1))
done
$C -X DELETE http://198.18.1.1:8000/v1/users/7 && n=$((n + 1))
$C -X POST --data-binary 'hello' http://198.18.1.1:8000/v1/upload && n=$((n + 1))
$C http://198.18.1.1:8000/v1/nowhere && n=$((n + 1))

# Reload: trust the client as a proxy (SIGHUP), then a bad file (kept the old one).
wait_err() { for _ in $(seq 50); do grep -q "$1" "$tmp/err" && return 0; sleep 0.1; done; return 1; }
X="$C -H X-Forwarded-For:203.0.113.9"
$X http://198.18.1.1:8000/v1/users/1 && n=$((n + 1))
printf 'identity:\n  trusted_proxies: [198.18.1.2]\n' >"$tmp/tapir.yaml"
kill -HUP "$tpid"
$X http://198.18.1.1:8000/v1/users/2 && n=$((n + 1)) # the reload happens at this packet
wait_err "reloaded" && echo "ok live:reload" || echo "not ok live:reload: $(tail -n 2 "$tmp/err")"
$X http://198.18.1.1:8000/v1/users/3 && n=$((n + 1))
printf 'identity:\n  trusted_proxies: [198.18.1.300]\n' >"$tmp/tapir.yaml"
kill -HUP "$tpid"
$X http://198.18.1.1:8000/v1/users/4 && n=$((n + 1))
wait_err "reload failed, keeping the running configuration: .*tapir.yaml:2" &&
	echo "ok live:bad-reload-kept" || echo "not ok live:bad-reload-kept: $(tail -n 2 "$tmp/err")"
$X http://198.18.1.1:8000/v1/users/5 && n=$((n + 1))
kill -USR1 "$tpid"
$C http://198.18.1.1:8000/v1/users/6 && n=$((n + 1))
for _ in $(seq 50); do [ -s "$tmp/inv" ] && break; sleep 0.1; done
grep -q '"route":"/v1/stream"' "$tmp/inv" 2>/dev/null && echo "ok live:inventory-on-sigusr1" ||
	echo "not ok live:inventory-on-sigusr1: no inventory written"
sleep 0.5
kill -INT "$tpid"
wait "$tpid"
rc=$?
tpid=

if [ "$rc" -ne 0 ]; then
	echo "not ok live:exit: tapir -i exited $rc: $(head -c 300 "$tmp/err")"
	exit 0
fi
echo "ok live:exit"
python3 - "$tmp/ev" "$tmp/err" "$n" <<'PY'
import json, sys
events = [json.loads(l) for l in open(sys.argv[1])]
want = int(sys.argv[3])
ours = [e for e in events if e["host"] == "api.example.com"]
def check(name, ok, why=""):
    print(("ok " if ok else "not ok ") + "live:" + name + ("" if ok else ": " + why))
check("events", len(ours) == want, "%d events for %d exchanges" % (len(ours), want))
paths = sorted((e["method"], e["path"], e["status"]) for e in ours)
expect = sorted([("GET", "/v1/stream", 200)] * 10 + [("DELETE", "/v1/users/7", 204),
                ("POST", "/v1/upload", 201), ("GET", "/v1/nowhere", 404)] +
                [("GET", "/v1/users/%d" % i, 404) for i in range(1, 7)])
check("exchanges", paths == expect, "got %s" % paths)
check("bodies", all(e["resp_bytes"] == 2110 for e in ours if e["path"] == "/v1/stream")
      and any(e["req_bytes"] == 5 for e in ours if e["method"] == "POST"), "body counts wrong")
origin = {e["path"]: e.get("origin_ip") for e in ours if e["path"].startswith("/v1/users/")}
check("origin-after-reload", origin.get("/v1/users/1") is None and origin.get("/v1/users/3") == "203.0.113.9"
      and origin.get("/v1/users/5") == "203.0.113.9", origin)
stats = None
for line in open(sys.argv[2]):
    if line.startswith("{"):
        stats = json.loads(line)
check("stats", stats is not None and stats["capture"]["live"] is True
      and "kernel_dropped" in stats["capture"] and stats["capture"]["received"] > 0,
      "no live capture counters in --stats")
PY
