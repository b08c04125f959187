#!/bin/sh
# calibrate-check.sh - the GPU check of the synthetic workload and the
# calibration, in at most 8 minutes on one H100 or H200 (docs/calibration.md,
# "GPU check").
#
#   sh bench/device/calibrate-check.sh BUILD [OUTDIR]
#
# BUILD is an esl build folder readied by bench/device/prepare.sh. Runs one
# short `esl bench`, then the real `esl calibrate` (a 270 s budget, or
# ESL_CHECK_BUDGET, over flux-dev, sd35-large, sd2 x bf16, fp32; the planner
# aims at 3 models x 3 resolutions x 2 step counts x 2 dtypes), and prints
# the fitted alpha, beta_dtype, beta_res, R^2 and the achieved TFLOP/s of the
# largest configuration against the dense peak. Writes to OUTDIR (default
# $OUT or .): calibration-runs.csv (the runs as a dataset, esl runs export),
# law-gpu.json, calibrate.txt, esl-runs.db. ESL_CHECK_CALIBRATE_IDLE (5s)
# and ESL_CHECK_MIN_RUN (1 s) shorten the idle windows and the runs for a
# rehearsal against the test stubs.
# Every step runs under its own `timeout`; their sum stays under 465 s at
# the default budget.
# Exit status: 0 when every step ran, 1 when one failed, 3 without a GPU.
set -u
build=${1:?usage: calibrate-check.sh BUILD [OUTDIR]}
outdir=${2:-${OUT:-.}}
esl=$build/src/esl
start=$(date +%s)
idle=${ESL_CHECK_CALIBRATE_IDLE:-5s}
repo=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$outdir"
# Libraries copied by prepare.sh, then the CUDA toolkit's and pip's cuBLAS.
pip_cublas=$(timeout 20 python3 -c 'import nvidia.cublas, os; print(os.path.join(list(nvidia.cublas.__path__)[0], "lib"))' 2>/dev/null || true)
LD_LIBRARY_PATH=$build/src:/usr/local/cuda/lib64:${pip_cublas:+$pip_cublas:}${LD_LIBRARY_PATH:-}
export LD_LIBRARY_PATH
# The module beside esl in the build tree is found by esl itself; the
# ESL_GPU_MODULE and ESL_NVML_LIBRARY of the caller are kept (test stubs).

echo "== GPU"                                                      # <= 20 s
timeout 20 nvidia-smi --query-gpu=name,driver_version,memory.total,power.limit --format=csv,noheader || echo "nvidia-smi failed"
timeout 10 "$esl" version || { echo "esl does not start: see the libraries above"; exit 1; }   # <= 10 s

echo "== one short run (esl bench, metered, not stored)"            # <= 45 s
timeout 45 "$esl" bench --model sd2 --height 512 --width 512 --steps 10 --prompts 4 --warmup 1 \
  --idle "$idle" --no-store
rc=$?
[ $rc -eq 3 ] && { echo "no GPU, NVIDIA driver or CUDA module (exit 3)"; exit 3; }
failed=0
[ $rc -ne 0 ] && { echo "esl bench failed (exit $rc); calibrating anyway"; failed=1; }

budget=${ESL_CHECK_BUDGET:-270}   # a smaller one to try the script with the test stubs
echo "== esl calibrate (budget $budget s)"                  # <= budget + 90 s
db=$outdir/esl-runs.db
law=$outdir/law-gpu.json
rm -f "$db" "$db-wal" "$db-shm" "$law"
timeout $((budget + 90)) "$esl" calibrate --budget "$budget" --models flux-dev,sd35-large,sd2 --dtypes bf16,fp32 \
  --idle "$idle" --min-run "${ESL_CHECK_MIN_RUN:-5}" --store "$db" -o "$law" -q >"$outdir/calibrate.txt"
rc=$?
cat "$outdir/calibrate.txt"
[ $rc -ne 0 ] && { echo "esl calibrate failed (exit $rc; 124: timed out)"; failed=1; }

echo "== the runs as a dataset"                                      # <= 15 s
if [ -s "$db" ]; then
  timeout 15 "$esl" runs export --store "$db" >"$outdir/calibration-runs.csv"
  echo "$(($(wc -l <"$outdir/calibration-runs.csv") - 1)) rows written to $outdir/calibration-runs.csv"
fi

echo "== summary"
# coef NAME: a coefficient of the law file (esl's indented JSON)
coef() {
  sed -n "/\"name\": \"$1\"/,/\"coef\"/p" "$law" | sed -n 's/^ *"coef": \([-0-9.e+]*\),*$/\1/p'
}
if [ -s "$law" ]; then
  printf 'alpha %s  beta_dtype(fp32 vs bf16) %s  beta_res %s  R2(ln E) %s\n' "$(coef alpha)" \
    "$(coef dtype=fp32)" "$(coef res)" \
    "$(sed -n 's/^ *"r2_log": \([-0-9.e+]*\),*$/\1/p' "$law")"
fi
sed -n '/^largest configuration/,/^$/p' "$outdir/calibrate.txt"
echo "paper, A100 (data/paper_a100.csv, all four models):"          # <= 15 s
timeout 15 "$esl" fit --data "$repo/data/paper_a100.csv" | grep -E '^(alpha|dtype=|res|R2)'
echo "elapsed: $(( $(date +%s) - start )) s"
exit $failed
