plot trace --store tests/data/store/no_samples.db -o "$tmp/f.svg"
