/*
 * sections.c - the computed sections of the report (esl/report.h): the
 * validations (the law's form beside the paper's, under the paper's three
 * strategies), the figures built by esl_figure_* and embedded as base64
 * PNG, and the compute per image of Figure 1; with the HTML escaping and
 * energy units both halves use. report.c writes the rest of the page.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report/internal.h"

void esl__report_levels_add(report_levels *l, const char *v)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i], v) == 0)
            return;
    if (l->n < sizeof l->v / sizeof l->v[0])
        l->v[l->n++] = v;
}

void esl__report_html(FILE *out, const char *text)
{
    for (const char *p = text; *p != '\0'; p++) {
        switch (*p) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        default: fputc(*p, out);
        }
    }
}

void esl__report_htmlf(FILE *out, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    esl__report_html(out, buf);
}

void esl__report_cell(FILE *out, const char *fmt, double x)
{
    fputs("<td>", out);
    if (isfinite(x))
        esl__report_htmlf(out, fmt, x);
    else
        fputs("-", out);
    fputs("</td>", out);
}

/* 1 when every row holds the same number of images. */
static int uniform_prompts(const esl_dataset *ds)
{
    for (size_t i = 1; i < ds->n_rows; i++)
        if (ds->rows[i].prompts != ds->rows[0].prompts)
            return 0;
    return 1;
}

const char *esl_report_energy_unit(char *buf, size_t size, const esl_dataset *ds)
{
    if (buf == NULL || size == 0)
        return "";
    if (ds == NULL) {
        snprintf(buf, size, "Wh per image");
        return buf;
    }
    long long n = ds->n_rows > 0 ? (long long)ds->rows[0].prompts : 1;
    if (!uniform_prompts(ds) || n == 1)
        snprintf(buf, size, "Wh per image");
    else
        snprintf(buf, size, "Wh per %lld-image row", n);
    return buf;
}

double esl_report_energy_wh(const esl_dataset *ds, size_t i)
{
    if (ds == NULL || i >= ds->n_rows)
        return NAN;
    const esl_row *r = &ds->rows[i];
    double wh = r->energy_j / 3600.0;
    return uniform_prompts(ds) || r->prompts <= 0 ? wh : wh / (double)r->prompts;
}

/* ---- validation --------------------------------------------------------- */

/* The forms validated: the law's, and the paper's beside it. */
static size_t forms(const report_ctx *r, const char *out[2])
{
    out[0] = r->law->form;
    out[1] = "paper";
    return r->law->form_id == ESL_FORM_PAPER ? 1 : 2;
}

static void validation_header(const report_ctx *r)
{
    const char *f[2];
    size_t n = forms(r, f);
    fputs("<table><tr><th rowspan=\"2\">trained on</th><th rowspan=\"2\">tested on</th>"
          "<th rowspan=\"2\">rows</th>", r->out);
    for (size_t k = 0; k < n; k++) {
        fputs("<th colspan=\"3\">", r->out);
        esl__report_htmlf(r->out, "%s form%s", f[k], k == 0 && n > 1 ? " (the law's)" : "");
        fputs("</th>", r->out);
    }
    fputs("</tr>\n<tr>", r->out);
    for (size_t k = 0; k < n; k++)
        fputs("<th>R\xc2\xb2 (ln E)</th><th>MAPE</th><th>Spearman</th>", r->out);
    fputs("</tr>\n", r->out);
}

