sweep plan --models sd2,flux-dev --sizes 256,512 --steps 10 --cfg 0,1 --dtypes fp16 -- --idle-w 100
