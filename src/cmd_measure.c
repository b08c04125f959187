/*
 * cmd_measure.c - `esl measure -- CMD ARGS...`: run a workload under a meter,
 * forward SIGINT and SIGTERM to it, print what it cost (J, Wh, average and
 * peak W, per device and in total, idle baseline subtracted), store the run
 * with its labels, and exit with the workload's own status. With
 * `--control fd:N[,M]` the workload opens and closes labelled windows itself
 * by writing `begin k=v ...` and `end` lines to its descriptor N (the
 * protocol is parsed by esl_control_parse), each answered `ack` (or `err`)
 * on descriptor M; every window is stored as its own run. The child process
 * and its channel are libesl's (esl_exec_run), and so are the table, the
 * JSON and the trace it writes (esl/export.h).
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

/* --trace: the record's samples as CSV. @return 0 or the tool's exit code */
static int trace_csv(const char *path, const esl_record *rec)
{
    cli_file o;
    if (cli_file_open(&o, path, "option --trace") != 0)
        return EXIT_FAIL;
    int rc = esl_record_trace_csv(o.f, rec);
    if (rc != ESL_OK) {
        cli_file_abandon(&o);
        return cli_fail(rc);
    }
    return cli_file_commit(&o, "option --trace");
}

/* Store a run; when that fails, keep its document in a file (beside the
 * store, else in $TMPDIR or /tmp: esl_record_keep) and say where, so that
 * the energy is not lost. @return 0, or the tool's exit code */
static int store_run(const args *a, esl_store *store, int64_t *run_id, const esl_record *rec,
                     const char *command, int status, const esl_label *labels, size_t n)
{
    int rc = esl_store_put(store, run_id, rec, command, status, labels, n);
    if (rc == ESL_OK)
        return 0;
    int exit_code = cli_fail(rc);
    char *text = NULL, *kept = NULL;
    *run_id = 0;
    (void)esl_record_json_text(&text, rec, command, status, 0, labels, n);
    for (int where = 0; where < 2 && text != NULL && kept == NULL; where++)
        if (esl_record_keep(&kept, text, a->store, rec->start_unix_s, where) != ESL_OK)
            cli_error("measure: keeping the unstored run: %s", esl_error_last());
    if (kept != NULL)
        cli_error("measure: the run was not stored; its result is kept in %s", kept);
    else
        cli_error("measure: the run was not stored and could not be kept in a file: the result "
                  "printed is all there is");
    free(text);
    free(kept);
    return kept != NULL ? exit_code : EXIT_FAIL;
}

/* Say on stderr why a record's energy is doubtful, if it is; `window` is
 * the window's number under --control, 0 without. */
static void warn_doubtful(const esl_record *rec, size_t window)
{
    char doubt[320];
    if (!esl_record_doubt(doubt, sizeof doubt, rec))
        return;
    if (window > 0)
        cli_error("measure: window %zu: %s", window, doubt);
    else
        cli_error("measure: %s", doubt);
}

/* --control: store each window the workload measured, then print them. */
static int report_windows(const args *a, const esl_exec_control *c, esl_store *store,
                          const char *command, int status, FILE *out)
{
    int exit_code = 0;
    int64_t *ids = calloc(c->n_windows + 1, sizeof *ids);
    esl_label labels[MAX_LABELS + ESL_CONTROL_MAX_LABELS];
    for (size_t w = 0; w < c->n_windows && ids != NULL; w++) {
        size_t n = esl_run_window_labels(labels, sizeof labels / sizeof labels[0], a->labels,
                                         a->n_labels, c->windows[w].begin);
        int rc = store != NULL ? store_run(a, store, &ids[w], c->windows[w].record, command,
                                           status, labels, n) : 0;
        exit_code = rc != 0 ? rc : exit_code;
        warn_doubtful(c->windows[w].record, w + 1);
    }
    if (ids == NULL) {
        cli_error("out of memory");
        return EXIT_FAIL;
    }
    (void)esl_windows_write(out, c, ids, command, status, a->labels, a->n_labels,
                            a->format == FORMAT_JSON, a->store);
    free(ids);
    return exit_code;
}

/* The summary of a single run: its document, or its table. */
static void print_summary(FILE *out, const args *a, const char *json, const esl_record *rec,
                          const char *command, int status, int64_t run_id)
{
    if (a->format == FORMAT_JSON)
        fputs(json, out);
    else
        (void)esl_record_table(out, rec, command, status, run_id, a->store);
}

