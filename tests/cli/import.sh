#!/bin/sh
# `esl models import` end to end, in a throw-away user catalogue: the imported
# model is found by name and counts the same as --from-diffusers on the folder.
set -eu
esl=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# XDG_DATA_HOME names the user catalogue when ESL_MODEL_PATH is unset.
unset ESL_MODEL_PATH
export XDG_DATA_HOME="$tmp/data"
path=$("$esl" models import "$root/tests/data/diffusers/flux-dev" --name my-flux)
[ "$path" = "$tmp/data/esl/models/my-flux.json" ] || { echo "wrote '$path'"; exit 1; }
a=$("$esl" flops --model my-flux --height 1024 --width 1024 --convention exact --format csv | tail -1 | cut -d, -f2-)
b=$("$esl" flops --from-diffusers "$root/tests/data/diffusers/flux-dev" --height 1024 --width 1024 --format csv | tail -1 | cut -d, -f2-)
c=$("$esl" flops --model flux-dev --height 1024 --width 1024 --convention exact --format csv | tail -1 | cut -d, -f2-)
[ "$a" = "$b" ] && [ "$a" = "$c" ] || { printf 'imported %s\nfolder   %s\nbuiltin  %s\n' "$a" "$b" "$c"; exit 1; }
# The imported model is predicted by the default law like the folder itself,
# and flagged as a model the law was not trained on.
p=$("$esl" predict --model my-flux --height 1024 --width 1024 --format csv | tail -1)
q=$("$esl" predict --from-diffusers "$root/tests/data/diffusers/flux-dev" --height 1024 --width 1024 --format csv | tail -1)
[ "$(echo "$p" | cut -d, -f2-9)" = "$(echo "$q" | cut -d, -f2-9)" ] || { printf '%s\n%s\n' "$p" "$q"; exit 1; }
[ "$(echo "$p" | cut -d, -f17)" = model ] || { echo "no model flag: $p"; exit 1; }
# The imported model is listed with its origin, and counted exactly without
# being told (its description has no paper-convention terms), saying so.
"$esl" models --format csv | grep -q '^my-flux,"my-flux",dit,[0-9]*,user,' ||
  { echo "my-flux not listed as a user model"; "$esl" models --format csv; exit 1; }
d=$("$esl" flops --model my-flux --height 1024 --width 1024 --format csv 2>"$tmp/err" | tail -1 | cut -d, -f2-)
[ "$d" = "$a" ] || { printf 'auto %s\nexact %s\n' "$d" "$a"; exit 1; }
grep -q 'my-flux has no paper-convention terms: counting it in the exact convention' "$tmp/err" ||
  { cat "$tmp/err"; exit 1; }
"$esl" bench --dry-run --model my-flux --height 512 --width 512 --format csv >/dev/null
# ESL_MODEL_PATH's first folder takes precedence over XDG_DATA_HOME.
export ESL_MODEL_PATH="$tmp/first:$tmp/second"
path=$("$esl" models import "$root/tests/data/diffusers/sd15" --name my-sd15)
[ "$path" = "$tmp/first/my-sd15.json" ] || { echo "wrote '$path'"; exit 1; }
"$esl" flops --model my-sd15 --height 512 --width 512 --convention exact --format csv >/dev/null
"$esl" models --format csv | grep -q '^my-sd15,"my-sd15",unet,[0-9]*,ESL_MODEL_PATH,' ||
  { echo "my-sd15 not listed from ESL_MODEL_PATH"; exit 1; }
# A built-in model's name is refused: it would shadow the built-in model.
if "$esl" models import "$root/tests/data/diffusers/flux-dev" --name flux-dev 2>"$tmp/err"; then
  echo "imported under a built-in name"; exit 1
fi
grep -qx "esl: 'flux-dev' is the name of a built-in model: choose another name" "$tmp/err" ||
  { cat "$tmp/err"; exit 1; }
[ ! -e "$tmp/first/flux-dev.json" ] || { echo "wrote flux-dev.json"; exit 1; }
# A config with an unbounded count is refused, naming the key and the limit.
cp -r "$root/tests/data/diffusers/sd15" "$tmp/big"
sed 's/"layers_per_block": 2/"layers_per_block": 1e9/' "$root/tests/data/diffusers/sd15/unet/config.json" \
  >"$tmp/big/unet/config.json"
if "$esl" models import "$tmp/big" --name big 2>"$tmp/err"; then echo "imported 1e9"; exit 1; fi
grep -q "config field 'layers_per_block': expected a non-negative integer" "$tmp/err" ||
  { cat "$tmp/err"; exit 1; }
sed 's/"layers_per_block": 2/"layers_per_block": 1000000000/' \
  "$root/tests/data/diffusers/sd15/unet/config.json" >"$tmp/big/unet/config.json"
if "$esl" models import "$tmp/big" --name big 2>"$tmp/err"; then echo "imported 1e9"; exit 1; fi
grep -q "config field 'layers_per_block': 1000000000 is above the limit of 1024" "$tmp/err" ||
  { cat "$tmp/err"; exit 1; }
ls "$tmp/first" | grep -q tmp && { echo "temporary file left"; exit 1; }
echo ok
