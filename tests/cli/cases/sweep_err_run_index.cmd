sweep run tests/data/sweep/bad.txt --shards $tmp/shards --index 1 --per-job 4
