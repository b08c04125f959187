plot diagnostic --split kfold:1 -o /nonexistent-dir/f.png
