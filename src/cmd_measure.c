/*
 * cmd_measure.c - `esl measure -- CMD ARGS...`: run a workload under a meter,
 * forward SIGINT and SIGTERM to it, print what it cost (J, Wh, average and
 * peak W, per device and in total, idle baseline subtracted), store the run
 * with its labels, and exit with the workload's own status.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <jansson.h>

#include "cli.h"
#include "commands.h"
#include "record_json.h"
#include "esl/esl.h"

#define MAX_LABELS 64

enum {
    OPT_GPUS = 'g', OPT_FORMAT = 'f', OPT_LABEL = 'l', OPT_OUTPUT = 'o',
    OPT_HZ = 256, OPT_IDLE, OPT_IDLE_W, OPT_STORE, OPT_NO_STORE, OPT_TRACE, OPT_METER, OPT_REPLAY,
};

static const cli_option options[] = {
    {"gpus", OPT_GPUS, "LIST", "GPUs to measure: all (default) or indices like 0,2"},
    {"hz", OPT_HZ, "N", "samples per second (default 10)"},
    {"idle", OPT_IDLE, "D", "measure idle power for D before the workload: 5s (default), 500ms, 0 skips"},
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
    double idle_s, idle_w;
    int have_idle_w, no_store;
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

/* The workload's pid, for the signal handler. */
static volatile sig_atomic_t child_pid = 0;

/* Forward a signal someone sent to esl (kill, a supervisor). A terminal's
 * ^C already reaches the workload, which shares esl's process group, so
 * signals from the kernel are not sent twice. */
static void forward(int sig, siginfo_t *info, void *uctx)
{
    (void)uctx;
    if (child_pid > 0 && (info == NULL || info->si_code == SI_USER || info->si_code == SI_QUEUE))
        kill((pid_t)child_pid, sig);
}

/* Run argv, forwarding signals; returns its status (128+N if killed by N),
 * or -1 when it could not be started. */
static int run_child(char **argv)
{
    int err_pipe[2];
    if (pipe(err_pipe) != 0) {
        cli_error("cannot create a pipe: %s", strerror(errno));
        return -1;
    }
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = forward;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);

    fflush(stdout);
    fflush(stderr);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        cli_error("cannot start '%s': %s", argv[0], strerror(errno));
        return -1;
    }
    if (pid == 0) {
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        signal(SIGXFSZ, SIG_DFL); /* esl ignores it to see its own write errors */
#ifdef __linux__
        /* The workload ends with esl: killed (even by SIGKILL), esl can
         * neither measure nor store it, and an orphan left running on the
         * GPU would skew the next measurement (docs/measurement.md). */
        if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent)
            _exit(127);
