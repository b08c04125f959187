plot diagnostic --law law.json --split kfold:2 -o /nonexistent-dir/f.png
