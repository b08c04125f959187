/*
 * cmd_measure.c - `esl measure -- CMD ARGS...`: run a workload under a meter,
 * forward SIGINT and SIGTERM to it, print what it cost (J, Wh, average and
 * peak W, per device and in total, idle baseline subtracted), store the run
 * with its labels, and exit with the workload's own status. With
 * `--control fd:N[,M]` the workload opens and closes labelled windows itself
 * by writing `begin k=v ...` and `end` lines to its descriptor N (the
 * protocol is parsed by esl_control_parse), each answered `ack` (or `err`)
 * on descriptor M; every window is stored as its own run.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
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

/* "fd:N" or "fd:N,M": descriptors 3 to 1023, not the same. */
static int parse_control(args *a, const char *arg)
{
    char *end;
    long n = -1, k = -1;
    if (strncmp(arg, "fd:", 3) == 0) {
        n = strtol(arg + 3, &end, 10);
        if (end == arg + 3)
            n = -1;
        else if (*end == ',') {
            const char *m = end + 1;
            k = strtol(m, &end, 10);
            if (end == m)
                n = -1;
        }
        if (*end != '\0')
            n = -1;
    }
    if (n < 3 || n > 1023 || (k != -1 && (k < 3 || k > 1023 || k == n))) {
        cli_error("option --control: '%s' is not fd:N or fd:N,M with two different descriptors "
                  "from 3 to 1023", arg);
        return EXIT_USAGE;
    }
    a->control_fd = (int)n;
    a->ack_fd = (int)k;
    return 0;
}

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
    case OPT_CONTROL: return parse_control(a, arg);
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

/* One window the workload opened and closed (--control). */
typedef struct window_run {
    esl_record *rec;
    esl_control_line *begin; /* its begin line, parsed: the labels */
} window_run;

/* The control channel's state while the workload runs. */
typedef struct control {
    int ctl_fd, ack_fd;  /* the workload's descriptors */
    int rd, wr;          /* esl's ends of the two pipes; -1 when closed or absent */
    esl_meter *m;
    window_run *runs;
    size_t n_runs;
    esl_control_line *open; /* the open window's begin line, NULL when none */
    int failed;          /* the first meter failure's exit code, 0 when none */
    int bad;             /* protocol errors seen */
    char line[sizeof ((esl_control_line *)0)->buf + 2];
    size_t used;
    int overlong;        /* the current line is too long: skip to its end */
} control;

static void ack(control *c, const char *word)
{
    if (c->wr < 0)
        return;
    char text[8];
    int n = snprintf(text, sizeof text, "%s\n", word);
    while (write(c->wr, text, (size_t)n) < 0 && errno == EINTR)
        ;
}

/* Close the open window and keep it. */
static int close_window(control *c)
{
    esl_record *rec = NULL;
    int rc = esl_window_end(c->m, &rec);
    if (rc != ESL_OK) {
        free(c->open);
        c->open = NULL;
        return cli_fail(rc);
    }
    window_run *grown = realloc(c->runs, (c->n_runs + 1) * sizeof *grown);
    if (grown == NULL) {
        esl_record_free(rec);
        free(c->open);
        c->open = NULL;
        cli_error("out of memory");
        return EXIT_FAIL;
    }
    c->runs = grown;
    c->runs[c->n_runs++] = (window_run){rec, c->open};
    c->open = NULL;
    return 0;
}

static void control_line(control *c, const char *text)
{
    esl_control_line *cl = malloc(sizeof *cl);
    if (cl == NULL || esl_control_parse(cl, text) != ESL_OK) {
        cli_error("measure: --control: %s", cl ? esl_error_last() : "out of memory");
        c->bad++;
        free(cl);
        ack(c, "err");
        return;
    }
    if (cl->kind == ESL_CONTROL_NONE) {
        free(cl);
        return;
    }
    int rc = 0;
    if (c->failed) {
        rc = 1; /* the meter failed: nothing more is measured */
    } else if (cl->kind == ESL_CONTROL_BEGIN && c->open != NULL) {
        cli_error("measure: --control: 'begin' while a window is open (end it first)");
        c->bad++;
        rc = 1;
    } else if (cl->kind == ESL_CONTROL_END && c->open == NULL) {
        cli_error("measure: --control: 'end' without an open window");
        c->bad++;
        rc = 1;
    } else if (cl->kind == ESL_CONTROL_BEGIN) {
        int e = esl_window_begin(c->m);
        if (e != ESL_OK) {
            c->failed = cli_fail(e);
            rc = 1;
        } else {
            c->open = cl;
            cl = NULL;
        }
    } else {
        int e = close_window(c);
        if (e != 0) {
            c->failed = e;
            rc = 1;
        }
    }
    free(cl);
    ack(c, rc == 0 ? "ack" : "err");
}

