/*
 * doc.c - FLOP-count reports (esl/flops.h): the models a query names
 * (catalogue names, "all", a description file or a diffusers folder) each
 * counted at one size or over the paper's grid, every row counted before
 * any is written so that an error leaves no half table, then laid out as
 * the JSON document, the CSV or the table `esl flops` prints. Programs get
 * the same counts and the same document the tool shows.
 */
#include <libgen.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/internal.h"
#include "esl/flops.h"
#include "esl/json.h"
#include "esl/plan.h"

/* The paper's grid (section 4): square sides and step counts. */
static const int64_t grid_sides[] = {256, 512, 768, 1024};
static const int64_t grid_steps[] = {10, 20, 30, 40, 50};
#define N_SIDES (sizeof grid_sides / sizeof grid_sides[0])
#define N_STEPS (sizeof grid_steps / sizeof grid_steps[0])

static void note(const esl_flops_query *q, const char *fmt, ...) ESL_PRINTF(2, 3);
static void note(const esl_flops_query *q, const char *fmt, ...)
{
    char text[4096];
    va_list ap;
    if (q->note == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    q->note(q->note_ctx, text);
}

/* The model of a description file or a diffusers folder, into r->models[0]. */
static int load_one(esl_flops_report *r, const esl_flops_query *q)
{
    int rc;
    if (q->arch != NULL) {
        rc = esl_model_load(&r->models[0], q->arch);
    } else {
        /* The model is named after the folder. */
        char *copy = esl__strdup(q->diffusers);
        char *name = copy != NULL ? basename(copy) : NULL;
        rc = name != NULL ? esl_model_from_diffusers_partial(&r->models[0], &r->uncounted,
                                                             q->diffusers, name)
                          : esl__fail(ESL_ENOMEM, "out of memory");
        free(copy);
    }
    r->n_models = rc == ESL_OK;
    return rc;
}

/* Every built-in model countable in the query's convention: in the paper's,
 * those whose components all have its terms. */
static int load_all(esl_flops_report *r, const esl_flops_query *q)
{
    int rc = ESL_OK;
    for (size_t i = 0; i < esl_catalog_count() && rc == ESL_OK; i++) {
        esl_model **m = &r->models[r->n_models];
        if ((rc = esl_catalog_find(m, esl_catalog_name(i))) != ESL_OK)
            break;
        if (esl__model_has_paper_terms(*m) || q->convention == ESL_CONVENTION_EXACT) {
            r->n_models++;
        } else {
            note(q, "note: %s has no paper-convention terms: left out of --model all (count it "
                 "with --convention exact)", (*m)->name);
            esl_model_free(*m);
            *m = NULL;
        }
    }
    return rc;
}

/* The comma-separated catalogue names of q->models, in order. */
static int load_names(esl_flops_report *r, const esl_flops_query *q)
{
    int rc = ESL_OK;
    char *names = esl__strdup(q->models), *save = NULL;
    if (names == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory");
    for (char *name = strtok_r(names, ",", &save); name != NULL && rc == ESL_OK;
         name = strtok_r(NULL, ",", &save))
        if ((rc = esl_catalog_find(&r->models[r->n_models], name)) == ESL_OK)
            r->n_models++;
    free(names);
    return rc;
}

static int load_models(esl_flops_report *r, const esl_flops_query *q)
{
    size_t cap = 1;
    if (q->models != NULL && strcmp(q->models, "all") == 0)
        cap = esl_catalog_count();
    else
        for (const char *p = q->models; p != NULL && *p; p++)
            cap += *p == ',';
    if ((r->models = calloc(cap ? cap : 1, sizeof *r->models)) == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory");
    if (q->arch != NULL || q->diffusers != NULL)
        return load_one(r, q);
    return strcmp(q->models, "all") == 0 ? load_all(r, q) : load_names(r, q);
}

/* Components of a diffusers folder that could not be counted: the totals
 * leave them out; say which and why (docs/flops.md). */
static void note_uncounted(const esl_flops_report *r, const esl_flops_query *q)
{
    json_t *list = r->uncounted != NULL ? json_loads(r->uncounted, 0, NULL) : NULL;
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *u = json_array_get(list, i);
        note(q, "flops: component %s (%s) not counted, the totals leave it out: %s",
             json_string_value(json_object_get(u, "component")),
             json_string_value(json_object_get(u, "class")),
             json_string_value(json_object_get(u, "reason")));
    }
    json_decref(list);
}

int esl_flops_report_new(esl_flops_report **out, const esl_flops_query *q)
{
    if (out == NULL || q == NULL)
        return esl__fail(ESL_EINVAL, "flops report: no output or query");
    *out = NULL;
    if ((q->models != NULL) + (q->arch != NULL) + (q->diffusers != NULL) != 1)
        return esl__fail(ESL_EINVAL, "flops report: give exactly one of models, arch or diffusers");
    esl_flops_report *r = calloc(1, sizeof *r);
    if (r == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory");
    int rc = load_models(r, q);
    if (rc != ESL_OK)
        goto fail;
    note_uncounted(r, q);

    size_t per_model = q->sweep ? N_SIDES * N_STEPS : 1;
    esl_convention conv = q->convention;
    if (q->diffusers != NULL && !q->convention_given)
        conv = ESL_CONVENTION_EXACT; /* a diffusers folder has no paper terms */
    r->n_rows = r->n_models * per_model;
    if ((r->rows = calloc(r->n_rows ? r->n_rows : 1, sizeof *r->rows)) == NULL) {
        rc = esl__fail(ESL_ENOMEM, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < r->n_rows; i++) {
        esl_flops_row *row = &r->rows[i];
        size_t si = i % per_model / N_STEPS, ti = i % N_STEPS;
        row->model = r->models[i / per_model];
        row->req = q->req;
        if (q->sweep) {
            row->req.height = row->req.width = grid_sides[si];
            row->req.steps = grid_steps[ti];
        }
        row->exact_only = !q->convention_given && q->diffusers == NULL &&
                          !esl__model_has_paper_terms(row->model);
        esl_convention c = row->exact_only ? ESL_CONVENTION_EXACT : conv;
        if ((rc = esl_flops_count(&row->flops, row->model, &row->req, c)) != ESL_OK ||
            (c == ESL_CONVENTION_EXACT &&
             (rc = esl_plan_build(&row->plan, row->model, &row->req)) != ESL_OK))
            goto fail;
    }
    for (size_t i = 0; i < r->n_rows; i += per_model)
        if (r->rows[i].exact_only)
            note(q, "flops: %s has no paper-convention terms: counting it in the exact convention",
                 r->rows[i].model->name);
    *out = r;
    return ESL_OK;
fail:
    esl_flops_report_free(r);
    return rc;
}

void esl_flops_report_free(esl_flops_report *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; r->rows != NULL && i < r->n_rows; i++)
        esl_plan_free(r->rows[i].plan);
    free(r->rows);
    for (size_t i = 0; i < r->n_models; i++)
        esl_model_free(r->models[i]);
    free(r->models);
    free(r->uncounted);
    free(r);
}

/* One forward pass of component i in the row's convention. */
static int64_t component_flops(const esl_flops_row *row, size_t i)
{
    int64_t per_pass = 0;
    if (row->plan != NULL)
        return row->plan->components[i].flops;
    if (esl_flops_component(&per_pass, row->model, &row->model->components[i], &row->req) != ESL_OK)
        return 0; /* cannot happen once esl_flops_count succeeded */
    return per_pass;
}

/* Forward passes of a component per image: the denoiser runs each step,
 * twice with CFG (Eq. 1). */
static int64_t passes(const esl_flops_row *row, size_t i)
{
    if (row->model->components[i].stage != ESL_STAGE_DENOISE)
        return 1;
    return row->req.steps * (row->req.cfg ? 2 : 1);
}

/* The exact convention's per-layer-kind split of component i into jc. */
static void add_breakdown(json_t *jc, const esl_plan_component *pc)
{
    static const char *const names[] = {"linear", "attention", "conv", "other"};
    /* Norms and activations are reported with the other elementwise work. */
    int64_t k[4] = {pc->kind_flops[ESL_LAYER_LINEAR], pc->kind_flops[ESL_LAYER_ATTENTION],
                    pc->kind_flops[ESL_LAYER_CONV],
                    pc->kind_flops[ESL_LAYER_NORM] + pc->kind_flops[ESL_LAYER_ACT] +
                        pc->kind_flops[ESL_LAYER_OTHER]};
    json_t *kinds = json_object();
    for (int j = 0; j < 4; j++)
        json_object_set_new(kinds, names[j], json_integer(k[j]));
    json_object_set_new(jc, "class", json_string(pc->arch_class));
    json_object_set_new(jc, "params", json_integer(pc->params));
    json_object_set_new(jc, "layers", json_integer((json_int_t)pc->n_layers));
    json_object_set_new(jc, "flops_by_kind", kinds);
}

static json_t *row_json(const esl_flops_row *row, json_t *uncounted)
{
    const esl_model *m = row->model;
    const esl_request *r = &row->req;
    const esl_flops *f = &row->flops;
    json_t *o = json_object(), *comps = json_array();
    json_object_set_new(o, "model", json_string(m->name));
    json_object_set_new(o, "height", json_integer(r->height));
    json_object_set_new(o, "width", json_integer(r->width));
    json_object_set_new(o, "steps", json_integer(r->steps));
    json_object_set_new(o, "cfg", json_boolean(r->cfg));
    json_object_set_new(o, "prompts", json_integer(r->prompts));
    json_object_set_new(o, "convention", json_string(esl_convention_name(f->convention)));
    json_object_set_new(o, "text_tokens",
                        json_integer(r->text_tokens > 0 ? r->text_tokens : m->text_tokens));
    json_object_set_new(o, "text_flops", json_integer(f->text_flops));
    json_object_set_new(o, "denoise_flops_per_step", json_integer(f->denoise_flops_per_step));
    json_object_set_new(o, "decode_flops", json_integer(f->decode_flops));
    json_object_set_new(o, "image_flops", json_integer(f->image_flops));
    json_object_set_new(o, "total_flops", esl__json_count(f->total_flops));
    json_object_set_new(o, "flops_cfg", esl__json_count(f->flops_cfg));
    for (size_t i = 0; i < m->n_components; i++) {
        int64_t per_pass = component_flops(row, i), n = passes(row, i);
        json_t *jc = json_object();
        json_object_set_new(jc, "name", json_string(m->components[i].name));
        json_object_set_new(jc, "stage", json_string(esl_stage_name(m->components[i].stage)));
        json_object_set_new(jc, "flops_per_pass", json_integer(per_pass));
        json_object_set_new(jc, "passes", json_integer(n));
        json_object_set_new(jc, "flops_per_image", esl__json_count((double)per_pass * (double)n));
        if (row->plan != NULL)
            add_breakdown(jc, &row->plan->components[i]);
        json_array_append_new(comps, jc);
    }
    json_object_set_new(o, "components", comps);
    if (uncounted != NULL)
        json_object_set(o, "uncounted", uncounted);
    return o;
}

int esl_flops_report_json(char **out, const esl_flops_report *r)
{
    if (out == NULL || r == NULL)
        return esl__fail(ESL_EINVAL, "flops report: no output or report");
    *out = NULL;
    json_t *uncounted = r->uncounted != NULL ? json_loads(r->uncounted, 0, NULL) : NULL;
    json_t *doc = r->n_rows == 1 ? NULL : json_array();
    for (size_t i = 0; i < r->n_rows; i++) {
        json_t *o = row_json(&r->rows[i], uncounted);
        if (doc == NULL)
            doc = o;
        else
            json_array_append_new(doc, o);
    }
    int rc = doc != NULL ? esl_json_text(out, doc) : esl__fail(ESL_ENOMEM, "out of memory");
    json_decref(doc);
    json_decref(uncounted);
    return rc;
}

static int written(FILE *out)
{
    return ferror(out) ? esl__fail(ESL_EIO, "flops report: cannot write") : ESL_OK;
}

int esl_flops_report_csv(FILE *out, const esl_flops_report *r)
{
    if (out == NULL || r == NULL)
        return esl__fail(ESL_EINVAL, "flops report: no stream or report");
    fputs("model,height,width,steps,cfg,prompts,convention,text_flops,denoise_flops_per_step,"
          "decode_flops,image_flops,total_flops,flops_cfg\n", out);
    for (size_t i = 0; i < r->n_rows; i++) {
        const esl_request *q = &r->rows[i].req;
        const esl_flops *f = &r->rows[i].flops;
        fprintf(out, "%s,%lld,%lld,%lld,%d,%lld,%s,%lld,%lld,%lld,%lld,%.17g,%.17g\n",
                r->rows[i].model->name, (long long)q->height, (long long)q->width,
                (long long)q->steps, q->cfg, (long long)q->prompts,
                esl_convention_name(f->convention), (long long)f->text_flops,
                (long long)f->denoise_flops_per_step, (long long)f->decode_flops,
                (long long)f->image_flops, f->total_flops, f->flops_cfg);
    }
    return written(out);
}

const char *esl_flops_human(char buf[32], double flops)
{
    static const char *const units[] = {"", "K", "M", "G", "T", "P", "E", "Z", "Y"};
    size_t u = 0;
    while (fabs(flops) >= 1000.0 && u + 1 < sizeof units / sizeof units[0]) {
        flops /= 1000.0;
        u++;
    }
    snprintf(buf, 32, "%.4g %sFLOP", flops, units[u]);
    return buf;
}

/* One row broken down per component, with the totals of Eq. 1. */
static void breakdown(FILE *out, const esl_flops_row *row)
{
    const esl_model *m = row->model;
    const esl_request *r = &row->req;
    const esl_flops *f = &row->flops;
    char b1[32], b2[32];
    fprintf(out, "%s (%s), %lldx%lld, %lld steps, %s, %lld prompt%s, %s convention\n\n", m->name,
            m->display_name ? m->display_name : m->name, (long long)r->height,
            (long long)r->width, (long long)r->steps, r->cfg ? "CFG" : "no CFG",
            (long long)r->prompts, r->prompts == 1 ? "" : "s", esl_convention_name(f->convention));
    fprintf(out, "%-14s %-8s %16s %7s %16s %8s\n", "component", "stage", "per pass", "passes",
            "per image", "share");
    for (size_t i = 0; i < m->n_components; i++) {
        int64_t per_pass = component_flops(row, i), n = passes(row, i);
        double per_image = (double)per_pass * (double)n;
        fprintf(out, "%-14s %-8s %16s %7lld %16s %7.2f%%\n", m->components[i].name,
                esl_stage_name(m->components[i].stage), esl_flops_human(b1, (double)per_pass),
                (long long)n, esl_flops_human(b2, per_image), 100.0 * per_image / (double)f->image_flops);
    }
    fprintf(out, "\n%-40s %16s\n", "one image (Eq. 1)", esl_flops_human(b1, (double)f->image_flops));
    fprintf(out, "%-40s %16s\n", "all prompts", esl_flops_human(b1, f->total_flops));
    fprintf(out, "%-40s %16s\n", "FLOPs_cfg = N T denoise 2^cfg (the law)", esl_flops_human(b1, f->flops_cfg));
}

int esl_flops_report_table(FILE *out, const esl_flops_report *r)
{
    if (out == NULL || r == NULL)
        return esl__fail(ESL_EINVAL, "flops report: no stream or report");
    if (r->n_rows == 1) {
        breakdown(out, &r->rows[0]);
        return written(out);
    }
    fprintf(out, "%-12s %-10s %5s %3s %14s %14s %14s %14s %8s\n", "model", "size", "steps", "cfg",
            "text", "denoise/step", "decode", "per image", "denoise");
    for (size_t i = 0; i < r->n_rows; i++) {
        const esl_request *q = &r->rows[i].req;
        const esl_flops *f = &r->rows[i].flops;
        char size[48], b1[32], b2[32], b3[32], b4[32];
        double denoise = (double)f->denoise_flops_per_step * (double)q->steps * (q->cfg ? 2 : 1);
        snprintf(size, sizeof size, "%lldx%lld", (long long)q->height, (long long)q->width);
        fprintf(out, "%-12s %-10s %5lld %3s %14s %14s %14s %14s %7.2f%%\n", r->rows[i].model->name,
                size, (long long)q->steps, q->cfg ? "yes" : "no", esl_flops_human(b1, (double)f->text_flops),
                esl_flops_human(b2, (double)f->denoise_flops_per_step), esl_flops_human(b3, (double)f->decode_flops),
                esl_flops_human(b4, (double)f->image_flops), 100.0 * denoise / (double)f->image_flops);
    }
    return written(out);
}
