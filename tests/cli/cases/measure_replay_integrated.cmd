measure --meter replay --replay tests/data/meter/power_only.csv --no-store --idle 0 -- sh -c 'exit 5'
