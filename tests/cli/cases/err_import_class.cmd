models import tests/data/bad/diffusers-unknown-class --name unknown
