#!/bin/sh
# esl runs import (CodeCarbon, Zeus, ML.ENERGY) and export (codecarbon, openmetrics):
# round trips, a fit on imported rows, and bad files that must leave the
# store as it was (one transaction). Usage: runs_io.sh ESL SOURCE_DIR
set -eu
esl=$1
src=$2
data=$src/tests/data/import
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
count() { "$esl" runs list --store "$1" --format csv | tail -n +2 | wc -l | tr -d ' '; }
labels="--label model=sd2 --label gpu=A100 --label dtype=fp16 --label cfg=1 --label height=768
        --label width=768 --label steps=25 --label prompts=10"

# CodeCarbon 2.8 emissions.csv: two rows, two runs, kWh read as J
# shellcheck disable=SC2086
out=$("$esl" runs import --from codecarbon "$data/codecarbon.csv" --store "$t/a.db" $labels)
[ "$out" = "imported 2 runs from $data/codecarbon.csv (codecarbon): ids 1 to 2" ] || fail "import: $out"
"$esl" runs export --store "$t/a.db" > "$t/rows.csv"
grep -qx 'sd2,A100,fp16,1,768,768,25,10,30283.199999999997,1,total,120.5,,esl-run:1' "$t/rows.csv" ||
  fail "dataset row of run 1: $(cat "$t/rows.csv")"
grep -qx 'sd2,A100,fp16,1,768,768,25,10,53384.400000000001,1,total,205.25,,esl-run:2' "$t/rows.csv" ||
  fail "dataset row of run 2"
"$esl" runs list --store "$t/a.db" | grep 'source=codecarbon' | grep -q 'zone=DEU' || fail "labels"

# export codecarbon, import that, export again: the same rows
"$esl" runs export --store "$t/a.db" --format codecarbon > "$t/cc1.csv"
"$esl" runs import --from codecarbon "$t/cc1.csv" --store "$t/b.db" >/dev/null
"$esl" runs export --store "$t/b.db" --format codecarbon > "$t/cc2.csv"
cmp -s "$t/cc1.csv" "$t/cc2.csv" || fail "codecarbon round trip: $(diff "$t/cc1.csv" "$t/cc2.csv")"
# Germany's 2024 intensity (344.14 g/kWh) x 0.008412 kWh, in kg
grep -q '^2026-03-02T10:15:30,sd2-sweep,5d0c3f7e-0001-4a8e-9b1e-2f6a1c9d0a01,120.5,0.0028949056799999996,' \
  "$t/cc1.csv" || fail "codecarbon export row: $(sed -n 2p "$t/cc1.csv")"
grep -q ',0.008412,,0.008412,Germany,DEU,' "$t/cc1.csv" || fail "codecarbon energy and country"

# the imported rows fit with the paper's: the by-kind law takes total rows
n0=$("$esl" fit --data "$src/data/paper_a100.csv" --form by-kind | sed -n 's/^trained on \([0-9]*\) rows.*/\1/p')
n1=$("$esl" fit --data "$src/data/paper_a100.csv" --data "$t/rows.csv" --form by-kind |
     sed -n 's/^trained on \([0-9]*\) rows.*/\1/p')
[ -n "$n0" ] && [ "$n1" = $((n0 + 2)) ] || fail "fit on imported rows: $n0 then $n1 rows"

# Zeus: an array of windows, the second over two GPUs
out=$("$esl" runs import --from zeus "$data/zeus.json" --store "$t/z.db" --label model=sd2)
[ "$out" = "imported 2 runs from $data/zeus.json (zeus): ids 1 to 2" ] || fail "zeus import: $out"
"$esl" runs list --store "$t/z.db" --format csv | grep -q ',58.5,24981.25,' ||
  "$esl" runs list --store "$t/z.db" | grep -q '24981.250' || fail "zeus energy of two GPUs"
"$esl" runs list --store "$t/z.db" | grep -q 'source=zeus window=sd2-768-25' || fail "zeus labels"

# ML.ENERGY: every row of the shipped data/mlenergy_v2.csv written back as the
# leaderboard's result objects (pipeline and GPU names from each row's source),
# imported, exported: the same rows, and the same law as fitting the CSV itself
awk -F, 'NR > 1 { s = $13; sub(/^"ML\.ENERGY v2: /, "", s); hf = s; sub(/ on .*/, "", hf)
  gpu = s; sub(/^.* on /, "", gpu); sub(/ at .*/, "", gpu)
  printf "%s{\"Model\": \"%s\", \"GPU model\": \"%s\", \"Batch size\": %s, ", (NR > 2 ? "," : "["), hf, gpu, $9
  printf "\"Number of inference steps\": %s, \"Batch latency (s)\": %s, \"Batch energy (J)\": %s}\n", $7, $12, $10 }
  END { print "]" }' "$src/data/mlenergy_v2.csv" > "$t/ml.json"
