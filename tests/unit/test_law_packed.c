/*
 * test_law_packed.c - fitting straight from a dataset file, its rows packed
 * as they are read (esl_law_fit_read): the law must be the one esl_law_fit
 * gives on the dataset read whole, for every method, response and form,
 * whether it fits from the packed rows or rebuilds them (nonlinear forms,
 * robust fits, small files, rows the fit refuses), and a refused row must be
 * named by the line it is on.
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

/*
 * A dataset as CSV text: three models, GPUs and sizes, two precisions and
 * step counts, with the optional columns a measured file has (total or
 * dynamic energy, duration, idle power, a source), blank lines and a quoted
 * source that spans two lines, so that rows are not on consecutive lines.
 * Row `bad` (0: none) has a total energy below its idle draw.
 */
static char *generated(size_t rows, size_t bad, size_t *len)
{
    static const char *const models[] = {"flux-dev", "sd2", "sd35-large"};
    static const char *const gpus[] = {"A100", "A4000", "A6000"};
    size_t cap = 256 + rows * 160;
    char *text = malloc(cap);
    assert_non_null(text);
    *len = (size_t)snprintf(text, cap, "model,gpu,dtype,cfg,height,width,steps,prompts,energy_j,"
                                       "energy_kind,duration_s,idle_w,source\n");
    uint64_t x = 4242;
    for (size_t i = 0; i < rows; i++) {
        x = x * 6364136223846793005u + 1442695040888963407u;
        unsigned v = (unsigned)(x >> 33);
        unsigned m = v % 3, g = v / 3 % 3, fp32 = v / 9 % 2, h = v / 18 % 3, w = v / 54 % 3;
        unsigned steps = 10 + 20 * (v / 162 % 2), n = 1u + 24 * (v / 324 % 2);
        unsigned total = v / 648 % 4 == 0, timed = v / 2592 % 2;
        int side_h = 256 + 256 * (int)h, side_w = 256 + 256 * (int)w;
        double noise = ((double)(v % 1000) - 499.5) / 10000.0;
        double dyn = 1e3 * n * steps * (1 + fp32) * (1 + 0.3 * g) * side_h * side_w / 262144.0 *
                     (1 + m) * exp(noise);
        double dur = timed ? 0.5 + (v % 7) : 2.0, idle = 50.0;
        double e = total ? dyn + idle * dur : dyn;
        if (i + 1 == bad)
            e = 0.5 * idle * dur, total = 1;
        if (i % 997 == 5)
            *len += (size_t)snprintf(text + *len, cap - *len, "\n");
        const char *source = i % 1999 == 7 ? "\"run,\nsplit\"" : i % 3 ? "lab" : "";
        *len += (size_t)snprintf(text + *len, cap - *len,
                                 "%s,%s,%s,%u,%d,%d,%u,%u,%.17g,%s,%.17g,%s,%s\n", models[m],
                                 gpus[g], fp32 ? "fp32" : "fp16", v / 5184 % 2, side_h, side_w,
                                 steps, n, e, total ? "total" : "dynamic", dur,
                                 i % 5 ? "50" : "", source);
    }
    return text;
}

static void close_to(double a, double b, const char *what)
{
    if (isnan(a) && isnan(b))
        return;
    if (!(fabs(a - b) <= 1e-9 * fmax(fabs(a), fabs(b)) || a == b))
        fail_msg("%s: %.17g against %.17g", what, a, b);
}

/* Every number of two laws agrees to 1e-9 relative. */
static void same_law(const esl_law *a, const esl_law *b)
{
    assert_string_equal(a->form, b->form);
    assert_int_equal(a->n_features, b->n_features);
    assert_int_equal(a->dof, b->dof);
    for (size_t j = 0; j < a->n_features; j++) {
        assert_string_equal(a->features[j].name, b->features[j].name);
        close_to(a->coef[j], b->coef[j], a->features[j].name);
        close_to(a->se[j], b->se[j], "se");
        for (size_t k = 0; k < a->n_features; k++)
            close_to(a->cov[j * a->n_features + k], b->cov[j * a->n_features + k], "cov");
    }
    close_to(a->sigma2, b->sigma2, "sigma2");
    close_to(a->tau2, b->tau2, "tau2");
    assert_int_equal(a->tau2_models, b->tau2_models);
    close_to(a->tau2_gpu, b->tau2_gpu, "tau2_gpu");
    const esl_law_metrics *ma = &a->metrics, *mb = &b->metrics;
    close_to(ma->r2_log, mb->r2_log, "r2_log");
    close_to(ma->r2_adj_log, mb->r2_adj_log, "r2_adj_log");
    close_to(ma->rmse_log, mb->rmse_log, "rmse_log");
    close_to(ma->r2_lin, mb->r2_lin, "r2_lin");
    close_to(ma->mape_pct, mb->mape_pct, "mape_pct");
    const esl_law_training *ta = &a->training, *tb = &b->training;
    assert_int_equal(ta->n_rows, tb->n_rows);
    assert_int_equal(ta->n_models, tb->n_models);
    for (size_t k = 0; k < ta->n_models; k++) {
        assert_string_equal(ta->models[k], tb->models[k]);
        assert_int_equal(ta->model_rows[k], tb->model_rows[k]);
        close_to(ta->model_sigma2[k], tb->model_sigma2[k], "model_sigma2");
        close_to(ta->model_bias[k], tb->model_bias[k], "model_bias");
    }
    close_to(ta->flops_min, tb->flops_min, "flops_min");
    close_to(ta->flops_max, tb->flops_max, "flops_max");
    close_to(ta->pixels_min, tb->pixels_min, "pixels_min");
    close_to(ta->steps_max, tb->steps_max, "steps_max");
    close_to(ta->energy_min_j, tb->energy_min_j, "energy_min_j");
    close_to(ta->energy_max_j, tb->energy_max_j, "energy_max_j");
    assert_int_equal(a->n_dropped, b->n_dropped);
    assert_int_equal(a->time != NULL, b->time != NULL);
    if (a->time != NULL)
        same_law(a->time, b->time);
}

