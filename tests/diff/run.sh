#!/bin/sh
# run.sh - run every differential test (tests/diff/*.test). Each test is an executable
# script that compares our verdicts with a reference implementation's and exits 0 when
# every disagreement is one documented in the test. $ZW_DIFF_BIN holds the drivers.
set -u
pass=0; fail=0
for t in tests/diff/*.test; do
	[ -e "$t" ] || continue
	if sh "$t" >"${ZW_DIFF_BIN:-build/tests/diff}/$(basename "$t").log" 2>&1; then
		echo "ok   $t"; pass=$((pass + 1))
	else
		echo "FAIL $t"; sed 's/^/     /' "${ZW_DIFF_BIN:-build/tests/diff}/$(basename "$t").log" | tail -30
		fail=$((fail + 1))
	fi
done
echo "diff: $pass passed, $fail failed"
[ "$fail" = 0 ]
