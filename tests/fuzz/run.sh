#!/bin/sh
# run.sh SECONDS fuzz_x.c... - build each libFuzzer target with clang (ASan+UBSan) and run
# it for SECONDS on its corpus (tests/fuzz/corpus/<x>/, seeds checked in). SECONDS=0 runs
# each target once over its seed corpus only (the regression mode `make test` uses).
# A crash leaves the reproducer in build/fuzz/ and fails.
set -eu
secs=$1; shift
make -s B=build/fuzz CC=clang OPT="-O1 -g" CFLAGS=-Wno-unknown-warning-option \
	SAN="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all" build/fuzz/libzonewarden.a
CFL="-std=c11 -D_DEFAULT_SOURCE -D_GNU_SOURCE -I. $(pkg-config --cflags yaml-0.1 libcjson openssl ldns libxml-2.0)"
LIBS="$(pkg-config --libs yaml-0.1 libcjson libcurl openssl ldns libxml-2.0 libmicrohttpd) -ldl -lpthread"
fail=0
for src in "$@"; do
	name=$(basename "$src" .c)
	short=${name#fuzz_}
	bin=build/fuzz/$name
	clang $CFL -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-o "$bin" "$src" build/fuzz/libzonewarden.a $LIBS
	corpus=tests/fuzz/corpus/$short
	mkdir -p "$corpus" "build/fuzz/work/$short"
	if [ "$secs" = 0 ]; then
		"$bin" -runs=0 "$corpus" >"build/fuzz/$name.log" 2>&1 || { echo "FAIL $name (see build/fuzz/$name.log)"; fail=1; continue; }
	else
		"$bin" -max_total_time="$secs" -print_final_stats=1 -rss_limit_mb=1024 -artifact_prefix="build/fuzz/$name-" \
			"build/fuzz/work/$short" "$corpus" >"build/fuzz/$name.log" 2>&1 || { echo "FAIL $name (see build/fuzz/$name.log)"; fail=1; continue; }
	fi
	echo "ok   $name $(grep -o 'stat::number_of_executed_units: [0-9]*' "build/fuzz/$name.log" | tail -1 || true)"
done
exit $fail
