plot diagnostic --each gpu -o /nonexistent-dir/f.png
