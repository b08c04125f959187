/*
 * test_law_spec.c - which law and which rows a command's options name
 * (esl_law_spec_*): options read from their text and refused with their
 * reasons, several files and filters read into one dataset, the law fitted
 * and opened; the law as text; a validation's summary, JSON and table; forms
 * validated side by side. Values are the paper data's (data/paper_a100.csv,
 * 280 rows of four models).
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
#include "test_io.h"

#define PAPER ESL_SOURCE_DIR "/data/paper_a100.csv"

static void test_spec_set(void **state)
{
    (void)state;
    esl_law_spec s = {0};
    assert_int_equal(esl_law_spec_set(&s, "data", "a.csv"), ESL_OK);
    assert_int_equal(esl_law_spec_set(&s, "data", "b.csv"), ESL_OK);
    assert_string_equal(s.data, "a.csv");
    assert_int_equal(s.n_more_data, 1);
    assert_string_equal(s.more_data[0], "b.csv");
    assert_int_equal(esl_law_spec_set(&s, "baseline", "gpu=H100"), ESL_OK);
    assert_string_equal(s.fit.baseline_gpu, "H100");
    assert_int_equal(esl_law_spec_set(&s, "baseline", "gpu="), ESL_EINVAL);
    assert_string_equal(esl_error_last(), "'gpu=' is not gpu=LEVEL or dtype=LEVEL");
    assert_int_equal(esl_law_spec_set(&s, "form", "per-image"), ESL_OK);
    assert_string_equal(s.fit.form, "per-image");
    assert_int_equal(esl_law_spec_set(&s, "form", "cubic"), ESL_EINVAL);
    assert_non_null(strstr(esl_error_last(), "unknown form 'cubic'"));
    assert_int_equal(esl_law_spec_set(&s, "response", "time"), ESL_OK);
    assert_int_equal(s.fit.response, ESL_RESPONSE_TIME);
    assert_int_equal(esl_law_spec_set(&s, "terms", "-res"), ESL_OK);
    assert_int_equal(s.fit.terms, ESL_TERM_ALL & ~ESL_TERM_RES);
    assert_int_equal(esl_law_spec_set(&s, "expand-prompts", "25,50,100"), ESL_OK);
    assert_int_equal(s.n_expand, 3);
    assert_int_equal(s.expand[2], 100);
    assert_int_equal(esl_law_spec_set(&s, "expand-prompts", "25,0"), ESL_EINVAL);
    assert_int_equal(esl_law_spec_set(&s, "convention", "exact"), ESL_OK);
    assert_int_equal(s.convention, ESL_CONVENTION_EXACT);
    for (int i = 0; i < 8; i++)
        assert_int_equal(esl_law_spec_set(&s, "where", "model=sd2"), ESL_OK);
    assert_int_equal(esl_law_spec_set(&s, "where", "model=sd2"), ESL_EINVAL);
    assert_string_equal(esl_error_last(), "at most 8 filters");
    assert_int_equal(esl_law_spec_set(&s, "colour", "red"), ESL_EINVAL);
}

static void test_form_list(void **state)
{
    (void)state;
    const char *forms[4];
    size_t n = 0;
    assert_int_equal(esl_law_form_list(forms, 4, &n, "roofline,paper"), ESL_OK);
    assert_int_equal(n, 2);
    assert_string_equal(forms[0], "roofline");
    assert_ptr_equal(forms[1], esl_law_form_get(ESL_FORM_PAPER)->name);
    assert_int_equal(esl_law_form_list(forms, 4, &n, "paper,paper"), ESL_EINVAL);
    assert_string_equal(esl_error_last(), "form 'paper' appears twice");
    assert_int_equal(esl_law_form_list(forms, 4, &n, ","), ESL_EINVAL);
    assert_non_null(strstr(esl_error_last(), "no form given"));
}

static void test_spec_dataset(void **state)
{
    (void)state;
    esl_law_spec s = {.convention = ESL_CONVENTION_PAPER};
    esl_dataset *ds = NULL;
    assert_int_equal(esl_law_spec_set(&s, "where", "model=sd2"), ESL_OK);
    assert_int_equal(esl_law_spec_dataset(&ds, &s, 0), ESL_OK); /* the built-in data */
    assert_int_equal(ds->n_rows, 80);
    assert_string_equal(ds->origin, "builtin:paper_a100.csv");
    esl_dataset_free(ds);
    s.n_where = 0;
    assert_int_equal(esl_law_spec_set(&s, "data", PAPER), ESL_OK);
    assert_int_equal(esl_law_spec_set(&s, "data", PAPER), ESL_OK);
    assert_int_equal(esl_law_spec_dataset(&ds, &s, 0), ESL_OK);
    assert_int_equal(ds->n_rows, 560);
    assert_non_null(strstr(ds->origin, "paper_a100.csv+"));
    esl_dataset_free(ds);
    assert_int_equal(esl_law_spec_set(&s, "where", "model=sd2"), ESL_OK);
    assert_int_equal(esl_law_spec_dataset(&ds, &s, 0), ESL_OK);
    assert_int_equal(ds->n_rows, 160);
    for (size_t i = 0; i < ds->n_rows; i++)
        assert_string_equal(ds->rows[i].model, "sd2");
    esl_dataset_free(ds);
    assert_int_equal(esl_law_spec_set(&s, "where", "model=nope"), ESL_OK);
    assert_int_not_equal(esl_law_spec_dataset(&ds, &s, 0), ESL_OK);
    assert_null(ds);
}

