/*
 * bench_cli.c - measured GPU runs for `esl bench` and `esl calibrate`: their
 * shared options (--label, the meter group), the NVML meter and the store
 * opened once with the idle baseline, the CUDA module found beside the
 * binary, and each run measured and stored by esl_bench_measure.
 */
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
    rc = esl_meter_baseline(b->meter, opts->cooldown_s, opts->idle_s,
                            opts->have_idle_w ? opts->idle_w : NAN);
    return rc == ESL_OK ? 0 : fail(who, rc);
}

void bench_cli_close(bench_cli *b)
{
    esl_store_close(b->store);
    esl_meter_close(b->meter);
    b->store = NULL;
    b->meter = NULL;
}

int bench_cli_run(bench_cli *b, const esl_workload *plan, const char *who, esl_bench_measured *out)
{
    const bench_cli_opts *o = b->opts;
    esl_bench_opts bo = {
        .module = o->module ? o->module : find_module(b->module_path, sizeof b->module_path),
        .seed = o->seed, .warmup = o->warmup,
    };
    int rc = esl_bench_measure(out, plan, &bo, b->meter, b->store, o->labels, o->n_labels);
    return rc == ESL_OK ? 0 : fail(who, rc);
}

int bench_cli_probe(bench_cli *b, const esl_workload *plan, const char *who,
                    esl_bench_result *out, double *wall_s)
{
    const bench_cli_opts *o = b->opts;
    esl_bench_opts bo = {
        .module = o->module ? o->module : find_module(b->module_path, sizeof b->module_path),
        .seed = o->seed, .warmup = o->warmup,
    };
    double t0 = esl_meter_clock_s(b->meter);
    int rc = esl_bench_run(out, plan, &bo);
    *wall_s = esl_meter_clock_s(b->meter) - t0;
    return rc == ESL_OK ? 0 : fail(who, rc);
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