/* One split of `ds` validated in each form, a row per fold. */
static void validation_rows(const report_ctx *r, const esl_dataset *ds, const char *split,
                            const char *prefix)
{
    const char *f[2];
    size_t n = forms(r, f);
    esl_validation *v[2] = {NULL, NULL};
    char failed[2][256] = {"", ""};
    for (size_t k = 0; k < n; k++) {
        esl_fit_opts fit = r->fit;
        fit.form = f[k];
        if (esl_validate(&v[k], ds, split, 1, &fit) != ESL_OK)
            snprintf(failed[k], sizeof failed[k], "%s", esl_error_last());
    }
    const esl_validation *any = v[0] ? v[0] : v[1];
    if (any == NULL) { /* a validation the data cannot support is reported, not fatal */
        fputs("<tr><td colspan=\"9\">", r->out);
        esl__report_htmlf(r->out, "%s%s%s: %s", prefix ? prefix : "", prefix ? ": " : "", split,
                     failed[0]);
        fputs("</td></tr>\n", r->out);
    }
    for (size_t i = 0; any != NULL && i < any->n_folds; i++) {
        const esl_fold *fo = &any->folds[i];
        fputs("<tr><td>", r->out);
        if (prefix != NULL)
            esl__report_htmlf(r->out, "%s: ", prefix);
        esl__report_html(r->out, fo->train);
        fputs("</td><td>", r->out);
        esl__report_html(r->out, fo->test);
        fprintf(r->out, "</td><td>%zu / %zu</td>", fo->n_train, fo->n_test);
        for (size_t k = 0; k < n; k++) {
            if (v[k] == NULL) {
                fputs("<td colspan=\"3\">", r->out);
                esl__report_html(r->out, failed[k]);
                fputs("</td>", r->out);
                continue;
            }
            const esl_score *s = &v[k]->folds[i].score;
            esl__report_cell(r->out, "%.4f", s->r2_log);
            esl__report_cell(r->out, "%.2f%%", s->mape_pct);
            esl__report_cell(r->out, "%.4f", s->spearman);
        }
        fputs("</tr>\n", r->out);
    }
    esl_validation_free(v[0]);
    esl_validation_free(v[1]);
}

void esl__report_validation(const report_ctx *r)
{
    const char *f[2];
    size_t n = forms(r, f);
    fputs("<h2>Validation</h2>\n<p>", r->out);
    esl__report_htmlf(r->out, "The paper's three strategies (section 4.2): two-fold cross-validation "
                         "within each model, each model held out in turn, and each GPU held out "
                         "in turn. Each fold fits the law's form (%s)%s on its training rows "
                         "and scores it on the test rows. Rows are training / test rows.",
                 f[0], n > 1 ? " and, beside it, the paper's form (Eq. 3/4)" : "");
    fputs("</p>\n<h3>2-fold within each model (seed 1)</h3>\n", r->out);
    validation_header(r);
    for (size_t m = 0; m < r->models.n; m++) {
        esl_dataset *sub = NULL;
        char spec[160];
        snprintf(spec, sizeof spec, "model=%s", r->models.v[m]);
        if (esl_dataset_where(&sub, r->ds, spec) == ESL_OK)
            validation_rows(r, sub, "kfold:2", r->models.v[m]);
        esl_dataset_free(sub);
    }
    fputs("</table>\n<h3>Leave one model out</h3>\n", r->out);
    if (r->models.n < 2) {
        fputs("<p>One model in the data: nothing to hold out.</p>\n", r->out);
    } else {
        validation_header(r);
        validation_rows(r, r->ds, "leave-out:model", NULL);
        fputs("</table>\n", r->out);
    }
    fputs("<h3>Leave one GPU out</h3>\n", r->out);
    if (r->gpus.n < 2) {
        fputs("<p>One GPU in the data: nothing to hold out.</p>\n", r->out);
    } else {
        validation_header(r);
        validation_rows(r, r->ds, "leave-out:gpu", NULL);
        fputs("</table>\n", r->out);
    }
}

/* ---- figures ------------------------------------------------------------ */

