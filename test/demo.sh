#!/bin/sh
# demo.sh - behind `make demo`: replay the bundled demo capture (a few hours
# of a simulated API with three insiders, pcaps/demo.truth.jsonl) and show the
# alerts tapir raises, then what the other captures show per exchange.
cd "$(dirname "$0")/.." || exit 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "== build/tapir -r pcaps/demo.pcap -c config/demo.yaml --alerts -"
build/tapir -r pcaps/demo.pcap -c config/demo.yaml --alerts "$tmp/alerts" --events "$tmp/events" \
	--inventory "$tmp/inventory" --stats 2>"$tmp/stats" || { cat "$tmp/stats"; exit 1; }
python3 - "$tmp" <<'PY'
import json, sys
tmp = sys.argv[1]
alerts = [json.loads(l) for l in open(tmp + "/alerts")]
events = sum(1 for _ in open(tmp + "/events"))
ids = {(json.loads(l)["identity"]["kind"], json.loads(l)["identity"]["id"]) for l in open(tmp + "/events")}
print("%d exchanges from %d identities; %d alerts:\n" % (events, len(ids), len(alerts)))
for a in alerts:
    who = a["identity"]["id"] or "anonymous"
    print("%s  %-8s %-16s %s" % (a["ts"][:19].replace("T", " "), a["severity"], a["detector"], who))
    print("    " + a["summary"])
truth = [json.loads(l) for l in open("pcaps/demo.truth.jsonl")]
print("\nWhat really happened (pcaps/demo.truth.jsonl):")
for t in truth:
    hit = [a for a in alerts if a["identity"]["id"] == t["identity"]["id"] and a["detector"] in t["detectors"]]
    print("  %-16s %-20s %s" % (t["kind"], t["identity"]["id"], "caught" if hit else "missed"))
PY
echo
echo "Credentials appear as identities: no token, password, key or cookie value is ever written."
echo "More: build/tapir -r pcaps/http1-identity.pcap --events - ; make eval for the full scenario bench."
