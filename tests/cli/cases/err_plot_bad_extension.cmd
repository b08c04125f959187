plot decomposition -o /nonexistent-dir/f.jpg