/* Copy a file into the page as base64 (RFC 4648). @return 0 or -1 */
static int base64_file(FILE *out, const char *path)
{
    static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    FILE *fp = fopen(path, "rb");
    unsigned char in[3];
    size_t n;
    if (fp == NULL)
        return -1;
    while ((n = fread(in, 1, 3, fp)) > 0) {
        unsigned v = (unsigned)in[0] << 16 | (n > 1 ? (unsigned)in[1] << 8 : 0) | (n > 2 ? in[2] : 0);
        fputc(digits[v >> 18 & 63], out);
        fputc(digits[v >> 12 & 63], out);
        fputc(n > 1 ? digits[v >> 6 & 63] : '=', out);
        fputc(n > 2 ? digits[v & 63] : '=', out);
        if (n < 3)
            break;
    }
    int bad = ferror(fp);
    fclose(fp);
    return bad ? -1 : 0;
}

/* A figure built with status `built`, drawn as PNG and embedded with its caption. */
static int embed(const report_ctx *r, int built, esl_figure *fig, const char *name,
                 const char *alt, const char *caption)
{
    char png[4096];
    snprintf(png, sizeof png, "%s/%s.png", r->dir, name);
    int rc = built == ESL_OK ? esl_figure_render(fig, png) : built;
    esl_figure_free(fig);
    if (rc != ESL_OK)
        return rc;
    fputs("<figure><img alt=\"", r->out);
    esl__report_html(r->out, alt);
    fputs("\" src=\"data:image/png;base64,", r->out);
    if (base64_file(r->out, png) != 0) {
        int err = errno;
        unlink(png);
        return esl__fail(ESL_EIO, "report: cannot read the figure '%s': %s", png, strerror(err));
    }
    fputs("\"><figcaption>", r->out);
    esl__report_html(r->out, caption);
    fputs("</figcaption></figure>\n", r->out);
    unlink(png);
    return 0;
}

int esl__report_figures(const report_ctx *r)
{
    esl_figure *fig = NULL;
    char caption[512], unit[64];
    int rc, built;
    esl_report_energy_unit(unit, sizeof unit, r->ds);
    fputs("<h2>Figures</h2>\n", r->out);

    esl_figure_diagnostic_opts one = {.law_name = r->law_name, .fit = &r->fit};
    built = esl_figure_diagnostic(&fig, r->ds, r->law, &one);
    snprintf(caption, sizeof caption, "The law (%s) predicting every row: actual against "
             "predicted energy in %s (esl plot diagnostic).", r->law_name, unit);
    if ((rc = embed(r, built, fig, "diagnostic", "actual vs predicted energy", caption)) != 0)
        return rc;
    if (r->models.n > 1 && r->models.n <= 16) {
        esl_figure_diagnostic_opts each = {.each_model = 1, .fit = &r->fit};
        built = esl_figure_diagnostic(&fig, r->ds, NULL, &each);
        snprintf(caption, sizeof caption, "Each model fitted on its own rows in the %s form, "
                 "as in the paper's Figure 2 (esl plot diagnostic --each model).", r->fit.form);
        if ((rc = embed(r, built, fig, "each", "one law per model", caption)) != 0)
            return rc;
    }
    if (r->models.n > 1 && r->models.n <= 8) {
        esl_figure_diagnostic_opts split = {.split = "leave-out:model", .seed = 1, .fit = &r->fit};
        built = esl_figure_diagnostic(&fig, r->ds, NULL, &split);
        snprintf(caption, sizeof caption, "Each model held out in turn, the %s form fitted on "
                 "the others: training rows on top, the held-out model below, as in the paper's "
                 "Figure 4 (esl plot diagnostic --split leave-out:model).", r->fit.form);
        if ((rc = embed(r, built, fig, "leave-out", "leave one model out", caption)) != 0)
            return rc;
    }
    /* The law's baseline GPU when the data has it, else the data's first. */
    const char *gpu = r->gpus.n > 0 ? r->gpus.v[0] : NULL;
    for (size_t g = 0; g < r->gpus.n; g++)
        if (r->law->factors[0].baseline && strcmp(r->gpus.v[g], r->law->factors[0].baseline) == 0)
            gpu = r->gpus.v[g];
    built = esl_figure_scaling(&fig, r->ds, r->law, gpu);
    snprintf(caption, sizeof caption, "Energy (%s) against FLOPs_cfg on %s, with the %s law's "
             "prediction and 95%% prediction interval as the steps run (esl plot scaling).", unit,
             gpu ? gpu : "", r->law->form);
    if ((rc = embed(r, built, fig, "scaling", "energy against FLOPs_cfg", caption)) != 0)
        return rc;
    esl_dataset *one_gpu = NULL;
    char spec[160];
    snprintf(spec, sizeof spec, "gpu=%s", r->gpus.n > 0 ? r->gpus.v[0] : "");
    if ((built = esl_dataset_where(&one_gpu, r->ds, spec)) != ESL_OK)
        return built;
    built = esl_figure_contributions(&fig, one_gpu, NULL);
    rc = embed(r, built, fig, "contributions", "energy relative to the cheapest setting",
               "Energy per image relative to the cheapest measured setting as resolution, steps, "
               "precision and CFG change, as in the paper's Figure 6 (esl plot contributions).");
    esl_dataset_free(one_gpu);
    return rc;
}

