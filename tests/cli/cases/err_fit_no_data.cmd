fit --where model=sd2
