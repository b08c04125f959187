/*
 * model.c - reading a model description (docs/model-format.md) with jansson.
 *
 * The reader is strict: every object's keys are checked against the keys its
 * kind allows, every number against its range, and each failure names the
 * file and the JSON path of the offending value ("$.components[2].terms[0]
 * .d_ff"), so that a user can fix a description without reading code. The
 * pixel granularity a model needs (H and W multiples) is derived here from
 * its terms, once, so that the FLOP engine can reject sizes up front.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/internal.h"
#include "esl/model.h"

#define ESL_MODEL_FORMAT "esl-model/1"
#define MAX_FILE_BYTES (16u << 20)

typedef struct reader {
    const char *origin;
    char path[256];
} reader;

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a real number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "a value";
}

static int fail_at(const reader *rd, int status, const char *key, const char *fmt, ...)
    ESL_PRINTF(4, 5);

/* "origin: $.path.key: message" */
static int fail_at(const reader *rd, int status, const char *key, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (key != NULL)
        return esl__fail(status, "%s: %s.%s: %s", rd->origin, rd->path, key, msg);
    return esl__fail(status, "%s: %s: %s", rd->origin, rd->path, msg);
}

/* Reject keys outside `allowed` (NULL-terminated). */
static int check_keys(const reader *rd, json_t *obj, const char *const *allowed)
{
    const char *key;
    json_t *value;
    json_object_foreach(obj, key, value) {
        int known = 0;
        for (const char *const *a = allowed; *a != NULL; a++)
            if (strcmp(*a, key) == 0)
                known = 1;
        if (!known) {
            char list[256] = "";
            for (const char *const *a = allowed; *a != NULL; a++) {
                strncat(list, *a, sizeof list - strlen(list) - 1);
                if (a[1] != NULL)
                    strncat(list, ", ", sizeof list - strlen(list) - 1);
            }
            return fail_at(rd, ESL_EINVAL, NULL, "unknown key '%s' (allowed: %s)", key, list);
        }
    }
    return ESL_OK;
}

/* An integer member in [min, max]; `def` when absent and not required. */
static int get_int(const reader *rd, json_t *obj, const char *key, int required,
                   int64_t min, int64_t max, int64_t def, int64_t *out)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL) {
        if (required)
            return fail_at(rd, ESL_EINVAL, NULL, "missing key '%s'", key);
        *out = def;
        return ESL_OK;
    }
    if (!json_is_integer(v))
        return fail_at(rd, ESL_EINVAL, key, "expected an integer, got %s", type_name(v));
    json_int_t x = json_integer_value(v);
    if (x < min || x > max)
        return fail_at(rd, ESL_EINVAL, key, "%lld is out of range [%lld, %lld]", (long long)x,
                       (long long)min, (long long)max);
    *out = (int64_t)x;
    return ESL_OK;
}

/* A string member copied into *out; NULL when absent and not required. */
static int get_str(const reader *rd, json_t *obj, const char *key, int required, char **out)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (v == NULL)
        return required ? fail_at(rd, ESL_EINVAL, NULL, "missing key '%s'", key) : ESL_OK;
    if (!json_is_string(v))
        return fail_at(rd, ESL_EINVAL, key, "expected a string, got %s", type_name(v));
    if ((*out = esl__strdup(json_string_value(v))) == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory reading %s", rd->origin);
    return ESL_OK;
}

static const struct {
    const char *name;
    esl_op op;
} op_names[] = {
    {"conv", ESL_OP_CONV},       {"res", ESL_OP_RES},         {"tr", ESL_OP_TR},
    {"mmdit", ESL_OP_MMDIT},     {"crosstr", ESL_OP_CROSSTR}, {"linear", ESL_OP_LINEAR},
    {"decoder", ESL_OP_DECODER}, {"flops", ESL_OP_CONST},
};

const char *esl_op_name(esl_op op)
{
    for (size_t i = 0; i < sizeof op_names / sizeof op_names[0]; i++)
        if (op_names[i].op == op)
            return op_names[i].name;
    return "unknown";
}

const char *esl_stage_name(esl_stage stage)
{
    switch (stage) {
    case ESL_STAGE_TEXT: return "text";
    case ESL_STAGE_DENOISE: return "denoise";
    case ESL_STAGE_DECODE: return "decode";
    }
    return "unknown";
}

