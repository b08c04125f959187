#!/bin/sh
# check.sh - every GPU check of esl in one call of at most 9.5 minutes.
#
#   on the build machine:  cmake -S . -B build -G Ninja && cmake --build build
#                          sh bench/device/prepare.sh build
#   on the GPU machine:    sh bench/device/check.sh build [OUT]
#
# Steps, in order of importance, each under its own `timeout`, and the last
# only while time is left of a 570 s deadline:
#   1. tests/gpu/bench_smoke.sh: each kind of layer plan runs once (<= 90 s)
#   2. measure-check.sh: idle check, counter vs trace vs nvidia-smi under a
#      bf16 matmul load, the sampler's overhead (<= 100 s); then a 3 s trace
#      at 250 Hz of the idle GPU, whose energy-counter steps give the
#      counter's update period (<= 15 s)
#   3. calibrate-check.sh with a 180 s budget (less when the steps before
#      took long, so that the fit always lands before the deadline): 3 models
#      x 3 resolutions x 2 step counts x bf16, fp32, 5 s runs; the law and
#      the peak ratio (<= budget + 195 s)
#   4. ncu: GPU time of one flux-dev 1024x1024 bf16 step by kind of kernel
#      (GEMM, softmax, element-wise, im2col), to tell why the workload reaches
#      the fraction of the dense peak it reaches; at most ESL_CHECK_NCU_LAUNCHES
#      (800) launches, at the GPU's own clocks (--clock-control none) (<= 150 s)
# cuBLAS is looked for in the CUDA toolkit (CUDA_HOME, /usr/local/cuda), in
# the pip wheels' layout (nvidia/cu13/lib, nvidia/cublas/lib) and in every
# site-packages folder python3 knows; the folders found go on esl's path.
# OUT (default $OUT, else a temporary folder) receives at most 8 files:
# check.txt (all of the above), measure-summary.txt, calibrate.txt,
# calibration-runs.csv, law-gpu.json, ncu-summary.txt, ncu.csv and
# rest.tar.gz (run stores, traces, JSON records).
# ESL_CHECK_BUDGET, ESL_CHECK_IDLE, ESL_CHECK_LOAD_S... are passed on to the
# scripts, to rehearse this one against the test stubs (tests/device).
# Exit status: 0 when every step ran, 1 when one failed, 3 without a GPU.
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=$(cd "${1:?usage: check.sh BUILD [OUT]}" && pwd) || exit 1
out=${2:-${OUT:-$(mktemp -d)}}
mkdir -p "$out" || exit 1
work=$(mktemp -d)
log=$out/check.txt
: >"$log"
start=$(date +%s)
deadline=570
failed=0
say() { echo "$*" | tee -a "$log"; }
elapsed() { echo $(($(date +%s) - start)); }
if ! command -v nvidia-smi >/dev/null 2>&1; then
  echo "check: nvidia-smi not found: no NVIDIA driver here" >&2
  exit 3
fi
# esl's libraries (copied beside it by prepare.sh) and cuBLAS's go on the
# path of esl alone, never of the tools around it (ncu, PyTorch).
cublas_dirs() {
  for d in ${CUDA_HOME:+"$CUDA_HOME/lib64"} ${CUDA_PATH:+"$CUDA_PATH/lib64"} /usr/local/cuda/lib64 \
           /usr/lib/x86_64-linux-gnu /usr/lib/aarch64-linux-gnu; do
    ls "$d"/libcublas.so* >/dev/null 2>&1 && echo "$d"
  done
  # pip wheels: nvidia-cublas-cu12 (nvidia/cublas/lib) and the CUDA 13
  # layout (nvidia/cu13/lib/libcublas.so.13), wherever site-packages are
  timeout 20 python3 - <<'PY' 2>/dev/null
import glob, os, site, sys
roots = list(getattr(site, "getsitepackages", lambda: [])()) + [site.getusersitepackages()] + sys.path
seen = set()
for root in roots:
    for pattern in ("nvidia/cu*/lib/libcublas.so*", "nvidia/cublas/lib/libcublas.so*"):
        for f in glob.glob(os.path.join(root, pattern)):
            d = os.path.dirname(os.path.realpath(f))
            if d not in seen:
                seen.add(d)
                print(d)
PY
}
esl_ld=$build/src
for d in $(cublas_dirs | awk '!seen[$0]++'); do
  esl_ld=$esl_ld:$d
