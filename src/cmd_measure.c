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
#include <sys/types.h>
#include <unistd.h>

#include <jansson.h>

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

static char *join_words(char **argv, int argc)
{
    size_t size = 1;
    for (int i = 0; i < argc; i++)
        size += strlen(argv[i]) + 1;
    char *s = malloc(size), *p = s;
    if (s == NULL)
        return NULL;
    for (int i = 0; i < argc; i++) {
        size_t n = strlen(argv[i]);
        memcpy(p, argv[i], n);
        p += n;
        *p++ = i + 1 < argc ? ' ' : '\0';
    }
    if (argc == 0)
        *s = '\0';
    return s;
}

/* The run as JSON (esl_record_json); an empty object when it could not
 * be made. */
static json_t *summary_json(const esl_record *rec, const char *command, int status,
                            int64_t run_id, const esl_label *labels, size_t n_labels)
{
    char *text = NULL;
    json_t *o = NULL;
    if (esl_record_json(&text, rec, command, status, run_id, labels, n_labels) == ESL_OK)
        o = json_loads(text, 0, NULL);
    free(text);
    return o != NULL ? o : json_object();
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

static int write_fallback(const args *a, json_t *summary, double start_unix_s);

/* The labels of a window: --label's, then the window's own (which win). */
static size_t window_labels(const args *a, const esl_control_line *cl, esl_label *out)
{
    size_t n = 0;
    for (size_t i = 0; i < a->n_labels; i++) {
        int shadowed = 0;
        for (size_t k = 0; k < cl->n_labels; k++)
            if (strcmp(cl->keys[k], a->labels[i].key) == 0)
                shadowed = 1;
        if (!shadowed)
            out[n++] = a->labels[i];
    }
    for (size_t k = 0; k < cl->n_labels && n < 2 * MAX_LABELS; k++)
        out[n++] = (esl_label){(char *)cl->keys[k], (char *)cl->values[k]};
    return n;
}

/* Say on stderr why a record's energy is doubtful, if it is; `window` is
 * the window's number under --control, 0 without. */
static void warn_doubtful(const esl_record *rec, size_t window)
{
    char flags[256], which[48] = "";
    if (!(rec->flags & ESL_FLAGS_DOUBTFUL))
        return;
    if (window > 0)
        snprintf(which, sizeof which, "window %zu: ", window);
    cli_error("measure: %sthe energy is doubtful (%s): see docs/measurement.md", which,
              esl_flags_string(flags, sizeof flags, rec->flags & ESL_FLAGS_DOUBTFUL));
}

/* --control: store and print each window the workload measured. */
static int report_windows(const args *a, const esl_exec_control *c, esl_store *store,
                          const char *command, int status, FILE *out)
{
    int exit_code = 0;
    json_t *all = json_array();
    for (size_t w = 0; w < c->n_windows; w++) {
        esl_label labels[2 * MAX_LABELS];
        size_t n = window_labels(a, c->windows[w].begin, labels);
        const esl_record *rec = c->windows[w].record;
        int64_t run_id = 0;
        int rc;
        if (store != NULL &&
            (rc = esl_store_put(store, &run_id, rec, command, status, labels, n)) != ESL_OK) {
            exit_code = cli_fail(rc);
            run_id = 0;
        }
        json_t *summary = summary_json(rec, command, status, run_id, labels, n);
        if (run_id == 0 && store != NULL && write_fallback(a, summary, rec->start_unix_s) != 0)
            exit_code = EXIT_FAIL;
        if (a->format == FORMAT_JSON) {
            json_array_append_new(all, summary);
        } else {
            fprintf(out, "window    %zu of %zu:", w + 1, c->n_windows);
            for (size_t k = 0; k < c->windows[w].begin->n_labels; k++)
                fprintf(out, " %s=%s", c->windows[w].begin->keys[k], c->windows[w].begin->values[k]);
            fputs("\n", out);
            (void)esl_record_table(out, rec, command, status, run_id, a->store);
            fputs("\n", out);
            json_decref(summary);
        }
        warn_doubtful(rec, w + 1);
    }
    if (a->format == FORMAT_JSON) {
        json_dumpf(all, out, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
        fputc('\n', out);
    } else if (c->n_windows == 0) {
        fprintf(out, "no window was opened on --control fd:%d\n", a->control_fd);
    }
    json_decref(all);
    return exit_code;
}

/* The workload ran but its run could not be stored: keep the result in a
 * file named after the store (beside it, else in $TMPDIR or /tmp) and say
 * where, so that the energy is not lost. Returns 0 when written. */
static int write_fallback(const args *a, json_t *summary, double start_unix_s)
{
    const char *tmpdir = getenv("TMPDIR");
    const char *base = strrchr(a->store, '/') ? strrchr(a->store, '/') + 1 : a->store;
    char path[4096];
    for (int attempt = 0; attempt < 2; attempt++) {
        if (attempt == 0)
            snprintf(path, sizeof path, "%s.unsaved-%lld-%ld.json", a->store,
                     (long long)start_unix_s, (long)getpid());
        else
            snprintf(path, sizeof path, "%s/%s.unsaved-%lld-%ld.json",
                     tmpdir != NULL && tmpdir[0] != '\0' ? tmpdir : "/tmp", base,
                     (long long)start_unix_s, (long)getpid());
        cli_file o;
        int fd_ok = cli_file_open(&o, path, "measure: keeping the unstored run") == 0;
        if (!fd_ok)
            continue;
        json_dumpf(summary, o.f, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
        fputc('\n', o.f);
        if (cli_file_commit(&o, "measure: keeping the unstored run") == 0) {
            cli_error("measure: the run was not stored; its result is kept in %s", path);
            return 0;
        }
    }
    cli_error("measure: the run was not stored and could not be kept in a file: the result "
              "printed is all there is");
    return EXIT_FAIL;
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

static int run_measure(const cli_command *cmd, int argc, char **argv)
{
    args a;
    memset(&a, 0, sizeof a);
    a.idle_s = 5.0;
    a.store = "esl-runs.db";
    a.control_fd = a.ack_fd = -1;
    esl_exec_control ctl;
    memset(&ctl, 0, sizeof ctl);
    int first, rc = cli_parse(cmd, argc, argv, on_option, &a, &first);
    int exit_code = EXIT_FAIL;
    esl_meter *m = NULL;
    esl_store *store = NULL;
    esl_record *rec = NULL;
    char *command = NULL;
    FILE *out = stdout;
    cli_file output = {NULL, NULL, NULL};
    json_t *summary = NULL;
    if (rc != 0) {
        exit_code = rc;
        goto out;
    }
    exit_code = EXIT_USAGE;
    if (first >= argc) {
        cli_error("measure: no command to run (usage: esl measure [OPTIONS] -- CMD ARGS...)");
        goto out;
    }
    if (a.meter.kind == ESL_METER_REPLAY && a.meter.replay_path == NULL) {
        cli_error("measure: --meter replay needs --replay FILE");
        goto out;
    }
    if (a.meter.kind != ESL_METER_REPLAY && a.meter.replay_path != NULL) {
        cli_error("measure: --replay needs --meter replay");
        goto out;
    }
    if (a.control_fd >= 0 && a.trace != NULL) {
        cli_error("measure: --trace writes one window's samples; it cannot go with --control");
        goto out;
    }
    /* Opened before the workload runs, so that a bad path costs nothing;
     * close-on-exec, so that the workload does not inherit it. */
    if (a.output != NULL) {
        if (cli_file_open(&output, a.output, "option --output") != 0) {
            exit_code = EXIT_FAIL;
            goto out;
        }
        out = output.f;
    }
    if ((command = join_words(argv + first, argc - first)) == NULL) {
        cli_error("out of memory");
        exit_code = EXIT_FAIL;
        goto out;
    }
    if ((rc = esl_meter_open(&m, &a.meter)) != ESL_OK) {
        exit_code = cli_fail(rc);
        goto out;
    }
    if (!a.no_store && (rc = esl_store_open(&store, a.store)) != ESL_OK) {
        exit_code = cli_fail(rc);
        goto out;
    }
    rc = esl_meter_baseline(m, a.cooldown_s, a.idle_s, a.have_idle_w ? a.idle_w : NAN);
    if (rc != ESL_OK) {
        exit_code = cli_fail(rc);
        goto out;
    }
    if (a.control_fd >= 0) {
        ctl.ctl_fd = a.control_fd;
        ctl.ack_fd = a.ack_fd;
        ctl.meter = m;
        ctl.note = control_note;
        int status;
        if ((rc = esl_exec_run(&status, argv + first, &ctl)) != ESL_OK) {
            cli_fail(rc);
            exit_code = 127;
            goto out;
        }
        if (ctl.open != NULL) {
            cli_error("measure: --control: the last window was not ended; it ends with '%s'",
                      command);
            if (!ctl.failed && (rc = esl_exec_close_window(&ctl)) != ESL_OK) {
                ctl.failed = rc;
                cli_fail(rc);
            }
        }
        exit_code = status;
        int stored = report_windows(&a, &ctl, store, command, status, out);
        if (stored != 0)
            exit_code = stored;
        if (ctl.failed)
            exit_code = cli_exit_code(ctl.failed);
        else if (ctl.bad && exit_code == 0)
            exit_code = EXIT_FAIL;
        if (out != stdout) {
            out = stdout;
            if (cli_file_commit(&output, "option --output") != 0)
                exit_code = EXIT_FAIL;
        }
        goto out;
    }
    if ((rc = esl_window_begin(m)) != ESL_OK) {
        exit_code = cli_fail(rc);
        goto out;
    }
    int status;
    int started = esl_exec_run(&status, argv + first, NULL);
    if (started != ESL_OK)
        cli_fail(started);
    if ((rc = esl_window_end(m, &rec)) != ESL_OK) {
        exit_code = cli_fail(rc);
        goto out;
    }
    if (started != ESL_OK) { /* not started: nothing worth storing */
        exit_code = 127;
        goto out;
    }
    exit_code = status;
    int64_t run_id = 0;
    /* From here on the workload has run: whatever fails, its result is
     * printed, and kept in a file when it could not be stored. */
    int unstored = 0;
    if (store != NULL &&
        (rc = esl_store_put(store, &run_id, rec, command, status, a.labels, a.n_labels)) != ESL_OK) {
        exit_code = cli_fail(rc);
        unstored = 1;
        run_id = 0;
    }
    summary = summary_json(rec, command, status, run_id, a.labels, a.n_labels);
    if (unstored && write_fallback(&a, summary, rec->start_unix_s) != 0)
        exit_code = EXIT_FAIL;
    if (a.trace != NULL && trace_csv(a.trace, rec) != 0)
        exit_code = EXIT_FAIL;
    if (a.format == FORMAT_JSON) {
        json_dumpf(summary, out, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
        fputc('\n', out);
    } else {
        (void)esl_record_table(out, rec, command, status, run_id, a.store);
    }
    if (out != stdout) {
        out = stdout;
        if (cli_file_commit(&output, "option --output") != 0) {
            /* the summary file is lost: print it where it can be seen */
            if (a.format == FORMAT_JSON) {
                json_dumpf(summary, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
                fputc('\n', stdout);
            } else {
                (void)esl_record_table(stdout, rec, command, status, run_id, a.store);
            }
            exit_code = EXIT_FAIL;
        }
    }
    warn_doubtful(rec, 0);
out:
    esl_exec_control_release(&ctl);
    cli_file_abandon(&output);
    json_decref(summary);
    esl_record_free(rec);
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
