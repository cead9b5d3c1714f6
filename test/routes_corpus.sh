#!/bin/sh
# routes_corpus.sh - route templates and the API inventory end to end:
#  - the repo's captures against an OpenAPI 3 spec written here: every event
#    has its route, and the --inventory file says documented, shadow and
#    zombie where it should;
#  - the same capture without a spec (no_spec), twice: the same inventory;
#  - the shared public corpus ($TAPIR_PUBLIC_PCAPS, else
#    ../shared/pcaps/public): every event whose path starts with '/' has a
#    route, and known templates come out;
#  - the big realistic capture when there is one ($TAPIR_BENCH_PCAP, else
#    /tmp/bench-512M.pcap; made by ../shared/bench/gen-capture.sh) against
#    the spec of its API, its admin routes left out and its legacy ones
#    deprecated.
# Prints "ok NAME", "not ok NAME: why" or "skip NAME: why", one line each.
cd "$(dirname "$0")/.." || exit 2
tapir=${TAPIR:-build/tapir-san}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if ! "$tapir" -r pcaps/http1-keepalive.pcap --inventory "$tmp/probe" >/dev/null 2>&1; then
	echo "skip routes:corpus: $tapir has no --inventory yet"
	exit 0
fi

# check NAME PYTHON-CODE FILE...: the code sees the JSON lines of each file in
# `files` (a list of lists of dicts) and raises AssertionError when wrong.
check() {
	name=$1 code=$2
	shift 2
	if out=$(python3 - "$@" 2>&1 <<EOF
import json, sys
files = [[json.loads(l) for l in open(p) if l.strip()] for p in sys.argv[1:]]
def route(inv, r, host=None):
    m = [x for x in inv if x["route"] == r and (host is None or x["host"] == host)]
    assert len(m) == 1, "route %s: %d lines" % (r, len(m))
    return m[0]
def ops(x):
    return {o["method"]: o["verdict"] for o in x["operations"]}
$code
EOF
	); then
		echo "ok routes:$name"
	else
		echo "not ok routes:$name: $(echo "$out" | tail -n 1 | head -c 300)"
	fi
}

# run NAME CAPTURE [CONFIG]: events in $tmp/NAME.ev, inventory in $tmp/NAME.inv
run() {
	name=$1 cap=$2 cfg=${3:-}
	set -- -r "$cap" --events "$tmp/$name.ev" --inventory "$tmp/$name.inv"
	[ -n "$cfg" ] && set -- "$@" -c "$cfg"
	if ! "$tapir" "$@" 2>"$tmp/$name.err"; then
		echo "not ok routes:$name: tapir failed: $(head -c 300 "$tmp/$name.err")"
		return 1
	fi
}

# ---- the repo's capture against a spec ----
cat >"$tmp/spec.yaml" <<'EOF'
openapi: 3.0.3
info: {title: tapir test API, version: "1"}
servers:
  - url: https://api.example.com/v1
paths:
  /users/{userId}:
    get: {}
    delete: {}
  /legacy:
    get: {deprecated: true}
  /stream: {get: {}}
  /upload: {post: {}}
  /orders: {post: {}}
EOF
printf 'api:\n  openapi: %s/spec.yaml\n' "$tmp" >"$tmp/spec-config.yaml"

if run framing pcaps/http1-framing.pcap "$tmp/spec-config.yaml"; then
	check framing-events '
ev = files[0]
assert ev, "no events"
for e in ev:
    assert isinstance(e["route"], str) and e["route"].startswith("/"), e["path"]
r = {e["path"]: e["route"] for e in ev}
assert r["/v1/users/41"] == "/v1/users/{userId}", r["/v1/users/41"]
assert r["/v1/legacy"] == "/v1/legacy", r["/v1/legacy"]
assert r["/v1/customers/all"] == "/v1/customers/all", r["/v1/customers/all"]
' "$tmp/framing.ev"
	check framing-verdicts '
inv = files[0]
assert [x["route"] for x in inv] == sorted(x["route"] for x in inv), "not sorted"
u = route(inv, "/v1/users/{userId}")
assert u["source"] == "spec" and u["host"] == "api.example.com", u
assert ops(u) == {"DELETE": "documented", "GET": "documented", "HEAD": "documented",
                  "PUT": "shadow"}, ops(u)
