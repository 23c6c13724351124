#!/bin/sh
# run.sh ZONEWARDEN - the data-driven case runner.
#
# A case is a folder tests/cases/<group>/<name>/ holding
#   cmd           one line: the arguments to zonewarden (run from inside the folder)
#   expected.out  the exact stdout          (optional: absent means "not checked")
#   expected.err  the exact stderr          (optional)
#   expected.rc   the exit code             (required)
# plus whatever input files the command reads. Adding a regression is adding a folder.
# ZW_UPDATE=1 rewrites the expectations from the current output (review the diff!).
# ZW_VALGRIND=1 runs every case under valgrind and fails on any error or leak.
set -u
zw=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
root=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0; fail=0
for dir in $(find "$root" -name cmd -type f | sort); do
	dir=$(dirname "$dir")
	name=${dir#"$root"/}
	args=$(cat "$dir/cmd")
	run="$zw"
	if [ "${ZW_VALGRIND:-}" = 1 ]; then
		run="valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=99 $zw"
	fi
	(cd "$dir" && NO_COLOR=1 eval "exec $run $args" >"$tmp/out" 2>"$tmp/err" </dev/null)
	rc=$?
	if [ "${ZW_UPDATE:-}" = 1 ]; then
		echo "$rc" >"$dir/expected.rc"
		cp "$tmp/out" "$dir/expected.out"
		cp "$tmp/err" "$dir/expected.err"
	fi
	ok=1; why=""
	[ "$rc" = "$(cat "$dir/expected.rc")" ] || { ok=0; why="exit $rc, expected $(cat "$dir/expected.rc")"; }
	if [ -f "$dir/expected.out" ] && ! cmp -s "$tmp/out" "$dir/expected.out"; then ok=0; why="$why stdout differs"; fi
	if [ -f "$dir/expected.err" ] && ! cmp -s "$tmp/err" "$dir/expected.err"; then ok=0; why="$why stderr differs"; fi
	if [ "$ok" = 1 ]; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL $name:$why"
		[ -f "$dir/expected.out" ] && diff "$dir/expected.out" "$tmp/out" | head -20
		[ -f "$dir/expected.err" ] && diff "$dir/expected.err" "$tmp/err" | head -20
	fi
done
echo "cases: $pass passed, $fail failed"
[ "$fail" = 0 ]
