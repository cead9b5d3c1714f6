#!/bin/sh
# ensure-deps.sh build|check|demo|bench|fuzz - installs the Debian packages tapir needs
# when they are missing (as root), or prints the exact apt-get line and stops.
set -eu
BUILD="gcc make libc6-dev libpcap-dev libyaml-dev libnghttp2-dev libjansson-dev libssl-dev libhiredis-dev tzdata"
CHECK="python3 iproute2 curl openssl redis-server util-linux bsdutils nginx-light nghttp2-server nghttp2-client"
case "${1:-build}" in
build) want="$BUILD" ;;
demo) want="$BUILD python3" ;;
bench) want="$BUILD bc time tshark python3" ;;
check) want="$BUILD $CHECK" ;;
fuzz) want="$BUILD clang libclang-rt-14-dev" ;;
*) echo "usage: $0 build|check|demo|bench|fuzz" >&2; exit 2 ;;
esac
missing=""
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "tapir needs these Debian packages:$missing" >&2
	echo "install them with:  sudo apt-get install -y$missing" >&2
	exit 1
fi
echo "installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends $missing >&2
