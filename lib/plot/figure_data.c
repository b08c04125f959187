/*
 * figure_data.c - the figures drawn from a dataset and a law: actual against
 * predicted energy (in-sample, per model, or the folds of a validation),
 * energy against FLOPs_cfg with the law's lines, and energy relative to a
 * model's cheapest setting (the paper's Figures 2-8).
 *
 * A validation's folds are drawn from the rows esl_validate_fold_rows says
 * each fold used, so the figure and `esl validate` can never disagree.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "plot/figure_internal.h"

#define MAX_PANELS 16

static const char *row_column(const esl_row *r, int gpu)
{
    return gpu ? r->gpu : r->model;
}

/* A new dataset of rows idx[0..n) of `ds`. */
static int subset(esl_dataset **out, const esl_dataset *ds, const size_t *idx, size_t n)
{
    int rc = esl_dataset_new(out, ds->origin, ds->convention);
    for (size_t i = 0; rc == ESL_OK && i < n; i++)
        rc = esl_dataset_append(*out, &ds->rows[idx[i]]);
    return rc;
}

/* A metric for a note: "-" when it is undefined for these rows. */
static const char *metric(esl_figure *fig, const char *fmt, double x)
{
    return isfinite(x) ? esl__figure_printf(fig, fmt, x) : "-";
}

/* One actual-vs-predicted panel: `law` predicting every row of `ds`. */
static int diag_panel(esl_figure *fig, esl_plot_panel *panel, const char *title, const esl_law *law,
                      const esl_dataset *ds, const esl__names *groups, int by_gpu,
                      esl__energy_axis ax)
{
    esl_predict_opts po = {.level = 0.95, .unseen_as_baseline = 1};
    esl_score score;
    size_t n = ds->n_rows;
    double *actual = esl__figure_alloc(fig, n, sizeof *actual);
    double *predicted = esl__figure_alloc(fig, n, sizeof *predicted);
    size_t *group = esl__figure_alloc(fig, n, sizeof *group);
    const char **notes = esl__figure_alloc(fig, 4, sizeof *notes);
    int rc;
    if (!actual || !predicted || !group || !notes)
        return ESL_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        esl_prediction pr;
        if ((rc = esl_law_predict(&pr, law, &ds->rows[i], &po)) != ESL_OK)
            return rc;
        actual[i] = esl__figure_energy_wh(ax, &ds->rows[i], ds->rows[i].energy_j);
        predicted[i] = esl__figure_energy_wh(ax, &ds->rows[i], pr.energy_j);
        group[i] = esl__names_index(groups, row_column(&ds->rows[i], by_gpu));
    }
    if ((rc = esl_law_score(&score, law, ds)) != ESL_OK)
        return rc;
    const char *r2 = metric(fig, "%.3f", score.r2_log), *mape = metric(fig, "%.1f", score.mape_pct);
    const char *rho = metric(fig, "%.3f", score.spearman);
    notes[0] = r2 ? esl__figure_printf(fig, "R\xc2\xb2(ln E) = %s", r2) : NULL;
    notes[1] = mape ? esl__figure_printf(fig, "MAPE = %s%%", mape) : NULL;
    notes[2] = rho ? esl__figure_printf(fig, "Spearman \xcf\x81 = %s", rho) : NULL;
    notes[3] = esl__figure_printf(fig, "n = %zu", n);
    const char *xl = esl__figure_energy_label(fig, ax, ds, "actual");
    const char *yl = esl__figure_energy_label(fig, ax, ds, "predicted");
    if (!notes[0] || !notes[1] || !notes[2] || !notes[3] || !xl || !yl || !title)
        return ESL_ENOMEM;
    *panel = (esl_plot_panel){.title = title, .x_label = xl, .y_label = yl, .x_log = 1,
                              .y_log = 1, .n_points = n, .x = actual, .y = predicted,
                              .group = group, .identity_line = 1, .notes = notes, .n_notes = 4};
    return ESL_OK;
}

