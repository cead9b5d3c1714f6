#!/bin/sh
# audit.sh - the audit log end to end through its command line (INTERFACE.md
# `tapir audit ...`): keys, verify against each kind of tampering (exit 1, one
# line naming the place), a writer killed with SIGKILL mid-append (torn tail,
# repair, verify), search against a brute-force scan for every filter, proofs,
# retention, and the exit codes of bad usage (2, one line).
#
# The CLI is build/tapir once `audit` is wired into main(); until then the
# unit test program doubles as it (build/san/test_audit audit ...). Logs are
# written by that program's writer mode (the API as the sensor calls it).
cd "$(dirname "$0")/.." || exit 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
driver=${AUDIT_DRIVER:-build/san/test_audit}
tapir=${TAPIR:-build/tapir}

if [ ! -x "$driver" ]; then
	echo "skip audit: $driver is not built (make check builds it)"
	exit 0
fi
if [ -x "$tapir" ] && "$tapir" audit keygen "$tmp/probe.key" >/dev/null 2>&1 && [ -f "$tmp/probe.key" ]; then
	cli="$tapir audit"
else
	echo "skip audit:tapir-wired: $tapir has no \`audit\` subcommand yet; the tests use $driver audit"
	cli="$driver audit"
fi
command -v python3 >/dev/null || { echo "skip audit: python3 is needed for the brute-force search check"; exit 0; }

# expect NAME STATUS PATTERN -- ARGS...: exit status, and for failures one stderr line matching PATTERN
expect() {
	name=$1 want=$2 pat=$3
	shift 4
	$cli "$@" >"$tmp/out" 2>"$tmp/err"
	got=$?
	lines=$(wc -l <"$tmp/err")
	if [ "$got" -ne "$want" ]; then
		echo "not ok audit:$name: exit $got, wanted $want ($(head -c 300 "$tmp/err"))"
	elif [ -n "$pat" ] && ! grep -qE -- "$pat" "$tmp/err" "$tmp/out"; then
		echo "not ok audit:$name: output does not match /$pat/: $(head -c 300 "$tmp/err")"
	elif [ "$want" -ne 0 ] && [ "$lines" -ne 1 ]; then
		echo "not ok audit:$name: error is $lines lines, wanted one"
	else
		echo "ok audit:$name"
	fi
}

check() { # NAME CONDITION-COMMAND... : ok when the command succeeds
	name=$1
	shift
	if "$@"; then echo "ok audit:$name"; else echo "not ok audit:$name"; fi
}

# flip DIR SEGMENT-NUMBER OFFSET: change one byte in place
flip() {
	f=$(printf '%s/seg-%012d.log' "$1" "$2")
	b=$(dd if="$f" bs=1 skip="$3" count=1 2>/dev/null | od -An -tu1 | tr -d ' ')
	printf "$(printf '\\%03o' $(( (b + 1) % 256 )))" | dd of="$f" bs=1 seek="$3" conv=notrunc 2>/dev/null
}

key=$tmp/k
log=$tmp/log

# ---- keys
expect keygen 0 '' -- keygen "$key"
check keygen-mode [ "$(stat -c %a "$key")" = 600 -a -f "$key.pub" ]
expect keygen-no-overwrite 2 'exists' -- keygen "$key"
cp "$key" "$tmp/loose"
chmod 644 "$tmp/loose"
"$driver" write "$tmp/tiny" 10 "$key" >/dev/null 2>&1
expect key-readable-by-others 2 'loose: private key is accessible by group or others' -- retain "$tmp/tiny" --keep 1 --key "$tmp/loose"
"$driver" audit keygen "$tmp/other" >/dev/null

# ---- a log of many segments, verified
"$driver" write "$log" 3000 "$key" 16384 >/dev/null || echo "not ok audit:write: the writer failed"
"$driver" write "$log" 2000 "$key" 16384 >/dev/null || echo "not ok audit:reopen: the writer failed"
expect verify 0 'ok: records 0\.\.4999' -- verify "$log" --pubkey "$key.pub"
expect verify-dir-key 0 'ok' -- verify "$log"
expect verify-other-key 1 'forged' -- verify "$log" --pubkey "$tmp/other.pub"
$cli head "$log" >"$tmp/head.json"
check head grep -q '"tree_size":5000' "$tmp/head.json"

