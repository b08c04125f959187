/*
 * session.c - measured GPU runs one after another, as `esl bench` makes one
 * and `esl calibrate` a sweep of them: the NVML meter and the run store
 * opened once, the idle baseline taken once before the first run, the CUDA
 * module found beside the running program, and each run measured and
 * stored with its dataset labels and the caller's (esl_bench_measure).
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/internal.h"
#include "esl/bench.h"

#ifndef ESL_INSTALL_LIBDIR
#define ESL_INSTALL_LIBDIR "lib"
#endif

const char *esl_bench_module_find(char *buf, size_t size, const char *libdir)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (buf == NULL || size == 0 || getenv("ESL_GPU_MODULE") != NULL || n <= 0)
        return NULL;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash == NULL)
        return NULL;
    *slash = '\0';
    char install[256];
    snprintf(install, sizeof install, "/../%s/esl", libdir != NULL ? libdir : ESL_INSTALL_LIBDIR);
    const char *const rel[] = {"", "/../lib/gpu", install};
    for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
        snprintf(buf, size, "%s%s/libesl_gpu.so", exe, rel[i]);
        if (access(buf, R_OK) == 0)
            return buf;
    }
    return NULL;
}

/* The labels esl_bench_labels_init writes itself. */
static const char *const own_labels[] = {"model", "gpu", "dtype", "cfg", "height", "width",
                                         "steps", "prompts", "batch_size", "exec_flops",
                                         "paper_flops", "loop_s"};

int esl_bench_session_label(esl_bench_session_opts *o, const char *arg)
{
    if (o == NULL || arg == NULL)
        return esl__fail(ESL_EINVAL, "no options or label");
    const char *eq = strchr(arg, '=');
    size_t len = eq ? (size_t)(eq - arg) : 0;
    if (eq == NULL || len == 0 || len >= sizeof o->label_keys[0] || strcspn(arg, " \t\n") < len)
        return esl__fail(ESL_EINVAL, "'%s' is not KEY=VALUE (a key without spaces)", arg);
    for (size_t i = 0; i < sizeof own_labels / sizeof own_labels[0]; i++)
        if (strlen(own_labels[i]) == len && strncmp(arg, own_labels[i], len) == 0)
            return esl__fail(ESL_EINVAL, "'%s' is a label esl sets itself", own_labels[i]);
    for (size_t i = 0; i < o->n_labels; i++)
        if (strlen(o->labels[i].key) == len && strncmp(arg, o->labels[i].key, len) == 0)
            return esl__fail(ESL_EINVAL, "'%.*s' is given twice", (int)len, arg);
    if (o->n_labels == ESL_BENCH_MAX_EXTRA_LABELS)
        return esl__fail(ESL_EINVAL, "more than %d labels", ESL_BENCH_MAX_EXTRA_LABELS);
    memcpy(o->label_keys[o->n_labels], arg, len);
    o->label_keys[o->n_labels][len] = '\0';
    o->labels[o->n_labels] = (esl_label){o->label_keys[o->n_labels], (char *)(eq + 1)};
    o->n_labels++;
    return ESL_OK;
}

int esl_bench_session_open(esl_bench_session *b, const esl_bench_session_opts *opts)
{
    if (b == NULL || opts == NULL)
        return esl__fail(ESL_EINVAL, "no session or options");
    memset(b, 0, sizeof *b);
    b->opts = opts;
    /* The module is looked for once, not before every run. */
    if (opts->module == NULL &&
        esl_bench_module_find(b->module_path, sizeof b->module_path, NULL) == NULL)
        b->module_path[0] = '\0';
    int rc = esl_meter_open(&b->meter, &opts->meter);
    if (rc == ESL_OK && !opts->no_store)
        rc = esl_store_open(&b->store, opts->store);
    if (rc == ESL_OK)
        rc = esl_meter_baseline(b->meter, opts->cooldown_s, opts->idle_s,
                                opts->have_idle_w ? opts->idle_w : NAN);
    if (rc != ESL_OK)
        esl_bench_session_close(b);
    return rc;
}

void esl_bench_session_close(esl_bench_session *b)
{
    if (b == NULL)
        return;
    esl_store_close(b->store);
    esl_meter_close(b->meter);
    b->store = NULL;
    b->meter = NULL;
}

/* The run options of the session: the module given or found at opening
 * (none: esl_bench_run reads $ESL_GPU_MODULE). */
static esl_bench_opts run_opts(const esl_bench_session *b)
{
    const esl_bench_session_opts *o = b->opts;
    esl_bench_opts bo = {
        .module = o->module ? o->module : b->module_path[0] ? b->module_path : NULL,
        .seed = o->seed, .warmup = o->warmup,
    };
    return bo;
}

int esl_bench_session_run(esl_bench_measured *out, esl_bench_session *b, const esl_workload *plan)
{
    if (out != NULL)
        memset(out, 0, sizeof *out);
    if (out == NULL || b == NULL || b->meter == NULL || plan == NULL)
        return esl__fail(ESL_EINVAL, "no result, open session or workload");
    esl_bench_opts bo = run_opts(b);
    return esl_bench_measure(out, plan, &bo, b->meter, b->store, b->opts->labels,
                             b->opts->n_labels);
}

int esl_bench_session_probe(esl_bench_result *out, double *wall_s, esl_bench_session *b,
                            const esl_workload *plan)
{
    if (out == NULL || wall_s == NULL || b == NULL || b->meter == NULL || plan == NULL)
        return esl__fail(ESL_EINVAL, "no result, open session or workload");
    esl_bench_opts bo = run_opts(b);
    double t0 = esl_meter_clock_s(b->meter);
    int rc = esl_bench_run(out, plan, &bo);
    *wall_s = esl_meter_clock_s(b->meter) - t0;
    return rc;
}