/* The folds of a validation: a column each, training rows on top, test rows below. */
static int diag_folds(esl_figure *fig, esl_plot_panel *panels, const esl_dataset *ds,
                      const esl__names *groups, const esl_figure_diagnostic_opts *o,
                      esl__energy_axis ax)
{
    esl_validation *v = NULL;
    int rc = esl_validate(&v, ds, o->split, o->seed, o->fit);
    if (rc != ESL_OK)
        return rc;
    if (2 * v->n_folds > MAX_PANELS) {
        rc = esl__fail(ESL_EINVAL, "split '%s' has %zu folds; a figure holds at most %d", o->split,
                       v->n_folds, MAX_PANELS / 2);
        esl_validation_free(v);
        return rc;
    }
    size_t *idx[2] = {esl__figure_alloc(fig, ds->n_rows, sizeof(size_t)),
                      esl__figure_alloc(fig, ds->n_rows, sizeof(size_t))};
    rc = idx[0] && idx[1] ? ESL_OK : ESL_ENOMEM;
    for (size_t f = 0; rc == ESL_OK && f < v->n_folds; f++) {
        const esl_fold *fo = &v->folds[f];
        rc = esl_validate_fold_rows(idx[0], idx[1], ds, v, f);
        for (int side = 0; rc == ESL_OK && side < 2; side++) {
            esl_dataset *part = NULL;
            /* Up to three folds a column each, training on top (as the paper draws
             * them); more, a row each, training on the left, so the page stays readable. */
            size_t p = v->n_folds <= 3 ? (size_t)side * v->n_folds + f : 2 * f + (size_t)side;
            if ((rc = subset(&part, ds, idx[side], side ? fo->n_test : fo->n_train)) == ESL_OK)
                rc = diag_panel(fig, &panels[p],
                                esl__figure_printf(fig, "%s: %s", side ? "test" : "train",
                                                   side ? fo->test : fo->train),
                                fo->law, part, groups, o->by_gpu, ax);
            esl_dataset_free(part);
        }
    }
    if (rc == ESL_OK) {
        fig->plot.rows = v->n_folds <= 3 ? 2 : v->n_folds;
        fig->plot.cols = v->n_folds <= 3 ? v->n_folds : 2;
        fig->plot.n_panels = 2 * v->n_folds;
        fig->plot.title = esl__figure_printf(fig, "Actual vs predicted energy, held-out "
                                             "validation %s", o->split);
        rc = fig->plot.title ? ESL_OK : ESL_ENOMEM;
    }
    esl_validation_free(v);
    return rc;
}

/* One law per model, each fitted and drawn on its own rows (Figure 2). */
static int diag_each(esl_figure *fig, esl_plot_panel *panels, const esl_dataset *ds,
                     const esl__names *models, const esl__names *groups,
                     const esl_figure_diagnostic_opts *o, esl__energy_axis ax)
{
    size_t *idx = esl__figure_alloc(fig, ds->n_rows, sizeof *idx);
    int rc = idx ? ESL_OK : ESL_ENOMEM;
    if (models->n > MAX_PANELS)
        return esl__fail(ESL_EINVAL, "%zu models; a figure holds at most %d panels", models->n,
                         MAX_PANELS);
    for (size_t m = 0; rc == ESL_OK && m < models->n; m++) {
        esl_dataset *part = NULL;
        esl_law *law = NULL;
        size_t n = 0;
        for (size_t i = 0; i < ds->n_rows; i++)
            if (strcmp(ds->rows[i].model, models->v[m]) == 0)
                idx[n++] = i;
        if ((rc = subset(&part, ds, idx, n)) == ESL_OK &&
            (rc = esl_law_fit(&law, part, o->fit)) == ESL_OK)
            rc = diag_panel(fig, &panels[m], esl__figure_printf(fig, "%s (own fit)", models->v[m]),
                            law, part, groups, o->by_gpu, ax);
        esl_law_free(law);
        esl_dataset_free(part);
    }
    if (rc == ESL_OK) {
        esl_figure_grid(models->n, &fig->plot.rows, &fig->plot.cols);
        fig->plot.n_panels = models->n;
        fig->plot.title = "Actual vs predicted energy, one law per model (in-sample)";
    }
    return rc;
}

