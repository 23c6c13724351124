#!/bin/sh
# world.sh - a DNS test world: Knot servers on port 53 of a free 127.N.M.0/24 block.
#
# A world is a folder (tests/integration/worlds/<name>/) with zone files, a root.hints
# file and a `servers` file: one line per knotd process,
#     NAME  OCTETS  ZONE=FILE ...
# where OCTETS are the last octets of its addresses (comma-separated: one knotd that
# listens on several addresses, for servers meant to be identical). A server without
# zones answers REFUSED. In every file @NET@ stands for the block's first three octets.
#
# Referrals carry addresses, not ports, so every server listens on port 53 of its own
# loopback address (SPEC §12). A run takes a block nobody listens on (checked with ss)
# and locks it (mkdir, so parallel runs never share one), writes one knotd config per
# server, starts them, waits until each address answers, and stops them by PID on exit.
#
# As a library (POSIX sh):
#     . tests/integration/world.sh
#     world_start tests/integration/worlds/basic || { echo "$WORLD_ERROR"; exit 1; }
#     ... $WORLD_NET (e.g. 127.181.7), $WORLD_HINTS, $WORLD_RUN, world_addr 11 ...
#     world_stop            (also run by the EXIT trap world_start installs)
# As a command:
#     sh tests/integration/world.sh run WORLD_DIR -- CMD [ARG...]
# runs CMD with WORLD_NET, WORLD_HINTS, ZONEWARDEN_ROOT_HINTS, WORLD_TSIG and WORLD_RUN
# in its environment, then stops the world.
#
# RFC 2136: every zone accepts UPDATE signed with the world's TSIG key; WORLD_TSIG is
# "hmac-sha256:zw-world-key:<base64>" (the form knsupdate -y and kdig -y take), and
# $WORLD_RUN/<server>/knot.sock is the knotc control socket of each server.

WORLD_TSIG_NAME=zw-world-key
WORLD_TSIG_ALG=hmac-sha256
# A test key (32 fixed octets): it only guards loopback servers that live for one run.
WORLD_TSIG_SECRET=em9uZXdhcmRlbi10ZXN0LXdvcmxkLXRzaWcta2V5IQ==
WORLD_TSIG="$WORLD_TSIG_ALG:$WORLD_TSIG_NAME:$WORLD_TSIG_SECRET"
WORLD_LOCKS=${TMPDIR:-/tmp}/zonewarden-world-locks
WORLD_PIDS=""
WORLD_NET=""
WORLD_RUN=""
WORLD_LOCK=""
WORLD_ERROR=""

world_addr() {
	echo "$WORLD_NET.$1"
}

_world_rand() {
	od -An -N2 -tu2 /dev/urandom | tr -d ' '
}

# Is anything bound to an address of the block? (TCP or UDP, any port.)
_world_block_busy() {
	ss -Hlnut 2>/dev/null | awk '{print $5}' | grep -q "^$1\."
}

_world_pick_block() {
	mkdir -p "$WORLD_LOCKS" || return 1
	i=0
	while [ $i -lt 64 ]; do
		i=$((i + 1))
		n=$((100 + $(_world_rand) % 150))
		m=$(($(_world_rand) % 256))
		net="127.$n.$m"
		lock="$WORLD_LOCKS/$net"
		if ! mkdir "$lock" 2>/dev/null; then
			# A lock whose owner is gone is stale.
			owner=$(cat "$lock/pid" 2>/dev/null || echo "")
			if [ -n "$owner" ] && kill -0 "$owner" 2>/dev/null; then
				continue
			fi
			rm -rf "$lock"
			mkdir "$lock" 2>/dev/null || continue
		fi
		echo $$ >"$lock/pid"
		if _world_block_busy "$net"; then
			rm -rf "$lock"
			continue
		fi
		WORLD_NET=$net
		WORLD_LOCK=$lock
		return 0
	done
	WORLD_ERROR="no free 127.N.M.0/24 block found"
	return 1
}

_world_subst() {
	sed -e "s/@NET@/$WORLD_NET/g" "$1" >"$2"
}

# The first address octet of server NAME in the servers file.
_world_first_octet() {
	awk -v n="$1" '$1 == n { split($2, o, ","); print o[1]; exit }' "$WORLD_DIR/servers"
}

