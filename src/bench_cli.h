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

#define BENCH_CLI_MAX_LABELS 16

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

/* What one measured run gave. */
typedef struct bench_run {
    esl_bench_result result;
    esl_record *record;         /* the meter's window around the timed loop */
    esl_bench_efficiency total;       /* joules per TFLOP from the total energy */
    esl_bench_efficiency dynamic;     /* ... from the dynamic energy (0 when it is not positive) */
    int64_t run_id;             /* 0 when not stored */
    esl_bench_labels labels;    /* what the run was stored with (esl_bench_labels_init) */
    char *command;              /* the equivalent `esl bench` command line */
} bench_run;

/* Open the meter, measure or set the idle baseline, open the store.
 * Prints its error prefixed with `who`; returns 0 or an exit code. */
int bench_cli_open(bench_cli *b, const bench_cli_opts *opts, const char *who);
void bench_cli_close(bench_cli *b);

/* Run `plan` under the meter and store it with the labels of a dataset row
 * (esl_bench_labels_init, kept in out->labels). Prints its error prefixed with `who`; returns 0 or
 * an exit code. Release `out` with bench_cli_run_release. */
int bench_cli_run(bench_cli *b, const esl_workload *plan, const char *who, bench_run *out);
void bench_cli_run_release(bench_run *r);

/* Run `plan` without the meter and without storing it (a probe of the
 * GPU's throughput). `wall_s` receives the whole call's seconds: loading,
 * allocation, random weights and warm-up included. Prints its error
 * prefixed with `who`; returns 0 or an exit code. */
int bench_cli_probe(bench_cli *b, const esl_workload *plan, const char *who,
                    esl_bench_result *out, double *wall_s);

#endif
