/*
 * test_figure.c - esl_validate_fold_rows and the figure builders
 * (esl/figure.h), on the built-in paper data: a fold's rows refit to the
 * fold's own law and rescore to its own score; the scaling figure's lines
 * follow a by-kind law instead of staying flat; the panels, their layout and
 * the energy axes say what they hold.
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
    assert_int_equal(esl_dataset_builtin(&ds, ESL_CONVENTION_PAPER), ESL_OK);
    return ds;
}

static esl_dataset *rows_of(const esl_dataset *ds, const size_t *idx, size_t n)
{
    esl_dataset *out = NULL;
    assert_int_equal(esl_dataset_new(&out, ds->origin, ds->convention), ESL_OK);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(esl_dataset_append(out, &ds->rows[idx[i]]), ESL_OK);
    return out;
}

/* Every fold of `split`: its training rows refit to its law's coefficients,
 * its test rows score as the fold scored, and no row is on both sides. */
static void check_split(const esl_dataset *ds, const char *split, unsigned long seed)
{
    esl_validation *v = NULL;
    size_t *train = malloc(ds->n_rows * sizeof *train), *test = malloc(ds->n_rows * sizeof *test);
    assert_non_null(train);
    assert_non_null(test);
    assert_int_equal(esl_validate(&v, ds, split, seed, NULL), ESL_OK);
    for (size_t f = 0; f < v->n_folds; f++) {
        const esl_fold *fo = &v->folds[f];
        assert_int_equal(esl_validate_fold_rows(train, test, ds, v, f), ESL_OK);
        for (size_t i = 0; i < fo->n_train; i++)
            for (size_t j = 0; j < fo->n_test; j++)
                assert_true(train[i] != test[j]);
        esl_dataset *tr = rows_of(ds, train, fo->n_train), *te = rows_of(ds, test, fo->n_test);
        esl_law *law = NULL;
        esl_score score;
        assert_int_equal(esl_law_fit(&law, tr, NULL), ESL_OK);
        assert_int_equal(law->n_features, fo->law->n_features);
        for (size_t k = 0; k < law->n_features; k++)
            assert_true(fabs(law->coef[k] - fo->law->coef[k]) <= 1e-9 * (1 + fabs(law->coef[k])));
        assert_int_equal(esl_law_score(&score, fo->law, te), ESL_OK);
        assert_true(score.r2_log == fo->score.r2_log);
        assert_true(score.mape_pct == fo->score.mape_pct);
        esl_law_free(law);
        esl_dataset_free(tr);
        esl_dataset_free(te);
    }
    assert_int_equal(esl_validate_fold_rows(train, test, ds, v, v->n_folds), ESL_EINVAL);
    esl_validation_free(v);
    free(train);
    free(test);
}

static void fold_rows_are_the_folds_rows(void **state)
{
    (void)state;
    esl_dataset *ds = paper();
    check_split(ds, "kfold:3", 7);
    check_split(ds, "kfold:2", 1);
    check_split(ds, "leave-out:model", 1);
    check_split(ds, "train=flux-dev,sd2:test=qwen-image", 1);
    esl_dataset_free(ds);
    /* batch sizes and GPUs: ML.ENERGY's rows */
    assert_int_equal(esl_dataset_builtin_mlenergy(&ds, ESL_CONVENTION_EXACT), ESL_OK);
    check_split(ds, "batch-above:8", 1);
    check_split(ds, "leave-out:gpu", 1);
    esl_dataset_free(ds);
}

static void fold_rows_refuse_another_dataset(void **state)
{
    (void)state;
    esl_dataset *ds = paper(), *fewer = NULL;
    esl_validation *v = NULL;
    size_t train[400], test[400];
    assert_int_equal(esl_validate(&v, ds, "leave-out:model", 1, NULL), ESL_OK);
    assert_int_equal(esl_dataset_where(&fewer, ds, "dtype=fp16"), ESL_OK);
    assert_int_equal(esl_validate_fold_rows(train, test, fewer, v, 0), ESL_EINVAL);
    assert_non_null(strstr(esl_error_last(), "not the dataset it was validated on"));
    esl_validation_free(v);
    esl_dataset_free(fewer);
    esl_dataset_free(ds);
}