# The servers that are secondaries of zone $2 from primary $1 ("ZONE=@PRIMARY" entries).
_world_secondaries() {
	awk -v p="$1" -v z="$2" '$1 !~ /^#/ { for (i = 3; i <= NF; i++) if ($i == z "=@" p) print $1 }' \
		"$WORLD_DIR/servers"
}

# _world_conf NAME OCTETS ZONES... : write $WORLD_RUN/NAME/knot.conf
# A zone given as ZONE=FILE is served from FILE (a primary; it NOTIFYs its secondaries);
# ZONE=@PRIMARY makes this server a secondary of that server (AXFR/IXFR after NOTIFY),
# so an RFC 2136 update sent to the primary reaches every server of the zone.
_world_conf() {
	name=$1 octets=$2
	shift 2
	dir=$WORLD_RUN/$name
	mkdir -p "$dir/zones" "$dir/db" || return 1
	listen=""
	for o in $(echo "$octets" | tr ',' ' '); do
		listen="$listen${listen:+, }$WORLD_NET.$o@53"
	done
	remotes=""
	for zf in "$@"; do
		zone=${zf%%=*}
		file=${zf#*=}
		case $file in
		@*) remotes="$remotes ${file#@}" ;;
		*) remotes="$remotes $(_world_secondaries "$name" "$zone")" ;;
		esac
	done
	remotes=$(echo "$remotes" | tr ' ' '\n' | sort -u | tr '\n' ' ')
	{
		echo "server:"
		echo "    rundir: \"$dir\""
		echo "    listen: [ $listen ]"
		echo "    udp-workers: 1"
		echo "    tcp-workers: 1"
		echo "    background-workers: 1"
		echo "log:"
		echo "  - target: \"$dir/knot.log\""
		echo "    any: info"
		echo "database:"
		echo "    storage: \"$dir/db\""
		echo "control:"
		echo "    listen: \"$dir/knot.sock\""
		echo "key:"
		echo "  - id: $WORLD_TSIG_NAME"
		echo "    algorithm: $WORLD_TSIG_ALG"
		echo "    secret: $WORLD_TSIG_SECRET"
		if [ -n "$(echo "$remotes" | tr -d ' ')" ]; then
			echo "remote:"
			for r in $remotes; do
				echo "  - id: r-$r"
				echo "    address: $WORLD_NET.$(_world_first_octet "$r")@53"
				# from our own address: the acl admits the block, and loopback
				# traffic would otherwise leave from 127.0.0.1
				echo "    via: $WORLD_NET.${octets%%,*}"
			done
		fi
		echo "acl:"
		echo "  - id: tsig-update"
		echo "    key: $WORLD_TSIG_NAME"
		echo "    action: [update, transfer]"
		echo "  - id: world-xfr"
		echo "    address: $WORLD_NET.0/24"
		echo "    action: [transfer, notify]"
		echo "template:"
		echo "  - id: default"
		echo "    storage: \"$dir/zones\""
		echo "    semantic-checks: off"
		echo "    zonefile-sync: -1"
		echo "    zonefile-load: whole"
		echo "    journal-content: changes"
		echo "    acl: [tsig-update, world-xfr]"
		if [ $# -gt 0 ]; then
			echo "zone:"
		fi
	} >"$dir/knot.conf"
	for zf in "$@"; do
		zone=${zf%%=*}
		file=${zf#*=}
		case $file in
		@*)
			echo "  - domain: \"$zone\"" >>"$dir/knot.conf"
			echo "    master: r-${file#@}" >>"$dir/knot.conf"
			continue
			;;
		esac
		[ -f "$WORLD_DIR/$file" ] || { WORLD_ERROR="$WORLD_DIR/$file: no such zone file"; return 1; }
		_world_subst "$WORLD_DIR/$file" "$dir/zones/$file" || return 1
		echo "  - domain: \"$zone\"" >>"$dir/knot.conf"
		echo "    file: \"$dir/zones/$file\"" >>"$dir/knot.conf"
		secs=$(_world_secondaries "$name" "$zone" | sed 's/^/r-/' | tr '\n' ',' | sed 's/,$//')
		if [ -n "$secs" ]; then
			echo "    notify: [ $secs ]" >>"$dir/knot.conf"
		fi
	done
	return 0
}

