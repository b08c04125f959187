plot trace --store tests/data/meter/idle_then_load.csv --run 1 -o "$tmp/f.svg"
