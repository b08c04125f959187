/*
 * json.c - the law file (docs/law-format.md): writing a law as JSON with
 * jansson, and reading one back strictly. Every key is known, typed and
 * required; a wrong document is refused with the JSON path of the first
 * problem ("law.json: $.features[2].coef: expected a number"). Doubles are
 * written with 17 significant digits so a law reads back bit for bit.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/internal.h"
#include "esl/law.h"
#include "law/internal.h"

#define LAW_VERSION 1

static const char *const kind_names[] = {"const", "ln_flops", "level", "ln_res", "e_flop",
                                         "e_byte", "e_launch", "e_aux", "e_attn", "e_conv"};
#define N_KINDS (sizeof kind_names / sizeof kind_names[0])

/* ---- writing ------------------------------------------------------------- */

static json_t *string_array(char *const *list, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(list[i]));
    return a;
}

static json_t *range(double lo, double hi)
{
    return json_pack("[f, f]", lo, hi);
}

json_t *esl__law_json(const esl_law *law)
{
    size_t p = law->n_features;
    json_t *doc = json_object();
    json_t *terms = json_array(), *factors = json_object(), *features = json_array();
    json_t *cov = json_array();

    json_object_set_new(doc, "esl_law", json_integer(LAW_VERSION));
    json_object_set_new(doc, "form", json_string(law->form));
    json_object_set_new(doc, "equation", json_string(esl__form(law)->equation));
    json_object_set_new(doc, "convention", json_string(esl_convention_name(law->convention)));
    json_object_set_new(doc, "method", json_string(esl_fit_method_name(law->method)));
    for (unsigned bit = 1; bit <= ESL_TERM_BYTES; bit <<= 1)
        if (law->terms & bit)
            json_array_append_new(terms, json_string(esl__term_name(bit)));
    json_object_set_new(doc, "terms", terms);
    for (size_t k = 0; k < 2; k++) {
        const esl_factor *fa = &law->factors[k];
        json_t *f = json_object();
        json_object_set_new(f, "baseline", fa->baseline ? json_string(fa->baseline) : json_null());
        json_object_set_new(f, "levels", string_array(fa->levels, fa->n_levels));
        json_object_set_new(factors, fa->column, f);
    }
    json_object_set_new(doc, "factors", factors);
    json_object_set_new(doc, "dropped", string_array(law->dropped, law->n_dropped));
    for (size_t j = 0; j < p; j++) {
        const esl_feature *f = &law->features[j];
        json_t *o = json_object();
        json_object_set_new(o, "name", json_string(f->name));
        json_object_set_new(o, "kind", json_string(kind_names[f->kind]));
        json_object_set_new(o, "column", f->column ? json_string(f->column) : json_null());
        json_object_set_new(o, "level", f->level ? json_string(f->level) : json_null());
        json_object_set_new(o, "coef", json_real(law->coef[j]));
        json_object_set_new(o, "se", json_real(law->se[j]));
        json_array_append_new(features, o);
        json_t *row = json_array();
        for (size_t k = 0; k < p; k++)
            json_array_append_new(row, json_real(law->cov[j * p + k]));
        json_array_append_new(cov, row);
    }
    json_object_set_new(doc, "features", features);
    json_object_set_new(doc, "covariance", cov);
    json_object_set_new(doc, "residual_variance", json_real(law->sigma2));
    json_object_set_new(doc, "dof", json_integer(law->dof));

    const esl_law_training *t = &law->training;
    json_t *tr = json_object();
    json_object_set_new(tr, "rows", json_integer((json_int_t)t->n_rows));
    json_object_set_new(tr, "models", string_array(t->models, t->n_models));
    json_object_set_new(tr, "gpus", string_array(law->factors[0].levels, law->factors[0].n_levels));
    json_object_set_new(tr, "dtypes", string_array(law->factors[1].levels, law->factors[1].n_levels));
    json_object_set_new(tr, "flops_cfg", range(t->flops_min, t->flops_max));
    json_object_set_new(tr, "pixels", range(t->pixels_min, t->pixels_max));
    json_object_set_new(tr, "steps", range(t->steps_min, t->steps_max));
    json_object_set_new(tr, "energy_j", range(t->energy_min_j, t->energy_max_j));
    json_t *per = json_object();
    for (size_t k = 0; k < t->n_models && t->model_rows != NULL; k++) {
        json_t *o = json_object();
        json_object_set_new(o, "rows", json_integer((json_int_t)t->model_rows[k]));
        json_object_set_new(o, "residual_variance", json_real(t->model_sigma2[k]));
        json_object_set_new(o, "held_out_bias",
                            isfinite(t->model_bias[k]) ? json_real(t->model_bias[k]) : json_null());
        json_object_set_new(per, t->models[k], o);
    }
    json_object_set_new(tr, "per_model", per);
    json_object_set_new(doc, "training", tr);
    json_t *bm = json_object();
    json_object_set_new(bm, "variance", json_real(law->tau2));
    json_object_set_new(bm, "models", json_integer((json_int_t)law->tau2_models));
    json_object_set_new(doc, "between_model", bm);
    if (law->n_kappa > 0) {
        json_t *ka = json_object();
        for (size_t k = 0; k < law->n_kappa; k++)
            json_object_set_new(ka, law->kappa_gpus[k], json_real(law->kappa[k]));
        json_object_set_new(doc, "kappa", ka);
    }

    const esl_law_metrics *m = &law->metrics;
    json_t *me = json_object();
    json_object_set_new(me, "r2_log", json_real(m->r2_log));
    json_object_set_new(me, "r2_adj_log", json_real(m->r2_adj_log));
    json_object_set_new(me, "rmse_log", json_real(m->rmse_log));
    json_object_set_new(me, "r2_lin", json_real(m->r2_lin));
    json_object_set_new(me, "mape_pct", json_real(m->mape_pct));
    json_object_set_new(doc, "metrics", me);
    if (law->response == ESL_RESPONSE_TIME)
        json_object_set_new(doc, "response", json_string("time"));
    if (law->tau2_gpus > 0) {
        json_t *bg = json_object();
        json_object_set_new(bg, "variance", json_real(law->tau2_gpu));
        json_object_set_new(bg, "gpus", json_integer((json_int_t)law->tau2_gpus));
        json_object_set_new(doc, "between_gpu", bg);
    }
    if (law->time != NULL)
        json_object_set_new(doc, "time", esl__law_json(law->time));
    return doc;
}

