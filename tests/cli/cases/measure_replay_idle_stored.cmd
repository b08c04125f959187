measure --meter replay --replay tests/data/meter/idle_then_load.csv --no-store --idle-w 100 -- true