int esl_figure_diagnostic(esl_figure **out, const esl_dataset *ds, const esl_law *law,
                          const esl_figure_diagnostic_opts *opts)
{
    esl_figure_diagnostic_opts o = opts ? *opts : (esl_figure_diagnostic_opts){0};
    esl__names groups, models;
    esl_figure *fig;
    *out = NULL;
    if (o.split != NULL && o.each_model)
        return esl__fail(ESL_EINVAL, "a diagnostic figure draws a split's folds or one law per "
                         "model, not both");
    if (o.split == NULL && !o.each_model && law == NULL)
        return esl__fail(ESL_EINVAL, "a diagnostic figure of one law needs the law");
    int rc = esl__figure_new(&fig);
    if (rc != ESL_OK)
        return rc;
    esl_plot_panel *panels = esl__figure_alloc(fig, MAX_PANELS, sizeof *panels);
    if (panels == NULL || esl__names_init(&groups, fig, ds->n_rows) != ESL_OK ||
        esl__names_init(&models, fig, ds->n_rows) != ESL_OK) {
        esl_figure_free(fig);
        return ESL_ENOMEM;
    }
    for (size_t i = 0; i < ds->n_rows; i++) {
        esl__names_add(&groups, row_column(&ds->rows[i], o.by_gpu));
        esl__names_add(&models, ds->rows[i].model);
    }
    esl__energy_axis ax = esl__figure_energy_axis(ds);
    if (groups.n > ESL_PLOT_MAX_GROUPS)
        rc = esl__fail(ESL_EINVAL, "%zu %ss are more than the %d colours a figure tells apart; "
                       "narrow the rows with --where", groups.n, o.by_gpu ? "GPU" : "model",
                       ESL_PLOT_MAX_GROUPS);
    else if (o.split != NULL)
        rc = diag_folds(fig, panels, ds, &groups, &o, ax);
    else if (o.each_model)
        rc = diag_each(fig, panels, ds, &models, &groups, &o, ax);
    else {
        rc = diag_panel(fig, &panels[0], o.law_name ? o.law_name : "fitted on these rows", law, ds,
                        &groups, o.by_gpu, ax);
        fig->plot.rows = fig->plot.cols = fig->plot.n_panels = 1;
        fig->plot.title = o.law_name ? "Actual vs predicted energy"
                                     : "Actual vs predicted energy (in-sample)";
        fig->plot.width_px = 980, fig->plot.height_px = 760;
    }
    if (rc != ESL_OK) {
        esl_figure_free(fig);
        return rc;
    }
    fig->plot.panels = panels;
    fig->plot.groups = groups.v;
    fig->plot.n_groups = groups.n;
    fig->plot.legend_title = o.by_gpu ? "GPU" : "model";
    *out = fig;
    return ESL_OK;
}

/* ---- energy against FLOPs_cfg with the law's lines --------------------- */

#define LINE_POINTS 24

/* The law's line for the rows of one model, size, precision and CFG setting:
 * the measured row with the fewest steps, its steps run to the most measured
 * (FLOPs_cfg scaled with them), every other field kept, so any form of the
 * law predicts it as it would a measured row. 0 lines when the steps do not vary. */
