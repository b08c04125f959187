#!/bin/sh
# End-to-end tests of `esl measure` and `esl runs`:
#   measure.sh CASE ESL STUB_DIR TESTS_DIR
# CASE is one of the functions below; STUB_DIR holds libnvml_stub_full.so.
# Each case exits non-zero with a message on the first failed check.
set -u
case_name=$1
esl=$2
stub=$3/libnvml_stub_full.so
tests=$4
trace=$tests/data/meter/idle_then_load.csv
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
db=$tmp/runs.db
unset ESL_NVML_LIBRARY ESL_STUB_POWER_W ESL_STUB_COUNTER ESL_STUB_LOST_AFTER_S ESL_STUB_GPUS \
  ESL_STUB_POWERS ESL_STUB_PCI ESL_STUB_NAME ESL_STUB_MIG ESL_STUB_UTIL_PCT ESL_STUB_PROCS \
  CUDA_VISIBLE_DEVICES CUDA_DEVICE_ORDER

fail() { echo "FAIL: $*"; exit 1; }
expect_code() { # expect_code WANT GOT WHAT
  [ "$1" = "$2" ] || fail "$3: exit status $2, expected $1"
}
replay() { "$esl" measure --meter replay --replay "$trace" --idle 0 --store "$db" "$@"; }

exit_codes() {
  replay -- true >/dev/null; expect_code 0 $? "true"
  replay -- sh -c 'exit 7' >/dev/null; expect_code 7 $? "exit 7"
  replay -- sh -c 'kill -TERM $$' >/dev/null; expect_code 143 $? "killed by SIGTERM"
  replay -- /nonexistent/command >/dev/null 2>"$tmp/err"; expect_code 127 $? "missing command"
  grep -qx "esl: cannot run '/nonexistent/command': No such file or directory" "$tmp/err" ||
    fail "missing command: $(cat "$tmp/err")"
  "$esl" runs list --store "$db" --format csv | cut -d, -f1,3 >"$tmp/list"
  printf 'id,exit_status\n1,0\n2,7\n3,143\n' | cmp -s - "$tmp/list" ||
    fail "stored exit statuses: $(cat "$tmp/list")"
}

# SIGTERM sent to esl reaches the workload; esl exits as the workload did.
signals() {
  ESL_NVML_LIBRARY=$stub "$esl" measure --idle 0 --store "$db" -- sleep 5 >/dev/null &
  pid=$!
  sleep 0.5
  kill -TERM $pid
  wait $pid; expect_code 143 $? "forwarded SIGTERM"
  "$esl" runs list --store "$db" --format csv | awk -F, 'NR == 2 { print $3, ($4 < 2.5) }' >"$tmp/row"
  [ "$(cat "$tmp/row")" = "143 1" ] || fail "run after SIGTERM: $(cat "$tmp/row")"
  # a background job starts with SIGINT ignored; give the workload the default back
  ESL_NVML_LIBRARY=$stub env --default-signal=INT "$esl" measure --idle 0 --store "$db" -- sleep 5 \
    >/dev/null &
  pid=$!
  sleep 0.5
  kill -INT $pid
  wait $pid; expect_code 130 $? "forwarded SIGINT"
}

no_driver() {
  ESL_NVML_LIBRARY=/nonexistent/libnvidia-ml.so.1 "$esl" measure --idle 0 --store "$db" -- true \
    >"$tmp/out" 2>"$tmp/err"
  expect_code 3 $? "no driver"
  [ "$(wc -l <"$tmp/err")" = 1 ] || fail "no driver: not one line: $(cat "$tmp/err")"
  grep -q "^esl: no NVIDIA driver: cannot load '/nonexistent/libnvidia-ml.so.1'" "$tmp/err" ||
    fail "no driver: $(cat "$tmp/err")"
  [ -s "$tmp/out" ] && fail "no driver: printed a result"
  [ -e "$db" ] && fail "no driver: created a store"
  return 0
}

