plot contributions --data $DATA/plot_two_gpus.csv -o /nonexistent-dir/f.png
