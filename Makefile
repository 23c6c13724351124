# zonewarden - top-level Makefile.
#
#   make           build ./zonewarden
#   make deps      install what is missing (apt-get; idempotent)
#   make test      deps, build, the whole suite, then the suite again under ASan/UBSan
#   make demo      (comes with the plan/apply issue)
#   make fuzz      libFuzzer targets with clang; FUZZ_SECONDS=N per target
#   make lint      cppcheck, clang-format check, banned functions
#   make valgrind  the case tests under valgrind
#
# Objects go to $(B) (build/ by default; build/asan for the sanitizer run), so the
# two builds never mix. Sources are found by wildcard: adding a module is adding a file.

PKGS     := yaml-0.1 libcjson libcurl openssl ldns libxml-2.0 libmicrohttpd
B        ?= build
CC       ?= cc
OPT      ?= -O2 -g
SAN      ?=
CFLAGS_ALL = -std=c11 -Wall -Wextra -Werror -Wno-format-truncation $(OPT) $(SAN) -D_DEFAULT_SOURCE -D_GNU_SOURCE \
	     -I. $(shell pkg-config --cflags $(PKGS) 2>/dev/null) $(CFLAGS)
LDLIBS_ALL = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -ldl -lpthread $(LDLIBS)

ENGINE_SRC := $(sort $(wildcard reconcile/*.c) $(wildcard providers/*.c) $(wildcard providers/*/*.c))
CMD_SRC    := $(sort $(wildcard cmd/*.c))
UNIT_SRC   := $(sort $(wildcard tests/unit/test_*.c))
ENGINE_OBJ := $(ENGINE_SRC:%.c=$(B)/%.o)
CMD_OBJ    := $(CMD_SRC:%.c=$(B)/%.o)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
PLUGIN_SRC := $(sort $(wildcard tests/plugins/*.c))
PLUGIN_SO  := $(PLUGIN_SRC:tests/plugins/%.c=$(B)/tests/plugins/%.so)
DIFF_SRC   := $(sort $(wildcard tests/diff/*_driver.c))
DIFF_BIN   := $(DIFF_SRC:tests/diff/%.c=$(B)/tests/diff/%)
LIB        := $(B)/libzonewarden.a
BIN        := $(if $(filter build,$(B)),zonewarden,$(B)/zonewarden)

.PHONY: all deps test test-unit test-cases test-diff test-integration test-asan test-fuzz-seeds fuzz lint valgrind clean demo bench
all: $(BIN)

$(B)/%.o: %.c $(wildcard reconcile/*.h providers/*.h cmd/*.h)
	@mkdir -p $(dir $@)
	@echo "CC $<"
	@$(CC) $(CFLAGS_ALL) -c -o $@ $<

$(LIB): $(ENGINE_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BIN): $(CMD_OBJ) $(LIB)
	$(CC) $(CFLAGS_ALL) -o $@ $(CMD_OBJ) $(LIB) $(LDLIBS_ALL)

$(B)/tests/%: tests/unit/%.c $(LIB) tests/unit/unit.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(LIB) $(LDLIBS_ALL) -lcmocka

$(B)/tests/diff/%: tests/diff/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(LIB) $(LDLIBS_ALL)

# Test plugins: one per directory, so each can be loaded alone with --plugin-dir.
$(B)/tests/plugins/%.so: tests/plugins/%.c providers/provider.h
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -Wall -Wextra -Werror -fPIC -shared -I. -o $@ $<

deps:
	@sh tests/tools/deps.sh

test-unit: $(UNIT_BIN) $(PLUGIN_SO)
	@fail=0; for t in $(UNIT_BIN); do \
		echo "== $$t"; ZW_TESTDATA=tests/data ZW_TEST_PLUGINS=$(B)/tests/plugins $$t || fail=1; \
	done; exit $$fail

test-cases: $(BIN)
	@sh tests/cases/run.sh ./$(BIN)

# Differential tests: our parsers against references no one here wrote (pyspf, Mail::SPF,
# dkimpy, Mail::DMARC). Each tests/diff/*.test is a script; drivers are built first.
test-diff: $(DIFF_BIN)
	@ZW_DIFF_BIN=$(B)/tests/diff sh tests/diff/run.sh

# Real servers on loopback: Knot worlds, a hostile responder (tests/integration/).
test-integration: $(BIN)
	@sh tests/integration/run.sh

# Every fuzz target once over its seed corpus (the fuzzers' regression mode).
test-fuzz-seeds:
	@sh tests/fuzz/run.sh 0 $(FUZZ_SRC)

# The sanitizer build: the unit, case and integration tests again, in build/asan.
test-asan:
	$(MAKE) B=build/asan OPT="-O1 -g -fno-omit-frame-pointer" \
		SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" test-unit test-cases
	ZW_BIN=build/asan/zonewarden sh tests/integration/apply.test
	ZW_BIN=build/asan/zonewarden sh tests/integration/controller.test
	ZW_BIN=build/asan/zonewarden sh tests/integration/operator.test

test: deps
	$(MAKE) all
	$(MAKE) test-unit
	$(MAKE) test-cases
	$(MAKE) test-diff
	$(MAKE) test-integration
	$(MAKE) test-asan
	$(MAKE) test-fuzz-seeds
	@echo "make test: all suites passed"

# The README's first command: a Knot world on loopback, and the whole loop on it.
demo: deps
	$(MAKE) all
	@sh demo/run.sh

valgrind: $(BIN)
	@ZW_VALGRIND=1 sh tests/cases/run.sh ./$(BIN)

FUZZ_SECONDS ?= 10
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
fuzz:
	@sh tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_SRC)

lint:
	@sh tests/tools/lint.sh

clean:
	rm -rf build zonewarden