# The real NVML code path through the stub: idle baseline, counter energy.
nvml_stub() {
  ESL_NVML_LIBRARY=$stub ESL_STUB_POWER_W=150 "$esl" measure --idle 0.3s --hz 20 --store "$db" \
    --label model=sd2 -- sleep 0.4 >"$tmp/out"
  expect_code 0 $? "stub run"
  grep -q "^meter     nvml (driver 550.54.15, NVML 12.550.54.15)$" "$tmp/out" || fail "$(cat "$tmp/out")"
  "$esl" runs list --store "$db" --format csv | awk -F, 'NR == 2 {
      ok = $4 > 0.39 && $4 < 1.5 && ($5 - 150 * $4) < 0.01 * $5 && (150 * $4 - $5) < 0.01 * $5 \
           && $6 > 148.5 && $6 < 151.5 && $7 < 0.02 * $5 && $7 > -0.02 * $5
      print ok ? "ok" : $0 }' >"$tmp/check"
  [ "$(cat "$tmp/check")" = ok ] || fail "energy 150 W x duration, idle 150 W, dynamic ~0: $(cat "$tmp/check")"
  ESL_NVML_LIBRARY=$stub ESL_STUB_COUNTER=stuck "$esl" measure --idle 0 --no-store -- sleep 0.2 \
    >"$tmp/out" 2>"$tmp/err"
  expect_code 0 $? "stuck counter"
  # a counter that never steps has no measured period: 0.2 s is under 10 x 0.1 s
  grep -qx "esl: measure: the energy is doubtful (no-change,too-short): see docs/measurement.md" "$tmp/err" ||
    fail "stuck counter: $(cat "$tmp/err")"
  ESL_NVML_LIBRARY=$stub ESL_STUB_COUNTER=stuck "$esl" measure --idle 0.2s --no-store -- true \
    >"$tmp/out" 2>"$tmp/err"
  expect_code 1 $? "stuck counter while idle"
  grep -q "idle window of 0.2 s on Stub GPU 0 is unusable (no-change,too-short)" "$tmp/err" ||
    fail "stuck idle: $(cat "$tmp/err")"
}

# kill -9 of esl mid-run: earlier runs intact, the store consistent.
kill_esl() {
  replay --label model=a -- true >/dev/null || fail "first run"
  ESL_NVML_LIBRARY=$stub "$esl" measure --idle 0 --hz 100 --store "$db" \
    -- sh -c 'echo $$ >"$0"; exec sleep 5' "$tmp/workload.pid" >/dev/null 2>&1 &
  pid=$!
  sleep 0.5
  kill -KILL $pid
  wait $pid; expect_code 137 $? "esl killed"
  # the workload does not outlive esl (SIGTERM on esl's death, Linux)
  if [ "$(uname -s)" = Linux ]; then
    sleep 0.3
    # gone, or a zombie nobody reaps (a container's init may not)
    state=$(cut -d' ' -f3 "/proc/$(cat "$tmp/workload.pid")/stat" 2>/dev/null)
    [ -z "$state" ] || [ "$state" = Z ] || fail "the workload outlived esl (state $state)"
  fi
  "$esl" runs check --store "$db" >/dev/null || fail "store inconsistent after kill -9"
  "$esl" runs list --store "$db" --format csv | awk -F, 'NR > 1 { print $1, $5, $9 }' >"$tmp/rows"
  [ "$(cat "$tmp/rows")" = "1 900 model=a" ] || fail "earlier run: $(cat "$tmp/rows")"
  replay --label model=b -- true >/dev/null || fail "store unusable after kill -9"
  [ "$("$esl" runs list --store "$db" --format csv | wc -l)" = 3 ] || fail "run after recovery"
}

# kill -9 of the workload: stored with status 137, kept out of the dataset.
kill_child() {
  replay --label model=a -- sh -c 'kill -KILL $$' >/dev/null; expect_code 137 $? "child killed"
  "$esl" runs check --store "$db" >/dev/null || fail "store inconsistent"
  "$esl" runs list --store "$db" --format csv | awk -F, 'NR == 2 { print $3 }' >"$tmp/code"
  [ "$(cat "$tmp/code")" = 137 ] || fail "stored status $(cat "$tmp/code")"
}