/* The compute section: Figure 1 and the per-stage counts it is drawn from. */
int esl__report_compute(const report_ctx *r)
{
    static const int64_t sizes[] = {256, 512, 768, 1024};
    static const char *const names[] = {"flux-dev", "qwen-image", "sd35-large"};
    esl_model *models[3] = {NULL, NULL, NULL};
    int status = ESL_OK;

    fputs("<h2>Compute per image</h2>\n<p>FLOPs of one image by stage (Eq. 1 of Iyengar et al. "
          "2026, paper convention), T = 10 steps without CFG, as in the paper's Figure 1.</p>\n"
          "<table><tr><th>model</th><th>size</th><th>text (GFLOP)</th>"
          "<th>denoise, 10 steps (GFLOP)</th><th>decode (GFLOP)</th><th>denoise share</th></tr>\n",
          r->out);
    for (size_t m = 0; m < 3 && status == ESL_OK; m++) {
        if ((status = esl_catalog_find(&models[m], names[m])) != ESL_OK)
            break;
        for (size_t s = 0; s < 4 && status == ESL_OK; s++) {
            esl_request req = {.height = sizes[s], .width = sizes[s], .steps = 10, .prompts = 1};
            esl_flops f;
            if ((status = esl_flops_count(&f, models[m], &req, ESL_CONVENTION_PAPER)) != ESL_OK)
                break;
            double denoise = 10.0 * (double)f.denoise_flops_per_step;
            fputs("<tr><td>", r->out);
            esl__report_html(r->out, models[m]->name);
            fprintf(r->out, "</td><td>%lldx%lld</td><td>%.1f</td><td>%.1f</td><td>%.1f</td>"
                            "<td>%.2f%%</td></tr>\n", (long long)sizes[s], (long long)sizes[s],
                    (double)f.text_flops / 1e9, denoise / 1e9, (double)f.decode_flops / 1e9,
                    100.0 * denoise / (double)f.image_flops);
        }
    }
    fputs("</table>\n", r->out);
    int rc = status;
    if (rc == ESL_OK) {
        esl_figure_decomposition_opts o = {.steps = 10, .sizes = sizes, .n_sizes = 4,
                                           .convention = ESL_CONVENTION_PAPER};
        esl_figure *fig = NULL;
        int built = esl_figure_decomposition(&fig, (const esl_model *const *)models, 3, &o);
        rc = embed(r, built, fig, "decomposition", "compute per image by stage",
                   "Figure 1 regenerated: text encoding, 10 denoising steps and decoding per "
                   "image, log scale.");
    }
    for (size_t m = 0; m < 3; m++)
        esl_model_free(models[m]);
    return rc;
}
