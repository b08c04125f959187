plot diagnostic --split kfold:2 --each model -o /nonexistent-dir/f.png
