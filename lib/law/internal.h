/*
 * law/internal.h - what the law module's files share and never export: the
 * one function that turns a row into the law's features (units converted
 * there, and only there), and helpers to build a law piece by piece.
 */
#ifndef ESL_LAW_INTERNAL_H
#define ESL_LAW_INTERNAL_H

#include "esl/law.h"

/* Fill x[0..n_features) for `row`; *unseen gets bit 0 for an unseen gpu
 * level, bit 1 for an unseen dtype level. */
int esl__law_features(const esl_law *law, const esl_row *row, double *x, unsigned *unseen);

/* 1 for the forms whose response is energy per image (all but "paper"). */
int esl__law_per_image(const esl_law *law);

/* The FLOPs the law's ln_flops feature reads: FLOPs_cfg, or FLOPs_cfg / N for
 * the per-image forms. */
double esl__law_flops(const esl_law *law, const esl_row *row);

/* The energy the law's response reads, joules: E, or E / N (per image). */
double esl__law_energy(const esl_law *law, const esl_row *row);

/* Roofline form (roofline.c): fit its parameters into `law` (factors
 * already built), and evaluate ln E-hat per image (kWh) with its gradient
 * in the law's coefficients (grad[n_features]). */
int esl__roofline_fit(esl_law *law, const esl_dataset *ds, const esl_fit_opts *opts);
int esl__roofline_eval(const esl_law *law, const esl_row *row, double *ln_kwh, double *grad);

/* In-sample metrics of a fitted law: yhat[i] is ln E-hat (kWh) of row i in
 * the law's response (per image for the per-image forms). */
void esl__law_measure(esl_law *law, const esl_dataset *ds, const double *yhat);

/* The training summary of a law. */
int esl__law_summarise(esl_law *law, const esl_dataset *ds);

/* ln E with E in kWh, from joules (Eq. 3's unit). */
double esl__ln_kwh(double energy_j);

/* ln(H W / 256), Eq. 3's resolution feature. */
double esl__ln_res(const esl_row *row);

int esl__law_add_feature(esl_law *law, esl_feature_kind kind, const char *name,
                         const char *column, const char *level);
int esl__law_alloc_coef(esl_law *law);

const char *esl__term_name(unsigned bit);
int esl__term_bit(unsigned *out, const char *name);

#endif
