#!/bin/sh
# `esl bench` and `esl calibrate` end to end on machines without a GPU: the
# NVML stub meters, the GPU-module stub "runs" the plan in exactly
# executed FLOPs / throughput seconds (tests/stubs/gpu_stub.c). Both run on
# the NVML stub's virtual clock (ESL_STUB_CLOCK=virtual): a run's window is
# its loop time plus the edges' 1 ms polls on every run, however loaded the
# machine, so energies are checked to the counter's millijoules and a run
# takes no real time. esl calibrate's budget guard reads the same clock.
#   bench_stub.sh CASE ESL BUILD_TESTS_DIR
# Each case exits non-zero with a message on the first failed check.
set -u
case_name=$1
esl=$2
export ESL_NVML_LIBRARY=$3/libnvml_stub_full.so
export ESL_GPU_MODULE=$3/libgpu_stub.so
export ESL_STUB_CLOCK=virtual
unset ESL_STUB_POWER_W ESL_STUB_COUNTER ESL_STUB_GPUS ESL_GPU_STUB_FAIL ESL_GPU_STUB_NAME
unset ESL_STUB_POWERS ESL_STUB_PCI ESL_STUB_NAME ESL_GPU_STUB_PCI CUDA_VISIBLE_DEVICES CUDA_DEVICE_ORDER
unset ESL_GPU_STUB_FAIL_RUNS ESL_GPU_STUB_SLOW_AFTER ESL_GPU_STUB_SLOW_FACTOR
unset ESL_GPU_STUB_TFLOPS ESL_MODEL_PATH
tmp=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
db=$tmp/runs.db

fail() { echo "FAIL: $*"; exit 1; }
# json_num KEY FILE: the number after "KEY": in esl's indented JSON
json_num() { sed -n "s/^ *\"$1\": \(-\{0,1\}[0-9][0-9.e+-]*\),\{0,1\}\$/\1/p" "$2" | head -n 1; }
# coef NAME FILE: a law file's (or esl fit's) coefficient of feature NAME
coef() { sed -n "/\"name\": \"$1\"/,/\"coef\"/p" "$2" | json_num coef /dev/stdin; }
# close A B REL: |A - B| <= REL |B|
# within A B ABS: |A - B| <= ABS
within() { awk -v a="$1" -v b="$2" -v e="$3" 'BEGIN { d = a - b; exit !(d <= e && -d <= e) }'; }
close() { awk -v a="$1" -v b="$2" -v r="$3" 'BEGIN { d = a - b; if (d < 0) d = -d;
  m = b < 0 ? -b : b; exit !(d <= r * m) }'; }

