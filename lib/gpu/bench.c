/*
 * bench.c - running a layer plan on a GPU through the optional CUDA module.
 *
 * libesl itself never links CUDA: the workload lives in libesl_gpu.so, loaded
 * here with dlopen on first use. A build without CUDA, a machine without the
 * CUDA libraries, or one without a GPU or driver all end in ESL_ENODEV with a
 * detail saying which, so that the tool can exit 3 with one clear line.
 * The module stays loaded once opened: CUDA and cuBLAS are not made to be
 * unloaded (their runtime state and the C++ library they pull in outlive a
 * dlclose), and a calibration sweep reuses it run after run.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "esl/bench.h"
#include "gpu/module.h"

static pthread_mutex_t module_lock = PTHREAD_MUTEX_INITIALIZER;

/* The caller's loop callback, wrapped so that its failure keeps its own
 * detail instead of the module's one-line reason. */
typedef struct loop_hook {
    int (*fn)(void *ctx, int end);
    void *ctx;
    int failed;
} loop_hook;

static int on_loop(void *ctx, int end)
{
    loop_hook *h = ctx;
    int rc = h->fn(h->ctx, end);
    if (rc != ESL_OK)
        h->failed = 1;
    return rc;
}

int esl_bench_run(esl_bench_result *out, const esl_workload *workload, const esl_bench_opts *opts)
{
    const char *path = opts->module;
    char err[512] = "";

    if (path == NULL)
        path = getenv("ESL_GPU_MODULE");
    if (path == NULL || *path == '\0')
        path = "libesl_gpu.so";
    if (opts->warmup < 0)
        return esl__fail(ESL_EINVAL, "warm-up passes %d: must not be negative", opts->warmup);

    pthread_mutex_lock(&module_lock);
    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) {
        const char *why = dlerror();
        pthread_mutex_unlock(&module_lock);
        return esl__fail(ESL_ENODEV, "no GPU workload: cannot load %s (%s)", path,
                         why ? why : "unknown reason");
    }
    esl_gpu_abi_fn abi = (esl_gpu_abi_fn)(uintptr_t)dlsym(lib, ESL_GPU_ABI_SYMBOL);
    esl_gpu_run_fn run = (esl_gpu_run_fn)(uintptr_t)dlsym(lib, ESL_GPU_RUN_SYMBOL);
    int rc;
    if (abi == NULL || run == NULL)
        rc = esl__fail(ESL_ENODEV, "no GPU workload: %s lacks %s", path,
                       abi == NULL ? ESL_GPU_ABI_SYMBOL : ESL_GPU_RUN_SYMBOL);
    else if (abi() != ESL_GPU_ABI)
        rc = esl__fail(ESL_ENODEV, "no GPU workload: %s speaks interface %d, this esl needs %d",
                       path, abi(), ESL_GPU_ABI);
    else {
        loop_hook hook = {opts->on_loop, opts->loop_ctx, 0};
        esl_bench_opts o = *opts;
        if (opts->on_loop != NULL) {
            o.on_loop = on_loop;
            o.loop_ctx = &hook;
        }
        if ((rc = run(out, workload, &o, err, sizeof err)) != ESL_OK && !hook.failed)
            rc = esl__fail(rc, "%s", err[0] ? err : esl_strerror(rc));
    }
    pthread_mutex_unlock(&module_lock); /* the handle is kept: see the file comment */
    return rc;
}

void esl_bench_labels_init(esl_bench_labels *out, const esl_workload *workload,
                           const esl_bench_result *result)
{
    const esl_bench_config *c = &workload->config;
    char(*v)[32] = out->values;
    snprintf(v[0], sizeof v[0], "%lld", (long long)c->request.height);
    snprintf(v[1], sizeof v[1], "%lld", (long long)c->request.width);
    snprintf(v[2], sizeof v[2], "%lld", (long long)c->request.steps);
    snprintf(v[3], sizeof v[3], "%d", c->request.cfg ? 1 : 0);
    /* a dataset row's prompts are images: N prompt runs of B images */
    snprintf(v[4], sizeof v[4], "%lld", (long long)(c->request.prompts * c->batch));
    snprintf(v[5], sizeof v[5], "%lld", (long long)c->batch);
    snprintf(v[6], sizeof v[6], "%.17g", result->exec_flops);
    snprintf(v[7], sizeof v[7], "%.17g", result->paper_flops);
    snprintf(v[8], sizeof v[8], "%.17g", result->duration_s);
    const esl_label labels[] = { /* keys unique; the store sorts them */
        {"model", (char *)workload->model->name},
        {"gpu", (char *)result->device},
        {"dtype", (char *)esl_dtype_name(c->dtype)},
        {"cfg", v[3]},
        {"height", v[0]},
        {"width", v[1]},
        {"steps", v[2]},
        {"prompts", v[4]},
        {"batch_size", v[5]},
        {"exec_flops", v[6]},
        {"paper_flops", v[7]},
        {"loop_s", v[8]},
    };
    memcpy(out->labels, labels, sizeof labels);
    out->n = sizeof labels / sizeof labels[0];
}
