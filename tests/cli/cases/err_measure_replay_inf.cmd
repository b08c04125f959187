measure --meter replay --replay tests/data/meter/huge_power.csv --idle 0 --no-store -- true
