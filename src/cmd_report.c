/*
 * cmd_report.c - `esl report`: one self-contained HTML page with the
 * dataset, the fitted law, its validation (the paper's three strategies)
 * and the figures of `esl plot`.
 *
 * Figures are drawn as PNG into a private temporary folder and embedded as
 * base64 data URIs, so the page needs no other file and no network. Every
 * number on the page is computed by libesl at the call.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gsl/gsl_cdf.h>

#include "cli.h"
#include "commands.h"
#include "esl/esl.h"
#include "law_cli.h"
#include "plot_cli.h"

enum {
    OPT_OUTPUT = 'o', OPT_DATA = 'd', OPT_WHERE = 'w',
    OPT_TITLE = 256, OPT_LAW, OPT_ARCH, OPT_CONVENTION,
};

static const cli_option options[] = {
    {"output", OPT_OUTPUT, "FILE", "the report: an .html file"},
    {"data", OPT_DATA, "FILE", "the dataset (CSV; default: the paper's A100 data, built in)"},
    {"where", OPT_WHERE, "COL=V,..", "keep rows whose model, gpu or dtype is listed (repeatable)"},
    {"law", OPT_LAW, "FILE", "report this law file instead of fitting one on the data"},
    {"arch", OPT_ARCH, "FILE", "a model description for a model the catalogue lacks"},
    {"convention", OPT_CONVENTION, "C", "FLOP convention: paper (default) or exact"},
    {"title", OPT_TITLE, "TEXT", "the page's title (default 'esl report')"},
    {NULL, 0, NULL, NULL},
};

typedef struct args {
    law_cli_opts law;
    const char *law_file;
    const char *output;
    const char *title;
} args;

static int on_option(void *ctx, int key, const char *arg)
{
    args *a = ctx;
    switch (key) {
    case OPT_OUTPUT: a->output = arg; return 0;
    case OPT_TITLE: a->title = arg; return 0;
    case OPT_DATA: a->law.data = arg; return 0;
    case OPT_WHERE: return law_cli_where(&a->law, arg);
    case OPT_LAW: a->law_file = arg; return 0;
    case OPT_ARCH: a->law.arch = arg; return 0;
    case OPT_CONVENTION: {
        int rc = esl_convention_parse(&a->law.convention, arg);
        return rc == ESL_OK ? 0 : cli_fail(rc);
    }
    }
    return EXIT_USAGE;
}

/* Write text with HTML's special characters escaped. */
static void html(FILE *out, const char *text)
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

/* printf into the page, escaping the formatted result. */
static void htmlf(FILE *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void htmlf(FILE *out, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    html(out, buf);
}

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

/* A figure drawn into `png` by the caller, embedded with its caption. */
static int embed_figure(FILE *out, const char *png, const char *alt, const char *caption)
{
    fputs("<figure><img alt=\"", out);
    html(out, alt);
    fputs("\" src=\"data:image/png;base64,", out);
    if (base64_file(out, png) != 0) {
        cli_error("report: cannot read the figure '%s': %s", png, strerror(errno));
        return EXIT_FAIL;
    }
    fputs("\"><figcaption>", out);
    html(out, caption);
    fputs("</figcaption></figure>\n", out);
    unlink(png);
    return 0;
}

static const char style[] =
    "body{font-family:sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;color:#222;"
    "line-height:1.45}\n"
    "h1{font-size:1.7rem}h2{margin-top:2.2rem;border-bottom:1px solid #ccc}\n"
    "table{border-collapse:collapse;margin:1rem 0}td,th{padding:.25rem .7rem;"
    "border-bottom:1px solid #ddd;text-align:right}th{background:#f3f3f3}\n"
    "td:first-child,th:first-child{text-align:left}\n"
    "figure{margin:1.5rem 0}img{max-width:100%;height:auto;border:1px solid #eee}\n"
    "figcaption{font-size:.9rem;color:#555}code{background:#f5f5f5;padding:0 .2rem}\n";

/* The compute section: Figure 1 and the per-stage counts it is drawn from. */
static int section_compute(FILE *out, const char *dir)
{
    static const int64_t sizes[] = {256, 512, 768, 1024};
    static const char *const models[] = {"flux-dev", "qwen-image", "sd35-large"};
    char png[4096];
    int rc;

    fputs("<h2>Compute per image</h2>\n<p>FLOPs of one image by stage (Eq. 1 of Iyengar et al. "
          "2026, paper convention), T = 10 steps without CFG, as in the paper's Figure 1.</p>\n"
          "<table><tr><th>model</th><th>size</th><th>text (GFLOP)</th>"
          "<th>denoise, 10 steps (GFLOP)</th><th>decode (GFLOP)</th><th>denoise share</th></tr>\n",
          out);
    for (size_t m = 0; m < sizeof models / sizeof models[0]; m++) {
        esl_model *model = NULL;
        int status = esl_catalog_find(&model, models[m]);
        if (status != ESL_OK)
            return cli_fail(status);
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            esl_request req = {.height = sizes[s], .width = sizes[s], .steps = 10, .prompts = 1};
            esl_flops f;
            if ((status = esl_flops_count(&f, model, &req, ESL_CONVENTION_PAPER)) != ESL_OK) {
                esl_model_free(model);
                return cli_fail(status);
            }
            double denoise = 10.0 * (double)f.denoise_flops_per_step;
            fputs("<tr><td>", out);
            html(out, model->name);
            fprintf(out, "</td><td>%lldx%lld</td><td>%.1f</td><td>%.1f</td><td>%.1f</td>"
                       "<td>%.2f%%</td></tr>\n", (long long)sizes[s], (long long)sizes[s],
                  (double)f.text_flops / 1e9, denoise / 1e9, (double)f.decode_flops / 1e9,
                  100.0 * denoise / (double)f.image_flops);
        }
        esl_model_free(model);
    }
    fputs("</table>\n", out);
    snprintf(png, sizeof png, "%s/decomposition.png", dir);
    if ((rc = plot_cli_decomposition(png, "flux-dev,qwen-image,sd35-large", 10, 0, sizes, 4,
                                     ESL_CONVENTION_PAPER, 0)) != 0)
        return rc;
    return embed_figure(out, png, "compute per image by stage",
                        "Figure 1 regenerated: text encoding, 10 denoising steps and decoding "
                        "per image, log scale.");
}


