#!/bin/sh
# daemon.sh - tapir as a daemon: the sample daemon configuration, sensor.user
# (unknown user, not root, the drop itself checked in /proc), syslog through a
# private /dev/log, the replay progress line (on a pty and off it), then on the
# veth test network (test/netns.sh): capture after the drop, SIGUSR1 counters,
# SIGHUP reload as the unprivileged user, and a graceful SIGTERM that flushes a
# request whose connection is still open, saves --state and signs the audit head.
cd "$(dirname "$0")/.." || exit 2
tapir=${TAPIR:-build/tapir-san}
pcap=pcaps/demo.pcap
tmp=$(mktemp -d)
chmod 755 "$tmp" # the unprivileged user reads the configuration in it
ok() { echo "ok daemon:$1"; }
nok() { echo "not ok daemon:$1: $2"; }
check() { if [ "$2" = 0 ]; then ok "$1"; else nok "$1" "$3"; fi; }
cleanup() {
	[ -n "${tpid:-}" ] && kill "$tpid" 2>/dev/null
	[ -n "${netns_up:-}" ] && sh test/netns.sh down
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# ---- the sample configuration and the new keys ----
"$tapir" check-config config/tapir-daemon.yaml >"$tmp/o" 2>&1
check sample-config $? "$(cat "$tmp/o")"
printf 'sensor:\n  log: journal\n' >"$tmp/bad.yaml"
"$tapir" check-config "$tmp/bad.yaml" >"$tmp/o" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q 'bad.yaml:2:8: sensor.log: bad log destination "journal" (use stderr or syslog)' "$tmp/o"
check config-log-bad $? "rc $rc: $(cat "$tmp/o")"
printf 'sensor:\n  user: -x\n' >"$tmp/bad.yaml"
"$tapir" check-config "$tmp/bad.yaml" >"$tmp/o" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q 'bad.yaml:2:9: sensor.user: bad user name' "$tmp/o"
check config-user-bad $? "rc $rc: $(cat "$tmp/o")"

# ---- make install (DESTDIR, PREFIX, SYSCONFDIR) and the systemd unit ----
make -s install DESTDIR="$tmp/d" PREFIX=/opt/tp SYSCONFDIR=/etc/tp >"$tmp/o" 2>&1 &&
	[ -x "$tmp/d/opt/tp/bin/tapir" ] && [ -s "$tmp/d/etc/tp/tapir/tapir.yaml" ] &&
	grep -q '^ExecStart=/opt/tp/bin/tapir -c /etc/tp/tapir/tapir.yaml' \
		"$tmp/d/opt/tp/lib/systemd/system/tapir.service" &&
	cmp -s config/tapir-daemon.yaml "$tmp/d/etc/tp/tapir/tapir.yaml"
check make-install $? "$(tail -n 3 "$tmp/o"; find "$tmp/d" -type f)"
echo "sensor: {name: mine}" >"$tmp/d/etc/tp/tapir/tapir.yaml"
make -s install DESTDIR="$tmp/d" PREFIX=/opt/tp SYSCONFDIR=/etc/tp >"$tmp/o" 2>&1 &&
	grep -q mine "$tmp/d/etc/tp/tapir/tapir.yaml"
check make-install-keeps-config $? "an existing tapir.yaml was replaced"
if command -v systemd-analyze >/dev/null; then
	# Installed for real under $tmp, so that the unit's ExecStart exists.
	make -s install PREFIX="$tmp/p" SYSCONFDIR="$tmp/etc" >"$tmp/o" 2>&1 &&
		systemd-analyze verify "$tmp/p/lib/systemd/system/tapir.service" >"$tmp/o" 2>&1 &&
		[ ! -s "$tmp/o" ]
	check systemd-unit-verifies $? "$(head -c 400 "$tmp/o")"
else
	echo "skip daemon:systemd-unit-verifies: no systemd-analyze (package systemd)"
fi

# ---- sensor.user: unknown, uid 0, not root ----
printf 'sensor:\n  user: tapir-no-such-user\n' >"$tmp/nouser.yaml"
"$tapir" -r "$pcap" -c "$tmp/nouser.yaml" --events /dev/null --alerts /dev/null >"$tmp/o" 2>&1
rc=$?
[ $rc -eq 2 ] && [ "$(wc -l <"$tmp/o")" -eq 1 ] &&
	grep -q '^tapir: sensor.user: no such user "tapir-no-such-user"$' "$tmp/o"
check user-unknown $? "rc $rc: $(cat "$tmp/o")"
"$tapir" -r "$pcap" --user root --events /dev/null --alerts /dev/null >"$tmp/o" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q '^tapir: --user: user "root" has uid 0' "$tmp/o"
check user-uid0 $? "rc $rc: $(cat "$tmp/o")"
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
	# As tcpdump -Z: only root drops; another user keeps running, with a warning.
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$tapir" -r "$pcap" --user nobody \
		--events /dev/null --alerts /dev/null >"$tmp/o" 2>&1
	rc=$?
	[ $rc -eq 0 ] && grep -q '^tapir: warning: --user nobody: not running as root, staying uid 65534 (capabilities are given up once the capture is open)$' "$tmp/o"
	check user-not-root-warns $? "rc $rc: $(cat "$tmp/o")"
	# State written by rename in a directory the user cannot write: refused at start.
	mkdir "$tmp/rootonly" && chmod 755 "$tmp/rootonly"
	"$tapir" -r "$pcap" --user nobody --state "$tmp/rootonly/state" --events /dev/null \
		--alerts /dev/null >"$tmp/o" 2>&1
	rc=$?
	[ $rc -eq 2 ] && grep -q "^tapir: --state $tmp/rootonly/state: directory $tmp/rootonly is not writable by user nobody" "$tmp/o"
	check user-state-dir-checked $? "rc $rc: $(cat "$tmp/o")"
else
	echo "skip daemon:user-not-root-warns: needs root and setpriv"
	echo "skip daemon:user-state-dir-checked: needs root and setpriv"
fi

# ---- progress on a terminal only ----
if command -v script >/dev/null; then
	script -qec "$tapir -r $pcap --events /dev/null --alerts /dev/null" "$tmp/ts" >/dev/null 2>&1
	# The line, redrawn with \r and erased at the end with ESC [K.
	grep -aq "$(printf '\r')tapir: [0-9.]* MB of 1.9 MB  [0-9]*%" "$tmp/ts" &&
		grep -aq "$(printf '\r\033')\[K" "$tmp/ts"
	check progress-on-tty $? "no status line in: $(head -c 300 "$tmp/ts" | od -c | head -5)"
	script -qec "$tapir -r $pcap --no-progress --events /dev/null --alerts /dev/null" "$tmp/ts" >/dev/null 2>&1
	! grep -aq "MB of" "$tmp/ts"
	check progress-disabled $? "a status line with --no-progress"
else
	echo "skip daemon:progress-on-tty: no script(1) (util-linux)"
fi
"$tapir" -r "$pcap" --events /dev/null --alerts /dev/null 2>"$tmp/o"
[ ! -s "$tmp/o" ]
check progress-quiet-off-tty $? "stderr not empty: $(head -c 200 "$tmp/o" | od -c | head -3)"

# ---- syslog: a datagram listener on /dev/log in a private mount namespace ----
cat >"$tmp/syslog-ns.sh" <<'EOF'
# Runs in `unshare -m`: a private /dev (tmpfs) whose log socket we own.
out=$1; shift
mount -t tmpfs -o mode=755 tapir-dev /dev || exit 3
mknod -m 666 /dev/null c 1 3 && mknod -m 666 /dev/urandom c 1 9 || exit 3
python3 - "$out" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
import os; os.chmod("/dev/log", 0o666)
s.settimeout(20)
out = open(sys.argv[1], "w")
open(sys.argv[1] + ".ready", "w").close()
try:
    while True:
        m = s.recv(65536).decode(errors="replace")
        if m == "END":
            break
        out.write(m.replace("\n", " ") + "\n")
        out.flush()
except socket.timeout:
    pass
PY
for _ in $(seq 100); do [ -e "$out.ready" ] && break; sleep 0.1; done
"$@"
echo "$?" >"$out.rc"
python3 -c 'import socket; socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b"END", "/dev/log")'
wait
EOF
if [ "$(id -u)" -eq 0 ] && unshare -m true 2>/dev/null; then
	printf 'sensor:\n  log: syslog\n' >"$tmp/syslog.yaml"
	unshare -m sh "$tmp/syslog-ns.sh" "$tmp/log" "$tapir" -r "$pcap" -c "$tmp/syslog.yaml" --stats \
		--events /dev/null --alerts /dev/null --state "$tmp/none/state" 2>"$tmp/o"
	# <27> = daemon.err, <29> = daemon.notice; nothing left on the real stderr.
	grep -q '^<27>.* tapir\[[0-9]*\]: --state .*/none/state.tmp: cannot write' "$tmp/log" &&
		grep -q '^<29>.* tapir\[[0-9]*\]: {"type":"stats"' "$tmp/log" &&
		[ "$(cat "$tmp/log.rc")" = 1 ] && [ ! -s "$tmp/o" ]
	check syslog $? "log: $(cut -c1-120 "$tmp/log" 2>/dev/null | head -3), rc $(cat "$tmp/log.rc" 2>/dev/null), stderr: $(head -c 200 "$tmp/o")"
	unshare -m sh "$tmp/syslog-ns.sh" "$tmp/log2" setpriv --reuid=nobody --regid=nogroup \
		--clear-groups "$tapir" -r "$pcap" --syslog --user nobody --events /dev/null \
		--alerts /dev/null 2>"$tmp/o"
	grep -q '^<28>.* tapir\[[0-9]*\]: warning: --user nobody: not running as root' "$tmp/log2"
	check syslog-warning $? "log: $(cut -c1-120 "$tmp/log2" 2>/dev/null | head -3)"
else
	echo "skip daemon:syslog: needs root and unshare -m for a private /dev/log"
fi

# Capabilities are per thread: with --syslog, the thread feeding syslog starts
# before the main thread gives them up, so it must give up its own. Every
# thread of a non-root tapir started with capabilities is checked; `-r -` from
# a FIFO kept open holds the run while /proc is read.
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
	mkfifo "$tmp/caps.fifo"
	setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=+net_raw \
		--ambient-caps=+net_raw "$tapir" -r - --syslog --user nobody --events /dev/null \
		--alerts /dev/null <"$tmp/caps.fifo" 2>/dev/null &
	tpid=$!
	exec 8>"$tmp/caps.fifo"
	cat "$pcap" >&8
	i=0
	while [ $i -lt 100 ] && ! grep -Eq '^CapEff:\s+0+$' "/proc/$tpid/status" 2>/dev/null; do
		sleep 0.05
		i=$((i + 1))
	done
	sleep 0.2
	held= threads=0
	for t in /proc/$tpid/task/*; do
		threads=$((threads + 1))
		grep -Eq '^CapPrm:\s+0+$' "$t/status" && grep -Eq '^CapEff:\s+0+$' "$t/status" &&
			grep -Eq '^CapAmb:\s+0+$' "$t/status" ||
			held="$held $(cat "$t/comm"): $(grep -E '^Cap(Prm|Eff|Amb)' "$t/status" | tr '\n' ' ')"
	done
	exec 8>&-
	wait "$tpid"
	rc=$?
	tpid=
	[ -z "$held" ] && [ "$threads" -ge 2 ] && [ "$rc" -eq 0 ]
	check caps-given-up-every-thread $? "$threads threads, exit $rc;$held"
else
	echo "skip daemon:caps-given-up-every-thread: needs root and setpriv"
fi

# Events reach the --events file every 10 s of packet time while tapir runs,
# not only when 1 MiB of them has gathered or at exit (the demo's 882 events
# are about 0.6 MiB). `-r -` from a FIFO kept open: the input has not ended.
for w in 0 1; do
	mkfifo "$tmp/ev$w.fifo"
	"$tapir" -r - --workers $w --events "$tmp/ev$w" --alerts /dev/null <"$tmp/ev$w.fifo" \
		2>/dev/null &
	tpid=$!
	exec 8>"$tmp/ev$w.fifo"
	cat "$pcap" >&8
	i=0 n=0
	while [ $i -lt 100 ] && [ "$n" -lt 800 ]; do
		sleep 0.05
		n=$(cat "$tmp/ev$w" 2>/dev/null | wc -l)
		i=$((i + 1))
	done
	exec 8>&-
	wait "$tpid"
	tpid=
	[ "$n" -ge 800 ] && [ "$(wc -l <"$tmp/ev$w")" -eq "$(wc -l <pcaps/demo.events.jsonl)" ]
	check events-written-while-running-w$w $? "$n lines before the input ended, \
$(wc -l <"$tmp/ev$w") after"
done

# ---- live, on the veth test network ----
if ! sh test/netns.sh check 2>/dev/null; then
	echo "skip daemon:live: cannot create network namespaces here (needs root and ip netns)"
	exit 0
fi
exec 9>/tmp/tapir-netns.lock
flock 9
sh test/netns.sh up || { nok live "could not set up the namespaces"; exit 0; }
netns_up=1
SRV="ip netns exec tapir-srv" CLI="ip netns exec tapir-cli"
$SRV python3 test/pcap-server.py 8000 198.18.1.1 &
# A server that reads a request and never answers: its connection stays open.
$SRV python3 -c '
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("198.18.1.1", 8001)); s.listen(4)
c, _ = s.accept(); c.recv(4096); time.sleep(60)' &

out="$tmp/out"
mkdir "$out" "$out/audit" && chown nobody:nogroup "$out" "$out/audit"
"$tapir" audit keygen "$tmp/key" >/dev/null # 0600 root: read before the drop
printf 'sensor:\n  name: daemon-test\n  user: nobody\n' >"$tmp/tapir.yaml"
$CLI "$tapir" -i tapir-c0 -c "$tmp/tapir.yaml" --events "$out/ev" --alerts "$out/al" \
	--inventory "$out/inv" --state "$out/state" --audit "$out/audit" --audit-key "$tmp/key" \
	--stats 2>"$tmp/err" &
tpid=$!
wait_err() { for _ in $(seq 100); do grep -q "$1" "$tmp/err" && return 0; sleep 0.1; done; return 1; }
wait_err "capturing on tapir-c0"
for _ in $(seq 50); do $CLI curl -s -o /dev/null http://198.18.1.1:8000/ready && break; sleep 0.1; done

# The drop, as the kernel sees it: every uid and gid nobody's, no capability left.
st=/proc/$tpid/status
grep -q "running as user nobody (uid 65534, gid 65534)" "$tmp/err" &&
	grep -Eq '^Uid:\s+65534\s+65534\s+65534\s+65534$' "$st" &&
	grep -Eq '^Gid:\s+65534\s+65534\s+65534\s+65534$' "$st" &&
	grep -Eq '^Groups:\s*65534\s*$' "$st" &&
	grep -Eq '^CapPrm:\s+0+$' "$st" && grep -Eq '^CapEff:\s+0+$' "$st" &&
	grep -Eq '^NoNewPrivs:\s+1$' "$st"
check privdrop-proc $? "$(grep -E '^(Uid|Gid|Groups|CapPrm|CapEff|NoNewPrivs)' "$st" | tr '\n' ' ') $(tail -n 2 "$tmp/err")"

C="$CLI curl -s -o /dev/null -H Host:api.example.com"
n=0
for i in 1 2 3 4 5; do $C "http://198.18.1.1:8000/v1/users/$i" && n=$((n + 1)); done

# SIGUSR1: the counters so far on stderr, and tapir keeps running. No packet
# follows the signal: it must be acted on on a silent link too.
sleep 0.3
kill -USR1 "$tpid"
wait_err '^{"type":"stats"' && kill -0 "$tpid" 2>/dev/null &&
	python3 -c 'import json,sys; s=[json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")][0]; sys.exit(0 if s["capture"]["live"] and s["capture"]["received"] > 0 else 1)' "$tmp/err"
check sigusr1-stats $? "$(tail -n 2 "$tmp/err" | head -c 300)"
# (Written beside and renamed over by the unprivileged process: its owner says who.)
[ -e "$out/inv" ] && [ "$(stat -c %U "$out/inv")" = nobody ]
check sigusr1-inventory $? "no inventory written by the unprivileged process: $(grep -v "^{" "$tmp/err" | tail -n 3)"
$C http://198.18.1.1:8000/v1/users/6 && n=$((n + 1))

# SIGHUP: reloaded by the unprivileged process.
printf 'sensor:\n  name: daemon-test\n  user: nobody\nidentity:\n  trusted_proxies: [198.18.1.2]\n' >"$tmp/tapir.yaml"
kill -HUP "$tpid" # again with no packet after it
wait_err "reloaded"
check sighup-reload $? "$(tail -n 2 "$tmp/err")"
$C http://198.18.1.1:8000/v1/users/7 && n=$((n + 1))

# A request whose connection is still open when tapir is stopped.
$CLI python3 -c '
import socket, sys, time
s = socket.create_connection(("198.18.1.1", 8001))
s.sendall(b"GET /v1/open HTTP/1.1\r\nHost: api.example.com\r\n\r\n")
open(sys.argv[1], "w").close(); time.sleep(30)' "$tmp/sent" &
cpid=$!
for _ in $(seq 50); do [ -e "$tmp/sent" ] && break; sleep 0.1; done
$C http://198.18.1.1:8000/v1/users/8 && n=$((n + 1))
sleep 0.3
kill -TERM "$tpid"
wait "$tpid"
rc=$?
tpid=
kill "$cpid" 2>/dev/null
check sigterm-exit "$rc" "exited $rc: $(tail -n 3 "$tmp/err")"

# Everything captured after the drop came out; the open one flushed at the stop.
python3 - "$out/ev" "$n" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
ours = [e for e in ev if e.get("host") == "api.example.com"]
got = sorted(e["path"] for e in ours if e["path"].startswith("/v1/users/"))
want = ["/v1/users/%d" % i for i in range(1, int(sys.argv[2]) + 1)]
print(("ok" if got == want else "not ok") + " daemon:events-after-drop" +
      ("" if got == want else ": got %s" % got))
open_ = [e for e in ours if e["path"] == "/v1/open"]
print(("ok" if len(open_) == 1 else "not ok") + " daemon:sigterm-flushes-open-exchange" +
      ("" if len(open_) == 1 else ": %d events for /v1/open" % len(open_)))
PY
[ -s "$out/state" ] && [ ! -e "$out/state.tmp" ] && [ "$(stat -c %U "$out/state")" = nobody ]
check sigterm-state-saved $? "$(ls -la "$out")"
"$tapir" audit verify "$out/audit" --pubkey "$tmp/key.pub" >"$tmp/o" 2>&1
check sigterm-audit-verifies $? "$(cat "$tmp/o")"
records=$(cat "$out/ev" "$out/al" | wc -l)
"$tapir" audit head "$out/audit" >"$tmp/head" 2>&1
python3 -c 'import json,sys; h=json.load(open(sys.argv[1])); sys.exit(0 if h["signed"] and h["reason"] == "close" and h["tree_size"] == int(sys.argv[2]) else 1)' "$tmp/head" "$records"
check sigterm-audit-head-signed $? "$records records written, head: $(cat "$tmp/head")"

# Not root, started with capabilities (as systemd's AmbientCapabilities= with
# User=): no switch, but nothing is left once the capture is open.
$CLI setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=+net_raw,+net_admin \
	--ambient-caps=+net_raw,+net_admin "$tapir" -i tapir-c0 --user nobody --events "$out/ev2" \
	--alerts /dev/null 2>"$tmp/err" &
tpid=$!
wait_err "capturing on tapir-c0"
st=/proc/$tpid/status
grep -q "warning: --user nobody: not running as root" "$tmp/err" &&
	grep -Eq '^Uid:\s+65534\s+65534\s+65534\s+65534$' "$st" &&
	grep -Eq '^CapPrm:\s+0+$' "$st" && grep -Eq '^CapEff:\s+0+$' "$st" &&
	grep -Eq '^CapAmb:\s+0+$' "$st" && grep -Eq '^CapInh:\s+0+$' "$st"
check caps-given-up-when-not-root $? "$(grep -E '^(Uid|Cap)' "$st" | tr '\n' ' ') $(tail -n 2 "$tmp/err")"
$C http://198.18.1.1:8000/v1/users/99
sleep 0.3
kill -TERM "$tpid"
wait "$tpid"
rc=$?
tpid=
[ "$rc" -eq 0 ] && grep -q '"path":"/v1/users/99"' "$out/ev2"
check caps-given-up-still-captures $? "exit $rc, $(wc -l <"$out/ev2") events: $(tail -n 2 "$tmp/err")"
