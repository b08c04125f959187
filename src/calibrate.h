/*
 * calibrate.h - what `esl calibrate` (cmd_calibrate.c) and its reports
 * (calibrate_print.c) share: the options, and the sweep as it ran.
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

/* A finished run of the sweep. */
typedef struct sweep_run {
    const esl_calib_point *point;
    int64_t prompts;
    int64_t run_id;
    esl_bench_result result;
    double energy_j, dynamic_j, meter_s;
    double j_per_tflop, peak_tflops, peak_fraction;
    unsigned flags;
    int in_fit;
} sweep_run;

typedef struct sweep {
    const args *a;
    esl_model **models;
    size_t n_models;
    esl_dtype dtypes[4];
    size_t n_dtypes;
    size_t probe_model;
    double probe_tflops[4];
    double overhead_s;
    esl_calib_sweep plan;
    int have_plan;
    sweep_run *runs;
    size_t n_runs;
    size_t n_failed;      /* runs that failed: reported and skipped */
    size_t n_skipped;     /* planned runs left when the budget ran out */
    char device[256];
    char driver[80];
    double started_s;
    esl_dataset *data; /* the rows of the runs fit for a law */
    esl_law *law;
    const char *law_path;
    char law_path_buf[320];
} sweep;

/* The planned sweep of a dry run, as a table, CSV or JSON. */
void calibrate_print_plan(const args *a, const esl_calib_sweep *cp, esl_model **models,
                          size_t n_models);

/* The progress line on stderr, when it is a terminal and not --quiet: a
 * bar of `done` runs of the sweep, the next run, and the time left (the
 * plan's estimate scaled by elapsed / est_done_s, how the sweep kept to it). */
void calibrate_print_progress(const sweep *s, double elapsed, size_t done, double est_done_s,
                              const esl_calib_point *next);

/* The measured calibration: runs, coverage, the largest configuration per
 * dtype against the dense peak, and the law, as a table or as JSON (which
 * returns 0 or an exit code). */
void calibrate_print_table(const sweep *s, double elapsed_s);
int calibrate_print_json(const sweep *s, double elapsed_s);

#endif
