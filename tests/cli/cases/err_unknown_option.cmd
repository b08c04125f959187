flops --colour red
