#!/bin/sh
# assemble.sh - assemble the check world from tests/integration/check/world/ (the
# base: root, TLD head, an ESP zone) and every scenario folder that has an `expected`
# file: its `servers` lines (NAME prefixed with the scenario, FILE too), its zone files and
# its `delegation` records, appended to the TLD zone. Sourced by check.test and
# zonemaster.test (POSIX sh, from the repository root):
#     . tests/integration/check/assemble.sh
#     check_world_assemble DIR      writes the world into DIR, sets CHECK_SCENARIOS
CHECK_DIR=tests/integration/check
CHECK_SCENARIOS=""

check_world_assemble() {
	w=$1
	mkdir -p "$w" || return 1
	cp "$CHECK_DIR/world/root.zone" "$CHECK_DIR/world/root.hints" "$CHECK_DIR/world/esp.test.zone" "$w/" || return 1
	cp "$CHECK_DIR/world/test.zone.head" "$w/test.zone" || return 1
	grep -v '^#' "$CHECK_DIR/world/servers" | grep -v '^ *$' >"$w/servers"
	CHECK_SCENARIOS=""
	for d in "$CHECK_DIR"/*/; do
		sc=$(basename "$d")
		[ "$sc" = world ] && continue
		[ -f "$d/expected" ] || continue
		CHECK_SCENARIOS="$CHECK_SCENARIOS $sc"
		for z in "$d"*.zone; do
			[ -f "$z" ] || continue
			cp "$z" "$w/$sc--$(basename "$z")" || return 1
		done
		# NAME OCTETS ZONE=FILE... -> sc-NAME OCTETS ZONE=sc--FILE...
		awk -v p="$sc" '/^#/ || NF == 0 { next }
			{ line = p "-" $1 " " $2
			  for (i = 3; i <= NF; i++) { n = index($i, "="); line = line " " substr($i, 1, n) p "--" substr($i, n + 1) }
			  print line }' "$d/servers" >>"$w/servers"
		cat "$d/delegation" >>"$w/test.zone"
	done
}
