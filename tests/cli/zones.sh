#!/bin/sh
# Grid zones by ISO alpha-3 code, country name and cloud region give the same
# intensity as the alpha-2 code. Usage: zones.sh ESL SOURCE_DIR
set -eu
esl=$1
law=$2/tests/data/law-flux.json # a law file: no fit at start-up, a quick test
fail() { echo "FAIL: $*" >&2; exit 1; }
carbon() {
  "$esl" predict --law "$law" --model flux-dev --height 512 --width 512 --zone "$1" | grep '^carbon'
}
for pair in DEU:DE deu:DE Germany:DE USA:US "United States of America:US" us-east-1:US \
            us-central1:US eastus:US europe-west4:NL westeurope:NL eu-west-3:FR \
            ap-northeast-1:JP GBR:GB UK:GB Turkey:TR; do
  alias=${pair%:*}
  zone=${pair##*:}
  [ "$(carbon "$alias")" = "$(carbon "$zone")" ] || fail "$alias is not $zone"
done
# an unknown name still fails, naming it
if "$esl" predict --law "$law" --model flux-dev --height 512 --width 512 --zone eu-west-99 2>/dev/null; then
  fail "eu-west-99 accepted"
fi
echo ok
