measure --meter replay --replay tests/data/meter/idle_then_load.csv --no-store --label a=1 --label a=2 -- true
