runs merge -o $tmp/merged.db
