plot trace --store tests/data/store/no_samples.db --run 1 -o "$tmp/f.svg"
