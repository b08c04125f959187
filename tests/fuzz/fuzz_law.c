/*
 * fuzz_law.c - libFuzzer target for the law file reader: any bytes must give
 * a law or a clean error with a JSON path; a law that reads must write back
 * and predict (or refuse) without a crash or a non-finite result.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "esl/esl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    esl_law *law = NULL;
    if (esl_law_parse(&law, (const char *)data, size, "fuzz.json") != ESL_OK)
        return 0;
    char *text = NULL;
    if (esl_law_to_json(&text, law) == ESL_OK)
        free(text);
    esl_row row = {.model = "flux-dev", .gpu = "A100", .dtype = "fp16", .height = 1024,
                   .width = 1024, .steps = 50, .prompts = 1, .flops_cfg = 3.3e15};
    esl_prediction p;
    if (esl_law_predict(&p, law, &row, NULL) == ESL_OK &&
        !(isfinite(p.energy_j) && isfinite(p.lo_j) && isfinite(p.hi_j)))
        abort();
    esl_law_free(law);
    return 0;
}