static int law_line(esl_figure *fig, const esl_law *law, const esl_row *const *rows, size_t n,
                    size_t group, int dashed, esl__energy_axis ax, esl_plot_line *line,
                    esl_plot_band *band, size_t *n_lines)
{
    const esl_row *like = rows[0];
    int64_t most = rows[0]->steps;
    for (size_t i = 1; i < n; i++) {
        if (rows[i]->steps < like->steps)
            like = rows[i];
        most = rows[i]->steps > most ? rows[i]->steps : most;
    }
    if (most == like->steps)
        return ESL_OK;
    double *x = esl__figure_alloc(fig, LINE_POINTS, sizeof *x);
    double *y = esl__figure_alloc(fig, LINE_POINTS, sizeof *y);
    double *lo = esl__figure_alloc(fig, LINE_POINTS, sizeof *lo);
    double *hi = esl__figure_alloc(fig, LINE_POINTS, sizeof *hi);
    if (!x || !y || !lo || !hi)
        return ESL_ENOMEM;
    esl_predict_opts po = {.level = 0.95, .unseen_as_baseline = 1};
    size_t k = 0;
    for (int j = 0; j < LINE_POINTS; j++) {
        esl_row q = *like;
        esl_prediction pr;
        q.steps = like->steps + (int64_t)llround((double)(most - like->steps) * j / (LINE_POINTS - 1));
        q.flops_cfg = like->flops_cfg * (double)q.steps / (double)like->steps;
        if (k > 0 && q.flops_cfg <= x[k - 1])
            continue; /* few steps: integer steps repeat */
        int rc = esl_law_predict(&pr, law, &q, &po);
        if (rc != ESL_OK)
            return rc;
        x[k] = q.flops_cfg;
        y[k] = esl__figure_energy_wh(ax, &q, pr.energy_j);
        lo[k] = esl__figure_energy_wh(ax, &q, pr.lo_j);
        hi[k] = esl__figure_energy_wh(ax, &q, pr.hi_j);
        k++;
    }
    line[*n_lines] = (esl_plot_line){k, x, y, group, dashed};
    band[*n_lines] = (esl_plot_band){k, x, lo, hi, group};
    (*n_lines)++;
    return ESL_OK;
}

/* One model's panel: its points coloured by size, a line per size, dtype and CFG. */
static int scaling_panel(esl_figure *fig, esl_plot_panel *panel, const esl_dataset *ds,
                         const esl_law *law, const char *model, const esl__names *sizes,
                         const esl__names *dtypes, esl__energy_axis ax)
{
    size_t n = ds->n_rows, n_pts = 0, n_lines = 0, max_lines = sizes->n * dtypes->n * 2;
    double *x = esl__figure_alloc(fig, n, sizeof *x), *y = esl__figure_alloc(fig, n, sizeof *y);
    size_t *g = esl__figure_alloc(fig, n, sizeof *g);
    const esl_row **like = esl__figure_alloc(fig, n, sizeof *like);
    esl_plot_line *lines = esl__figure_alloc(fig, max_lines, sizeof *lines);
    esl_plot_band *bands = esl__figure_alloc(fig, max_lines, sizeof *bands);
    const char *base_dtype = law->factors[1].baseline;
    int rc = x && y && g && like && lines && bands ? ESL_OK : ESL_ENOMEM;
    for (size_t i = 0; rc == ESL_OK && i < n; i++)
        if (strcmp(ds->rows[i].model, model) == 0) {
            x[n_pts] = ds->rows[i].flops_cfg;
            y[n_pts] = esl__figure_energy_wh(ax, &ds->rows[i], ds->rows[i].energy_j);
            g[n_pts++] = esl__figure_size_index(sizes, &ds->rows[i]);
        }
    for (size_t s = 0; rc == ESL_OK && s < sizes->n; s++)
        for (size_t d = 0; rc == ESL_OK && d < dtypes->n; d++)
            for (int cfg = 0; rc == ESL_OK && cfg < 2; cfg++) {
                size_t m = 0;
                for (size_t i = 0; i < n; i++) {
                    const esl_row *r = &ds->rows[i];
                    if (strcmp(r->model, model) == 0 && r->cfg == cfg &&
                        strcmp(r->dtype, dtypes->v[d]) == 0 && esl__figure_size_index(sizes, r) == s)
                        like[m++] = r;
                }
                int dashed = base_dtype != NULL && strcmp(dtypes->v[d], base_dtype) != 0;
                if (m > 0)
                    rc = law_line(fig, law, like, m, s, dashed, ax, lines, bands, &n_lines);
            }
    const char *title = esl__figure_printf(fig, "%s on %s", model, ds->n_rows ? ds->rows[0].gpu : "");
    const char *yl = esl__figure_energy_label(fig, ax, ds, "energy");
    if (rc == ESL_OK && (title == NULL || yl == NULL))
        rc = ESL_ENOMEM;
    *panel = (esl_plot_panel){.title = title, .x_label = "FLOPs_cfg (FLOP)", .y_label = yl,
                              .x_log = 1, .y_log = 1, .n_points = n_pts, .x = x, .y = y, .group = g,
                              .lines = lines, .n_lines = n_lines, .bands = bands,
                              .n_bands = n_lines};
    return rc;
}

