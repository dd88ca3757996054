#!/bin/sh
# test_install.sh BUILD_DIR SOURCE_DIR
#
# Packaging test: install the built project into a temporary prefix, then
#  1. configure and build examples/CMakeLists.txt with find_package(ringcore)
#     (shared and static targets) and run both programs;
#  2. compile examples/embed.c with `pkg-config --cflags --libs ringcore`
#     and run it.
# A program passes with exit status 0: it linked, ran, and the guest did
# what it should (examples/embed.c checks its console output, the port
# value and the instruction count). 3 means ringcore reported
# "unsupported", 1 any other failure: both fail this test.
set -eu

build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ringcore-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
prefix="$tmp/prefix"
failures=0

step() { printf '== %s\n' "$*"; }

run_example() {
    name=$1
    shift
    set +e
    "$@" >"$tmp/$name.out" 2>&1
    status=$?
    set -e
    sed 's/^/   | /' "$tmp/$name.out"
    case $status in
    0) step "$name: OK" ;;
    3) step "$name: FAILED: linked and ran, but ringcore reported unsupported (exit 3)"
       failures=$((failures + 1)) ;;
    *) step "$name: FAILED (exit $status)"; failures=$((failures + 1)) ;;
    esac
}

step "install into $prefix"
cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1 || {
    cat "$tmp/install.log"; exit 1; }
for f in include/ringcore.h; do
    [ -f "$prefix/$f" ] || { step "missing $f"; exit 1; }
done
config=$(find "$prefix" -name ringcoreConfig.cmake | head -n 1)
pcfile=$(find "$prefix" -name ringcore.pc | head -n 1)
[ -n "$config" ] || { step "ringcoreConfig.cmake not installed"; exit 1; }
[ -n "$pcfile" ] || { step "ringcore.pc not installed"; exit 1; }

# A sanitizer build installs instrumented libraries: consumers need the
# same runtime.
san=""
if grep -q '^RC_SANITIZE:BOOL=ON' "$build/CMakeCache.txt" 2>/dev/null; then
    san="-fsanitize=address,undefined"
    step "sanitizer build: consumers are built with $san"
fi

step "find_package(ringcore): configure and build examples/"
cmake -S "$src/examples" -B "$tmp/example" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS="$san" -DCMAKE_EXE_LINKER_FLAGS="$san" \
    >"$tmp/configure.log" 2>&1 || {
    cat "$tmp/configure.log"; exit 1; }
cmake --build "$tmp/example" >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; exit 1; }
run_example "find_package shared" "$tmp/example/embed"
run_example "find_package static" "$tmp/example/embed_static"

if ! command -v pkg-config >/dev/null 2>&1; then
    step "skip: pkg-config not found, the pkg-config half is not tested"
    [ "$failures" -eq 0 ] || exit 1
    exit 0
fi
step "pkg-config --cflags --libs ringcore"
pcdir=$(dirname "$pcfile")
libdir=$(dirname "$pcdir")
# The .pc is relocatable (prefix from ${pcfiledir}): no override needed.
flags=$(PKG_CONFIG_PATH="$pcdir" pkg-config --cflags --libs ringcore)
case "$flags" in
*"$prefix"*) ;;
*) echo "pkg-config flags do not point into the install prefix $prefix: $flags"; exit 1 ;;
esac
printf '   flags: %s\n' "$flags"
# shellcheck disable=SC2086
${CC:-cc} $san -o "$tmp/embed_pc" "$src/examples/embed.c" $flags -Wl,-rpath,"$libdir"
run_example "pkg-config" "$tmp/embed_pc"
if [ "$failures" -ne 0 ]; then
    step "$failures program(s) failed"
    exit 1
fi
step "all passed"