#endif
        close(err_pipe[0]);
        /* close-on-exec: the parent reads nothing when exec succeeds */
        if (fcntl(err_pipe[1], F_SETFD, FD_CLOEXEC) != 0)
            _exit(127);
        execvp(argv[0], argv);
        int e = errno;
        if (write(err_pipe[1], &e, sizeof e) < 0)
            _exit(127);
        _exit(127);
    }
    child_pid = pid;
    close(err_pipe[1]);
    int exec_errno = 0;
    ssize_t got;
    while ((got = read(err_pipe[0], &exec_errno, sizeof exec_errno)) < 0 && errno == EINTR)
        ;
    close(err_pipe[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    child_pid = 0;
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (got == (ssize_t)sizeof exec_errno) {
        cli_error("cannot run '%s': %s", argv[0], strerror(exec_errno));
        return -1;
    }
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
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

static void print_number_or_dash(FILE *out, double v, const char *fmt, int width)
{
    if (isnan(v))
        fprintf(out, " %*s", width, "-");
    else
        fprintf(out, fmt, width, v);
}

static void print_table(FILE *out, const esl_record *rec, const char *command, int status,
                        int64_t run_id, const char *store)
{
    char flags[256];
    fprintf(out, "meter     %s", esl_meter_kind_name(rec->meter));
    if (rec->driver_version[0] != '\0')
        fprintf(out, " (driver %s, NVML %s)", rec->driver_version, rec->nvml_version);
    fprintf(out, "\ncommand   %s\nexit      %d\nduration  %.3f s\n\n", command, status,
            rec->duration_s);
    fprintf(out, "%-28s %12s %12s %8s %12s %9s %9s  %s\n", "device", "energy J", "counter J",
            "idle W", "dynamic J", "avg W", "peak W", "flags");
    for (size_t i = 0; i < rec->n_devices; i++) {
        const esl_device_record *d = &rec->devices[i];
        int width = fprintf(out, "%d %.26s", d->info.index, d->info.name);
        fprintf(out, "%*s", width < 28 ? 28 - width : 0, "");
        print_number_or_dash(out, d->energy_j, " %*.3f", 12);
        print_number_or_dash(out, d->counter_j, " %*.3f", 12);
        print_number_or_dash(out, d->idle_w, " %*.2f", 8);
        print_number_or_dash(out, d->dynamic_j, " %*.3f", 12);
        print_number_or_dash(out, d->avg_power_w, " %*.2f", 9);
        print_number_or_dash(out, d->peak_power_w, " %*.2f", 9);
        fprintf(out, "  %s\n", d->flags ? esl_flags_string(flags, sizeof flags, d->flags) : "-");
    }
    fprintf(out, "%-28s %12.3f %12s %8.2f %12.3f", "total", rec->energy_j, "", rec->idle_w,
            rec->dynamic_j);
    print_number_or_dash(out, rec->avg_power_w, " %*.2f", 9);
    print_number_or_dash(out, rec->peak_power_w, " %*.2f", 9);
    fprintf(out, "  %s\n\n", rec->flags ? esl_flags_string(flags, sizeof flags, rec->flags) : "-");
    fprintf(out, "energy    %.3f J = %.6f Wh (dynamic %.3f J = %.6f Wh)\n", rec->energy_j,
            rec->energy_j / 3600.0, rec->dynamic_j, rec->dynamic_j / 3600.0);
    if (run_id > 0)
        fprintf(out, "stored    run %lld in %s\n", (long long)run_id, store);
}

static void csv_num(FILE *f, double v, int last)
{
    if (!isnan(v))
        fprintf(f, "%.17g", v);
    fputc(last ? '\n' : ',', f);
}

static int write_trace(const char *path, const esl_record *rec)
{
    cli_file o;
    if (cli_file_open(&o, path, "option --trace") != 0)
        return EXIT_FAIL;
    FILE *f = o.f;
    fprintf(f, "time_s,device,power_w,power_instant_w,energy_j,sm_clock_mhz,temperature_c,"
               "utilization_pct\n");
    for (size_t i = 0; i < rec->n_samples; i++) {
        const esl_sample *s = &rec->samples[i];
        fprintf(f, "%.17g,%d,", s->time_s, s->device);
        csv_num(f, s->power_w, 0);
        csv_num(f, s->power_instant_w, 0);
        csv_num(f, s->energy_j, 0);
        csv_num(f, s->sm_clock_mhz, 0);
        csv_num(f, s->temperature_c, 0);
        csv_num(f, s->utilization_pct, 1);
    }
    return cli_file_commit(&o, "option --trace");
}

/* The run as JSON: the record's totals and devices, the command, its exit
 * status, the stored run's id (null when not stored) and the labels. */
static json_t *summary_json(const esl_record *rec, const char *command, int status, int64_t run_id,
                            const args *a)
{
    json_t *o = record_json(rec);
    json_object_set_new(o, "command", json_string(command));
    json_object_set_new(o, "exit_status", json_integer(status));
    json_object_set_new(o, "run_id", run_id > 0 ? json_integer(run_id) : json_null());
    json_t *labels = json_object();
    for (size_t i = 0; i < a->n_labels; i++)
        json_object_set_new(labels, a->labels[i].key, json_string(a->labels[i].value));
    json_object_set_new(o, "labels", labels);
    return o;
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

static int run_measure(const cli_command *cmd, int argc, char **argv)
{
    args a;
    memset(&a, 0, sizeof a);
    a.idle_s = 5.0;
    a.store = "esl-runs.db";
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
    if (a.have_idle_w)
        rc = esl_meter_set_idle(m, a.idle_w);
    else if (a.idle_s > 0.0)
        rc = esl_meter_measure_idle(m, a.idle_s);
    if (rc != ESL_OK || (rc = esl_window_begin(m)) != ESL_OK) {
        exit_code = cli_fail(rc);
        goto out;
    }
    int status = run_child(argv + first);
    if ((rc = esl_window_end(m, &rec)) != ESL_OK) {
        exit_code = cli_fail(rc);
        goto out;
    }
    if (status < 0) { /* not started: nothing worth storing */
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
    summary = summary_json(rec, command, status, run_id, &a);
    if (unstored && write_fallback(&a, summary, rec->start_unix_s) != 0)
        exit_code = EXIT_FAIL;
    if (a.trace != NULL && write_trace(a.trace, rec) != 0)
        exit_code = EXIT_FAIL;
    if (a.format == FORMAT_JSON) {
        json_dumpf(summary, out, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
        fputc('\n', out);
    } else {
        print_table(out, rec, command, status, run_id, a.store);
    }
    if (out != stdout) {
        out = stdout;
        if (cli_file_commit(&output, "option --output") != 0) {
            /* the summary file is lost: print it where it can be seen */
            if (a.format == FORMAT_JSON) {
                json_dumpf(summary, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
                fputc('\n', stdout);
            } else {
                print_table(stdout, rec, command, status, run_id, a.store);
            }
            exit_code = EXIT_FAIL;
        }
    }
    if (rec->flags & ESL_FLAGS_DOUBTFUL) {
        char flags[256];
        cli_error("measure: the energy is doubtful (%s): see docs/measurement.md",
                  esl_flags_string(flags, sizeof flags, rec->flags & ESL_FLAGS_DOUBTFUL));
    }
out:
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
    "ESL_NVML_LIBRARY names the NVML library to load.",
    options,
};
