#!/bin/sh
# A sweep on a real Slurm cluster of one node: munged, slurmctld and slurmd
# started here (as root, in a temporary folder, on free ports), a 10-task
# sweep submitted as a job array with the NVML and GPU-module stubs as the
# GPU, one task's process killed mid-run, the sweep resumed, the shards
# merged (twice), and then: every planned task is in the merged store
# exactly once, labelled with its node, GPU and Slurm job, and a law fits on
# the export.
#   slurm.sh ESL BUILD_TESTS_DIR
# Exits 77 (skipped) where Slurm cannot start: not root, or slurm-wlm or
# munge absent (scripts/install-deps installs them).
set -u
esl=$1
stubs=$2
skip() { echo "SKIP: $*"; exit 77; }
fail() {
  echo "FAIL: $*"
  for f in "$tmp"/shards/*.failed "$tmp"/shards/slurm-*.out; do
    [ -f "$f" ] && { echo "--- $f"; tail -n 8 "$f"; }
  done
  for log in munged slurmctld slurmd; do
    [ -f "$tmp/$log.log" ] && { echo "--- $log.log (end)"; tail -n 15 "$tmp/$log.log"; }
  done
  exit 1
}

[ "$(id -u)" = 0 ] || skip "not root: slurmctld, slurmd and munged are started as root"
for prog in munged slurmctld slurmd sbatch squeue scontrol; do
  command -v "$prog" >/dev/null 2>&1 ||
    skip "'$prog' not found (Debian: apt-get install slurm-wlm munge, or scripts/install-deps)"
done
[ -e /proc/net/tcp ] || skip "no /proc/net/tcp to find free ports"

tmp=$(mktemp -d /tmp/esl-slurm-XXXXXX) || fail "mktemp"
chmod 755 "$tmp"
pids=""
# The job steps (slurmstepd) this cluster started: those whose working
# folder or open files are under $tmp.
steps() {
  for p in $(pgrep -x slurmstepd 2>/dev/null); do
    ls -l "/proc/$p/cwd" "/proc/$p/fd" 2>/dev/null | grep -qF "$tmp" && echo "$p"
  done
}
cleanup() {
  for p in $(steps); do kill "$p" 2>/dev/null; done
  for p in $pids; do kill "$p" 2>/dev/null; done
  # slurmd's job steps (slurmstepd) end with their jobs; give the daemons a
  # moment, then make sure
  for i in 1 2 3 4 5 6 7 8 9 10; do
    alive=""
    for p in $pids; do kill -0 "$p" 2>/dev/null && alive="$alive $p"; done
    [ -z "$alive" ] && break
    sleep 0.3
  done
  for p in $pids $(steps); do kill -9 "$p" 2>/dev/null; done
  [ -n "${KEEP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# Two free TCP ports: random ones not listening now (/proc/net/tcp holds
# the local ports in hex).
listening() { awk 'NR > 1 { split($2, a, ":"); print a[2] }' /proc/net/tcp /proc/net/tcp6 2>/dev/null; }
free_port() {
  while :; do
    p=$(( $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 20000 + 30000 ))
    hex=$(printf '%04X' "$p")
    listening | grep -qx "$hex" || { echo "$p"; return; }
  done
}
ctl_port=$(free_port)
node_port=$(free_port)
[ "$ctl_port" = "$node_port" ] && node_port=$((ctl_port + 1))

host=$(hostname -s 2>/dev/null || hostname)
node=esl$$
cpus=$(nproc 2>/dev/null || echo 1)
mkdir -p "$tmp/state" "$tmp/spool" "$tmp/munge" "$tmp/shards"
chmod 700 "$tmp/munge"

# munge with a key of its own, on a socket of its own
dd if=/dev/urandom of="$tmp/munge/munge.key" bs=1024 count=1 2>/dev/null
chmod 400 "$tmp/munge/munge.key"
munged --force --foreground --key-file="$tmp/munge/munge.key" --socket="$tmp/munge/socket" \
  --pid-file="$tmp/munge/munged.pid" --log-file="$tmp/munged.log" \
  --seed-file="$tmp/munge/seed" >/dev/null 2>&1 &
pids="$pids $!"

cat >"$tmp/slurm.conf" <<EOF
ClusterName=esltest$$
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctl_port
SlurmdPort=$node_port
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$tmp/munge/socket
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool/%n
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/slurmctld.log
SlurmdLogFile=$tmp/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
SwitchType=switch/none
ReturnToService=2
MailProg=/bin/true
PlugStackConfig=$tmp/plugstack.conf
NodeName=$node NodeHostname=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=256 State=UNKNOWN
PartitionName=esl Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
: >"$tmp/plugstack.conf"
export SLURM_CONF="$tmp/slurm.conf"

for i in $(seq 50); do [ -S "$tmp/munge/socket" ] && break; sleep 0.1; done
[ -S "$tmp/munge/socket" ] || fail "munged did not start"

slurmctld -D -i -f "$SLURM_CONF" >/dev/null 2>&1 &
pids="$pids $!"
slurmd -D -N "$node" -f "$SLURM_CONF" >/dev/null 2>&1 &
pids="$pids $!"

# the node is up when the controller lists it idle
up=""
for i in $(seq 150); do
  state=$(sinfo -h -N -n "$node" -o %T 2>/dev/null)
  case $state in idle*|mixed*|allocated*) up=1; break ;; esac
  sleep 0.1
done
[ -n "$up" ] || fail "the node did not come up (state '$state')"

# The sweep: sd2 at 5 sizes x 2 step counts on the stub GPU, each task
# executing its plan's FLOPs at 12 TFLOP/s (0.2 to 4.1 s: none too short
# for the stub's 0.1 s power updates), 300 W against 100 W idle.
export ESL_NVML_LIBRARY="$stubs/libnvml_stub_full.so" ESL_GPU_MODULE="$stubs/libgpu_stub.so"
export ESL_STUB_POWER_W=300 ESL_GPU_STUB_TFLOPS=fp16=12
unset ESL_STUB_COUNTER ESL_STUB_GPUS ESL_GPU_STUB_FAIL ESL_GPU_STUB_NAME ESL_MODEL_PATH
cd "$tmp" || fail "cd"
"$esl" sweep plan --models sd2 --sizes 256,384,512,640,768 --steps 10,20 --dtypes fp16 \
  -o manifest.txt -- --idle-w 100 --warmup 0 2>/dev/null || fail "sweep plan"
[ "$(grep -vc '^#' manifest.txt)" = 10 ] || fail "the plan holds $(grep -vc '^#' manifest.txt) tasks, not 10"
ids=$(grep -v '^#' manifest.txt | cut -f1)
# the task to kill: the first of the third array job (768x768 takes longest)
victim=$(sed -n '6p' manifest.txt | cut -f1)

"$esl" sweep submit manifest.txt --shards shards --slurm --per-job 2 --array-max 4 \
  --time 00:05:00 >submit.out 2>submit.err || fail "sweep submit: $(cat submit.err)"
job=$(sed -n 's/^submitted job \([0-9][0-9]*\): 10 tasks, 5 array jobs .*/\1/p' submit.out)
[ -n "$job" ] || fail "sweep submit said: $(cat submit.out submit.err)"
grep -qx '#SBATCH --array=0-4%4' shards/sweep.sbatch || fail "script: $(cat shards/sweep.sbatch)"

# wait for the victim's bench process and kill it mid-run
victim_pid=""
for i in $(seq 300); do
  if [ -f "shards/$victim.running" ]; then
    victim_pid=$(pgrep -f -- "--store shards/$victim.db|--store $tmp/shards/$victim.db" | head -n 1)
    [ -n "$victim_pid" ] && break
  fi
  sleep 0.05
done
[ -n "$victim_pid" ] || fail "task $victim never ran"
sleep 0.2
kill -9 "$victim_pid" || fail "could not kill task $victim ($victim_pid)"

wait_job() { # wait_job ID: until squeue no longer lists it
  for i in $(seq 600); do
    [ -z "$(squeue -h -j "$1" 2>/dev/null)" ] && return 0
    sleep 0.1
  done
  fail "job $1 still queued after 60 s: $(squeue 2>&1)"
}
wait_job "$job"

"$esl" sweep status manifest.txt --shards shards >status1.out 2>&1 || fail "status: $(cat status1.out)"
grep -qx '10 tasks: 9 done, 0 running, 1 failed, 0 missing' status1.out ||
  fail "status after the kill: $(cat status1.out)"
grep -qx "$victim  *failed  *line 6: exit status 137" status1.out ||
  fail "the failed task is not $victim, killed: $(cat status1.out)"
grep -q "exit status 137" "shards/$victim.failed" || fail "marker: $(cat "shards/$victim.failed")"
# its runner went on with the second task of its array job
grep -q "esl: sweep: task $victim (manifest line 6) failed with exit status 137; going on" \
  shards/slurm-"$job"_2.out || fail "array job 2's log: $(cat shards/slurm-"$job"_2.out)"

"$esl" sweep submit manifest.txt --shards shards --slurm --per-job 2 --resume \
  >resume.out 2>resume.err || fail "resume: $(cat resume.err)"
job2=$(sed -n 's/^submitted job \([0-9][0-9]*\): 1 tasks, 1 array jobs .*/\1/p' resume.out)
[ -n "$job2" ] || fail "resume said: $(cat resume.out resume.err)"
grep -qx '#SBATCH --array=2' shards/sweep.sbatch || fail "resume script: $(cat shards/sweep.sbatch)"
wait_job "$job2"
"$esl" sweep status manifest.txt --shards shards >status2.out 2>&1
grep -qx '10 tasks: 10 done, 0 running, 0 failed, 0 missing' status2.out ||
  fail "status after resuming: $(cat status2.out)"
grep -q "esl: sweep: task .* is done already" shards/slurm-"$job2"_2.out ||
  fail "the resumed job ran a done task again: $(cat shards/slurm-"$job2"_2.out)"
"$esl" sweep submit manifest.txt --shards shards --slurm --resume >resume2.out ||
  fail "second resume"
grep -qx 'nothing to resubmit: the 10 tasks are done or running' resume2.out ||
  fail "second resume: $(cat resume2.out)"

# merge, and merge again: nothing twice
"$esl" runs merge shards/*.db -o merged.db >merge1.out 2>&1 || fail "merge: $(cat merge1.out)"
grep -qx 'merged.db: 10 stores merged: 10 runs added, 0 already there, 0 conflicts' merge1.out ||
  fail "merge: $(cat merge1.out)"
"$esl" runs merge shards/*.db -o merged.db >merge2.out 2>&1 || fail "merge again: $(cat merge2.out)"
grep -qx 'merged.db: 10 stores merged: 0 runs added, 10 already there, 0 conflicts' merge2.out ||
  fail "merge again: $(cat merge2.out)"
"$esl" runs check --store merged.db >/dev/null || fail "runs check"
[ "$("$esl" runs list --store merged.db --format csv | sed 1d | wc -l)" = 10 ] ||
  fail "the merged store holds $("$esl" runs list --store merged.db --format csv | sed 1d | wc -l) runs"
for id in $ids; do
  n=$("$esl" runs list --store merged.db --where sweep_task="$id" --format csv | sed 1d |
      awk -F, '$3 == 0' | wc -l)
  [ "$n" = 1 ] || fail "task $id is in the merged store $n times"
done
"$esl" runs list --store merged.db --where sweep_task="$victim" --format json >victim.json
for kv in "\"node\": \"$node\"" '"gpu_name": "Stub GPU 0"' '"gpu_driver": "550.54.15"' \
          '"gpu_uuid": "GPU-00000000-0000-0000-0000-000000000000"' \
          "\"slurm_array_job_id\": \"$job2\"" '"slurm_array_task_id": "2"'; do
  grep -qF "$kv" victim.json || fail "label $kv missing: $(cat victim.json)"
done

# one dataset, the GPU column filled, and a law fitted on it
"$esl" runs export --store merged.db >data.csv 2>export.err || fail "export: $(cat export.err)"
[ "$(sed 1d data.csv | wc -l)" = 10 ] || fail "export: $(cat data.csv export.err)"
[ "$(sed 1d data.csv | cut -d, -f2 | sort -u)" = "Stub GPU 0" ] || fail "gpu column: $(cat data.csv)"
"$esl" fit --data data.csv --format json >fit.json 2>fit.err || fail "fit: $(cat fit.err)"
grep -q '"coef"' fit.json || fail "fit: $(cat fit.json)"
echo "ok: 10 tasks on Slurm job $job, task $victim killed and resumed as job $job2, merged once"
