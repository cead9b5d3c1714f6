#!/bin/sh
# sim.sh - smoke test of the scenario test bench's simulator (test/sim/,
# build/tapir-sim) and of the eval scorer. One line per check:
# "ok sim:NAME", "not ok sim:NAME: why" or "skip sim:NAME: why".
#   - two days of 20 identities are written, and the same seed gives the same bytes;
#   - tapir decodes exactly the requests the simulator says it wrote, without
#     a gap or a decoding error, every JWT verified with the simulator's key;
#   - every identity of identities.jsonl appears, with its number of requests;
#   - tshark (when installed) reads the same requests and statuses;
#   - the scorer of test/eval.py counts made-up alerts right;
#   - pcaps/demo.pcap is what `tapir-sim --demo` makes today.
cd "$(dirname "$0")/.." || exit 2
tapir=${TAPIR:-build/tapir-san}
[ -x "$tapir" ] || tapir=build/tapir
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ ! -x build/tapir-sim ] || [ -n "$(find test/sim -newer build/tapir-sim -name '*.[ch]' 2>/dev/null)" ]; then
	make --no-print-directory build/tapir-sim >"$tmp/make.log" 2>&1 ||
		{ echo "not ok sim:build: $(tail -n 5 "$tmp/make.log")"; exit 0; }
fi

if ! build/tapir-sim --seed 5 --days 2 --identities 20 --out "$tmp/a" 2>"$tmp/a.err"; then
	echo "not ok sim:run: $(cat "$tmp/a.err")"
	exit 0
fi
n=$(sed -n 's/^tapir-sim: requests \([0-9]*\)$/\1/p' "$tmp/a.err")
if [ -z "$n" ] || [ "$n" -lt 1000 ]; then
	echo "not ok sim:run: no request count on stderr, or too few ($n)"
	exit 0
fi
echo "ok sim:run ($n requests, $(stat -c %s "$tmp/a/traffic.pcap") bytes)"

build/tapir-sim --seed 5 --days 2 --identities 20 --out "$tmp/b" 2>/dev/null
if cmp -s "$tmp/a/traffic.pcap" "$tmp/b/traffic.pcap" && cmp -s "$tmp/a/identities.jsonl" "$tmp/b/identities.jsonl" &&
	cmp -s "$tmp/a/truth.jsonl" "$tmp/b/truth.jsonl"; then
	echo "ok sim:deterministic"
else
	echo "not ok sim:deterministic: the same seed wrote different files"
fi

if ! "$tapir" -r "$tmp/a/traffic.pcap" -c config/eval.yaml --events "$tmp/events.jsonl" --stats 2>"$tmp/stats"; then
	echo "not ok sim:events: tapir failed: $(head -c 300 "$tmp/stats")"
	exit 0
fi

python3 - "$tmp" "$n" <<'PY'
import collections, json, sys
tmp, n = sys.argv[1], int(sys.argv[2])
def check(name, ok, why=""):
    print(("ok " if ok else "not ok ") + "sim:" + name + ("" if ok else ": " + str(why)))
events = [json.loads(l) for l in open(tmp + "/events.jsonl")]
stats = json.loads(open(tmp + "/stats").read().strip().splitlines()[-1])
check("events (%d)" % len(events), len(events) == n, "tapir decoded %d events, the simulator wrote %d requests" % (len(events), n))
bad = {
    "tcp gaps": stats["tcp"]["gaps"], "out of order": stats["tcp"]["out_of_order"],
    "retransmits": stats["tcp"]["retransmits"], "malformed": sum(stats["malformed"].values()),
    "http errors": sum(stats["http"]["errors"].values()) - stats["http"]["errors"].get("h2_preface", 0),
    "no response": stats["http"]["no_response"], "http2 bad frames": stats["http2"]["bad_frames"],
    "hpack errors": stats["http2"]["hpack_errors"], "partial": stats["http2"]["partial"],
    "events with a gap": sum(1 for e in events if e.get("gap")),
    "no status": sum(1 for e in events if e["status"] is None),
}
check("clean", not any(bad.values()), ", ".join("%s %d" % kv for kv in bad.items() if kv[1]))
jwt = [e for e in events if e["identity"]["kind"] == "jwt"]
unverified = [e for e in jwt if "verified" not in e["identity"].get("flags", [])
              and "expired" not in e["identity"].get("flags", [])]
