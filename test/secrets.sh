#!/bin/sh
# secrets.sh - no raw secret in any output. Replays captures that carry known
# credentials (pcaps/http1-identity.pcap: secrets in test/identity.env; JWTs,
# Basic and bearer values found in the capture's bytes) and greps everything
# tapir writes: events, inventory, stats, stderr.
cd "$(dirname "$0")/.." || exit 2
tapir=${TAPIR:-build/tapir-san}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cap=pcaps/http1-identity.pcap
if [ ! -f "$cap" ]; then
	echo "not ok secrets: $cap is missing (sudo sh test/make-pcaps.sh)"
	exit 0
fi
"$tapir" -r "$cap" --events "$tmp/events" --inventory "$tmp/inventory" --stats >"$tmp/stdout" 2>"$tmp/stderr"
cat "$tmp/events" "$tmp/stdout" "$tmp/stderr" >"$tmp/all"
[ -f "$tmp/inventory" ] && cat "$tmp/inventory" >>"$tmp/all"
python3 - "$cap" "$tmp/all" test/identity.env <<'PY'
import base64, re, sys
cap = open(sys.argv[1], "rb").read()
out = open(sys.argv[2], "rb").read()
secrets = set()
for line in open(sys.argv[3]):
    line = line.strip()
    if line and not line.startswith("#") and "=" in line:
        secrets.add(line.split("=", 1)[1].encode())
# Every credential as it travelled: Bearer tokens, their signatures, Basic blobs.
for m in re.finditer(rb"Authorization: (Bearer|Basic) ([A-Za-z0-9._~+/=-]+)", cap):
    secrets.add(m.group(2))
    parts = m.group(2).split(b".")
    if len(parts) == 3 and len(parts[2]) >= 16:
        secrets.add(parts[2])
    if m.group(1) == b"Basic":
        secrets.add(base64.b64decode(m.group(2)).split(b":", 1)[1])
leaked = sorted(s.decode() for s in secrets if s in out)
events = out.count(b'"type":"api"')
def check(name, ok, why=""):
    print(("ok " if ok else "not ok ") + "secrets:" + name + ("" if ok else ": " + why))
check("capture-has-secrets", len(secrets) >= 8 and events >= 8,
      "%d secrets, %d events" % (len(secrets), events))
check("none-written", not leaked, "written: %s" % leaked)
PY