# runs export writes the law's dataset format, dynamic energy in energy_j.
export_csv() {
  labels="--label model=flux-dev --label dtype=fp16 --label cfg=1 --label height=1024 --label width=1024 --label prompts=100"
  # shellcheck disable=SC2086
  "$esl" measure --meter replay --replay "$trace" --idle 2s --store "$db" $labels --label steps=50 \
    --label gpu=H100 -- true >/dev/null || fail "run 1"
  # shellcheck disable=SC2086
  replay $labels --label steps=25 -- true >/dev/null || fail "run 2"
  replay --label model=sd2 -- true >/dev/null || fail "run 3"
  # An idle power above the whole trace's power leaves no positive dynamic energy.
  # shellcheck disable=SC2086
  "$esl" measure --meter replay --replay "$trace" --idle-w 1000 --store "$db" $labels \
    --label steps=10 -- true >/dev/null || fail "run 4"
  "$esl" runs export --store "$db" >"$tmp/csv" 2>"$tmp/err"; expect_code 0 $? "export"
  cat >"$tmp/want" <<EOF
model,gpu,dtype,cfg,height,width,steps,prompts,energy_j,batch_size,energy_kind,duration_s,idle_w,source
flux-dev,H100,fp16,1,1024,1024,50,100,600,1,dynamic,4,50,esl-run:1
flux-dev,replay,fp16,1,1024,1024,25,100,900,1,dynamic,6,0,esl-run:2
EOF
  cmp -s "$tmp/want" "$tmp/csv" || fail "export: $(diff "$tmp/want" "$tmp/csv")"
  grep -qx "esl: runs export: run 3 skipped: no label 'dtype'" "$tmp/err" || fail "skip: $(cat "$tmp/err")"
  grep -qx "esl: runs export: run 4 skipped: dynamic energy -5100 J is not positive (idle 1000 W over 6 s)" \
    "$tmp/err" || fail "skip of a non-positive dynamic energy: $(cat "$tmp/err")"
  "$esl" runs export --store "$db" --where steps=25 2>/dev/null | cut -d, -f7 | tail -n +2 >"$tmp/steps"
  [ "$(cat "$tmp/steps")" = 25 ] || fail "export --where: $(cat "$tmp/steps")"
  "$esl" runs show 1 --store "$db" | grep -v -e '^started ' -e '^uuid ' >"$tmp/show"
  cat >"$tmp/want" <<EOF
run       1
command   true
exit      0
meter     replay
duration  4.000 s
energy    800.000 J = 0.222222 Wh
idle      50.00 W
dynamic   600.000 J
flags     -
samples   5
label     cfg=1
label     dtype=fp16
label     gpu=H100
label     height=1024
label     model=flux-dev
label     prompts=100
label     steps=50
label     width=1024
device    0 replay: 800.000 J, idle 50.00 W, dynamic 600.000 J
EOF
  cmp -s "$tmp/want" "$tmp/show" || fail "runs show: $(diff "$tmp/want" "$tmp/show")"
  "$esl" runs show 1 --store "$db" --format json >"$tmp/json" || fail "runs show json"
  for want in '"dynamic_j": 600.0' '"exit_status": 0' '"steps": "50"' '"energy_j": 800.0' \
              '"time_s": 4.0'; do
    grep -qF "$want" "$tmp/json" || fail "runs show json lacks $want"
  done
  "$esl" runs show 1 --store "$db" --format csv | sed -n '2p;$p' >"$tmp/trace"
  printf '0,0,50,,0,,,\n4,0,50,,800,,,\n' | cmp -s - "$tmp/trace" ||
    fail "runs show csv: $(cat "$tmp/trace")"
  "$esl" runs show 9 --store "$db" 2>"$tmp/err"; expect_code 2 $? "runs show 9"
  grep -qx "esl: $db: no run 9" "$tmp/err" || fail "runs show 9: $(cat "$tmp/err")"
  "$esl" runs export --store "$db" --format json >/dev/null 2>"$tmp/err"; expect_code 2 $? "export json"
  grep -qx "esl: runs export: option --format: csv (dataset rows), codecarbon or openmetrics" "$tmp/err" || fail "$(cat "$tmp/err")"
}

