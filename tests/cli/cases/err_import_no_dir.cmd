models import --name x