# ---- tampering: each makes verify exit 1 and name the place
t() { rm -rf "$tmp/t" && cp -r "$log" "$tmp/t"; }
t; flip "$tmp/t" 5 2000
expect tamper-changed-byte 1 'seg-000000000005\.log record [0-9]+ \(offset [0-9]+\): (checksum mismatch|impossible length)' -- verify "$tmp/t" --pubkey "$key.pub"
t; rm "$tmp/t/seg-000000000007.log"
expect tamper-removed-segment 1 'seg-000000000007\.log: missing' -- verify "$tmp/t" --pubkey "$key.pub"
t; rm "$tmp/t/seg-000000000000.log"
expect tamper-removed-first-segment 1 'no signed retention record' -- verify "$tmp/t" --pubkey "$key.pub"
t; mv "$tmp/t/seg-000000000003.log" "$tmp/t/x"; mv "$tmp/t/seg-000000000004.log" "$tmp/t/seg-000000000003.log"; mv "$tmp/t/x" "$tmp/t/seg-000000000004.log"
expect tamper-swapped-segments 1 'seg-000000000003\.log: its header says it is segment 4: segments swapped' -- verify "$tmp/t" --pubkey "$key.pub"
t; last=$(ls "$tmp/t"/seg-*.log | tail -n 1); rm "$last"
expect tamper-removed-last-segment 1 'truncated' -- verify "$tmp/t" --pubkey "$key.pub"
t; printf 'X' | dd of="$tmp/t/heads.sth" bs=1 seek=$((128 * 3 + 30)) conv=notrunc 2>/dev/null
expect tamper-forged-head 1 'heads\.sth: the signed head #3 .*forged' -- verify "$tmp/t" --pubkey "$key.pub"
t; cp "$tmp/other.pub" "$tmp/t/audit.pub"
expect tamper-replaced-pubkey 1 'forged' -- verify "$tmp/t"
# The tail cut together with its heads: only a head held elsewhere tells.
t; last=$(ls "$tmp/t"/seg-*.log | tail -n 1); rm "$last" "${last%.log}.idx"
python3 - "$tmp/t" <<'EOF'
import struct, sys, glob, os
d = sys.argv[1]
segs = sorted(glob.glob(d + "/seg-*.log"))
# records in what is left: the next segment's first record number
hdr = open(sorted(glob.glob(d + "/seg-*.log"))[-1], "rb").read()
first = struct.unpack_from("<Q", hdr, 24)[0]
# count the records of the (new) last segment
b = hdr
off = struct.unpack_from("<H", b, 10)[0]
n = 0
while off + 8 <= len(b):
    ln = struct.unpack_from("<I", b, off + 4)[0]
    off += 8 + ln
    n += 1
