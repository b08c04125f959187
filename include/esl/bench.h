/*
 * bench.h - the synthetic diffusion workload: a model's real layer shapes as
 * GPU operations, run with random weights to calibrate a GPU without any
 * model weights (docs/calibration.md).
 *
 * Three pieces, all plain C and usable without a GPU:
 *  - the layer plan (esl_workload): every paper-convention term of a model
 *    description (Table 4 primitive) expanded into the GEMMs, attention
 *    products, softmax, norm and activation kernels it stands for, with real
 *    shapes; each operation carries its executed FLOPs and points back to the
 *    term it came from, whose paper-convention FLOPs it reports;
 *  - efficiency figures: dense peak TFLOP/s per GPU and precision
 *    (data/gpu_peaks.csv), achieved TFLOP/s and joules per TFLOP;
 *  - the calibration planner: a sweep over the paper's grid that fits a time
 *    budget.
 * Running a plan needs the optional CUDA module libesl_gpu.so, loaded at run
 * time (esl_bench_run); a build or machine without CUDA gets ESL_ENODEV.
 *
 * Units: FLOPs (a multiply-add counts 2), seconds, joules.
 */
#ifndef ESL_BENCH_H
#define ESL_BENCH_H

#include <stddef.h>
#include <stdint.h>

#include "esl/flops.h"
#include "esl/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Numeric precision of a run. */
typedef enum esl_dtype {
    ESL_DTYPE_FP16 = 0, /* half storage, FP32 accumulation (CUBLAS_COMPUTE_32F) */
    ESL_DTYPE_BF16 = 1, /* bfloat16 storage, FP32 accumulation */
    ESL_DTYPE_FP32 = 2, /* float storage and math, TF32 off (CUBLAS_COMPUTE_32F) */
    ESL_DTYPE_TF32 = 3  /* float storage, TF32 tensor cores (CUBLAS_COMPUTE_32F_FAST_TF32) */
} esl_dtype;

/* "fp16", "bf16", "fp32", "tf32". */
const char *esl_dtype_name(esl_dtype dtype);
/* Parse a dtype name. @return ESL_OK or ESL_EINVAL */
int esl_dtype_parse(esl_dtype *out, const char *name);

/* What a GPU operation is. */
typedef enum esl_kernel {
    ESL_KERNEL_GEMM = 0,    /* C[M,N] = A[M,K] B[K,N], `batch` independent products */
    ESL_KERNEL_CONV = 1,    /* implicit GEMM: im2col to A[M, K = c_in k^2], then GEMM */
    ESL_KERNEL_SOFTMAX = 2, /* row softmax over `rows` rows of `cols` */
    ESL_KERNEL_NORM = 3,    /* row normalisation (layer/group norm) over rows x cols */
    ESL_KERNEL_ACT = 4      /* element-wise activation (GELU, SiLU) over rows x cols */
} esl_kernel;

/* "gemm", "conv", "softmax", "norm", "act". */
const char *esl_kernel_name(esl_kernel kind);

/* Which role an operation plays inside its term (for reading a plan). */
typedef enum esl_role {
    ESL_ROLE_PROJ = 0,   /* Q, K, V or output projection, linear layer */
    ESL_ROLE_SCORES = 1, /* attention Q K^T */
    ESL_ROLE_VALUES = 2, /* attention softmax(.) V */
    ESL_ROLE_FF = 3,     /* feed-forward up or down */
    ESL_ROLE_CONV = 4,   /* convolution */
    ESL_ROLE_MISC = 5    /* softmax, norm, activation */
} esl_role;

/* One paper-convention term of the model as the plan saw it. */
typedef struct esl_workload_term {
    size_t component;    /* index into model->components */
    size_t term;         /* index into that component's terms */
    esl_stage stage;
    esl_op op;
    const char *label;   /* term label, or the primitive's name; owned by the model */
    int64_t batch;       /* images per pass: B, or 2B for the denoiser with CFG */
    int64_t paper_flops; /* esl_flops_term at this size, times `batch`, one pass */
    int64_t exec_flops;  /* sum of its operations' FLOPs, one pass */
    size_t first_op, n_ops; /* its operations: plan->ops[first_op .. +n_ops) */
} esl_workload_term;

