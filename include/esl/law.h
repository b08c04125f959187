/*
 * law.h - energy scaling laws: fitting, reading and writing, predicting and
 * validating them.
 *
 * The "paper" form is Eq. 3/4 of Iyengar et al. 2026:
 *
 *   ln E[kWh] = ln A + alpha ln(FLOPs_cfg [GFLOPs]) + beta_dtype I_dtype
 *               + sum beta_gpu I_gpu + beta_res ln(H W / 256)
 *
 * with FLOPs_cfg = N T FLOPs_denoise 2^cfg. Categorical levels (gpu, dtype)
 * are found in the training data and coded one-hot against a baseline level;
 * a categorical column with a single level has no feature (the paper's Qwen
 * fit has no beta_dtype). The law keeps the coefficient covariance and the
 * residual variance, so every prediction carries a prediction interval, and
 * a summary of its training data, so a prediction can say when it
 * extrapolates. Energies outside the features are joules; GFLOPs and kWh
 * exist only inside the features.
 */
#ifndef ESL_LAW_H
#define ESL_LAW_H

#include "esl/api.h"

#include <stddef.h>
#include <stdint.h>

#include "esl/data.h"
#include "esl/flops.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The law's terms; the intercept ln A is always present. */
enum {
    ESL_TERM_FLOPS = 1u << 0, /* alpha ln(FLOPs_cfg / 1e9) */
    ESL_TERM_DTYPE = 1u << 1, /* beta_dtype one-hot */
    ESL_TERM_GPU = 1u << 2,   /* beta_gpu one-hot */
    ESL_TERM_RES = 1u << 3,   /* beta_res ln(H W / 256) */
    ESL_TERM_ALL = 0xfu,      /* the terms a law has unless told otherwise */
    /* by-kind form only, off unless asked for ("+attn"): */
    ESL_TERM_ATTN = 1u << 4,  /* attention FLOPs priced apart, e_attn[dtype] */
    ESL_TERM_CONV = 1u << 5,  /* convolution FLOPs priced apart, e_conv */
    ESL_TERM_BYTES = 1u << 6  /* e_byte per weight byte read per call */
};

/*
 * Parse a term switch list such as "-res" or "-res,-gpu" (a leading '+'
 * switches a term back on) applied to `*inout`.
 * @return ESL_OK or ESL_EINVAL naming the unknown term
 */
ESL_API int esl_law_terms_parse(unsigned *inout, const char *spec);

/* What a law predicts. */
typedef enum esl_law_response {
    ESL_RESPONSE_ENERGY = 0, /* dynamic energy (total rows less idle power x duration) */
    ESL_RESPONSE_TIME = 1    /* wall time (duration_s); its "energy_j" fields are seconds */
} esl_law_response;

/* How the coefficients are estimated. */
typedef enum esl_fit_method {
    ESL_FIT_OLS = 0,      /* ordinary least squares (gsl_multifit_linear) */
    ESL_FIT_WEIGHTED = 1, /* weights = prompts: var(ln E) of an N-image mean ~ 1/N */
    ESL_FIT_ROBUST = 2    /* bisquare M-estimator (gsl_multifit_robust) */
} esl_fit_method;

ESL_API const char *esl_fit_method_name(esl_fit_method method);

typedef struct esl_fit_opts {
    unsigned terms;          /* ESL_TERM_* bits; 0 means ESL_TERM_ALL */
    esl_fit_method method;
    const char *baseline_gpu;   /* NULL: "A100" when present, else the first level */
    const char *baseline_dtype; /* NULL: "fp16" when present, else the first level */
    const char *form;           /* NULL or a name of esl_law_forms() */
    size_t max_iter;            /* roofline, by-kind: iterations allowed; 0 means 500 */
    int no_between;             /* 1: skip the leave-one-model-out refits that estimate the
                                 * between-model variance (esl_law.tau2 stays 0) */
    esl_law_response response;  /* ENERGY (default); TIME fits a law of the rows' duration_s */
} esl_fit_opts;

