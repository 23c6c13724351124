#!/bin/sh
# lint.sh - make lint: STYLE.md's banned functions and raw allocation, cppcheck, and a
# clang-format report. The banned-function check fails the run; clang-format differences
# are listed (a formatting pass is a separate commit, never mixed with behaviour).
set -u
cd "$(dirname "$0")/../.."
fail=0
src=$(git ls-files '*.c' '*.h' 2>/dev/null || find cmd reconcile providers tests -name '*.[ch]')

echo "== banned functions (sprintf strcpy strcat strtok atoi gets)"
hits=$(echo "$src" | xargs grep -Hn -E '\b(sprintf|vsprintf|strcpy|strcat|strtok|atoi|gets)\s*\(' | grep -v -E 'snprintf|vsnprintf' | grep -v -E '^[^:]*:[0-9]+:\s*(\*|/\*|//)')
if [ -n "$hits" ]; then echo "$hits"; fail=1; else echo "none"; fi

echo "== raw allocation outside reconcile/alloc.c"
raw=$(echo "$src" | grep -v -E '^(reconcile/alloc\.c|tests/)' | xargs grep -Hn -E '(^|[^_a-z])(malloc|calloc|realloc|strdup|strndup|free)\s*\(' \
	| grep -v -E 'zw_(malloc|calloc|realloc|strdup|strndup|free)|->(alloc|realloc|free)\(|cJSON_free|OPENSSL_free|ldns_[a-z_]*free|xmlFree|_free\(|// allowed')
if [ -n "$raw" ]; then echo "$raw"; fail=1; else echo "none"; fi

echo "== cppcheck"
if command -v cppcheck >/dev/null; then
	cppcheck --quiet --error-exitcode=1 --std=c11 --enable=warning,portability \
		--suppress=missingIncludeSystem --suppress=duplicateAssignExpression --inline-suppr -I. cmd reconcile providers 2>&1 || fail=1
else
	echo "cppcheck not installed (make deps)"; fail=1
fi

echo "== clang-format (report only)"
if command -v clang-format >/dev/null; then
	n=0
	for f in $(echo "$src" | grep -E '^(cmd|reconcile|providers)/'); do
		clang-format --dry-run "$f" 2>&1 | grep -q warning && n=$((n + 1))
	done
	echo "$n files differ from .clang-format"
fi
exit $fail
