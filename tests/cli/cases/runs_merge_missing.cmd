runs merge tests/data/sweep/missing.db -o $tmp/merged.db