/* Fit `text` both ways: packed from a stream, and read whole. Returns the
 * status (the same both ways, with the same message). */
static int both_ways(const char *text, size_t len, const esl_fit_opts *opts)
{
    FILE *fp = fmemopen((void *)text, len, "r");
    assert_non_null(fp);
    esl_law *packed = NULL, *whole = NULL;
    esl_dataset *ds = NULL;
    int rc = esl_law_fit_read(&packed, fp, "gen.csv", NULL, opts);
    fclose(fp);
    char message[1024];
    snprintf(message, sizeof message, "%s", rc == ESL_OK ? "" : esl_error_last());
    assert_int_equal(esl_dataset_parse(&ds, text, len, "gen.csv", NULL), ESL_OK);
    int rc_whole = esl_law_fit(&whole, ds, opts);
    assert_int_equal(rc, rc_whole);
    if (rc == ESL_OK)
        same_law(packed, whole);
    else
        assert_string_equal(message, esl_error_last());
    esl_law_free(packed);
    esl_law_free(whole);
    esl_dataset_free(ds);
    return rc;
}

static void packed_fit_is_the_fit(void **state)
{
    (void)state;
    size_t len;
    char *text = generated(15000, 0, &len);
    static const esl_fit_method methods[] = {ESL_FIT_OLS, ESL_FIT_WEIGHTED, ESL_FIT_ROBUST};
    for (size_t k = 0; k < 3; k++) {
        esl_fit_opts o = {.method = methods[k]};
        assert_int_equal(both_ways(text, len, &o), ESL_OK);
    }
    esl_fit_opts per_image = {.form = "per-image"}, time = {.response = ESL_RESPONSE_TIME};
    esl_fit_opts no_res = {.terms = ESL_TERM_ALL & ~ESL_TERM_RES};
    assert_int_equal(both_ways(text, len, &per_image), ESL_OK);
    assert_int_equal(both_ways(text, len, &time), ESL_OK);
    assert_int_equal(both_ways(text, len, &no_res), ESL_OK);
    free(text);
    /* small files and the nonlinear forms read the rows back whole */
    text = generated(600, 0, &len);
    assert_int_equal(both_ways(text, len, NULL), ESL_OK);
    esl_fit_opts bykind = {.form = "by-kind"};
    assert_int_equal(both_ways(text, len, &bykind), ESL_OK);
    free(text);
}

/* A refused row is named by its line, past blank lines and a quoted line
 * break, as when the whole dataset is read. */
static void refused_row_named_by_line(void **state)
{
    (void)state;
    size_t len;
    char *text = generated(12000, 11000, &len);
    assert_int_equal(both_ways(text, len, NULL), ESL_EINVAL);
    assert_non_null(strstr(esl_error_last(), "leaves no dynamic energy"));
    /* the line is past row 11000's place in a file of one line per row */
    const char *at = strstr(esl_error_last(), "gen.csv:");
    assert_non_null(at);
    assert_true(atol(at + strlen("gen.csv:")) > 11001);
    free(text);
}

static void file_errors(void **state)
{
    (void)state;
    esl_law *law = NULL;
    assert_int_equal(esl_law_fit_load(&law, ESL_TEST_DATA "/no-such.csv", NULL, NULL),
                     ESL_ENOTFOUND);
    assert_int_equal(esl_law_fit_load(&law, ESL_TEST_DATA, NULL, NULL), ESL_EINVAL);
    assert_non_null(strstr(esl_error_last(), "is a directory"));
    assert_null(law);
    /* a file read whole or packed: the same law (the paper's 280 rows) */
    assert_int_equal(esl_law_fit_load(&law, ESL_SOURCE_DIR "/data/paper_a100.csv", NULL, NULL),
                     ESL_OK);
    esl_dataset *ds = NULL;
    esl_law *whole = NULL;
    assert_int_equal(esl_dataset_load(&ds, ESL_SOURCE_DIR "/data/paper_a100.csv", NULL), ESL_OK);
    assert_int_equal(esl_law_fit(&whole, ds, NULL), ESL_OK);
    same_law(law, whole);
    esl_law_free(law);
    esl_law_free(whole);
    esl_dataset_free(ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(packed_fit_is_the_fit),
        cmocka_unit_test(refused_row_named_by_line),
        cmocka_unit_test(file_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