int esl_figure_scaling(esl_figure **out, const esl_dataset *all, const esl_law *law,
                       const char *gpu)
{
    esl_dataset *ds = NULL;
    esl_figure *fig = NULL;
    esl__names models, sizes, dtypes;
    *out = NULL;
    if (gpu == NULL)
        gpu = law->factors[0].baseline;
    char spec[160];
    snprintf(spec, sizeof spec, "gpu=%s", gpu ? gpu : "");
    int rc = esl_dataset_where(&ds, all, spec);
    if (rc == ESL_OK)
        rc = esl__figure_new(&fig);
    if (rc != ESL_OK) {
        esl_dataset_free(ds);
        return rc;
    }
    if (esl__names_init(&models, fig, ds->n_rows) != ESL_OK ||
        esl__names_init(&dtypes, fig, ds->n_rows) != ESL_OK)
        rc = ESL_ENOMEM;
    if (rc == ESL_OK)
        rc = esl__figure_sizes(&sizes, fig, ds, 8, "scaling figure");
    for (size_t i = 0; rc == ESL_OK && i < ds->n_rows; i++) {
        esl__names_add(&models, ds->rows[i].model);
        esl__names_add(&dtypes, ds->rows[i].dtype);
    }
    if (rc == ESL_OK && models.n > MAX_PANELS)
        rc = esl__fail(ESL_EINVAL, "scaling figure: %zu models; a figure holds at most %d panels",
                       models.n, MAX_PANELS);
    esl__energy_axis ax = esl__figure_energy_axis(ds);
    esl_plot_panel *panels = rc == ESL_OK ? esl__figure_alloc(fig, models.n, sizeof *panels) : NULL;
    if (rc == ESL_OK && panels == NULL)
        rc = ESL_ENOMEM;
    for (size_t m = 0; rc == ESL_OK && m < models.n; m++)
        rc = scaling_panel(fig, &panels[m], ds, law, models.v[m], &sizes, &dtypes, ax);
    const char **notes = rc == ESL_OK ? esl__figure_alloc(fig, 4, sizeof *notes) : NULL;
    if (rc == ESL_OK && notes == NULL)
        rc = ESL_ENOMEM;
    if (rc == ESL_OK) {
        const char *base_dtype = law->factors[1].baseline;
        int alpha = esl_law_feature(law, "alpha");
        fig->plot.title = alpha >= 0 ? esl__figure_printf(fig, "Energy against FLOPs_cfg with the "
                                                          "%s law (alpha = %.3f)", law->form,
                                                          law->coef[alpha])
                                     : esl__figure_printf(fig, "Energy against FLOPs_cfg with the "
                                                          "%s law", law->form);
        notes[0] = esl__figure_printf(fig, "lines: the %s law", law->form);
        notes[1] = "as steps run, per size and CFG";
        notes[2] = esl__figure_printf(fig, "solid: %s%s", base_dtype ? base_dtype : "",
                                      dtypes.n > 1 ? ", dashed: other" : "");
        notes[3] = "shading: 95% interval";
        if (!fig->plot.title || !notes[0] || !notes[2])
            rc = ESL_ENOMEM;
    }
    esl_dataset_free(ds);
    if (rc != ESL_OK) {
        esl_figure_free(fig);
        return rc;
    }
    esl_figure_grid(models.n, &fig->plot.rows, &fig->plot.cols);
    fig->plot.panels = panels;
    fig->plot.n_panels = models.n;
    fig->plot.groups = sizes.v;
    fig->plot.n_groups = sizes.n;
    fig->plot.legend_title = "image size";
    fig->plot.legend_notes = notes;
    fig->plot.n_legend_notes = 4;
    *out = fig;
    return ESL_OK;
}

