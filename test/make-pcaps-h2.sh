#!/bin/sh
# make-pcaps-h2.sh - remakes the HTTP/2 captures pcaps/h2-*.pcap from real
# traffic: nghttpd, nginx (listen ... http2), nghttpx (h2c upgrade in front of
# nginx) and a gRPC server (python3-grpcio) in one network namespace; curl,
# nghttp, h2load, gRPC and python3-h2 clients in another; the kernel's TCP over
# the veth pair of test/netns.sh; tcpdump on the client's end. Run as root;
# then `UPDATE=1 sh test/golden.sh` and review the diff of
# pcaps/h2-*.events.jsonl against tshark before committing, e.g.
#   tshark -r pcaps/h2-push.pcap -Y http2 -d tcp.port==8080,http2
# Each capture holds one behaviour:
#   h2-prior-knowledge  curl --http2-prior-knowledge to nghttpd: GET with a query,
#                       POST; nghttp: three streams on one connection, one 404
#   h2-concurrent       h2load, 60 requests 30 at a time on one connection to
#                       nginx, big repeated headers (HPACK dynamic table both ways)
#   h2-table-size       h2load and nghttpd agree on 64 KiB HPACK tables
#                       (SETTINGS_HEADER_TABLE_SIZE); 12 KB of headers reused
#   h2-push             nghttp to nghttpd -p: PUSH_PROMISE, two pushed responses
#   h2-reset            python3-h2 client to nghttpd: a download reset (CANCEL)
#                       after its first DATA, a request reset at once, two
#                       other streams complete
#   h2c-upgrade         curl --http2 (Upgrade: h2c) to nghttpx: 101, stream 1, then stream 3
#   h2-grpc             gRPC unary OK, unary NOT_FOUND (grpc-status/-message in
#                       trailers-only), server streaming
#   h2-midstream        the capture starts while a connection is open: frame
#                       sync found again, HPACK context lost -> partial events
#   h2-gap              h2-concurrent with one client segment cut out of the
#                       capture (editcap): resync, and requests after it that
#                       name lost HPACK entries are partial
set -eu
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "make-pcaps-h2.sh: run as root (network namespaces)" >&2; exit 1; }
PY=/usr/bin/python3 # Debian's, which has python3-h2 and python3-grpcio
for p in nghttpd nghttpx nghttp h2load nginx curl tcpdump editcap tshark; do
	command -v $p >/dev/null || [ -x /usr/sbin/$p ] || {
		echo "make-pcaps-h2.sh: needs $p: apt-get install -y nghttp2-server nghttp2-client nginx-light curl tcpdump tshark python3-h2 python3-grpcio" >&2
		exit 1
	}
done
$PY -c 'import h2, grpc' 2>/dev/null || { echo "make-pcaps-h2.sh: needs apt-get install -y python3-h2 python3-grpcio" >&2; exit 1; }
work=$(mktemp -d)
SRV="ip netns exec tapir-srv" CLI="ip netns exec tapir-cli"
S=198.18.1.1
cleanup() { sh test/netns.sh down; rm -rf "$work"; }
trap cleanup EXIT INT TERM
sh test/netns.sh up
chmod 755 "$work"

# Content: small files, one 100 KB download, a push target.
mkdir -p "$work/www/v1" "$work/logs"
echo '<html><link rel=stylesheet href=/style.css><script src=/app.js></script></html>' >"$work/www/index.html"
echo 'body{margin:0}' >"$work/www/style.css"
echo 'console.log(1)' >"$work/www/app.js"
head -c 75000 /dev/zero | tr '\0' 'z' | fold -w 100 >"$work/www/big.bin"
echo '{"items":[1,2,3]}' >"$work/www/v1/items"
chmod -R a+rX "$work"