int esl__model_has_paper_terms(const struct esl_model *m)
{
    for (size_t i = 0; i < m->n_components; i++)
        if (m->components[i].n_terms == 0)
            return 0;
    return 1;
}

#define DIM_MAX (INT64_C(1) << 32)

/* The sequence rule of a term: "ctx": N | "image" | "image+text". */
static int read_ctx(const reader *rd, json_t *obj, esl_term *t)
{
    json_t *v = json_object_get(obj, "ctx");
    if (v == NULL)
        return fail_at(rd, ESL_EINVAL, NULL, "missing key 'ctx'");
    if (json_is_integer(v)) {
        json_int_t n = json_integer_value(v);
        if (n < 0 || n > DIM_MAX)
            return fail_at(rd, ESL_EINVAL, "ctx", "%lld is out of range [0, %lld]",
                           (long long)n, (long long)DIM_MAX);
        t->ctx = ESL_EXTENT_FIXED;
        t->tokens = n;
    } else if (json_is_string(v) && strcmp(json_string_value(v), "image") == 0) {
        t->ctx = ESL_EXTENT_IMAGE;
    } else if (json_is_string(v) && strcmp(json_string_value(v), "image+text") == 0) {
        t->ctx = ESL_EXTENT_IMAGE_TEXT;
    } else if (json_is_string(v) && strcmp(json_string_value(v), "text") == 0) {
        t->ctx = ESL_EXTENT_TEXT;
    } else if (json_is_string(v)) {
        return fail_at(rd, ESL_EINVAL, "ctx",
                       "'%s' is not a token count, \"text\", \"image\" or \"image+text\"",
                       json_string_value(v));
    } else {
        return fail_at(rd, ESL_EINVAL, "ctx",
                       "expected a token count, \"text\", \"image\" or \"image+text\", got %s",
                       type_name(v));
    }
    return ESL_OK;
}

static int read_const(const reader *rd, json_t *obj, esl_term *t)
{
    json_t *value = json_object_get(obj, "value");
    json_t *factors = json_object_get(obj, "factors");
    if ((value == NULL) == (factors == NULL))
        return fail_at(rd, ESL_EINVAL, NULL, "a flops term needs exactly one of 'value' or 'factors'");
    if (value != NULL) {
        if (!json_is_integer(value))
            return fail_at(rd, ESL_EINVAL, "value", "expected an integer, got %s", type_name(value));
        t->value = json_integer_value(value);
        return ESL_OK;
    }
    if (!json_is_array(factors) || json_array_size(factors) == 0)
        return fail_at(rd, ESL_EINVAL, "factors", "expected a non-empty array of integers, got %s",
                       type_name(factors));
    int64_t acc = 1;
    size_t i;
    json_t *f;
    json_array_foreach(factors, i, f) {
        if (!json_is_integer(f))
            return fail_at(rd, ESL_EINVAL, "factors", "element %zu: expected an integer, got %s", i,
                           type_name(f));
        if (!esl__mul(&acc, json_integer_value(f)))
            return fail_at(rd, ESL_ERANGE, "factors", "product overflows 64-bit integers");
    }
    t->value = acc;
    return ESL_OK;
}