/* The spec's fit read as it streams equals a fit of the rows read first. */
static void test_spec_fit_open(void **state)
{
    (void)state;
    esl_law_spec s = {.convention = ESL_CONVENTION_PAPER, .data = PAPER};
    esl_law *streamed = NULL, *whole = NULL, *opened = NULL;
    assert_int_equal(esl_law_spec_fit(&streamed, &s), ESL_OK);
    esl_dataset *ds = NULL;
    assert_int_equal(esl_dataset_load(&ds, PAPER, NULL), ESL_OK);
    assert_int_equal(esl_law_fit(&whole, ds, NULL), ESL_OK);
    esl_dataset_free(ds);
    assert_int_equal(streamed->n_features, whole->n_features);
    for (size_t j = 0; j < whole->n_features; j++)
        assert_true(fabs(streamed->coef[j] - whole->coef[j]) < 1e-9);
    assert_int_equal(streamed->training.n_rows, 280);

    /* --law FILE opens that file. */
    char path[] = "/tmp/esl-law-spec-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    char *text = NULL;
    assert_int_equal(esl_law_to_json(&text, whole), ESL_OK);
    FILE *f = fdopen(fd, "w");
    fputs(text, f);
    fclose(f);
    free(text);
    s.law_file = path;
    assert_int_equal(esl_law_spec_open(&opened, &s), ESL_OK);
    remove(path);
    assert_int_equal(opened->n_features, whole->n_features);
    assert_true(opened->coef[1] == whole->coef[1]);
    esl_law_free(opened);
    s.law_file = ESL_SOURCE_DIR "/no/such/law.json";
    assert_int_equal(esl_law_spec_open(&opened, &s), ESL_ENOTFOUND);
    esl_law_free(streamed);
    esl_law_free(whole);
}

static void test_write_text(void **state)
{
    (void)state;
    esl_law_spec s = {.convention = ESL_CONVENTION_PAPER, .data = PAPER};
    esl_law *law = NULL;
    assert_int_equal(esl_law_spec_fit(&law, &s), ESL_OK);
    FILE *f = tmpfile();
    assert_int_equal(esl_law_write_text(f, law, 0), ESL_OK);
    char *text = captured_text(f);
    assert_true(strncmp(text, "law: paper form (", 17) == 0);
    assert_non_null(strstr(text, "trained on 280 rows\n"));
    assert_non_null(strstr(text, "\nterm                     coef      std err\n"));
    free(text);
    f = tmpfile();
    assert_int_equal(esl_law_write_text(f, law, 1), ESL_OK);
    text = captured_text(f);
    char head[64];
    snprintf(head, sizeof head, "term,coef,se\nln_A,%.17g,", law->coef[0]);
    assert_true(strncmp(text, head, strlen(head)) == 0);
    free(text);
    assert_int_equal(esl_law_write_text(NULL, law, 0), ESL_EINVAL);
    esl_law_free(law);
}