check("jwt (%d verified)" % (len(jwt) - len(unverified)), jwt and not unverified,
      "%d JWT events not verified with test/sim/jwt.secret" % len(unverified))
h2 = sum(1 for e in events if e["proto"] == "HTTP/2")
check("protocols (%d HTTP/2, %d HTTP/1.1)" % (h2, len(events) - h2), 0 < h2 < len(events), "want both")
seen = collections.Counter((e["identity"]["kind"], e["identity"]["id"]) for e in events)
idents = [json.loads(l) for l in open(tmp + "/a/identities.jsonl")]
missing = [i["identity"] for i in idents if seen[(i["identity"]["kind"], i["identity"]["id"])] != i["requests"]]
extra = set(seen) - {(i["identity"]["kind"], i["identity"]["id"]) for i in idents}
check("identities (%d)" % len(idents), not missing and not extra,
      "count differs for %s; not in identities.jsonl: %s" % (missing[:3], list(extra)[:3]))
kinds = {i["identity"]["kind"] for i in idents}
check("kinds (%s)" % " ".join(sorted(kinds)), kinds == {"jwt", "cookie", "basic", "api_key", "bearer"}, kinds)
PY

if command -v tshark >/dev/null 2>&1; then
	tshark -n -r "$tmp/a/traffic.pcap" -d tcp.port==8080,http -Y 'http.request or http.response or http2.type==1' \
		-T fields -E separator=/t -E aggregator='|' -e http.request.method -e http.request.uri -e http.response.code \
		-e http2.headers.method -e http2.headers.path -e http2.headers.status >"$tmp/tshark" 2>"$tmp/tshark.err"
	python3 - "$tmp" <<'PY'
import collections, json, sys
tmp = sys.argv[1]
req, st = collections.Counter(), collections.Counter()
for line in open(tmp + "/tshark"):
    f = (line.rstrip("\n").split("\t") + [""] * 6)[:6]
    for m, u in zip(f[0].split("|"), f[1].split("|")):
        if m:
            req[(m, u.split("?")[0])] += 1
    for c in f[2].split("|"):
        if c:
            st[int(c)] += 1
    for m, p in zip(f[3].split("|"), f[4].split("|")):
        if m:
            req[(m, p.split("?")[0])] += 1
    for c in f[5].split("|"):
        if c:
            st[int(c)] += 1
ev = [json.loads(l) for l in open(tmp + "/events.jsonl")]
treq = collections.Counter((e["method"], e["path"]) for e in ev)
tst = collections.Counter(e["status"] for e in ev)
ok = req == treq and st == tst
print(("ok" if ok else "not ok") + " sim:tshark (%d requests)" % sum(req.values()) +
      ("" if ok else ": only tshark %s; only tapir %s; statuses tshark %s tapir %s" % (
          list((req - treq).items())[:3], list((treq - req).items())[:3], dict(st - tst), dict(tst - st))))
PY
else
	echo "skip sim:tshark: tshark is not installed"
fi

python3 test/eval.py --selftest --out "$tmp/eval" 2>&1 | sed 's/eval:selftest/sim:scorer/'

if build/tapir-sim --demo --out "$tmp/demo" 2>/dev/null; then
	size=$(stat -c %s "$tmp/demo/demo.pcap")
	if [ "$size" -gt 2000000 ]; then
		echo "not ok sim:demo: $size bytes, more than 2 MB"
	elif ! cmp -s "$tmp/demo/demo.pcap" pcaps/demo.pcap || ! cmp -s "$tmp/demo/demo.truth.jsonl" pcaps/demo.truth.jsonl; then
		echo "not ok sim:demo: pcaps/demo.pcap or demo.truth.jsonl differ from what tapir-sim --demo makes (remake: build/tapir-sim --demo --out pcaps)"
	else
		echo "ok sim:demo ($size bytes, $(wc -l <pcaps/demo.truth.jsonl) scenarios)"
	fi
else
	echo "not ok sim:demo: tapir-sim --demo failed"
fi
