/*
 * law/internal.h - what the law module's files share and never export: the
 * one function that turns a row into the law's features (units converted
 * there, and only there), and helpers to build a law piece by piece.
 */
#ifndef ESL_LAW_INTERNAL_H
#define ESL_LAW_INTERNAL_H

#include <stdint.h>
#include <stdio.h>

#include "esl/law.h"

/* Fill x[0..n_features) for `row`; *unseen gets bit 0 for an unseen gpu
 * level, bit 1 for an unseen dtype level. */
int esl__law_features(const esl_law *law, const esl_row *row, double *x, unsigned *unseen);

/* 1 for the forms whose response is energy per image (all but "paper"). */
/* The law's row of the form table (forms.c); never NULL. */
const esl_law_form_info *esl__form(const esl_law *law);
int esl__law_per_image(const esl_law *law);

/* The FLOPs the law's ln_flops feature reads: FLOPs_cfg, or FLOPs_cfg / N for
 * the per-image forms. */
double esl__law_flops(const esl_law *law, const esl_row *row);

/* What the law's response reads for all N images of a row: dynamic energy
 * in joules (a total row less its idle power over its duration, when both
 * are known) or, for a time law, the duration in seconds. */
double esl__law_observed(const esl_law *law, const esl_row *row);

/* The law's response per row: esl__law_observed, or that / N (per image). */
double esl__law_energy(const esl_law *law, const esl_row *row);

/* Sequence-parallel GPUs: a row's GPU count (1 when absent), and the work
 * their communication adds, 1 + ESL_COMM_PER_GPU (K - 1) (docs/law.md: a
 * derived model, no measured multi-GPU data yet). */
#define ESL_COMM_PER_GPU 0.10
int64_t esl__row_gpus(const esl_row *row);
double esl__gpus_overhead(int64_t gpus);

/* A row's idle power: its idle_w, else the GPU table's, else NaN. */
double esl__row_idle_w(const esl_row *row);

/* What the linear forms read of each row of a dataset, computed once for
 * the many fits of a validation (and once for a large fit): row i's
 * response E (esl__law_energy) and ln E in kWh, its energy_j, its cell. */
typedef struct esl__law_inputs {
    double *e, *y;
    double *energy_j; /* the row's energy_j (the training summary's range) */
    /* Rows that differ only in their measured energy share one cell: the
     * same features, weight, model, size and steps. Least squares on a
     * cell's rows equals least squares on one row of the cell's features
     * weighted by their count with their mean response, so a fit rotates
     * one row per cell into its factor instead of every row. */
    uint32_t *cell;   /* per row */
    size_t *cell_row; /* per cell: its first row */
    double *ln_flops, *ln_res; /* per cell: ln(FLOPs / 1e9) as the form counts them,
                                * ln(H W / 256) */
    size_t n_cells;
    int usable;       /* every row passes the fit's checks for this form and response */
    /* Rows read packed (packed.c; NULL: the rows of a dataset): the
     * dataset holds one row per cell, row i being its cell's with its own
     * energy_j and line (esl__packed_row); `cell` and `energy_j` are the
     * packed rows' own. */
    const struct esl__packed *packed;
} esl__law_inputs;

/* A dataset file read for a fit without holding its rows (packed.c): each
 * distinct row but for energy_j and line kept once (a cell), each row as its
 * cell and energy_j, and the lines where rows do not follow one another. */
typedef struct esl__packed esl__packed;

/* Read CSV from `fp` packed; esl_data_read's codes. */
int esl__packed_read(esl__packed **out, FILE *fp, const char *origin, const esl_data_opts *opts);
void esl__packed_free(esl__packed *p);
size_t esl__packed_rows(const esl__packed *p);
/* The cells, one row each, in the order they were first read. */
const esl_dataset *esl__packed_cells(const esl__packed *p);
const uint32_t *esl__packed_cell(const esl__packed *p);  /* per row: its cell */
const double *esl__packed_energy(const esl__packed *p);  /* per row: its energy_j */
/* Row i as it was read: its cell's row with its own energy_j and line. */
void esl__packed_row(const esl__packed *p, size_t i, esl_row *out);

/* esl_law_fit on packed rows, by cells. Declines (ESL_OK with *out NULL)
 * when the fit needs the rows themselves: a nonlinear form, a robust fit,
 * fewer than the rows a fit streams from, or a row the fit refuses (whose
 * message names it by line). */
int esl__law_fit_packed(esl_law **out, const esl__packed *p, const esl_fit_opts *opts);

