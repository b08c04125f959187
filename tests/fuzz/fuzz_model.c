/*
 * fuzz_model.c - libFuzzer target for the model description reader and the
 * FLOP engine behind it: any bytes must give a model or a clean error, and
 * any model must count or fail cleanly, never crash or overflow.
 */
#include <stdint.h>
#include <stdlib.h>

#include "esl/esl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    esl_model *m = NULL;
    if (esl_model_parse(&m, (const char *)data, size, "fuzz") != ESL_OK)
        return 0;
    static const int64_t sides[] = {256, 1024, 4096, INT64_C(1) << 40};
    for (size_t i = 0; i < sizeof sides / sizeof sides[0]; i++) {
        int64_t side = sides[i] - sides[i] % m->pixel_multiple;
        esl_request r = {.height = side, .width = side, .steps = 50, .prompts = 100, .cfg = 1};
        esl_flops f;
        (void)esl_flops_count(&f, m, &r, ESL_CONVENTION_PAPER);
    }
    esl_model_free(m);
    return 0;
}
