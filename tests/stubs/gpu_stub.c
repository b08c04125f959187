/*
 * gpu_stub.c - a stand-in for the CUDA module libesl_gpu.so in tests: it
 * exports the module's two entry points (lib/gpu/module.h) and "runs" a
 * workload by walking its exact layer plan the way the real module does
 * (every prompt run: text encoders once, the denoiser `passes` times, the
 * decoder once) and adding up the FLOPs of the layers it visits. Instead of executing
 * them it sleeps for FLOPs / throughput, between the two calls of the
 * caller's loop hook, so that an energy meter (the NVML stub) sees a window
 * of that length. Timings are therefore deterministic: the reported loop
 * time is exactly executed FLOPs / throughput.
 *
 *   ESL_GPU_STUB_NAME=NAME    the device name (default "Stub GPU 0", as the NVML stub)
 *   ESL_GPU_STUB_PCI=ID       the PCI bus id CUDA reports (default "0000:18:00.0", the NVML
 *                             stub's first device)
 *   ESL_GPU_STUB_TFLOPS=LIST  throughput per dtype, e.g. "bf16=400,fp32=50"; dtypes
 *                             not named keep the defaults fp16=400 bf16=400 tf32=200 fp32=50
 *   ESL_GPU_STUB_FAIL=KIND    fail the run: "nodev" (no GPU), "device" (a CUDA call),
 *                             "nomem" (GPU memory)
 *   ESL_GPU_STUB_FAIL_RUNS=LIST  fail these calls only (1-based, "4,5"), with "device"
 *   ESL_GPU_STUB_SLOW_AFTER=N after N calls in this process, every run lasts
 *                             ESL_GPU_STUB_SLOW_FACTOR (default 10) times longer
 *
 * Where the NVML stub named by ESL_NVML_LIBRARY is loaded in this process
 * with its virtual clock (ESL_STUB_CLOCK=virtual, see nvml_stub.c), the run
 * passes its loop time on that clock instead of sleeping: the meter's window
 * is then exactly the loop time plus the edges' polling, on every run, and
 * takes no real time. The library is found with RTLD_NOLOAD, so the stub
 * never loads it itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <dlfcn.h>

#include "esl/error.h"
#include "gpu/module.h"
#include "meter/stub_clock.h"

#define STUB_API __attribute__((visibility("default")))

STUB_API int esl_gpu_module_abi(void);
STUB_API int esl_gpu_module_run(esl_bench_result *out, const esl_workload *plan,
                                const esl_bench_opts *opts, char *err, size_t err_len);

int esl_gpu_module_abi(void)
{
    return ESL_GPU_ABI;
}

/* esl_dtype order; the stub links nothing of libesl. */
static const char *const dtype_names[] = {"fp16", "bf16", "fp32", "tf32"};

/* TFLOP/s of `dtype` from ESL_GPU_STUB_TFLOPS, else the default. */
static double throughput(esl_dtype dtype)
{
    static const double defaults[] = {400, 400, 50, 200};
    const char *list = getenv("ESL_GPU_STUB_TFLOPS");
    const char *name = dtype_names[dtype];
    size_t len = strlen(name);
    for (const char *at = list; at != NULL && *at != '\0';) {
        if (strncmp(at, name, len) == 0 && at[len] == '=')
            return strtod(at + len + 1, NULL);
        at = strchr(at, ',');
        at = at ? at + 1 : NULL;
    }
    return defaults[dtype];
}

/* Pass s seconds: on the NVML stub's virtual clock where it runs in this
 * process, else in real time. */
static void sleep_s(double s)
{
    const char *nvml = getenv("ESL_NVML_LIBRARY");
    void *h = nvml != NULL && *nvml != '\0' ? dlopen(nvml, RTLD_NOW | RTLD_NOLOAD) : NULL;
    if (h != NULL) {
        esl__stub_clock_fn get;
        *(void **)(&get) = dlsym(h, ESL_STUB_CLOCK_SYMBOL);
        const esl__stub_clock *clock = get != NULL ? get() : NULL;
        if (clock != NULL)
            clock->sleep(s);
        dlclose(h);
        if (clock != NULL)
            return;
    }
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* Whether call number `n` is in the comma-separated list `list`. */
static int listed(const char *list, long n)
{
    for (const char *at = list; at != NULL && *at != '\0';) {
        if (strtol(at, NULL, 10) == n)
            return 1;
        at = strchr(at, ',');
        at = at ? at + 1 : NULL;
    }
    return 0;
}

int esl_gpu_module_run(esl_bench_result *out, const esl_workload *plan, const esl_bench_opts *opts,
                       char *err, size_t err_len)
{
    static long calls = 0;
    calls++;
    const char *fail = getenv("ESL_GPU_STUB_FAIL");
    if (listed(getenv("ESL_GPU_STUB_FAIL_RUNS"), calls))
        fail = "device";
    const char *name = getenv("ESL_GPU_STUB_NAME");
    memset(out, 0, sizeof *out);
    if (fail != NULL && strcmp(fail, "nodev") == 0) {
        snprintf(err, err_len, "no GPU: cudaGetDeviceCount found no CUDA-capable device (stand-in)");
        return ESL_ENODEV;
    }
    if (fail != NULL && strcmp(fail, "nomem") == 0) {
        snprintf(err, err_len, "cudaMalloc(&w->weights, ...) failed: out of memory (stand-in)");
        return ESL_ENOMEM;
    }
    snprintf(out->device, sizeof out->device, "%s", name ? name : "Stub GPU 0");
    const char *pci = getenv("ESL_GPU_STUB_PCI");
    snprintf(out->pci_bus_id, sizeof out->pci_bus_id, "%s", pci ? pci : "0000:18:00.0");
    out->cc_major = 9;
    out->cc_minor = 0;

    /* One prompt run, as the real module issues it: each layer of the exact
     * plan, its stage's passes times, over the op's images. */
    double prompt_exec = 0;
    for (size_t o = 0; o < plan->n_ops; o++)
        prompt_exec += (double)plan->passes[plan->ops[o].stage] * (double)plan->ops[o].flops;
    double prompts = (double)plan->config.request.prompts;
    double tflops = throughput(plan->config.dtype);
    if (!(tflops > 0)) {
        snprintf(err, err_len, "ESL_GPU_STUB_TFLOPS: no positive throughput for %s",
                 dtype_names[plan->config.dtype]);
        return ESL_EINVAL;
    }
    int rc;
    if (opts->on_loop != NULL && (rc = opts->on_loop(opts->loop_ctx, 0)) != ESL_OK)
        return rc;
    out->exec_flops = prompts * prompt_exec;
    out->paper_flops = plan->paper_flops;
    out->duration_s = out->exec_flops / (tflops * 1e12);
    const char *slow = getenv("ESL_GPU_STUB_SLOW_AFTER");
    if (slow != NULL && calls > strtol(slow, NULL, 10)) {
        const char *factor = getenv("ESL_GPU_STUB_SLOW_FACTOR");
        out->duration_s *= factor != NULL ? strtod(factor, NULL) : 10.0;
    }
    sleep_s(out->duration_s);
    rc = opts->on_loop != NULL ? opts->on_loop(opts->loop_ctx, 1) : ESL_OK;
    if (rc == ESL_OK && fail != NULL && strcmp(fail, "device") == 0) {
        snprintf(err, err_len, "cublasGemmEx failed: CUBLAS_STATUS_EXECUTION_FAILED (stand-in)");
        return ESL_EDEVICE;
    }
    return rc;
}
