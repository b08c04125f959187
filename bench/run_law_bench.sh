#!/bin/sh
# Whole-process timings of esl's law commands against the Python a user
# would write (pandas + scikit-learn, bench/law_pandas.py), on the same
# generated rows, in one run:
#   sh bench/run_law_bench.sh [BUILD_DIR] [BIG_ROWS] [SMALL_ROWS]
# BIG_ROWS (default 10^6): esl fit (paper, roofline and by-kind forms), esl validate
# --split kfold:10; SMALL_ROWS (default 10^5): esl fit, esl predict --configs
# (CSV). Each line gives wall and CPU (user + system) seconds and peak RSS
# (/usr/bin/time -v); on a shared machine the CPU time varies less.
# With ESL_BEFORE=PATH, another esl binary (an earlier build) is timed too
# on the SMALL_ROWS fit and predictions, for before/after tables. With
# REPEAT=N (default 1) each command runs N times in a row and the line
# gives the run with the least wall time (on a shared machine, the one the
# other work disturbed least).
# Needs Debian's python3-pandas, python3-sklearn (/usr/bin/python3 on
# purpose: a python3 earlier on PATH may lack them) and the time package.
set -eu
build=${1:-build}
big=${2:-1000000}
small=${3:-100000}
here=$(cd "$(dirname "$0")" && pwd)
esl=$build/src/esl
py=/usr/bin/python3
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir "$dir/big" "$dir/small"
"$build/bench/bench_law" "$big" "$dir/big" gen
"$build/bench/bench_law" "$small" "$dir/small" gen
cut -d, -f1-8 "$dir/small/law_bench.csv" >"$dir/small/configs.csv"
# The law predictions use, and the same law as CSV for the Python peer.
"$esl" fit --data "$dir/small/law_bench.csv" -o "$dir/small/law.json" >/dev/null
$py - "$dir/small/law.json" "$dir/small/law.csv" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
names = [f["name"] for f in d["features"]]
with open(sys.argv[2], "w") as f:
    f.write("term,coef,se,sigma2,dof," + ",".join("cov_" + n for n in names) + "\n")
    for i, ft in enumerate(d["features"]):
        f.write(f"{ft['name']},{ft['coef']!r},{ft['se']!r},{d['residual_variance']!r},{d['dof']}," +
                ",".join(repr(v) for v in d["covariance"][i]) + "\n")
PY

repeat=${REPEAT:-1}

# run LABEL ROWS CMD...: one whole process (the best of REPEAT), its wall
# and CPU time and peak RSS.
run() {
  label=$1 rows=$2
  shift 2
  : >"$dir/runs"
  k=0
  while [ "$k" -lt "$repeat" ]; do
    /usr/bin/time -v "$@" >"$dir/out" 2>"$dir/time" || { cat "$dir/time" >&2; exit 1; }
    awk '
      /Elapsed \(wall clock\)/ { split($NF, t, ":"); s = 0; for (i = 1; i <= length(t); i++) s = s * 60 + t[i] }
      /User time \(seconds\)|System time \(seconds\)/ { cpu += $NF }
      /Maximum resident set size/ { kb = $NF }
      END { print s, cpu, kb }' "$dir/time" >>"$dir/runs"
    k=$((k + 1))
  done
  sort -g "$dir/runs" | head -n 1 | awk -v l="$label" -v n="$rows" -v r="$repeat" '
    { printf "%-36s %8d rows %7.2f s wall %7.2f s cpu %6.0f MiB %5.0f B/row%s\n", l, n, $1, $2,
             $3 / 1024, $3 * 1024 / n, (r > 1 ? " (best of " r ")" : "") }'
}

echo "== $(date -u +%Y-%m-%dT%H:%MZ), esl $(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) cores"
echo "== pandas $($py -c 'import pandas; print(pandas.__version__)'), scikit-learn $($py -c 'import sklearn; print(sklearn.__version__)')"
run "esl fit (paper)" "$small" "$esl" fit --data "$dir/small/law_bench.csv"
run "pandas+sklearn fit" "$small" $py "$here/law_pandas.py" fit "$dir/small"
run "esl fit (paper)" "$big" "$esl" fit --data "$dir/big/law_bench.csv"
run "pandas+sklearn fit" "$big" $py "$here/law_pandas.py" fit "$dir/big"
run "esl fit --form roofline" "$big" "$esl" fit --form roofline --data "$dir/big/law_bench.csv"
run "esl fit --form by-kind" "$big" "$esl" fit --form by-kind --data "$dir/big/law_bench.csv"
run "esl validate --split kfold:10" "$big" "$esl" validate --split kfold:10 --data "$dir/big/law_bench.csv"
run "pandas+sklearn KFold(10)" "$big" $py "$here/law_pandas.py" validate "$dir/big"
run "esl predict --configs (csv)" "$small" "$esl" predict --law "$dir/small/law.json" \
    --configs "$dir/small/configs.csv" --format csv
if [ -n "${ESL_BEFORE:-}" ]; then
  run "before: esl fit (paper)" "$small" "$ESL_BEFORE" fit --data "$dir/small/law_bench.csv"
  run "before: esl predict --configs (csv)" "$small" "$ESL_BEFORE" predict --law "$dir/small/law.json" \
      --configs "$dir/small/configs.csv" --format csv
fi
run "pandas+numpy predict (csv)" "$small" $py "$here/law_pandas.py" predict "$dir/small" "$dir/small/law.csv"
