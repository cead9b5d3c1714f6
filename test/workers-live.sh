#!/bin/sh
# workers-live.sh - `tapir -i --workers 3` on the veth of test/netns.sh while
# real clients keep real servers busy for about 10 s: h2load over HTTP/1.1 to
# nginx and over h2c (prior knowledge) to nghttpd, one new connection every
# 0.1 s each, 20 requests per connection. Every request h2load completed must
# be an event; --stats must carry the kernel's drop counters and the
# pipeline's. A reload (SIGHUP) and an inventory (SIGUSR1) happen mid-run.
cd "$(dirname "$0")/.." || exit 2
tapir=${TAPIR:-build/tapir-san}
name=${LIVE_NAME:-workers-live} # test name prefix
if ! sh test/netns.sh check 2>/dev/null; then
	echo "skip $name: cannot create network namespaces here (needs root and ip netns)"
	exit 0
fi
for p in nginx nghttpd h2load; do
	command -v $p >/dev/null || [ -x /usr/sbin/$p ] || {
		echo "not ok $name: needs $p (test/ensure-deps.sh check installs nginx-light nghttp2-server nghttp2-client)"
		exit 0
	}
done
# One test network per machine (fixed names): other checkouts wait here.
exec 9>/tmp/tapir-netns.lock
flock 9
tmp=$(mktemp -d)
chmod 755 "$tmp"
SRV="ip netns exec tapir-srv" CLI="ip netns exec tapir-cli"
S=198.18.1.1
cleanup() {
	[ -n "${tpid:-}" ] && kill "$tpid" 2>/dev/null
	sh test/netns.sh down
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
sh test/netns.sh up || { echo "not ok $name: could not set up the namespaces"; exit 0; }

mkdir -p "$tmp/www/v1"
echo '{"items":[1,2,3]}' >"$tmp/www/v1/items"
chmod -R a+rX "$tmp/www"
cat >"$tmp/nginx.conf" <<NGX
worker_processes 1;
pid $tmp/nginx.pid;
error_log $tmp/nginx.err;
events { worker_connections 256; }
http {
	access_log off;
	default_type application/json;
	server { listen $S:8080; root $tmp/www; keepalive_requests 1000; }
}
NGX
# Servers get stdin from /dev/null: nghttpd spins on a closed one.
$SRV nginx -c "$tmp/nginx.conf" -g 'daemon off;' </dev/null >/dev/null 2>&1 &
$SRV nghttpd --no-tls -d "$tmp/www" 8081 </dev/null >/dev/null 2>&1 &
printf 'sensor:\n  name: live-workers\n  workers: 3\n' >"$tmp/tapir.yaml"
$CLI "$tapir" -i tapir-c0 -c "$tmp/tapir.yaml" --events "$tmp/ev" --inventory "$tmp/inv" --stats \
	2>"$tmp/err" &
tpid=$!
for _ in $(seq 50); do
	grep -q "capturing on tapir-c0" "$tmp/err" 2>/dev/null &&
		$CLI curl -s -o /dev/null "http://$S:8080/v1/items" 2>/dev/null &&
		$CLI curl -s -o /dev/null --http2-prior-knowledge "http://$S:8081/v1/items" 2>/dev/null && break
	sleep 0.1
done

H2LOAD="h2load -r 1 --rate-period 100ms -c 100 -n 2000"
$CLI $H2LOAD --h1 "http://$S:8080/v1/items" >"$tmp/h1" 2>&1 &
p1=$!
$CLI $H2LOAD "http://$S:8081/v1/items" >"$tmp/h2" 2>&1 &
p2=$!
# Before the reload the client is not a trusted proxy: its X-Forwarded-For is ignored.
X="$CLI curl -s -o /dev/null -H X-Forwarded-For:203.0.113.9"
$X "http://$S:8080/v1/items?before=1"
sleep 4
printf 'sensor:\n  name: live-workers\n  workers: 3\nidentity:\n  trusted_proxies: [198.18.1.2]\n' \
	>"$tmp/tapir.yaml"
kill -HUP "$tpid"
kill -USR1 "$tpid"
wait $p1 $p2
# Every worker took the new configuration: new connections land on all of them.
for _ in $(seq 50); do grep -q "reloaded" "$tmp/err" && break; sleep 0.1; done
for i in $(seq 12); do $X "http://$S:8080/v1/items?after=$i"; done
sleep 1
kill -INT "$tpid"
wait "$tpid"
rc=$?
tpid=
if [ "$rc" -ne 0 ]; then
	echo "not ok $name:exit: tapir -i --workers 3 exited $rc: $(head -c 300 "$tmp/err")"
	exit 0
fi
if grep -q "WARNING: ThreadSanitizer" "$tmp/err"; then
	echo "not ok $name:tsan: $(grep -m 1 -A 4 "WARNING: ThreadSanitizer" "$tmp/err")"
fi
echo "ok $name:exit"
grep -q "reloaded" "$tmp/err" && echo "ok $name:reload" ||
	echo "not ok $name:reload: $(tail -n 2 "$tmp/err")"
grep -q '"route":"/v1/items"' "$tmp/inv" 2>/dev/null && echo "ok $name:inventory" ||
	echo "not ok $name:inventory: no /v1/items in the inventory"
python3 - "$tmp/ev" "$tmp/err" "$tmp/h1" "$tmp/h2" "$name" <<'PY'
import json, re, sys
def done(path):
    m = re.search(r"requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded", open(path).read())
    return int(m.group(1)) if m else -1
h1, h2 = done(sys.argv[3]), done(sys.argv[4])
events = [json.loads(l) for l in open(sys.argv[1])]
stats = None
for line in open(sys.argv[2]):
    if line.startswith("{"):
        stats = json.loads(line)
def count(port, proto):
    return sum(1 for e in events if e["server_port"] == port and e["proto"] == proto
               and e["path"] == "/v1/items" and e["status"] == 200)
# The readiness probes made one exchange on each port, the X-Forwarded-For
# requests 13 more on 8080.
got1, got2 = count(8080, "HTTP/1.1") - 14, count(8081, "HTTP/2") - 1
drops = (stats or {}).get("capture", {}).get("kernel_dropped", -1)
ok = h1 > 0 and h2 > 0 and got1 == h1 and got2 == h2
line = sys.argv[5] + ":every-exchange (HTTP/1.1 %d of %d, h2c %d of %d, kernel drops %s)" % (
    got1, h1, got2, h2, drops)
if ok:
    print("ok " + line)
elif drops and drops > 0:
    print("skip " + line + ": the kernel dropped packets (machine too busy)")
else:
    print("not ok " + line)
xff = [e for e in events if "before" in e.get("query_keys", []) or "after" in e.get("query_keys", [])]
before = [e for e in xff if "before" in e["query_keys"]]
after = [e for e in xff if "after" in e["query_keys"]]
ok = len(before) == 1 and "origin_ip" not in before[0] and len(after) == 12 \
    and all(e.get("origin_ip") == "203.0.113.9" for e in after)
print(("ok" if ok else "not ok") + " " + sys.argv[5] + ":reload-reaches-every-worker" +
      ("" if ok else ": before %s, after %s" % ([e.get("origin_ip") for e in before],
                                                [e.get("origin_ip") for e in after])))
pipe = (stats or {}).get("pipeline")
ok = stats is not None and stats["capture"]["live"] is True and "kernel_dropped" in stats["capture"] \
    and pipe is not None and pipe["workers"] == 3 and len(pipe["per_worker"]) == 3 \
    and sum(w["events"] for w in pipe["per_worker"]) == stats["http"]["events"]
print(("ok" if ok else "not ok") + " " + sys.argv[5] + ":stats" + ("" if ok else ": %s" % (pipe,)))
PY
