plot trace --store tests/data/store/no_samples.db --run 7 -o "$tmp/f.svg"
