measure --meter replay --replay tests/data/meter/power_only.csv --no-store --idle 0 --output no/such/dir/summary.txt -- true
