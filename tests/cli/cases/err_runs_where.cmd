runs list --where model
