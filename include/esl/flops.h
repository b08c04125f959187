/*
 * flops.h - the FLOP engine: compute of one diffusion pipeline run.
 *
 * Units: plain FLOPs, a multiply-add counts 2. Per-forward and per-image
 * counts are exact 64-bit integers (an overflow is an error, never a wrap);
 * totals over N prompts are doubles because deployment sweeps exceed 2^63.
 *
 * Eq. 1 of the paper: per image, FLOPs = text + T * denoise * (2 with CFG)
 * + decode; over N prompts, times N. The law's regressor is
 * FLOPs_cfg = N * T * denoise * 2^cfg (paper section 3.3, Eq. 3).
 */
#ifndef ESL_FLOPS_H
#define ESL_FLOPS_H

#include "esl/api.h"

#include <stdint.h>
#include <stdio.h>
#include "esl/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* How FLOPs are counted. */
typedef enum esl_convention {
    ESL_CONVENTION_PAPER = 0, /* the paper's Table 4/5 formulas as printed */
    ESL_CONVENTION_EXACT = 1  /* every operation the network performs */
} esl_convention;

/* "paper" or "exact". */
ESL_API const char *esl_convention_name(esl_convention conv);
/* Parse "paper"/"exact". @return ESL_OK or ESL_EINVAL */
ESL_API int esl_convention_parse(esl_convention *out, const char *name);

/* One generation request. */
typedef struct esl_request {
    int64_t height, width; /* pixels */
    int64_t steps;         /* denoising steps T, > 0 */
    int64_t prompts;       /* N images, generated one after another, > 0 */
    int cfg;               /* 1 with classifier-free guidance, else 0 */
    int64_t text_tokens;   /* override of the model's text tokens; 0 keeps it */
} esl_request;

/* Counts for one request. */
typedef struct esl_flops {
    esl_convention convention;
    int64_t text_flops;              /* text encoders, one prompt */
    int64_t denoise_flops_per_step;  /* one denoiser forward pass */
    int64_t decode_flops;            /* decoder, one image */
    int64_t image_flops;             /* text + T*denoise*(1+cfg) + decode */
    double total_flops;              /* image_flops * N */
    double flops_cfg;                /* N * T * denoise * 2^cfg */
} esl_flops;

/*
 * Count the FLOPs of a request.
 * @param out   filled on success
 * @return ESL_OK; ESL_EINVAL for a non-positive size, step or prompt count,
 *         or a size that is not a multiple of model->pixel_multiple;
 *         ESL_ERANGE when a count overflows 64 bits; ESL_EUNSUPPORTED when
 *         the model cannot be counted in that convention
 */
ESL_API int esl_flops_count(esl_flops *out, const esl_model *model,
                    const esl_request *req, esl_convention conv);

/* FLOPs of one component for one forward pass at the request's size. */
ESL_API int esl_flops_component(int64_t *out, const esl_model *model,
                        const esl_component *comp, const esl_request *req);

/* FLOPs of one term (count included) at the request's size. */
ESL_API int esl_flops_term(int64_t *out, const esl_model *model,
                   const esl_term *term, const esl_request *req);

/*
 * The primitives of the paper's Table 4, exactly as printed. Each returns
 * ESL_OK, ESL_EINVAL for a negative argument, or ESL_ERANGE on overflow.
 */
ESL_API int esl_flops_conv(int64_t *out, int64_t k, int64_t c_in, int64_t c_out,
                   int64_t h, int64_t w);
ESL_API int esl_flops_res(int64_t *out, int64_t k, int64_t c_in, int64_t c_out,
                  int64_t h, int64_t w);
ESL_API int esl_flops_tr(int64_t *out, int64_t d_model, int64_t d_ff, int64_t d_attn,
                 int64_t n_layer, int64_t n_ctx);
ESL_API int esl_flops_mmdit(int64_t *out, int64_t d_model, int64_t d_ff, int64_t d_attn,
                    int64_t n_layer, int64_t n_ctx);
ESL_API int esl_flops_crosstr(int64_t *out, int64_t d_q, int64_t d_k, int64_t d_ff,
                      int64_t d_attn, int64_t n_layer, int64_t n_q, int64_t n_k);
