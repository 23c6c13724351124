#!/bin/sh
# demo/run.sh - `make demo`: a DNS world on loopback with the mistakes users hit most,
# and zonewarden finding, planning, applying and verifying the fix.
#
# The world (demo/world/): a root, the test. TLD, an email provider zone, and
# example.test on two Knot servers (primary + secondary) on port 53 of a free
# 127.N.M.0/24 block. zonewarden writes to the primary over RFC 2136 with TSIG. Every
# server is stopped by PID when the demo ends, whatever happens.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
zw="$top/zonewarden"
cd "$top" || exit 1
. tests/integration/world.sh

step() {
	printf '\n\033[1m==> %s\033[0m\n$ %s\n' "$1" "$2"
}

if ! world_start demo/world; then
	echo "demo: cannot start the Knot world: $WORLD_ERROR" >&2
	exit 1
fi
work=$WORLD_RUN/demo
mkdir -p "$work/manifests"
printf '%s\n' "$WORLD_TSIG_SECRET" >"$work/tsig.key"
chmod 600 "$work/tsig.key"
sed -e "s|@PRIMARY@|$WORLD_NET.10|" -e "s|@SECRET@|$work/tsig.key|" \
	demo/manifests/example-test.yaml >"$work/manifests/example-test.yaml"
export ZONEWARDEN_ROOT_HINTS="$WORLD_HINTS"
cd "$work" || exit 1

echo "A DNS world is up on $WORLD_NET.0/24 (port 53): root $WORLD_NET.1, test. $WORLD_NET.2,"
echo "esp.test $WORLD_NET.3, example.test on ns1 $WORLD_NET.10 (primary) and ns2 $WORLD_NET.11."
echo "example.test holds two SPF records, a DMARC typed with full-width semicolons, a DKIM"
echo "CNAME under a doubled apex, a CNAME target with a leading space, and a foreign"
echo "google-site-verification TXT that must survive."

step "validate the manifests (offline)" "zonewarden validate manifests"
"$zw" validate manifests

step "check the live world, as a receiving mail server sees it" "zonewarden check manifests"
"$zw" check manifests

step "plan: what would change (the pull-request comment)" "zonewarden plan -o markdown --fix-mistakes manifests"
"$zw" plan -o markdown --fix-mistakes manifests

step "apply, then verify on every delegated server" "zonewarden apply --fix-mistakes --verify-timeout 30 manifests"
"$zw" apply --fix-mistakes --verify-timeout 30 manifests
rc=$?

step "check again" "zonewarden check manifests"
"$zw" check manifests
check_rc=$?

step "the foreign token survived; the ownership record is readable with dig" \
	"kdig @$WORLD_NET.11 +short TXT example.test; kdig @$WORLD_NET.11 +short TXT _zonewarden.example.test"
kdig @"$WORLD_NET.11" +short +norec TXT example.test
kdig @"$WORLD_NET.11" +short +norec TXT _zonewarden.example.test

echo
if [ "$rc" = 0 ] && [ "$check_rc" = 0 ]; then
	echo "demo: every mistake was fixed and verified on both servers; the world is clean."
else
	echo "demo: apply exited $rc, the last check $check_rc" >&2
fi
cd "$top" || exit 1
world_stop
echo "demo: all servers stopped."
[ "$rc" = 0 ] && [ "$check_rc" = 0 ]
