sweep status tests/data/sweep/plan.csv --shards $tmp/none
