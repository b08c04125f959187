measure --meter replay --replay tests/data/meter/idle_then_load.csv --no-store --idle 2s --label model=sd2 -- true
