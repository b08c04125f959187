/*
 * bench_flops.c - how many full FLOP evaluations (esl_flops_count: every
 * term of every component, Eq. 1) libesl performs per second over a large
 * sweep of sizes, steps and CFG for the four catalogue models.
 *
 *   build/bench/bench_flops [seconds]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "esl/esl.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    double budget = argc > 1 ? atof(argv[1]) : 2.0;
    esl_model *models[16];
    size_t n = esl_catalog_count();
    if (n > 16)
        n = 16;
    for (size_t i = 0; i < n; i++)
        if (esl_catalog_find(&models[i], esl_catalog_name(i)) != ESL_OK) {
            fprintf(stderr, "bench_flops: %s\n", esl_error_last());
            return 1;
        }

    double sink = 0.0, t0 = now_s(), t = t0;
    long long evals = 0;
    while (t - t0 < budget) {
        for (size_t i = 0; i < n; i++) {
            for (int64_t side = 64; side <= 4096; side += 64) {
                for (int64_t steps = 1; steps <= 100; steps += 11) {
                    esl_request r = {.height = side, .width = side + 64 * (steps % 3),
                                     .steps = steps, .prompts = 100, .cfg = (int)(steps & 1)};
                    esl_flops f;
                    if (esl_flops_count(&f, models[i], &r, ESL_CONVENTION_PAPER) == ESL_OK)
                        sink += f.flops_cfg;
                    evals++;
                }
            }
        }
        t = now_s();
    }
    printf("evaluations %lld in %.3f s: %.0f evaluations/s (checksum %.6e)\n", evals, t - t0,
           (double)evals / (t - t0), sink);
    for (size_t i = 0; i < n; i++)
        esl_model_free(models[i]);
    return 0;
}