/*
 * The forms of the law (docs/law.md):
 *   "paper"     Eq. 3/4 as printed: N inside FLOPs_cfg, so E is not linear in N.
 *   "per-image" ln(E/N) = ln A + alpha ln(T FLOPs_denoise 2^cfg / 1e9) + the same
 *               categorical and resolution terms; E = N x the per-image energy.
 *   "roofline"  energy per image from the work of each denoiser call (GEMM and
 *               attention FLOPs priced apart), the weights it reads and its kernel
 *               launches, plus text encoding and decoding,
 *               fitted by nonlinear least squares in log space (lib/law/roofline.c).
 *   "by-kind"   energy per image with every FLOP of the layer plan priced by the
 *               kind of work it is and the precision PyTorch runs it in (TF32
 *               convolutions in fp32), plus a cost per layer instance launched,
 *               and text encoding and decoding; nonlinear least squares in log
 *               space (lib/law/kinds.c). Counts in the exact convention, so any
 *               model with a layer plan can be predicted.

 * The form is named once, in a descriptor table (lib/law/forms.c); the
 * library and the tool ask the table what a form does instead of comparing
 * its name. A law file's "form" key holds the name.
 */
typedef enum esl_law_form {
    ESL_FORM_PAPER = 0,
    ESL_FORM_PER_IMAGE = 1,
    ESL_FORM_ROOFLINE = 2,
    ESL_FORM_BY_KIND = 3
} esl_law_form;

/* What a form is: one row of the descriptor table, static storage. */
typedef struct esl_law_form_info {
    esl_law_form form;
    const char *name;     /* the law file's "form": "paper", "per-image", ... */
    const char *note;     /* a few words for people: "Eq. 3/4", "energy per image" */
    const char *equation; /* the law file's "equation" key */
    int per_image;        /* 1: counts the FLOPs of one image, predicts E/N */
    int nonlinear;        /* 1: nonlinear least squares in log space; 0: linear */
    int layer_plan;       /* 1: prices the layer plan's FLOPs by kind (exact convention) */
    const char *builtin_data; /* what esl_law_builtin fits this form on, in words */
} esl_law_form_info;

/* The row of `form`; NULL for a value outside esl_law_form. */
ESL_API const esl_law_form_info *esl_law_form_get(esl_law_form form);

/*
 * The form named `name` (a law file's "form", an option's value).
 * @return ESL_OK; ESL_EINVAL for an unknown name, the detail naming it and
 *         the forms (*out is then ESL_FORM_PAPER)
 */
ESL_API int esl_law_form_parse(esl_law_form *out, const char *name);

/* A comma-separated list of the names, for help texts and messages. */
ESL_API const char *esl_law_forms(void);

/* 1 when `form` names a form of esl_law_forms(), else 0. */
ESL_API int esl_law_form_known(const char *form);

/* A categorical column: its levels (sorted, baseline first) and baseline. */
typedef struct esl_factor {
    char *column;    /* "gpu" or "dtype" */
    char *baseline;
    char **levels;
    size_t n_levels; /* 1: the term was dropped (constant in the data) */
} esl_factor;

typedef enum esl_feature_kind {
    ESL_FEATURE_CONST = 0,    /* 1: the intercept ln A */
    ESL_FEATURE_LN_FLOPS = 1, /* ln(FLOPs_cfg / 1e9) */
    ESL_FEATURE_LEVEL = 2,    /* 1 when column == level */
    ESL_FEATURE_LN_RES = 3,   /* ln(H W / 256) */
    /* roofline form: the feature's coef is the log of a positive energy */
    ESL_FEATURE_E_FLOP = 4,   /* J per denoiser FLOP of one dtype level (ln) */
    ESL_FEATURE_E_BYTE = 5,   /* J per byte of denoiser weights read per call (ln) */
    ESL_FEATURE_E_LAUNCH = 6, /* J per kernel launched per denoiser call (ln) */
    ESL_FEATURE_E_AUX = 7,    /* J per text-encoder or decoder FLOP (ln) */
    ESL_FEATURE_E_ATTN = 8,   /* J per attention-product FLOP of one dtype level (ln) */
    ESL_FEATURE_E_CONV = 9    /* by-kind: J per convolution FLOP at half precision (ln) */
} esl_feature_kind;

