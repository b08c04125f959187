/*
 * report.c - the HTML report (esl/report.h): the page's frame, the
 * dataset's summary, the law with its equation, coefficients and
 * provenance; sections.c writes the validations, the figures and the
 * compute per image. The figures' files live in a private folder under
 * the system's temporary directory for the length of the call.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gsl/gsl_cdf.h>
#include <jansson.h>

#include "report/internal.h"

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
        esl__report_html(out, l->v[i]);
    }
}

static void section_data(const report_ctx *r, const esl_report_opts *a)
{
    FILE *out = r->out;
    const esl_dataset *ds = r->ds;
    report_levels dtypes = {0};
    char unit[64];
    for (size_t i = 0; i < ds->n_rows; i++)
        esl__report_levels_add(&dtypes, ds->rows[i].dtype);
    fputs("<h2>Dataset</h2>\n<p>", out);
    esl__report_htmlf(out, "%zu rows from %s", ds->n_rows,
                 a->data_file ? a->data_file
                             : "the paper's A100 measurements (built in, Tables 6-9)");
    for (size_t i = 0; i < a->n_where; i++)
        esl__report_htmlf(out, "%s%s", i ? ", " : ", keeping ", a->where[i]);
    esl__report_htmlf(out, "; FLOPs counted in the %s convention. GPUs: ",
                 esl_convention_name(ds->convention));
    levels_html(out, &r->gpus);
    fputs("; precisions: ", out);
    levels_html(out, &dtypes);
    esl__report_htmlf(out, ". Energies are %s, as the dataset stores them.",
                 esl_report_energy_unit(unit, sizeof unit, ds));
    fputs("</p>\n<table><tr><th>model</th><th>rows</th><th>image sides (px)</th>"
          "<th>steps</th><th>FLOPs_cfg</th><th>", out);
    esl__report_htmlf(out, "energy (%s)", unit);
    fputs("</th></tr>\n", out);
    for (size_t m = 0; m < r->models.n; m++) {
        size_t n = 0;
        double side_lo = INFINITY, side_hi = 0, t_lo = INFINITY, t_hi = 0;
        double f_lo = INFINITY, f_hi = 0, e_lo = INFINITY, e_hi = 0;
        for (size_t i = 0; i < ds->n_rows; i++) {
            const esl_row *row = &ds->rows[i];
            double wh = esl_report_energy_wh(ds, i);
            if (strcmp(row->model, r->models.v[m]) != 0)
                continue;
            n++;
            side_lo = fmin(side_lo, (double)row->height), side_hi = fmax(side_hi, (double)row->height);
            t_lo = fmin(t_lo, (double)row->steps), t_hi = fmax(t_hi, (double)row->steps);
            f_lo = fmin(f_lo, row->flops_cfg), f_hi = fmax(f_hi, row->flops_cfg);
            e_lo = fmin(e_lo, wh), e_hi = fmax(e_hi, wh);
        }
        fputs("<tr><td>", out);
        esl__report_html(out, r->models.v[m]);
        fprintf(out, "</td><td>%zu</td><td>%.0f to %.0f</td><td>%.0f to %.0f</td>"
                     "<td>%.3g to %.3g</td><td>%.3g to %.3g</td></tr>\n",
                n, side_lo, side_hi, t_lo, t_hi, f_lo, f_hi, e_lo, e_hi);
    }
    fputs("</table>\n", out);
}

/* What the law rests on, as `esl predict --format json` says it. */
static void section_provenance(const report_ctx *r, const esl_report_opts *a)
{
    const esl_provenance *p = r->prov;
    json_t *o = json_object();
    json_object_set_new(o, "esl_version", json_string(p->esl_version));
    json_object_set_new(o, "law", json_string(p->law));
    json_object_set_new(o, "law_form", json_string(p->law_form));
    json_object_set_new(o, "law_hash", p->law_hash[0] ? json_string(p->law_hash) : json_null());
    json_object_set_new(o, "law_training_rows", json_integer((json_int_t)p->law_training_rows));
    json_object_set_new(o, "data", json_string(a->data_file ? a->data_file : r->ds->origin));
    json_object_set_new(o, "data_rows", json_integer((json_int_t)r->ds->n_rows));
    json_t *where = json_array();
    for (size_t i = 0; i < a->n_where; i++)
        json_array_append_new(where, json_string(a->where[i]));
    json_object_set_new(o, "data_where", where);
    char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    fputs("<h3>Provenance</h3>\n<p>The keys <code>esl predict --format json</code> gives, and the "
          "data this page is made from:</p>\n<pre>", r->out);
    esl__report_html(r->out, text ? text : "{}");
    fputs("</pre>\n", r->out);
    free(text);
    json_decref(o);
}

