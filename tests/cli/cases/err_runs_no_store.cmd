runs list --store tests/data/meter/no-such.db