typedef struct esl_feature {
    esl_feature_kind kind;
    char *name;   /* "ln_A", "alpha", "dtype=fp32", "gpu=H100", "res" */
    char *column; /* for a level: "gpu" or "dtype"; else NULL */
    char *level;  /* for a level; else NULL */
} esl_feature;

/*
 * The training set's summary. Per model: its rows, the residual variance of
 * ln E on its rows (the within-model variance a prediction for that model
 * uses) and, when the law was fitted on three or more models, its bias held
 * out: the mean of ln E - ln E-hat over its rows under a law fitted on the
 * other models (NaN where that fit was impossible).
 */
typedef struct esl_law_training {
    size_t n_rows;
    char **models;
    size_t n_models;
    size_t *model_rows;     /* n_models */
    double *model_sigma2;   /* n_models */
    double *model_bias;     /* n_models; NaN when not estimated */
    double flops_min, flops_max;   /* FLOPs_cfg, plain FLOPs */
    double pixels_min, pixels_max; /* H * W */
    double steps_min, steps_max;
    double energy_min_j, energy_max_j;
} esl_law_training;

/* Goodness of fit on the training rows. */
typedef struct esl_law_metrics {
    double r2_log;     /* R^2 of ln E */
    double r2_adj_log; /* adjusted for the number of features */
    double rmse_log;   /* root mean square residual of ln E */
    double r2_lin;     /* R^2 of E in joules, predicting exp(ln E-hat) */
    double mape_pct;   /* mean absolute percentage error of E */
} esl_law_metrics;

typedef struct esl_law {
    const char *form;          /* the form's name (esl_law_form_get(form_id)->name),
                                * static storage */
    esl_convention convention; /* how FLOPs_cfg was counted */
    esl_fit_method method;
    unsigned terms;            /* ESL_TERM_* asked for */
    esl_factor factors[2];     /* [0] gpu, [1] dtype */
    char **dropped;            /* human notes on dropped terms */
    size_t n_dropped;
    size_t n_features;
    esl_feature *features;
    double *coef;     /* n_features */
    double *se;       /* standard errors, n_features */
    double *cov;      /* n_features^2, row-major */
    double sigma2;    /* residual variance of ln E */
    int64_t dof;      /* residual degrees of freedom, n_rows - n_features */
    /* Between-model variance of ln E: what a model the law has not seen adds
     * to the error. Each training model held out in turn (the law refitted on
     * the others): the mean over them of its held-out mean square error of
     * ln E less its own residual variance; 0 when fewer than three models
     * trained the law. */
    double tau2;
    size_t tau2_models; /* biases it rests on; 0 when not estimated */
    /* Between-GPU variance of ln E: what pricing a GPU the law was not trained
     * on from its specifications (esl/gpus.h) adds. Each training GPU held out
     * in turn, as for tau2; 0 with fewer than two GPUs. by-kind form only. */
    double tau2_gpu;
    size_t tau2_gpus;
    esl_law_response response;
    /* by-kind form: the law of wall time per image on the rows that carry a
     * duration (NULL when none or too few do), same form and features */
    struct esl_law *time;
    /* by-kind form: kappa of each GPU trained on (fp16 peak / fp32-conv peak) */
    char **kappa_gpus;
    double *kappa;
    size_t n_kappa;
    esl_law_training training;
    esl_law_metrics metrics;
    esl_law_form form_id;       /* the form; `form` is its name */
} esl_law;

/*
 * Fit a law on a dataset.
 * @param opts NULL for the defaults (all terms, OLS, A100 and fp16 baselines)
 * @return ESL_OK; ESL_EINVAL for fewer rows than features + 1, or an
 *         unknown --baseline level; ESL_ENUMERIC for a singular design (the
 *         detail names the term: "term 'res' is constant in the training
 *         data ...") or a GSL failure; ESL_ENOMEM
 */
ESL_API int esl_law_fit(esl_law **out, const esl_dataset *ds, const esl_fit_opts *opts);