static void section_law(const report_ctx *r, const esl_report_opts *a)
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
        esl__report_htmlf(out, "The law of %s: ", a->law_file);
    else
        esl__report_htmlf(out, "The law esl predict uses (%s): ", r->law_name);
    int energies = 0; /* roofline and by-kind: terms that are log energies, fitted nonlinearly */
    for (size_t j = 0; j < law->n_features; j++)
        energies |= law->features[j].kind >= ESL_FEATURE_E_FLOP;
    esl__report_htmlf(out, "%s form, %s fit on %zu rows, FLOPs in the %s convention.", law->form,
                 energies ? "nonlinear least-squares (log space)" : esl_fit_method_name(law->method),
                 law->training.n_rows, esl_convention_name(law->convention));
    for (size_t i = 0; i < law->n_dropped; i++)
        esl__report_htmlf(out, " Dropped: %s.", law->dropped[i]);
    fputs("</p>\n<p><code>", out);
    esl__report_html(out, equation ? equation : law->form);
    fputs("</code></p>\n", out);
    if (energies)
        fputs("<p>Each energy term's estimate is its natural log (an energy in joules per "
              "FLOP, per byte or per launch); gpu= terms are log scale factors s_gpu.</p>\n", out);
    fputs("<table><tr><th>term</th><th>estimate</th><th>std. error</th>"
          "<th>95% interval</th></tr>\n", out);
    for (size_t j = 0; j < law->n_features; j++) {
        fputs("<tr><td>", out);
        esl__report_html(out, law->features[j].name);
        fputs("</td>", out);
        esl__report_cell(out, "%.4f", law->coef[j]);
        esl__report_cell(out, "%.4f", law->se[j]);
        if (isfinite(t) && isfinite(law->se[j]))
            fprintf(out, "<td>%.4f to %.4f</td></tr>\n", law->coef[j] - t * law->se[j],
                    law->coef[j] + t * law->se[j]);
        else
            fputs("<td>-</td></tr>\n", out);
    }
    fputs("</table>\n<p>", out);
    esl__report_htmlf(out, "On its training rows: R\xc2\xb2 of ln E %.4f (adjusted %.4f), RMSE of ln E "
                      "%.4f, R\xc2\xb2 of E %.4f, MAPE %.2f%%; residual variance %.4g on %lld "
                      "degrees of freedom.", m->r2_log, m->r2_adj_log, m->rmse_log, m->r2_lin,
                 m->mape_pct, law->sigma2, (long long)law->dof);
    fputs("</p>\n", out);
    section_provenance(r, a);
}

static int write_report(report_ctx *r, const esl_report_opts *a)
{
    FILE *out = r->out;
    const char *title = a->title ? a->title : "esl report";
    int rc;
    for (size_t i = 0; i < r->ds->n_rows; i++) {
        esl__report_levels_add(&r->models, r->ds->rows[i].model);
        esl__report_levels_add(&r->gpus, r->ds->rows[i].gpu);
    }
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>", out);
    esl__report_html(out, title);
    fprintf(out, "</title>\n<style>\n%s</style>\n</head><body>\n<h1>", style);
    esl__report_html(out, title);
    fprintf(out, "</h1>\n<p>Made by esl %s: energy scaling laws for diffusion models "
                 "(Iyengar et al. 2026).</p>\n", esl_version());
    section_data(r, a);
    section_law(r, a);
    esl__report_validation(r);
    if ((rc = esl__report_figures(r)) == 0 && (rc = esl__report_compute(r)) == 0)
        fputs("</body></html>\n", out);
    return rc;
}

/* Remove the temporary folder and whatever a failed figure left in it. */
static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    char path[1024 + 260];
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


int esl_report_write(FILE *out, const esl_dataset *ds, const esl_law *law,
                     const esl_report_opts *opts)
{
    static const esl_report_opts defaults = {0};
    if (out == NULL || ds == NULL || law == NULL)
        return esl__fail(ESL_EINVAL, "report: no %s",
                         out == NULL ? "stream" : ds == NULL ? "dataset" : "law");
    if (ds->n_rows == 0)
        return esl__fail(ESL_EINVAL, "report: the dataset has no row");
    if (!esl_plot_available())
        return esl__fail(ESL_EUNSUPPORTED, "report: this libesl was built without PLplot");
    if (opts == NULL)
        opts = &defaults;
    esl_provenance prov; /* the built-in law is described as esl predict describes it */
    esl_provenance_of(&prov, law, opts->law_file, NULL, NAN);
    char dir[1024];
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/esl-report-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (mkdtemp(dir) == NULL)
        return esl__fail(ESL_EIO, "report: cannot make a temporary folder: %s", strerror(errno));
    report_ctx r = {.out = out, .dir = dir, .ds = ds, .law = law, .law_name = prov.law,
                    .prov = &prov, .opts = opts};
    if (opts->fit != NULL)
        r.fit = *opts->fit;
    r.fit.form = law->form;
    int rc = write_report(&r, opts);
    remove_dir(dir);
    if (rc == ESL_OK && ferror(out))
        rc = esl__fail(ESL_EIO, "report: cannot write the page");
    return rc;
}
