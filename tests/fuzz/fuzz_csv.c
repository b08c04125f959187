/*
 * fuzz_csv.c - libFuzzer target for the dataset reader: any bytes must give
 * rows or a clean error naming the file and line, never a crash, and every
 * row's FLOPs_cfg must be positive. Both the energy-required and the
 * configurations-only modes are exercised.
 */
#include <stdint.h>
#include <stdlib.h>

#include "esl/esl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int check_row(void *ctx, const esl_row *row)
{
    (void)ctx;
    if (!(row->flops_cfg > 0) || row->height <= 0 || row->steps <= 0 || row->prompts <= 0)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int no_energy = 0; no_energy < 2; no_energy++) {
        esl_data_opts o = {.convention = (esl_convention)no_energy, .no_energy = no_energy};
        (void)esl_data_parse((const char *)data, size, "fuzz.csv", &o, check_row, NULL);
    }
    esl_dataset *ds = NULL;
    if (esl_dataset_parse(&ds, (const char *)data, size, "fuzz.csv", NULL) == ESL_OK) {
        esl_law *law = NULL;
        if (esl_law_fit(&law, ds, NULL) == ESL_OK) {
            esl_prediction p;
            (void)esl_law_predict(&p, law, &ds->rows[0], NULL);
            esl_law_free(law);
        }
        esl_dataset_free(ds);
    }
    return 0;
}
