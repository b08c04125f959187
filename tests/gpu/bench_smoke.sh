#!/bin/sh
# A short `esl bench` on a real GPU: SD2 at 256x256, 2 steps, each dtype.
# Checks exit 0, a positive duration and the executed FLOPs of the dry run.
# Skipped (77) where there is no GPU. Usage: bench_smoke.sh ESL
set -u
esl=$1
if [ ! -e /dev/nvidia0 ] && ! nvidia-smi -L >/dev/null 2>&1; then
  echo "no GPU: skipped"
  exit 77
fi
args="--model sd2 --height 256 --width 256 --steps 2 --warmup 1 --no-store --idle 0"
want=$("$esl" bench $args --dry-run --format json | sed -n 's/^  "exec_flops": \([0-9]*\),*$/\1/p')
for dtype in fp16 bf16 fp32 tf32; do
  line=$("$esl" bench $args --dtype "$dtype" --format csv | tail -n 1) || { echo "$dtype: esl bench failed"; exit 1; }
  echo "$dtype: $line"
  echo "$line" | awk -F, -v want="$want" '{
    n = split($0, f, ",")
    # duration_s, exec_flops follow the quoted device name
    for (i = 1; i <= n; i++) if (f[i] ~ /^"/) break
    d = f[i + 1]; e = f[i + 2]
    if (!(d > 0)) { print "duration " d " is not positive"; exit 1 }
    if (e != want) { print "executed FLOPs " e " != dry run " want; exit 1 }
  }' || exit 1
done
