sweep status tests/data/sweep/bad.txt --shards tests/data/sweep/stale
