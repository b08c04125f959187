/*
 * bench.h - the synthetic diffusion workload: a model's real layer shapes as
 * GPU operations, run with random weights to calibrate a GPU without any
 * model weights (docs/calibration.md).
 *
 * Three pieces, all plain C and usable without a GPU:
 *  - the workload (esl_workload): the exact-convention layer plan of a model
 *    description (esl/plan.h, the same layers the FLOP engine sums), each
 *    layer mapped to the GPU kernel that executes it, so that the executed
 *    FLOPs are esl_flops_count's exact convention; the paper convention's
 *    totals (and FLOPs_cfg, the law's regressor) are kept beside them;
 *  - efficiency figures: dense peak TFLOP/s per GPU and precision
 *    (data/gpu_peaks.csv), achieved TFLOP/s and joules per TFLOP;
 *  - the calibration sweep (esl_calib_*): configurations over the paper's grid
 *    chosen to fit a time budget.
 * Names: esl_workload_* for the workload and its kernels, esl_bench_* for
 * running it and its efficiency figures, esl_calib_* for the sweep; "plan"
 * means the layer plan of esl/plan.h and nothing else.
 * Running a workload needs the optional CUDA module libesl_gpu.so, loaded at run
 * time (esl_bench_run); a build or machine without CUDA gets ESL_ENODEV.
 *
 * Units: FLOPs (a multiply-add counts 2), seconds, joules.
 */
#ifndef ESL_BENCH_H
#define ESL_BENCH_H

#include "esl/api.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "esl/flops.h"
#include "esl/law.h"
#include "esl/model.h"
#include "esl/plan.h"
#include "esl/store.h"

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
ESL_API const char *esl_dtype_name(esl_dtype dtype);
/* Parse a dtype name. @return ESL_OK or ESL_EINVAL */
ESL_API int esl_dtype_parse(esl_dtype *out, const char *name);
/* Parse a comma-separated list of dtype names ("bf16,fp32"), each kept once
 * in the order given; empty items are skipped.
 * @return ESL_OK; ESL_EINVAL naming an unknown name, or a list naming none */
ESL_API int esl_dtype_list_parse(esl_dtype out[4], size_t *n, const char *list);

/* How the GPU executes a layer of the exact plan (esl/plan.h). */
typedef enum esl_workload_kernel {
    ESL_KERNEL_GEMM = 0,       /* linear: C[B m, n] = A[B m, k] W[k, n], bias as an element pass */
    ESL_KERNEL_ATTENTION = 1,  /* batched Q K^T GEMM, row softmax, batched P V GEMM; linear
                                * attention: batched K^T V then Q (K^T V) GEMMs, element passes */
    ESL_KERNEL_CONV = 2,       /* implicit GEMM: im2col, then one GEMM per channel group
                                * (strided-batched); a dense 1x1 stride-1 conv is one GEMM */
    ESL_KERNEL_ELEMENTWISE = 3 /* norm, act, other: one element kernel over `elements` */
} esl_workload_kernel;

/* "gemm", "attention", "conv", "elementwise". */
ESL_API const char *esl_workload_kernel_name(esl_workload_kernel kind);

/* One layer of the exact plan as the GPU runs it, `layer->count` times per
 * pass of its stage over `batch` images. */
typedef struct esl_workload_op {
    size_t component;        /* index into workload->layers->components (the model's order) */
    esl_stage stage;
    const esl_layer *layer;  /* borrowed from workload->layers */
    esl_workload_kernel kind;
    int64_t batch;           /* images per pass: B, or 2B for the denoiser with CFG */
    int64_t flops;           /* executed FLOPs of one pass: layer->flops * batch */
} esl_workload_op;

/* A run: what esl_workload_new expands. */
typedef struct esl_bench_config {
    esl_request request;  /* height, width, steps, cfg, prompts (N, one after another) */
    int64_t batch;        /* images per prompt run (--batch B), > 0 */
    esl_dtype dtype;
    /* fp32 math. 0: PyTorch's defaults, what real fp32 pipelines run:
     * convolutions (and so the VAE) on TF32 tensor cores
     * (torch.backends.cudnn.allow_tf32 = True), linear layers and attention in
     * true FP32 (torch.backends.cuda.matmul.allow_tf32 = False). 1: strict,
     * every GEMM in true FP32 (both switches off). Ignored for other dtypes. */
    int strict_fp32;
} esl_bench_config;