/* A problem on the control channel, said while the workload runs. */
static void control_note(void *ctx, int protocol, const char *message)
{
    (void)ctx;
    if (protocol)
        cli_error("measure: --control: %s", message);
    else
        cli_error("%s", message);
}

/* --control: run the workload serving its channel, store and print its windows. */
static int measure_windows(const args *a, esl_meter *m, esl_store *store, char **argv,
                           const char *command, cli_file *output)
{
    esl_exec_control ctl;
    memset(&ctl, 0, sizeof ctl);
    ctl.ctl_fd = a->control_fd;
    ctl.ack_fd = a->ack_fd;
    ctl.meter = m;
    ctl.note = control_note;
    int status, rc = esl_exec_run(&status, argv, &ctl);
    if (rc != ESL_OK) {
        cli_fail(rc);
        esl_exec_control_release(&ctl);
        return 127;
    }
    if (ctl.open != NULL) {
        cli_error("measure: --control: the last window was not ended; it ends with '%s'", command);
        if (!ctl.failed && (rc = esl_exec_close_window(&ctl)) != ESL_OK) {
            ctl.failed = rc;
            cli_fail(rc);
        }
    }
    int exit_code = report_windows(a, &ctl, store, command, status,
                                   output->f != NULL ? output->f : stdout);
    if (exit_code == 0)
        exit_code = status;
    if (ctl.failed)
        exit_code = cli_exit_code(ctl.failed);
    else if (ctl.bad && exit_code == 0)
        exit_code = EXIT_FAIL;
    if (output->f != NULL && cli_file_commit(output, "option --output") != 0)
        exit_code = EXIT_FAIL;
    esl_exec_control_release(&ctl);
    return exit_code;
}

/* One window around the whole workload: store it (or keep it), write
 * --trace, print the summary. */
static int measure_once(const args *a, esl_meter *m, esl_store *store, char **argv,
                        const char *command, cli_file *output)
{
    esl_record *rec = NULL;
    int status, rc = esl_window_begin(m);
    if (rc != ESL_OK)
        return cli_fail(rc);
    int started = esl_exec_run(&status, argv, NULL);
    if (started != ESL_OK)
        cli_fail(started);
    if ((rc = esl_window_end(m, &rec)) != ESL_OK)
        return cli_fail(rc);
    if (started != ESL_OK) { /* not started: nothing worth storing */
        esl_record_free(rec);
        return 127;
    }
    /* From here on the workload has run: whatever fails, its result is
     * printed, and kept in a file when it could not be stored. */
    int64_t run_id = 0;
    int exit_code = status;
    if (store != NULL && (rc = store_run(a, store, &run_id, rec, command, status, a->labels,
                                         a->n_labels)) != 0)
        exit_code = rc;
    char *json = NULL;
    (void)esl_record_json_text(&json, rec, command, status, run_id, a->labels, a->n_labels);
    if (a->trace != NULL && trace_csv(a->trace, rec) != 0)
        exit_code = EXIT_FAIL;
    print_summary(output->f != NULL ? output->f : stdout, a, json, rec, command, status, run_id);
    if (output->f != NULL && cli_file_commit(output, "option --output") != 0) {
        /* the summary file is lost: print it where it can be seen */
        print_summary(stdout, a, json, rec, command, status, run_id);
        exit_code = EXIT_FAIL;
    }
    warn_doubtful(rec, 0);
    free(json);
    esl_record_free(rec);
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
    char *command = NULL;
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
    else if ((rc = esl_run_command(&command, argv + first, (size_t)(argc - first))) != ESL_OK)
        exit_code = cli_fail(rc);
    else if ((rc = esl_meter_open(&m, &a.meter)) != ESL_OK ||
             (!a.no_store && (rc = esl_store_open(&store, a.store)) != ESL_OK) ||
             (rc = esl_meter_baseline(m, a.cooldown_s, a.idle_s,
                                      a.have_idle_w ? a.idle_w : NAN)) != ESL_OK)
        exit_code = cli_fail(rc);
    else if (a.control_fd < 0)
        exit_code = measure_once(&a, m, store, argv + first, command, &output);
    else
        exit_code = measure_windows(&a, m, store, argv + first, command, &output);
    cli_file_abandon(&output);
    esl_store_close(store);
    esl_meter_close(m);
    free(command);
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
