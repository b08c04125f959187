#!/bin/sh
# Output files are written whole or not at all, and a write that fails is an
# error: `outputs.sh ESL`. A figure or law written to a full device exits 1
# with the reason; one cut off by `ulimit -f` leaves the old file as it was
# and no temporary file beside it.
set -u
esl=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
root=$(cd "$(dirname "$0")/../.." && pwd)

if "$esl" plot --help >/dev/null 2>&1 && "$esl" plot decomposition -o "$tmp/probe.svg" 2>/dev/null; then
  ln -s /dev/full "$tmp/full.svg"
  "$esl" plot decomposition -o "$tmp/full.svg" 2>"$tmp/err"
  [ $? = 1 ] || fail "plot to a full device: exit status not 1"
  grep -qx "esl: cannot write '$tmp/full.svg': No space left on device" "$tmp/err" ||
    fail "plot to a full device: $(cat "$tmp/err")"
  echo old >"$tmp/old.svg"
  (ulimit -f 8; "$esl" plot decomposition -o "$tmp/old.svg" 2>"$tmp/err")
  [ $? = 1 ] || fail "plot past ulimit -f: exit status not 1"
  [ "$(cat "$tmp/old.svg")" = old ] || fail "plot past ulimit -f: the old figure was changed"
fi

echo old >"$tmp/law.json"
(ulimit -f 1; "$esl" fit --data "$root/data/paper_a100.csv" -o "$tmp/law.json" >/dev/null 2>"$tmp/err")
[ $? = 1 ] || fail "fit -o past ulimit -f: exit status not 1"
grep -qx "esl: option --output: $tmp/law.json: File too large" "$tmp/err" || fail "fit -o: $(cat "$tmp/err")"
[ "$(cat "$tmp/law.json")" = old ] || fail "fit -o past ulimit -f: the old law was changed"
"$esl" fit --data "$root/data/paper_a100.csv" -o "$tmp/law.json" >/dev/null || fail "fit -o"
grep -q '"coef"' "$tmp/law.json" || grep -q 'alpha' "$tmp/law.json" || fail "fit -o wrote: $(head -3 "$tmp/law.json")"
ls "$tmp" | grep -q 'tmp-' && fail "temporary files left: $(ls "$tmp")"
echo ok
