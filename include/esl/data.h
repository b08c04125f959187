/*
 * data.h - datasets: rows of measured (or wanted) generation runs.
 *
 * A row is the unit every stage exchanges: which model, GPU and precision
 * generated how many images of what size with how many steps, and the energy
 * that took. On the outside a dataset is a CSV file with a header line
 * (docs/data-format.md); each row's FLOPs_cfg comes from the FLOP engine, by
 * model name from the catalogue or from a description file, so a dataset of
 * a new model needs only that model's description.
 *
 * Units: energy in joules, duration in seconds, power in watts, FLOPs plain
 * (a multiply-add counts 2).
 */
#ifndef ESL_DATA_H
#define ESL_DATA_H

#include "esl/api.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "esl/flops.h"
#include "esl/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What a row's energy covers. */
typedef enum esl_energy_kind {
    ESL_ENERGY_TOTAL = 0,  /* everything the GPU drew during the run */
    ESL_ENERGY_DYNAMIC = 1 /* the run's energy above the idle draw */
} esl_energy_kind;

/* The most GPUs one row may name (num_gpus). */
#define ESL_MAX_GPUS 1024

/* Bits of esl_row.present: which optional columns a row had a value in. */
enum {
    ESL_ROW_ENERGY = 1u << 0,
    ESL_ROW_BATCH = 1u << 1,
    ESL_ROW_KIND = 1u << 2,
    ESL_ROW_DURATION = 1u << 3,
    ESL_ROW_IDLE = 1u << 4,
    ESL_ROW_SOURCE = 1u << 5,
    ESL_ROW_GPUS = 1u << 6
};

typedef struct esl_row {
    char *model;          /* catalogue name, e.g. "flux-dev" */
    char *gpu;            /* e.g. "A100" */
    char *dtype;          /* e.g. "fp16" */
    int cfg;              /* 1 with classifier-free guidance */
    int64_t height, width;/* pixels */
    int64_t steps;        /* denoising steps T */
    int64_t prompts;      /* images N */
    int64_t batch_size;   /* images per batch, 1 when absent */
    int64_t num_gpus;     /* GPUs that ran each batch together (sequence parallel), energy
                           * and duration covering all of them; 1 when absent (0 reads as 1) */
    double energy_j;      /* energy of all N images, joules; 0 when absent */
    esl_energy_kind energy_kind;
    double duration_s;    /* wall time of the run, 0 when absent */
    double idle_w;        /* idle power of the GPU, 0 when absent */
    char *source;         /* free text, NULL when absent */
    unsigned present;     /* ESL_ROW_* bits */
    double flops_cfg;     /* N * T * FLOPs_denoise * 2^cfg (Eq. 3), plain FLOPs */
    /* The work behind one image, for the law's roofline form (esl_row_set_work): */
    double text_flops;    /* text encoders, one prompt */
    double denoise_flops; /* one denoiser pass */
    double decode_flops;  /* decoder, one image */
    double denoise_params;/* denoiser parameters: the weights one pass reads; 0 unknown */
    double denoise_ops;   /* operations one denoiser pass launches (layer instances of
                           * its plan, esl/plan.h); 0 when the model has no plan */
    double denoise_attn_share; /* share of the denoiser's FLOPs in attention products (plan) */
    int cfg_batched;      /* 1: the pipeline runs CFG's two passes as one call of batch 2 */
    int flops_exact;      /* 1: the paper convention was asked for but the model has no
                           * paper-convention terms, so the FLOPs above were counted in the
                           * exact convention (only the by-kind form can use such a row) */
    /* The same work from the layer plan, split by kind of operation (exact
     * convention whatever the dataset's), for the law's by-kind form; all 0
     * when the model has no plan: */
    double plan_linear_flops; /* one denoiser pass: GEMMs of linear layers */
    double plan_attn_flops;   /* one denoiser pass: attention products */
    double plan_conv_flops;   /* one denoiser pass: convolutions */
    double plan_misc_flops;   /* one denoiser pass: norms, activations, the rest */
    double plan_text_flops;   /* text encoders, one prompt */
    double plan_decode_flops; /* decoder, one image */
    int64_t line;         /* line of the input the row ended on (1 is the header) */
} esl_row;

