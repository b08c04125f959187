measure --meter replay --replay tests/data/meter/idle_then_load.csv --no-store --label "model=$(printf 'sd\033[2J')" -- true
