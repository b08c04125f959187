report --where model=nope -o /nonexistent-dir/r.html
