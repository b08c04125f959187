/*
 * bench_cli.h - what `esl bench` and `esl calibrate` share: running a layer
 * plan on the GPU under the energy meter (a window around the timed loop,
 * the idle baseline measured once before), storing the run with the labels
 * that make it a dataset row, and its efficiency figures.
 */
#ifndef ESL_BENCH_CLI_H
#define ESL_BENCH_CLI_H

#include <limits.h>

#include <jansson.h>

#include "cli.h"
#include "esl/esl.h"

#define BENCH_CLI_MAX_LABELS ESL_BENCH_MAX_EXTRA_LABELS

/* How runs are measured and stored. */
typedef struct bench_cli_opts {
    esl_meter_opts meter;  /* NVML; gpus "0" unless --gpus */
    double idle_s;         /* idle window before the first run; 0 skips */
    double cooldown_s;     /* wait before the idle window; 0 none */
    double idle_w;         /* used instead when have_idle_w */
    int have_idle_w;
    const char *store;     /* run store path */
    int no_store;
    const char *module;    /* the CUDA module, NULL: beside esl or $ESL_GPU_MODULE */
    uint64_t seed;
    int warmup;
    /* --label KEY=VALUE: more labels for every stored run (a sweep's node,
     * job and task); keys point into label_keys, values into argv */
    esl_label labels[BENCH_CLI_MAX_LABELS];
    char label_keys[BENCH_CLI_MAX_LABELS][64];
    size_t n_labels;
} bench_cli_opts;

/* Parse one --label KEY=VALUE into `o`; a key bench sets itself is refused.
 * Prints its error; returns 0 or an exit code. */
int bench_cli_label(bench_cli_opts *o, const char *arg);

/* Keys of the shared option group "meter" (options.c). */
enum { BENCH_OPT_IDLE_W = 1100, BENCH_OPT_HZ, BENCH_OPT_GPUS, BENCH_OPT_STORE };

/* Handle a key above: 0 or an exit code; BENCH_CLI_NOT_MINE for another. */
#define BENCH_CLI_NOT_MINE (-2)
int bench_cli_option(bench_cli_opts *o, int key, const char *arg);

/* An open meter (idle baseline taken) and store. */
typedef struct bench_cli {
    const bench_cli_opts *opts;
    esl_meter *meter;
    esl_store *store;      /* NULL with --no-store */
    char module_path[PATH_MAX + 64];
} bench_cli;

/* Open the meter, measure or set the idle baseline, open the store.
 * Prints its error prefixed with `who`; returns 0 or an exit code. */
int bench_cli_open(bench_cli *b, const bench_cli_opts *opts, const char *who);
void bench_cli_close(bench_cli *b);

/* Run `plan` under the meter and store it with the labels of a dataset row
 * and --label's (esl_bench_measure). Prints its error prefixed with `who`;
 * returns 0 or an exit code. Release `out` with esl_bench_measured_release. */
int bench_cli_run(bench_cli *b, const esl_workload *plan, const char *who,
                  esl_bench_measured *out);

/* Run `plan` without the meter and without storing it (a probe of the
 * GPU's throughput). `wall_s` receives the whole call's seconds on the
 * meter's clock (esl_meter_clock_s): loading, allocation, random weights and
 * warm-up included. Prints its error
 * prefixed with `who`; returns 0 or an exit code. */
int bench_cli_probe(bench_cli *b, const esl_workload *plan, const char *who,
                    esl_bench_result *out, double *wall_s);

#endif
