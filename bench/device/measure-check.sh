#!/bin/sh
# measure-check.sh - check esl's GPU energy measurement on a real NVIDIA GPU.
#
#   bench/device/measure-check.sh BUILD_DIR [OUT_DIR]
#
# BUILD_DIR is an esl build folder made beforehand and readied by
# bench/device/prepare.sh (this script builds nothing); OUT_DIR (default
# $OUT, else a temporary folder) receives the run store, traces and
# summary.txt. Needs nvidia-smi, python3 and PyTorch with
# CUDA. Every step runs under its own `timeout`. Steps:
#   1. the GPU's facts (nvidia-smi)
#   2. esl measure --idle 5s -- sleep 5: dynamic energy should be near 0
#   3. a 20 s bf16 matrix-multiply load measured by esl, while nvidia-smi
#      samples power.draw every 100 ms; the energy counter is compared with
#      esl's integrated power trace and with the integral of nvidia-smi's
#      readings over the same interval
#   4. the sampler's CPU overhead with the real driver (bench_sampler)
# Exit status: 0 when every step ran, 1 when one failed, 3 without a GPU.
# The durations can be shortened to rehearse the script against the test
# stubs (tests/device/rehearse.sh): ESL_CHECK_IDLE (3s), ESL_CHECK_SLEEP (5),
# ESL_CHECK_LOAD_S (20), ESL_CHECK_SAMPLER_S (5).
set -u
build=${1:?usage: measure-check.sh BUILD_DIR [OUT_DIR]}
idle=${ESL_CHECK_IDLE:-5s}
nap=${ESL_CHECK_SLEEP:-5}
load_s=${ESL_CHECK_LOAD_S:-20}
sampler_s=${ESL_CHECK_SAMPLER_S:-5}
out=${2:-${OUT:-$(mktemp -d)}}
esl=$build/src/esl
mkdir -p "$out"
summary=$out/summary.txt
: >"$summary"
say() { echo "$*" | tee -a "$summary"; }
step_failed=0

[ -x "$esl" ] || { echo "measure-check: no esl in $build/src" >&2; exit 1; }
if ! command -v nvidia-smi >/dev/null 2>&1; then
  echo "measure-check: nvidia-smi not found: no NVIDIA driver here" >&2
  exit 3
fi
# the libraries bench/device/prepare.sh copied beside esl, for esl and
# bench_sampler; the workload esl runs (PyTorch) gets the path it had
workload_ld=${LD_LIBRARY_PATH:-}
LD_LIBRARY_PATH=$build/src${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export LD_LIBRARY_PATH
export CUDA_DEVICE_ORDER=PCI_BUS_ID   # CUDA device 0 is NVML device 0
export CUDA_VISIBLE_DEVICES=0

say "== 1. GPU"
timeout 30 nvidia-smi --id=0 --query-gpu=name,driver_version,power.limit,pci.bus_id \
  --format=csv,noheader | tee -a "$summary" || step_failed=1

say "== 2. idle check: esl measure --idle $idle -- sleep $nap"
if timeout 60 "$esl" measure --gpus 0 --idle "$idle" --store "$out/runs.db" --label check=idle \
     --trace "$out/idle-trace.csv" --format json --output "$out/idle.json" -- sleep "$nap" \
     2>"$out/idle.err"; then
  timeout 30 python3 - "$out/idle.json" >"$out/idle.txt" <<'PY' || step_failed=1
import json, sys
r = json.load(open(sys.argv[1]))
d = r["devices"][0]
print(f"idle {r['idle_w']:.2f} W, total {r['energy_j']:.1f} J over {r['duration_s']:.2f} s, "
      f"dynamic {r['dynamic_j']:.1f} J ({100 * r['dynamic_j'] / r['energy_j']:.2f} % of total), "
      f"flags {','.join(r['flags']) or '-'}")
PY
  cat "$out/idle.txt" | tee -a "$summary"
else
  say "step 2 failed: $(cat "$out/idle.err")"; step_failed=1
fi

say "== 3. $load_s s bf16 matmul load: counter vs integrated trace vs nvidia-smi"
cat >"$out/load.py" <<'PY'
import sys, time, torch
seconds = float(sys.argv[1])
a = torch.randn(8192, 8192, dtype=torch.bfloat16, device="cuda")
b = torch.randn(8192, 8192, dtype=torch.bfloat16, device="cuda")
torch.cuda.synchronize()
end = time.time() + seconds
n = 0
while time.time() < end:
    for _ in range(10):
        c = a @ b
    torch.cuda.synchronize()
    n += 10
print(f"{n} matmuls of 8192^3 in bf16: {2 * 8192**3 * n / seconds / 1e12:.1f} TFLOP/s")
PY
timeout 120 nvidia-smi --id=0 --query-gpu=timestamp,power.draw --format=csv,noheader,nounits \
  -lms 100 >"$out/smi.csv" 2>/dev/null &
smi=$!
sleep 1
if timeout 120 "$esl" measure --gpus 0 --idle "$idle" --hz 10 --store "$out/runs.db" --label check=load \
     --trace "$out/load-trace.csv" --format json --output "$out/load.json" \
     -- env LD_LIBRARY_PATH="$workload_ld" python3 "$out/load.py" "$load_s" >"$out/load.out" 2>"$out/load.err"; then
  sleep 1
  kill "$smi" 2>/dev/null; wait "$smi" 2>/dev/null
  timeout 30 python3 - "$out/load.json" "$out/smi.csv" >"$out/load.txt" <<'PY' || step_failed=1
import json, sys, datetime
r = json.load(open(sys.argv[1]))
d = r["devices"][0]
t0, t1 = r["start_unix_s"], r["start_unix_s"] + r["duration_s"]
pts = []
for line in open(sys.argv[2]):
    try:
        stamp, watts = [x.strip() for x in line.split(",")]
        t = datetime.datetime.strptime(stamp, "%Y/%m/%d %H:%M:%S.%f").timestamp()
        pts.append((t, float(watts)))
    except ValueError:
        pass
inside = [p for p in pts if t0 <= p[0] <= t1]
smi = sum((b[0] - a[0]) * (a[1] + b[1]) / 2 for a, b in zip(inside, inside[1:]))
span = inside[-1][0] - inside[0][0] if len(inside) > 1 else 0.0
smi_scaled = smi * r["duration_s"] / span if span > 0 else float("nan")
counter = d["counter_j"]
def pct(x):
    return 100 * (x - counter) / counter if counter else float("nan")
print(f"duration {r['duration_s']:.2f} s, idle {r['idle_w']:.1f} W, peak {r['peak_power_w']:.1f} W")
print(f"counter     {counter:.1f} J")
print(f"esl trace   {d['integrated_j']:.1f} J ({pct(d['integrated_j']):+.2f} % vs counter)")
print(f"nvidia-smi  {smi_scaled:.1f} J ({pct(smi_scaled):+.2f} % vs counter; {len(inside)} readings, "
      f"scaled from {span:.2f} s to the window)")
print(f"dynamic     {r['dynamic_j']:.1f} J, flags {','.join(r['flags']) or '-'}")
PY
  cat "$out/load.txt" "$out/load.out" "$out/load.err" | tee -a "$summary"
else
  kill "$smi" 2>/dev/null
  say "step 3 failed: $(cat "$out/load.err")"; step_failed=1
fi

say "== 4. sampler CPU overhead with the driver"
timeout 60 "$build/bench/bench_sampler" "$sampler_s" | tee -a "$summary" || step_failed=1

say "== esl runs list"
timeout 30 "$esl" runs list --store "$out/runs.db" | tee -a "$summary"
exit $step_failed
