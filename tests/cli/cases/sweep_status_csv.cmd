sweep status tests/data/sweep/bad.txt --shards $tmp/none --format csv
