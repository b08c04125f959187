#!/bin/sh
# A short `esl bench` on a real GPU at 256x256, 2 steps: SD2 in each dtype,
# then one run of each other kind of layer plan. Checks exit 0, a positive
# duration and the executed FLOPs of the dry run.
# Skipped (77) where there is no GPU. Usage: bench_smoke.sh ESL
set -u
esl=$1
if [ ! -e /dev/nvidia0 ] && ! nvidia-smi -L >/dev/null 2>&1; then
  echo "no GPU: skipped"
  exit 77
fi
data=$(cd "$(dirname "$0")/../data" && pwd)
# sd2 in every dtype; then in bf16 the kernels the other layer plans add:
# MMDiT joint attention and CFG (sd35-large), causal 3-D convolutions
# (qwen-image's VAE), linear attention and depthwise convolutions (Sana).
for run in "sd2 fp16" "sd2 bf16" "sd2 fp32" "sd2 tf32" "sd35-large bf16 --cfg" \
           "qwen-image bf16" "$data/sana-arch-only.json bf16 --cfg"; do
  set -- $run
  case $1 in
  */*) model="--arch $1" ;;
  *) model="--model $1" ;;
  esac
  dtype=$2
  shift 2
  args="$model --height 256 --width 256 --steps 2 --warmup 1 --no-store --idle 0 $*"
  want=$("$esl" bench $args --dry-run --format json | sed -n 's/^  "exec_flops": \([0-9]*\),*$/\1/p')
  line=$("$esl" bench $args --dtype "$dtype" --format csv | tail -n 1) || { echo "$run: esl bench failed"; exit 1; }
  echo "$run: $line"
  echo "$line" | awk -F, -v want="$want" '{
    n = split($0, f, ",")
    # duration_s, exec_flops follow the quoted device name
    for (i = 1; i <= n; i++) if (f[i] ~ /^"/) break
    d = f[i + 1]; e = f[i + 2]
    if (!(d > 0)) { print "duration " d " is not positive"; exit 1 }
    if (e != want) { print "executed FLOPs " e " != dry run " want; exit 1 }
  }' || exit 1
done
