#!/bin/sh
# Run one golden CLI case: `run.sh ESL CASE.cmd`. The .cmd file holds the
# arguments (shell words, $DATA is tests/data, $ROOT the source tree, $tmp a
# scratch folder removed afterwards); stdout,
# stderr and the exit status must equal CASE.out, CASE.err and CASE.code.
# UPDATE=1 rewrites the expected files from the actual output.
set -u
esl=$1
case_file=$2
base=${case_file%.cmd}
dir=$(cd "$(dirname "$case_file")" && pwd)
ROOT=$(cd "$dir/../../.." && pwd)
DATA=$ROOT/tests/data
export ROOT DATA
# CASE.env, when present, sets variables for the case (NAME=VALUE lines, shell
# syntax); $BUILD is the build tree, whose tests/ holds the stub libraries.
BUILD=$(cd "$(dirname "$esl")/.." && pwd)
export BUILD
if [ -f "$base.env" ]; then set -a; . "$base.env"; set +a; fi
unset ESL_MODEL_PATH
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
args=$(cat "$case_file")
cd "$ROOT" || exit 1
eval "\"\$esl\" $args" >"$tmp/out" 2>"$tmp/err" </dev/null
echo $? >"$tmp/code"
if [ "${UPDATE:-0}" = 1 ]; then
  cp "$tmp/out" "$base.out"; cp "$tmp/err" "$base.err"; cp "$tmp/code" "$base.code"
  exit 0
fi
fail=0
for part in code out err; do
  if ! cmp -s "$base.$part" "$tmp/$part"; then
    echo "--- expected $part ($base.$part) vs actual:"
    diff -u "$base.$part" "$tmp/$part" | head -40
    fail=1
  fi
done
exit $fail
