sweep run tests/data/sweep/bad.txt --shards $tmp/shards --index 0 --per-job 4
