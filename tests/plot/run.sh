#!/bin/sh
# Draw one figure with the esl tool and check what the file really holds.
# Usage: run.sh ESL FIGCHECK CASE   (run from anywhere; data comes from the source tree)
set -u
esl=$1
check=$2
case_name=$3
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
unset ESL_MODEL_PATH
data=$ROOT/data/paper_a100.csv
rows() { # data rows of a CSV, optionally only those whose first column is $2
  if [ $# -gt 1 ]; then awk -F, -v m="$2" 'NR > 1 && $1 == m' "$1" | wc -l
  else awk 'NR > 1' "$1" | wc -l; fi
}
run() { "$esl" "$@" || { echo "esl $* failed with status $?"; exit 1; }; }

case $case_name in
decomposition_svg)
  # 3 models x 4 sizes x 3 stages bars, plus one legend box per stage.
  run plot decomposition -o "$tmp/f.svg"
  "$check" "$tmp/f.svg" --bars 39 --text "image size (pixels)" \
    --text "compute per image (GFLOP)" --text "FLUX.1-dev" --text "denoising (T=10)" ;;
decomposition_sizes)
  run plot decomposition --model sd2 --sizes 512,768 --steps 25 --cfg -o "$tmp/f.svg"
  "$check" "$tmp/f.svg" --bars 9 --text "denoising (T=25, CFG)" ;;
decomposition_png)
  run plot decomposition -o "$tmp/f.png"
  "$check" "$tmp/f.png" --png 2010x590 ;;
decomposition_pdf)
  run plot decomposition --model flux-dev -o "$tmp/f.PDF"
  "$check" "$tmp/f.PDF" --pdf ;;
*)
  echo "run.sh: unknown case '$case_name'"; exit 2 ;;
esac
