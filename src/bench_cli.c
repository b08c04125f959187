/*
 * bench_cli.c - measured GPU runs for `esl bench` and `esl calibrate`: the
 * NVML meter opened once with its idle baseline, a meter window opened and
 * closed by the workload's loop hook (so allocation, random weights and
 * warm-up stay outside it), the run stored with the labels of a dataset row,
 * and joules per TFLOP from the window's energy.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_cli.h"

/* The CUDA module beside the binary (installed or build tree), if any. */
static const char *find_module(char *buf, size_t size)
{
    static const char *const rel[] = {"", "/../lib/gpu", "/../" ESL_INSTALL_LIBDIR "/esl"};
    char exe[PATH_MAX];  /* buf holds PATH_MAX + 64 */
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (getenv("ESL_GPU_MODULE") != NULL || n <= 0)
        return NULL;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash == NULL)
        return NULL;
    *slash = '\0';
    for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
        snprintf(buf, size, "%s%s/libesl_gpu.so", exe, rel[i]);
        if (access(buf, R_OK) == 0)
            return buf;
    }
    return NULL;
}

int bench_cli_option(bench_cli_opts *o, int key, const char *arg)
{
    switch (key) {
    case BENCH_OPT_IDLE_W:
        o->have_idle_w = 1;
        return cli_double("idle-w", arg, 0.0, 1e6, &o->idle_w);
    case BENCH_OPT_HZ: return cli_double("hz", arg, 0.1, 1000.0, &o->meter.hz);
    case BENCH_OPT_GPUS: o->meter.gpus = arg; return 0;
    case BENCH_OPT_STORE: o->store = arg; return 0;
    }
    return BENCH_CLI_NOT_MINE;
}

/* Print libesl's detail after `who: ` and return the exit code of rc. */
static int fail(const char *who, int rc)
{
    cli_error("%s: %s", who, esl_error_last());
    return cli_exit_code(rc);
}

int bench_cli_open(bench_cli *b, const bench_cli_opts *opts, const char *who)
{
    int rc;
    memset(b, 0, sizeof *b);
    b->opts = opts;
    if ((rc = esl_meter_open(&b->meter, &opts->meter)) != ESL_OK)
        return fail(who, rc);
    if (!opts->no_store && (rc = esl_store_open(&b->store, opts->store)) != ESL_OK)
        return fail(who, rc);
    if (!opts->have_idle_w && opts->idle_s > 0.0 && opts->cooldown_s > 0.0) {
        struct timespec ts = {(time_t)opts->cooldown_s,
                              (long)((opts->cooldown_s - (double)(time_t)opts->cooldown_s) * 1e9)};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
    }
    if (opts->have_idle_w)
        rc = esl_meter_set_idle(b->meter, opts->idle_w);
    else if (opts->idle_s > 0.0)
        rc = esl_meter_measure_idle(b->meter, opts->idle_s);
    return rc == ESL_OK ? 0 : fail(who, rc);
}

void bench_cli_close(bench_cli *b)
{
    esl_store_close(b->store);
    esl_meter_close(b->meter);
    b->store = NULL;
    b->meter = NULL;
}

typedef struct window {
    esl_meter *meter;
    esl_record *record;
} window;

/* The workload's loop hook: the meter's window is the timed loop. */
static int on_loop(void *ctx, int end)
{
    window *w = ctx;
    return end ? esl_window_end(w->meter, &w->record) : esl_window_begin(w->meter);
}

static char *command_line(const esl_workload *p, const bench_cli_opts *o)
{
    const esl_bench_config *c = &p->config;
    char buf[1024];
    snprintf(buf, sizeof buf,
             "esl bench --model %s --height %lld --width %lld --steps %lld%s --dtype %s "
             "--prompts %lld --batch %lld --seed %llu --warmup %d%s",
             p->model->name, (long long)c->request.height, (long long)c->request.width,
             (long long)c->request.steps, c->request.cfg ? " --cfg" : "", esl_dtype_name(c->dtype),
             (long long)c->request.prompts, (long long)c->batch, (unsigned long long)o->seed,
             o->warmup, c->strict_fp32 && c->dtype == ESL_DTYPE_FP32 ? " --strict-fp32" : "");
    return strdup(buf);
}

