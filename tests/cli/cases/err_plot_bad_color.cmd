plot diagnostic --color size -o /nonexistent-dir/f.png