/* Read what the workload wrote; returns 0 at end of file. */
static int control_read(control *c)
{
    char chunk[4096];
    ssize_t got;
    while ((got = read(c->rd, chunk, sizeof chunk)) < 0 && errno == EINTR)
        ;
    if (got <= 0)
        return got < 0 && errno == EAGAIN ? 1 : 0;
    for (ssize_t i = 0; i < got; i++) {
        char ch = chunk[i];
        if (ch == '\n') {
            if (c->overlong) {
                cli_error("measure: --control: a line longer than %zu bytes is ignored",
                          sizeof c->line - 2);
                c->bad++;
                ack(c, "err");
            } else {
                c->line[c->used] = '\0';
                control_line(c, c->line);
            }
            c->used = 0;
            c->overlong = 0;
        } else if (c->used + 1 < sizeof c->line) {
            c->line[c->used++] = ch;
        } else {
            c->overlong = 1;
        }
    }
    return 1;
}

static int pipe_cloexec(int fds[2])
{
    if (pipe(fds) != 0)
        return -1;
    if (fcntl(fds[0], F_SETFD, FD_CLOEXEC) != 0 || fcntl(fds[1], F_SETFD, FD_CLOEXEC) != 0) {
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    return 0;
}

/* Move fd `from` to number `to` in the workload (before exec). */
static int place_fd(int from, int to)
{
    if (from == to)
        return fcntl(to, F_SETFD, 0) == 0 ? 0 : -1;
    return dup2(from, to) == to ? 0 : -1;
}

/* Run argv, forwarding signals; returns its status (128+N if killed by N),
 * or -1 when it could not be started. With `ctl`, serve its control channel
 * while the workload runs. */
static int run_child(char **argv, control *ctl)
{
    int err_pipe[2];
    int cpipe[2] = {-1, -1}, apipe[2] = {-1, -1};
    if (pipe(err_pipe) != 0 ||
        (ctl != NULL && (pipe_cloexec(cpipe) != 0 ||
                         (ctl->ack_fd >= 0 && pipe_cloexec(apipe) != 0)))) {
        cli_error("cannot create a pipe: %s", strerror(errno));
        return -1;
    }
    /* The workload's ends are moved above the numbers it asked for, so
     * that placing one cannot overwrite the other. */
    int child_ctl = -1, child_ack = -1;
    if (ctl != NULL) {
        child_ctl = fcntl(cpipe[1], F_DUPFD_CLOEXEC, 1024);
        child_ack = apipe[0] >= 0 ? fcntl(apipe[0], F_DUPFD_CLOEXEC, 1024) : -1;
        close(cpipe[1]);
        if (apipe[0] >= 0)
            close(apipe[0]);
        if (child_ctl < 0 || (apipe[0] >= 0 && child_ack < 0)) {
            cli_error("cannot set up --control: %s", strerror(errno));
            return -1;
        }
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
        if (ctl != NULL && (place_fd(child_ctl, ctl->ctl_fd) != 0 ||
                            (child_ack >= 0 && place_fd(child_ack, ctl->ack_fd) != 0)))
            _exit(127);
        execvp(argv[0], argv);
        int e = errno;
        if (write(err_pipe[1], &e, sizeof e) < 0)
            _exit(127);
        _exit(127);
    }
    child_pid = pid;
    close(err_pipe[1]);
    if (ctl != NULL) {
        close(child_ctl);
        if (child_ack >= 0)
            close(child_ack);
        ctl->rd = cpipe[0];
        ctl->wr = apipe[1];
    }
    int exec_errno = 0;
    ssize_t got;
    while ((got = read(err_pipe[0], &exec_errno, sizeof exec_errno)) < 0 && errno == EINTR)
        ;
    close(err_pipe[0]);
    int status = 0;
    if (ctl != NULL) {
        /* Serve the channel until the workload has exited and the channel
         * is drained (a child of the workload may hold it open: then it
         * ends with the workload). */
        void (*old_pipe)(int) = signal(SIGPIPE, SIG_IGN);
        fcntl(ctl->rd, F_SETFL, fcntl(ctl->rd, F_GETFL) | O_NONBLOCK);
        int exited = 0;
        while (!exited) {
            struct pollfd p = {ctl->rd, POLLIN, 0};
            int ready = ctl->rd >= 0 ? poll(&p, 1, 50) : (nanosleep(&(struct timespec){0, 50000000L}, NULL), 0);
            if (ready > 0 && control_read(ctl) == 0) {
                close(ctl->rd);
                ctl->rd = -1;
            }
            pid_t w = waitpid(pid, &status, WNOHANG);
            if (w == pid || (w < 0 && errno != EINTR))
                exited = 1;
        }
        while (ctl->rd >= 0 && control_read(ctl) > 0) {
            struct pollfd p = {ctl->rd, POLLIN, 0};
            if (poll(&p, 1, 0) <= 0)
                break;
        }
        if (ctl->rd >= 0)
            close(ctl->rd);
        if (ctl->wr >= 0)
            close(ctl->wr);
        ctl->rd = ctl->wr = -1;
        signal(SIGPIPE, old_pipe);
    } else {
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
    }
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
                            const esl_label *labels, size_t n_labels)
{
    json_t *o = record_json(rec);
    json_object_set_new(o, "command", json_string(command));
    json_object_set_new(o, "exit_status", json_integer(status));
    json_object_set_new(o, "run_id", run_id > 0 ? json_integer(run_id) : json_null());
    json_t *lj = json_object();
    for (size_t i = 0; i < n_labels; i++)
        json_object_set_new(lj, labels[i].key, json_string(labels[i].value));
    json_object_set_new(o, "labels", lj);
    return o;
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

/* --control: store and print each window the workload measured. */
static int report_windows(const args *a, control *c, esl_store *store, const char *command,
                          int status, FILE *out)
{
    int exit_code = 0;
    json_t *all = json_array();
    for (size_t w = 0; w < c->n_runs; w++) {
        esl_label labels[2 * MAX_LABELS];
        size_t n = window_labels(a, c->runs[w].begin, labels);
        const esl_record *rec = c->runs[w].rec;
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
            fprintf(out, "window    %zu of %zu:", w + 1, c->n_runs);
            for (size_t k = 0; k < c->runs[w].begin->n_labels; k++)
                fprintf(out, " %s=%s", c->runs[w].begin->keys[k], c->runs[w].begin->values[k]);
            fputs("\n", out);
            print_table(out, rec, command, status, run_id, a->store);
            fputs("\n", out);
            json_decref(summary);
        }
        if (rec->flags & (ESL_FLAG_NO_CHANGE | ESL_FLAG_TOO_SHORT | ESL_FLAG_DEVICE_LOST)) {
            char flags[256];
            cli_error("measure: window %zu: the energy is doubtful (%s): see docs/measurement.md",
                      w + 1, esl_flags_string(flags, sizeof flags,
                                              rec->flags & (ESL_FLAG_NO_CHANGE | ESL_FLAG_TOO_SHORT |
                                                            ESL_FLAG_DEVICE_LOST)));
        }
    }
    if (a->format == FORMAT_JSON) {
        json_dumpf(all, out, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
        fputc('\n', out);
    } else if (c->n_runs == 0) {
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

static int run_measure(const cli_command *cmd, int argc, char **argv)
{
    args a;
    memset(&a, 0, sizeof a);
    a.idle_s = 5.0;
    a.store = "esl-runs.db";
    a.control_fd = a.ack_fd = -1;
    control ctl;
    memset(&ctl, 0, sizeof ctl);
    ctl.rd = ctl.wr = -1;
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
    if (a.cooldown_s > 0.0 && !a.have_idle_w && a.idle_s > 0.0) {
        struct timespec ts = {(time_t)a.cooldown_s,
                              (long)((a.cooldown_s - (double)(time_t)a.cooldown_s) * 1e9)};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
    }
    if (a.have_idle_w)
        rc = esl_meter_set_idle(m, a.idle_w);
    else if (a.idle_s > 0.0)
        rc = esl_meter_measure_idle(m, a.idle_s);
    if (rc != ESL_OK) {
        exit_code = cli_fail(rc);
        goto out;
    }
    if (a.control_fd >= 0) {
        ctl.ctl_fd = a.control_fd;
        ctl.ack_fd = a.ack_fd;
        ctl.m = m;
        int status = run_child(argv + first, &ctl);
        if (status < 0) {
            exit_code = 127;
            goto out;
        }
        if (ctl.open != NULL) {
            cli_error("measure: --control: the last window was not ended; it ends with '%s'",
                      command);
            if (!ctl.failed && (rc = close_window(&ctl)) != 0)
                ctl.failed = rc;
        }
        exit_code = status;
        int stored = report_windows(&a, &ctl, store, command, status, out);
        if (stored != 0)
            exit_code = stored;
        if (ctl.failed)
            exit_code = ctl.failed;
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
    int status = run_child(argv + first, NULL);
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
    summary = summary_json(rec, command, status, run_id, a.labels, a.n_labels);
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
    for (size_t w = 0; w < ctl.n_runs; w++) {
        esl_record_free(ctl.runs[w].rec);
        free(ctl.runs[w].begin);
    }
    free(ctl.runs);
    free(ctl.open);
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
