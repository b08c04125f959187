measure --meter replay --replay tests/data/meter/bad_time.csv --idle 0 --no-store -- true