# Servers get stdin from /dev/null: nghttpd spins on a closed one.
$SRV nghttpd --no-tls -d "$work/www" -p /index.html=/style.css,/app.js 8080 >"$work/logs/nghttpd" 2>&1 </dev/null &
$SRV nghttpd --no-tls -d "$work/www" --header-table-size=65536 --encoder-header-table-size=65536 8082 >"$work/logs/nghttpd2" 2>&1 </dev/null &
cat >"$work/nginx.conf" <<NGX
worker_processes 1;
pid $work/nginx.pid;
error_log $work/logs/error.log;
events { worker_connections 64; }
http {
	access_log off;
	default_type application/json;
	server {
		listen $S:8090 http2;
		listen 127.0.0.1:8091;
		root $work/www;
		location /v1/accounts { add_header x-trace-id "4bf92f3577b34da6a3ce929d0e0e4736"; return 200 '{"ok":true}'; }
		location /v1/ { add_header x-trace-id "4bf92f3577b34da6a3ce929d0e0e4736"; add_header x-served-by "edge-eu-1.example.net"; }
	}
}
NGX
$SRV nginx -c "$work/nginx.conf" -g 'daemon off;' </dev/null &
$SRV nghttpx --conf=/dev/null -f"$S,8081;no-tls" -b'127.0.0.1,8091' --log-level=WARN \
	--errorlog-file="$work/logs/nghttpx" --accesslog-file=/dev/null </dev/null >/dev/null 2>&1 &
$SRV $PY test/h2-grpc.py server $S 50051 >"$work/logs/grpc" 2>&1 </dev/null &
sleep 1.5

. test/capture-lib.sh
C="$CLI curl -s -o /dev/null -A tapir-test/1.0"
BIG=$(head -c 700 /dev/zero | tr '\0' 'q')

cap h2-prior-knowledge
# (curl 7.88 fails to reuse a prior-knowledge connection: one request each;
# nghttp for several streams on one connection)
$C --http2-prior-knowledge "http://$S:8080/index.html?lang=en&page=2"
$C --http2-prior-knowledge -d '{"sku":"A-1"}' -H 'Content-Type: application/json' "http://$S:8080/v1/items"
$CLI nghttp -n --no-push "http://$S:8080/style.css" "http://$S:8080/missing" "http://$S:8080/app.js?v=2" >/dev/null
endcap h2-prior-knowledge

cap h2-concurrent
for i in $(seq 1 6); do echo "http://$S:8090/v1/items?page=$i"; done >"$work/uris"
$CLI h2load -n 60 -c 1 -m 30 -i "$work/uris" -H "x-trace-context: $BIG" \
	-H "x-session-hint: s-$BIG" -H 'user-agent: h2load-tapir' >/dev/null
endcap h2-concurrent

cap h2-table-size
H=""
for i in 1 2 3 4 5 6 7 8 9 10 11 12; do H="$H -H x-big-$i:$i-$BIG$BIG"; done
# shellcheck disable=SC2086
$CLI h2load -n 12 -c 1 -m 1 --header-table-size=65536 --encoder-header-table-size=65536 $H \
	"http://$S:8082/style.css" >/dev/null
endcap h2-table-size

cap h2-push
$CLI nghttp -n "http://$S:8080/index.html" >/dev/null
endcap h2-push

cap h2-reset
$CLI $PY test/h2-client.py reset $S 8080
endcap h2-reset

cap h2c-upgrade
$C --http2 "http://$S:8081/v1/items?page=1" -o /dev/null "http://$S:8081/v1/accounts/7"
endcap h2c-upgrade

cap h2-grpc
$CLI $PY test/h2-grpc.py client $S 50051 >/dev/null
endcap h2-grpc

# The capture begins during the client's pause, after its first exchange.
$CLI $PY test/h2-client.py midstream $S 8090 &
client=$!
sleep 0.6
cap h2-midstream
wait $client
endcap h2-midstream

# h2-gap: h2-concurrent without the client's 2nd segment of HEADERS frames
# (requests lost, and with them the HPACK entries they inserted).
n=$(tshark -r pcaps/h2-concurrent.pcap -d tcp.port==8090,http2 -Y "ip.dst==$S && http2.type==1" -T fields -e frame.number 2>/dev/null | sed -n 2p)
editcap -F pcap pcaps/h2-concurrent.pcap "$work/h2-gap.pcap" "$n"
cp "$work/h2-gap.pcap" pcaps/h2-gap.pcap
echo "pcaps/h2-gap.pcap: $(stat -c %s pcaps/h2-gap.pcap) bytes (h2-concurrent less frame $n)"
