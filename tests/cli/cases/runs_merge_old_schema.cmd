runs merge tests/data/store/no_samples.db -o $tmp/merged.db
