plot trace --store tests/data/store/none.db --run 1 -o "$tmp/f.svg"
