#!/bin/sh
# demo.sh - behind `make demo`: replay the bundled captures and show, per
# exchange, who called what, and the sensor's counters.
cd "$(dirname "$0")/.." || exit 2
for cap in pcaps/http1-keepalive.pcap pcaps/http1-framing.pcap; do
	echo
	echo "== build/tapir -r $cap --events -"
	build/tapir -r "$cap" --events - --stats 2>/tmp/tapir-demo-stats.$$ |
		python3 -c '
import json, sys
print("%-26s %-22s %-7s %-24s %6s %9s %9s" % ("time (packet)", "client", "method", "path", "status", "req bytes", "resp bytes"))
for line in sys.stdin:
    e = json.loads(line)
    print("%-26s %-22s %-7s %-24s %6s %9d %9d" % (e["ts"][:26], "%s:%d" % (e["client_ip"], e["client_port"]),
          e["method"], e["path"][:24], e["status"], e["req_bytes"], e["resp_bytes"]))
'
	python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
print("-- %d packets, %d flows, %d TCP segments (%d retransmitted, %d out of order, %d gaps), %d HTTP exchanges" % (
      s["packets"], s["flows"]["created"], s["tcp"]["segments"], s["tcp"]["retransmits"],
      s["tcp"]["out_of_order"], s["tcp"]["gaps"], s["http"]["events"]))
' /tmp/tapir-demo-stats.$$
	rm -f /tmp/tapir-demo-stats.$$
done
echo
echo "The anomaly engine that turns these events into insider alerts is not in this version yet."
