/*
 * cmd_measure.c - `esl measure -- CMD ARGS...`: run a workload under a meter,
 * forward SIGINT and SIGTERM to it, print what it cost (J, Wh, average and
 * peak W, per device and in total, idle baseline subtracted), store the run
 * with its labels, and exit with the workload's own status. With
 * `--control fd:N[,M]` the workload opens and closes labelled windows itself
 * by writing `begin k=v ...` and `end` lines to its descriptor N (the
 * protocol is parsed by esl_control_parse), each answered `ack` (or `err`)
 * on descriptor M; every window is stored as its own run. The measuring
 * itself is libesl's (esl_measure_run): the child process and its channel,
 * storing each run or keeping it in a file, the trace, the table and the
 * JSON; the tool reads the options and turns the result into an exit code.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "esl/esl.h"

#define MAX_LABELS 64

enum {
    OPT_GPUS = 'g', OPT_FORMAT = 'f', OPT_LABEL = 'l', OPT_OUTPUT = 'o',
    OPT_HZ = 256, OPT_IDLE, OPT_IDLE_W, OPT_STORE, OPT_NO_STORE, OPT_TRACE, OPT_METER, OPT_REPLAY,
    OPT_CONTROL, OPT_COOLDOWN, OPT_NO_ALIGN, OPT_BUSY_IDLE,
};

static const cli_option options[] = {
    {"gpus", OPT_GPUS, "LIST", "GPUs to measure: visible (default: those CUDA_VISIBLE_DEVICES "
                               "shows), all, or CUDA indices, GPU UUIDs, PCI bus ids: 0,2"},
    {"hz", OPT_HZ, "N", "samples per second (default 10)"},
    {"idle", OPT_IDLE, "D", "measure idle power for D before the workload: 5s (default), 500ms, 0 skips"},
    {"cooldown", OPT_COOLDOWN, "D", "wait D before the idle window, for the GPU to cool (default 0)"},
    {"busy-idle", OPT_BUSY_IDLE, NULL, "flag an idle window that saw work instead of refusing it"},
    {"no-align", OPT_NO_ALIGN, NULL, "take window edges at once, not on energy-counter steps"},
    {"control", OPT_CONTROL, "fd:N[,M]", "CMD opens and closes windows by writing 'begin k=v ...' "
                                         "and 'end' lines to its fd N (acknowledged on fd M)"},
    {"idle-w", OPT_IDLE_W, "W", "use W watts per device as idle power instead of measuring it"},
    {"label", OPT_LABEL, "KEY=VALUE", "describe the run (model=flux-dev steps=50 ...); repeatable"},
    {"store", OPT_STORE, "FILE", "run store (default esl-runs.db)"},
    {"no-store", OPT_NO_STORE, NULL, "do not store the run"},
    {"trace", OPT_TRACE, "FILE", "also write the sampled trace as CSV"},
    {"meter", OPT_METER, "M", "nvml (default), rapl (CPU package and DRAM) or replay"},
    {"replay", OPT_REPLAY, "FILE", "the trace CSV the replay meter plays back"},
    {"format", OPT_FORMAT, "F", "output: table (default) or json"},
    {"output", OPT_OUTPUT, "FILE", "write the summary here, apart from CMD's own output"},
    {NULL, 0, NULL, NULL},
};

typedef struct args {
    esl_meter_opts meter;
    double idle_s, idle_w, cooldown_s;
    int have_idle_w, no_store;
    int control_fd, ack_fd;   /* -1 without --control / without an ack descriptor */
    const char *store, *trace, *output;
    esl_label labels[MAX_LABELS];
    size_t n_labels;
    cli_format format;
} args;

static int on_option(void *ctx, int key, const char *arg)
{
    args *a = ctx;
    switch (key) {
    case OPT_GPUS: a->meter.gpus = arg; return 0;
    case OPT_HZ: return cli_double("hz", arg, 0.1, 1000.0, &a->meter.hz);
    case OPT_IDLE: return cli_duration("idle", arg, &a->idle_s);
    case OPT_COOLDOWN: return cli_duration("cooldown", arg, &a->cooldown_s);
    case OPT_NO_ALIGN: a->meter.no_align = 1; return 0;
    case OPT_BUSY_IDLE: a->meter.idle_lenient = 1; return 0;
    case OPT_CONTROL:
        if (esl_control_spec_parse(&a->control_fd, &a->ack_fd, arg) == ESL_OK)
            return 0;
        cli_error("option --control: %s", esl_error_last());
        return EXIT_USAGE;
    case OPT_IDLE_W: a->have_idle_w = 1; return cli_double("idle-w", arg, 0.0, 1e6, &a->idle_w);
    case OPT_LABEL:
        return cli_key_value("label", arg, CLI_KV_WORD_KEY | CLI_KV_VISIBLE | CLI_KV_UNIQUE,
                             a->labels, &a->n_labels, MAX_LABELS, "labels");
    case OPT_STORE: a->store = arg; return 0;
    case OPT_NO_STORE: a->no_store = 1; return 0;
    case OPT_TRACE: a->trace = arg; return 0;
    case OPT_OUTPUT: a->output = arg; return 0;
    case OPT_METER: {
        int rc = esl_meter_kind_parse(&a->meter.kind, arg);
        return rc == ESL_OK ? 0 : cli_fail(rc);
    }
    case OPT_REPLAY: a->meter.replay_path = arg; return 0;
    case OPT_FORMAT:
        if (cli_format_parse(arg, &a->format) != 0)
            return EXIT_USAGE;
        if (a->format == FORMAT_CSV) {
            cli_error("option --format: 'csv' is not one of table, json (see --trace for the samples)");
            return EXIT_USAGE;
        }
        return 0;
    }
    return EXIT_USAGE;
}