int bench_cli_run(bench_cli *b, const esl_workload *plan, const char *who, bench_run *out)
{
    const esl_bench_config *c = &plan->config;
    const bench_cli_opts *o = b->opts;
    window w = {b->meter, NULL};
    esl_bench_opts bo = {
        .module = o->module ? o->module : find_module(b->module_path, sizeof b->module_path),
        .seed = o->seed, .warmup = o->warmup, .on_loop = on_loop, .loop_ctx = &w,
    };
    int rc;
    memset(out, 0, sizeof *out);
    if ((rc = esl_bench_run(&out->result, plan, &bo)) != ESL_OK) {
        esl_record_free(w.record);
        return fail(who, rc);
    }
    out->record = w.record;
    /* The loop ran on CUDA device 0: the meter must have read that GPU. */
    if (out->result.pci_bus_id[0] != '\0' && esl_meter_find_pci(b->meter, out->result.pci_bus_id) < 0) {
        const esl_device_info *d = esl_meter_device(b->meter, 0);
        cli_error("%s: the workload ran on %s (PCI %s) but the meter read %s (PCI %s): set "
                  "CUDA_VISIBLE_DEVICES, CUDA_DEVICE_ORDER or --gpus so that they agree", who,
                  out->result.device, out->result.pci_bus_id, d ? d->name : "no GPU",
                  d && d->pci_bus_id[0] ? d->pci_bus_id : "unknown");
        return EXIT_USAGE;
    }
    if ((rc = esl_bench_efficiency_compute(&out->total, &out->result, c->dtype,
                                            out->record->energy_j)) != ESL_OK ||
        (rc = esl_bench_efficiency_compute(&out->dynamic, &out->result, c->dtype,
                                            out->record->dynamic_j)) != ESL_OK)
        return fail(who, rc);
    if ((out->command = command_line(plan, o)) == NULL) {
        cli_error("out of memory");
        return EXIT_FAIL;
    }
    esl_bench_labels_init(&out->labels, plan, &out->result);
    if (b->store == NULL)
        return 0;
    esl_label labels[12 + BENCH_CLI_MAX_LABELS]; /* keys unique; the store sorts them */
    memcpy(labels, out->labels.labels, out->labels.n * sizeof *labels);
    for (size_t i = 0; i < b->opts->n_labels; i++)
        labels[out->labels.n + i] = b->opts->labels[i];
    if ((rc = esl_store_put(b->store, &out->run_id, out->record, out->command, 0, labels,
                            out->labels.n + b->opts->n_labels)) != ESL_OK)
        return fail(who, rc);
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int bench_cli_probe(bench_cli *b, const esl_workload *plan, const char *who,
                    esl_bench_result *out, double *wall_s)
{
    const bench_cli_opts *o = b->opts;
    esl_bench_opts bo = {
        .module = o->module ? o->module : find_module(b->module_path, sizeof b->module_path),
        .seed = o->seed, .warmup = o->warmup,
    };
    double t0 = now_s();
    int rc = esl_bench_run(out, plan, &bo);
    *wall_s = now_s() - t0;
    return rc == ESL_OK ? 0 : fail(who, rc);
}

void bench_cli_run_release(bench_run *r)
{
    esl_record_free(r->record);
    free(r->command);
    memset(r, 0, sizeof *r);
}

/* The labels bench_cli_run writes itself. */
static const char *const own_labels[] = {"model", "gpu", "dtype", "cfg", "height", "width",
                                         "steps", "prompts", "batch_size", "exec_flops",
                                         "paper_flops", "loop_s"};

int bench_cli_label(bench_cli_opts *o, const char *arg)
{
    const char *eq = strchr(arg, '=');
    size_t len = eq ? (size_t)(eq - arg) : 0;
    if (eq == NULL || len == 0 || len >= sizeof o->label_keys[0] ||
        strcspn(arg, " \t\n") < len) {
        cli_error("option --label: '%s' is not KEY=VALUE (a key without spaces)", arg);
        return EXIT_USAGE;
    }
    for (size_t i = 0; i < sizeof own_labels / sizeof own_labels[0]; i++)
        if (strlen(own_labels[i]) == len && strncmp(arg, own_labels[i], len) == 0) {
            cli_error("option --label: '%s' is a label esl sets itself", own_labels[i]);
            return EXIT_USAGE;
        }
    for (size_t i = 0; i < o->n_labels; i++)
        if (strlen(o->labels[i].key) == len && strncmp(arg, o->labels[i].key, len) == 0) {
            cli_error("option --label: '%.*s' is given twice", (int)len, arg);
            return EXIT_USAGE;
        }
    if (o->n_labels == BENCH_CLI_MAX_LABELS) {
        cli_error("option --label: more than %d labels", BENCH_CLI_MAX_LABELS);
        return EXIT_USAGE;
    }
    memcpy(o->label_keys[o->n_labels], arg, len);
    o->label_keys[o->n_labels][len] = '\0';
    o->labels[o->n_labels] = (esl_label){o->label_keys[o->n_labels], (char *)(eq + 1)};
    o->n_labels++;
    return 0;
}