static int read_term(reader *rd, json_t *obj, const esl_model *m, esl_term *t)
{
    static const char *const k_conv[] = {"op", "count", "label", "note", "k", "c_in", "c_out", "scale", NULL};
    static const char *const k_tr[] = {"op", "count", "label", "note", "d_model", "d_ff", "d_attn",
                                       "n_layer", "ctx", "scale", "patch", NULL};
    static const char *const k_cross[] = {"op", "count", "label", "note", "d_q", "d_k", "d_ff", "d_attn",
                                          "n_layer", "ctx", "n_k", "scale", "patch", NULL};
    static const char *const k_linear[] = {"op", "count", "label", "note", "d_in", "d_out", "ctx",
                                           "scale", "patch", NULL};
    static const char *const k_dec[] = {"op", "count", "label", "note", "latent_channels", NULL};
    static const char *const k_const[] = {"op", "count", "label", "note", "value", "factors", NULL};
    int64_t x;
    int rc;
    char *opname = NULL;

    if (!json_is_object(obj))
        return fail_at(rd, ESL_EINVAL, NULL, "expected an object, got %s", type_name(obj));
    if ((rc = get_str(rd, obj, "op", 1, &opname)) != ESL_OK)
        return rc;
    size_t i;
    for (i = 0; i < sizeof op_names / sizeof op_names[0]; i++)
        if (strcmp(op_names[i].name, opname) == 0)
            break;
    if (i == sizeof op_names / sizeof op_names[0]) {
        rc = fail_at(rd, ESL_EINVAL, "op",
                     "unknown primitive '%s' (known: conv, res, tr, mmdit, crosstr, linear, decoder, flops)",
                     opname);
        free(opname);
        return rc;
    }
    free(opname);
    t->op = op_names[i].op;
    t->patch = m->patch;

    if ((rc = get_int(rd, obj, "count", 0, 1, DIM_MAX, 1, &t->count)) != ESL_OK ||
        (rc = get_str(rd, obj, "label", 0, &t->label)) != ESL_OK)
        return rc;
    json_t *note = json_object_get(obj, "note");
    if (note != NULL && !json_is_string(note))
        return fail_at(rd, ESL_EINVAL, "note", "expected a string, got %s", type_name(note));

    switch (t->op) {
    case ESL_OP_CONV:
    case ESL_OP_RES:
        if ((rc = check_keys(rd, obj, k_conv)) != ESL_OK ||
            (rc = get_int(rd, obj, "k", 1, 1, 64, 0, &t->k)) != ESL_OK ||
            (rc = get_int(rd, obj, "c_in", 1, 1, DIM_MAX, 0, &t->c_in)) != ESL_OK ||
            (rc = get_int(rd, obj, "c_out", 1, 1, DIM_MAX, 0, &t->c_out)) != ESL_OK ||
            (rc = get_int(rd, obj, "scale", 0, -16, 16, 0, &x)) != ESL_OK)
            return rc;
        t->scale = (int)x;
        break;
    case ESL_OP_TR:
    case ESL_OP_MMDIT:
        if ((rc = check_keys(rd, obj, k_tr)) != ESL_OK ||
            (rc = get_int(rd, obj, "d_model", 1, 1, DIM_MAX, 0, &t->d_model)) != ESL_OK ||
            (rc = get_int(rd, obj, "d_ff", 1, 0, DIM_MAX, 0, &t->d_ff)) != ESL_OK ||
            (rc = get_int(rd, obj, "d_attn", 1, 0, DIM_MAX, 0, &t->d_attn)) != ESL_OK ||
            (rc = get_int(rd, obj, "n_layer", 1, 1, DIM_MAX, 0, &t->n_layer)) != ESL_OK ||
            (rc = read_ctx(rd, obj, t)) != ESL_OK)
            return rc;
        break;
    case ESL_OP_CROSSTR: {
        if ((rc = check_keys(rd, obj, k_cross)) != ESL_OK ||
            (rc = get_int(rd, obj, "d_q", 1, 1, DIM_MAX, 0, &t->d_model)) != ESL_OK ||
            (rc = get_int(rd, obj, "d_k", 1, 1, DIM_MAX, 0, &t->d_k)) != ESL_OK ||
            (rc = get_int(rd, obj, "d_ff", 1, 0, DIM_MAX, 0, &t->d_ff)) != ESL_OK ||
            (rc = get_int(rd, obj, "d_attn", 1, 0, DIM_MAX, 0, &t->d_attn)) != ESL_OK ||
            (rc = get_int(rd, obj, "n_layer", 1, 1, DIM_MAX, 0, &t->n_layer)) != ESL_OK ||
            (rc = read_ctx(rd, obj, t)) != ESL_OK)
            return rc;
        json_t *nk = json_object_get(obj, "n_k");
        if (nk == NULL)
            return fail_at(rd, ESL_EINVAL, NULL, "missing key 'n_k'");
        if (json_is_string(nk) && strcmp(json_string_value(nk), "text") == 0)
            t->n_k_text = 1;
        else if ((rc = get_int(rd, obj, "n_k", 1, 1, DIM_MAX, 0, &t->n_k)) != ESL_OK)
            return rc;
        break;
    }
    case ESL_OP_LINEAR:
        if ((rc = check_keys(rd, obj, k_linear)) != ESL_OK ||
            (rc = get_int(rd, obj, "d_in", 1, 1, DIM_MAX, 0, &t->d_in)) != ESL_OK ||
            (rc = get_int(rd, obj, "d_out", 1, 1, DIM_MAX, 0, &t->d_out)) != ESL_OK ||
            (rc = read_ctx(rd, obj, t)) != ESL_OK)
            return rc;
        break;
    case ESL_OP_DECODER:
        if ((rc = check_keys(rd, obj, k_dec)) != ESL_OK ||
            (rc = get_int(rd, obj, "latent_channels", 0, 1, DIM_MAX, m->latent_channels,
                          &t->latent_channels)) != ESL_OK)
            return rc;
        break;
    case ESL_OP_CONST:
        if ((rc = check_keys(rd, obj, k_const)) != ESL_OK || (rc = read_const(rd, obj, t)) != ESL_OK)
            return rc;
        break;
    }
    if (t->op == ESL_OP_TR || t->op == ESL_OP_MMDIT || t->op == ESL_OP_CROSSTR ||
        t->op == ESL_OP_LINEAR) {
        if ((rc = get_int(rd, obj, "scale", 0, -16, 16, 0, &x)) != ESL_OK)
            return rc;
        t->scale = (int)x;
        if ((rc = get_int(rd, obj, "patch", 0, 1, 1 << 20, m->patch, &t->patch)) != ESL_OK)
            return rc;
        if ((t->ctx == ESL_EXTENT_FIXED || t->ctx == ESL_EXTENT_TEXT) &&
            (json_object_get(obj, "scale") != NULL || json_object_get(obj, "patch") != NULL))
            return fail_at(rd, ESL_EINVAL, NULL,
                           "'scale' and 'patch' apply only to an image sequence (ctx \"image\")");
    }
    return ESL_OK;
}

