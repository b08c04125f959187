/*
 * module.h - the interface between libesl and the optional CUDA module
 * libesl_gpu.so (lib/gpu/workload.cu). libesl loads the module with dlopen,
 * so that esl starts on machines without CUDA libraries; the module exports
 * the two symbols below with C linkage. Bump ESL_GPU_ABI whenever esl_workload,
 * esl_bench_opts or esl_bench_result change layout.
 */
#ifndef ESL_GPU_MODULE_H
#define ESL_GPU_MODULE_H

#include <stddef.h>
#include "esl/bench.h"

#define ESL_GPU_ABI 5 /* 2: esl_bench_opts.on_loop; 3: the workload runs the exact layer plan;
                        * 4: esl_bench_config.strict_fp32; 5: esl_bench_result.pci_bus_id */

#ifdef __cplusplus
extern "C" {
#endif

/* The module's ABI version; must equal ESL_GPU_ABI. */
typedef int (*esl_gpu_abi_fn)(void);

/*
 * Run `plan` on GPU 0 (see esl_bench_run). On failure returns an esl_status
 * and writes a one-line reason into err[err_len] (the module cannot reach
 * libesl's error detail: it links nothing of libesl).
 */
typedef int (*esl_gpu_run_fn)(esl_bench_result *out, const esl_workload *plan,
                              const esl_bench_opts *opts, char *err, size_t err_len);

#define ESL_GPU_ABI_SYMBOL "esl_gpu_module_abi"
#define ESL_GPU_RUN_SYMBOL "esl_gpu_module_run"

#ifdef __cplusplus
}
#endif
#endif
