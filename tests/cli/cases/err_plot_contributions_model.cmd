plot contributions --model nope -o /nonexistent-dir/f.png