/* The inputs of `ds`'s rows for fits with `opts` (its form and response);
 * *out NULL for the nonlinear forms, which read the rows themselves.
 * @return ESL_OK or ESL_ENOMEM */
int esl__law_inputs_new(esl__law_inputs **out, const esl_dataset *ds, const esl_fit_opts *opts);
void esl__law_inputs_free(esl__law_inputs *in);

/* esl_law_fit on the rows of `ds` at idx[0..n), in that order (a fold's
 * training rows), reading them in place: the same law as esl_law_fit of a
 * dataset holding copies of those rows. `in` (may be NULL) is
 * esl__law_inputs_new's for ds and the same opts. */
int esl__law_fit_rows(esl_law **out, const esl_dataset *ds, const size_t *idx, size_t n,
                      const esl__law_inputs *in, const esl_fit_opts *opts);

/* esl_law_score on the rows of `ds` at idx[0..n), likewise. */
int esl__law_score_rows(esl_score *out, const esl_law *law, const esl_dataset *ds,
                        const size_t *idx, size_t n);

/* 1 when a row's energy is total and can be made dynamic (duration, idle). */
int esl__row_total(const esl_row *row);

/* ln of the factors that carry a by-kind law's energy (or, for a time law,
 * time) from its baseline GPU to `gpu`, from the GPU table: out[0] for the
 * work priced per FLOP, out[1] per kernel launch; ESL_ENOTFOUND for a GPU
 * the table lacks (the detail names the closest ones). */
int esl__gpu_transfer(double out[2], const esl_law *law, const char *gpu);

/* 1 when `gpu` is a level the law was trained on (or the gpu term is off). */
int esl__law_gpu_known(const esl_law *law, const char *gpu);

/* The nonlinear forms (roofline.c, for roofline and by-kind): fit their
 * parameters into `law` (factors already built), and evaluate ln E-hat per
 * image (kWh) with its gradient in the law's coefficients (grad[n_features]). */
int esl__roofline_fit(esl_law *law, const esl_dataset *ds, const esl_fit_opts *opts);
int esl__roofline_eval(const esl_law *law, const esl_row *row, double *ln_kwh, double *grad);

/* By-kind form (kinds.c): its features (factors already built; also keeps
 * kappa of each training GPU) and the work each feature multiplies for a row
 * (b[n_features], a gpu level's 0/1 indicator included). */
int esl__kinds_features(esl_law *law, const esl_dataset *ds);
int esl__kinds_basis(const esl_law *law, const esl_row *row, double *b);

/* kappa: dense fp16 peak / dense peak of fp32 convolutions (TF32 where the
 * GPU has it) of a GPU named as in a dataset or the GPU table; *known is 0
 * (and the default returned) for a GPU the table does not have. */
#define ESL_KAPPA_DEFAULT 2.0
double esl__kappa_of(const char *gpu, int *known);
/* kappa as the law knows it for `gpu`, else from the GPU table. */
double esl__law_kappa(const esl_law *law, const char *gpu);
int esl__law_add_kappa(esl_law *law, const char *gpu, double kappa);

/* Append a human note to law->dropped. */
int esl__law_add_note(esl_law *law, const char *note);

/* The index of `model` in law->training.models, or -1. */
int esl__law_model_index(const esl_law *law, const char *model);

/* 1 for the forms fitted by nonlinear least squares (roofline, by-kind). */
int esl__law_nls(const esl_law *law);

/* In-sample metrics of a fitted law: yhat[i] is ln E-hat (kWh) of row i in
 * the law's response (per image for the per-image forms). */
void esl__law_measure(esl_law *law, const esl_dataset *ds, const double *yhat);

/* The training summary of a law. */
int esl__law_summarise(esl_law *law, const esl_dataset *ds);

/* ln E with E in kWh, from joules (Eq. 3's unit). */
double esl__ln_kwh(double energy_j);

/* ln(H W / 256), Eq. 3's resolution feature. */
double esl__ln_res(const esl_row *row);

/* One feature of `kind` per dtype level, named stem[level] (one named stem
 * when the dtype term is off). */
int esl__law_add_dtype_features(esl_law *law, esl_feature_kind kind, const char *stem);

int esl__law_add_feature(esl_law *law, esl_feature_kind kind, const char *name,
                         const char *column, const char *level);
int esl__law_alloc_coef(esl_law *law);

const char *esl__term_name(unsigned bit);
int esl__term_bit(unsigned *out, const char *name);

#endif
