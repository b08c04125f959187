gpus H300
