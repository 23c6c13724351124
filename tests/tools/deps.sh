#!/bin/sh
# deps.sh - install with apt-get only what is missing (make deps). Idempotent.
# Fresh Debian 12, run as root (or with sudo available). Prints one line when all is there.
set -eu

PKGS="build-essential pkg-config clang libclang-rt-14-dev cppcheck clang-format
libyaml-dev libcjson-dev libcurl4-openssl-dev libssl-dev libldns-dev ldnsutils libxml2-dev
libmicrohttpd-dev libcmocka-dev valgrind time openssl zonemaster-cli knot knot-dnsutils dnsperf
python3-spf libmail-spf-perl python3-dkim libmail-dmarc-perl unbound python3-prometheus-client
buildah debootstrap"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	echo "deps: all packages present"
	exit 0
fi

echo "deps: installing:$missing"
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
# Debian starts packaged daemons where it can; the tests start their own on loopback.
for svc in knot unbound; do
	if command -v systemctl >/dev/null 2>&1; then $SUDO systemctl disable --now "$svc" >/dev/null 2>&1 || true; fi
done
echo "deps: done"
