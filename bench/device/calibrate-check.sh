#!/bin/sh
# calibrate-check.sh - the GPU check of the synthetic workload, in at most
# 8 minutes on one H100 or H200 (docs/calibration.md, "GPU check").
#
#   on the build machine:  sh bench/device/calibrate-check.sh --prepare BUILD
#       copies the shared libraries esl needs that a bare GPU machine may lack
#       (jansson, libcsv) beside BUILD/src/esl; cuBLAS is not copied (over
#       500 MB): the GPU machine's CUDA 13 toolkit provides it.
#   on the GPU machine:    sh bench/device/calibrate-check.sh BUILD [OUTDIR]
#       runs `esl bench` over 3 models x 3 resolutions x 2 step counts x
#       {bf16, fp32} (36 runs, CFG off, batch 1), writes the runs as CSV to
#       OUTDIR/calibration-runs.csv (default $OUT or .), and prints the
#       achieved TFLOP/s of the largest configuration against the dense peak.
# Every step runs under `timeout`; runs stop being started after 420 s.
set -u

if [ "${1:-}" = --prepare ]; then
  build=${2:?usage: calibrate-check.sh --prepare BUILD}
  for lib in $(ldd "$build/src/esl" | awk '/=> \// {print $3}'); do
    case $(basename "$lib") in
      libc.so*|libm.so*|libpthread.so*|libdl.so*|librt.so*|ld-linux*) ;;
      *) cp -L "$lib" "$build/src/" && echo "copied $lib beside $build/src/esl" ;;
    esac
  done
  exit 0
fi

build=${1:?usage: calibrate-check.sh BUILD [OUTDIR]}
outdir=${2:-${OUT:-.}}
esl=$build/src/esl
csv=$outdir/calibration-runs.csv
start=$(date +%s)
mkdir -p "$outdir"
# Libraries copied by --prepare, then the CUDA toolkit's and pip's cuBLAS.
pip_cublas=$(timeout 30 python3 -c 'import nvidia.cublas, os; print(os.path.join(list(nvidia.cublas.__path__)[0], "lib"))' 2>/dev/null || true)
LD_LIBRARY_PATH=$build/src:/usr/local/cuda/lib64:${pip_cublas:+$pip_cublas:}${LD_LIBRARY_PATH:-}
export LD_LIBRARY_PATH

echo "== GPU"
timeout 20 nvidia-smi --query-gpu=name,driver_version,memory.total,power.limit --format=csv,noheader || echo "nvidia-smi failed"
timeout 10 "$esl" version || { echo "esl does not start: see the libraries above"; exit 1; }

echo "== sweep (runs are CSV rows of esl bench)"
rm -f "$csv"
runs=0
skipped=0
for dtype in bf16 fp32; do
  for model in sd2 sd35-large flux-dev; do
    for side in 256 512 1024; do
      for steps in 10 20; do
        if [ $(( $(date +%s) - start )) -gt 420 ]; then
          skipped=$((skipped + 1))
          continue
        fi
        line=$(timeout 150 "$esl" bench --model "$model" --height "$side" --width "$side" \
               --steps "$steps" --dtype "$dtype" --warmup 1 --format csv)
        rc=$?
        if [ $rc -ne 0 ]; then
          echo "$model $side $steps $dtype: esl bench failed (exit $rc)"
          [ $rc -eq 3 ] && exit 3
          continue
        fi
        [ -s "$csv" ] || echo "$line" | head -n 1 >"$csv"
        echo "$line" | tail -n 1 >>"$csv"
        echo "$line" | tail -n 1 | awk -F, '{printf "%-11s %5sx%-5s %3s steps %s: %8.3f s %8.1f TFLOP/s\n", $1, $2, $3, $4, $6, $(NF-7), $(NF-4)}'
        runs=$((runs + 1))
      done
    done
  done
done
echo "$runs runs written to $csv; $skipped not started (time limit)"

echo "== largest configuration against the dense peak"
for dtype in bf16 fp32; do
  awk -F, -v d="$dtype" 'NR > 1 && $6 == d && $(NF-6) + 0 > best { best = $(NF-6) + 0; row = $0 }
    END {
      if (row == "") { print d ": no run"; exit }
      n = split(row, f, ",")
      peak = f[n-3]; frac = f[n-2]
      printf "%s: %s %sx%s %s steps: %.1f TFLOP/s", d, f[1], f[2], f[3], f[4], f[n-4]
      if (peak != "") printf " = %.1f%% of the %.1f TFLOP/s dense peak\n", 100 * frac, peak
      else printf " (GPU not in data/gpu_peaks.csv: no ratio)\n"
    }' "$csv"
done
echo "law fit: not part of this build (esl fit arrives with the law module); fit $csv there"
echo "elapsed: $(( $(date +%s) - start )) s"
