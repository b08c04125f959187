runs list -o $tmp/m.db
