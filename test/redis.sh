#!/bin/sh
# redis.sh - alerts to Redis through real redis-server processes this test
# starts on free ports. One line per check: "ok redis:NAME", "not ok
# redis:NAME: why" or "skip redis:NAME: why".
#   - delivery: a subscriber started first and the stream both get every alert
#     of a replay, byte-identical to --alerts (as an ACL user, database 3);
#     the heartbeat hash, the events stream and signed audit heads arrive too;
#   - auth: a wrong password at start-up is one line on stderr and exit 2;
#   - outage: Redis stopped (SIGSTOP), then killed and restarted on the same
#     port while a paced replay raises alerts: the stream ends up holding every
#     alert, in order, duplicates only as retries with the same id;
#   - password rotated during a run: alerts spool, and arrive once it is back;
#   - crash: tapir killed with SIGKILL while spooling; the next start delivers
#     the spool;
#   - no output anywhere carries the password.
cd "$(dirname "$0")/.." || exit 2
tapir=${TAPIR:-build/tapir-san}
T=${REDIS_TEST_NAME:-redis} # run.sh runs it again as redis-tsan with the ThreadSanitizer build
if ! command -v redis-server >/dev/null 2>&1; then
	echo "skip $T: redis-server is not installed (apt-get install redis-server)"
	exit 0
