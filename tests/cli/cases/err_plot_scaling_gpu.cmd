plot scaling --gpu H100 -o /nonexistent-dir/f.png
