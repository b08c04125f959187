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
#include "provenance.h"
#include "report.h"

enum {
    OPT_OUTPUT = 'o', OPT_DATA = 'd', OPT_WHERE = 'w',
    OPT_TITLE = 256, OPT_LAW, OPT_ARCH, OPT_CONVENTION,
};

static const cli_option options[] = {
    {"output", OPT_OUTPUT, "FILE", "the report: an .html file"},
    {"data", OPT_DATA, "FILE", "the dataset (CSV; default: the paper's A100 data, built in)"},
    {"where", OPT_WHERE, "COL=V,..", "keep rows whose model, gpu or dtype is listed (repeatable)"},
    {"law", OPT_LAW, "FILE", "report this law file (default: the built-in law esl predict uses)"},
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

/* The equation of each form (docs/law.md); E in kWh for the paper's forms,
 * joules per image for the others. */
static const struct {
    const char *form, *equation;
} equations[] = {
    {"paper", "ln E[kWh] = ln A + alpha ln(FLOPs_cfg/1e9) + beta_dtype I_dtype + sum beta_gpu "
              "I_gpu + beta_res ln(HW/256), FLOPs_cfg = N T FLOPs_denoise 2^cfg (Eq. 3/4)"},
    {"per-image", "ln(E/N) = ln A + alpha ln(T FLOPs_denoise 2^cfg/1e9) + the categorical and "
                  "resolution terms of Eq. 3/4; E = N x the per-image energy"},
    {"roofline", "E/N = s_gpu [c ((e_flop[dtype] (1-a) + e_attn[dtype] a) F_denoise + (e_byte B P "
                 "+ e_launch K)/b) + e_aux (F_text + F_decode)]"},
    {"by-kind", "fp16/bf16: E/N = s_gpu [c e16 (F_lin + F_attn + F_conv + F_misc) + e_launch c K/b "
                "+ e_aux (F_text + F_dec)]; fp32: E/N = s_gpu [c (e32 (F_lin + F_attn + F_misc) "
                "+ kappa e16 F_conv) + e_launch c K/b + kappa e_aux (F_text + F_dec)], with c = T "
                "2^cfg denoiser calls of b images"},
};

static const char style[] =
    "body{font-family:sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;color:#222;"
    "line-height:1.45}\n"
    "h1{font-size:1.7rem}h2{margin-top:2.2rem;border-bottom:1px solid #ccc}\n"
    "table{border-collapse:collapse;margin:1rem 0}td,th{padding:.25rem .7rem;"
    "border-bottom:1px solid #ddd;text-align:right}th{background:#f3f3f3}\n"
    "td:first-child,th:first-child{text-align:left}th[colspan]{text-align:center}\n"
    "figure{margin:1.5rem 0}img{max-width:100%;height:auto;border:1px solid #eee}\n"
    "figcaption{font-size:.9rem;color:#555}code{background:#f5f5f5;padding:0 .2rem}\n"
    "pre{background:#f5f5f5;padding:.6rem;overflow-x:auto}\n";

static void levels_html(FILE *out, const report_levels *l)
{
    for (size_t i = 0; i < l->n; i++) {
        fputs(i ? ", " : "", out);
        report_html(out, l->v[i]);
    }
}

static void section_data(const report_ctx *r, const args *a)
{
    FILE *out = r->out;
    const esl_dataset *ds = r->ds;
    report_levels dtypes = {0};
    char unit[64];
    for (size_t i = 0; i < ds->n_rows; i++)
        report_levels_add(&dtypes, ds->rows[i].dtype);
    fputs("<h2>Dataset</h2>\n<p>", out);
    report_htmlf(out, "%zu rows from %s", ds->n_rows,
                 a->law.data ? a->law.data
                             : "the paper's A100 measurements (built in, Tables 6-9)");
    for (size_t i = 0; i < a->law.n_where; i++)
        report_htmlf(out, "%s%s", i ? ", " : ", keeping ", a->law.where[i]);
    report_htmlf(out, "; FLOPs counted in the %s convention. GPUs: ",
                 esl_convention_name(ds->convention));
    levels_html(out, &r->gpus);
    fputs("; precisions: ", out);
    levels_html(out, &dtypes);
    report_htmlf(out, ". Energies are %s, as the dataset stores them.",
                 report_energy_unit(unit, sizeof unit, ds));
    fputs("</p>\n<table><tr><th>model</th><th>rows</th><th>image sides (px)</th>"
          "<th>steps</th><th>FLOPs_cfg</th><th>", out);
    report_htmlf(out, "energy (%s)", unit);
    fputs("</th></tr>\n", out);
    for (size_t m = 0; m < r->models.n; m++) {
        size_t n = 0;
        double side_lo = INFINITY, side_hi = 0, t_lo = INFINITY, t_hi = 0;
        double f_lo = INFINITY, f_hi = 0, e_lo = INFINITY, e_hi = 0;
        for (size_t i = 0; i < ds->n_rows; i++) {
            const esl_row *row = &ds->rows[i];
            if (strcmp(row->model, r->models.v[m]) != 0)
                continue;
            n++;
            side_lo = fmin(side_lo, (double)row->height), side_hi = fmax(side_hi, (double)row->height);
            t_lo = fmin(t_lo, (double)row->steps), t_hi = fmax(t_hi, (double)row->steps);
            f_lo = fmin(f_lo, row->flops_cfg), f_hi = fmax(f_hi, row->flops_cfg);
            e_lo = fmin(e_lo, report_energy_wh(ds, row)), e_hi = fmax(e_hi, report_energy_wh(ds, row));
        }
        fputs("<tr><td>", out);
        report_html(out, r->models.v[m]);
        fprintf(out, "</td><td>%zu</td><td>%.0f to %.0f</td><td>%.0f to %.0f</td>"
                     "<td>%.3g to %.3g</td><td>%.3g to %.3g</td></tr>\n",
                n, side_lo, side_hi, t_lo, t_hi, f_lo, f_hi, e_lo, e_hi);
    }
    fputs("</table>\n", out);
}

/* What the law rests on, as `esl predict --format json` says it. */
static void section_provenance(const report_ctx *r, const args *a)
{
    static const char *const grid_keys[] = {"zone", "grid_gco2e_per_kwh", "grid_year",
                                            "grid_source"};
    json_t *o = json_object();
    predict_provenance(o, r->prov);
    for (size_t k = 0; k < sizeof grid_keys / sizeof grid_keys[0]; k++)
        json_object_del(o, grid_keys[k]);
    json_object_set_new(o, "data", json_string(a->law.data ? a->law.data : r->ds->origin));
    json_object_set_new(o, "data_rows", json_integer((json_int_t)r->ds->n_rows));
    json_t *where = json_array();
    for (size_t i = 0; i < a->law.n_where; i++)
        json_array_append_new(where, json_string(a->law.where[i]));
    json_object_set_new(o, "data_where", where);
    char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    fputs("<h3>Provenance</h3>\n<p>The keys <code>esl predict --format json</code> gives, and the "
          "data this page is made from:</p>\n<pre>", r->out);
    report_html(r->out, text ? text : "{}");
    fputs("</pre>\n", r->out);
    free(text);
    json_decref(o);
}

static void section_law(const report_ctx *r, const args *a)
{
    FILE *out = r->out;
    const esl_law *law = r->law;
    const esl_law_metrics *m = &law->metrics;
    double t = law->dof > 0 ? gsl_cdf_tdist_Pinv(0.975, (double)law->dof) : NAN;
    const char *equation = NULL;
    for (size_t k = 0; k < sizeof equations / sizeof equations[0]; k++)
        if (strcmp(equations[k].form, law->form) == 0)
            equation = equations[k].equation;
    fputs("<h2>The law</h2>\n<p>", out);
    if (a->law_file != NULL)
        report_htmlf(out, "The law of %s: ", a->law_file);
    else
        report_htmlf(out, "The law esl predict uses (%s): ", r->law_name);
    int energies = 0; /* roofline and by-kind: terms that are log energies, fitted nonlinearly */
    for (size_t j = 0; j < law->n_features; j++)
        energies |= law->features[j].kind >= ESL_FEATURE_E_FLOP;
    report_htmlf(out, "%s form, %s fit on %zu rows, FLOPs in the %s convention.", law->form,
                 energies ? "nonlinear least-squares (log space)" : esl_fit_method_name(law->method),
                 law->training.n_rows, esl_convention_name(law->convention));
    for (size_t i = 0; i < law->n_dropped; i++)
        report_htmlf(out, " Dropped: %s.", law->dropped[i]);
    fputs("</p>\n<p><code>", out);
    report_html(out, equation ? equation : law->form);
    fputs("</code></p>\n", out);
    if (energies)
        fputs("<p>Each energy term's estimate is its natural log (an energy in joules per "
              "FLOP, per byte or per launch); gpu= terms are log scale factors s_gpu.</p>\n", out);
    fputs("<table><tr><th>term</th><th>estimate</th><th>std. error</th>"
          "<th>95% interval</th></tr>\n", out);
    for (size_t j = 0; j < law->n_features; j++) {
        fputs("<tr><td>", out);
        report_html(out, law->features[j].name);
        fputs("</td>", out);
        report_cell(out, "%.4f", law->coef[j]);
        report_cell(out, "%.4f", law->se[j]);
        if (isfinite(t) && isfinite(law->se[j]))
            fprintf(out, "<td>%.4f to %.4f</td></tr>\n", law->coef[j] - t * law->se[j],
                    law->coef[j] + t * law->se[j]);
        else
            fputs("<td>-</td></tr>\n", out);
    }
    fputs("</table>\n<p>", out);
    report_htmlf(out, "On its training rows: R\xc2\xb2 of ln E %.4f (adjusted %.4f), RMSE of ln E "
                      "%.4f, R\xc2\xb2 of E %.4f, MAPE %.2f%%; residual variance %.4g on %lld "
                      "degrees of freedom.", m->r2_log, m->r2_adj_log, m->rmse_log, m->r2_lin,
                 m->mape_pct, law->sigma2, (long long)law->dof);
    fputs("</p>\n", out);
    section_provenance(r, a);
}

static int write_report(report_ctx *r, const args *a)
{
    FILE *out = r->out;
    int rc;
    for (size_t i = 0; i < r->ds->n_rows; i++) {
        report_levels_add(&r->models, r->ds->rows[i].model);
        report_levels_add(&r->gpus, r->ds->rows[i].gpu);
    }
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>", out);
    report_html(out, a->title);
    fprintf(out, "</title>\n<style>\n%s</style>\n</head><body>\n<h1>", style);
    report_html(out, a->title);
    fprintf(out, "</h1>\n<p>Made by esl %s: energy scaling laws for diffusion models "
                 "(Iyengar et al. 2026).</p>\n", esl_version());
    section_data(r, a);
    section_law(r, a);
    report_validation(r);
    if ((rc = report_figures(r)) == 0 && (rc = report_compute(r)) == 0)
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
    char dir[] = "/tmp/esl-report-XXXXXX";
    if ((rc = plot_cli_dataset(&a.law, &ds)) != 0)
        return rc;
    /* The law esl predict answers with (esl_law_builtin), or --law FILE. */
    int status = a.law_file ? esl_law_load(&law, a.law_file)
                            : esl_law_builtin(&law, ESL_CONVENTION_PAPER, NULL);
    if (status != ESL_OK) {
        esl_dataset_free(ds);
        return cli_fail(status);
    }
    esl_provenance prov; /* the built-in law is described as esl predict describes it */
    esl_provenance_of(&prov, law, a.law_file, NULL, NAN);
    report_ctx r = {.dir = dir, .ds = ds, .law = law, .law_name = prov.law, .prov = &prov,
                    .fit = a.law.fit};
    r.fit.form = law->form;
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
    r.out = out.f;
    rc = write_report(&r, &a);
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
    "The dataset's summary; the law esl predict uses (the built-in law, or --law FILE) with\n"
    "its form, equation, coefficients, 95% intervals and provenance; the paper's three\n"
    "validations of that form beside the paper's form; and every figure of esl plot. The page\n"
    "embeds its figures (PNG, base64) and opens with no network. For a PDF, print it with\n"
    "Debian's chromium: chromium --headless --print-to-pdf=report.pdf report.html",
    options,
};
