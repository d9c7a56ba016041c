#!/bin/sh
# Install, from Debian's archive, the packages the build and the tests need
# that are not installed yet. Does nothing when everything is there.
set -e

PKGS="gcc make binutils libc6-dev pkg-config protobuf-c-compiler libprotobuf-c-dev \
libnl-3-dev libnl-route-3-dev libnftables-dev nftables libcap-dev libbsd-dev libnet1-dev libxxhash-dev \
python3 iproute2 procps clang libclang-rt-dev"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done

[ -z "$missing" ] && exit 0

echo "Installing missing packages:$missing"
if [ "$(id -u)" != 0 ]; then
	echo "install-deps: must run as root to install:$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q || true
apt-get install -y -q --no-install-recommends $missing
