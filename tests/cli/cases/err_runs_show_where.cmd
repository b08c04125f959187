runs show 1 --where a=b
