#!/bin/sh
# identity.sh - identities from a real capture with known credentials
# (pcaps/http1-identity.pcap, test/identity.env): every kind of the
# INTERFACE.md table, fingerprints recomputed here with sha256sum, JWT flags,
# HMAC verification with the right and a wrong key, and X-Forwarded-For
# honoured only from a configured trusted proxy.
cd "$(dirname "$0")/.." || exit 2
tapir=${TAPIR:-build/tapir-san}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cap=pcaps/http1-identity.pcap
. test/identity.env
fp() { printf 'sha256:%s' "$(printf %s "$1" | sha256sum | cut -c1-16)"; }

printf '%s' "$JWT_SECRET" >"$tmp/hmac.key"
printf 'wrong-secret' >"$tmp/wrong.key"
cat >"$tmp/right.yaml" <<EOF2
identity:
  trusted_proxies: [198.18.1.2/32]
  jwt_keys:
    - {file: $tmp/hmac.key, format: hmac}
EOF2
cat >"$tmp/wrong.yaml" <<EOF2
identity:
  jwt_keys:
    - {file: $tmp/wrong.key, format: hmac}
EOF2
"$tapir" -r "$cap" --events "$tmp/plain" >/dev/null 2>"$tmp/err" || echo "not ok identity:run: $(cat "$tmp/err")"
"$tapir" -r "$cap" -c "$tmp/right.yaml" --events "$tmp/right" >/dev/null 2>"$tmp/err" || echo "not ok identity:run-right: $(cat "$tmp/err")"
"$tapir" -r "$cap" -c "$tmp/wrong.yaml" --events "$tmp/wrong" >/dev/null 2>"$tmp/err" || echo "not ok identity:run-wrong: $(cat "$tmp/err")"
python3 - "$tmp" "$(fp "$OPAQUE_TOKEN")" "$(fp "$API_KEY")" "$(fp "$SESSION_COOKIE")" <<'PY'
import json, sys
tmp, fp_bearer, fp_key, fp_cookie = sys.argv[1:5]
def load(name):
    return [json.loads(l) for l in open(tmp + "/" + name)]
plain, right, wrong = load("plain"), load("right"), load("wrong")
def check(name, ok, why=""):
    print(("ok " if ok else "not ok ") + "identity:" + name + ("" if ok else ": " + str(why)))
ids = [(e["identity"]["kind"], e["identity"]["id"]) for e in plain]
check("kinds-and-ids", ids == [("jwt", "alice"), ("jwt", "bob"), ("jwt", "mallory"), ("basic", "carol"),
      ("bearer", fp_bearer), ("api_key", fp_key), ("cookie", fp_cookie), ("api_key", fp_key)], ids)
flags = [sorted(e["identity"].get("flags", [])) for e in plain[:3]]
check("jwt-flags", flags == [[], ["expired", "stale"], ["alg_none"]], flags)
c = plain[0]["identity"]["claims"]
check("jwt-claims", c["iss"] == "https://auth.example.com" and c["aud"] == "orders-api"
      and c["scope"] == "read:orders write:orders" and c["roles"] == ["support", "eu agents"]
      and c["alg"] == "HS256" and c["kid"] == "k1" and c["jti"] == "t-alice"
      and c["exp"] - c["iat"] == 7200, c)
vflags = [sorted(e["identity"].get("flags", [])) for e in right[:3]]
check("jwt-verified", vflags == [["verified"], ["expired", "stale", "verified"], ["alg_none"]], vflags)
wflags = [sorted(e["identity"].get("flags", [])) for e in wrong[:2]]
check("jwt-bad-signature", wflags == [["bad_signature"], ["bad_signature", "expired", "stale"]], wflags)
check("xff-ignored-untrusted", all("origin_ip" not in e for e in plain))
origins = [e.get("origin_ip") for e in right]
check("xff-trusted-proxy", origins == [None] * 7 + ["203.0.113.7"] and right[7]["client_ip"] == "198.18.1.2",
      origins)
PY