/* The VAE decoder composition of Table 4 for an H x W image (pixels); the
 * paper's decoder reads c_latent = 16 latent channels. */
ESL_API int esl_flops_decoder(int64_t *out, int64_t height, int64_t width, int64_t c_latent);

/*
 * A FLOP-count report (esl flops): one model or several, each at one size
 * or over the paper's grid, counted before anything is written, then laid
 * out as JSON, CSV or a table for a person.
 */
typedef struct esl_flops_query {
    const char *models;    /* catalogue names, comma-separated, or "all"; or NULL */
    const char *arch;      /* a description file (esl_model_load); or NULL */
    const char *diffusers; /* a diffusers folder (esl_model_from_diffusers_partial),
                            * the model named after the folder; or NULL */
    esl_request req;       /* with sweep, height, width and steps are the grid's */
    int sweep;             /* the paper's grid: 256, 512, 768, 1024 squared x 10..50 steps */
    esl_convention convention;
    int convention_given;  /* 0: a diffusers folder, or a model without paper terms,
                            * is counted in the exact convention */
    /* Called with each line the user should read (no prefix, no newline):
     * a model "all" leaves out, a component a diffusers folder leaves out,
     * a model counted exactly for want of paper terms. NULL: none. */
    void (*note)(void *ctx, const char *text);
    void *note_ctx;
} esl_flops_query;

/* One counted configuration: a model at one size. */
typedef struct esl_flops_row {
    const esl_model *model;
    esl_request req;
    esl_flops flops;
    struct esl_plan *plan; /* the exact convention's layer plan, else NULL */
    int exact_only;        /* counted exactly for want of paper-convention terms */
} esl_flops_row;

typedef struct esl_flops_report {
    esl_model **models;    /* the models counted, in the order asked */
    size_t n_models;
    esl_flops_row *rows;   /* each model at each size (the grid's sizes, then steps) */
    size_t n_rows;
    char *uncounted;       /* JSON array of the components a diffusers folder left out
                            * (esl_model_from_diffusers_partial), or NULL */
} esl_flops_report;

/*
 * Load the models of a query and count every row. Exactly one of
 * q->models, q->arch and q->diffusers is given.
 * @param out  receives the report (free with esl_flops_report_free); NULL on failure
 * @return ESL_OK; esl_catalog_find's, esl_model_load's,
 *         esl_model_from_diffusers_partial's, esl_flops_count's and
 *         esl_plan_build's codes; ESL_EINVAL for a query without one source
 */
ESL_API int esl_flops_report_new(esl_flops_report **out, const esl_flops_query *q);

/* Release a report. NULL is a no-op. */
ESL_API void esl_flops_report_free(esl_flops_report *r);

/*
 * The report as JSON text: one row an object, several an array. Each row
 * names its model, size and convention, the counts of Eq. 1 and every
 * component's FLOPs per pass, passes and FLOPs per image; counted exactly,
 * also each component's class, parameters, layers and FLOPs by layer kind.
 * @param out  receives the text (free with free())
 * @return ESL_OK, ESL_EINVAL (no report), ESL_ENOMEM
 */
ESL_API int esl_flops_report_json(char **out, const esl_flops_report *r);

/* The report as CSV: a header line, then one line per row, totals as
 * %.17g. @return ESL_OK, ESL_EINVAL, ESL_EIO (a write failed) */
ESL_API int esl_flops_report_csv(FILE *out, const esl_flops_report *r);

/* The report for a person: one row is broken down per component (FLOPs
 * per pass, passes, per image, share) with the totals of Eq. 1; several
 * are one line each. @return ESL_OK, ESL_EINVAL, ESL_EIO */
ESL_API int esl_flops_report_table(FILE *out, const esl_flops_report *r);

/* A FLOP count for a person: four significant digits and an SI prefix
 * ("66.93 TFLOP", "512 FLOP"), as every table of esl prints it.
 * @param buf    at least 32 bytes; the text is written there
 * @param flops  plain FLOPs (a multiply-add counts 2)
 * @return buf */
ESL_API const char *esl_flops_human(char buf[32], double flops);

#ifdef __cplusplus
}
#endif
#endif