# One run: every label of a dataset row, the executed FLOPs of the dry run,
# the stub's exact loop time, the meter's energy, the peak ratio of a known GPU.
bench_labels() {
  args="--model sd2 --height 512 --width 768 --steps 15 --cfg --dtype fp16 --prompts 2 --batch 3"
  "$esl" bench $args --dry-run --format json >"$tmp/plan.json" || fail "dry run"
  want=$(json_num exec_flops "$tmp/plan.json")
  ESL_STUB_POWER_W=300 ESL_GPU_STUB_NAME="NVIDIA H100 80GB HBM3" ESL_GPU_STUB_TFLOPS=fp16=500 \
    "$esl" bench $args --idle-w 100 --store "$db" --format json >"$tmp/run.json" 2>"$tmp/err" ||
    fail "bench exited $?: $(cat "$tmp/err")"
  [ -s "$tmp/err" ] && fail "bench wrote to stderr: $(cat "$tmp/err")"
  got=$(json_num exec_flops "$tmp/run.json")
  [ "$got" = "$want" ] || fail "executed FLOPs $got, the plan says $want"
  loop=$(json_num duration_s "$tmp/run.json")
  close "$loop" "$(awk -v f="$want" 'BEGIN { printf "%.17g", f / 500e12 }')" 1e-12 ||
    fail "loop time $loop is not FLOPs / 500 TFLOP/s"
  close "$(json_num achieved_tflops "$tmp/run.json")" 500 1e-12 || fail "achieved TFLOP/s: $(cat "$tmp/run.json")"
  # H100 SXM dense fp16: 989.4 TFLOP/s (data/gpu_peaks.csv)
  close "$(json_num peak_fraction "$tmp/run.json")" "$(awk 'BEGIN { printf "%.17g", 500 / 989.4 }')" 1e-9 ||
    fail "peak fraction: $(cat "$tmp/run.json")"
  meter_s=$(json_num meter_duration_s "$tmp/run.json")
  # the counter's energy over the window, to its millijoules
  within "$(json_num energy_j "$tmp/run.json")" "$(awk -v s="$meter_s" 'BEGIN { printf "%.17g", 300 * s }')" 0.002 ||
    fail "energy is not 300 W x the window: $(cat "$tmp/run.json")"
  within "$(json_num dynamic_j "$tmp/run.json")" "$(awk -v s="$meter_s" 'BEGIN { printf "%.17g", 200 * s }')" 0.002 ||
    fail "dynamic energy is not 200 W x the window"
  # the window is the loop and the edges' polls (a millisecond each)
  awk -v m="$meter_s" -v l="$loop" 'BEGIN { exit !(m >= l && m <= l + 0.002) }' ||
    fail "meter window $meter_s s around a $loop s loop"
  # J/TFLOP is the energy over the executed TFLOPs, exactly; 300 W at 500 TFLOP/s
  # makes it 0.6, and the edges' 2 ms at most add 300 W x 2 ms
  jpt=$(json_num joules_per_tflop "$tmp/run.json")
  close "$jpt" "$(awk -v e="$(json_num energy_j "$tmp/run.json")" -v f="$want" \
    'BEGIN { printf "%.17g", e / (f / 1e12) }')" 1e-9 || fail "J/TFLOP is not energy / TFLOPs: $jpt"
  awk -v j="$jpt" -v f="$want" 'BEGIN { exit !(j >= 0.6 - 1e-9 && j <= 0.6 + (0.6 + 0.002) / (f / 1e12)) }' ||
    fail "300 W at 500 TFLOP/s is 0.6 J/TFLOP, not $jpt"
  "$esl" runs list --store "$db" --format json >"$tmp/list.json" || fail "runs list"
  for kv in '"model": "sd2"' '"gpu": "NVIDIA H100 80GB HBM3"' '"dtype": "fp16"' '"cfg": "1"' \
            '"height": "512"' '"width": "768"' '"steps": "15"' '"prompts": "6"' \
            '"batch_size": "3"' "\"exec_flops\": \"$want\""; do
    grep -qF "$kv" "$tmp/list.json" || fail "stored labels lack $kv: $(grep -A14 labels "$tmp/list.json")"
  done
  grep -qF '"command": "esl bench --model sd2 --height 512 --width 768 --steps 15 --cfg --dtype fp16 --prompts 2 --batch 3 --seed 1 --warmup 2"' \
    "$tmp/list.json" || fail "stored command: $(grep command "$tmp/list.json")"
  "$esl" runs export --store "$db" | sed -n 2p | cut -d, -f1-8,10,11 >"$tmp/row"
  [ "$(cat "$tmp/row")" = "sd2,NVIDIA H100 80GB HBM3,fp16,1,512,768,15,6,3,dynamic" ] ||
    fail "exported row: $(cat "$tmp/row")"
}

# An unknown GPU prints no ratio; --no-store writes no store.
bench_unknown_gpu() {
  ESL_GPU_STUB_TFLOPS=bf16=2 "$esl" bench --model sd2 --height 256 --width 256 --steps 10 \
    --idle 0.2s --no-store --store "$db" >"$tmp/out" 2>"$tmp/err" || fail "bench: $(cat "$tmp/err")"
  grep -q "^achieved   2.00 TFLOP/s (no bf16 peak known for this GPU: no ratio)$" "$tmp/out" ||
    fail "$(cat "$tmp/out")"
  # The idle power is the stub's counter over the virtual clock's 0.2 s:
  # 200.00 W to the counter's millijoules, on every run.
  idle=$(sed -n 's/^energy     [0-9.]* J total, -\{0,1\}[0-9.]* J dynamic (idle \([0-9.]*\) W subtracted)$/\1/p' \
    "$tmp/out")
  [ "$idle" = 200.00 ] || fail "idle baseline of the 200 W stub: $(cat "$tmp/out")"
  [ -e "$db" ] && fail "--no-store created $db"
  return 0
}

