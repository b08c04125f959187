/*
 * test_figure_request.c - the figures asked for by name (esl/figure.h,
 * lib/plot/figure_request.c): a list of image sides is read as the tool
 * reads --sizes, catalogue names become the decomposition's
 * panels, a model without paper-convention terms switches the figure to the
 * exact convention and says so, a diagnostic figure's options that cannot
 * go together are refused, its law is loaded from a file or fitted, and a
 * stored run is found, or refused, by its store and id.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "esl/esl.h"

static const int64_t sides[] = {512, 1024};

static void decomposition_by_name(void **state)
{
    (void)state;
    esl_figure_decomposition_opts o = {.steps = 10, .sizes = sides, .n_sizes = 2};
    esl_figure *fig = NULL;
    char *note = NULL;
    assert_int_equal(esl_figure_decomposition_named(&fig, &note, "flux-dev,,sd2", &o, 1), ESL_OK);
    assert_null(note);
    const esl_plot_figure *p = esl_figure_plot(fig);
    assert_int_equal(p->n_panels, 2);
    assert_string_equal(p->panels[1].title, "Stable Diffusion 2");
    assert_non_null(strstr(p->title, "paper convention"));
    esl_figure_free(fig);

    /* auraflow has no paper-convention terms: every model goes exact, once said */
    assert_int_equal(esl_figure_decomposition_named(&fig, &note, "flux-dev,auraflow", &o, 1),
                     ESL_OK);
    assert_string_equal(note, "auraflow has no paper-convention terms: drawing every model in "
                              "the exact convention");
    assert_non_null(strstr(esl_figure_plot(fig)->title, "exact convention"));
    free(note);
    esl_figure_free(fig);
    /* a convention the caller chose is kept: auraflow cannot be counted in it */
    assert_int_equal(esl_figure_decomposition_named(&fig, &note, "auraflow", &o, 0),
                     ESL_EUNSUPPORTED);
    assert_null(note);
    assert_null(fig);

    /* nothing given: the paper's Figure 1, three models, four sides, T = 10 */
    assert_int_equal(esl_figure_decomposition_named(&fig, &note, NULL, NULL, 1), ESL_OK);
    p = esl_figure_plot(fig);
    assert_int_equal(p->n_panels, 3);
    assert_int_equal(p->panels[0].bars->n_categories, 4);
    assert_string_equal(p->groups[1], "denoising (T=10)");
    esl_figure_free(fig);

    assert_int_equal(esl_figure_decomposition_named(&fig, &note, "nope", &o, 1), ESL_ENOTFOUND);
    assert_int_equal(esl_figure_decomposition_named(&fig, &note, ",", &o, 1), ESL_EINVAL);
    assert_string_equal(esl_error_last(), "plot decomposition: option --model: ',' names no model");
    const char *nine = "sd2,sd2,sd2,sd2,sd2,sd2,sd2,sd2,sd2";
    assert_int_equal(esl_figure_decomposition_named(&fig, &note, nine, &o, 1), ESL_EINVAL);
    assert_non_null(strstr(esl_error_last(), "more than 8 models"));
    assert_null(fig);
}

static void sizes_by_list(void **state)
{
    (void)state;
    int64_t v[ESL_FIGURE_MAX_SIZES];
    size_t n = 0;
    assert_int_equal(esl_figure_sizes_parse(v, &n, "256,,65536,+8"), ESL_OK);
    assert_int_equal(n, 3);
    assert_int_equal(v[0], 256);
    assert_int_equal(v[1], 65536);
    assert_int_equal(v[2], 8);
    assert_int_equal(esl_figure_sizes_parse(v, &n, "512,x"), ESL_EINVAL);
    assert_string_equal(esl_error_last(), "'x' is not an integer");
    assert_int_equal(esl_figure_sizes_parse(v, &n, "-3"), ESL_EINVAL);
    assert_string_equal(esl_error_last(), "'-3' is not a positive integer");
    assert_int_equal(esl_figure_sizes_parse(v, &n, "99999999999999999999"), ESL_EINVAL);
    assert_string_equal(esl_error_last(), "'99999999999999999999' is above the maximum, 65536");
    assert_int_equal(esl_figure_sizes_parse(v, &n, "1,2,3,4,5,6,7,8,9"), ESL_EINVAL);
    assert_string_equal(esl_error_last(), "more than 8 sizes in '1,2,3,4,5,6,7,8,9'");
    assert_int_equal(esl_figure_sizes_parse(v, &n, ","), ESL_EINVAL);
    assert_string_equal(esl_error_last(), "',' names no size");
}

