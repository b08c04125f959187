plot diagnostic --terms -bogus -o /nonexistent-dir/f.png
