/*
 * listing.c - the catalogue as `esl models` lists it (esl/model.h): every
 * model esl_catalog_list names, loaded, with its parameters per component
 * (the published count, else the count of its architecture's layer plan)
 * and in total, laid out as a table for a person, CSV or JSON. A broken
 * file in a user's folder is kept with its error, so that one bad file
 * does not hide the rest of the catalogue.
 */
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "core/internal.h"
#include "esl/data.h"
#include "esl/json.h"
#include "esl/model.h"
#include "esl/plan.h"

/* Component c's parameters and where they come from. */
static int64_t component_params(const esl_model *m, const esl_plan *plan, size_t c,
                                const char **from)
{
    if (m->components[c].params > 0) {
        *from = "published";
        return m->components[c].params;
    }
    if (plan != NULL && plan->components[c].params > 0) {
        *from = "architecture";
        return plan->components[c].params;
    }
    *from = "unknown";
    return 0;
}

/* Load entry e's model and count its parameters into *cm. */
static int describe(esl_catalog_model *cm, const esl_catalog_entry *e)
{
    cm->entry = e;
    if (esl_catalog_find(&cm->model, e->name) != ESL_OK) {
        cm->model = NULL;
        cm->error = esl__strdup(esl_error_last());
        return cm->error != NULL ? ESL_OK : esl__fail(ESL_ENOMEM, "out of memory");
    }
    const esl_model *m = cm->model;
    size_t n = m->n_components ? m->n_components : 1;
    cm->component_params = calloc(n, sizeof *cm->component_params);
    cm->params_from = calloc(n, sizeof *cm->params_from);
    if (cm->component_params == NULL || cm->params_from == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory");
    /* Parameters do not depend on the image size; any valid size builds the plan. */
    esl_request req = {.height = 4 * m->pixel_multiple, .width = 4 * m->pixel_multiple,
                       .steps = 1, .prompts = 1};
    esl_plan *plan = NULL;
    if (esl_plan_build(&plan, m, &req) != ESL_OK)
        plan = NULL;
    for (size_t c = 0; c < m->n_components; c++) {
        int64_t p = component_params(m, plan, c, &cm->params_from[c]);
        cm->component_params[c] = p;
        cm->params += p;
        if (m->components[c].stage == ESL_STAGE_DENOISE)
            cm->denoiser_params += p;
    }
    esl_plan_free(plan);
    return ESL_OK;
}

int esl_catalog_listing_new(esl_catalog_listing **out)
{
    if (out == NULL)
        return esl__fail(ESL_EINVAL, "catalogue listing: no output");
    *out = NULL;
    esl_catalog_listing *l = calloc(1, sizeof *l);
    if (l == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory");
    int rc = esl_catalog_list(&l->entries, &l->n);
    if (rc == ESL_OK && (l->models = calloc(l->n ? l->n : 1, sizeof *l->models)) == NULL)
        rc = esl__fail(ESL_ENOMEM, "out of memory");
    for (size_t i = 0; rc == ESL_OK && i < l->n; i++)
        rc = describe(&l->models[i], &l->entries[i]);
    if (rc != ESL_OK) {
        esl_catalog_listing_free(l);
        return rc;
    }
    *out = l;
    return ESL_OK;
}

void esl_catalog_listing_free(esl_catalog_listing *listing)
{
    if (listing == NULL)
        return;
    for (size_t i = 0; listing->models != NULL && i < listing->n; i++) {
        esl_catalog_model *cm = &listing->models[i];
        esl_model_free(cm->model);
        free(cm->error);
        free(cm->component_params);
        free(cm->params_from);
    }
    free(listing->models);
    esl_catalog_list_free(listing->entries, listing->n);
    free(listing);
}

static const char *or_empty(const char *s)
{
    return s != NULL ? s : "";
}

static int written(FILE *out)
{
    return ferror(out) ? esl__fail(ESL_EIO, "catalogue listing: cannot write") : ESL_OK;
}

int esl_catalog_listing_table(FILE *out, const esl_catalog_listing *listing)
{
    static const char *const line = "%-12s %-28s %-7s %15s %15s  %-14s %s\n";
    if (out == NULL || listing == NULL)
        return esl__fail(ESL_EINVAL, "catalogue listing: no stream or listing");
    fprintf(out, line, "name", "display name", "family", "denoiser params", "all params", "origin",
            "source");
    for (size_t i = 0; i < listing->n; i++) {
        const esl_catalog_model *cm = &listing->models[i];
        char denoiser[24], params[24];
        if (cm->model == NULL)
            continue;
        snprintf(denoiser, sizeof denoiser, "%lld", (long long)cm->denoiser_params);
        snprintf(params, sizeof params, "%lld", (long long)cm->params);
        fprintf(out, line, cm->model->name, or_empty(cm->model->display_name),
                or_empty(cm->model->family), denoiser, params,
                esl_model_origin_name(cm->entry->origin), or_empty(cm->model->source));
    }
    return written(out);
}

int esl_catalog_listing_csv(FILE *out, const esl_catalog_listing *listing)
{
    if (out == NULL || listing == NULL)
        return esl__fail(ESL_EINVAL, "catalogue listing: no stream or listing");
    fputs("name,display_name,family,parameters,origin,source\n", out);
    for (size_t i = 0; i < listing->n; i++) {
        const esl_catalog_model *cm = &listing->models[i];
        if (cm->model == NULL)
            continue;
        esl_csv_field(out, cm->model->name);
        fputc(',', out);
        esl__csv_quoted(out, or_empty(cm->model->display_name));
        fputc(',', out);
        esl_csv_field(out, or_empty(cm->model->family));
        fprintf(out, ",%lld,", (long long)cm->params);
        esl_csv_field(out, esl_model_origin_name(cm->entry->origin));
        fputc(',', out);
        esl__csv_quoted(out, or_empty(cm->model->source));
        fputc('\n', out);
    }
    return written(out);
}

static json_t *model_json(const esl_catalog_model *cm)
{
    const esl_model *m = cm->model;
    json_t *o = json_object(), *comps = json_array();
    json_object_set_new(o, "name", json_string(m->name));
    json_object_set_new(o, "display_name", json_string(or_empty(m->display_name)));
    json_object_set_new(o, "family", json_string(or_empty(m->family)));
    json_object_set_new(o, "parameters", json_integer(cm->params));
    json_object_set_new(o, "source", json_string(or_empty(m->source)));
    json_object_set_new(o, "origin", json_string(esl_model_origin_name(cm->entry->origin)));
    json_object_set_new(o, "path", cm->entry->path ? json_string(cm->entry->path) : json_null());
    json_object_set_new(o, "shadows_builtin", json_boolean(cm->entry->shadows_builtin));
    for (size_t c = 0; c < m->n_components; c++) {
        json_t *jc = json_object();
        json_object_set_new(jc, "name", json_string(m->components[c].name));
        json_object_set_new(jc, "stage", json_string(esl_stage_name(m->components[c].stage)));
        json_object_set_new(jc, "parameters", json_integer(cm->component_params[c]));
        json_object_set_new(jc, "parameters_from", json_string(cm->params_from[c]));
        json_array_append_new(comps, jc);
    }
    json_object_set_new(o, "components", comps);
    return o;
}

int esl_catalog_listing_json(char **out, const esl_catalog_listing *listing)
{
    if (out == NULL || listing == NULL)
        return esl__fail(ESL_EINVAL, "catalogue listing: no output or listing");
    *out = NULL;
    json_t *doc = json_array();
    for (size_t i = 0; doc != NULL && i < listing->n; i++)
        if (listing->models[i].model != NULL)
            json_array_append_new(doc, model_json(&listing->models[i]));
    int rc = doc != NULL ? esl_json_text(out, doc) : esl__fail(ESL_ENOMEM, "out of memory");
    json_decref(doc);
    return rc;
}
