models import tests/data/diffusers/sd15
