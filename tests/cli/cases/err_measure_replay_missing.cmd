measure --meter replay --replay tests/data/meter/missing.csv --idle 0 --no-store -- true
