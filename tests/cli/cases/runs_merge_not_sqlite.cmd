runs merge tests/data/sweep/not-a-store.db -o $tmp/merged.db
