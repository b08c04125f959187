validate --data data/mlenergy_v2.csv --split leave-out:gpu --forms by-kind
