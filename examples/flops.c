/*
 * flops.c - count the FLOPs of one FLUX.1-dev image with libesl.
 *
 *   cc flops.c $(pkg-config --cflags --libs esl) -o flops && ./flops
 */
#include <stdio.h>

#include <esl/esl.h>

int main(void)
{
    esl_model *model;
    esl_flops f;
    esl_request req = {.height = 1024, .width = 1024, .steps = 50, .prompts = 1, .cfg = 0};

    if (esl_catalog_find(&model, "flux-dev") != ESL_OK) {
        fprintf(stderr, "example: %s\n", esl_error_last());
        return 1;
    }
    if (esl_flops_count(&f, model, &req, ESL_CONVENTION_PAPER) != ESL_OK) {
        fprintf(stderr, "example: %s\n", esl_error_last());
        esl_model_free(model);
        return 1;
    }
    printf("%s 1024x1024, 50 steps: %lld FLOPs per image (%.1f%% denoising)\n", model->name,
           (long long)f.image_flops,
           100.0 * (double)f.denoise_flops_per_step * 50 / (double)f.image_flops);
    esl_model_free(model);
    return 0;
}
