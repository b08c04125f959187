#!/bin/sh
# Rehearse bench/device/check.sh - the one-call GPU check - on a machine
# without a GPU, so that it is known to run before a GPU is at hand. The
# NVML stub meters, the GPU-module stub "runs" the layer plans, and stand-ins
# for nvidia-smi, ncu and PyTorch (tests/stubs) answer what the scripts ask.
#   rehearse.sh BUILD
# BUILD is the build tree (src/esl, bench/bench_sampler, tests/*stub*.so).
# Checks that every step ran, what each summary says, and that OUT holds the
# files the check promises. Skipped (77) without python3.
set -u
build=$(cd "${1:?usage: rehearse.sh BUILD}" && pwd)
root=$(cd "$(dirname "$0")/../.." && pwd)
command -v python3 >/dev/null 2>&1 || { echo "no python3: skipped"; exit 77; }
tmp=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

unset ESL_STUB_COUNTER ESL_STUB_GPUS ESL_STUB_SCRIPT ESL_GPU_STUB_FAIL ESL_GPU_STUB_NAME ESL_MODEL_PATH
export PATH="$root/tests/stubs:$PATH" PYTHONPATH="$root/tests/stubs"
export ESL_NVML_LIBRARY=$build/tests/libnvml_stub_full.so ESL_GPU_MODULE=$build/tests/libgpu_stub.so
export ESL_STUB_POWER_W=200 ESL_GPU_STUB_TFLOPS=fp16=40000,bf16=40000,fp32=10000,tf32=20000
export ESL_CHECK_IDLE=0.3s ESL_CHECK_SLEEP=1 ESL_CHECK_LOAD_S=2 ESL_CHECK_SAMPLER_S=0.3
# the stub draws 200 W idle or not: no idle window in the calibration, so
# that its energies are all dynamic and fit
export ESL_CHECK_BUDGET=6 ESL_CHECK_MIN_RUN=0.11 ESL_CHECK_CALIBRATE_IDLE=0

sh "$root/bench/device/check.sh" "$build" "$tmp/out" >"$tmp/stdout" 2>&1
rc=$?
[ $rc -eq 0 ] || fail "check.sh exited $rc: $(tail -n 30 "$tmp/stdout")"
out=$tmp/out
for f in check.txt measure-summary.txt calibrate.txt calibration-runs.csv law-gpu.json \
         ncu-summary.txt ncu.csv rest.tar.gz; do
  [ -s "$out/$f" ] || fail "OUT lacks $f: $(ls "$out")"
done
[ "$(ls "$out" | wc -l)" -le 8 ] || fail "more than 8 files in OUT: $(ls "$out")"
for s in "smoke: exit 0" "measure-check: exit 0" "calibrate-check: exit 0"; do
  grep -qx "$s" "$out/check.txt" || fail "check.txt lacks '$s'"
done
# smoke: every kind of plan ran and executed its dry run's FLOPs
[ "$(grep -c '^[^ ]* [a-z0-9]*[^:]*: [^ ]*,"Stub GPU 0",' "$out/check.txt")" = 7 ] ||
  fail "smoke runs: $(grep -B1 -A8 '1. smoke' "$out/check.txt")"
# measurement: 200 W everywhere, so the three methods agree and idle cancels
for m in "esl trace" "nvidia-smi"; do
  pct=$(sed -n "s/^$m *[0-9.]* J (\([-+][0-9.]*\) % vs counter.*/\1/p" "$out/measure-summary.txt")
  [ -n "$pct" ] || fail "no '$m' line: $(cat "$out/measure-summary.txt")"
  awk -v p="$pct" 'BEGIN { exit !(p > -2 && p < 2) }' || fail "$m differs from the counter by $pct %"
done
# On a loaded machine (a sanitizer build beside other jobs) `sleep 1` may take
# longer (any time from 1 s is accepted: the child is real), and the stub's counter and esl's clock, read a moment apart, may give
# 199.97 W: the 200 W stub's idle within 1 %.
idle=$(sed -n 's/^idle \([0-9.]*\) W, total .* J over [1-9]\.[0-9]* s.*/\1/p' "$out/measure-summary.txt")
[ -n "$idle" ] && awk -v w="$idle" 'BEGIN { exit !(w > 198 && w < 202) }' ||
  fail "idle check: $(cat "$out/measure-summary.txt")"
grep -q "CPU ms per s" "$out/measure-summary.txt" || fail "no sampler overhead table"
# the counter's period from the 250 Hz trace (the stub's counter moves at
# every read: a few milliseconds), and the calibration's budget guard
grep -Eq "^counter period: median [0-9.]+ ms over [0-9]+ steps" "$out/check.txt" ||
  fail "no counter period: $(grep -A2 '2b. counter' "$out/check.txt")"
grep -q "^calibration budget [0-9]* s$" "$out/check.txt" || fail "no calibration budget line"
grep -q "^cuBLAS folders on esl's path:" "$out/check.txt" || fail "no cuBLAS line"
# calibration: rows stored, a law fitted and summarised, the paper's fit beside it
rows=$(($(wc -l <"$out/calibration-runs.csv") - 1))
[ "$rows" -ge 12 ] || fail "only $rows calibration rows"
grep -q "kept out of the fit" "$out/check.txt" && fail "runs kept out of the fit: $(grep "kept out" "$out/check.txt")"
grep -Eq '^alpha [0-9.e+-]+  beta_dtype\(fp32 vs bf16\) [0-9.e+-]+  beta_res [0-9.e+-]+  R2\(ln E\) [0-9.e+-]+$' \
  "$out/check.txt" || fail "no law summary: $(grep -A3 '== summary' "$out/check.txt")"
grep -q "^alpha *0.88" "$out/check.txt" || fail "no paper A100 fit beside it"
# ncu: the stand-in's 10 ms split by kind
grep -q "^4 kernel launches, 10.00 ms of GPU time in all$" "$out/ncu-summary.txt" ||
  fail "ncu summary: $(cat "$out/ncu-summary.txt")"
grep -Eq "^GEMM \(cuBLAS\) +2 +7.50 +75.0%$" "$out/ncu-summary.txt" || fail "GEMM share: $(cat "$out/ncu-summary.txt")"
grep -Eq "^softmax \(attention\) +1 +2.00 +20.0%$" "$out/ncu-summary.txt" || fail "softmax share"
tar -tzf "$out/rest.tar.gz" | grep -q "measure/runs.db" || fail "rest.tar.gz lacks the run store"
echo "ok: check.sh rehearsed in $(sed -n 's/^==== done after \([0-9]*\) s.*/\1/p' "$out/check.txt") s"