int esl_law_to_json(char **out, const esl_law *law)
{
    json_t *doc = esl__law_json(law);
    *out = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    json_decref(doc);
    return *out != NULL ? ESL_OK : esl__fail(ESL_ENOMEM, "out of memory");
}

/* ---- reading ------------------------------------------------------------- */

typedef struct rd {
    const char *origin;
} rd;

static int bad(const rd *r, const char *path, const char *what)
{
    return esl__fail(ESL_EINVAL, "%s: %s: %s", r->origin, path, what);
}

/* Refuse keys in neither `keys` nor `optional` (NULL-terminated; may be
 * NULL), and missing ones of `keys`. */
static int check_keys_opt(const rd *r, json_t *obj, const char *path, const char *const *keys,
                          const char *const *optional)
{
    char sub[256];
    if (!json_is_object(obj))
        return bad(r, path, "expected an object");
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        int known = 0;
        for (size_t i = 0; keys[i] != NULL && !known; i++)
            known = strcmp(keys[i], key) == 0;
        for (size_t i = 0; optional != NULL && optional[i] != NULL && !known; i++)
            known = strcmp(optional[i], key) == 0;
        if (!known) {
            snprintf(sub, sizeof sub, "unknown key '%s'", key);
            return bad(r, path, sub);
        }
    }
    for (size_t i = 0; keys[i] != NULL; i++)
        if (json_object_get(obj, keys[i]) == NULL) {
            snprintf(sub, sizeof sub, "missing key '%s'", keys[i]);
            return bad(r, path, sub);
        }
    return ESL_OK;
}

static int check_keys(const rd *r, json_t *obj, const char *path, const char *const *keys)
{
    return check_keys_opt(r, obj, path, keys, NULL);
}

static int get_real(const rd *r, json_t *v, const char *path, double *out)
{
    if (!json_is_number(v))
        return bad(r, path, "expected a number");
    *out = json_number_value(v);
    if (!isfinite(*out))
        return bad(r, path, "expected a finite number");
    return ESL_OK;
}

