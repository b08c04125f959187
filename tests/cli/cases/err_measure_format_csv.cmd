measure --meter replay --replay tests/data/meter/idle_then_load.csv --no-store --format csv -- true