# The RAPL meter through the tool, on a fake powercap tree.
rapl() {
  mkdir -p "$tmp/pc/intel-rapl:0" "$tmp/pc/intel-rapl:0:0" || fail "mkdir"
  echo package-0 >"$tmp/pc/intel-rapl:0/name"; echo core >"$tmp/pc/intel-rapl:0:0/name"
  for z in intel-rapl:0 intel-rapl:0:0; do
    echo 1000 >"$tmp/pc/$z/energy_uj"; echo 262143328850 >"$tmp/pc/$z/max_energy_range_uj"
  done
  ESL_POWERCAP_ROOT=$tmp/pc "$esl" measure --meter rapl --idle 0 --no-store -- true >"$tmp/out"
  expect_code 0 $? "rapl"
  grep -q "^0 package-0  *0.000 " "$tmp/out" || fail "rapl: $(cat "$tmp/out")"
  grep -q "core" "$tmp/out" && fail "rapl measured the core zone twice"
  ESL_POWERCAP_ROOT=$tmp/none "$esl" measure --meter rapl --idle 0 --no-store -- true 2>"$tmp/err"
  expect_code 3 $? "rapl without powercap"
  grep -qx "esl: rapl: cannot open $tmp/none: No such file or directory" "$tmp/err" ||
    fail "rapl: $(cat "$tmp/err")"
}

# A trace written by --trace replays to the same energy.
replay_roundtrip() {
  replay --trace "$tmp/trace.csv" -- true >/dev/null || fail "first run"
  "$esl" measure --meter replay --replay "$tmp/trace.csv" --idle 0 --no-store -- true >"$tmp/out" ||
    fail "replaying the written trace"
  grep -q "^energy    900.000 J = 0.250000 Wh" "$tmp/out" || fail "replayed energy: $(cat "$tmp/out")"
}

# --output keeps the summary apart from the command's own stdout.
output_file() {
  replay --format json --output "$tmp/summary.json" -- sh -c 'echo from the command; exit 5' \
    >"$tmp/out"
  expect_code 5 $? "exit 5 with --output"
  [ "$(cat "$tmp/out")" = "from the command" ] || fail "stdout holds more than the command's: $(cat "$tmp/out")"
  grep -q '^  "exit_status": 5,$' "$tmp/summary.json" || fail "summary file: $(cat "$tmp/summary.json")"
  grep -q '^  "energy_j": 900.0,$' "$tmp/summary.json" || fail "summary energy: $(cat "$tmp/summary.json")"
}

