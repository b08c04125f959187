models import tests/data/diffusers/qwen-image --name qwen