/* How a dataset is read. Zero-initialised: paper convention, energy required. */
typedef struct esl_data_opts {
    esl_convention convention; /* how FLOPs_cfg is counted */
    const esl_model *arch;     /* rows naming arch->name use it; may be NULL */
    int no_energy;             /* 1: energy_j is optional (configurations to predict) */
} esl_data_opts;

/*
 * Called once per row, in file order. The row and its strings are valid
 * only during the call. Returning non-zero stops the reader, which then
 * returns that value.
 */
typedef int (*esl_row_fn)(void *ctx, const esl_row *row);

/*
 * Stream the rows of CSV text from `fp` (read to its end) to `fn`.
 * @param origin  the name used in messages ("data.csv", "<stdin>")
 * @param opts    NULL for the defaults
 * @return ESL_OK; ESL_EPARSE (malformed CSV, a cell that is not a number:
 *         "data.csv:17: column 'steps': '-3' is not a positive integer");
 *         ESL_EINVAL (missing, duplicate or unknown column, a bad value);
 *         ESL_ENOTFOUND (unknown model); ESL_EIO; ESL_ENOMEM; any FLOP
 *         engine code for a size the model cannot generate; or fn's value
 */
ESL_API int esl_data_read(FILE *fp, const char *origin, const esl_data_opts *opts, esl_row_fn fn,
                  void *ctx);

/* As esl_data_read, from `len` bytes of memory. */
ESL_API int esl_data_parse(const char *text, size_t len, const char *origin, const esl_data_opts *opts,
                   esl_row_fn fn, void *ctx);

/* A dataset held in memory: rows and the strings they point to. The
 * dataset owns each distinct string once; rows with equal strings share
 * the pointer, and the strings live until esl_dataset_free. */
typedef struct esl_dataset {
    esl_row *rows;
    size_t n_rows;
    size_t cap;
    char *origin;              /* where it was read from */
    esl_convention convention; /* how the rows' FLOPs_cfg were counted */
    struct esl__strings *strings; /* private: the rows' interned strings */
} esl_dataset;

/* A new empty dataset. @return ESL_OK or ESL_ENOMEM */
ESL_API int esl_dataset_new(esl_dataset **out, const char *origin, esl_convention convention);

/* Append a copy of `row`, its strings interned in the dataset (see above).
 * @return ESL_OK or ESL_ENOMEM */
ESL_API int esl_dataset_append(esl_dataset *ds, const esl_row *row);

/* Read a whole dataset from `fp`; the codes of esl_data_read. */
ESL_API int esl_dataset_read(esl_dataset **out, FILE *fp, const char *origin, const esl_data_opts *opts);

/* Read a dataset file; adds ESL_ENOTFOUND when it does not exist, ESL_EINVAL
 * when it is a directory, ESL_EIO when it cannot be opened otherwise. */
ESL_API int esl_dataset_load(esl_dataset **out, const char *path, const esl_data_opts *opts);

/* Parse a dataset from memory; the codes of esl_data_parse. */
ESL_API int esl_dataset_parse(esl_dataset **out, const char *text, size_t len, const char *origin,
                      const esl_data_opts *opts);

/*
 * The paper's A100 measurements (data/paper_a100.csv, Tables 6-9 of
 * Iyengar et al. 2026), compiled into the library.
 */
ESL_API int esl_dataset_builtin(esl_dataset **out, esl_convention convention);

