#!/bin/sh
# demo.sh - behind `make demo`: replay the bundled captures and show, per
# exchange, who called what, and the sensor's counters.
cd "$(dirname "$0")/.." || exit 2
stats=$(mktemp)
trap 'rm -f "$stats"' EXIT
for cap in pcaps/http1-identity.pcap pcaps/h2-prior-knowledge.pcap pcaps/h2c-upgrade.pcap; do
	echo
	echo "== build/tapir -r $cap --events -"
	build/tapir -r "$cap" --events - --stats 2>"$stats" |
		python3 -c '
import json, sys
row = "%-15s %-8s %-6s %-22s %-20s %6s %-32s %s"
print(row % ("time (UTC)", "proto", "method", "path", "route", "status", "identity", "flags"))
for line in sys.stdin:
    e = json.loads(line)
    i = e["identity"]
    who = i["kind"] if i["id"] is None else "%s %s" % (i["kind"], i["id"])
    if e.get("origin_ip"):
        who += " via proxy, from " + e["origin_ip"]
    print(row % (e["ts"][11:26], e["proto"], e["method"], e["path"][:22], (e["route"] or "")[:20],
          e["status"], who[:32], ",".join(i.get("flags", []))))
'
	python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
print("-- %d packets, %d flows, %d TCP segments (%d retransmitted, %d out of order, %d gaps), %d exchanges" % (
      s["packets"], s["flows"]["created"], s["tcp"]["segments"], s["tcp"]["retransmits"],
      s["tcp"]["out_of_order"], s["tcp"]["gaps"], s["http"]["events"]))
' "$stats"
done
echo
echo "Credentials are shown as identities: no token, password, key or cookie value is ever written."
echo "The anomaly engine that turns these events into insider alerts is not in this version yet."
