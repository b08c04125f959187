#!/bin/sh
# Install esl into a temporary prefix, then build and run examples/flops.c
# against it twice: with pkg-config, and with CMake's find_package(esl).
# Usage: run.sh BUILD_DIR SOURCE_DIR
set -eu
build=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
libdir=$(ls -d "$tmp"/prefix/lib*/pkgconfig | head -n1)
libdir=${libdir%/pkgconfig}
export LD_LIBRARY_PATH="$libdir"

# pkg-config
# shellcheck disable=SC2046,SC2086
cc -std=c17 ${ESL_CONSUMER_CFLAGS:-} "$src/examples/flops.c" -o "$tmp/with-pkgconfig" \
  $(PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config --cflags --libs esl)
out=$("$tmp/with-pkgconfig")
echo "pkg-config: $out"
case $out in "flux-dev 1024x1024, 50 steps: 3360134615484416 FLOPs per image"*) ;; *) echo "unexpected output"; exit 1;; esac

# find_package(esl)
cmake -S "$src/tests/install/consumer" -B "$tmp/consumer" -DCMAKE_PREFIX_PATH="$tmp/prefix" \
  -DEXAMPLE_SOURCE="$src/examples/flops.c" -DCMAKE_C_FLAGS="${ESL_CONSUMER_CFLAGS:-}" >/dev/null
cmake --build "$tmp/consumer" >/dev/null
out=$("$tmp/consumer/consumer")
echo "find_package: $out"
case $out in "flux-dev 1024x1024, 50 steps: 3360134615484416 FLOPs per image"*) ;; *) echo "unexpected output"; exit 1;; esac
test -f "$tmp/prefix/share/man/man1/esl-flops.1"
test -x "$tmp/prefix/bin/esl"
echo "install: ok"
