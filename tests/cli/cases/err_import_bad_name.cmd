models import tests/data/diffusers/sd15 --name ../x