/*
 * Fit a law on the dataset CSV read from `fp` to its end (esl_data_read's
 * rules, `data` as there): the same law as esl_dataset_read and esl_law_fit,
 * to rounding, without holding the rows. The rows are packed as they are
 * read: each distinct row but for its energy_j kept once, and each row as
 * 12 bytes (its distinct row's index and its energy), which is all a linear
 * form's fit reads. A fit that needs whole rows (the roofline and by-kind
 * forms, a robust fit, under 10^4 rows, a row the fit refuses) rebuilds
 * them first, as a dataset of its own.
 * @param origin the name used in messages ("data.csv", "<stdin>")
 * @return the codes of esl_data_read and of esl_law_fit
 */
ESL_API int esl_law_fit_read(esl_law **out, FILE *fp, const char *origin, const esl_data_opts *data,
                             const esl_fit_opts *opts);

/* As esl_law_fit_read, from a file: adds esl_dataset_load's codes for a
 * file that does not exist, a directory, a file that cannot be opened. */
ESL_API int esl_law_fit_load(esl_law **out, const char *path, const esl_data_opts *data,
                             const esl_fit_opts *opts);

/*
 * The default law: the default form (ESL_LAW_DEFAULT_FORM) fitted, at the
 * call, on the built-in paper data (all four models, A100) in the given
 * convention.
 */
ESL_API int esl_law_default(esl_law **out, esl_convention convention);

/* The form the default law has: the one with the best held-out accuracy on
 * the paper's data (docs/law.md). */
#define ESL_LAW_DEFAULT_FORM "by-kind"

/* As esl_law_default, in a given form (NULL: the default form). The
 * by-kind form counts in the exact convention whatever `convention` says,
 * and is fitted on the paper's data and ML.ENERGY's (esl_dataset_builtin_mlenergy). */
ESL_API int esl_law_builtin(esl_law **out, esl_convention convention, const char *form);

/* Release a law. NULL is a no-op. */
ESL_API void esl_law_free(esl_law *law);

/* The index of the feature named `name`, or -1. */
ESL_API int esl_law_feature(const esl_law *law, const char *name);

/*
 * The law as a JSON document (docs/law-format.md), doubles written so they
 * read back bit for bit. @param out a new string: free() it
 */
ESL_API int esl_law_to_json(char **out, const esl_law *law);

/*
 * Read a law document. Strict: unknown or missing keys, wrong types and
 * inconsistent sizes are errors naming the JSON path.
 * @return ESL_OK, ESL_EPARSE (not JSON), ESL_EINVAL (wrong document), ESL_ENOMEM
 */
ESL_API int esl_law_parse(esl_law **out, const char *json, size_t len, const char *origin);

/*
 * The law's fingerprint, "fnv1a64:" and 16 hex digits (25 bytes with the
 * NUL): FNV-1a of its law file text, for provenance.
 * @return ESL_OK, ESL_ERANGE (size too small), the codes of esl_law_to_json
 */
ESL_API int esl_law_hash(char *out, size_t size, const esl_law *law);

/* Read a law file; adds ESL_ENOTFOUND when it does not exist, ESL_EIO when it
 * cannot be read. */
ESL_API int esl_law_load(esl_law **out, const char *path);

/* Bits of esl_prediction.extrapolated. */
enum {
    ESL_EXTRAP_FLOPS = 1u << 0,  /* FLOPs_cfg outside the training range */
    ESL_EXTRAP_RES = 1u << 1,    /* H * W outside the training range */
    ESL_EXTRAP_STEPS = 1u << 2,  /* steps outside the training range */
    ESL_EXTRAP_MODEL = 1u << 3,  /* a model the law was not trained on */
    ESL_EXTRAP_LEVEL = 1u << 4,  /* an unseen level taken as the baseline (by-kind: a
                                  * precision priced as the trained one of its class) */
    ESL_EXTRAP_GPU = 1u << 5,    /* a GPU the law was not trained on, priced from the GPU
                                  * table (by-kind form) */
    ESL_EXTRAP_GPUS = 1u << 6    /* several GPUs per batch: the derived multi-GPU model */
};

/* The name of one ESL_EXTRAP_* bit: "flops", "res", "steps", "model",
 * "level", "gpu" or "gpus" (the names `esl predict` prints); NULL for
 * another value. Static storage. */
ESL_API const char *esl_extrap_name(unsigned bit);