# Writers that race: N measurements creating one new store at once, N more on
# the existing store, and readers listing and checking it meanwhile. Every
# run is stored and every reader succeeds. ESL_RACE_TRIALS repeats it.
concurrent() {
  n=10
  trials=${ESL_RACE_TRIALS:-2}
  planned=0 stored=0
  for t in $(seq "$trials"); do
    rm -f "$tmp"/race.db*
    for p in $(seq $n); do
      ESL_NVML_LIBRARY=$stub "$esl" measure --idle 0.1s --store "$tmp/race.db" --label p=$p \
        -- sleep 0.3 >/dev/null 2>"$tmp/new.$p" &
    done
    wait
    for p in $(seq $n); do
      [ -s "$tmp/new.$p" ] && fail "trial $t: writer $p on a new store: $(cat "$tmp/new.$p")"
    done
    for p in $(seq $n); do
      ESL_NVML_LIBRARY=$stub "$esl" measure --idle 0 --store "$tmp/race.db" --label q=$p \
        -- sleep 0.2 >/dev/null 2>"$tmp/old.$p" &
    done
    for r in 1 2 3 4; do
      { "$esl" runs list --store "$tmp/race.db" --format csv >/dev/null &&
        "$esl" runs check --store "$tmp/race.db" >/dev/null; } 2>"$tmp/reader.$r" &
      sleep 0.05
    done
    wait
    for p in $(seq $n); do
      [ -s "$tmp/old.$p" ] && fail "trial $t: writer $p on an existing store: $(cat "$tmp/old.$p")"
    done
    for r in 1 2 3 4; do
      [ -s "$tmp/reader.$r" ] && fail "trial $t: reader $r: $(cat "$tmp/reader.$r")"
    done
    got=$("$esl" runs list --store "$tmp/race.db" --format csv | tail -n +2 | wc -l)
    planned=$((planned + 2 * n))
    stored=$((stored + got))
    [ "$got" = $((2 * n)) ] || fail "trial $t: $got runs stored of $((2 * n))"
    "$esl" runs check --store "$tmp/race.db" >/dev/null || fail "trial $t: store inconsistent"
  done
  echo "concurrent: $stored of $planned runs stored over $trials trials"
}

# Storing fails after the workload ran (here: a write past `ulimit -f`, which
# would otherwise kill esl with SIGXFSZ): the result is still printed, kept
# in a file the message names, and esl exits 1.
store_fails() {
  awk 'BEGIN { print "time_s,power_w"; for (i = 0; i < 3000; i++) print i * 0.01 "," 100 + i % 7 }' \
    >"$tmp/long.csv"
  "$esl" measure --meter replay --replay "$tmp/long.csv" --idle 0 --store "$db" -- true >/dev/null ||
    fail "first run"
  (ulimit -f 64; "$esl" measure --meter replay --replay "$tmp/long.csv" --idle 0 --store "$db" \
     --label model=sd2 -- true >"$tmp/out" 2>"$tmp/err")
  expect_code 1 $? "store write past ulimit -f"
  grep -q "^energy    3088.925 J = 0.858035 Wh" "$tmp/out" || fail "no result printed: $(cat "$tmp/out")"
  grep -q "^esl: $db: committing a run: " "$tmp/err" || fail "no store error: $(cat "$tmp/err")"
  kept=$(sed -n 's/^esl: measure: the run was not stored; its result is kept in //p' "$tmp/err")
  [ -n "$kept" ] && [ -f "$kept" ] || fail "no fallback file named: $(cat "$tmp/err")"
  grep -q '"energy_j": 3088.925' "$kept" || fail "fallback file: $(cat "$kept")"
  grep -q '"model": "sd2"' "$kept" || fail "fallback file lacks the labels: $(cat "$kept")"
  [ "$("$esl" runs list --store "$db" --format csv | wc -l)" = 2 ] || fail "a half run was stored"
  "$esl" runs check --store "$db" >/dev/null || fail "store inconsistent"
  # --output and --trace that cannot be written: reported, the result printed
  replay --output /dev/full -- true >"$tmp/out" 2>"$tmp/err"; expect_code 1 $? "--output /dev/full"
  grep -q "^esl: option --output: /dev/full: No space left on device" "$tmp/err" ||
    fail "--output /dev/full: $(cat "$tmp/err")"
  grep -q "^energy    900.000 J" "$tmp/out" || fail "--output /dev/full: result lost: $(cat "$tmp/out")"
  replay --trace /dev/full -- true >"$tmp/out" 2>"$tmp/err"; expect_code 1 $? "--trace /dev/full"
  grep -q "^esl: option --trace: /dev/full: No space left on device" "$tmp/err" ||
    fail "--trace /dev/full: $(cat "$tmp/err")"
  ls "$tmp" | grep -q 'tmp-' && fail "temporary files left: $(ls "$tmp")"
  return 0
}