/*
 * The ML.ENERGY leaderboard v2 measurements (data/mlenergy_v2.csv: total GPU
 * energy and batch latency of eight pipelines on an A100 SXM4 40GB and an
 * H100 SXM5, batches 1 to 64),
 * compiled into the library. Models without paper-convention terms are
 * counted in the exact convention (esl_row.flops_exact).
 */
ESL_API int esl_dataset_builtin_mlenergy(esl_dataset **out, esl_convention convention);

/* The text of the built-in dataset, `*len` bytes. */
ESL_API const char *esl_dataset_builtin_text(size_t *len);

/*
 * Keep the rows whose column matches one of a comma-separated list:
 * `spec` is "COLUMN=V1,V2" with COLUMN one of model, gpu, dtype.
 * @return ESL_OK (a new dataset in *out); ESL_EINVAL for a bad spec;
 *         ESL_ENOTFOUND when no row matches a value (the detail lists the
 *         values present)
 */
ESL_API int esl_dataset_where(esl_dataset **out, const esl_dataset *ds, const char *spec);

/*
 * Count a row's FLOPs for `model` in `convention` (flops_cfg, text_flops,
 * denoise_flops, decode_flops) and the denoiser's parameters and operations.
 * A model without paper-convention terms asked for in the paper convention is
 * counted in the exact one and the row says so (flops_exact).
 * Parameters come from the denoiser components' `params`, or from their
 * layer plan where a description gives none; operations from the plan (0
 * when the model has no architecture section). Reads the row's size, steps,
 * prompts and cfg.
 * @return ESL_OK or the codes of esl_flops_count
 */
ESL_API int esl_row_set_work(esl_row *row, const esl_model *model, esl_convention convention);

/*
 * The paper's protocol made explicit (Iyengar et al. 2026, section 4.1): the
 * same configurations were run with 25, 50 and 100 prompts, but only the
 * 100-prompt energies were published. Each row becomes one row per entry of
 * `prompts`, its energy, duration and FLOPs_cfg scaled by N / its prompts
 * (prompts run one after another, so energy is linear in N).
 * @param prompts  n_prompts positive counts, e.g. {25, 50, 100}
 * @return ESL_OK (a new dataset in *out); ESL_EINVAL for an empty list or a
 *         count below 1; ESL_ENOMEM
 */
ESL_API int esl_dataset_expand_prompts(esl_dataset **out, const esl_dataset *ds, const int64_t *prompts,
                               size_t n_prompts);

/*
 * Write x as the shortest of "%.15g", "%.16g" and "%.17g" that reads back
 * (strtod) to the same double, the form esl writes numbers in CSV (the text
 * is exactly what printf prints for that precision; most numbers are
 * written without printf's exact conversion, which makes this several times
 * faster than trying the three with snprintf and strtod).
 * @return buf
 */
ESL_API const char *esl_format_double(char buf[32], double x);

/* ---- writing ---- */

/*
 * One CSV field (RFC 4180): quoted when it holds a comma, a quote or a line
 * break, quotes doubled; NULL writes an empty field. The one quoter of every
 * CSV esl writes. @return ESL_OK, or ESL_EIO when writing failed
 */
ESL_API int esl_csv_field(FILE *f, const char *s);

/* The header line of the dataset rows esl writes (esl_row_write):
 * model,gpu,dtype,cfg,height,width,steps,prompts,energy_j,batch_size,
 * energy_kind,duration_s,idle_w,source. @return ESL_OK or ESL_EIO */
ESL_API int esl_row_write_header(FILE *f);

/*
 * One row in the columns of esl_row_write_header, a line that esl_data_read
 * reads back to the same values: doubles in 17 significant digits, a column
 * the row lacks (esl_row.present) left empty, batch_size always written.
 * @return ESL_OK or ESL_EIO
 */
ESL_API int esl_row_write(FILE *f, const esl_row *row);

/* Release a dataset. NULL is a no-op. */
ESL_API void esl_dataset_free(esl_dataset *ds);

#ifdef __cplusplus
}
#endif
#endif