out=$("$esl" runs import --from mlenergy "$t/ml.json" --store "$t/ml.db")
[ "$out" = "imported 86 runs from $t/ml.json (mlenergy): ids 1 to 86" ] || fail "mlenergy import: $out"
"$esl" runs export --store "$t/ml.db" > "$t/ml.csv"
# (the export has energy_j before batch_size, the shipped file after)
awk -F, 'NR == FNR { if (FNR > 1) want[FNR] = $0; next }
  FNR > 1 { split(want[FNR], w, ",")
    for (k = 1; k <= 8; k++) if ($k != w[k]) { print "row " FNR " column " k ": " $k " not " w[k]; bad = 1 }
    if ($10 != w[9] || $11 != w[11]) { print "row " FNR " batch or kind: " $10 " " $11; bad = 1 }
    if ($9 - w[10] > 1e-9 * w[10] || w[10] - $9 > 1e-9 * w[10]) { print "row " FNR " energy " $9; bad = 1 }
    if ($12 - w[12] > 1e-9 * w[12] || w[12] - $12 > 1e-9 * w[12]) { print "row " FNR " duration " $12; bad = 1 }
    n++ }
  END { if (n != 86) { print n " rows exported"; bad = 1 } exit bad }' \
  "$src/data/mlenergy_v2.csv" "$t/ml.csv" || fail "mlenergy rows differ from data/mlenergy_v2.csv"
"$esl" fit --data "$t/ml.csv" --form by-kind > "$t/ml-law1.txt"
"$esl" fit --data "$src/data/mlenergy_v2.csv" --form by-kind > "$t/ml-law2.txt"
cmp -s "$t/ml-law1.txt" "$t/ml-law2.txt" || fail "law on imported ML.ENERGY rows: $(diff "$t/ml-law1.txt" "$t/ml-law2.txt")"

# OpenMetrics: one family per quantity, escaped label values, # EOF last
"$esl" runs import --from zeus "$data/zeus.json" --store "$t/z.db" --label 'note=say "hi"' >/dev/null
"$esl" runs export --store "$t/z.db" --format openmetrics > "$t/om.txt"
[ "$(tail -n 1 "$t/om.txt")" = "# EOF" ] || fail "openmetrics ends with # EOF"
grep -qx '# UNIT esl_run_energy_joules joules' "$t/om.txt" || fail "openmetrics unit"
grep -qx 'esl_run_energy_joules{run="4",label_note="say \\"hi\\"",label_source="zeus",label_window="sd2-768-25"} 24981.25' \
  "$t/om.txt" || fail "openmetrics sample: $(grep 'run="4"' "$t/om.txt" | head -1)"

# bad files: a clear error naming file, line or field, exit 2, nothing stored
before=$(count "$t/a.db")
expect() { # expect MESSAGE ESL-ARGS...
  msg=$1; shift
  set +e; "$esl" "$@" --store "$t/a.db" >/dev/null 2>"$t/err"; rc=$?; set -e
  [ "$rc" = 2 ] || fail "exit $rc for $*"
  [ "$(cat "$t/err")" = "$msg" ] || fail "message for $*: $(cat "$t/err")"
  [ "$(count "$t/a.db")" = "$before" ] || fail "a failed import stored runs: $*"
}
expect "esl: $src/data/paper_a100.csv:1: column 'model' is not a CodeCarbon emissions.csv column (checked against CodeCarbon 2.2 to 2.8)" \
  runs import --from codecarbon "$src/data/paper_a100.csv"
expect "esl: $data/codecarbon-unit.csv:3: column 'duration': '205.25 s' is not a number" \
  runs import --from codecarbon "$data/codecarbon-unit.csv"
expect "esl: $data/zeus-truncated.json:3:37: '}' expected near end of file" \
  runs import --from zeus "$data/zeus-truncated.json"
expect "esl: $data/zeus-unit.json: \$.gpu_energy.0: not a positive number of joules" \
  runs import --from zeus "$data/zeus-unit.json"
expect "esl: $data/mlenergy-mismatch.json: \$: \"Energy per image (J)\" 600 x \"Batch size\" 2 is not \"Batch energy (J)\" 1000" \
  runs import --from mlenergy "$data/mlenergy-mismatch.json"
expect "esl: $data/zeus.json: \$[0].\"name\": not a field of an ML.ENERGY text-to-image result (Model, GPU model, Batch size, Number of inference steps, Batch latency (s), Batch energy (J), Energy per image (J))" \
  runs import --from mlenergy "$data/zeus.json"
expect "esl: runs import: option --from: unknown format 'carbontracker' (known: codecarbon, zeus, mlenergy)" \
  runs import --from carbontracker "$data/zeus.json"
echo "ok"