typedef struct esl_prediction {
    double energy_j;       /* median prediction exp(ln E-hat), all N images */
    double lo_j, hi_j;     /* prediction interval at the requested level */
    double ln_kwh;         /* ln E-hat, E in kWh */
    double se_fit;         /* standard error of ln E-hat (the mean) */
    double se_pred;        /* standard error of a new ln E: fit, within-model and, for a
                            * model the law was not trained on, between-model variance */
    unsigned extrapolated; /* ESL_EXTRAP_* */
    /* With a time law (by-kind laws trained on rows with durations), else NaN: */
    double time_s, time_lo_s, time_hi_s; /* wall time of all N images, interval */
    double idle_w;         /* idle power of one GPU used for the total (row's idle_w, else
                            * the GPU table); the total counts it num_gpus times */
    double total_j, total_lo_j, total_hi_j; /* energy_j + idle_w x time_s, interval */
    unsigned time_extrapolated; /* ESL_EXTRAP_* of the time law's prediction */
} esl_prediction;

typedef struct esl_predict_opts {
    double level;          /* interval coverage; 0 means 0.95 */
    int unseen_as_baseline;/* 1: an unseen gpu/dtype level counts as the baseline */
} esl_predict_opts;

/*
 * Predict the energy of a row (its flops_cfg must be counted in the law's
 * convention; its energy is ignored).
 * @return ESL_OK; ESL_ENOTFOUND for an unseen gpu or dtype level (the detail
 *         lists the levels the law knows); ESL_ERANGE when the result is not
 *         finite; ESL_EINVAL when the law has no residual dof
 */
ESL_API int esl_law_predict(esl_prediction *out, const esl_law *law, const esl_row *row,
                    const esl_predict_opts *opts);

/* Accuracy of a law on rows with measured energy (held-out rows). NaN
 * marks a metric that is undefined for these rows (fewer than 2 rows, or
 * no spread), never a number. */
typedef struct esl_score {
    size_t n;
    double r2_log, r2_lin;
    double mae_j;    /* mean absolute error, joules */
    double mape_pct; /* mean absolute percentage error */
    double rmse_log; /* root mean square error of ln E */
    double pearson;  /* of E, measured vs predicted */
    double spearman; /* of E, measured vs predicted */
    unsigned extrapolated; /* union of the rows' ESL_EXTRAP_* */
    double coverage_pct;   /* share of rows inside their 95% prediction interval */
} esl_score;

/* Score `law` on `ds` (unseen levels taken as the baseline). */
ESL_API int esl_law_score(esl_score *out, const esl_law *law, const esl_dataset *ds);

/* One fold of a validation. */
typedef struct esl_fold {
    char *train, *test; /* what was trained and tested on, e.g. "flux-dev,sd2" */
    size_t n_train, n_test;
    esl_law *law;
    esl_score score;
} esl_fold;

typedef struct esl_validation {
    char *split;
    esl_fold *folds;
    size_t n_folds;
    unsigned long seed; /* the k-fold shuffle's seed, as given to esl_validate */
} esl_validation;

/*
 * Validate the law on held-out rows (paper section 4.2). `split` is one of
 * "kfold:K" (rows shuffled with GSL's mt19937 seeded with `seed`),
 * "leave-out:model", "leave-out:gpu" (each level held out in turn),
 * "batch-above:B" (train on batches of at most B images, test on larger
 * ones), or "train=A,B:test=C" (names of models or GPUs).
 * @return ESL_OK; ESL_EINVAL for a bad split or one that leaves a side
 *         empty; any code of esl_law_fit, prefixed with the fold
 */
ESL_API int esl_validate(esl_validation **out, const esl_dataset *ds, const char *split,
                 unsigned long seed, const esl_fit_opts *opts);

/*
 * Which rows fold `fold` (from 0) of esl_validate(ds, split, seed) holds out
 * and which it uses: is_test[i] is 1 for a held-out row of ds, in_fold[i] 1
 * for a row the fold trains or tests on (a named split "train=A:test=C"
 * leaves the other rows out; every other split uses every row). Both arrays
 * have ds->n_rows entries; in_fold and n_folds may be NULL. The k-fold
 * shuffle is esl_validate's own, so a caller learns the rows a fold used
 * without repeating it. *n_folds gets the split's number of folds.
 * @return ESL_OK; the codes of esl_validate for a bad split; ESL_EINVAL for
 *         a fold the split does not have; ESL_ENOMEM
 */