static esl_dataset *paper(void)
{
    esl_dataset *ds = NULL;
    assert_int_equal(esl_dataset_load(&ds, PAPER, NULL), ESL_OK);
    return ds;
}

/* Leave one model out on the paper data: the paper form's mean MAPE is
 * 25.00% over the four models (docs, esl validate). */
static void test_validation_docs(void **state)
{
    (void)state;
    esl_dataset *ds = paper();
    esl_validation *v = NULL;
    assert_int_equal(esl_validate(&v, ds, "leave-out:model", 1, NULL), ESL_OK);
    esl_score mean;
    esl_validation_summary(&mean, v);
    assert_int_equal(mean.n, 280);
    assert_true(fabs(mean.mape_pct - 25.00) < 0.01);
    double sum = 0;
    for (size_t i = 0; i < v->n_folds; i++)
        sum += v->folds[i].score.r2_log;
    assert_true(fabs(mean.r2_log - sum / (double)v->n_folds) < 1e-12);

    char *json = NULL;
    assert_int_equal(esl_validation_json(&json, v), ESL_OK);
    assert_true(strncmp(json, "{\n  \"split\": \"leave-out:model\",\n  \"folds\": [", 44) == 0);
    assert_non_null(strstr(json, "\"n_test\": 280"));
    free(json);

    FILE *f = tmpfile();
    assert_int_equal(esl_validation_write(f, v, 0), ESL_OK);
    char *text = captured_text(f);
    assert_true(strncmp(text, "held out         n_train n_test", 31) == 0);
    assert_non_null(strstr(text, "\nmean                        280   0.9291   0.8475"));
    free(text);
    f = tmpfile();
    assert_int_equal(esl_validation_write(f, v, 1), ESL_OK);
    text = captured_text(f);
    assert_null(strstr(text, "mean"));
    assert_non_null(strstr(text, "\nsd2,\"flux-dev,qwen-image,sd35-large\",200,80,"));
    free(text);
    esl_validation_free(v);
    esl_dataset_free(ds);
}

static void test_validate_forms(void **state)
{
    (void)state;
    esl_dataset *ds = paper();
    const char *forms[] = {"paper", "per-image"};
    esl_form_validation res[2];
    assert_int_equal(esl_validate_forms(res, ds, "leave-out:model", 1, NULL, forms, 2), ESL_OK);
    assert_string_equal(res[1].form, "per-image");
    assert_int_equal(res[0].v->n_folds, 4);
    assert_true(fabs(res[0].mean.mape_pct - 25.00) < 0.01);
    assert_true(fabs(res[0].in_sample.mape_pct - 18.84) < 0.01);
    assert_int_equal(res[0].in_sample.n, 280);

    char *json = NULL;
    assert_int_equal(esl_form_validations_json(&json, res, 2), ESL_OK);
    assert_non_null(strstr(json, "\"form\": \"per-image\""));
    assert_non_null(strstr(json, "\"in_sample\""));
    free(json);
    FILE *f = tmpfile();
    assert_int_equal(esl_form_validations_write(f, res, 2, 0), ESL_OK);
    char *text = captured_text(f);
    assert_non_null(strstr(text, "\nin-sample        |    18.84   0.9780"));
    free(text);
    f = tmpfile();
    assert_int_equal(esl_form_validations_write(f, res, 2, 1), ESL_OK);
    text = captured_text(f);
    assert_non_null(strstr(text, "\nper-image,in-sample,\"all\",280,280,"));
    free(text);
    esl_form_validations_free(res, 2);

    /* A bad split names the form it failed for; nothing is left to free. */
    assert_int_equal(esl_validate_forms(res, ds, "leave-out:color", 1, NULL, forms, 2),
                     ESL_EINVAL);
    assert_true(strncmp(esl_error_last(), "form paper: ", 12) == 0);
    assert_null(res[0].v);
    esl_dataset_free(ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_set),       cmocka_unit_test(test_form_list),
        cmocka_unit_test(test_spec_dataset),   cmocka_unit_test(test_spec_fit_open),
        cmocka_unit_test(test_write_text),     cmocka_unit_test(test_validation_docs),
        cmocka_unit_test(test_validate_forms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