# Read-only commands change nothing: someone else's SQLite file is refused
# and keeps its journal mode and tables; an empty file is not a store.
readonly_commands() {
  replay --label model=a -- true >/dev/null || fail "first run"
  cp "$db" "$tmp/copy.db"
  for verb in list export check; do
    "$esl" runs $verb --store "$tmp/copy.db" >/dev/null 2>&1 || fail "runs $verb"
  done
  "$esl" runs show 1 --store "$tmp/copy.db" >/dev/null || fail "runs show"
  cmp -s "$db" "$tmp/copy.db" || fail "a read-only command changed the store"
  [ -s "$tmp/copy.db-wal" ] && fail "a read-only command wrote to the WAL file"
  : >"$tmp/empty.db"
  "$esl" runs list --store "$tmp/empty.db" 2>"$tmp/err"; expect_code 2 $? "empty file"
  grep -qx "esl: $tmp/empty.db: not an esl run store (an empty file or database)" "$tmp/err" ||
    fail "empty file: $(cat "$tmp/err")"
  [ -s "$tmp/empty.db" ] && fail "the empty file was written"
  return 0
}

# kill -9 of esl at random moments of short runs, the commit window among
# them: the store stays consistent, every run in it is whole, and runs that
# finished are never lost. ESL_KILL_TRIALS sets how many.
kill_random() {
  trials=${ESL_KILL_TRIALS:-20}
  done_runs=0
  # the kills fall anywhere in a whole run, the commit window included: the
  # delays spread over 1.5 times how long one run takes in this build
  start=$(date +%s.%N)
  replay --label t=timing -- true >/dev/null || fail "the timing run failed"
  span=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.4f", 1.5 * (b - a) }')
  for t in $(seq "$trials"); do
    delay=$(awk -v s="$t" -v span="$span" 'BEGIN { srand(s * 7919); printf "%.4f", rand() * span }')
    # esl itself in the background, not a shell running it: the kill must
    # reach the process that writes the store, or it may write after the check
    "$esl" measure --meter replay --replay "$trace" --idle 0 --store "$db" \
      --label t=$t -- true >/dev/null 2>&1 &
    pid=$!
    sleep "$delay"
    kill -KILL $pid 2>/dev/null
    wait $pid 2>/dev/null
    [ $? = 0 ] && done_runs=$((done_runs + 1))
    "$esl" runs check --store "$db" >/dev/null 2>"$tmp/err" || {
      # killed before the store, or before its schema, was made: nothing was
      # lost, and the next run makes the store
      [ -e "$db" ] || continue
      grep -qx "esl: $db: not an esl run store (an empty file or database)" "$tmp/err" && continue
      fail "trial $t (kill after $delay s): $(cat "$tmp/err")"; }
  done
  [ -e "$db" ] || fail "no run ever reached the store"
  got=$("$esl" runs list --store "$db" --format csv | tail -n +2 | wc -l)
  [ "$got" -ge $((done_runs + 1)) ] || fail "$done_runs runs finished (and the timing run), $got stored"
  [ "$got" -le $((trials + 1)) ] || fail "$got runs stored of $trials started (and the timing run)"
  replay --label t=after -- true >/dev/null || fail "store unusable after the kills"
  echo "kill_random: $trials kills over ${span} s, $done_runs runs finished first, $got stored (with the timing run)"
}

