#!/bin/sh
# Law fit and prediction, libesl against scikit-learn, in one run on one CSV:
#   sh bench/run_law_bench.sh [ROWS] [BUILD_DIR]
# Needs Debian's python3-sklearn: /usr/bin/python3 is used on purpose (a
# python3 earlier on PATH may lack numpy).
set -eu
rows=${1:-1000000}
build=${2:-build}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
echo "== libesl (bench_law), $rows rows"
"$build/bench/bench_law" "$rows" "$dir" | tee "$dir/c.txt"
echo "== scikit-learn $(/usr/bin/python3 -c 'import sklearn; print(sklearn.__version__)')"
/usr/bin/python3 "$(dirname "$0")/law_sklearn.py" "$dir" | tee "$dir/py.txt"
get() { awk -v k="$2" '$1 == k { print $2 }' "$dir/$1"; }
awk -v cr="$(get c.txt c_read_s)" -v cf="$(get c.txt c_fit_s)" \
    -v pr="$(get py.txt py_read_s)" -v pf="$(get py.txt py_fit_s)" \
    -v cp="$(get c.txt c_predict_per_s)" -v ps="$(get py.txt py_predict_single_per_s)" 'BEGIN {
  printf "== ratio (Python time / libesl time)\n"
  printf "read + features  %.2fx\n", pr / cr
  printf "fit              %.2fx\n", pf / cf
  printf "single-row predictions/s: libesl %.0f, scikit-learn %.0f (%.0fx)\n", cp, ps, cp / ps
}'
