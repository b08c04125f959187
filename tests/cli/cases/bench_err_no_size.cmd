bench --model sd35-large --dry-run