/* ---- Figure 6: energy relative to the cheapest setting ---------------- */

static double per_image_j(const esl_row *r)
{
    return r->energy_j / (double)r->prompts;
}

/* Rows of one panel sorted by steps, so its lines run left to right. */
static int by_steps(const void *a, const void *b)
{
    const esl_row *x = *(const esl_row *const *)a, *y = *(const esl_row *const *)b;
    return (x->steps > y->steps) - (x->steps < y->steps);
}

int esl_figure_contributions(esl_figure **out, const esl_dataset *all, const char *model)
{
    static const char *const dtype_order[] = {"fp16", "bf16", "fp32"};
    esl_dataset *ds = NULL;
    esl_figure *fig = NULL;
    esl__names sizes, gpus, dtypes;
    *out = NULL;
    if (all->n_rows == 0)
        return esl__fail(ESL_EINVAL, "contributions figure: no rows");
    if (model == NULL) {
        model = all->rows[0].model;
        for (size_t i = 0; i < all->n_rows; i++)
            if (strcmp(all->rows[i].model, "flux-dev") == 0)
                model = "flux-dev";
    }
    char spec[160];
    snprintf(spec, sizeof spec, "model=%s", model);
    int rc = esl_dataset_where(&ds, all, spec);
    if (rc == ESL_OK)
        rc = esl__figure_new(&fig);
    if (rc != ESL_OK) {
        esl_dataset_free(ds);
        return rc;
    }
    size_t n = ds->n_rows, cheapest = 0, n_panels = 0;
    if (esl__names_init(&gpus, fig, n) != ESL_OK || esl__names_init(&dtypes, fig, n + 3) != ESL_OK)
        rc = ESL_ENOMEM;
    for (size_t i = 0; rc == ESL_OK && i < n; i++) {
        esl__names_add(&gpus, ds->rows[i].gpu);
        if (per_image_j(&ds->rows[i]) < per_image_j(&ds->rows[cheapest]))
            cheapest = i;
    }
    if (rc == ESL_OK)
        rc = esl__figure_sizes(&sizes, fig, ds, 8, "contributions figure");
    if (rc == ESL_OK && gpus.n > 1)
        rc = esl__fail(ESL_EINVAL, "contributions figure: the rows of %s come from %zu GPUs (%s, "
                       "%s%s); pick one with --where gpu=NAME", model, gpus.n, gpus.v[0], gpus.v[1],
                       gpus.n > 2 ? ", ..." : "");
    /* Panels: each (precision, CFG) present; x steps, one line per size. */
    esl_plot_panel *panels = esl__figure_alloc(fig, 8, sizeof *panels);
    double *x = esl__figure_alloc(fig, n, sizeof *x), *y = esl__figure_alloc(fig, n, sizeof *y);
    size_t *g = esl__figure_alloc(fig, n, sizeof *g);
    const esl_row **line_rows = esl__figure_alloc(fig, n, sizeof *line_rows);
    if (rc == ESL_OK && !(panels && x && y && g && line_rows))
        rc = ESL_ENOMEM;
    for (size_t k = 0; rc == ESL_OK && k < 3; k++)
        for (size_t i = 0; i < n; i++)
            if (strcmp(ds->rows[i].dtype, dtype_order[k]) == 0)
                esl__names_add(&dtypes, dtype_order[k]);
    for (size_t i = 0; rc == ESL_OK && i < n; i++)
        esl__names_add(&dtypes, ds->rows[i].dtype);
    double base_e = rc == ESL_OK ? per_image_j(&ds->rows[cheapest]) : 1, lo_rel = INFINITY, hi_rel = 0;
    size_t filled = 0;
    for (size_t d = 0; rc == ESL_OK && d < dtypes.n; d++)
        for (int cfg = 0; rc == ESL_OK && cfg < 2 && n_panels < 8; cfg++) {
            size_t begin = filled, n_lines = 0;
            esl_plot_line *lines = esl__figure_alloc(fig, sizes.n, sizeof *lines);
            if (lines == NULL)
                rc = ESL_ENOMEM;
            for (size_t s = 0; rc == ESL_OK && s < sizes.n; s++) {
                size_t count = 0;
                for (size_t i = 0; i < n; i++) {
                    const esl_row *r = &ds->rows[i];
                    if (strcmp(r->dtype, dtypes.v[d]) == 0 && r->cfg == cfg &&
                        esl__figure_size_index(&sizes, r) == s)
                        line_rows[count++] = r;
                }
                qsort(line_rows, count, sizeof *line_rows, by_steps);
                double *lx = esl__figure_alloc(fig, count, sizeof *lx);
                double *ly = esl__figure_alloc(fig, count, sizeof *ly);
                if (lx == NULL || ly == NULL) {
                    rc = ESL_ENOMEM;
                    break;
                }
                for (size_t j = 0; j < count; j++) {
                    double rel = per_image_j(line_rows[j]) / base_e;
                    x[filled] = lx[j] = (double)line_rows[j]->steps;
                    y[filled] = ly[j] = rel;
                    g[filled++] = s;
                    lo_rel = fmin(lo_rel, rel);
                    hi_rel = fmax(hi_rel, rel);
                }
                if (count >= 2)
                    lines[n_lines++] = (esl_plot_line){count, lx, ly, s, 0};
            }
            if (rc != ESL_OK || filled == begin)
                continue;
            const char *title = esl__figure_printf(fig, "%s, %s", dtypes.v[d],
                                                   cfg ? "with CFG" : "no CFG");
            if (title == NULL)
                rc = ESL_ENOMEM;
            panels[n_panels++] = (esl_plot_panel){
                .title = title, .x_label = "denoising steps T",
                .y_label = "energy per image (relative)", .y_log = 1,
                .n_points = filled - begin, .x = x + begin, .y = y + begin, .group = g + begin,
                .lines = lines, .n_lines = n_lines};
        }
    for (size_t p = 0; p < n_panels; p++) { /* one y range, so panels compare at a glance */
        panels[p].y_min = lo_rel / 1.25;
        panels[p].y_max = hi_rel * 1.25;
    }
    const esl_row *base = &ds->rows[cheapest];
    const char **notes = esl__figure_alloc(fig, 3, sizeof *notes);
    if (rc == ESL_OK && notes != NULL) {
        fig->plot.title = esl__figure_printf(fig, "%s on %s: energy per image relative to the "
                                             "cheapest setting", model, base->gpu);
        notes[0] = "1 = cheapest measured:";
        notes[1] = esl__figure_printf(fig, "%lldx%lld, %s, %s,", (long long)base->height,
                                      (long long)base->width, base->dtype,
                                      base->cfg ? "CFG" : "no CFG");
        notes[2] = esl__figure_printf(fig, "%lld steps", (long long)base->steps);
    }
    if (rc == ESL_OK && (notes == NULL || !fig->plot.title || !notes[1] || !notes[2]))
        rc = ESL_ENOMEM;
    esl_dataset_free(ds);
    if (rc != ESL_OK) {
        esl_figure_free(fig);
        return rc;
    }
    esl_figure_grid(n_panels, &fig->plot.rows, &fig->plot.cols);
    fig->plot.panels = panels;
    fig->plot.n_panels = n_panels;
    fig->plot.groups = sizes.v;
    fig->plot.n_groups = sizes.n;
    fig->plot.legend_title = "image size";
    fig->plot.legend_notes = notes;
    fig->plot.n_legend_notes = 3;
    *out = fig;
    return ESL_OK;
}
