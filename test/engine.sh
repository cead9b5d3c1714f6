#!/bin/sh
# engine.sh - the anomaly engine end to end on the demo capture (synthetic,
# with its truth in pcaps/demo.truth.jsonl): every insider caught, the same
# alerts byte for byte on every run, the same alerts when the capture is
# replayed in two halves with --state in between, and every alert in the
# audit log under the record number it carries.
cd "$(dirname "$0")/.." || exit 2
tapir=${TAPIR:-build/tapir-san}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cap=pcaps/demo.pcap cfg=config/demo.yaml

"$tapir" -r "$cap" -c "$cfg" --alerts "$tmp/a1" --events /dev/null 2>"$tmp/err" ||
	echo "not ok engine:run: $(head -c 300 "$tmp/err")"
"$tapir" -r "$cap" -c "$cfg" --alerts "$tmp/a2" --events /dev/null 2>/dev/null
cmp -s "$tmp/a1" "$tmp/a2" && [ -s "$tmp/a1" ] && echo "ok engine:deterministic ($(wc -l <"$tmp/a1") alerts)" ||
	echo "not ok engine:deterministic: two runs differ (or no alerts)"

python3 - "$tmp/a1" <<'PY'
import json, sys
alerts = [json.loads(l) for l in open(sys.argv[1])]
truth = [json.loads(l) for l in open("pcaps/demo.truth.jsonl")]
missed = [t["kind"] for t in truth
          if not any(a["identity"]["id"] == t["identity"]["id"] and a["detector"] in t["detectors"]
                     for a in alerts)]
print(("ok" if not missed else "not ok") + " engine:demo-insiders-caught" + ("" if not missed else ": missed %s" % missed))
bad = [a for a in alerts if not a["summary"] or a["severity"] not in ("low", "medium", "high", "critical")
       or not (0 <= a["score"] <= 1) or len(a["id"]) != 32 or not isinstance(a["evidence"], dict)]
print(("ok" if not bad else "not ok") + " engine:alert-shape" + ("" if not bad else ": %s" % bad[0]))
PY

# Two halves, split at the quietest moment (no connection spans it), with --state.
python3 - "$cap" "$tmp/A.pcap" "$tmp/B.pcap" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
e = "<" if struct.unpack("<I", data[:4])[0] in (0xa1b2c3d4, 0xa1b23c4d) else ">"
off, recs = 24, []
while off + 16 <= len(data):
    sec, frac, caplen, _ = struct.unpack(e + "IIII", data[off:off + 16])
    recs.append((sec * 1000000 + frac, off, off + 16 + caplen))
    off += 16 + caplen
gaps = [(recs[i + 1][0] - recs[i][0], i + 1) for i in range(len(recs) // 4, 3 * len(recs) // 4)]
cut = max(gaps)[1]
open(sys.argv[2], "wb").write(data[:24] + data[recs[0][1]:recs[cut][1]])
open(sys.argv[3], "wb").write(data[:24] + data[recs[cut][1]:])
PY
"$tapir" -r "$tmp/A.pcap" -c "$cfg" --state "$tmp/state" --alerts "$tmp/sa" --events /dev/null 2>"$tmp/err" &&
	"$tapir" -r "$tmp/B.pcap" -c "$cfg" --state "$tmp/state" --alerts "$tmp/sb" --events /dev/null 2>>"$tmp/err" ||
	echo "not ok engine:state-run: $(head -c 300 "$tmp/err")"
cat "$tmp/sa" "$tmp/sb" >"$tmp/split"
cmp -s "$tmp/a1" "$tmp/split" && echo "ok engine:state-split-equals-one-run" ||
	{ echo "not ok engine:state-split-equals-one-run"; diff "$tmp/a1" "$tmp/split" | head -n 6 | sed 's/^/    /'; }
printf 'not a state file' >"$tmp/badstate"
"$tapir" -r "$tmp/A.pcap" -c "$cfg" --state "$tmp/badstate" --events /dev/null >/dev/null 2>"$tmp/err"
rc=$?
[ "$rc" -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "badstate" "$tmp/err" &&
	echo "ok engine:bad-state-refused" || echo "not ok engine:bad-state-refused: exit $rc: $(cat "$tmp/err")"

# Alerts in the audit log, under the record number they carry.
"$tapir" audit keygen "$tmp/key" >/dev/null 2>&1
"$tapir" -r "$cap" -c "$cfg" --audit "$tmp/audit" --audit-key "$tmp/key" --alerts "$tmp/aa" \
	--events /dev/null 2>/dev/null
"$tapir" audit verify "$tmp/audit" --pubkey "$tmp/key.pub" >/dev/null 2>&1 &&
	echo "ok engine:audit-verifies" || echo "not ok engine:audit-verifies"
"$tapir" audit search "$tmp/audit" --type alert >"$tmp/found" 2>/dev/null
python3 - "$tmp/aa" "$tmp/found" <<'PY'
import json, sys
alerts = [json.loads(l) for l in open(sys.argv[1])]
found = [json.loads(l) for l in open(sys.argv[2])]
ok = len(alerts) > 0 and [a["id"] for a in alerts] == [f["id"] for f in found] and \
     all("audit_record" in a for a in alerts)
print(("ok" if ok else "not ok") + " engine:alerts-in-audit-log" +
      ("" if ok else ": %d alerts, %d found" % (len(alerts), len(found))))
PY
