measure --meter replay --replay tests/data/meter/idle_then_load.csv --idle 10s --no-store -- true