size = first + n
h = open(d + "/heads.sth", "rb").read()
keep = 0
for i in range(0, len(h) // 128):
    if struct.unpack_from("<Q", h, i * 128 + 8)[0] <= size:
        keep = (i + 1) * 128
open(d + "/heads.sth", "wb").write(h[:keep])
EOF
expect tamper-truncated-with-heads-alone 0 'ok' -- verify "$tmp/t" --pubkey "$key.pub"
expect tamper-truncated-with-heads-sth 1 'truncated.*--sth' -- verify "$tmp/t" --pubkey "$key.pub" --sth "$tmp/head.json"
expect untouched-with-sth 0 'the head given with --sth checks' -- verify "$log" --pubkey "$key.pub" --sth "$tmp/head.json"

# ---- a writer killed with SIGKILL while appending: torn tail, repair, verify
crash=$tmp/crash
"$driver" write "$crash" 2000 "$key" >/dev/null
size0=$(stat -c %s "$crash/seg-000000000000.log")
"$driver" write "$crash" 0 "$key" 1073741824 100663296 900 >/dev/null 2>&1 &
pid=$!
i=0
while [ "$i" -lt 3000 ]; do
	s=$(stat -c %s "$crash/seg-000000000000.log" 2>/dev/null || echo 0)
	[ "$s" -gt $((size0 + 65536)) ] && break
	sleep 0.01
	i=$((i + 1))
done
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
expect crash-torn-tail 1 'torn tail: .* after record [0-9]+ .*tapir audit repair' -- verify "$crash" --pubkey "$key.pub"
expect crash-repair-needs-key 2 'give its private key' -- repair "$crash"
expect crash-repair 0 'cut a torn tail of [0-9]+ bytes' -- repair "$crash" --key "$key"
expect crash-verify-after-repair 0 'ok' -- verify "$crash" --pubkey "$key.pub"
$cli search "$crash" --type audit >"$tmp/repair.jsonl" 2>/dev/null
check crash-repair-recorded grep -q '"type":"audit_repair".*"torn_tail"' "$tmp/repair.jsonl"
$cli search "$crash" --type event,alert >"$tmp/crashall.jsonl" 2>/dev/null
check crash-earlier-records-intact [ "$(wc -l <"$tmp/crashall.jsonl")" -ge 2000 ]

# ---- search: identical to a brute-force scan of the JSON, for every filter
$cli search "$log" --no-index >"$tmp/all.jsonl"
check search-all [ "$(wc -l <"$tmp/all.jsonl")" -eq 5000 ]
cat >"$tmp/brute.py" <<'EOF'
import fnmatch, ipaddress, json, sys
from datetime import datetime, timezone
args = sys.argv[2:]
f = dict(zip(args[0::2], args[1::2]))
def t(s):
    d = datetime.strptime(s.replace("Z", "+0000"), "%Y-%m-%dT%H:%M:%S%z")
    return int(d.timestamp()) * 1000000
def glob(g, p):
    gs, ps = g.split("/"), p.split("/")
    def m(i, j):
        if i == len(gs):
            return j == len(ps)
        if gs[i] == "**":
            return any(m(i + 1, k) for k in range(j, len(ps) + 1))
        return j < len(ps) and fnmatch.fnmatchcase(ps[j], gs[i]) and m(i + 1, j + 1)
    return m(0, 0)
types = set((f.get("--type") or "event,alert").split(","))
for line in open(sys.argv[1]):
    r = json.loads(line)
    ty = "alert" if r["type"] == "alert" else "event"
    ident = (r.get("identity") or {}).get("id")
    if ty not in types: continue
    if "--identity" in f and ident != f["--identity"]: continue
    if "--ip" in f and ipaddress.ip_address(r["client_ip"]) not in ipaddress.ip_network(f["--ip"], strict=False): continue
    if "--path" in f and not glob(f["--path"], r["path"]): continue
    if "--detector" in f and r.get("detector") != f["--detector"]: continue
    if "--since" in f and r["ts_us"] < t(f["--since"]): continue
    if "--until" in f and r["ts_us"] >= t(f["--until"]): continue
    sys.stdout.write(line)
EOF
q() { # NAME FILTER-ARGS...
	name=$1
	shift
	$cli search "$log" "$@" >"$tmp/got" 2>"$tmp/err"
	rc=$?
	python3 "$tmp/brute.py" "$tmp/all.jsonl" "$@" >"$tmp/want"
	if [ "$rc" -ne 0 ]; then
		echo "not ok audit:search-$name: exit $rc ($(head -c 200 "$tmp/err"))"
	elif ! cmp -s "$tmp/got" "$tmp/want"; then
		echo "not ok audit:search-$name: $(wc -l <"$tmp/got") results, brute force $(wc -l <"$tmp/want")"
	else
		echo "ok audit:search-$name ($(wc -l <"$tmp/got") records)"
	fi
}
q identity --identity user7
q identity-absent --identity nobody
q ip --ip 10.1.2.3
q ip-cidr --ip 10.1.0.0/16
q ip-v6 --ip 2001:db8::/120
q path-literal --path /admin/export
q path-star --path '/v1/users/*'
q path-star-mid --path '/v1/users/*/orders'
q path-globstar --path '/admin/**'
q path-globstar-lead --path '/**/delete'
q detector --detector new_origin
q type-alert --type alert
q type-event --type event
q since --since 2026-11-28T21:06:43Z
q until --until 2026-11-28T21:06:41Z
q window --since 2026-11-28T21:06:41Z --until 2026-11-28T21:06:42Z
q combo --identity user3 --path '/v1/**' --type event
$cli search "$log" --identity user7 --table >"$tmp/table"
check search-table [ "$(wc -l <"$tmp/table")" -eq $(( $(python3 "$tmp/brute.py" "$tmp/all.jsonl" --identity user7 | wc -l) + 1 )) ]
$cli search "$log" --identity nobody --stats >/dev/null 2>"$tmp/stats"
check search-skips-segments python3 -c "
import json,sys; s=json.load(open('$tmp/stats')); sys.exit(0 if s['segments_skipped'] > 0 else 1)"

# ---- proofs
$cli prove "$log" --record 1234 >"$tmp/p.json"
expect prove-inclusion 0 'ok: record 1234 is in the tree of size 5000.*signed head checks' -- check-proof "$tmp/p.json" --pubkey "$key.pub"
python3 -c "
import json, sys
p = json.load(open(sys.argv[1]))
h = p['path'][0]
p['path'][0] = ('0' if h[0] != '0' else '1') + h[1:]
json.dump(p, open(sys.argv[2], 'w'))" "$tmp/p.json" "$tmp/bad.json"
expect prove-inclusion-tampered 1 'fails' -- check-proof "$tmp/bad.json" --pubkey "$key.pub"
$cli prove "$log" --from 1000 >"$tmp/c.json"
expect prove-consistency 0 'prefix' -- check-proof "$tmp/c.json" --pubkey "$key.pub"
expect prove-inclusion-stdin 0 'ok' -- check-proof - --pubkey "$key.pub" <"$tmp/p.json"

# ---- retention
cp -r "$log" "$tmp/ret"
expect retain-needs-policy 2 'give one of --before' -- retain "$tmp/ret" --key "$key"
expect retain-before 0 'removed [0-9]+ segments' -- retain "$tmp/ret" --before 2026-11-28T21:06:42Z --key "$key"
expect retain-verify 0 'removed by signed retention' -- verify "$tmp/ret" --pubkey "$key.pub"
$cli search "$tmp/ret" --type audit >"$tmp/ret.jsonl"
check retain-record grep -q '"type":"audit_retention".*"sha256"' "$tmp/ret.jsonl"
first=$(ls "$tmp/ret"/seg-*.log | head -n 1)
rm "$first"
expect retain-then-removed 1 'no signed retention record' -- verify "$tmp/ret" --pubkey "$key.pub"

# ---- bad usage: exit 2, one line naming what was wrong
expect usage-none 2 '' --
expect usage-unknown-subcommand 2 '"frob": unknown subcommand' -- frob
expect usage-verify-no-dir 2 'no directory' -- verify
expect usage-verify-missing-dir 2 'nope: cannot open' -- verify "$tmp/nope"
expect usage-unknown-option 2 '--frob: unknown option' -- verify "$log" --frob
expect usage-option-no-value 2 '--pubkey: needs a value' -- verify "$log" --pubkey
expect usage-extra-arg 2 'unexpected argument "extra"' -- verify "$log" extra
expect usage-bad-time 2 '--since: bad time "yesterday"' -- search "$log" --since yesterday
expect usage-bad-ip 2 '--ip: bad address "banana"' -- search "$log" --ip banana
expect usage-bad-type 2 '--type: "nonsense"' -- search "$log" --type nonsense
expect usage-prove-nothing 2 'give one of --record' -- prove "$log"
expect usage-prove-bad-number 2 '--record: "x" is not a whole number' -- prove "$log" --record x
expect usage-retain-keep-0 2 '--keep: at least 1' -- retain "$log" --keep 0 --key "$key"
expect usage-check-proof-missing 2 'cannot open' -- check-proof "$tmp/nope.json"
expect usage-search-not-a-log 2 'no audit log' -- search "$tmp"
