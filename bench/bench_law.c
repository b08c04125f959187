/*
 * bench_law.c - how fast libesl reads a large dataset, fits the energy law
 * on it and predicts from it. Writes a synthetic dataset of ROWS rows drawn
 * from a known law with noise (four catalogue models, three GPUs, two
 * dtypes, the paper's sizes and steps), then times reading it (CSV + FLOP
 * engine per row), the OLS fit, and single-row predictions with intervals.
 * bench/run_law_bench.sh uses it to write the data for its whole-process
 * comparisons of esl with pandas + scikit-learn (bench/law_pandas.py); with
 * "gen" as third argument it only writes the files.
 *
 *   build/bench/bench_law [ROWS] [DIR] [gen]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "esl/esl.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The law the rows are drawn from (Eq. 3, ln E in kWh). */
static const double TRUE_LN_A = -20.0, TRUE_ALPHA = 0.98, TRUE_FP32 = 2.0, TRUE_RES = -0.05;
static const char *const gpus[] = {"A100", "A4000", "A6000"};
static const double gpu_beta[] = {0.0, 0.6, 0.4};

int main(int argc, char **argv)
{
    long rows = argc > 1 ? atol(argv[1]) : 1000000;
    const char *dir = argc > 2 ? argv[2] : "/tmp";
    char path[4096], flops_path[4096];
    snprintf(path, sizeof path, "%s/law_bench.csv", dir);
    snprintf(flops_path, sizeof flops_path, "%s/law_bench_flops.csv", dir);

    /* Denoiser FLOPs per step for each model and size (sizes fit every model). */
    static const int64_t sides[] = {256, 384, 512, 640, 768, 896, 1024};
    enum { N_SIDES = sizeof sides / sizeof sides[0] };
    const char *names[4] = {"flux-dev", "qwen-image", "sd2", "sd35-large"};
    double denoise[4][N_SIDES][N_SIDES];
    FILE *ff = fopen(flops_path, "w");
    if (ff == NULL) {
        perror(flops_path);
        return 1;
    }
    fprintf(ff, "model,height,width,denoise_flops_per_step\n");
    for (int m = 0; m < 4; m++) {
        esl_model *model;
        if (esl_catalog_find(&model, names[m]) != ESL_OK) {
            fprintf(stderr, "bench_law: %s\n", esl_error_last());
            return 1;
        }
        for (int h = 0; h < N_SIDES; h++)
            for (int w = 0; w < N_SIDES; w++) {
                esl_request r = {.height = sides[h], .width = sides[w], .steps = 1, .prompts = 1};
                esl_flops f;
                if (esl_flops_count(&f, model, &r, ESL_CONVENTION_PAPER) != ESL_OK) {
                    fprintf(stderr, "bench_law: %s\n", esl_error_last());
                    return 1;
                }
                denoise[m][h][w] = (double)f.denoise_flops_per_step;
                fprintf(ff, "%s,%lld,%lld,%.17g\n", names[m], (long long)sides[h],
                        (long long)sides[w], denoise[m][h][w]);
            }
        esl_model_free(model);
    }
    fclose(ff);

    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 42);
    FILE *fp = fopen(path, "w");
    if (fp == NULL || rng == NULL) {
        perror(path);
        return 1;
    }
    fprintf(fp, "model,gpu,dtype,cfg,height,width,steps,prompts,energy_j\n");
    for (long i = 0; i < rows; i++) {
        int m = (int)gsl_rng_uniform_int(rng, 4), g = (int)gsl_rng_uniform_int(rng, 3);
        int fp32 = (int)gsl_rng_uniform_int(rng, 2), cfg = (int)gsl_rng_uniform_int(rng, 2);
        int h = (int)gsl_rng_uniform_int(rng, N_SIDES), w = (int)gsl_rng_uniform_int(rng, N_SIDES);
        long steps = 10 + 10 * (long)gsl_rng_uniform_int(rng, 5);
        long prompts = 25L << gsl_rng_uniform_int(rng, 3);
        double flops_cfg = (double)prompts * (double)steps * denoise[m][h][w] * (cfg ? 2 : 1);
        double ln_kwh = TRUE_LN_A + TRUE_ALPHA * log(flops_cfg / 1e9) + TRUE_FP32 * fp32 +
                        gpu_beta[g] + TRUE_RES * log((double)(sides[h] * sides[w]) / 256.0) +
                        gsl_ran_gaussian(rng, 0.05);
        fprintf(fp, "%s,%s,%s,%d,%lld,%lld,%ld,%ld,%.6g\n", names[m], gpus[g], fp32 ? "fp32" : "fp16",
                cfg, (long long)sides[h], (long long)sides[w], steps, prompts, exp(ln_kwh) * 3.6e6);
    }
    fclose(fp);
    gsl_rng_free(rng);
    if (argc > 3 && strcmp(argv[3], "gen") == 0)
        return 0;

    double t0 = now_s();
    esl_dataset *ds = NULL;
    if (esl_dataset_load(&ds, path, NULL) != ESL_OK) {
        fprintf(stderr, "bench_law: %s\n", esl_error_last());
        return 1;
    }
    double t1 = now_s();
    esl_law *law = NULL;
    if (esl_law_fit(&law, ds, NULL) != ESL_OK) {
        fprintf(stderr, "bench_law: %s\n", esl_error_last());
        return 1;
    }
    double t2 = now_s();
    double sink = 0;
    for (size_t i = 0; i < ds->n_rows; i++) {
        esl_prediction p;
        if (esl_law_predict(&p, law, &ds->rows[i], NULL) != ESL_OK) {
            fprintf(stderr, "bench_law: %s\n", esl_error_last());
            return 1;
        }
        sink += p.hi_j - p.lo_j;
    }
    double t3 = now_s();

    printf("rows %zu\n", ds->n_rows);
    printf("c_read_s %.3f\n", t1 - t0);
    printf("c_fit_s %.3f\n", t2 - t1);
    printf("c_predict_per_s %.0f\n", (double)ds->n_rows / (t3 - t2));
    printf("c_alpha %.4f (true %.2f)\n", law->coef[esl_law_feature(law, "alpha")], TRUE_ALPHA);
    printf("c_fp32 %.4f (true %.2f)\n", law->coef[esl_law_feature(law, "dtype=fp32")], TRUE_FP32);
    printf("c_r2_log %.6f\n", law->metrics.r2_log);
    if (!(sink > 0))
        return 1;
    esl_law_free(law);
    esl_dataset_free(ds);
    return 0;
}
