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
  "$check" "$tmp/f.png" --png 2202x676 ;;
decomposition_pdf)
  run plot decomposition --model flux-dev -o "$tmp/f.PDF"
  "$check" "$tmp/f.PDF" --pdf ;;
diagnostic_svg)
  # In-sample: every row of the shipped data is one marker.
  run plot diagnostic -o "$tmp/f.svg"
  "$check" "$tmp/f.svg" --markers "$(rows "$data")" --text "actual (Wh per 100-image row)" \
    --text "predicted (Wh per 100-image row)" --text "R²(ln E) = " --text "Spearman ρ = " --text "MAPE = " ;;
diagnostic_data_where)
  run plot diagnostic --data "$data" --where model=sd2 --color gpu -o "$tmp/f.svg"
  "$check" "$tmp/f.svg" --markers "$(rows "$data" sd2)" --text "A100" --text "GPU" ;;
diagnostic_each)
  # Figure 2: one law per model, one panel per model.
  run plot diagnostic --each model --where model=flux-dev,sd35-large,qwen-image -o "$tmp/f.svg"
  n=$(( $(rows "$data" flux-dev) + $(rows "$data" sd35-large) + $(rows "$data" qwen-image) ))
  "$check" "$tmp/f.svg" --markers "$n" --text "flux-dev (own fit)" --text "qwen-image (own fit)" ;;
diagnostic_leave_out)
  # Figure 4: each row is drawn once as a test row and, in the other two folds, as a training row.
  run plot diagnostic --split leave-out:model --where model=flux-dev,sd35-large,qwen-image -o "$tmp/f.svg"
  n=$(( $(rows "$data" flux-dev) + $(rows "$data" sd35-large) + $(rows "$data" qwen-image) ))
  "$check" "$tmp/f.svg" --markers $((3 * n)) --text "test: flux-dev" \
    --text "train: qwen-image,sd35-large" --text "test: sd35-large" ;;
diagnostic_kfold)
  # Two folds: every row once in each fold, as training or as test row.
  run plot diagnostic --split kfold:2 --seed 7 -o "$tmp/f.svg"
  "$check" "$tmp/f.svg" --markers $((2 * $(rows "$data"))) --text "test: fold 2/2" ;;
diagnostic_leave_out_gpu)
  # Two GPUs: each fold trains on one and tests on the other, so each row is drawn twice.
  two=$ROOT/tests/data/plot_two_gpus.csv
  run plot diagnostic --data "$two" --split leave-out:gpu --color gpu -o "$tmp/f.svg"
  "$check" "$tmp/f.svg" --markers $((2 * $(rows "$two"))) --text "test: H100" --text "train: A100" ;;
diagnostic_named_split)
  # train=A,B:test=C by model names, then by GPU names: each kept row drawn once.
  run plot diagnostic --split train=flux-dev,sd2:test=qwen-image -o "$tmp/f.svg"
  "$check" "$tmp/f.svg" --markers $(( $(rows "$data" flux-dev) + $(rows "$data" sd2) + $(rows "$data" qwen-image) )) \
    --text "train: flux-dev,sd2" --text "test: qwen-image" || exit 1
  two=$ROOT/tests/data/plot_two_gpus.csv
  run plot diagnostic --data "$two" --split train=A100:test=H100 -o "$tmp/g.svg"
  "$check" "$tmp/g.svg" --markers "$(rows "$two")" --text "test: H100" ;;
diagnostic_png)
  run plot diagnostic --where model=qwen-image -o "$tmp/f.png"
  "$check" "$tmp/f.png" --png 980x760 ;;
diagnostic_law_file)
  run fit --data "$data" --where model=flux-dev -o "$tmp/law.json" >/dev/null
  run plot diagnostic --law "$tmp/law.json" --where model=flux-dev,sd2 -o "$tmp/f.svg"
  "$check" "$tmp/f.svg" --markers $(( $(rows "$data" flux-dev) + $(rows "$data" sd2) )) \
    --text "law.json" ;;
scaling_svg)
  run plot scaling -o "$tmp/f.svg"
  "$check" "$tmp/f.svg" --markers "$(rows "$data")" --text "FLOPs_cfg (FLOP)" \
    --text "energy (Wh per 100-image row)" --text "shading: 95% interval" --text "1024x1024" ;;
contributions_svg)
  run plot contributions -o "$tmp/f.svg"
  "$check" "$tmp/f.svg" --markers "$(rows "$data" flux-dev)" --text "denoising steps T" \
    --text "energy per image (relative)" --text "fp32, with CFG" ;;