ESL_API int esl_validate_split_rows(unsigned char *is_test, unsigned char *in_fold,
                                    size_t *n_folds, const esl_dataset *ds, const char *split,
                                    unsigned long seed, size_t fold);

ESL_API void esl_validation_free(esl_validation *v);

/*
 * Which rows of `ds` fold `fold` (0-based) of `v` trained and tested on:
 * the row indices, in increasing order, written to train (v->folds[fold].n_train
 * of them) and test (n_test). `ds` must be the dataset esl_validate was
 * given; a "kfold:K" split draws the same shuffle again (v->seed). Rows a
 * named split leaves out are in neither array.
 * @param train, test  caller's arrays of at least ds->n_rows entries
 * @return ESL_OK; ESL_EINVAL for a fold that does not exist, or when the rows
 *         found do not match the fold's counts (another dataset);
 *         ESL_ENOMEM
 */
ESL_API int esl_validate_fold_rows(size_t *train, size_t *test, const esl_dataset *ds,
                                   const esl_validation *v, size_t fold);


/*
 * Which law a command uses, on which rows (lib/law/spec.c): the dataset
 * files and their filters, the fit options, and a law file. A program that
 * takes the tool's --data, --where, --law ... options fills one and gets the
 * same rows and the same law as the tool.
 */
typedef struct esl_law_spec {
    const char *data;         /* path or "-" (standard input): the first dataset file */
    const char *more_data[7]; /* further dataset files, appended in order */
    size_t n_more_data;
    const char *arch;         /* a model description file for a model the catalogue lacks */
    const char *where[8];     /* esl_dataset_where specs, applied in order */
    size_t n_where;
    esl_fit_opts fit;
    esl_convention convention; /* how the dataset's FLOPs are counted */
    int64_t expand[16];       /* esl_dataset_expand_prompts counts, when n_expand > 0 */
    size_t n_expand;
    const char *law_file;     /* a law file (esl_law_spec_open), or NULL */
} esl_law_spec;

/*
 * Set one option of `spec` from its text, as the tool's option of that name
 * reads it: "data" (a dataset file: the first sets data, later ones are
 * appended), "arch", "law", "where" (COLUMN=V,..), "baseline" (gpu=LEVEL or
 * dtype=LEVEL), "terms" (esl_law_terms_parse), "form" (a name of
 * esl_law_forms), "response" (energy or time), "expand-prompts" (N,.. from
 * 1 to 1000000) or "convention" (paper or exact). Strings are kept, not
 * copied: `value` must outlive `spec`.
 * @return ESL_OK; ESL_EINVAL for a bad value, an unknown option or a full
 *         list, the detail saying why without naming the option
 */
ESL_API int esl_law_spec_set(esl_law_spec *spec, const char *option, const char *value);

/*
 * The rows `spec` names: spec->data (standard input for "-") and every
 * further file appended (the dataset named "a.csv+b.csv"), counted in
 * spec->convention with spec->arch, then filtered (esl_law_spec_filter).
 * With no spec->data, the built-in paper data (esl_dataset_builtin), filtered.
 * @param no_energy 1: rows need no measured energy (esl_data_opts)
 * @return ESL_OK; the codes of esl_model_load, esl_dataset_load,
 *         esl_dataset_builtin and esl_law_spec_filter
 */
ESL_API int esl_law_spec_dataset(esl_dataset **out, const esl_law_spec *spec, int no_energy);

/*
 * Keep the rows of `ds` that pass every spec->where, then copy them to each
 * spec->expand count. Takes `ds` (freed, also on failure); on success *out
 * owns the result.
 * @return ESL_OK; the codes of esl_dataset_where, esl_dataset_expand_prompts
 */
ESL_API int esl_law_spec_filter(esl_dataset **out, const esl_law_spec *spec, esl_dataset *ds);

