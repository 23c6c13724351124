#!/bin/sh
# lib.sh - what every integration test sources: counters, checks, the summary line, the
# skip rule (under CI=true a component that cannot start is a failure), and the build of
# the driver (tests/integration/observe_driver.c, with ASan/UBSan when the compiler has
# them, from the engine's sources, so it does not depend on the rest of the tree).
#
# Run from the repository root.

PASS=0
FAIL=0
ZW_DRIVER=build/tests/integration/observe_driver

ok() {
	PASS=$((PASS + 1))
	echo "ok   $1"
}

not_ok() {
	FAIL=$((FAIL + 1))
	echo "FAIL $1"
}

# check_eq NAME WANT GOT
check_eq() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1"
		echo "  want: $2"
		echo "  got:  $3"
	fi
}

# check_match NAME PATTERN GOT (grep -E)
check_match() {
	if printf '%s\n' "$3" | grep -Eq -- "$2"; then
		ok "$1"
	else
		not_ok "$1"
		echo "  want (regex): $2"
		echo "  got:          $3"
	fi
}

# check_file NAME EXPECTED_FILE GOT_FILE: exact, after @NET@ is replaced in EXPECTED.
check_file() {
	sed -e "s/@NET@/$WORLD_NET/g" "$2" >"$3.want"
	if diff -u "$3.want" "$3" >"$3.diff"; then
		ok "$1"
	else
		not_ok "$1"
		sed -e 's/^/  /' "$3.diff" | head -n 60
	fi
}

summary() {
	echo "integration: $PASS passed, $FAIL failed"
	[ "$FAIL" -eq 0 ]
}

skip_or_fail() {
	if [ "${CI:-}" = true ]; then
		echo "FAIL: $1 (CI=true: a component that cannot start is a failure)"
		echo "integration: 0 passed, 1 failed"
		exit 1
	fi
	echo "SKIP: $1"
	echo "integration: 0 passed, 0 failed, 1 skipped"
	exit 0
}

build_driver() {
	mkdir -p "$(dirname "$ZW_DRIVER")"
	cc=${CC:-cc}
	san="-fsanitize=address,undefined -fno-sanitize-recover=all"
	[ "${ZW_NO_SAN:-}" = 1 ] && san=""
	# shellcheck disable=SC2046,SC2086
	$cc -std=c11 -Wall -Wextra -Werror -O1 -g $san -D_DEFAULT_SOURCE -D_GNU_SOURCE -I. \
		$(pkg-config --cflags ldns) -o "$ZW_DRIVER" tests/integration/observe_driver.c \
		reconcile/dns.c reconcile/resolve.c reconcile/roothints.c reconcile/alloc.c \
		reconcile/buf.c reconcile/error.c $(pkg-config --libs ldns)
}

# Milliseconds since some fixed point (for timing bounds, not for benchmarks).
now_ms() {
	date +%s%3N
}

# free_port: a free TCP port on 127.0.0.1 (the kernel's pick; free when asked)
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# etcd_port [AVOID]: a free port P whose P+1 (etcd's peer port) is free too, neither AVOID
etcd_port() {
	while :; do
		p=$(free_port)
		[ "$p" != "${1:-}" ] && [ "$((p + 1))" != "${1:-}" ] &&
			python3 -c 'import socket,sys; s=socket.socket(); s.bind(("127.0.0.1",int(sys.argv[1])))' "$((p + 1))" 2>/dev/null &&
			break
	done
	echo "$p"
}