contributions_model)
  run plot contributions --data "$data" --model sd35-large -o "$tmp/f.pdf"
  "$check" "$tmp/f.pdf" --pdf ;;
trace_svg)
  # A 301-row trace measured through the replay meter into a fresh store: the
  # figure's line has one vertex per stored sample.
  awk 'BEGIN { print "time_s,power_w"; for (i = 0; i <= 300; i++) { t = i / 10;
       printf "%g,%g\n", t, (t < 5 || t > 25) ? 62 : 300 + 80 * sin(t) } }' >"$tmp/trace.csv"
  run measure --meter replay --replay "$tmp/trace.csv" --idle-w 60 --store "$tmp/runs.db" \
    -- true >/dev/null
  n=$("$esl" runs show 1 --store "$tmp/runs.db" --format json |
      sed -n 's/^  "samples": \([0-9]*\),$/\1/p')
  [ "$n" = 301 ] || { echo "stored samples: '$n', expected 301"; exit 1; }
  run plot trace --store "$tmp/runs.db" --run 1 -o "$tmp/f.svg"
  "$check" "$tmp/f.svg" --layout --line "$n" --text "time (s)" --text "power (W)" --text "0 replay" \
    --text "dashed: idle 60.0 W" --text "grey: measurement window, 30.00 s" --text "total " \
    --text "dynamic " ;;
trace_png)
  run measure --meter replay --replay "$ROOT/tests/data/meter/idle_then_load.csv" --idle-w 100 \
    --store "$tmp/runs.db" -- true >/dev/null
  run plot trace --store "$tmp/runs.db" --run 1 -o "$tmp/f.png"
  "$check" "$tmp/f.png" --png 1400x600 || exit 1
  # idle_then_load.csv: 900 J in all, 300 J above 100 W idle over 6 s.
  run plot trace --store "$tmp/runs.db" --run 1 -o "$tmp/f.svg"
  "$check" "$tmp/f.svg" --line 7 --text "total 900.0 J (0.2500 Wh)" \
    --text "dynamic 300.0 J (0.0833 Wh)" ;;
layout_panels)
  # Every panel count from 1 to 6 (and the 8 of leave-one-model-out on four
  # models): no two labels overlap and none leaves the page, as measured in
  # the SVG by figcheck --layout.
  paper="flux-dev sd35-large qwen-image sd2"
  six="flux-dev sd35-large qwen-image sd2 sdxl kandinsky-3"
  first() { echo "$2" | tr ' ' '\n' | head -n "$1" | paste -sd, -; }
  fail=0
  draw() { # NAME ARGS...: draw, then check the layout
    name=$1; shift
    run plot "$@" -o "$tmp/$name.svg"
    "$check" "$tmp/$name.svg" --layout || fail=1
  }
  for n in 1 2 3 4 5 6; do
    draw "decomposition$n" decomposition --model "$(first $n "$six")"
  done
  for n in 1 2 3 4; do
    draw "each$n" diagnostic --each model --where "model=$(first $n "$paper")"
    draw "scaling$n" scaling --where "model=$(first $n "$paper")"
  done
  draw one diagnostic
  draw kfold2 diagnostic --split kfold:2
  draw kfold3 diagnostic --split kfold:3
  draw leave2 diagnostic --split leave-out:model --where "model=$(first 2 "$paper")"
  draw leave3 diagnostic --split leave-out:model --where "model=$(first 3 "$paper")"
  draw leave4 diagnostic --split leave-out:model
  draw contributions contributions
  draw contributions_sd2 contributions --model sd2
  exit $fail ;;
missing_driver)
  # Without the cairo driver PLplot would prompt on stdin for another device;
  # esl finds out first, says which package is missing, and leaves no file.
  PLPLOT_DRV_DIR=$tmp/no-drivers "$esl" plot decomposition -o "$tmp/f.png" 2>"$tmp/err"
  rc=$?
  expected="esl: cannot draw '$tmp/f.png': PLplot has no 'pngcairo' device (install plplot-driver-cairo)"
  [ $rc -eq 2 ] || { echo "exit status $rc, expected 2"; exit 1; }
  [ "$(cat "$tmp/err")" = "$expected" ] || { echo "stderr:"; cat "$tmp/err"; exit 1; }
  [ ! -e "$tmp/f.png" ] || { echo "a file was left behind"; exit 1; } ;;
*)
  echo "run.sh: unknown case '$case_name'"; exit 2 ;;
esac