static void diagnostic_options_and_law(void **state)
{
    (void)state;
    esl_figure_diagnostic_opts both = {.split = "kfold:2", .each_model = 1};
    esl_figure_diagnostic_opts split = {.split = "kfold:2"}, one = {0};
    assert_int_equal(esl_figure_diagnostic_check(&both, NULL), ESL_EINVAL);
    assert_int_equal(esl_figure_diagnostic_check(&split, "law.json"), ESL_EINVAL);
    assert_string_equal(esl_error_last(), "plot diagnostic: --split fits its own laws; drop --law");
    assert_int_equal(esl_figure_diagnostic_check(&split, NULL), ESL_OK);
    assert_int_equal(esl_figure_diagnostic_check(&one, "law.json"), ESL_OK);

    esl_dataset *ds = NULL;
    esl_figure *fig = NULL;
    assert_int_equal(esl_dataset_builtin(&ds, ESL_CONVENTION_PAPER), ESL_OK);
    assert_int_equal(esl_figure_diagnostic_fit(&fig, ds, NULL, &one), ESL_OK);
    const esl_plot_figure *p = esl_figure_plot(fig);
    assert_int_equal(p->n_panels, 1);
    assert_int_equal(p->panels[0].n_points, ds->n_rows);
    assert_string_equal(p->panels[0].title, "fitted on these rows");
    esl_figure_free(fig);

    /* a law written to a file draws the same predictions, titled by the file */
    esl_law *law = NULL;
    char *json = NULL, path[] = "test_figure_request_law.json";
    assert_int_equal(esl_law_fit(&law, ds, NULL), ESL_OK);
    assert_int_equal(esl_law_to_json(&json, law), ESL_OK);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(json, f);
    fclose(f);
    esl_figure *fitted = NULL;
    assert_int_equal(esl_figure_diagnostic_fit(&fitted, ds, NULL, &one), ESL_OK);
    assert_int_equal(esl_figure_diagnostic_fit(&fig, ds, path, &one), ESL_OK);
    assert_string_equal(esl_figure_plot(fig)->panels[0].title, path);
    for (size_t i = 0; i < ds->n_rows; i++)
        assert_float_equal(esl_figure_plot(fig)->panels[0].y[i],
                            esl_figure_plot(fitted)->panels[0].y[i], 1e-9);
    esl_figure_free(fig);
    esl_figure_free(fitted);
    assert_int_equal(esl_figure_diagnostic_fit(&fig, ds, path, &split), ESL_EINVAL);
    assert_int_equal(esl_figure_diagnostic_fit(&fig, ds, "no-such-law.json", &one), ESL_ENOTFOUND);
    assert_null(fig);

    /* scaling: one panel per model of the paper's data, with the law of the file */
    assert_int_equal(esl_figure_scaling_fit(&fig, ds, path, NULL, NULL), ESL_OK);
    assert_int_equal(esl_figure_plot(fig)->n_panels, 4);
    esl_figure_free(fig);
    assert_int_equal(esl_figure_scaling_fit(&fig, ds, NULL, NULL, "H100"), ESL_ENOTFOUND);
    remove(path);
    free(json);
    esl_law_free(law);
    esl_dataset_free(ds);
}

static void trace_by_store_and_id(void **state)
{
    (void)state;
    const char *store = ESL_TEST_DATA "/store/no_samples.db";
    esl_figure *fig = NULL;
    assert_int_equal(esl_figure_trace_stored(&fig, ESL_TEST_DATA "/store/none.db", 1),
                     ESL_ENOTFOUND);
    assert_non_null(strstr(esl_error_last(), "no run store here"));
    assert_int_equal(esl_figure_trace_stored(&fig, store, 7), ESL_ENOTFOUND);
    assert_non_null(strstr(esl_error_last(), "no run 7 in"));
    assert_int_equal(esl_figure_trace_stored(&fig, store, 1), ESL_EINVAL);
    assert_non_null(strstr(esl_error_last(), "run 1 in"));
    assert_null(fig);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(decomposition_by_name),
        cmocka_unit_test(sizes_by_list),
        cmocka_unit_test(diagnostic_options_and_law),
        cmocka_unit_test(trace_by_store_and_id),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
