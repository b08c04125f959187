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