/* Each problem esl_measure_run meets, said as it happens. */
static void note(void *ctx, const char *message)
{
    (void)ctx;
    cli_error("%s", message);
}

/* Measure the workload (esl_measure_run), print what it cost and give the
 * exit code: the workload's, unless something failed. */
static int measure(const args *a, esl_meter *m, esl_store *store, char **argv, cli_file *output)
{
    esl_measure_opts o = {.meter = m, .store = store, .store_path = a->store, .labels = a->labels,
                          .n_labels = a->n_labels, .ctl_fd = a->control_fd, .ack_fd = a->ack_fd,
                          .trace_path = a->trace, .json = a->format == FORMAT_JSON, .note = note};
    esl_measure_result r;
    int rc = esl_measure_run(&r, argv, &o);
    int exit_code = rc != ESL_OK ? (r.not_run ? 127 : cli_exit_code(rc))
                    : r.failed ? cli_exit_code(r.failed) : r.status;
    if (rc == ESL_OK) {
        if (exit_code == 0 && r.control.bad)
            exit_code = EXIT_FAIL;
        (void)esl_measure_write(output->f != NULL ? output->f : stdout, &r, &o);
        if (output->f != NULL && cli_file_commit(output, "option --output") != 0) {
            if (a->control_fd < 0) /* the summary file is lost: print it where it can be seen */
                (void)esl_measure_write(stdout, &r, &o);
            exit_code = EXIT_FAIL;
        }
        char doubt[320];
        if (a->control_fd < 0 && esl_record_doubt(doubt, sizeof doubt, r.record))
            cli_error("measure: %s", doubt);
    }
    esl_measure_result_release(&r);
    return exit_code;
}

static int run_measure(const cli_command *cmd, int argc, char **argv)
{
    args a;
    memset(&a, 0, sizeof a);
    a.idle_s = 5.0;
    a.store = "esl-runs.db";
    a.control_fd = a.ack_fd = -1;
    int first, rc = cli_parse(cmd, argc, argv, on_option, &a, &first);
    int exit_code = rc != 0 ? rc : EXIT_USAGE;
    esl_meter *m = NULL;
    esl_store *store = NULL;
    cli_file output = {NULL, NULL, NULL};
    if (rc != 0) {
        /* cli_parse has said why, or printed the help */
    } else if (first >= argc)
        cli_error("measure: no command to run (usage: esl measure [OPTIONS] -- CMD ARGS...)");
    else if (a.meter.kind == ESL_METER_REPLAY && a.meter.replay_path == NULL)
        cli_error("measure: --meter replay needs --replay FILE");
    else if (a.meter.kind != ESL_METER_REPLAY && a.meter.replay_path != NULL)
        cli_error("measure: --replay needs --meter replay");
    else if (a.control_fd >= 0 && a.trace != NULL)
        cli_error("measure: --trace writes one window's samples; it cannot go with --control");
    /* --output is opened before the workload runs, so that a bad path
     * costs nothing; close-on-exec, so that the workload does not inherit it. */
    else if (a.output != NULL && cli_file_open(&output, a.output, "option --output") != 0)
        exit_code = EXIT_FAIL;
    else if ((rc = esl_meter_open(&m, &a.meter)) != ESL_OK ||
             (!a.no_store && (rc = esl_store_open(&store, a.store)) != ESL_OK) ||
             (rc = esl_meter_baseline(m, a.cooldown_s, a.idle_s,
                                      a.have_idle_w ? a.idle_w : NAN)) != ESL_OK)
        exit_code = cli_fail(rc);
    else
        exit_code = measure(&a, m, store, argv + first, &output);
    cli_file_abandon(&output);
    esl_store_close(store);
    esl_meter_close(m);
    for (size_t i = 0; i < a.n_labels; i++)
        free(a.labels[i].key);
    return exit_code;
}

const cli_command cmd_measure = {
    "measure", run_measure, "run a command and measure the energy it costs",
    "[OPTIONS] -- CMD ARGS...",
    "Measures idle power first (--idle), then runs CMD, sampling power, clocks, temperature and\n"
    "utilization (--hz), and reports energy per device and in total: the energy counter's change\n"
    "where the device has one, else the integrated power trace, and the dynamic energy\n"
    "total - idle x duration. The run is stored with its --label pairs (esl runs). Exits with\n"
    "CMD's status (128+N when a signal N killed it); 3 when there is no measuring device.\n"
    "GPUs are numbered as CUDA numbers them (CUDA_VISIBLE_DEVICES, CUDA_DEVICE_ORDER), so the\n"
    "default meters the GPUs CMD can use. With --control fd:N[,M], CMD writes 'begin k=v ...'\n"
    "and 'end' lines to its descriptor N and reads 'ack' or 'err' from M; each window is\n"
    "stored as a run of its own with its labels (see docs/esl-measure.md).\n"
    "ESL_NVML_LIBRARY names the NVML library to load.",
    options,
};