/* The architecture section: an object with a string "class", kept as JSON
 * text for the layer plan, which checks the class's own fields. */
static int read_arch(const reader *rd, json_t *arch, esl_component *c)
{
    if (!json_is_object(arch))
        return fail_at(rd, ESL_EINVAL, "arch", "expected an object, got %s", type_name(arch));
    json_t *cls = json_object_get(arch, "class");
    if (cls == NULL)
        return fail_at(rd, ESL_EINVAL, "arch", "missing key 'class'");
    if (!json_is_string(cls))
        return fail_at(rd, ESL_EINVAL, "arch.class", "expected a string, got %s", type_name(cls));
    if ((c->arch = json_dumps(arch, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(17))) == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory reading %s", rd->origin);
    return ESL_OK;
}

static int read_component(reader *rd, json_t *obj, const esl_model *m, esl_component *c)
{
    static const char *const keys[] = {"name", "stage", "params", "note", "terms", "arch", NULL};
    char *stage = NULL;
    int rc;

    if (!json_is_object(obj))
        return fail_at(rd, ESL_EINVAL, NULL, "expected an object, got %s", type_name(obj));
    if ((rc = check_keys(rd, obj, keys)) != ESL_OK ||
        (rc = get_str(rd, obj, "name", 1, &c->name)) != ESL_OK ||
        (rc = get_int(rd, obj, "params", 0, 0, INT64_MAX, 0, &c->params)) != ESL_OK ||
        (rc = get_str(rd, obj, "stage", 1, &stage)) != ESL_OK)
        return rc;
    if (strcmp(stage, "text") == 0)
        c->stage = ESL_STAGE_TEXT;
    else if (strcmp(stage, "denoise") == 0)
        c->stage = ESL_STAGE_DENOISE;
    else if (strcmp(stage, "decode") == 0)
        c->stage = ESL_STAGE_DECODE;
    else
        rc = fail_at(rd, ESL_EINVAL, "stage", "'%s' is not one of text, denoise, decode", stage);
    free(stage);
    if (rc != ESL_OK)
        return rc;

    json_t *arch = json_object_get(obj, "arch");
    if (arch != NULL && (rc = read_arch(rd, arch, c)) != ESL_OK)
        return rc;
    json_t *terms = json_object_get(obj, "terms");
    if (terms == NULL && arch != NULL)
        return ESL_OK; /* counted in the exact convention only */
    if (terms == NULL)
        return fail_at(rd, ESL_EINVAL, NULL, "missing key 'terms'");
    if (!json_is_array(terms) || json_array_size(terms) == 0)
        return fail_at(rd, ESL_EINVAL, "terms", "expected a non-empty array, got %s%s",
                       type_name(terms), json_is_array(terms) ? " with no element" : "");
    c->n_terms = json_array_size(terms);
    if ((c->terms = calloc(c->n_terms, sizeof *c->terms)) == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory reading %s", rd->origin);
    size_t base = strlen(rd->path);
    for (size_t i = 0; i < c->n_terms; i++) {
        snprintf(rd->path + base, sizeof rd->path - base, ".terms[%zu]", i);
        if ((rc = read_term(rd, json_array_get(terms, i), m, &c->terms[i])) != ESL_OK)
            return rc;
    }
    rd->path[base] = '\0';
    return ESL_OK;
}

static int64_t gcd64(int64_t a, int64_t b)
{
    while (b != 0) {
        int64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

static int64_t lcm64(int64_t a, int64_t b)
{
    return a / gcd64(a, b) * b;
}

/* The multiple of pixels H and W must be so that every grid and token count
 * of every term is a whole number. */
static void derive_pixel_multiple(esl_model *m)
{
    int64_t latent = 1; /* latent-side granularity */
    int decoder = 0;
    for (size_t i = 0; i < m->n_components; i++) {
        const esl_component *c = &m->components[i];
        for (size_t j = 0; j < c->n_terms; j++) {
            const esl_term *t = &c->terms[j];
            int64_t down = t->scale < 0 ? INT64_C(1) << -t->scale : 1;
            int64_t up = t->scale > 0 ? INT64_C(1) << t->scale : 1;
            if (t->op == ESL_OP_CONV || t->op == ESL_OP_RES)
                latent = lcm64(latent, down);
            else if (t->op == ESL_OP_DECODER)
                decoder = 1;
            else if (t->op != ESL_OP_CONST && (t->ctx == ESL_EXTENT_IMAGE ||
                                               t->ctx == ESL_EXTENT_IMAGE_TEXT))
                latent = lcm64(latent, down * (t->patch / gcd64(t->patch, up)));
        }
    }
    m->pixel_multiple = latent * m->latent_factor;
    if (decoder)
        m->pixel_multiple = lcm64(m->pixel_multiple, 8);
}

static int read_model(reader *rd, json_t *root, esl_model *m)
{
    static const char *const keys[] = {"format", "name", "display_name", "family", "source", "note",
                                       "latent", "patch", "text_tokens", "components", NULL};
    static const char *const latent_keys[] = {"factor", "channels", NULL};
    char *format = NULL;
    int rc;

    if (!json_is_object(root))
        return fail_at(rd, ESL_EINVAL, NULL, "expected an object, got %s", type_name(root));
    if ((rc = check_keys(rd, root, keys)) != ESL_OK ||
        (rc = get_str(rd, root, "format", 0, &format)) != ESL_OK)
        return rc;
    if (format != NULL && strcmp(format, ESL_MODEL_FORMAT) != 0) {
        rc = fail_at(rd, ESL_EINVAL, "format", "'%s' is not a format this version reads (%s)", format,
                     ESL_MODEL_FORMAT);
        free(format);
        return rc;
    }
    free(format);
    if ((rc = get_str(rd, root, "name", 1, &m->name)) != ESL_OK ||
        (rc = get_str(rd, root, "display_name", 0, &m->display_name)) != ESL_OK ||
        (rc = get_str(rd, root, "family", 0, &m->family)) != ESL_OK ||
        (rc = get_str(rd, root, "source", 0, &m->source)) != ESL_OK ||
        (rc = get_int(rd, root, "patch", 0, 1, 1 << 20, 1, &m->patch)) != ESL_OK ||
        (rc = get_int(rd, root, "text_tokens", 0, 0, DIM_MAX, 0, &m->text_tokens)) != ESL_OK)
        return rc;
    if (m->name[0] == '\0')
        return fail_at(rd, ESL_EINVAL, "name", "must not be empty");

    json_t *latent = json_object_get(root, "latent");
    if (latent == NULL)
        return fail_at(rd, ESL_EINVAL, NULL, "missing key 'latent'");
    if (!json_is_object(latent))
        return fail_at(rd, ESL_EINVAL, "latent", "expected an object, got %s", type_name(latent));
    strcat(rd->path, ".latent");
    if ((rc = check_keys(rd, latent, latent_keys)) != ESL_OK ||
        (rc = get_int(rd, latent, "factor", 1, 1, 1 << 20, 0, &m->latent_factor)) != ESL_OK ||
        (rc = get_int(rd, latent, "channels", 1, 1, DIM_MAX, 0, &m->latent_channels)) != ESL_OK)
        return rc;
    strcpy(rd->path, "$");

    json_t *comps = json_object_get(root, "components");
    if (comps == NULL)
        return fail_at(rd, ESL_EINVAL, NULL, "missing key 'components'");
    if (!json_is_array(comps) || json_array_size(comps) == 0)
        return fail_at(rd, ESL_EINVAL, "components", "expected a non-empty array, got %s%s",
                       type_name(comps), json_is_array(comps) ? " with no element" : "");
    m->n_components = json_array_size(comps);
    if ((m->components = calloc(m->n_components, sizeof *m->components)) == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory reading %s", rd->origin);
    int has_denoiser = 0;
    for (size_t i = 0; i < m->n_components; i++) {
        snprintf(rd->path, sizeof rd->path, "$.components[%zu]", i);
        if ((rc = read_component(rd, json_array_get(comps, i), m, &m->components[i])) != ESL_OK)
            return rc;
        has_denoiser |= m->components[i].stage == ESL_STAGE_DENOISE;
    }
    strcpy(rd->path, "$");
    if (!has_denoiser)
        return fail_at(rd, ESL_EINVAL, "components", "no component has stage \"denoise\"");
    derive_pixel_multiple(m);
    return ESL_OK;
}

int esl_model_parse(esl_model **out, const char *json, size_t len, const char *origin)
{
    json_error_t jerr;
    reader rd = {.origin = origin != NULL ? origin : "<memory>", .path = "$"};
    esl_model *m;
    int rc;

    *out = NULL;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL)
        return esl__fail(ESL_EPARSE, "%s:%d:%d: not valid JSON: %s", rd.origin, jerr.line,
                         jerr.column, jerr.text);
    if ((m = calloc(1, sizeof *m)) == NULL) {
        json_decref(root);
        return esl__fail(ESL_ENOMEM, "out of memory reading %s", rd.origin);
    }
    rc = read_model(&rd, root, m);
    json_decref(root);
    if (rc == ESL_OK && (m->origin = esl__strdup(rd.origin)) == NULL)
        rc = esl__fail(ESL_ENOMEM, "out of memory reading %s", rd.origin);
    if (rc != ESL_OK) {
        esl_model_free(m);
        return rc;
    }
    *out = m;
    return ESL_OK;
}

int esl_model_load(esl_model **out, const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0;
    int rc;

    *out = NULL;
    if (f == NULL)
        return esl__fail(errno == ENOENT ? ESL_ENOTFOUND : ESL_EIO, "%s: cannot open: %s", path,
                         strerror(errno));
    if ((buf = malloc(MAX_FILE_BYTES)) == NULL) {
        fclose(f);
        return esl__fail(ESL_ENOMEM, "out of memory reading %s", path);
    }
    len = fread(buf, 1, MAX_FILE_BYTES, f);
    if (ferror(f))
        rc = esl__fail(ESL_EIO, "%s: read error: %s", path, strerror(errno));
    else if (len == MAX_FILE_BYTES)
        rc = esl__fail(ESL_EINVAL, "%s: larger than %u bytes, not a model description", path,
                       MAX_FILE_BYTES);
    else
        rc = esl_model_parse(out, buf, len, path);
    free(buf);
    fclose(f);
    return rc;
}

void esl_model_free(esl_model *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->n_components; i++) {
        esl_component *c = &m->components[i];
        for (size_t j = 0; j < c->n_terms; j++)
            free(c->terms[j].label);
        free(c->terms);
        free(c->name);
        free(c->arch);
    }
    free(m->components);
    free(m->name);
    free(m->display_name);
    free(m->family);
    free(m->source);
    free(m->origin);
    free(m);
}

int64_t esl_model_params(const esl_model *m)
{
    int64_t sum = 0;
    for (size_t i = 0; i < m->n_components; i++)
        if (!esl__add(&sum, m->components[i].params))
            return INT64_MAX;
    return sum;
}
