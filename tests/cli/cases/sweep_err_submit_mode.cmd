sweep submit tests/data/sweep/bad.txt --shards $tmp/shards