/* The scaling figure with the built-in by-kind law: every line rises with
 * FLOPs_cfg about as the rows do (a flat line would stay at ratio 1), and
 * starts at the law's prediction for a measured row. */
static void scaling_lines_follow_any_form(void **state)
{
    (void)state;
    esl_dataset *ds = paper();
    esl_law *law = NULL;
    esl_figure *fig = NULL;
    assert_int_equal(esl_law_builtin(&law, ESL_CONVENTION_PAPER, "by-kind"), ESL_OK);
    assert_int_equal(esl_figure_scaling(&fig, ds, law, "A100"), ESL_OK);
    const esl_plot_figure *p = esl_figure_plot(fig);
    assert_int_equal(p->n_panels, 4);
    assert_int_equal(p->rows * p->cols, 4);
    size_t lines = 0;
    for (size_t k = 0; k < p->n_panels; k++) {
        const esl_plot_panel *pa = &p->panels[k];
        assert_string_equal(pa->y_label, "energy (Wh per 100-image row)");
        assert_int_equal(pa->n_bands, pa->n_lines);
        for (size_t l = 0; l < pa->n_lines; l++, lines++) {
            const esl_plot_line *li = &pa->lines[l];
            double grow_x = li->x[li->n - 1] / li->x[0], grow_y = li->y[li->n - 1] / li->y[0];
            assert_true(grow_x >= 2.0); /* 10 to 50 steps */
            assert_true(grow_y > 0.5 * grow_x && grow_y < 1.5 * grow_x);
            for (size_t i = 0; i < li->n; i++)
                assert_true(pa->bands[l].lo[i] < li->y[i] && li->y[i] < pa->bands[l].hi[i]);
        }
        /* the points are the measured rows, in Wh */
        for (size_t i = 0; i < pa->n_points; i++)
            assert_true(pa->y[i] > 0.1 && pa->y[i] < 1e4);
    }
    /* 4 sizes x 2 CFG settings x (2 precisions for three models, 1 for Qwen) */
    assert_int_equal(lines, 4 * 2 * (2 + 2 + 2 + 1));
    esl_figure_free(fig);
    esl_law_free(law);
    esl_dataset_free(ds);
}

static void diagnostic_layouts(void **state)
{
    (void)state;
    esl_dataset *ds = paper(), *three = NULL;
    esl_figure *fig = NULL;
    esl_fit_opts fit = {0};
    esl_figure_diagnostic_opts o = {.split = "leave-out:model", .seed = 1, .fit = &fit};
    /* four folds: a row each, training left and test right */
    assert_int_equal(esl_figure_diagnostic(&fig, ds, NULL, &o), ESL_OK);
    const esl_plot_figure *p = esl_figure_plot(fig);
    assert_int_equal(p->rows, 4);
    assert_int_equal(p->cols, 2);
    assert_int_equal(p->n_panels, 8);
    assert_string_equal(p->panels[1].title, "test: flux-dev");
    assert_non_null(strstr(p->panels[0].title, "train: "));
    assert_string_equal(p->panels[0].x_label, "actual (Wh per 100-image row)");
    assert_string_equal(p->panels[0].y_label, "predicted (Wh per 100-image row)");
    esl_figure_free(fig);
    /* three folds: a column each, as the paper draws them */
    assert_int_equal(esl_dataset_where(&three, ds, "model=flux-dev,sd2,qwen-image"), ESL_OK);
    assert_int_equal(esl_figure_diagnostic(&fig, three, NULL, &o), ESL_OK);
    p = esl_figure_plot(fig);
    assert_int_equal(p->rows, 2);
    assert_int_equal(p->cols, 3);
    assert_string_equal(p->panels[3].title, "test: flux-dev");
    esl_figure_free(fig);
    /* refused: both figures at once, or one law without the law */
    o.each_model = 1;
    assert_int_equal(esl_figure_diagnostic(&fig, ds, NULL, &o), ESL_EINVAL);
    assert_null(fig);
    o = (esl_figure_diagnostic_opts){0};
    assert_int_equal(esl_figure_diagnostic(&fig, ds, NULL, &o), ESL_EINVAL);
    esl_dataset_free(three);
    esl_dataset_free(ds);
}