/*
 * A workload: the exact-convention layer plan of a model (esl_plan_build)
 * with each layer mapped to its GPU operation, and the totals of a run.
 * The executed FLOPs are the exact convention's: exec_flops equals
 * esl_flops_count(ESL_CONVENTION_EXACT) total_flops at N * B prompts. The
 * paper convention's counts are kept beside them for the law.
 */
typedef struct esl_workload {
    const esl_model *model;   /* borrowed: must outlive the workload */
    esl_bench_config config;
    esl_plan *layers;         /* the exact layer plan at this size, owned */
    esl_workload_op *ops;     /* one per layer that executes, component order */
    size_t n_ops;
    int64_t batch[3];         /* images per pass of each stage: B, B (2B with CFG), B */
    int64_t passes[3];        /* passes of each stage per prompt run: 1, T, 1 */
    int64_t stage_exec_flops[3];  /* executed FLOPs of one pass of each stage */
    int64_t prompt_exec_flops;  /* executed FLOPs of one prompt run: B * exact image_flops */
    double exec_flops;        /* executed FLOPs of the whole run (N prompt runs) */
    int has_paper;            /* 1 when the model has paper-convention terms */
    double paper_flops;       /* paper convention, whole run: esl_flops_count total at N*B
                               * prompts; 0 without paper terms */
    double paper_flops_cfg;   /* paper convention FLOPs_cfg (Eq. 3's regressor) of the
                               * whole run; 0 without paper terms */
} esl_workload;

/*
 * Build the workload of one run configuration: the exact layer plan, each
 * layer mapped to its kernel (linear -> GEMM, attention -> attention,
 * conv -> conv, norm/act/other -> elementwise; layers with no FLOPs, such
 * as embedding tables, execute nothing).
 * @param out    receives a new workload (free with esl_workload_free)
 * @param model  borrowed for the workload's lifetime
 * @return ESL_OK; ESL_EINVAL for a bad request or batch; ESL_EUNSUPPORTED
 *         for a model the layer plan cannot build; ESL_ERANGE on overflow;
 *         ESL_ENOMEM
 */
ESL_API int esl_workload_new(esl_workload **out, const esl_model *model, const esl_bench_config *config);

/* Release a workload. NULL is a no-op. */
ESL_API void esl_workload_free(esl_workload *workload);

/*
 * Call fn(workload, op, ctx) for every op in the order the plan is shown:
 * by component (the model's order), then by layer kind, then plan order.
 */
ESL_API void esl_workload_each_op(const esl_workload *workload,
                                  void (*fn)(const esl_workload *, const esl_workload_op *, void *),
                                  void *ctx);

/*
 * The workload's ops as CSV for other programs (esl_workload_each_op's
 * order): a header line model, component, stage, kind, layer, kernel, count,
 * batch, every shape field of esl_layer, passes, exec_flops_per_pass; then a
 * line per op, integers only.
 * @param out  the stream to write to, borrowed
 * @return ESL_OK; ESL_EIO when writing failed
 */
ESL_API int esl_workload_csv(FILE *out, const esl_workload *workload);

/* Bytes one element of `dtype` takes on the GPU (2 or 4). */
ESL_API size_t esl_dtype_bytes(esl_dtype dtype);

/* ---- running on a GPU (the optional CUDA module) ---- */