/* A number for a table cell: "-" when it is undefined. */
static void cell(FILE *out, const char *fmt, double x)
{
    fputs("<td>", out);
    if (isfinite(x))
        htmlf(out, fmt, x);
    else
        fputs("-", out);
    fputs("</td>", out);
}

/* Distinct values of a column, first-seen order. */
typedef struct levels {
    const char *v[64];
    size_t n;
} levels;

static void levels_add(levels *l, const char *v)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i], v) == 0)
            return;
    if (l->n < sizeof l->v / sizeof l->v[0])
        l->v[l->n++] = v;
}

static void levels_html(FILE *out, const levels *l)
{
    for (size_t i = 0; i < l->n; i++) {
        fputs(i ? ", " : "", out);
        html(out, l->v[i]);
    }
}

static void section_data(FILE *out, const args *a, const esl_dataset *ds, const levels *models,
                         const levels *gpus)
{
    levels dtypes = {0};
    for (size_t i = 0; i < ds->n_rows; i++)
        levels_add(&dtypes, ds->rows[i].dtype);
    fputs("<h2>Dataset</h2>\n<p>", out);
    htmlf(out, "%zu rows from %s", ds->n_rows, a->law.data ? a->law.data
                                                              : "the paper's A100 measurements "
                                                                "(built in, Tables 6-9)");
    for (size_t i = 0; i < a->law.n_where; i++)
        htmlf(out, "%s%s", i ? ", " : ", keeping ", a->law.where[i]);
    htmlf(out, "; FLOPs counted in the %s convention. GPUs: ",
          esl_convention_name(ds->convention));
    levels_html(out, gpus);
    fputs("; precisions: ", out);
    levels_html(out, &dtypes);
    fputs(".</p>\n<table><tr><th>model</th><th>rows</th><th>image sides (px)</th>"
          "<th>steps</th><th>FLOPs_cfg</th><th>energy (Wh)</th></tr>\n", out);
    for (size_t m = 0; m < models->n; m++) {
        size_t n = 0;
        double side_lo = INFINITY, side_hi = 0, t_lo = INFINITY, t_hi = 0;
        double f_lo = INFINITY, f_hi = 0, e_lo = INFINITY, e_hi = 0;
        for (size_t i = 0; i < ds->n_rows; i++) {
            const esl_row *r = &ds->rows[i];
            if (strcmp(r->model, models->v[m]) != 0)
                continue;
            n++;
            side_lo = fmin(side_lo, (double)r->height), side_hi = fmax(side_hi, (double)r->height);
            t_lo = fmin(t_lo, (double)r->steps), t_hi = fmax(t_hi, (double)r->steps);
            f_lo = fmin(f_lo, r->flops_cfg), f_hi = fmax(f_hi, r->flops_cfg);
            e_lo = fmin(e_lo, r->energy_j / 3600), e_hi = fmax(e_hi, r->energy_j / 3600);
        }
        fputs("<tr><td>", out);
        html(out, models->v[m]);
        fprintf(out, "</td><td>%zu</td><td>%.0f to %.0f</td><td>%.0f to %.0f</td>"
                   "<td>%.3g to %.3g</td><td>%.3g to %.3g</td></tr>\n",
              n, side_lo, side_hi, t_lo, t_hi, f_lo, f_hi, e_lo, e_hi);
    }
    fputs("</table>\n", out);
}