done
esl_ld=$esl_ld${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
say "esl check on $(uname -n) at $(date -u '+%Y-%m-%dT%H:%M:%SZ')"
env LD_LIBRARY_PATH="$esl_ld" "$build/src/esl" version 2>&1 | tee -a "$log"
# where the CUDA module's libraries resolve: "not found" here explains a
# bench that exits 3
env LD_LIBRARY_PATH="$esl_ld" ldd "$build/lib/gpu/libesl_gpu.so" 2>&1 |
  grep -E "cublas|cudart|not found" | tee -a "$log"
say "cuBLAS folders on esl's path: $(cublas_dirs | awk '!seen[$0]++' | tr '\n' ' ')"

# step NAME SECONDS CMD...: run CMD under a timeout, logged, and note a failure
step() {
  name=$1 limit=$2
  shift 2
  ( timeout "$limit" "$@"; echo $? >"$work/rc" ) 2>&1 | tee -a "$log"
  rc=$(cat "$work/rc"); say "$name: exit $rc"
  [ "$rc" = 0 ] || failed=1
}

say "==== 1. smoke: one run of each kind of layer plan (at $(elapsed) s)"
step smoke 90 env LD_LIBRARY_PATH="$esl_ld" sh "$repo/tests/gpu/bench_smoke.sh" "$build/src/esl"

say "==== 2. measurement (at $(elapsed) s)"
step measure-check 100 sh "$here/measure-check.sh" "$build" "$work/measure"

say "==== 2b. counter period: 3 s of the idle GPU at 250 Hz (at $(elapsed) s)"
# every reading of the energy counter, unaligned; the median time between
# its changes is how often it updates
env LD_LIBRARY_PATH="$esl_ld" timeout 15 "$build/src/esl" measure --hz 250 --idle 0 --no-align \
  --no-store --trace "$work/period-trace.csv" -- sleep 3 >"$work/period.txt" 2>&1
awk -F, 'NR > 1 && $2 == 0 && $5 != "" {
    if (have && $5 != last) { if (prev != "") gaps[n++] = $1 - prev; prev = $1 }
    last = $5; have = 1 }
  END { if (n < 3) { print "counter period: fewer than 3 steps in the trace"; exit }
        for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (gaps[j] < gaps[i]) { t = gaps[i]; gaps[i] = gaps[j]; gaps[j] = t }
        printf "counter period: median %.1f ms over %d steps (min %.1f, max %.1f ms)\n",
               1000 * gaps[int(n / 2)], n, 1000 * gaps[0], 1000 * gaps[n - 1] }' \
  "$work/period-trace.csv" 2>&1 | tee -a "$log"

say "==== 3. calibration (at $(elapsed) s)"
# The budget guard: esl calibrate stops before a run that would pass its
# budget and fits what it has; the budget leaves the fit, the summary and
# ncu's minute before the deadline.
budget=${ESL_CHECK_BUDGET:-180}
room=$((deadline - $(elapsed) - 150))
[ "$room" -lt "$budget" ] && budget=$room
[ "$budget" -lt 5 ] && budget=5
say "calibration budget $budget s"
step calibrate-check $((budget + 195)) env ESL_CHECK_BUDGET="$budget" \
  sh "$here/calibrate-check.sh" "$build" "$work/calibrate"

say "==== 4. GPU time by kind of kernel, flux-dev 1024x1024 bf16, one step (at $(elapsed) s)"
left=$((deadline - $(elapsed)))
if ! command -v ncu >/dev/null 2>&1; then
  say "ncu not found: skipped"
elif [ "$left" -lt 60 ]; then
  say "only $left s left of the $deadline s deadline: skipped"
else
  limit=$((left < 150 ? left : 150))
  timeout "$limit" ncu --metrics gpu__time_duration.sum --print-units base --csv \
    --clock-control none --launch-count "${ESL_CHECK_NCU_LAUNCHES:-800}" \
    --log-file "$work/ncu.csv" env LD_LIBRARY_PATH="$esl_ld" "$build/src/esl" bench --model flux-dev --height 1024 --width 1024 \
    --steps 1 --prompts 1 --warmup 0 --dtype bf16 --idle 0 --no-store >"$work/ncu-bench.txt" 2>&1
  say "ncu: exit $? after $(elapsed) s; $(wc -l <"$work/ncu.csv" 2>/dev/null || echo 0) lines"
  python3 "$here/ncu_summary.py" "$work/ncu.csv" 2>&1 | tee "$work/ncu-summary.txt" | tee -a "$log"
fi

say "==== done after $(elapsed) s, exit $failed"
cp "$work/measure/summary.txt" "$out/measure-summary.txt" 2>/dev/null
for f in calibrate.txt calibration-runs.csv law-gpu.json; do
  cp "$work/calibrate/$f" "$out/$f" 2>/dev/null
done
cp "$work/ncu-summary.txt" "$work/ncu.csv" "$out/" 2>/dev/null
tar -czf "$out/rest.tar.gz" -C "$work" . 2>/dev/null
rm -rf "$work"
exit $failed
