#!/bin/sh
# prepare.sh - ready an esl build folder for a bare GPU machine.
#
#   sh bench/device/prepare.sh BUILD
#
# Run on the build machine after `cmake --build BUILD`. Copies the shared
# libraries that esl and bench_sampler load (jansson, libcsv, SQLite, GSL,
# PLplot and what they pull in) beside BUILD/src/esl, where the check scripts
# point LD_LIBRARY_PATH. The C library and the loader stay the GPU machine's
# own; so does cuBLAS (over 500 MB), which its CUDA toolkit provides.
set -u
build=${1:?usage: prepare.sh BUILD}
[ -x "$build/src/esl" ] || { echo "prepare: no esl in $build/src: build it first" >&2; exit 1; }
copied=0
for bin in "$build/src/esl" "$build/bench/bench_sampler"; do
  [ -x "$bin" ] || continue
  for lib in $(ldd "$bin" | awk '/=> \// {print $3}'); do
    case $(basename "$lib") in
      libc.so*|libm.so*|libpthread.so*|libdl.so*|librt.so*|ld-linux*) ;;
      *) [ -e "$build/src/$(basename "$lib")" ] && continue
         cp -L "$lib" "$build/src/" || exit 1
         copied=$((copied + 1)) ;;
    esac
  done
done
echo "prepare: $copied libraries copied beside $build/src/esl ($(du -sh "$build" | cut -f1) in $build)"
