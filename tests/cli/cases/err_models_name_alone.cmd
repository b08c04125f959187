models --name x
