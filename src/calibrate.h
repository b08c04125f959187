/*
 * calibrate.h - what `esl calibrate` (cmd_calibrate.c) and its printing
 * (calibrate_print.c) share: the options, and where its progress goes.
 */
#ifndef ESL_CALIBRATE_H
#define ESL_CALIBRATE_H

#include "bench_cli.h"
#include "cli.h"
#include "esl/esl.h"

typedef struct args {
    double budget_s, overhead_s, min_run_s;
    int64_t order_seed;
    const char *models, *dtypes, *tflops, *gpu, *output;
    int no_cfg, dry_run, quiet, strict_fp32;
    int64_t seed, warmup;
    cli_format format;
    bench_cli_opts run;
} args;

/* The planned sweep of a dry run, as a table, CSV or JSON. */
void calibrate_print_plan(const args *a, const esl_calib_sweep *cp, esl_model **models,
                          size_t n_models);

/* A calibration's event (esl_calib_setup.on_event): a message on stderr,
 * or the progress line when ctx, an int, says to show it (stderr is a
 * terminal and not --quiet). */
void calibrate_on_event(void *ctx, const esl_calib_event *ev);

/* The measured calibration as a table or JSON, its law written to
 * `law_path`. Returns 0 or an exit code. */
int calibrate_print(const args *a, const esl_calib *c, double elapsed_s, const char *law_path);

#endif
