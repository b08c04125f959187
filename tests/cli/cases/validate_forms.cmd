validate --data data/paper_a100.csv --split leave-out:model --forms paper,per-image,roofline,by-kind