static int get_string(const rd *r, json_t *v, const char *path, char **out)
{
    if (!json_is_string(v))
        return bad(r, path, "expected a string");
    if ((*out = esl__strdup(json_string_value(v))) == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory");
    return ESL_OK;
}

static int get_strings(const rd *r, json_t *v, const char *path, char ***out, size_t *n)
{
    char sub[256];
    if (!json_is_array(v))
        return bad(r, path, "expected an array of strings");
    *n = 0;
    *out = calloc(json_array_size(v) + 1, sizeof **out);
    if (*out == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory");
    for (size_t i = 0; i < json_array_size(v); i++) {
        snprintf(sub, sizeof sub, "%s[%zu]", path, i);
        int rc = get_string(r, json_array_get(v, i), sub, &(*out)[i]);
        if (rc != ESL_OK)
            return rc;
        (*n)++;
    }
    return ESL_OK;
}

static int get_range(const rd *r, json_t *v, const char *path, double *lo, double *hi)
{
    char sub[256];
    if (!json_is_array(v) || json_array_size(v) != 2)
        return bad(r, path, "expected [min, max]");
    snprintf(sub, sizeof sub, "%s[0]", path);
    int rc = get_real(r, json_array_get(v, 0), sub, lo);
    snprintf(sub, sizeof sub, "%s[1]", path);
    if (rc == ESL_OK)
        rc = get_real(r, json_array_get(v, 1), sub, hi);
    if (rc == ESL_OK && *lo > *hi)
        return bad(r, path, "min is larger than max");
    return rc;
}

static int get_factor(const rd *r, esl_law *law, json_t *factors, size_t k)
{
    static const char *const columns[2] = {"gpu", "dtype"};
    static const char *const keys[] = {"baseline", "levels", NULL};
    char path[64];
    esl_factor *fa = &law->factors[k];
    snprintf(path, sizeof path, "$.factors.%s", columns[k]);
    if ((fa->column = esl__strdup(columns[k])) == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory");
    json_t *f = json_object_get(factors, columns[k]);
    int rc = check_keys(r, f, path, keys);
    if (rc != ESL_OK)
        return rc;
    char sub[96];
    snprintf(sub, sizeof sub, "%s.levels", path);
    if ((rc = get_strings(r, json_object_get(f, "levels"), sub, &fa->levels, &fa->n_levels)) != ESL_OK)
        return rc;
    snprintf(sub, sizeof sub, "%s.baseline", path);
    json_t *b = json_object_get(f, "baseline");
    if (fa->n_levels == 0)
        return json_is_null(b) ? ESL_OK : bad(r, sub, "expected null when there are no levels");
    if ((rc = get_string(r, b, sub, &fa->baseline)) != ESL_OK)
        return rc;
    if (strcmp(fa->levels[0], fa->baseline) != 0)
        return bad(r, sub, "the baseline must be the first level");
    for (size_t i = 0; i < fa->n_levels; i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(fa->levels[i], fa->levels[j]) == 0)
                return bad(r, path, "a level appears twice");
    return ESL_OK;
}

static int get_feature(const rd *r, esl_law *law, json_t *o, size_t j)
{
    static const char *const keys[] = {"name", "kind", "column", "level", "coef", "se", NULL};
    char path[64], sub[96];
    snprintf(path, sizeof path, "$.features[%zu]", j);
    int rc = check_keys(r, o, path, keys);
    if (rc != ESL_OK)
        return rc;
    json_t *kind = json_object_get(o, "kind"), *name = json_object_get(o, "name");
    snprintf(sub, sizeof sub, "%s.kind", path);
    int k = -1, roofline = esl__law_nls(law);
    for (int i = 0; i < (int)N_KINDS && json_is_string(kind); i++)
        if (strcmp(json_string_value(kind), kind_names[i]) == 0)
            k = i;
    if (k < 0)
        return bad(r, sub, "expected one of const, ln_flops, level, ln_res, e_flop, e_byte, "
                   "e_launch, e_aux, e_attn, e_conv");
    if (roofline != (k >= ESL_FEATURE_E_FLOP) && k != ESL_FEATURE_LEVEL)
        return bad(r, sub, roofline ? "the roofline and by-kind forms have e_* and gpu level "
                                      "features only"
                                    : "e_* features belong to the roofline and by-kind forms");
    if (!roofline && (j == 0) != (k == ESL_FEATURE_CONST))
        return bad(r, sub, "the intercept 'const' must be the first feature, and only it");
    snprintf(sub, sizeof sub, "%s.name", path);
    if (!json_is_string(name))
        return bad(r, sub, "expected a string");
    const char *column = NULL, *level = NULL;
    json_t *jc = json_object_get(o, "column"), *jl = json_object_get(o, "level");
    if (k == ESL_FEATURE_LEVEL) {
        snprintf(sub, sizeof sub, "%s.column", path);
        if (!json_is_string(jc) ||
            (strcmp(json_string_value(jc), "gpu") != 0 && strcmp(json_string_value(jc), "dtype") != 0))
            return bad(r, sub, "expected \"gpu\" or \"dtype\"");
        column = json_string_value(jc);
        snprintf(sub, sizeof sub, "%s.level", path);
        if (!json_is_string(jl))
            return bad(r, sub, "expected a string");
        level = json_string_value(jl);
        const esl_factor *fa = &law->factors[strcmp(column, "gpu") == 0 ? 0 : 1];
        int known = 0;
        for (size_t i = 1; i < fa->n_levels && !known; i++)
            known = strcmp(fa->levels[i], level) == 0;
        if (!known)
            return bad(r, sub, "not a non-baseline level of its factor");
    } else if ((k == ESL_FEATURE_E_FLOP || k == ESL_FEATURE_E_ATTN) && law->factors[1].n_levels > 0) {
        /* one energy per dtype level, the baseline's included */
        snprintf(sub, sizeof sub, "%s.column", path);
        if (!json_is_string(jc) || strcmp(json_string_value(jc), "dtype") != 0)
            return bad(r, sub, "expected \"dtype\"");
        column = "dtype";
        snprintf(sub, sizeof sub, "%s.level", path);
        if (!json_is_string(jl))
            return bad(r, sub, "expected a string");
        level = json_string_value(jl);
        int known = 0;
        for (size_t i = 0; i < law->factors[1].n_levels && !known; i++)
            known = strcmp(law->factors[1].levels[i], level) == 0;
        if (!known)
            return bad(r, sub, "not a level of the dtype factor");
    } else if (!json_is_null(jc) || !json_is_null(jl)) {
        snprintf(sub, sizeof sub, "%s.%s", path, json_is_null(jc) ? "level" : "column");
        return bad(r, sub, "expected null for this kind");
    }
    for (size_t i = 0; i < law->n_features; i++)
        if (strcmp(law->features[i].name, json_string_value(name)) == 0) {
            snprintf(sub, sizeof sub, "%s.name", path);
            return bad(r, sub, "a feature name appears twice");
        }
    if ((rc = esl__law_add_feature(law, (esl_feature_kind)k, json_string_value(name), column,
                                   level)) != ESL_OK)
        return rc;
    return ESL_OK;
}

static int get_coefs(const rd *r, esl_law *law, json_t *features, json_t *cov)
{
    size_t p = law->n_features;
    char sub[96];
    int rc = esl__law_alloc_coef(law);
    for (size_t j = 0; j < p && rc == ESL_OK; j++) {
        json_t *o = json_array_get(features, j);
        snprintf(sub, sizeof sub, "$.features[%zu].coef", j);
        if ((rc = get_real(r, json_object_get(o, "coef"), sub, &law->coef[j])) != ESL_OK)
            break;
        snprintf(sub, sizeof sub, "$.features[%zu].se", j);
        if ((rc = get_real(r, json_object_get(o, "se"), sub, &law->se[j])) != ESL_OK)
            break;
        if (law->se[j] < 0)
            return bad(r, sub, "a standard error cannot be negative");
    }
    if (rc != ESL_OK)
        return rc;
    if (!json_is_array(cov) || json_array_size(cov) != p)
        return bad(r, "$.covariance", "expected one row per feature");
    for (size_t j = 0; j < p; j++) {
        json_t *row = json_array_get(cov, j);
        snprintf(sub, sizeof sub, "$.covariance[%zu]", j);
        if (!json_is_array(row) || json_array_size(row) != p)
            return bad(r, sub, "expected one number per feature");
        for (size_t k = 0; k < p; k++) {
            snprintf(sub, sizeof sub, "$.covariance[%zu][%zu]", j, k);
            if ((rc = get_real(r, json_array_get(row, k), sub, &law->cov[j * p + k])) != ESL_OK)
                return rc;
        }
        if (law->cov[j * p + j] < 0) {
            snprintf(sub, sizeof sub, "$.covariance[%zu][%zu]", j, j);
            return bad(r, sub, "a variance cannot be negative");
        }
    }
    return ESL_OK;
}

/* Per-model residual variances and held-out biases; a law file written
 * before they existed has none (every model then uses the pooled one). */
static int get_per_model(const rd *r, esl_law *law, json_t *per)
{
    static const char *const keys[] = {"rows", "residual_variance", "held_out_bias", NULL};
    esl_law_training *tr = &law->training;
    size_t m = tr->n_models ? tr->n_models : 1;
    tr->model_rows = calloc(m, sizeof *tr->model_rows);
    tr->model_sigma2 = calloc(m, sizeof *tr->model_sigma2);
    tr->model_bias = malloc(m * sizeof *tr->model_bias);
    if (tr->model_rows == NULL || tr->model_sigma2 == NULL || tr->model_bias == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory");
    for (size_t k = 0; k < tr->n_models; k++)
        tr->model_bias[k] = NAN;
    if (per == NULL)
        return ESL_OK;
    if (!json_is_object(per))
        return bad(r, "$.training.per_model", "expected an object keyed by model");
    const char *key;
    json_t *o;
    json_object_foreach(per, key, o) {
        char path[320];
        snprintf(path, sizeof path, "$.training.per_model.%s", key);
        int k = esl__law_model_index(law, key), rc;
        if (k < 0)
            return bad(r, path, "not a model of $.training.models");
        if ((rc = check_keys(r, o, path, keys)) != ESL_OK)
            return rc;
        json_t *rows = json_object_get(o, "rows"), *b = json_object_get(o, "held_out_bias");
        char sub[352];
        snprintf(sub, sizeof sub, "%s.rows", path);
        if (!json_is_integer(rows) || json_integer_value(rows) < 1)
            return bad(r, sub, "expected a positive integer");
        tr->model_rows[k] = (size_t)json_integer_value(rows);
        snprintf(sub, sizeof sub, "%s.residual_variance", path);
        if ((rc = get_real(r, json_object_get(o, "residual_variance"), sub,
                           &tr->model_sigma2[k])) != ESL_OK)
            return rc;
        if (tr->model_sigma2[k] < 0)
            return bad(r, sub, "a variance cannot be negative");
        snprintf(sub, sizeof sub, "%s.held_out_bias", path);
        if (!json_is_null(b) && (rc = get_real(r, b, sub, &tr->model_bias[k])) != ESL_OK)
            return rc;
    }
    return ESL_OK;
}

/* The between-model variance; absent in older law files (then 0). */
static int get_between(const rd *r, esl_law *law, json_t *bm)
{
    static const char *const keys[] = {"variance", "models", NULL};
    if (bm == NULL)
        return ESL_OK;
    int rc = check_keys(r, bm, "$.between_model", keys);
    if (rc == ESL_OK)
        rc = get_real(r, json_object_get(bm, "variance"), "$.between_model.variance", &law->tau2);
    if (rc == ESL_OK && law->tau2 < 0)
        return bad(r, "$.between_model.variance", "a variance cannot be negative");
    json_t *n = json_object_get(bm, "models");
    if (rc == ESL_OK && (!json_is_integer(n) || json_integer_value(n) < 0))
        return bad(r, "$.between_model.models", "expected a count");
    if (rc == ESL_OK)
        law->tau2_models = (size_t)json_integer_value(n);
    return rc;
}

/* kappa per training GPU (by-kind form). */
static int get_kappa(const rd *r, esl_law *law, json_t *ka)
{
    if (ka == NULL)
        return ESL_OK;
    if (!json_is_object(ka))
        return bad(r, "$.kappa", "expected an object keyed by gpu");
    const char *key;
    json_t *v;
    json_object_foreach(ka, key, v) {
        char path[320];
        double kappa = 0;
        snprintf(path, sizeof path, "$.kappa.%s", key);
        int rc = get_real(r, v, path, &kappa);
        if (rc == ESL_OK && !(kappa > 0))
            return bad(r, path, "expected a positive number");
        if (rc == ESL_OK)
            rc = esl__law_add_kappa(law, key, kappa);
        if (rc != ESL_OK)
            return rc;
    }
    return ESL_OK;
}

static int get_training(const rd *r, esl_law *law, json_t *t)
{
    static const char *const keys[] = {"rows", "models", "gpus", "dtypes", "flops_cfg",
                                       "pixels", "steps", "energy_j", NULL};
    static const char *const optional[] = {"per_model", NULL};
    esl_law_training *tr = &law->training;
    int rc = check_keys_opt(r, t, "$.training", keys, optional);
    if (rc != ESL_OK)
        return rc;
    json_t *rows = json_object_get(t, "rows");
    if (!json_is_integer(rows) || json_integer_value(rows) < 1)
        return bad(r, "$.training.rows", "expected a positive integer");
    tr->n_rows = (size_t)json_integer_value(rows);
    char **list = NULL;
    size_t n = 0;
    for (int i = 0; i < 2 && rc == ESL_OK; i++) {
        const char *key = i == 0 ? "gpus" : "dtypes";
        char path[32];
        snprintf(path, sizeof path, "$.training.%s", key);
        rc = get_strings(r, json_object_get(t, key), path, &list, &n);
        for (size_t k = 0; k < n; k++)
            free(list[k]);
        free(list);
        list = NULL;
    }
    if (rc == ESL_OK)
        rc = get_strings(r, json_object_get(t, "models"), "$.training.models", &tr->models,
                         &tr->n_models);
    if (rc == ESL_OK)
        rc = get_range(r, json_object_get(t, "flops_cfg"), "$.training.flops_cfg", &tr->flops_min,
                       &tr->flops_max);
    if (rc == ESL_OK)
        rc = get_range(r, json_object_get(t, "pixels"), "$.training.pixels", &tr->pixels_min,
                       &tr->pixels_max);
    if (rc == ESL_OK)
        rc = get_range(r, json_object_get(t, "steps"), "$.training.steps", &tr->steps_min,
                       &tr->steps_max);
    if (rc == ESL_OK)
        rc = get_range(r, json_object_get(t, "energy_j"), "$.training.energy_j",
                       &tr->energy_min_j, &tr->energy_max_j);
    if (rc == ESL_OK)
        rc = get_per_model(r, law, json_object_get(t, "per_model"));
    return rc;
}

static int get_metrics(const rd *r, esl_law *law, json_t *m)
{
    static const char *const keys[] = {"r2_log", "r2_adj_log", "rmse_log", "r2_lin", "mape_pct",
                                       NULL};
    int rc = check_keys(r, m, "$.metrics", keys);
    double *dst[] = {&law->metrics.r2_log, &law->metrics.r2_adj_log, &law->metrics.rmse_log,
                     &law->metrics.r2_lin, &law->metrics.mape_pct};
    for (size_t i = 0; i < 5 && rc == ESL_OK; i++) {
        char path[48];
        snprintf(path, sizeof path, "$.metrics.%s", keys[i]);
        rc = get_real(r, json_object_get(m, keys[i]), path, dst[i]);
    }
    return rc;
}

static int read_doc(const rd *r, esl_law *law, json_t *doc);

static int read_doc(const rd *r, esl_law *law, json_t *doc)
{
    static const char *const keys[] = {
        "esl_law", "form", "equation", "convention", "method", "terms", "factors", "dropped",
        "features", "covariance", "residual_variance", "dof", "training", "metrics", NULL};
    static const char *const optional[] = {"between_model", "kappa", "response", "between_gpu",
                                           "time", NULL};
    int rc = check_keys_opt(r, doc, "$", keys, optional);
    if (rc != ESL_OK)
        return rc;
    json_t *v = json_object_get(doc, "esl_law");
    if (!json_is_integer(v) || json_integer_value(v) != LAW_VERSION)
        return bad(r, "$.esl_law", "expected 1 (the law file version)");
    v = json_object_get(doc, "form");
    if (!json_is_string(v) || !esl_law_form_known(json_string_value(v)))
        return bad(r, "$.form", "expected \"paper\", \"per-image\", \"roofline\" or \"by-kind\"");
    esl_law_form_parse(&law->form_id, json_string_value(v));
    law->form = esl_law_form_get(law->form_id)->name;
    if (!json_is_string(json_object_get(doc, "equation")))
        return bad(r, "$.equation", "expected a string");
    v = json_object_get(doc, "convention");
    if (!json_is_string(v) || esl_convention_parse(&law->convention, json_string_value(v)) != ESL_OK)
        return bad(r, "$.convention", "expected \"paper\" or \"exact\"");
    v = json_object_get(doc, "method");
    int method = -1;
    for (int m = 0; m < 3 && json_is_string(v); m++)
        if (strcmp(json_string_value(v), esl_fit_method_name((esl_fit_method)m)) == 0)
            method = m;
    if (method < 0)
        return bad(r, "$.method", "expected \"ols\", \"weighted\" or \"robust\"");
    law->method = (esl_fit_method)method;
    v = json_object_get(doc, "terms");
    if (!json_is_array(v))
        return bad(r, "$.terms", "expected an array of term names");
    for (size_t i = 0; i < json_array_size(v); i++) {
        json_t *t = json_array_get(v, i);
        unsigned bit;
        char path[48];
        snprintf(path, sizeof path, "$.terms[%zu]", i);
        if (!json_is_string(t) || esl__term_bit(&bit, json_string_value(t)) != ESL_OK)
            return bad(r, path, "expected one of flops, dtype, gpu, res, attn, conv, bytes");
        law->terms |= bit;
    }
    json_t *factors = json_object_get(doc, "factors");
    static const char *const factor_keys[] = {"gpu", "dtype", NULL};
    if ((rc = check_keys(r, factors, "$.factors", factor_keys)) != ESL_OK ||
        (rc = get_factor(r, law, factors, 0)) != ESL_OK ||
        (rc = get_factor(r, law, factors, 1)) != ESL_OK ||
        (rc = get_strings(r, json_object_get(doc, "dropped"), "$.dropped", &law->dropped,
                          &law->n_dropped)) != ESL_OK)
        return rc;
    json_t *features = json_object_get(doc, "features");
    if (!json_is_array(features) || json_array_size(features) == 0 ||
        json_array_size(features) > 64)
        return bad(r, "$.features", "expected an array of 1 to 64 features");
    for (size_t j = 0; j < json_array_size(features); j++)
        if ((rc = get_feature(r, law, json_array_get(features, j), j)) != ESL_OK)
            return rc;
    for (size_t k = 0; k < 2; k++) /* every non-baseline level has its one-hot feature */
        for (size_t i = 1; i < law->factors[k].n_levels; i++) {
            int found = 0;
            for (size_t j = 0; j < law->n_features && !found; j++)
                found = law->features[j].level != NULL &&
                        strcmp(law->features[j].column, law->factors[k].column) == 0 &&
                        strcmp(law->features[j].level, law->factors[k].levels[i]) == 0;
            if (!found) {
                char msg[160];
                snprintf(msg, sizeof msg, "level '%s' of %s has no feature", law->factors[k].levels[i],
                         law->factors[k].column);
                return bad(r, "$.features", msg);
            }
        }
    if ((rc = get_coefs(r, law, features, json_object_get(doc, "covariance"))) != ESL_OK)
        return rc;
    if ((rc = get_real(r, json_object_get(doc, "residual_variance"), "$.residual_variance",
                       &law->sigma2)) != ESL_OK)
        return rc;
    if (law->sigma2 < 0)
        return bad(r, "$.residual_variance", "a variance cannot be negative");
    v = json_object_get(doc, "dof");
    if (!json_is_integer(v) || json_integer_value(v) < 1)
        return bad(r, "$.dof", "expected a positive integer");
    law->dof = json_integer_value(v);
    if ((rc = get_training(r, law, json_object_get(doc, "training"))) != ESL_OK ||
        (rc = get_between(r, law, json_object_get(doc, "between_model"))) != ESL_OK ||
        (rc = get_kappa(r, law, json_object_get(doc, "kappa"))) != ESL_OK ||
        (rc = get_metrics(r, law, json_object_get(doc, "metrics"))) != ESL_OK)
        return rc;
    v = json_object_get(doc, "response");
    if (v != NULL && !(json_is_string(v) && (strcmp(json_string_value(v), "time") == 0 ||
                                             strcmp(json_string_value(v), "energy") == 0)))
        return bad(r, "$.response", "expected \"energy\" or \"time\"");
    law->response = v != NULL && strcmp(json_string_value(v), "time") == 0 ? ESL_RESPONSE_TIME
                                                                          : ESL_RESPONSE_ENERGY;
    json_t *bg = json_object_get(doc, "between_gpu");
    if (bg != NULL) {
        static const char *const bkeys[] = {"variance", "gpus", NULL};
        if ((rc = check_keys(r, bg, "$.between_gpu", bkeys)) != ESL_OK ||
            (rc = get_real(r, json_object_get(bg, "variance"), "$.between_gpu.variance",
                           &law->tau2_gpu)) != ESL_OK)
            return rc;
        json_t *n = json_object_get(bg, "gpus");
        if (law->tau2_gpu < 0 || !json_is_integer(n) || json_integer_value(n) < 0)
            return bad(r, "$.between_gpu", "expected a non-negative variance and count");
        law->tau2_gpus = (size_t)json_integer_value(n);
    }
    json_t *time = json_object_get(doc, "time");
    if (time != NULL) {
        if (law->response == ESL_RESPONSE_TIME)
            return bad(r, "$.time", "a time law holds no time law");
        char origin[320];
        snprintf(origin, sizeof origin, "%s: $.time", r->origin);
        rd sub = {origin};
        if ((law->time = calloc(1, sizeof *law->time)) == NULL)
            return esl__fail(ESL_ENOMEM, "out of memory");
        if ((rc = read_doc(&sub, law->time, time)) != ESL_OK)
            return rc;
        if (law->time->response != ESL_RESPONSE_TIME)
            return bad(r, "$.time.response", "expected \"time\"");
    }
    return ESL_OK;
}

int esl_law_parse(esl_law **out, const char *json, size_t len, const char *origin)
{
    json_error_t err;
    *out = NULL;
    json_t *doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &err);
    if (doc == NULL)
        return esl__fail(ESL_EPARSE, "%s:%d:%d: %s", origin, err.line, err.column, err.text);
    esl_law *law = calloc(1, sizeof *law);
    if (law == NULL) {
        json_decref(doc);
        return esl__fail(ESL_ENOMEM, "out of memory");
    }
    rd r = {origin};
    int rc = read_doc(&r, law, doc);
    json_decref(doc);
    if (rc != ESL_OK) {
        esl_law_free(law);
        return rc;
    }
    *out = law;
    return ESL_OK;
}

int esl_law_load(esl_law **out, const char *path)
{
    *out = NULL;
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return esl__fail(errno == ENOENT ? ESL_ENOTFOUND : ESL_EIO, "%s: cannot open: %s", path,
                         strerror(errno));
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    int rc = buf ? ESL_OK : esl__fail(ESL_ENOMEM, "out of memory");
    for (size_t n; rc == ESL_OK && (n = fread(buf + len, 1, cap - len, fp)) > 0;) {
        len += n;
        if (len == cap) {
            char *grown = cap < (64u << 20) ? realloc(buf, cap *= 2) : NULL;
            if (grown == NULL)
                rc = esl__fail(ESL_EINVAL, "%s: larger than 64 MiB: not a law file", path);
            else
                buf = grown;
        }
    }
    if (rc == ESL_OK && ferror(fp))
        rc = esl__fail(ESL_EIO, "%s: read error", path);
    fclose(fp);
    if (rc == ESL_OK)
        rc = esl_law_parse(out, buf, len, path);
    free(buf);
    return rc;
}
