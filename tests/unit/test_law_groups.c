/*
 * test_law_groups.c - the nonlinear forms (roofline, by-kind) fit a large
 * dataset on groups of rows with the same work, each weighted by its count,
 * plus the spread of the responses about their group's mean. With every
 * configuration repeated, half of its rows e^d above and half e^-d below
 * one energy, the law must be the one of the configurations alone, and the
 * residual variance must add exactly the spread d^2 per row.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "esl/esl.h"

#define SPREAD 0.05

/* Every configuration of a small grid once (copies 0), or `copies` times
 * with energies e^SPREAD and e^-SPREAD times its own in turn. */
static esl_dataset *grid(int copies)
{
    static const char *const models[] = {"flux-dev", "sd2", "sd35-large"};
    static const char *const gpus[] = {"A100", "A4000", "A6000"};
    size_t cap = 1 << 22, len = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    len += (size_t)snprintf(text, cap, "model,gpu,dtype,cfg,height,width,steps,prompts,energy_j\n");
    for (int k = 0; k < (copies ? copies : 1); k++)
    for (int m = 0; m < 3; m++)
    for (int g = 0; g < 3; g++)
    for (int fp32 = 0; fp32 < 2; fp32++)
    for (int h = 0; h < 3; h++)
    for (int w = 0; w < 3; w++)
    for (int s = 0; s < 2; s++)
    for (int n = 0; n < 2; n++) {
        int side_h = 256 + 256 * h, side_w = 256 + 256 * w, steps = 10 + 20 * s;
        int prompts = 1 + 24 * n;
        /* some structure the laws cannot fit exactly, so residuals remain */
        double e = 1e3 * prompts * steps * (1 + fp32) * (1 + 0.3 * g) * (1 + m) *
                   pow(side_h * side_w / 262144.0, 1.1) * (1 + 0.05 * ((h + 2 * w + s) % 3));
        if (copies)
            e *= exp(k % 2 ? -SPREAD : SPREAD);
        len += (size_t)snprintf(text + len, cap - len, "%s,%s,%s,0,%d,%d,%d,%d,%.17g\n",
                                models[m], gpus[g], fp32 ? "fp32" : "fp16", side_h, side_w, steps,
                                prompts, e);
    }
    esl_dataset *ds = NULL;
    assert_int_equal(esl_dataset_parse(&ds, text, len, "grid.csv", NULL), ESL_OK);
    free(text);
    return ds;
}

static void grouped_fit_is_the_configurations_fit(void **state)
{
    (void)state;
    esl_dataset *once = grid(0), *many = grid(16);
    assert_true(once->n_rows < 10000); /* fitted a row each */
    assert_true(many->n_rows >= 10000); /* fitted on groups */
    static const char *const forms[] = {"roofline", "by-kind"};
    for (size_t f = 0; f < 2; f++) {
        esl_fit_opts o = {.form = forms[f], .no_between = 1};
        esl_law *a = NULL, *b = NULL;
        if (esl_law_fit(&a, once, &o) != ESL_OK || esl_law_fit(&b, many, &o) != ESL_OK)
            fail_msg("%s: %s", forms[f], esl_error_last());
        assert_int_equal(a->n_features, b->n_features);
        /* The terms the data determine agree to rounding, their standard
         * errors as the rows' count and variance say; a term the grid
         * leaves unidentified (its energy driven to nothing, a standard
         * error of 10^9 and more) stops wherever the solver does. */
        size_t compared = 0;
        /* (X^T X)^-1 is a 16th of the configurations', sigma^2 that of the rows */
        double se_ratio = sqrt(b->sigma2 / a->sigma2 / 16.0);
        for (size_t j = 0; j < a->n_features; j++) {
            if (!(a->se[j] < 1e3))
                continue;
            compared++;
            if (fabs(a->coef[j] - b->coef[j]) > 1e-9 * fmax(1.0, fabs(a->coef[j])) ||
                fabs(se_ratio * a->se[j] - b->se[j]) > 1e-6 * b->se[j])
                fail_msg("%s %s: %.17g (se %g) against %.17g (se %g)", forms[f],
                         a->features[j].name, a->coef[j], a->se[j], b->coef[j], b->se[j]);
        }
        assert_true(compared >= 4);
        /* chi^2 of the many rows: 16 times the configurations', plus d^2 per row */
        double chisq_once = a->sigma2 * (double)a->dof, chisq_many = b->sigma2 * (double)b->dof;
        double want = 16 * chisq_once + (double)many->n_rows * SPREAD * SPREAD;
        assert_true(fabs(chisq_many - want) <= 1e-6 * want);
        /* and the residuals of the rows themselves, predicted one by one */
        esl_predict_opts po = {.level = 0.95};
        double chisq = 0;
        for (size_t i = 0; i < many->n_rows; i++) {
            esl_prediction pr;
            assert_int_equal(esl_law_predict(&pr, b, &many->rows[i], &po), ESL_OK);
            double r = log(many->rows[i].energy_j) - log(pr.energy_j);
            chisq += r * r;
        }
        assert_true(fabs(chisq - chisq_many) <= 1e-9 * chisq_many);
        assert_int_equal(b->training.n_rows, many->n_rows);
        esl_law_free(a);
        esl_law_free(b);
    }
    esl_dataset_free(once);
    esl_dataset_free(many);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(grouped_fit_is_the_configurations_fit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