# A calibration aiming at 3 models x 3 resolutions x 2 steps x 2 dtypes: the
# stored runs are the dry run's plan at the same throughputs, each executed
# its plan's FLOPs; the export fits, the law file predicts.
calibrate_full() {
  ESL_STUB_POWER_W=250 ESL_GPU_STUB_TFLOPS=bf16=20000,fp32=5000 "$esl" calibrate --no-cfg \
    --min-run 0.11 --idle-w 50 --budget 8 --store "$db" -o "$tmp/law.json" --format json \
    >"$tmp/cal.json" 2>"$tmp/err" || fail "calibrate exited $?: $(cat "$tmp/err")"
  [ -s "$tmp/err" ] && fail "calibrate wrote to stderr: $(cat "$tmp/err")"
  "$esl" calibrate --dry-run --no-cfg --tflops bf16=20000,fp32=5000 --overhead 0.11 --budget 8 \
    --format csv | cut -d, -f1-4,6 | sed 1d | sort >"$tmp/planned" || fail "dry run"
  [ "$(wc -l <"$tmp/planned")" = 36 ] || fail "the dry run plans $(wc -l <"$tmp/planned") runs, not 36"
  "$esl" runs export --store "$db" >"$tmp/data.csv" || fail "runs export"
  sed 1d "$tmp/data.csv" | awk -F, '{ print $1 "," $5 "," $6 "," $7 "," $3 }' | sort >"$tmp/stored"
  cmp -s "$tmp/planned" "$tmp/stored" || fail "stored runs differ from the plan: $(diff "$tmp/planned" "$tmp/stored")"
  [ "$(grep -c '"run_id"' "$tmp/cal.json")" = 36 ] || fail "the report lists $(grep -c '"run_id"' "$tmp/cal.json") runs"
  grep -q '"full": true' "$tmp/cal.json" || fail "coverage not full"
  # each stored run executed exactly the FLOPs of its configuration's plan
  "$esl" runs list --store "$db" --format csv | sed 1d | wc -l | grep -qx 36 || fail "36 runs stored"
  "$esl" runs export --store "$db" | sed 1d | while IFS=, read -r model gpu dtype cfg h w steps prompts rest; do
    want=$("$esl" bench --model "$model" --height "$h" --width "$w" --steps "$steps" --dtype "$dtype" \
           --prompts "$prompts" --dry-run --format json | sed -n 's/^  "exec_flops": \([0-9]*\),*$/\1/p')
    got=$("$esl" runs list --store "$db" --where model="$model" --where height="$h" \
          --where steps="$steps" --where dtype="$dtype" --format json |
          sed -n 's/^ *"exec_flops": "\([0-9.e+]*\)",*$/\1/p')
    [ "$got" = "$want" ] || { echo "FAIL: $model $h $steps $dtype: executed $got, planned $want"; exit 1; }
  done || exit 1
  # the fit of the export, through the tool, equals calibrate's own law
  "$esl" fit --data - --format json <"$tmp/data.csv" >"$tmp/fit.json" || fail "esl fit --data -"
  a1=$(coef alpha "$tmp/fit.json"); a2=$(coef alpha "$tmp/law.json")
  [ -n "$a1" ] && close "$a1" "$a2" 1e-12 || fail "alpha: fit $a1, calibrate $a2"
  # energy = 250 W x FLOPs / throughput: alpha below 1 only through the text
  # encoder and decoder (once per image, not per step); fp32 costs 4x bf16
  b=$(coef dtype=fp32 "$tmp/law.json"); r2=$(json_num r2_log "$tmp/law.json")
  # On the virtual clock every window is its loop and the edges' polls, so
  # the law is the same on every run (alpha 0.8530, beta 1.2228, R2 0.9690,
  # bit for bit, however loaded the machine): the bounds fail for a law that
  # lost the FLOPs (alpha ~ 0) or the dtype (beta ~ 0), or a noisy energy.
  awk -v a="$a2" -v b="$b" -v r="$r2" 'BEGIN { exit !(a > 0.84 && a < 0.87 && b > 1.20 && b < 1.25 && r > 0.96) }' ||
    fail "alpha $a2, beta fp32 $b (ln 4 = 1.386), R2 $r2"
  "$esl" predict --law "$tmp/law.json" --model sd2 --height 512 --width 512 --steps 20 \
    --dtype bf16 --gpu "Stub GPU 0" --format json >"$tmp/pred.json" || fail "esl predict --law"
  e=$(json_num energy_j "$tmp/pred.json")
  # sd2 512x512 20 steps: 4.84e13 executed FLOPs x 250 W / 20000 TFLOP/s ~ 0.5 J above 50 W idle
  awk -v e="$e" 'BEGIN { exit !(e > 0.2 && e < 1.5) }' || fail "predicted $e J"
}

