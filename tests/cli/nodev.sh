#!/bin/sh
# `esl bench` without --dry-run on a machine with no GPU: exit status 3 and
# exactly one line on stderr that says no GPU, no GPU workload or no NVIDIA
# driver (for the meter) is available. Skipped (77) where a GPU is present, since the run would work.
# Usage: nodev.sh ESL
set -u
esl=$1
if [ -e /dev/nvidia0 ] || nvidia-smi -L >/dev/null 2>&1; then
  echo "a GPU is present: the no-GPU path cannot be tested here"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ESL_NVML_LIBRARY= ESL_GPU_MODULE= "$esl" bench --model sd2 --height 256 --width 256 --steps 2 >"$tmp/out" 2>"$tmp/err" </dev/null
code=$?
fail=0
if [ "$code" != 3 ]; then echo "exit status $code, expected 3"; fail=1; fi
if [ -s "$tmp/out" ]; then echo "unexpected stdout:"; cat "$tmp/out"; fail=1; fi
if [ "$(wc -l <"$tmp/err")" != 1 ]; then echo "stderr is not one line:"; cat "$tmp/err"; fail=1; fi
if ! grep -q '^esl: bench: no \(GPU\|NVIDIA driver\)' "$tmp/err"; then
  echo "stderr does not start with 'esl: bench: no GPU' or 'esl: bench: no NVIDIA driver':"
  cat "$tmp/err"; fail=1
fi
exit $fail
