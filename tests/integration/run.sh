#!/bin/sh
# run.sh - run every tests/integration/*.test (from the repository root); non-zero exit
# when any fails. Each test prints its own "integration: N passed, N failed" line; this
# prints the total last.
cd "$(dirname "$0")/../.." || exit 1
pass=0 fail=0 skip=0 status=0
for t in tests/integration/*.test; do
	echo "== $t"
	out=$(sh "$t" 2>&1)
	rc=$?
	printf '%s\n' "$out"
	line=$(printf '%s\n' "$out" | grep -E '^integration: [0-9]+ passed, [0-9]+ failed' | tail -n 1)
	p=$(echo "$line" | sed -n 's/^integration: \([0-9]*\) passed.*/\1/p')
	f=$(echo "$line" | sed -n 's/^integration: [0-9]* passed, \([0-9]*\) failed.*/\1/p')
	s=$(echo "$line" | sed -n 's/.*, \([0-9]*\) skipped.*/\1/p')
	pass=$((pass + ${p:-0}))
	fail=$((fail + ${f:-0}))
	skip=$((skip + ${s:-0}))
	if [ $rc -ne 0 ] || [ -z "$line" ]; then
		status=1
		[ -z "$line" ] && fail=$((fail + 1))
	fi
done
echo "integration: $pass passed, $fail failed, $skip skipped"
exit $status