/* One GPU operation, repeated `count` times per pass of its stage. */
typedef struct esl_workload_op {
    size_t term;         /* index into plan->terms */
    esl_kernel kind;
    esl_role role;
    int stream;          /* MMDiT: 0 image-token weights, 1 text-token weights; else 0 */
    int64_t m, n, k;     /* GEMM and conv shape (conv: M = batch H W, N = c_out, K = c_in k^2) */
    int64_t batch;       /* GEMM: independent products (attention: images x heads); else 1 */
    int64_t rows, cols;  /* softmax, norm, act: the tensor they sweep */
    int64_t conv_k, conv_c_in, conv_h, conv_w; /* conv geometry (im2col) */
    int64_t count;       /* repetitions per pass (layers x term count) */
    int64_t flops;       /* executed FLOPs of one repetition (see docs/calibration.md) */
} esl_workload_op;

/* A run: what esl_workload_new expands. */
typedef struct esl_bench_config {
    esl_request request;  /* height, width, steps, cfg, prompts (N, one after another) */
    int64_t batch;        /* images per prompt run (--batch B), > 0 */
    esl_dtype dtype;
} esl_bench_config;

/* A layer plan: per-pass operations of every stage and the totals of a run. */
typedef struct esl_workload {
    const esl_model *model;   /* borrowed: must outlive the plan */
    esl_bench_config config;
    esl_workload_term *terms;
    size_t n_terms;
    esl_workload_op *ops;
    size_t n_ops;
    int64_t passes[3];        /* passes of each stage per prompt run: 1, T, 1 */
    int64_t stage_exec_flops[3];  /* executed FLOPs of one pass of each stage */
    int64_t stage_paper_flops[3]; /* paper FLOPs of one pass of each stage */
    int64_t prompt_exec_flops;  /* executed FLOPs of one prompt run (B images) */
    int64_t prompt_paper_flops; /* paper FLOPs of one prompt run: B * esl_flops image_flops */
    double exec_flops;        /* executed FLOPs of the whole run (N prompt runs) */
    double paper_flops;       /* paper FLOPs of the whole run: esl_flops_count at N*B prompts */
} esl_workload;

/*
 * Expand a model into its layer plan for one run configuration. Heads are
 * 128 wide when d_attn >= 1536, else 64 (a width not divisible falls back
 * to 32, 16, 8, then one head); "const" terms execute nothing.
 * @param out    receives a new plan (free with esl_workload_free)
 * @param model  borrowed for the plan's lifetime
 * @return ESL_OK; ESL_EINVAL for a bad request or batch; ESL_ERANGE on
 *         overflow; ESL_ENOMEM
 */
int esl_workload_new(esl_workload **out, const esl_model *model, const esl_bench_config *config);

/* Release a plan. NULL is a no-op. */
void esl_workload_free(esl_workload *plan);

/* Bytes one element of `dtype` takes on the GPU (2 or 4). */
size_t esl_dtype_bytes(esl_dtype dtype);

/* ---- running on a GPU (the optional CUDA module) ---- */

/* What a GPU run measured. */
typedef struct esl_bench_result {
    char device[256];    /* the GPU's name as CUDA reports it */
    int cc_major, cc_minor;
    double duration_s;   /* the timed loop, CUDA events around it */
    double exec_flops;   /* executed FLOPs of the timed loop */
    double paper_flops;  /* paper-convention FLOPs of the timed loop */
} esl_bench_result;

/* Options of a GPU run. */
typedef struct esl_bench_opts {
    const char *module;  /* path of libesl_gpu.so; NULL: $ESL_GPU_MODULE, then the loader's search */
    uint64_t seed;       /* random weights */
    int warmup;          /* untimed denoiser passes before the loop (>= 0) */
    /* Called on the host right before the timed loop (end = 0) and right
     * after it (end = 1), with the GPU synchronised and idle at both points:
     * where an energy meter opens and closes its window. The end call comes
     * whenever the begin call succeeded, even when the loop failed. Return
     * ESL_OK, or a status (with esl_error_last set) that stops the run and
     * becomes esl_bench_run's result. NULL: no calls. */
    int (*on_loop)(void *ctx, int end);
    void *loop_ctx;
} esl_bench_opts;

/*
 * Run a plan on the first GPU: allocate and fill random weights, then time
 * N prompt runs (text, T denoiser passes, decoder) with no host round-trips.
 * The module is `opts->module`, else $ESL_GPU_MODULE, else libesl_gpu.so
 * from the loader's search path; a stand-in module for tests can be named
 * the same way (tests/stubs/gpu_stub.c).
 * @return ESL_OK; ESL_ENODEV when the CUDA module cannot be loaded or no GPU
 *         or driver is present (the detail says which); ESL_EDEVICE when a
 *         CUDA or cuBLAS call fails; ESL_ENOMEM when the GPU lacks memory;
 *         the status of a failed on_loop call (its detail kept)
 */