/* Rows of different image counts: energies per image, and the axis says so. */
static void mixed_rows_are_drawn_per_image(void **state)
{
    (void)state;
    esl_dataset *ds = paper(), *mixed = NULL;
    esl_law *law = NULL;
    esl_figure *fig = NULL;
    assert_int_equal(esl_dataset_new(&mixed, ds->origin, ds->convention), ESL_OK);
    for (size_t i = 0; i < ds->n_rows; i++) {
        esl_row r = ds->rows[i];
        if (i % 2) { /* the same setting, half the images and half the energy */
            r.prompts /= 2;
            r.energy_j /= 2;
            r.flops_cfg /= 2;
        }
        assert_int_equal(esl_dataset_append(mixed, &r), ESL_OK);
    }
    assert_int_equal(esl_law_fit(&law, mixed, NULL), ESL_OK);
    esl_figure_diagnostic_opts o = {.law_name = "fitted"};
    assert_int_equal(esl_figure_diagnostic(&fig, mixed, law, &o), ESL_OK);
    const esl_plot_panel *pa = &esl_figure_plot(fig)->panels[0];
    assert_string_equal(pa->x_label, "actual (Wh per image)");
    for (size_t i = 0; i < mixed->n_rows; i++)
        assert_true(fabs(pa->x[i] - ds->rows[i].energy_j / 3600.0 / 100.0) < 1e-9 * pa->x[i]);
    esl_figure_free(fig);
    esl_law_free(law);
    esl_dataset_free(mixed);
    esl_dataset_free(ds);
}

static void grids_and_decomposition(void **state)
{
    (void)state;
    static const size_t want[][2] = {{1, 1}, {1, 2}, {1, 3}, {2, 2}, {2, 3}, {2, 3}, {3, 3}};
    for (size_t n = 1; n <= 7; n++) {
        size_t rows, cols;
        esl_figure_grid(n, &rows, &cols);
        assert_int_equal(rows, want[n - 1][0]);
        assert_int_equal(cols, want[n - 1][1]);
    }
    static const char *const names[] = {"flux-dev", "sd2", "qwen-image", "sd35-large", "sd15"};
    static const int64_t sizes[] = {512, 1024};
    esl_model *models[5];
    for (size_t m = 0; m < 5; m++)
        assert_int_equal(esl_catalog_find(&models[m], names[m]), ESL_OK);
    esl_figure_decomposition_opts o = {.steps = 20, .cfg = 1, .sizes = sizes, .n_sizes = 2,
                                       .convention = ESL_CONVENTION_EXACT};
    esl_figure *fig = NULL;
    assert_int_equal(esl_figure_decomposition(&fig, (const esl_model *const *)models, 5, &o),
                     ESL_OK);
    const esl_plot_figure *p = esl_figure_plot(fig);
    assert_int_equal(p->rows, 2);
    assert_int_equal(p->cols, 3);
    assert_string_equal(p->groups[1], "denoising (T=20, CFG)");
    /* bar values are Eq. 1's stages in GFLOP: denoising = T 2^cfg passes */
    esl_flops f;
    esl_request req = {.height = 1024, .width = 1024, .steps = 20, .prompts = 1, .cfg = 1};
    assert_int_equal(esl_flops_count(&f, models[0], &req, ESL_CONVENTION_EXACT), ESL_OK);
    assert_true(fabs(p->panels[0].bars->values[3 + 1] -
                     40.0 * (double)f.denoise_flops_per_step / 1e9) < 1e-6);
    esl_figure_free(fig);
    assert_int_equal(esl_figure_decomposition(&fig, (const esl_model *const *)models, 0, &o),
                     ESL_EINVAL);
    for (size_t m = 0; m < 5; m++)
        esl_model_free(models[m]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fold_rows_are_the_folds_rows),
        cmocka_unit_test(fold_rows_refuse_another_dataset),
        cmocka_unit_test(scaling_lines_follow_any_form),
        cmocka_unit_test(diagnostic_layouts),
        cmocka_unit_test(mixed_rows_are_drawn_per_image),
        cmocka_unit_test(grids_and_decomposition),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