static void section_law(FILE *out, const args *a, const esl_law *law)
{
    const esl_law_metrics *m = &law->metrics;
    double t = law->dof > 0 ? gsl_cdf_tdist_Pinv(0.975, (double)law->dof) : NAN;
    fputs("<h2>The law</h2>\n<p>", out);
    htmlf(out, "%s form: ln E[kWh] = ln A + alpha ln(FLOPs_cfg [GFLOP]) + beta_dtype + beta_gpu "
               "+ beta_res ln(HW/256) (Eq. 3/4), %s fit on %zu rows, %s, FLOPs in the %s "
               "convention.", law->form, esl_fit_method_name(law->method), law->training.n_rows,
          a->law_file ? a->law_file : "fitted on this dataset",
          esl_convention_name(law->convention));
    for (size_t i = 0; i < law->n_dropped; i++)
        htmlf(out, " Dropped: %s.", law->dropped[i]);
    fputs("</p>\n<table><tr><th>term</th><th>estimate</th><th>std. error</th>"
          "<th>95% interval</th></tr>\n", out);
    for (size_t j = 0; j < law->n_features; j++) {
        fputs("<tr><td>", out);
        html(out, law->features[j].name);
        fputs("</td>", out);
        cell(out, "%.4f", law->coef[j]);
        cell(out, "%.4f", law->se[j]);
        if (isfinite(t))
            fprintf(out, "<td>%.4f to %.4f</td></tr>\n", law->coef[j] - t * law->se[j],
                  law->coef[j] + t * law->se[j]);
        else
            fputs("<td>-</td></tr>\n", out);
    }
    fputs("</table>\n<p>", out);
    htmlf(out, "On its training rows: R\xc2\xb2 of ln E %.4f (adjusted %.4f), RMSE of ln E %.4f, "
               "R\xc2\xb2 of E %.4f, MAPE %.2f%%; residual variance %.4g on %lld degrees of "
               "freedom.", m->r2_log, m->r2_adj_log, m->rmse_log, m->r2_lin, m->mape_pct,
          law->sigma2, (long long)law->dof);
    fputs("</p>\n", out);
}

static void validation_header(FILE *out)
{
    fputs("<table><tr><th>trained on</th><th>tested on</th><th>rows</th>"
          "<th>R\xc2\xb2 (ln E)</th><th>MAPE</th><th>Spearman</th><th>Pearson</th></tr>\n", out);
}

static void validation_rows(FILE *out, const char *prefix, const esl_validation *v)
{
    for (size_t f = 0; f < v->n_folds; f++) {
        const esl_fold *fo = &v->folds[f];
        fputs("<tr><td>", out);
        if (prefix != NULL)
            htmlf(out, "%s: ", prefix);
        html(out, fo->train);
        fputs("</td><td>", out);
        html(out, fo->test);
        fprintf(out, "</td><td>%zu / %zu</td>", fo->n_train, fo->n_test);
        cell(out, "%.4f", fo->score.r2_log);
        cell(out, "%.2f%%", fo->score.mape_pct);
        cell(out, "%.4f", fo->score.spearman);
        cell(out, "%.4f", fo->score.pearson);
        fputs("</tr>\n", out);
    }
}

/* A validation the data cannot support is reported on the page, not fatal. */
static void validation_failed(FILE *out, const char *what)
{
    fputs("<tr><td colspan=\"7\">", out);
    htmlf(out, "%s: %s", what, esl_error_last());
    fputs("</td></tr>\n", out);
}

