measure --meter replay --replay tests/data/meter/power_only.csv --idle 250ms --no-store -- true