# Wait until ADDR answers anything (NOERROR or REFUSED) for ZONE SOA, at most ~10 s; a
# secondary (WANT=NOERROR) until it has transferred the zone.
_world_wait() {
	addr=$1 zone=$2 want=${3:-} i=0
	while [ $i -lt 100 ]; do
		if kdig @"$addr" "$zone" SOA +norec +time=1 +retry=0 2>/dev/null | grep -q "status: $want"; then
			return 0
		fi
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

world_stop() {
	for pid in $WORLD_PIDS; do
		kill "$pid" 2>/dev/null
	done
	for pid in $WORLD_PIDS; do
		i=0
		while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -9 "$pid" 2>/dev/null
	done
	WORLD_PIDS=""
	if [ -n "$WORLD_RUN" ] && [ -z "${WORLD_KEEP:-}" ]; then
		rm -rf "$WORLD_RUN"
	fi
	[ -n "$WORLD_LOCK" ] && rm -rf "$WORLD_LOCK"
	WORLD_LOCK=""
}

# Run a command we started in the background and remember its PID (stopped on exit).
world_track_pid() {
	WORLD_PIDS="$WORLD_PIDS $1"
}

world_start() {
	WORLD_DIR=$1
	WORLD_ERROR=""
	command -v knotd >/dev/null 2>&1 || { WORLD_ERROR="knotd is not installed"; return 1; }
	command -v kdig >/dev/null 2>&1 || { WORLD_ERROR="kdig is not installed"; return 1; }
	[ -f "$WORLD_DIR/servers" ] || { WORLD_ERROR="$WORLD_DIR/servers: no such file"; return 1; }
	trap 'world_stop' EXIT
	trap 'world_stop; exit 130' INT TERM
	_world_pick_block || return 1
	WORLD_RUN=$(mktemp -d "${TMPDIR:-/tmp}/zonewarden-world.XXXXXX") || { WORLD_ERROR="mktemp failed"; return 1; }
	WORLD_HINTS=$WORLD_RUN/root.hints
	_world_subst "$WORLD_DIR/root.hints" "$WORLD_HINTS" || { WORLD_ERROR="cannot write root hints"; return 1; }
	waits=""
	while read -r name octets zones; do
		case $name in '' | '#'*) continue ;; esac
		# shellcheck disable=SC2086
		_world_conf "$name" "$octets" $zones || { WORLD_ERROR=${WORLD_ERROR:-"cannot write the config of $name"}; return 1; }
		if ! out=$(knotc -c "$WORLD_RUN/$name/knot.conf" conf-check 2>&1); then
			WORLD_ERROR="knot config of $name: $out"
			return 1
		fi
		knotd -c "$WORLD_RUN/$name/knot.conf" >"$WORLD_RUN/$name/stdout" 2>&1 &
		world_track_pid $!
		first=$(echo "$zones" | awk '{print $1}')
		first=${first%%=*}
		want=""
		case " $zones" in *=@*) want=NOERROR ;; esac
		for o in $(echo "$octets" | tr ',' ' '); do
			waits="$waits $name=$WORLD_NET.$o=${first:-.}=$want"
		done
	done <"$WORLD_DIR/servers"
	for w in $waits; do
		name=${w%%=*}
		rest=${w#*=}
		addr=${rest%%=*}
		rest=${rest#*=}
		zone=${rest%%=*}
		want=${rest#*=}
		if ! _world_wait "$addr" "$zone" "$want"; then
			WORLD_ERROR="knotd $name does not answer on $addr: $(tail -n 3 "$WORLD_RUN/$name/knot.log" "$WORLD_RUN/$name/stdout" 2>/dev/null | tr '\n' ' ')"
			return 1
		fi
	done
	export WORLD_NET WORLD_HINTS WORLD_RUN WORLD_TSIG
	return 0
}

if [ "${1:-}" = run ]; then
	shift
	dir=$1
	shift
	[ "${1:-}" = -- ] && shift
	if ! world_start "$dir"; then
		echo "world: $WORLD_ERROR" >&2
		exit 1
	fi
	ZONEWARDEN_ROOT_HINTS=$WORLD_HINTS "$@"
	exit $?
fi
