/*
 * test_law.c - the energy law: reproducing the per-model fits of the paper's
 * A100 data (Table 1), fit options and their errors, prediction intervals,
 * validation splits, and the law file's round trip.
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

static esl_dataset *paper(void)
{
    esl_dataset *ds = NULL;
    assert_int_equal(esl_dataset_load(&ds, ESL_SOURCE_DIR "/data/paper_a100.csv", NULL), ESL_OK);
    assert_int_equal(ds->n_rows, 280);
    return ds;
}

static esl_law *fit_model(const esl_dataset *ds, const char *where, const esl_fit_opts *opts)
{
    esl_dataset *sub = NULL;
    esl_law *law = NULL;
    assert_int_equal(esl_dataset_where(&sub, ds, where), ESL_OK);
    int rc = esl_law_fit(&law, sub, opts);
    if (rc != ESL_OK)
        fail_msg("%s", esl_error_last());
    esl_dataset_free(sub);
    return law;
}

static double coef(const esl_law *law, const char *name)
{
    int j = esl_law_feature(law, name);
    assert_true(j >= 0);
    return law->coef[j];
}

/* Our fit of the 100-prompt rows of Tables 6-9, per model (issue 3); the
 * paper's Table 1 differs slightly because it also fitted 25- and 50-prompt
 * runs it does not tabulate (docs/reproduction.md). */
static void reproduction(void **state)
{
    (void)state;
    static const struct {
        const char *model;
        double ln_a, alpha, dtype, res, r2;
    } want[] = {
        {"flux-dev", -20.475, 0.981, 2.043, -0.038, 0.9998},
        {"sd35-large", -19.695, 0.950, 1.896, -0.040, 0.9978},
        {"qwen-image", -18.555, 0.985, NAN, -0.300, 0.9938},
    };
    esl_dataset *ds = paper();
    for (size_t i = 0; i < 3; i++) {
        char where[64];
        snprintf(where, sizeof where, "model=%s", want[i].model);
        esl_law *law = fit_model(ds, where, NULL);
        print_message("%s: lnA %.4f alpha %.4f res %.4f r2 %.5f\n", want[i].model,
                      coef(law, "ln_A"), coef(law, "alpha"), coef(law, "res"), law->metrics.r2_log);
        assert_true(fabs(coef(law, "ln_A") - want[i].ln_a) <= 0.01);
        assert_true(fabs(coef(law, "alpha") - want[i].alpha) <= 0.01);
        assert_true(fabs(coef(law, "res") - want[i].res) <= 0.01);
        assert_true(fabs(law->metrics.r2_log - want[i].r2) <= 0.01);
        if (isnan(want[i].dtype)) {
            assert_int_equal(esl_law_feature(law, "dtype=fp32"), -1);
            assert_int_equal(law->n_dropped, 2); /* gpu and dtype: one level each */
        } else {
            assert_true(fabs(coef(law, "dtype=fp32") - want[i].dtype) <= 0.01);
            assert_int_equal(law->n_dropped, 1); /* gpu: A100 only */
        }
        assert_int_equal(law->dof, (long)law->training.n_rows - (long)law->n_features);
        assert_true(law->se[1] > 0 && law->se[1] < 0.05);
        esl_law_free(law);
    }
    esl_dataset_free(ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reproduction),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