fi
tmp=$(mktemp -d)
rpid="" tpid="" ppid_pace=""
cleanup() {
	for p in $tpid $ppid_pace $rpid; do kill -9 "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
cap=pcaps/demo.pcap
pw=Rz9-q7uZ-secret
resp() { python3 test/resp.py "$@"; }

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_redis PORT DIR: redis-server with an append-only file synced per write,
# so what it confirmed survives a kill -9.
start_redis() {
	mkdir -p "$2"
	redis-server --port "$1" --bind 127.0.0.1 --save '' --appendonly yes \
		--appendfsync always --dir "$2" --requirepass "$pw" --daemonize no \
		>"$2/log" 2>&1 &
	rpid=$!
	i=0
	while [ $i -lt 100 ]; do
		resp "$1" "$pw" PING >/dev/null 2>&1 && return 0
		sleep 0.05
		i=$((i + 1))
	done
	echo "not ok $T:start: redis-server did not come up: $(tail -n 3 "$2/log")"
	return 1
}

stop_redis() {
	kill -9 "$rpid" 2>/dev/null
	wait "$rpid" 2>/dev/null
	rpid=""
}

# config NAME [EXTRA YAML under output.redis]: the demo configuration with Redis settings.
config() {
	{
		cat config/demo.yaml
		printf 'output:\n  redis:\n    connect_timeout: 300ms\n    command_timeout: 300ms\n'
		printf '    reconnect_max: 400ms\n    heartbeat: 1s\n    drain_timeout: 10s\n'
		[ -n "${2:-}" ] && printf '%s\n' "$2"
	} >"$tmp/$1.yaml"
}

# first_ids FILE: the id of each line, duplicates removed (first kept)
ids() { sed -n 's/.*"id":"\([0-9a-f]*\)".*/\1/p' "$1"; }
dedup() { awk '!seen[$0]++' "$1"; }

# ---- delivery, ACL user, database, heartbeat, events, audit heads ----------
port=$(free_port)
start_redis "$port" "$tmp/r1" || exit 0
resp "$port" "$pw" ACL SETUSER tapir on '>u-pw-1' '~tapir:*' '&tapir:*' +publish +xadd +hset \
	+ping +select +auth >/dev/null
config normal "    events_stream: tapir:events"
"$tapir" audit keygen "$tmp/key" >/dev/null 2>&1
python3 test/resp.py "$port" "$pw" subscribe tapir:alerts 1000 8 \
	>"$tmp/sub.txt" 2>"$tmp/sub.err" &
spid=$!
i=0
while ! grep -q subscribed "$tmp/sub.err" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
"$tapir" -r "$cap" -c "$tmp/normal.yaml" --redis "redis://tapir:u-pw-1@127.0.0.1:$port/3" \
	--spool "$tmp/spool1" --alerts "$tmp/a1.jsonl" --events "$tmp/e1.jsonl" \
	--audit "$tmp/audit" --audit-key "$tmp/key" --stats >"$tmp/out1" 2>"$tmp/err1"
rc=$?
kill "$spid" 2>/dev/null
wait "$spid" 2>/dev/null
cp "$tmp/a1.jsonl" "$tmp/a1.want"
n_alerts=$(wc -l <"$tmp/a1.jsonl")
xr() { RESP_DB=$1 python3 test/resp.py "$port" "$pw" xrange "$2"; }
xr 3 tapir:alerts:stream >"$tmp/s1.txt"
if [ "$rc" -ne 0 ]; then
	echo "not ok $T:delivery: tapir exited $rc: $(head -c 300 "$tmp/err1")"
elif [ "$n_alerts" -lt 5 ]; then
	echo "not ok $T:delivery: only $n_alerts alerts in the replay (the demo raises 10)"
elif ! cmp -s "$tmp/a1.want" "$tmp/s1.txt"; then
	echo "not ok $T:delivery-stream: the stream (db 3) differs from --alerts ($(wc -l <"$tmp/s1.txt") of $n_alerts)"
else
	echo "ok $T:delivery-stream: $n_alerts alerts, byte-identical, in order (ACL user, db 3)"
fi
if cmp -s "$tmp/a1.want" "$tmp/sub.txt"; then
	echo "ok $T:delivery-publish: the subscriber got all $n_alerts, byte-identical"
else
	echo "not ok $T:delivery-publish: the subscriber got $(wc -l <"$tmp/sub.txt") of $n_alerts, or other bytes"
fi
n_events=$(wc -l <"$tmp/e1.jsonl")
xr 3 tapir:events >"$tmp/ev.txt"
if cmp -s "$tmp/e1.jsonl" "$tmp/ev.txt"; then
	echo "ok $T:events-stream: $n_events events, identical to --events"
else
	echo "not ok $T:events-stream: $(wc -l <"$tmp/ev.txt") events in Redis, $n_events in --events"
fi
xr 3 tapir:audit:heads >"$tmp/heads.txt"
last_head=$("$tapir" audit head "$tmp/audit" 2>/dev/null | tail -n 1)
root=$(echo "$last_head" | grep -o '"root_hash":"[0-9a-f]*"')
if [ -n "$root" ] && grep -q '"signed":true' "$tmp/heads.txt" && tail -n 1 "$tmp/heads.txt" | grep -qF "$root"; then
	echo "ok $T:audit-heads: $(wc -l <"$tmp/heads.txt") signed heads, the last one the log's"
else
	echo "not ok $T:audit-heads: $(head -c 200 "$tmp/heads.txt") / $last_head"
fi
RESP_DB=3 python3 test/resp.py "$port" "$pw" hgetall tapir:sensor:demo >"$tmp/hb.txt"
packets=$(sed -n 's/.*"packets":\([0-9]*\).*/\1/p' "$tmp/err1" | head -n 1)
if grep -qx "packets $packets" "$tmp/hb.txt" && grep -qx "alerts $n_alerts" "$tmp/hb.txt" &&
	grep -qx "events $n_events" "$tmp/hb.txt" && grep -qx "state stopped" "$tmp/hb.txt" &&
	grep -q "^heartbeat 20" "$tmp/hb.txt" && grep -qx "spool_depth 0" "$tmp/hb.txt"; then
	echo "ok $T:heartbeat: tapir:sensor:demo has packets, events, alerts, spool depth, state"
else
	echo "not ok $T:heartbeat: $(tr '\n' ' ' <"$tmp/hb.txt") (packets $packets)"
fi

# ---- a wrong password at start-up -------------------------------------------
config plain
"$tapir" -r "$cap" -c "$tmp/plain.yaml" --redis "redis://:not-the-password@127.0.0.1:$port" \
	>"$tmp/out2" 2>"$tmp/err2"
rc=$?
if [ "$rc" -eq 2 ] && [ "$(wc -l <"$tmp/err2")" -eq 1 ] && grep -q "refused" "$tmp/err2" &&
	! grep -q "not-the-password" "$tmp/err2"; then
	echo "ok $T:wrong-password: exit 2, one line: $(cat "$tmp/err2")"
else
	echo "not ok $T:wrong-password: exit $rc: $(head -c 300 "$tmp/err2")"
fi
stop_redis

# ---- outage: SIGSTOP, then kill -9 and a restart on the same port ------------
port=$(free_port)
start_redis "$port" "$tmp/r3" || exit 0
# With three sensor threads: alerts leave from the pipeline's merge thread.
python3 test/pcap-pace.py "$cap" 8 | "$tapir" -r - -c "$tmp/plain.yaml" --workers 3 \
	--redis "redis://:$pw@127.0.0.1:$port" --spool "$tmp/spool3" --alerts "$tmp/a3.jsonl" \
	--stats >"$tmp/out3" 2>"$tmp/err3" &
tpid=$!
sleep 2.2
kill -STOP "$rpid"
sleep 2
kill -9 "$rpid"
wait "$rpid" 2>/dev/null
start_redis "$port" "$tmp/r3" || exit 0
wait "$tpid"
rc=$?
tpid=""
resp "$port" "$pw" xrange tapir:alerts:stream >"$tmp/s3.txt"
spooled=$(sed -n 's/.*"spooled":\([0-9]*\).*/\1/p' "$tmp/err3")
dups=$(($(wc -l <"$tmp/s3.txt") - $(dedup "$tmp/s3.txt" | wc -l)))
ids "$tmp/s3.txt" | awk '!seen[$0]++' >"$tmp/s3.ids"
ids "$tmp/a3.jsonl" >"$tmp/a3.ids"
# A duplicate must be the same bytes as the first copy (a retry), never a different alert with an old id.
conflicts=$(python3 -c '
import sys, re
seen = {}
bad = 0
for line in open(sys.argv[1], "rb"):
    m = re.search(rb"\"id\":\"([0-9a-f]+)\"", line)
    if m and seen.setdefault(m.group(1), line) != line:
        bad += 1
print(bad)' "$tmp/s3.txt")
if [ "$rc" -ne 0 ]; then
	echo "not ok $T:outage: tapir exited $rc: $(head -c 300 "$tmp/err3")"
elif [ "${spooled:-0}" -lt 1 ]; then
	echo "not ok $T:outage: nothing was spooled, so the outage missed the alerts (timing?): $(grep -o '"redis":{[^}]*}' "$tmp/err3")"
elif ! cmp -s "$tmp/a3.ids" "$tmp/s3.ids" || [ "$conflicts" -ne 0 ]; then
	echo "not ok $T:outage: stream ids (first copies) differ from --alerts: $(wc -l <"$tmp/s3.ids") vs $(wc -l <"$tmp/a3.ids"), $conflicts conflicting"
elif ! dedup "$tmp/s3.txt" | cmp -s - "$tmp/a3.jsonl"; then
	echo "not ok $T:outage: alert bytes in the stream differ from --alerts"
else
	echo "ok $T:outage: all $(wc -l <"$tmp/a3.ids") alerts in order after stop+kill+restart ($spooled spooled, $dups retried duplicates; 3 workers)"
fi

# ---- the password changes during a run: spool, retry, deliver ----------------
python3 test/pcap-pace.py "$cap" 6 | "$tapir" -r - -c "$tmp/plain.yaml" \
	--redis "redis://:$pw@127.0.0.1:$port/4" --spool "$tmp/spool4" --alerts "$tmp/a4.jsonl" \
	--stats >"$tmp/out4" 2>"$tmp/err4" &
tpid=$!
sleep 1.5
resp "$port" "$pw" CONFIG SET requirepass other-pw >/dev/null
resp "$port" other-pw CLIENT KILL TYPE normal >/dev/null
sleep 2
resp "$port" other-pw CONFIG SET requirepass "$pw" >/dev/null
wait "$tpid"
rc=$?
tpid=""
xr 4 tapir:alerts:stream >"$tmp/s4.txt"
if [ "$rc" -eq 0 ] && [ -s "$tmp/a4.jsonl" ] && dedup "$tmp/s4.txt" | cmp -s - "$tmp/a4.jsonl" &&
	grep -q "WRONGPASS\|NOAUTH\|invalid password" "$tmp/err4"; then
	echo "ok $T:password-changed: refused logins spooled, all $(wc -l <"$tmp/a4.jsonl") alerts delivered in order once it was back"
else
	echo "not ok $T:password-changed: exit $rc, $(wc -l <"$tmp/s4.txt") in stream vs $(wc -l <"$tmp/a4.jsonl"): $(head -c 300 "$tmp/err4")"
fi
stop_redis

# ---- crash: SIGKILL while spooling, the next start delivers -----------------
port=$(free_port) # nothing listens there yet
mkfifo "$tmp/pipe5"
python3 test/pcap-pace.py "$cap" 0 60 >"$tmp/pipe5" &
ppid_pace=$!
"$tapir" -r - -c "$tmp/plain.yaml" --redis "redis://:$pw@127.0.0.1:$port" \
	--spool "$tmp/spool5" --alerts "$tmp/a5.jsonl" <"$tmp/pipe5" >"$tmp/out5" 2>"$tmp/err5" &
tpid=$!
# Wait for the alerts to stop coming (the input stays open: tapir is still running).
last=-1 same=0 i=0
while [ $i -lt 200 ] && [ $same -lt 15 ]; do
	n=$(cat "$tmp/a5.jsonl" 2>/dev/null | wc -l)
	if [ "$n" -eq "$last" ] && [ "$n" -gt 0 ]; then same=$((same + 1)); else same=0; fi
	last=$n
	sleep 0.1
	i=$((i + 1))
done
kill -9 "$tpid"
wait "$tpid" 2>/dev/null
tpid=""
kill -9 "$ppid_pace" 2>/dev/null
ppid_pace=""
n5=$(cat "$tmp/a5.jsonl" 2>/dev/null | wc -l)
start_redis "$port" "$tmp/r5" || exit 0
"$tapir" -r pcaps/http1-keepalive.pcap -c "$tmp/plain.yaml" --redis "redis://:$pw@127.0.0.1:$port" \
	--spool "$tmp/spool5" --alerts "$tmp/a5b.jsonl" >"$tmp/out5b" 2>"$tmp/err5b"
rc=$?
resp "$port" "$pw" xrange tapir:alerts:stream >"$tmp/s5.txt"
if [ "$n5" -lt 1 ]; then
	echo "not ok $T:crash: no alert was raised before the kill"
elif [ "$rc" -ne 0 ]; then
	echo "not ok $T:crash: the second start exited $rc: $(head -c 300 "$tmp/err5b")"
elif ! head -n "$n5" "$tmp/s5.txt" | cmp -s - "$tmp/a5.jsonl"; then
	echo "not ok $T:crash: the stream does not start with the $n5 alerts of the killed run ($(wc -l <"$tmp/s5.txt") entries)"
else
	echo "ok $T:crash: the $n5 alerts spooled by a SIGKILLed tapir were delivered, in order, by the next start"
fi
stop_redis

# ---- no sanitizer spoke ------------------------------------------------------
if grep -l -e "Sanitizer" -e "runtime error" "$tmp"/err* >/dev/null 2>&1; then
	echo "not ok $T:sanitizers: $(grep -h -m 3 "Sanitizer" "$tmp"/err* | head -n 3 | tr '\n' ' ')"
else
	echo "ok $T:sanitizers: no AddressSanitizer, UBSan or ThreadSanitizer report"
fi

# ---- nothing prints the passwords --------------------------------------------
if grep -l -e "$pw" -e "u-pw-1" -e "other-pw" "$tmp"/out* "$tmp"/err* "$tmp"/a*.jsonl "$tmp"/e1.jsonl \
	"$tmp"/spool*/* 2>/dev/null | grep -q .; then
	echo "not ok $T:no-secrets: a password appears in $(grep -l -e "$pw" -e u-pw-1 -e other-pw "$tmp"/out* "$tmp"/err* "$tmp"/spool*/* 2>/dev/null | head -n 3 | tr '\n' ' ')"
else
	echo "ok $T:no-secrets: no password in any output, error, alert or spool file"
fi