assert u["verdict"] == "shadow" and u["requests"] == 5, u
assert u["status"]["2xx"] == 3 and u["status"]["3xx"] == 1 and u["status"]["4xx"] == 1, u
assert route(inv, "/v1/legacy")["verdict"] == "zombie"
c = route(inv, "/v1/customers/all")
assert c["verdict"] == "shadow" and c["source"] == "learned", c
assert route(inv, "/v1/stream")["verdict"] == "documented"
assert route(inv, "/v1/upload")["verdict"] == "documented"
' "$tmp/framing.inv"
fi

# ---- no spec, twice: no_spec, and the same inventory ----
if run keepalive pcaps/http1-keepalive.pcap && cp "$tmp/keepalive.inv" "$tmp/keepalive.1" &&
	run keepalive pcaps/http1-keepalive.pcap; then
	if cmp -s "$tmp/keepalive.1" "$tmp/keepalive.inv"; then
		echo "ok routes:deterministic"
	else
		echo "not ok routes:deterministic: two runs gave different inventories"
	fi
	check no-spec '
inv = files[0]
u = route(inv, "/v1/users/{id}")
assert u["verdict"] == "no_spec" and u["requests"] == 3 and u["methods"] == ["GET"], u
assert route(inv, "/v1/orders")["verdict"] == "no_spec"
assert not [x for x in inv if x["route"] == "/v1/missing"], "a 404 to an unknown path is not a route"
' "$tmp/keepalive.inv"
fi

# ---- the shared public corpus ----
pub=${TAPIR_PUBLIC_PCAPS:-../shared/pcaps/public}
if [ -d "$pub" ]; then
	n=0 bad=""
	for cap in $(find "$pub" -name '*.pcap' -o -name '*.pcapng' | grep -v tls-keylog | sort); do
		n=$((n + 1))
		run "pub$n" "$cap" || bad="$bad $cap"
		cat "$tmp/pub$n.ev" >>"$tmp/pub.ev"
		cat "$tmp/pub$n.inv" >>"$tmp/pub.inv"
	done
	[ -z "$bad" ] && check public-corpus '
ev, inv = files
assert len(ev) > 1000, len(ev)
for e in ev:
    if e["path"].startswith("/"):
        assert isinstance(e["route"], str) and e["route"].startswith("/"), e["path"]
routes = {(x["host"], x["route"]) for x in inv}
for want in [("192.168.122.87:2375", "/v1.41/containers/{hex}/wait"),
             ("140cc.v.fwmrm.net", "/ad/l/{id}"),
             ("localhost", "/")]:
    assert want in routes, want
assert all(x["verdict"] == "no_spec" for x in inv)
' "$tmp/pub.ev" "$tmp/pub.inv"
else
	echo "skip routes:public-corpus: no $pub"
fi

# ---- the big realistic capture ----
big=${TAPIR_BENCH_PCAP:-/tmp/bench-512M.pcap}
if [ -f "$big" ]; then
	cat >"$tmp/bench-spec.yaml" <<'EOF'
openapi: 3.0.3
info: {title: capgen bench API, version: "1"}
servers:
  - url: http://api.example.com:8080/
paths:
  /healthz: {get: {}}
  /v1/me: {get: {}}
  /v1/users: {get: {}}
  /v1/users/{userId}: {get: {}, put: {}, delete: {}}
  /v1/orders: {get: {}, post: {}}
  /v1/orders/{orderId}: {get: {}, delete: {}}
  /v1/search: {get: {}}
  /v1/payments/{paymentId}: {get: {}}
  /v1/payments/{paymentId}/capture: {post: {}}
  /v1/legacy/{report}:
    get: {deprecated: true}
EOF
	printf 'api:\n  openapi: %s/bench-spec.yaml\n' "$tmp" >"$tmp/bench-config.yaml"
	if run bench "$big" "$tmp/bench-config.yaml"; then
		check bench-verdicts '
inv = files[0]
h = "api.example.com:8080"
assert route(inv, "/admin/users", h)["verdict"] == "shadow"
assert route(inv, "/admin/export", h)["verdict"] == "shadow"
assert route(inv, "/v1/legacy/{report}", h)["verdict"] == "zombie"
assert route(inv, "/v1/uploads/{param}", h)["verdict"] == "shadow"
u = route(inv, "/v1/users/{userId}", h)
assert u["verdict"] == "documented" and u["requests"] > 1000, u
assert not [x for x in inv if x["route"] in ("/.env", "/wp-login.php")], "scanner probes listed"
' "$tmp/bench.inv"
	fi
else
	echo "skip routes:bench-verdicts: no $big (TAPIR_BENCH_PCAP)"
fi
