help flops
