#!/bin/sh
# make-pcaps.sh - remakes the captures in pcaps/ from real traffic: nginx and
# Python's http.server in one network namespace, curl and a pipelining Python
# client in another, the kernel's TCP between them over a veth pair, tcpdump
# on the client's end. Run as root; then run `UPDATE=1 sh test/golden.sh` and
# review the diff of pcaps/*.events.jsonl before committing.
set -eu
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "make-pcaps.sh: run as root (network namespaces)" >&2; exit 1; }
for p in nginx curl tcpdump python3; do
	command -v $p >/dev/null || [ -x /usr/sbin/$p ] || { echo "make-pcaps.sh: needs $p: apt-get install -y nginx-light curl tcpdump python3" >&2; exit 1; }
done
work=$(mktemp -d)
SRV="ip netns exec tapir-srv" CLI="ip netns exec tapir-cli"
cleanup() { sh test/netns.sh down; rm -rf "$work"; }
trap cleanup EXIT INT TERM
sh test/netns.sh up

# nginx: static JSON with ETags, gzip on the fly (-> chunked), HEAD, 304, 404, 405.
mkdir -p "$work/www/v1/users" "$work/www/v1/customers" "$work/logs"
for i in 41 42 43; do printf '{"id":%d,"name":"user%d","email":"user%d@example.com"}\n' $i $i $i >"$work/www/v1/users/$i"; done
python3 -c "import json;print(json.dumps([{'id':i,'name':'customer %d'%i,'tier':'gold'} for i in range(400)]))" >"$work/www/v1/customers/all"
chmod -R a+rX "$work"
cat >"$work/nginx.conf" <<NGX
worker_processes 1;
pid $work/nginx.pid;
error_log $work/logs/error.log;
events { worker_connections 64; }
http {
	access_log off;
	default_type application/json;
	gzip on; gzip_types application/json; gzip_min_length 100;
	server {
		listen 198.18.1.1:8080;
		listen [fd00:7a:1::1]:8080;
		root $work/www;
		keepalive_requests 100;
		if_modified_since before;
		location /v1/orders { return 201 '{"order":7}'; }
	}
}
NGX
$SRV nginx -c "$work/nginx.conf" -g 'daemon off;' &
$SRV python3 test/pcap-server.py 8000 &
sleep 1

. test/capture-lib.sh
C="$CLI curl -s -H Host:api.example.com -A tapir-test/1.0"
N=http://198.18.1.1:8080
P=http://198.18.1.1:8000

cap http1-keepalive
$C "$N/v1/users/41" "$N/v1/users/42?fields=name&page=2" "$N/v1/users/43" "$N/v1/missing" >/dev/null
$C -X POST -d '{"sku":"A-1"}' -H 'Content-Type: application/json' "$N/v1/orders" >/dev/null
endcap http1-keepalive

cap http1-pipelined
$CLI python3 test/pipeline-client.py 198.18.1.1 8080 /v1/users/41 /v1/users/42 /v1/users/43 /v1/users/44 >/dev/null
endcap http1-pipelined

cap http1-framing
$C -H 'Accept-Encoding: gzip' "$N/v1/customers/all" >/dev/null
$C -I "$N/v1/users/42" >/dev/null
$C -z 'Jan 1 00:00:00 2099 GMT' "$N/v1/users/42" >/dev/null
$C -X PUT -d x "$N/v1/users/42" >/dev/null
$C "$P/v1/stream" "$P/v1/stream?again=1" >/dev/null
$C -X DELETE "$P/v1/users/42" >/dev/null
head -c 300000 /dev/zero | tr '\0' 'a' >"$work/body"
$C -X POST --data-binary @"$work/body" -H 'Expect: 100-continue' "$P/v1/upload" >/dev/null
$C --http1.0 "$P/v1/legacy" >/dev/null
$C -g "http://[fd00:7a:1::1]:8080/v1/users/41" >/dev/null
endcap http1-framing

# Credentials of every kind, with known secrets (test/secrets.sh checks that
# none of them appears in any output). Secrets live in test/identity.env.
. test/identity.env
now=$(date +%s)
JWT=$(python3 test/make-token.py "$JWT_SECRET" alice $((now - 3600)) $((now + 3600)))
OLD=$(python3 test/make-token.py "$JWT_SECRET" bob $((now - 86400 * 200)) $((now - 86400)))
NONE=$(python3 test/make-token.py x mallory $((now - 60)) $((now + 3600)) none)
cap http1-identity
$C -H "Authorization: Bearer $JWT" "$N/v1/users/41" >/dev/null
$C -H "Authorization: Bearer $OLD" "$N/v1/users/42" >/dev/null
$C -H "Authorization: Bearer $NONE" "$N/v1/users/43" >/dev/null
$C -u "carol:$BASIC_PASSWORD" "$N/v1/users/41" >/dev/null
$C -H "Authorization: Bearer $OPAQUE_TOKEN" "$N/v1/customers/all" >/dev/null
$C -H "X-API-Key: $API_KEY" "$N/v1/users/42?api_key=$API_KEY" >/dev/null
$C -H "Cookie: theme=dark; sessionid=$SESSION_COOKIE" "$N/v1/users/43" >/dev/null
$C -H "X-Forwarded-For: 203.0.113.7" -H "X-API-Key: $API_KEY" "$N/v1/users/41" >/dev/null
endcap http1-identity

