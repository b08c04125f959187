#!/bin/sh
# esl runs merge and esl runs upgrade end to end: two stores of replayed runs
# merged, merged again (nothing twice), a schema-1 store refused then
# upgraded and merged, a changed run reported as a conflict (exit 1) with
# the destination's run kept, and a failed merge leaving no store behind.
#   merge.sh ESL SOURCE_DIR
set -u
esl=$1
src=$2
trace=$src/tests/data/meter/idle_then_load.csv
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
fail() { echo "FAIL: $*"; exit 1; }
command -v python3 >/dev/null 2>&1 || { echo "SKIP: no python3 (its sqlite3 module edits a store)"; exit 77; }
sql() { python3 -c 'import sqlite3, sys
db = sqlite3.connect(sys.argv[1]); db.executescript(sys.argv[2]); db.commit()' "$@"; }
measure() { "$esl" measure --meter replay --replay "$trace" --idle 0 --output /dev/null "$@"; }

measure --store a.db --label task=a1 -- true || fail "measure a1"
measure --store a.db --label task=a2 -- true || fail "measure a2"
measure --store b.db --label task=b1 -- sh -c 'exit 3'
"$esl" runs merge a.db b.db -o all.db >out 2>err || fail "merge: $(cat err)"
[ "$(cat out)" = "all.db: 2 stores merged: 3 runs added, 0 already there, 0 conflicts" ] || fail "$(cat out)"
[ -s err ] && fail "merge wrote to stderr: $(cat err)"
"$esl" runs merge b.db a.db b.db -o all.db >out 2>err || fail "merge again: $(cat err)"
[ "$(cat out)" = "all.db: 3 stores merged: 0 runs added, 4 already there, 0 conflicts" ] || fail "$(cat out)"
"$esl" runs list --store all.db --format csv | cut -d, -f3 | sed 1d | sort | tr '\n' ' ' >codes
[ "$(cat codes)" = "0 0 3 " ] || fail "exit statuses in the merged store: $(cat codes)"
# the merged run keeps its UUID
u=$("$esl" runs list --store a.db --where task=a2 --format json | sed -n 's/^ *"run_uuid": "\(.*\)",$/\1/p')
[ ${#u} = 36 ] || fail "run UUID '$u'"
"$esl" runs show 2 --store all.db | grep -qx "uuid      $u" || fail "merged run 2: $("$esl" runs show 2 --store all.db)"

# a store of schema 1: refused, upgraded (its run gets a UUID), merged
measure --store old.db --label task=o1 -- true || fail "measure o1"
sql old.db "DROP INDEX runs_by_uuid; ALTER TABLE runs DROP COLUMN uuid; ALTER TABLE devices DROP COLUMN counter_period_s; PRAGMA user_version = 1"
"$esl" runs merge old.db -o all.db >out 2>err; [ $? = 1 ] || fail "schema 1 merged"
grep -qx "esl: runs merge: old.db: schema version 1 is an older esl's, whose runs have no UUIDs (upgrade it first: esl runs upgrade --store old.db); nothing was merged" err ||
  fail "schema 1: $(cat err)"
"$esl" runs upgrade --store old.db >out || fail "upgrade"
[ "$(cat out)" = "old.db: schema version 3" ] || fail "upgrade: $(cat out)"
"$esl" runs merge old.db -o all.db >out || fail "merge the upgraded store"
grep -q ": 1 runs added" out || fail "$(cat out)"

# a run changed after it was merged: a conflict, the merged copy kept
sql a.db "UPDATE runs SET energy_j = energy_j * 2 WHERE id = 2"
"$esl" runs merge a.db -o all.db >out 2>err; [ $? = 1 ] || fail "a conflict exits 1"
[ "$(cat out)" = "all.db: 1 stores merged: 0 runs added, 1 already there, 1 conflicts" ] || fail "$(cat out)"
grep -Eqx "esl: runs merge: conflict: run [0-9a-f-]{36} of a.db \(id 2\) differs from run 2 of all.db, which was kept" err ||
  fail "conflict: $(cat err)"
"$esl" runs list --store all.db --where task=a2 --format csv | awk -F, 'NR == 2 { print $5 }' >e1
[ "$(cat e1)" = 900 ] || fail "the kept run's energy is $(cat e1), not 900 J"

# a failed merge into a new store leaves no file
"$esl" runs merge a.db "$src/tests/data/sweep/not-a-store.db" -o new.db 2>err; [ $? = 2 ] || fail "bad shard"
[ -e new.db ] && fail "a failed merge left new.db"
"$esl" runs upgrade --store none.db 2>err; [ $? = 2 ] || fail "upgrade of a missing store"
grep -qx "esl: none.db: no run store here (--store chooses another)" err || fail "$(cat err)"
echo ok