static void section_validation(FILE *out, const esl_dataset *ds, const levels *models,
                               const levels *gpus, const esl_fit_opts *fit)
{
    esl_validation *v = NULL;
    fputs("<h2>Validation</h2>\n<p>The paper's three strategies (section 4.2): two-fold "
          "cross-validation within each model, each model held out in turn, and each GPU held "
          "out in turn. Rows are training / test rows; scores are on the test rows.</p>\n", out);

    fputs("<h3>2-fold within each model (seed 1)</h3>\n", out);
    validation_header(out);
    for (size_t m = 0; m < models->n; m++) {
        esl_dataset *sub = NULL;
        char spec[160];
        snprintf(spec, sizeof spec, "model=%s", models->v[m]);
        if (esl_dataset_where(&sub, ds, spec) != ESL_OK ||
            esl_validate(&v, sub, "kfold:2", 1, fit) != ESL_OK)
            validation_failed(out, models->v[m]);
        else
            validation_rows(out, models->v[m], v);
        esl_validation_free(v);
        v = NULL;
        esl_dataset_free(sub);
    }
    fputs("</table>\n<h3>Leave one model out</h3>\n", out);
    if (models->n < 2) {
        fputs("<p>One model in the data: nothing to hold out.</p>\n", out);
    } else {
        validation_header(out);
        if (esl_validate(&v, ds, "leave-out:model", 1, fit) != ESL_OK)
            validation_failed(out, "leave-out:model");
        else
            validation_rows(out, NULL, v);
        esl_validation_free(v);
        v = NULL;
        fputs("</table>\n", out);
    }
    fputs("<h3>Leave one GPU out</h3>\n", out);
    if (gpus->n < 2) {
        fputs("<p>One GPU in the data: nothing to hold out.</p>\n", out);
    } else {
        validation_header(out);
        if (esl_validate(&v, ds, "leave-out:gpu", 1, fit) != ESL_OK)
            validation_failed(out, "leave-out:gpu");
        else
            validation_rows(out, NULL, v);
        esl_validation_free(v);
        fputs("</table>\n", out);
    }
}

/* The data-driven figures, each drawn by the same code as `esl plot`. */
static int section_figures(FILE *out, const args *a, const levels *models, const levels *gpus,
                           const char *dir)
{
    char png[4096];
    int rc;
    fputs("<h2>Figures</h2>\n", out);

    snprintf(png, sizeof png, "%s/diagnostic.png", dir);
    if ((rc = plot_cli_diagnostic(png, &a->law, a->law_file, NULL, 1, NULL, 0)) != 0 ||
        (rc = embed_figure(out, png, "actual vs predicted energy",
                           "Actual vs predicted energy of every row (esl plot diagnostic).")) != 0)
        return rc;
    if (models->n > 1 && models->n <= 16) {
        snprintf(png, sizeof png, "%s/each.png", dir);
        if ((rc = plot_cli_diagnostic(png, &a->law, NULL, NULL, 1, "model", 0)) != 0 ||
            (rc = embed_figure(out, png, "one law per model",
                               "Each model fitted on its own rows, as in the paper's Figure 2 "
                               "(esl plot diagnostic --each model).")) != 0)
            return rc;
    }
    if (models->n > 1 && models->n <= 8) {
        snprintf(png, sizeof png, "%s/leave-out.png", dir);
        if ((rc = plot_cli_diagnostic(png, &a->law, NULL, "leave-out:model", 1, NULL, 0)) != 0 ||
            (rc = embed_figure(out, png, "leave one model out",
                               "Each model held out in turn: training rows on top, the held-out "
                               "model below, as in the paper's Figure 4 (esl plot diagnostic "
                               "--split leave-out:model).")) != 0)
            return rc;
    }
    snprintf(png, sizeof png, "%s/scaling.png", dir);
    if ((rc = plot_cli_scaling(png, &a->law, a->law_file, NULL)) != 0 ||
        (rc = embed_figure(out, png, "energy against FLOPs_cfg",
                           "Energy against FLOPs_cfg on the law's baseline GPU, with the law and "
                           "its 95% prediction interval (esl plot scaling).")) != 0)
        return rc;
    law_cli_opts one_gpu = a->law;
    char spec[160];
    if (gpus->n > 1 && one_gpu.n_where < sizeof one_gpu.where / sizeof one_gpu.where[0]) {
        snprintf(spec, sizeof spec, "gpu=%s", gpus->v[0]);
        one_gpu.where[one_gpu.n_where++] = spec;
    }
    snprintf(png, sizeof png, "%s/contributions.png", dir);
    if ((rc = plot_cli_contributions(png, &one_gpu, NULL)) != 0 ||
        (rc = embed_figure(out, png, "energy relative to the cheapest setting",
                           "Energy per image relative to the cheapest measured setting as "
                           "resolution, steps, precision and CFG change, as in the paper's "
                           "Figure 6 (esl plot contributions).")) != 0)
        return rc;
    return 0;
}