/*
 * Fit spec->fit on the rows esl_law_spec_dataset gives. One file with no
 * filter is fitted as it is read (esl_law_fit_load, esl_law_fit_read for "-").
 * @return the codes of esl_law_spec_dataset and esl_law_fit
 */
ESL_API int esl_law_spec_fit(esl_law **out, const esl_law_spec *spec);

/*
 * The law a command predicts with: the law file spec->law_file, else the
 * built-in law (esl_law_builtin, paper convention) in form spec->fit.form
 * (NULL: the default form).
 * @return the codes of esl_law_load and esl_law_builtin
 */
ESL_API int esl_law_spec_open(esl_law **out, const esl_law_spec *spec);

/*
 * Parse a comma-separated list of form names (each of esl_law_forms, none
 * twice) into out[0..*n), at most `cap` kept (the rest ignored); the names
 * are the form table's static strings.
 * @return ESL_OK; ESL_EINVAL for an unknown or repeated form, or none
 */
ESL_API int esl_law_form_list(const char **out, size_t cap, size_t *n, const char *list);

/*
 * The law for a person (lib/law/text.c), written to `out`: form, fit,
 * training data, terms with coefficients and standard errors, goodness of
 * fit, variances and, when it has one, the time law; as `esl fit` prints it.
 * With `csv`, the coefficients only: "term,coef,se" rows, doubles in %.17g.
 * @return ESL_OK; ESL_EINVAL for a NULL stream or law
 */
ESL_API int esl_law_write_text(FILE *out, const esl_law *law, int csv);

/*
 * A validation as documents (lib/law/validate_doc.c).
 *
 * The mean of each metric of v's folds over the folds that define it;
 * coverage pools the rows (the share of all held-out rows inside their
 * interval) and out->n counts them.
 */
ESL_API void esl_validation_summary(esl_score *out, const esl_validation *v);

/* The validation as JSON (split, folds with their scores and coefficients,
 * summary), laid out by esl_json_text. @param out a new string: free() it
 * @return ESL_OK, ESL_ENOMEM */
ESL_API int esl_validation_json(char **out, const esl_validation *v);

/* The folds as a table with the summary's "mean" row and a note on folds
 * predicted at the baseline level or, with `csv`, as CSV rows (no mean),
 * metrics undefined for a fold written "-". @return ESL_OK, ESL_EINVAL */
ESL_API int esl_validation_write(FILE *out, const esl_validation *v, int csv);

/* One form validated on a split and fitted on every row. */
typedef struct esl_form_validation {
    const char *form;       /* the form's name, static storage */
    esl_validation *v;      /* the form validated on the split */
    esl_score mean;         /* esl_validation_summary(v) */
    esl_score in_sample;    /* the law fitted on every row, scored on them */
} esl_form_validation;

/*
 * Validate each of forms[0..n) as esl_validate(ds, split, seed, opts with
 * that form) does, and score each form's law fitted on every row.
 * @param out n entries; free them with esl_form_validations_free
 * @return ESL_OK; the codes of esl_validate, esl_law_fit and esl_law_score,
 *         the detail prefixed "form F: " (and "in-sample: " for the full
 *         fit); nothing is left to free on failure
 */
ESL_API int esl_validate_forms(esl_form_validation *out, const esl_dataset *ds, const char *split,
                               unsigned long seed, const esl_fit_opts *opts,
                               const char *const *forms, size_t n);

/* Free the validations of out[0..n) (the array stays the caller's). */
ESL_API void esl_form_validations_free(esl_form_validation *res, size_t n);

/* Forms side by side as JSON: the split, and per form its folds, summary
 * and in-sample score. @param out a new string: free() it
 * @return ESL_OK; ESL_EINVAL for no forms; ESL_ENOMEM */
ESL_API int esl_form_validations_json(char **out, const esl_form_validation *res, size_t n);

/* Forms side by side as a table (MAPE, R2 of ln E, Spearman and coverage per
 * held-out fold, the mean and in-sample rows) or, with `csv`, every metric
 * of every fold and the in-sample fit, one row each. @return ESL_OK, ESL_EINVAL */
ESL_API int esl_form_validations_write(FILE *out, const esl_form_validation *res, size_t n,
                                       int csv);

#ifdef __cplusplus
}
#endif
#endif
