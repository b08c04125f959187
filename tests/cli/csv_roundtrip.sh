#!/bin/sh
# predict --format csv prints each number in its shortest form: every one
# must read back to the same double that --format json (17 digits) prints.
set -eu
esl=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$esl" predict --configs "$root/tests/data/configs.csv" --zone DE --price 0.3 --format csv >"$tmp/p.csv"
"$esl" predict --configs "$root/tests/data/configs.csv" --zone DE --price 0.3 --format json >"$tmp/p.json"
python3 - "$tmp/p.csv" "$tmp/p.json" <<'PY'
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1])))
docs = json.load(open(sys.argv[2]))
assert len(rows) == len(docs) > 0, (len(rows), len(docs))
keys = {"flops_cfg": "flops_cfg", "energy_j": "energy_j", "energy_lo_j": "energy_lo_j",
        "energy_hi_j": "energy_hi_j", "wh_per_image": "wh_per_image", "kwh_total": "kwh_total",
        "gco2e": "gco2e", "cost": "cost", "time_s": "time_s", "total_j": "total_j"}
n = 0
for r, d in zip(rows, docs):
    for c, k in keys.items():
        if d[k] is None:
            assert r[c] == "", (c, r[c])
            continue
        got = float(r[c])
        assert got == float(d[k]), (c, r[c], d[k])
        assert len(r[c]) <= len(repr(float(d[k]))) + 5, (c, r[c])
        n += 1
print(f"ok: {n} numbers read back bit for bit")
PY