# Four GPUs, one of them visible to the workload: esl measure meters that
# one alone (200 W: about 200 J for a second), not all four (801 W).
visible_gpus() {
  run4() { # the metered average power, W
    ESL_NVML_LIBRARY=$stub ESL_STUB_GPUS=4 ESL_STUB_POWERS=200,201,200,200 ESL_STUB_NAME="NVIDIA A100" \
      "$esl" measure --idle 0 --no-store --format json "$@" -- sleep 1 >"$tmp/out" ||
      fail "measure $*: $(cat "$tmp/out")"
    awk -F: '/^  "avg_power_w"/ { gsub(/[ ,]/, "", $2); printf "%.1f\n", $2 }' "$tmp/out"
  }
  near() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a > 0.995 * b && a < 1.005 * b) }'; }
  all=$(run4)
  one=$(CUDA_VISIBLE_DEVICES=2 run4)
  uuid=$(CUDA_VISIBLE_DEVICES=GPU-00000000-0000-0000-0000-000000000001 run4)
  byid=$(run4 --gpus 0000:1b:00.0)
  echo "4 GPUs: all visible $all W, CUDA_VISIBLE_DEVICES=2 $one W, by UUID $uuid W, by PCI id $byid W"
  near "$all" 801 || fail "all visible: $all W, expected 801"
  near "$one" 200 || fail "CUDA_VISIBLE_DEVICES=2: $one W, expected 200"
  near "$uuid" 201 || fail "by UUID (the 201 W GPU): $uuid W"
  near "$byid" 200 || fail "by PCI id: $byid W"
  CUDA_VISIBLE_DEVICES=MIG-GPU-1/0/0 ESL_NVML_LIBRARY=$stub "$esl" measure --idle 0 --no-store \
    -- true >/dev/null 2>"$tmp/err"
  expect_code 2 $? "MIG instance"
  grep -q "names the MIG instance 'MIG-GPU-1/0/0'" "$tmp/err" || fail "MIG: $(cat "$tmp/err")"
}

# --control: a shell script opens two labelled windows after its "loading";
# each is stored as its own run with its labels, the loading in neither.
control() {
  cat >"$tmp/prog.sh" <<'SCRIPT'
sleep 0.4
echo "begin model=flux-dev steps=50" >&3; read a <&4; [ "$a" = ack ] || exit 9
sleep 0.6
echo "end" >&3; read a <&4
echo "# a comment" >&3
echo "begin model=sd2" >&3; read a <&4
sleep 0.3
echo end >&3; read a <&4; [ "$a" = ack ] || exit 9
SCRIPT
  ESL_NVML_LIBRARY=$stub ESL_STUB_POWER_W=150 "$esl" measure --idle 0 --store "$db" \
    --label host=test --control fd:3,4 -- sh "$tmp/prog.sh" >"$tmp/out" 2>"$tmp/err"
  expect_code 0 $? "control: $(cat "$tmp/err")"
  "$esl" runs list --store "$db" --format csv >"$tmp/list"
  [ "$(tail -n +2 "$tmp/list" | wc -l)" = 2 ] || fail "control: not two runs: $(cat "$tmp/list")"
  "$esl" runs list --store "$db" --where model=flux-dev --format csv | tail -n +2 |
    awk -F, '{ print ($4 > 0.55 && $4 < 3.0) }' | grep -qx 1 ||
    fail "control: window 1 is not the 0.6 s between begin and end: $(cat "$tmp/list")"
  "$esl" runs show 2 --store "$db" >"$tmp/show" 2>&1
  grep -q "host" "$tmp/show" && grep -q "sd2" "$tmp/show" || fail "control: labels: $(cat "$tmp/show")"
  # protocol errors are answered err and reported; the run fails
  printf 'end\nbegin x\nbegin a=1\nbegin a=2\n' >"$tmp/lines"
  ESL_NVML_LIBRARY=$stub "$esl" measure --idle 0 --no-store --control fd:5 -- \
    sh -c "cat '$tmp/lines' >&5" >"$tmp/out" 2>"$tmp/err"
  expect_code 1 $? "control errors"
  grep -q "'end' without an open window" "$tmp/err" &&
    grep -q "label 'x' is not KEY=VALUE" "$tmp/err" &&
    grep -q "'begin' while a window is open" "$tmp/err" &&
    grep -q "the last window was not ended" "$tmp/err" || fail "control errors: $(cat "$tmp/err")"
  "$esl" measure --idle 0 --no-store --control fd:1 -- true 2>"$tmp/err"
  expect_code 2 $? "control fd:1"
}

"$case_name"
echo "ok: $case_name"
