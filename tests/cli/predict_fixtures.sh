#!/bin/sh
# Every diffusers fixture can be predicted by the default law: a positive
# energy inside its interval, and the 'model' flag on every model the law
# was not trained on (the paper's four and ML.ENERGY's eight architectures are).
set -eu
esl=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
n=0
for dir in "$root"/tests/data/diffusers/*/; do
  name=$(basename "$dir")
  line=$("$esl" predict --from-diffusers "$dir" --height 1024 --width 1024 --steps 30 --cfg \
         --format csv | tail -1)
  case $name in
    flux-dev|sd35-large|qwen-image|sd2|sd15|sdxl|sdxl-turbo|ssd-1b|sd3-medium|kandinsky-2-2|kandinsky-3) want=no ;;
    *) want=yes ;;
  esac
  echo "$line" | awk -F, -v name="$name" -v want="$want" '
    { e = $10 + 0; lo = $11 + 0; hi = $12 + 0; flagged = ($17 ~ /(^|;)model(;|$)/) ? "yes" : "no" }
    $1 != name { print name ": model column is " $1; exit 1 }
    !(e > 0 && lo > 0 && lo < e && e < hi) { print name ": energy " e " outside " lo " .. " hi; exit 1 }
    flagged != want { print name ": model flag " flagged ", want " want; exit 1 }'
  n=$((n + 1))
done
[ "$n" -ge 9 ] || { echo "only $n fixtures"; exit 1; }
echo "ok: $n fixtures"
