#!/bin/sh
# netns.sh - a two-host test network: namespaces tapir-srv (198.18.1.1) and
# tapir-cli (198.18.1.2) joined by a veth pair (tapir-s0 / tapir-c0), with
# offloads off so frames look as on a mirror port. 198.18.0.0/15 is the
# RFC 2544 benchmarking range; no traffic leaves the two namespaces.
#   netns.sh up      create (removing leftovers first)
#   netns.sh down    remove
#   netns.sh check   exit 0 when namespaces can be made here
set -u
SRV=tapir-srv CLI=tapir-cli
down() {
	for ns in $SRV $CLI; do
		pids=$(ip netns pids "$ns" 2>/dev/null)
		[ -n "$pids" ] && kill $pids 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	return 0
}
up() {
	down
	ip netns add $SRV && ip netns add $CLI || return 1
	ip link add tapir-s0 netns $SRV type veth peer name tapir-c0 netns $CLI || return 1
	ip -n $SRV addr add 198.18.1.1/24 dev tapir-s0
	ip -n $CLI addr add 198.18.1.2/24 dev tapir-c0
	ip -n $SRV addr add fd00:7a:1::1/64 dev tapir-s0 nodad
	ip -n $CLI addr add fd00:7a:1::2/64 dev tapir-c0 nodad
	for ns in $SRV $CLI; do ip -n $ns link set lo up; done
	ip -n $SRV link set tapir-s0 up
	ip -n $CLI link set tapir-c0 up
	if command -v ethtool >/dev/null 2>&1; then
		ip netns exec $SRV ethtool -K tapir-s0 tx off rx off tso off gso off gro off >/dev/null 2>&1
		ip netns exec $CLI ethtool -K tapir-c0 tx off rx off tso off gso off gro off >/dev/null 2>&1
	fi
	return 0
}
case "${1:-}" in
up) up ;;
down) down ;;
check)
	[ "$(id -u)" -eq 0 ] || exit 1
	ip netns add tapir-probe 2>/dev/null || exit 1
	ip netns del tapir-probe
	;;
*) echo "usage: $0 up|down|check" >&2; exit 2 ;;
esac