static int write_report(FILE *out, const args *a, const char *dir, const esl_dataset *ds,
                        const esl_law *law)
{
    levels models = {0}, gpus = {0};
    int rc;

    for (size_t i = 0; i < ds->n_rows; i++) {
        levels_add(&models, ds->rows[i].model);
        levels_add(&gpus, ds->rows[i].gpu);
    }
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>", out);
    html(out, a->title);
    fprintf(out, "</title>\n<style>\n%s</style>\n</head><body>\n<h1>", style);
    html(out, a->title);
    fprintf(out, "</h1>\n<p>Made by esl %s: energy scaling laws for diffusion models "
               "(Iyengar et al. 2026).</p>\n", esl_version());
    section_data(out, a, ds, &models, &gpus);
    section_law(out, a, law);
    section_validation(out, ds, &models, &gpus, &a->law.fit);
    if ((rc = section_figures(out, a, &models, &gpus, dir)) == 0 &&
        (rc = section_compute(out, dir)) == 0)
        fputs("</body></html>\n", out);
    return rc;
}

/* Remove the temporary folder and whatever a failed figure left in it. */
static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    char path[4096];
    for (struct dirent *e; d != NULL && (e = readdir(d)) != NULL;) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    if (d != NULL)
        closedir(d);
    rmdir(dir);
}

static int run_report(const cli_command *cmd, int argc, char **argv)
{
    args a = {.title = "esl report", .law.convention = ESL_CONVENTION_PAPER};
    int first, rc;

    if ((rc = cli_parse(cmd, argc, argv, on_option, &a, &first)) != 0)
        return rc;
    if (first < argc) {
        cli_error("report: unexpected argument '%s'", argv[first]);
        return EXIT_USAGE;
    }
    if (a.output == NULL) {
        cli_error("report: give the report's file with -o FILE.html");
        return EXIT_USAGE;
    }
    const char *dot = strrchr(a.output, '.');
    if (dot == NULL || (strcmp(dot, ".html") != 0 && strcmp(dot, ".htm") != 0)) {
        cli_error("report: '%s' is not an .html file (for PDF, print the HTML report: see "
                  "docs/esl-report.md)", a.output);
        return EXIT_USAGE;
    }
    if (!esl_plot_available()) {
        cli_error("report: this esl was built without PLplot (install libplplot-dev and "
                  "plplot-driver-cairo, then rebuild)");
        return EXIT_FAIL;
    }

    /* The data and the law first: bad input leaves no half-written page behind. */
    esl_dataset *ds = NULL;
    esl_law *law = NULL;
    if ((rc = plot_cli_dataset(&a.law, &ds)) != 0)
        return rc;
    int status = a.law_file ? esl_law_load(&law, a.law_file) : esl_law_fit(&law, ds, &a.law.fit);
    if (status != ESL_OK) {
        esl_dataset_free(ds);
        return cli_fail(status);
    }
    char dir[] = "/tmp/esl-report-XXXXXX";
    cli_file out;
    if (mkdtemp(dir) == NULL) {
        cli_error("report: cannot make a temporary folder: %s", strerror(errno));
        rc = EXIT_FAIL;
        goto done;
    }
    /* written under a temporary name and renamed: an error leaves no half page */
    if (cli_file_open(&out, a.output, "report") != 0) {
        remove_dir(dir);
        rc = EXIT_FAIL;
        goto done;
    }
    rc = write_report(out.f, &a, dir, ds, law);
    if (rc == 0)
        rc = cli_file_commit(&out, "report");
    else
        cli_file_abandon(&out);
    remove_dir(dir);
done:
    esl_law_free(law);
    esl_dataset_free(ds);
    return rc;
}

const cli_command cmd_report = {
    "report", run_report, "write a self-contained HTML report: data, law, validation, figures",
    "-o FILE.html [--data FILE] [--where COL=V,..] [--law FILE] [--title TEXT]",
    "The dataset's summary, the law (fitted on the data, or --law FILE) with its coefficients\n"
    "and 95% intervals, the paper's three validations, and every figure of esl plot. The page\n"
    "embeds its figures (PNG, base64) and opens with no network. For a PDF, print it with\n"
    "Debian's chromium: chromium --headless --print-to-pdf=report.pdf report.html",
    options,
};