int esl_bench_run(esl_bench_result *out, const esl_workload *plan, const esl_bench_opts *opts);

/* ---- efficiency figures ---- */

/* Dense peak of a GPU at a precision, from data/gpu_peaks.csv. */
typedef struct esl_peak {
    const char *gpu;     /* the table's name, e.g. "H100 SXM5 80GB" */
    double tflops;       /* dense peak TFLOP/s at the requested dtype */
    const char *source;  /* where the number comes from */
} esl_peak;

/*
 * Find the dense peak for a device name as CUDA or NVML report it
 * ("NVIDIA H100 80GB HBM3"). Names are matched exactly against the
 * table's known device strings, case-insensitively.
 * @return ESL_OK; ESL_ENOTFOUND for an unknown GPU or a precision the GPU
 *         has no dense peak for (print no ratio then)
 */
int esl_peak_find(esl_peak *out, const char *device_name, esl_dtype dtype);

/* Efficiency of one run. */
typedef struct esl_efficiency {
    double achieved_tflops;   /* exec FLOPs / duration / 1e12 */
    double peak_tflops;       /* 0 when the GPU is unknown */
    double peak_fraction;     /* achieved / peak; 0 when unknown */
    double joules_per_tflop;  /* energy / (exec FLOPs / 1e12); 0 when energy_j <= 0 */
} esl_efficiency;

/*
 * Efficiency figures of a run. `energy_j` is the GPU energy of the timed
 * loop from a meter, or <= 0 when none is known.
 * @return ESL_OK; ESL_EINVAL for a non-positive duration or FLOP count
 */
int esl_efficiency_compute(esl_efficiency *out, const esl_bench_result *run, esl_dtype dtype,
                           double energy_j);

/* ---- calibration planner ---- */

/* One configuration of a calibration sweep. */
typedef struct esl_calib_point {
    size_t model;        /* index into the models given */
    int64_t side;        /* square image side, pixels */
    int64_t steps;
    esl_dtype dtype;
    int cfg;
    double exec_flops;   /* executed FLOPs of one prompt at batch 1 */
    double est_s;        /* estimated seconds */
} esl_calib_point;

/* The planner's inputs. */
typedef struct esl_calib_opts {
    double budget_s;             /* total time allowed for the sweep, > 0 */
    double s_per_flop[4];        /* probe: seconds per executed FLOP, by esl_dtype; 0 = unused */
    double overhead_s;           /* fixed cost of each run (allocation, warm-up), >= 0 */
    const int64_t *sides;        /* candidate resolutions (default: 256, 512, 768, 1024) */
    size_t n_sides;
    const int64_t *steps;        /* candidate step counts (default: 10, 20, 30, 40, 50) */
    size_t n_steps;
    int cfg_both;                /* 1: try cfg on and off; 0: off only */
} esl_calib_opts;

/* A planned sweep and what it covers. */
typedef struct esl_calib_plan {
    esl_calib_point *points;
    size_t n_points;
    double est_s;                /* sum of the points' estimates (overhead included) */
    size_t n_models, n_sides, n_steps, n_dtypes, n_cfg; /* distinct levels covered */
    int full;                    /* 1 when >= 3 models x 3 sides x 2 steps x 2 dtypes */
    double log10_flops_min, log10_flops_max;
} esl_calib_plan;

/*
 * Choose a sweep that fits the budget: the cross product of the models and
 * a spread subset of the candidate levels (extremes first, so that log FLOPs
 * spread as widely as possible), shrunk level by level until the estimate
 * fits, aiming at 3 models x 3 resolutions x 2 steps x 2 dtypes (the dtypes
 * are those with a non-zero probe). Points are ordered cheapest first.
 * @param out     filled; release with esl_calib_plan_release
 * @param models  n_models descriptions, borrowed
 * @return ESL_OK; ESL_EINVAL for a bad budget or no probed dtype;
 *         ESL_ERANGE when not even one point fits the budget; ESL_ENOMEM
 */
int esl_calib_plan_make(esl_calib_plan *out, const esl_model *const *models, size_t n_models,
                        const esl_calib_opts *opts);

/* Release a planned sweep's points. */
void esl_calib_plan_release(esl_calib_plan *plan);

#ifdef __cplusplus
}
#endif
#endif