/* What a GPU run measured. */
typedef struct esl_bench_result {
    char device[256];    /* the GPU's name as CUDA reports it */
    int cc_major, cc_minor;
    double duration_s;   /* the timed loop, CUDA events around it */
    double exec_flops;   /* executed FLOPs of the timed loop (exact convention) */
    double paper_flops;  /* paper-convention FLOPs of the timed loop (0 without paper terms) */
    char pci_bus_id[32]; /* the GPU's PCI bus id as CUDA reports it ("0000:3b:00.0"), "" unknown */
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
 * Run a workload on the first GPU: allocate and fill random weights, then time
 * N prompt runs (text, T denoiser passes, decoder) with no host round-trips.
 * The module is `opts->module`, else $ESL_GPU_MODULE, else libesl_gpu.so
 * from the loader's search path; a stand-in module for tests can be named
 * the same way (tests/stubs/gpu_stub.c).
 * @return ESL_OK; ESL_ENODEV when the CUDA module cannot be loaded or no GPU
 *         or driver is present (the detail says which); ESL_EDEVICE when a
 *         CUDA or cuBLAS call fails; ESL_ENOMEM when the GPU lacks memory;
 *         the status of a failed on_loop call (its detail kept)
 */
ESL_API int esl_bench_run(esl_bench_result *out, const esl_workload *workload, const esl_bench_opts *opts);

/* The labels that make a measured run of a workload a dataset row
 * (esl_run_row_of): model, gpu, dtype, cfg, height, width, steps, prompts
 * (the images: N prompt runs of B), batch_size, exec_flops, paper_flops and
 * loop_s. Values live in the struct; the model's name and the device's are
 * borrowed from the workload and the result. */
typedef struct esl_bench_labels {
    esl_label labels[12];
    size_t n;
    char values[9][32];
} esl_bench_labels;

/* Fill `out` with the labels of `result`, a run of `workload`. */
ESL_API void esl_bench_labels_init(esl_bench_labels *out, const esl_workload *workload,
                                   const esl_bench_result *result);

/* ---- efficiency figures ---- */

/* Dense peak of a GPU at a precision, from data/gpu_peaks.csv. */
typedef struct esl_bench_peak {
    const char *gpu;     /* the table's name, e.g. "H100 SXM5 80GB" */
    double tflops;       /* dense peak TFLOP/s at the requested dtype */
    const char *source;  /* where the number comes from */
} esl_bench_peak;

/*
 * Find the dense peak for a device name as CUDA or NVML report it
 * ("NVIDIA H100 80GB HBM3"). Names are matched exactly against the
 * table's known device strings, case-insensitively.
 * @return ESL_OK; ESL_ENOTFOUND for an unknown GPU or a precision the GPU
 *         has no dense peak for (print no ratio then)
 */
ESL_API int esl_bench_peak_find(esl_bench_peak *out, const char *device_name, esl_dtype dtype);

/* Efficiency of one run. */
typedef struct esl_bench_efficiency {
    double achieved_tflops;   /* exec FLOPs / duration / 1e12 */
    double peak_tflops;       /* 0 when the GPU is unknown */
    double peak_fraction;     /* achieved / peak; 0 when unknown */
    double joules_per_tflop;  /* energy / (exec FLOPs / 1e12); 0 when energy_j <= 0 */
} esl_bench_efficiency;

/*
 * Efficiency figures of a run. `energy_j` is the GPU energy of the timed
 * loop from a meter, or <= 0 when none is known.
 * @return ESL_OK; ESL_EINVAL for a non-positive duration or FLOP count
 */
ESL_API int esl_bench_efficiency_compute(esl_bench_efficiency *out, const esl_bench_result *run, esl_dtype dtype,
                           double energy_j);

/* ---- a measured run ---- */

/* How many labels esl_bench_measure adds to its own. */
#define ESL_BENCH_MAX_EXTRA_LABELS 16

/* What one measured run gave. */
typedef struct esl_bench_measured {
    esl_bench_result result;
    esl_record *record;            /* the meter's window around the timed loop (owned) */
    esl_bench_efficiency total;    /* joules per TFLOP from the total energy */
    esl_bench_efficiency dynamic;  /* ... from the dynamic energy (0 when it is not positive) */
    int64_t run_id;                /* 0 when not stored */
    esl_bench_labels labels;       /* the labels it was stored with (esl_bench_labels_init) */
    char *command;                 /* the equivalent `esl bench` command line (owned) */
} esl_bench_measured;

/*
 * Run a workload (esl_bench_run) with the meter's window around its timed
 * loop, check that the meter read the GPU the loop ran on (by PCI bus id),
 * compute its efficiency from the total and the dynamic energy, and store
 * it in `store` (when not NULL) with its dataset labels and `extra`.
 * @param opts   module, seed and warmup; its loop hook is not used
 * @param meter  open, its idle baseline set (esl_meter_baseline)
 * @param extra  more labels (keys other than the dataset's own), at most
 *               ESL_BENCH_MAX_EXTRA_LABELS
 * @return ESL_OK; esl_bench_run's failures; ESL_EINVAL when the meter read
 *         another GPU than the loop ran on (both named) or for too many
 *         labels; esl_store_put's failures (the run kept in *out);
 *         ESL_ENOMEM. Release *out with esl_bench_measured_release in
 *         every case.
 */
ESL_API int esl_bench_measure(esl_bench_measured *out, const esl_workload *plan,
                              const esl_bench_opts *opts, esl_meter *meter, esl_store *store,
                              const esl_label *extra, size_t n_extra);

/* Free what a measured run owns and zero it. */
ESL_API void esl_bench_measured_release(esl_bench_measured *r);

/* ---- a workload and its measured run written out (bench_doc.c) ---- */

/*
 * The workload as a table for people (`esl bench --dry-run`): a line naming
 * the run, then every op (esl_workload_each_op's order) with its shape,
 * count, batch and executed FLOPs per pass, a subtotal line closing each
 * group of one component and layer kind; the stages' batch, passes and
 * FLOPs per pass; the totals in the exact convention and, for a model with
 * paper terms, the paper convention's FLOPs and FLOPs_cfg.
 * @param out  the stream to write to, borrowed
 * @return ESL_OK; ESL_EINVAL for a NULL argument; ESL_EIO when writing failed
 */
ESL_API int esl_workload_table(FILE *out, const esl_workload *workload);

/*
 * The workload as a JSON document: the configuration (model, height, width,
 * steps, cfg, dtype, prompts, batch), "convention": "exact", "layers" (each
 * op's component, stage, kind, layer, kernel, count, batch, the shape fields
 * of its kind and exec_flops_per_pass), "stages" (batch, passes,
 * exec_flops_per_pass), prompt_exec_flops, exec_flops, and paper_flops and
 * paper_flops_cfg (null without paper terms), laid out by esl_json_text.
 * @param out  a new string: free() it; NULL on failure
 * @return ESL_OK; ESL_EINVAL for a NULL argument; ESL_ENOMEM
 */
ESL_API int esl_workload_json(char **out, const esl_workload *workload);

/*
 * A measured run of `workload` (esl_bench_measure) as a JSON document: the
 * configuration as esl_workload_json begins, then device, duration_s,
 * exec_flops, paper_flops, achieved_tflops, peak_tflops and peak_fraction
 * (null when the GPU's dense peak at the dtype is unknown),
 * meter_duration_s, energy_j, idle_w, dynamic_j, joules_per_tflop and
 * dynamic_joules_per_tflop (null when not known), flags and run_id (null
 * when not stored). Seconds, joules, watts, TFLOP/s.
 * @param out  a new string: free() it; NULL on failure
 * @return ESL_OK; ESL_EINVAL for a NULL argument or a run without record;
 *         ESL_ENOMEM
 */
ESL_API int esl_bench_measured_json(char **out, const esl_workload *workload,
                                    const esl_bench_measured *run);

/*
 * The same run as CSV: a header line, then one line with the configuration,
 * device (quoted), duration_s, exec_flops, paper_flops, achieved_tflops,
 * peak_tflops, peak_fraction, energy_j, dynamic_j, idle_w, joules_per_tflop
 * and run_id; doubles in %.17g, a field not known left empty.
 * @return ESL_OK; ESL_EINVAL for a NULL argument; ESL_EIO when writing failed
 */
ESL_API int esl_bench_measured_csv(FILE *out, const esl_workload *workload,
                                   const esl_bench_measured *run);

/*
 * The same run as a short report for people: the run's line, the device,
 * the loop's and the meter window's seconds, the FLOPs in both conventions,
 * the achieved TFLOP/s against the dense peak, the energy, joules per TFLOP,
 * the meter's flags and, for a stored run, its id in `store`.
 * @param store  the store's path, named for a stored run (run_id > 0)
 * @return ESL_OK; ESL_EINVAL for a NULL argument or a stored run without
 *         `store`; ESL_EIO when writing failed
 */
ESL_API int esl_bench_measured_table(FILE *out, const esl_workload *workload,
                                     const esl_bench_measured *run, const char *store);

/* ---- a measuring session: meter, store and module opened once (session.c) ---- */

/* How a session measures and stores its runs. */
typedef struct esl_bench_session_opts {
    esl_meter_opts meter;  /* NVML, the GPUs to read */
    double idle_s;         /* idle window before the first run, seconds; 0 skips */
    double cooldown_s;     /* wait before the idle window, seconds; 0 none */
    double idle_w;         /* idle power used instead, watts, when have_idle_w */
    int have_idle_w;
    const char *store;     /* the run store's path, unless no_store */
    int no_store;
    const char *module;    /* the CUDA module; NULL: libesl_gpu.so beside the running
                            * program (its directory, ../lib/gpu, ../LIBDIR/esl), else
                            * esl_bench_run's search */
    uint64_t seed;         /* random weights */
    int warmup;            /* untimed denoiser passes */
    /* more labels for every stored run (esl_bench_session_label): keys in
     * label_keys, values borrowed from the strings given */
    esl_label labels[ESL_BENCH_MAX_EXTRA_LABELS];
    char label_keys[ESL_BENCH_MAX_EXTRA_LABELS][64];
    size_t n_labels;
} esl_bench_session_opts;

/*
 * Add one more label, "KEY=VALUE", to every run the session stores. The
 * value is borrowed from `key_value`, which must outlive the options.
 * @return ESL_OK; ESL_EINVAL (the detail quoting it) for text that is not
 *         KEY=VALUE with a key of under 64 characters and no blanks, a key
 *         esl sets itself (esl_bench_labels), a key given twice, or more
 *         than ESL_BENCH_MAX_EXTRA_LABELS labels
 */
ESL_API int esl_bench_session_label(esl_bench_session_opts *opts, const char *key_value);

/* An open session: the meter with its idle baseline, and the store. */
typedef struct esl_bench_session {
    const esl_bench_session_opts *opts; /* borrowed */
    esl_meter *meter;
    esl_store *store;                   /* NULL with no_store */
    char module_path[4160];             /* the module found at opening, or "" */
} esl_bench_session;

/*
 * Open the meter, take its idle baseline (esl_meter_baseline: the cooldown,
 * then the idle window, or the idle power given) and open the store.
 * @param out   filled; on failure everything opened is closed again
 * @param opts  borrowed for the session's lifetime
 * @return ESL_OK; esl_meter_open's, esl_store_open's and
 *         esl_meter_baseline's failures
 */
ESL_API int esl_bench_session_open(esl_bench_session *out, const esl_bench_session_opts *opts);

/* Close the meter and the store; a session zeroed or closed is a no-op. */
ESL_API void esl_bench_session_close(esl_bench_session *session);

/*
 * Run `workload` under the meter and store it with its dataset labels and
 * the options' labels (esl_bench_measure).
 * @return as esl_bench_measure; release *out with esl_bench_measured_release
 */
ESL_API int esl_bench_session_run(esl_bench_measured *out, esl_bench_session *session,
                                  const esl_workload *workload);

/*
 * Run `workload` with neither meter window nor store: a probe of the GPU's
 * throughput. `wall_s` receives the whole call's seconds on the meter's
 * clock (esl_meter_clock_s), loading, weights and warm-up included.
 * @return as esl_bench_run
 */
ESL_API int esl_bench_session_probe(esl_bench_result *out, double *wall_s,
                                    esl_bench_session *session, const esl_workload *workload);

/* ---- calibration sweep ---- */

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

/* What the sweep is chosen from. */
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

/* A chosen sweep and what it covers. */
typedef struct esl_calib_sweep {
    esl_calib_point *points;
    size_t n_points;
    double est_s;                /* sum of the points' estimates (overhead included) */
    size_t n_models, n_sides, n_steps, n_dtypes, n_cfg; /* distinct levels covered */
    int full;                    /* 1 when >= 3 models x 3 sides x 2 steps x 2 dtypes */
    double log10_flops_min, log10_flops_max;
} esl_calib_sweep;

/*
 * Choose a sweep that fits the budget: the cross product of the models and
 * a spread subset of the candidate levels (extremes first, so that log FLOPs
 * spread as widely as possible), shrunk level by level until the estimate
 * fits, aiming at 3 models x 3 resolutions x 2 steps x 2 dtypes (the dtypes
 * are those with a non-zero probe). Points are ordered cheapest first.
 * @param out     filled; release with esl_calib_sweep_release
 * @param models  n_models descriptions, borrowed
 * @return ESL_OK; ESL_EINVAL for a bad budget or no probed dtype;
 *         ESL_ERANGE when not even one point fits the budget; ESL_ENOMEM
 */
ESL_API int esl_calib_sweep_init(esl_calib_sweep *out, const esl_model *const *models, size_t n_models,
                        const esl_calib_opts *opts);

/* The dimensions of the paper's grid a sweep spans. */
typedef enum esl_calib_dim {
    ESL_CALIB_MODEL = 0, /* levels: indices into the models */
    ESL_CALIB_SIDE = 1,  /* pixels */
    ESL_CALIB_STEPS = 2,
    ESL_CALIB_DTYPE = 3, /* esl_dtype values */
    ESL_CALIB_CFG = 4    /* 0, 1 */
} esl_calib_dim;

/*
 * The distinct levels of one dimension among `n` points, ascending, into
 * `out` (at most `cap`): what a sweep, or the part of it that ran, covers.
 * @return how many levels there are (may exceed cap; only cap are written)
 */
ESL_API size_t esl_calib_levels(int64_t *out, size_t cap, const esl_calib_point *const *points,
                                size_t n, esl_calib_dim dim);

/*
 * The probe of a calibration: the model of the most denoiser FLOPs at
 * 512x512, 2 steps, one prompt (the one whose throughput best stands for
 * the sweep's), and the configuration it runs in `dtype`.
 * @return ESL_OK; the codes of esl_workload_new
 */
ESL_API int esl_calib_probe(size_t *model, esl_bench_config *config,
                            const esl_model *const *models, size_t n_models, esl_dtype dtype);

/*
 * Prompts to repeat so that a point runs at least `min_run_s` at `tflops`
 * executed TFLOP/s (a meter window far shorter than the counter's update
 * interval is not worth storing): at least 1, at most 10000.
 */
ESL_API int64_t esl_calib_prompts(const esl_calib_point *point, double tflops, double min_run_s);

/*
 * The throughput of `dtype` in a list like "bf16=400,fp32=45" (TFLOP/s).
 * @return ESL_OK; ESL_EINVAL when the list has no positive number for it
 */
ESL_API int esl_calib_throughput(double *tflops, const char *list, esl_dtype dtype);

/* The default name of a calibrated law, from the GPU's name:
 * "NVIDIA H100 80GB HBM3" -> "law-nvidia-h100-80gb-hbm3.json". */
ESL_API void esl_calib_law_name(char *buf, size_t size, const char *device);

/* Release a sweep's points; the struct may be initialised again. */
ESL_API void esl_calib_sweep_release(esl_calib_sweep *sweep);

/*
 * Put the sweep's points in a random order drawn from `seed` (the same seed,
 * the same order), so that the GPU's warming over a sweep does not grow
 * with FLOPs as it would smallest to largest. Seed 0 keeps the grid order.
 */
ESL_API void esl_calib_sweep_shuffle(esl_calib_sweep *sweep, uint64_t seed);

/*
 * The sweep as CSV for other programs: a header line model, height, width,
 * steps, cfg (0/1), dtype, exec_flops (executed FLOPs of one prompt),
 * est_s (estimated seconds), then a line per point in the sweep's order,
 * doubles in %.17g.
 * @param models  the n_models models the sweep was chosen from, borrowed
 * @return ESL_OK; ESL_EINVAL for a NULL argument or a point naming no
 *         model of `models`; ESL_EIO when writing failed
 */
ESL_API int esl_calib_sweep_csv(FILE *out, const esl_calib_sweep *cp,
                                const esl_model *const *models, size_t n_models);

/*
 * The sweep as one JSON object, laid out as esl_json_text lays out every
 * esl document (esl/json.h): budget_s (the `budget_s` given,
 * seconds), est_s, the counts of levels covered (models, resolutions,
 * step_counts, dtypes, cfg_levels), full (the paper's 3 x 3 x 2 x 2 target
 * met), log10_flops_min and _max, and "points" with the CSV's columns
 * (cfg a boolean). Doubles are written so they read back bit for bit.
 * @param out  a new string ending in a newline: free() it; NULL on failure
 * @return as esl_calib_sweep_csv; ESL_ENOMEM
 */
ESL_API int esl_calib_sweep_json(char **out, const esl_calib_sweep *cp,
                                 const esl_model *const *models, size_t n_models,
                                 double budget_s);

/*
 * Seconds the sweep has left once its first `done` points ran: the plan's
 * estimates of the rest, scaled by elapsed_s / est_done_s (how the sweep
 * kept to its estimates so far) when both `done` and est_done_s are > 0.
 * @return seconds, >= 0; NaN for a NULL sweep
 */
ESL_API double esl_calib_time_left(const esl_calib_sweep *cp, size_t done, double elapsed_s,
                                   double est_done_s);

/* ---- a measured calibration ---- */

/* One run of a measured calibration. */
typedef struct esl_calib_run {
    const esl_calib_point *point;  /* in the calibration's sweep */
    int64_t prompts;               /* prompts repeated (esl_calib_prompts) */
    int64_t run_id;                /* in the store; 0 when not stored */
    esl_bench_result result;       /* the timed loop */
    double energy_j, dynamic_j;    /* the meter's window: total, and above idle */
    double j_per_tflop;            /* total joules per executed TFLOP; 0 unknown */
    double peak_tflops;            /* the GPU's dense peak at the dtype; 0 unknown */
    double peak_fraction;          /* achieved / peak; 0 unknown */
    unsigned flags;                /* the record's ESL_FLAG_* */
    int in_fit;                    /* 1: no doubtful flag and energy above idle */
} esl_calib_run;

/* A measured calibration (esl_calib_measure), and its law (esl_calib_fit). */
typedef struct esl_calib {
    const esl_model *const *models; /* borrowed from the setup */
    size_t n_models;
    esl_dtype dtypes[4];            /* calibrated, in the order given */
    size_t n_dtypes;
    double budget_s;
    double started_s;               /* esl_meter_clock_s when the budget started */
    size_t probe_model;             /* index of the probed model */
    double probe_tflops[4];         /* the probe's TFLOP/s, by esl_dtype */
    double overhead_s;              /* fixed seconds of a run beyond its timed loop */
    esl_calib_sweep plan;           /* the sweep, in the order it ran */
    esl_calib_run *runs;            /* the runs that succeeded, in order */
    size_t n_runs;
    size_t n_failed;                /* runs that failed: reported and skipped */
    size_t n_skipped;               /* planned runs left when the sweep stopped early */
    char device[256];               /* the GPU as CUDA names it */
    char driver[80];                /* the driver's version; "" unknown */
    esl_dataset *data;              /* the rows of the runs in the fit */
    esl_law *law;                   /* esl_calib_fit's law; NULL before */
} esl_calib;

/* What a calibration tells its caller while it runs. */
typedef enum esl_calib_event_kind {
    ESL_CALIB_PROGRESS = 0, /* before each run (next set) and once after the last (next NULL) */
    ESL_CALIB_NOTE = 1,     /* a run failed, or the sweep stops early: message */
    ESL_CALIB_UNFITTED = 2  /* a run is kept out of the fit: message */
} esl_calib_event_kind;

typedef struct esl_calib_event {
    esl_calib_event_kind kind;
    size_t done;                 /* points of the sweep behind */
    size_t n_points;             /* points planned */
    double elapsed_s;            /* since the budget started */
    double left_s;               /* estimated seconds left (esl_calib_time_left) */
    const esl_calib_point *next; /* the next point; NULL after the last */
    const char *message;         /* the text for a person: a progress line ("[###...] 3/20
                                  * sd2 512x512 20 steps bf16  ETA 1m05s"), or a whole
                                  * message starting "calibrate: " */
} esl_calib_event;

/* How a calibration runs. */
typedef struct esl_calib_setup {
    const esl_model *const *models; /* borrowed; must outlive the calibration */
    size_t n_models;
    const esl_dtype *dtypes;        /* 1 to 4 precisions */
    size_t n_dtypes;
    double budget_s;                /* the whole calibration, from the call on, > 0 */
    double min_run_s;               /* repeat prompts until a run lasts this long */
    int cfg_both;                   /* 1: cfg off and on; 0: off only */
    int strict_fp32;                /* esl_bench_config.strict_fp32 */
    uint64_t order_seed;            /* order of the runs (esl_calib_sweep_shuffle) */
    esl_bench_opts bench;           /* module, seed and warm-up of every run */
    const esl_label *labels;        /* more labels for every stored run */
    size_t n_labels;
    double settle_s;                /* wait after the probe before the idle window */
    double idle_s;                  /* idle window after the probe; 0: the meter's baseline stays */
    void (*on_event)(void *ctx, const esl_calib_event *event); /* NULL: none */
    void *ctx;
} esl_calib_setup;

/*
 * Calibrate the metered GPU: probe the throughput of each dtype and the
 * fixed cost of a run with the model of most denoiser FLOPs (esl_calib_probe,
 * unmetered), measure the idle baseline (setup->idle_s), choose the sweep
 * that fits what is left of the budget, and run each point under the meter
 * (esl_bench_measure), stored in `store` when not NULL. A run that would end
 * well past the budget (by a quarter of it, 10 s at least) is not started;
 * a failed run is reported and skipped, and the GPU gone or three failures
 * in a row stop the sweep. The budget runs on the meter's clock.
 * @param out    a new calibration (esl_calib_free); NULL on failure
 * @param meter  open, its baseline set unless setup->idle_s > 0
 * @return ESL_OK; a failed probe's status (detail "calibrate: probe: ...");
 *         ESL_EDEVICE for a probe that timed nothing; the idle window's
 *         failure; ESL_ERANGE when the probe and idle window spend the
 *         budget; esl_calib_sweep_init's failures; ESL_EINVAL for a bad
 *         setup; ESL_ENOMEM
 */
ESL_API int esl_calib_measure(esl_calib **out, esl_meter *meter, esl_store *store,
                              const esl_calib_setup *setup);

/*
 * Fit the paper-form law (esl_law_fit) on the rows of the runs in the fit.
 * @return ESL_OK; esl_law_fit's failure, its detail "fitting the law on K
 *         of N runs: ..."
 */
ESL_API int esl_calib_fit(esl_calib *calib);

/* Release a calibration. NULL is a no-op. */
ESL_API void esl_calib_free(esl_calib *calib);

/*
 * The measured calibration for a person, up to its law: the GPU, the probe,
 * the time spent (`elapsed_s` of the budget), the runs, what they cover of
 * the paper's grid, and the largest configuration per dtype against the
 * dense peak.
 * @return ESL_OK; ESL_EINVAL for a NULL argument; ESL_EIO when writing failed
 */
ESL_API int esl_calib_table(FILE *out, const esl_calib *calib, double elapsed_s);

/*
 * The measured calibration as a JSON document (esl_json_text): gpu, driver,
 * budget_s, elapsed_s, failed_runs, runs_left_out_by_budget, probe_tflops,
 * runs, coverage, law_file and the fitted law.
 * @param out  the text: free() it; NULL on failure
 * @return ESL_OK; ESL_EINVAL for a NULL argument or a calibration not fitted;
 *         ESL_ENOMEM
 */
ESL_API int esl_calib_json(char **out, const esl_calib *calib, double elapsed_s,
                           const char *law_file);

/*
 * A planned sweep for a person: a line per point (model, size, steps, cfg,
 * dtype, executed FLOPs, estimated seconds), then its total against
 * `budget_s` and what it covers of the paper's grid.
 * @return as esl_calib_sweep_csv
 */
ESL_API int esl_calib_sweep_table(FILE *out, const esl_calib_sweep *cp,
                                  const esl_model *const *models, size_t n_models,
                                  double budget_s);

/*
 * The CUDA module installed with the running program: libesl_gpu.so in the
 * program's directory, in ../lib/gpu (a build tree) or in ../LIBDIR/esl (an
 * install, `libdir` as "lib" or "lib64"; NULL: the one libesl was built
 * for), written into buf.
 * @return buf; NULL when $ESL_GPU_MODULE is set (esl_bench_run reads it)
 *         or no module is found
 */
ESL_API const char *esl_bench_module_find(char *buf, size_t size, const char *libdir);

/* A time budget as a person writes it: "300", "300s", "5m" or "1h" -> seconds.
 * @return ESL_OK; ESL_EINVAL naming the text when it is not a positive time */
ESL_API int esl_calib_budget_parse(double *out, const char *text);

/*
 * The models of a comma-separated list of catalogue names (esl_catalog_find),
 * at most `cap`, into out[0..*n).
 * @param out  receives new models: esl_model_free each; none on failure
 * @return ESL_OK; ESL_ERANGE ("at most CAP models"); esl_catalog_find's
 *         failures; ESL_ENOMEM
 */
ESL_API int esl_calib_models_find(esl_model **out, size_t cap, size_t *n, const char *list);

/*
 * The throughputs a planned sweep assumes, as seconds per executed FLOP
 * into s_per_flop[dtype] for each of the n dtypes: from `tflops`, a list
 * like "bf16=400,fp32=45" (esl_calib_throughput), or else half the dense
 * peak of the GPU named `gpu` (esl_bench_peak_find). Exactly one is given.
 * @return ESL_OK; ESL_EINVAL (both or neither given, or no throughput for
 *         a dtype in the list); ESL_ENOTFOUND for a GPU or dtype without a
 *         dense peak
 */
ESL_API int esl_calib_assume(double s_per_flop[4], const esl_dtype *dtypes, size_t n,
                             const char *tflops, const char *gpu);

/*
 * Write the calibration's law (esl_law_to_json, a newline after it) to
 * `path`, under a temporary name renamed into place (esl_outfile).
 * @return ESL_OK; ESL_EINVAL for a calibration not fitted; ESL_EIO
 *         ("PATH: reason"); ESL_ENOMEM
 */
ESL_API int esl_calib_save_law(const esl_calib *calib, const char *path);

#ifdef __cplusplus
}
#endif
#endif