# The meter reads the GPU the workload runs on: with CUDA_VISIBLE_DEVICES=1
# of two, CUDA device 0 is NVML's second GPU (PCI 19, 250 W), and a workload
# reporting another PCI id than the metered GPU's is refused.
bench_device() {
  export CUDA_DEVICE_ORDER=PCI_BUS_ID # the stub's GPUs have different names
  args="--model sd2 --height 256 --width 256 --steps 10 --dtype fp16 --prompts 1 --idle-w 0 --no-store"
  CUDA_VISIBLE_DEVICES=1 ESL_STUB_GPUS=2 ESL_STUB_POWERS=100,250 ESL_GPU_STUB_PCI=0000:19:00.0 \
    ESL_GPU_STUB_TFLOPS=fp16=2 "$esl" bench $args --format json >"$tmp/run.json" 2>"$tmp/err" ||
    fail "bench on CUDA device 0 = NVML 1: $(cat "$tmp/err")"
  meter_s=$(json_num meter_duration_s "$tmp/run.json")
  within "$(json_num energy_j "$tmp/run.json")" "$(awk -v s="$meter_s" 'BEGIN { printf "%.17g", 250 * s }')" 0.002 ||
    fail "not the visible GPU's 250 W: $(cat "$tmp/run.json")"
  CUDA_VISIBLE_DEVICES=1 ESL_STUB_GPUS=2 ESL_GPU_STUB_PCI=0000:18:00.0 \
    "$esl" bench $args >/dev/null 2>"$tmp/err"
  [ $? = 2 ] || fail "a workload on another GPU than the metered one was not refused"
  grep -q "the workload ran on Stub GPU 0 (PCI 0000:18:00.0) but the meter read Stub GPU 1 (PCI 00000000:19:00.0)" \
    "$tmp/err" || fail "mismatch: $(cat "$tmp/err")"
}

# A sweep survives: two failed points are reported and skipped, the law is
# fitted on the rest; runs slowed down past the budget stop the sweep, and
# the law is fitted on what was measured.
calibrate_tolerant() {
  common="--models sd2 --dtypes bf16 --no-cfg --min-run 0.11 --idle-w 50 --format json"
  # call 1 is the probe; calls 4 and 5 are the third and fourth runs
  ESL_GPU_STUB_FAIL_RUNS=4,5 ESL_GPU_STUB_TFLOPS=bf16=20000 "$esl" calibrate $common --budget 4 \
    --store "$db" -o "$tmp/law.json" >"$tmp/cal.json" 2>"$tmp/err" ||
    fail "calibrate with two failed runs exited $?: $(cat "$tmp/err")"
  [ "$(grep -c 'failed; going on' "$tmp/err")" = 2 ] || fail "failed runs not reported: $(cat "$tmp/err")"
  [ "$(json_num failed_runs "$tmp/cal.json")" = 2 ] || fail "failed_runs: $(grep failed_runs "$tmp/cal.json")"
  [ -s "$tmp/law.json" ] || fail "no law after two failed runs"
  planned=$("$esl" calibrate --dry-run --models sd2 --dtypes bf16 --no-cfg --tflops bf16=20000 \
    --overhead 0.11 --budget 4 --format csv | sed 1d | wc -l)
  stored=$("$esl" runs list --store "$db" --format csv | sed 1d | wc -l)
  echo "calibrate_tolerant: $stored of $planned runs stored, 2 failed"
  # the budget guard: from the 8th call on, runs take 40 times longer (on
  # the stub's virtual clock, which the guard reads through the meter)
  ESL_GPU_STUB_SLOW_AFTER=8 ESL_GPU_STUB_SLOW_FACTOR=40 ESL_GPU_STUB_TFLOPS=bf16=20000 \
    "$esl" calibrate $common --budget 4 --store "$tmp/slow.db" -o "$tmp/law-slow.json" \
    >"$tmp/slow.json" 2>"$tmp/err" || fail "calibrate past its budget exited $?: $(cat "$tmp/err")"
  grep -q "the budget of 4 s is spent after" "$tmp/err" || fail "no budget stop: $(cat "$tmp/err")"
  left=$(json_num runs_left_out_by_budget "$tmp/slow.json")
  [ -n "$left" ] && [ "$left" -gt 0 ] || fail "runs left out by the budget: $left"
  [ -s "$tmp/law-slow.json" ] || fail "no law fitted on the runs before the budget ran out"
  echo "calibrate_tolerant: the budget stopped the sweep with $left runs left: $(grep 'budget of' "$tmp/err")"
}

"$case_name"
