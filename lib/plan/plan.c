/*
 * plan.c - the layer plan container, the FLOP and parameter conventions of
 * each layer kind (docs/flops.md, "Architecture section (exact convention)"),
 * the config-field readers the builders share, and the dispatch from an
 * architecture class name to its builder.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/internal.h"

static const struct {
    const char *cls;
    void (*build)(builder *b);
} classes[] = {
    {"AutoencoderKL", build_vae_decoder},
    {"AutoencoderDC", build_dc_decoder},
    {"AutoencoderKLQwenImage", build_qwen_vae_decoder},
    {"AuraFlowTransformer2DModel", build_auraflow},
    {"BertModel", build_bert},
    {"CLIPTextModel", build_clip_text},
    {"CLIPTextModelWithProjection", build_clip_text},
    {"CLIPVisionModelWithProjection", build_clip_vision},
    {"CogView4Transformer2DModel", build_cogview4},
    {"DiTTransformer2DModel", build_dit},
    {"FluxTransformer2DModel", build_flux},
    {"Gemma2Model", build_gemma2},
    {"GlmModel", build_glm},
    {"HunyuanDiT2DModel", build_hunyuan_dit},
    {"Kandinsky3UNet", build_kandinsky3_unet},
    {"Lumina2Transformer2DModel", build_lumina2},
    {"PaellaVQModel", build_paella_decoder},
    {"PixArtTransformer2DModel", build_pixart},
    {"PriorTransformer", build_prior},
    {"Qwen2_5_VLForConditionalGeneration", build_qwen2_5_vl_text},
    {"QwenImageTransformer2DModel", build_qwen_image},
    {"SD3Transformer2DModel", build_sd3},
    {"SanaTransformer2DModel", build_sana},
    {"StableCascadeUNet", build_cascade_unet},
    {"T5EncoderModel", build_t5_encoder},
    {"Transformer2DModel", NULL}, /* DiT or PixArt by norm_type, below */
    {"UMT5EncoderModel", build_t5_encoder},
    {"UNet2DConditionModel", build_unet},
    {"VQModel", build_movq_decoder},
};

const char *esl_plan_classes(void)
{
    return "AuraFlowTransformer2DModel, AutoencoderDC, AutoencoderKL, AutoencoderKLQwenImage, BertModel, "
           "CLIPTextModel, CLIPTextModelWithProjection, CLIPVisionModelWithProjection, "
           "CogView4Transformer2DModel, DiTTransformer2DModel, FluxTransformer2DModel, Gemma2Model, GlmModel, "
           "HunyuanDiT2DModel, Kandinsky3UNet, Lumina2Transformer2DModel, PaellaVQModel, PixArtTransformer2DModel, "
           "PriorTransformer, "
           "Qwen2_5_VLForConditionalGeneration, QwenImageTransformer2DModel, SD3Transformer2DModel, "
           "SanaTransformer2DModel, StableCascadeUNet, T5EncoderModel, Transformer2DModel, UMT5EncoderModel, "
           "UNet2DConditionModel, VQModel";
}

const char *esl_layer_kind_name(esl_layer_kind kind)
{
    switch (kind) {
    case ESL_LAYER_LINEAR: return "linear";
    case ESL_LAYER_ATTENTION: return "attention";
    case ESL_LAYER_CONV: return "conv";
    case ESL_LAYER_NORM: return "norm";
    case ESL_LAYER_ACT: return "act";
    case ESL_LAYER_OTHER: return "other";
    }
    return "unknown";
}

void pb_name(char *out, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, size, fmt, ap);
    va_end(ap);
}

void pb_fail(builder *b, int status, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    if (b->rc != ESL_OK)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    b->rc = esl__fail(status, "%s: component %s: %s: %s", b->model->name, b->where, b->cls, msg);
}

/* Append one layer whose FLOPs for one instance are `flops1`. */
static void push(builder *b, esl_layer *l, int64_t flops1)
{
    if (b->rc != ESL_OK)
        return;
    int64_t total = flops1;
    if (!esl__mul(&total, l->count)) {
        pb_fail(b, ESL_ERANGE, "layer %s: FLOP count overflows 64-bit integers", l->name);
        return;
    }
    l->flops = total;
    if (b->shared)
        l->params = 0;
    esl_plan_component *c = b->comp;
    if (c->n_layers == b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 64;
        esl_layer *grown = realloc(c->layers, cap * sizeof *grown);
        if (grown == NULL) {
            b->rc = esl__fail(ESL_ENOMEM, "out of memory building the layer plan");
            return;
        }
        c->layers = grown;
        b->cap = cap;
    }
    int64_t params = l->params;
    if (!esl__mul(&params, l->count) || !esl__add(&c->params, params) ||
        !esl__add(&c->flops, total) || !esl__add(&c->kind_flops[l->kind], total)) {
        pb_fail(b, ESL_ERANGE, "layer %s: totals overflow 64-bit integers", l->name);
        return;
    }
    c->layers[c->n_layers++] = *l;
}

/* Product of non-negative factors with overflow and sign checks. */
static int64_t prod(builder *b, const char *name, int n, ...)
{
    va_list ap;
    int64_t acc = 1;
    va_start(ap, n);
    for (int i = 0; i < n; i++) {
        int64_t x = va_arg(ap, int64_t);
        if (x < 0) {
            pb_fail(b, ESL_EINVAL, "layer %s: negative dimension %lld", name, (long long)x);
            acc = 0;
            break;
        }
        if (!esl__mul(&acc, x)) {
            pb_fail(b, ESL_ERANGE, "layer %s: FLOP count overflows 64-bit integers", name);
            acc = 0;
            break;
        }
    }
    va_end(ap);
    return acc;
}

static esl_layer layer(esl_layer_kind kind, const char *name, int64_t count)
{
    esl_layer l;
    memset(&l, 0, sizeof l);
    l.kind = kind;
    snprintf(l.name, sizeof l.name, "%s", name);
    l.count = count;
    return l;
}

/* 2 m k n for the products, m n more for the bias. */
void pb_linear(builder *b, const char *name, int64_t count, int64_t m, int64_t k, int64_t n, int bias)
{
    esl_layer l = layer(ESL_LAYER_LINEAR, name, count);
    l.m = m, l.k = k, l.n = n, l.bias = bias;
    l.params = prod(b, name, 2, k, n) + (bias ? n : 0);
    int64_t f = prod(b, name, 4, (int64_t)2, m, k, n);
    if (bias && !esl__add(&f, prod(b, name, 2, m, n)))
        pb_fail(b, ESL_ERANGE, "layer %s: FLOP count overflows 64-bit integers", name);
    push(b, &l, f);
}

/* 2 c_in k^2 c_out per output position, c_out more for the bias. */
static void conv(builder *b, const char *name, int64_t count, int64_t c_in, int64_t c_out, int64_t kt,
                 int64_t kernel, int64_t stride, int64_t groups, int64_t h_out, int64_t w_out, int bias)
{
    esl_layer l = layer(ESL_LAYER_CONV, name, count);
    if (groups <= 0 || c_in % groups != 0 || c_out % groups != 0) {
        pb_fail(b, ESL_EINVAL, "layer %s: %lld and %lld channels do not split into %lld groups", name,
                (long long)c_in, (long long)c_out, (long long)groups);
        return;
    }
    l.c_in = c_in, l.c_out = c_out, l.kh = l.kw = kernel, l.kt = kt, l.stride = stride;
    l.groups = groups, l.h_out = h_out, l.w_out = w_out, l.bias = bias;
    /* Each output channel sees c_in / groups input channels. */
    l.params = prod(b, name, 5, c_in / groups, kt, kernel, kernel, c_out) + (bias ? c_out : 0);
    int64_t f = prod(b, name, 8, (int64_t)2, c_in / groups, kt, kernel, kernel, c_out, h_out, w_out);
    if (bias && !esl__add(&f, prod(b, name, 3, c_out, h_out, w_out)))
        pb_fail(b, ESL_ERANGE, "layer %s: FLOP count overflows 64-bit integers", name);
    push(b, &l, f);
}

void pb_conv(builder *b, const char *name, int64_t count, int64_t c_in, int64_t c_out, int64_t kernel,
             int64_t stride, int64_t h_out, int64_t w_out, int bias)
{
    conv(b, name, count, c_in, c_out, 1, kernel, stride, 1, h_out, w_out, bias);
}

void pb_conv_grouped(builder *b, const char *name, int64_t count, int64_t c_in, int64_t c_out,
                     int64_t kernel, int64_t groups, int64_t h_out, int64_t w_out, int bias)
{
    conv(b, name, count, c_in, c_out, 1, kernel, 1, groups, h_out, w_out, bias);
}

void pb_conv3d(builder *b, const char *name, int64_t count, int64_t c_in, int64_t c_out, int64_t kt,
               int64_t kernel, int64_t h_out, int64_t w_out)
{
    conv(b, name, count, c_in, c_out, kt, kernel, 1, 1, h_out, w_out, 1);
}

/* Per head: QK^T 2 q kv d, AV 2 q kv d, softmax FPE_SOFTMAX per score. */
void pb_attention(builder *b, const char *name, int64_t count, int64_t heads, int64_t q_len,
                  int64_t kv_len, int64_t head_dim)
{
    esl_layer l = layer(ESL_LAYER_ATTENTION, name, count);
    l.heads = heads, l.q_len = q_len, l.kv_len = kv_len, l.head_dim = head_dim;
    int64_t per_score = 0;
    if (!esl__add(&per_score, prod(b, name, 2, (int64_t)4, head_dim)) ||
        !esl__add(&per_score, FPE_SOFTMAX))
        pb_fail(b, ESL_ERANGE, "layer %s: FLOP count overflows", name);
    push(b, &l, prod(b, name, 4, heads, q_len, kv_len, per_score));
}

/* Per head over n tokens of width d: ReLU on q and k (2 n d), V padded with
 * a row of ones times K^T (2 n d (d + 1)), that times Q (2 n d (d + 1)),
 * and the normalising division with its epsilon (n (d + 1)). */
void pb_linear_attention(builder *b, const char *name, int64_t count, int64_t heads, int64_t len,
                         int64_t head_dim)
{
    esl_layer l = layer(ESL_LAYER_ATTENTION, name, count);
    l.heads = heads, l.q_len = l.kv_len = len, l.head_dim = head_dim, l.linear_attention = 1;
    int64_t per_token = 2 * head_dim + 4 * head_dim * (head_dim + 1) + head_dim + 1;
    push(b, &l, prod(b, name, 3, heads, len, per_token));
}

void pb_elementwise(builder *b, esl_layer_kind kind, const char *name, int64_t count,
                    int64_t elements, int64_t flops_per_element, int64_t params)
{
    esl_layer l = layer(kind, name, count);
    l.elements = elements, l.flops_per_element = flops_per_element, l.params = params;
    push(b, &l, prod(b, name, 2, elements, flops_per_element));
}

void pb_resnet_tail(builder *b, const char *name, int64_t c_in, int64_t c_out, int64_t h, int64_t w)
{
    char s[48];
    pb_name(s, sizeof s, "%s.act2", name);
    pb_elementwise(b, ESL_LAYER_ACT, s, 1, h * w * c_out, FPE_SILU, 0);
    pb_name(s, sizeof s, "%s.conv2", name);
    pb_conv(b, s, 1, c_out, c_out, 3, 1, h, w, 1);
    if (c_in != c_out) {
        pb_name(s, sizeof s, "%s.conv_shortcut", name);
        pb_conv(b, s, 1, c_in, c_out, 1, 1, h, w, 1);
    }
    pb_name(s, sizeof s, "%s.residual", name);
    pb_elementwise(b, ESL_LAYER_OTHER, s, 1, h * w * c_out, FPE_ADD, 0);
}

void pb_layernorm(builder *b, const char *name, int64_t count, int64_t rows, int64_t width, int affine)
{
    pb_elementwise(b, ESL_LAYER_NORM, name, count, prod(b, name, 2, rows, width),
                   FPE_LAYERNORM + (affine ? FPE_AFFINE : 0), affine ? 2 * width : 0);
}

void pb_rmsnorm(builder *b, const char *name, int64_t count, int64_t rows, int64_t width)
{
    pb_elementwise(b, ESL_LAYER_NORM, name, count, prod(b, name, 2, rows, width),
                   FPE_RMSNORM + FPE_RMS_WEIGHT, width);
}

void pb_table(builder *b, const char *name, int64_t params)
{
    pb_elementwise(b, ESL_LAYER_OTHER, name, 1, 0, 0, params);
}

static json_t *field(builder *b, json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    (void)b;
    return json_is_null(v) ? NULL : v;
}

/* An integer field in [0, max]; `def` when absent (required when < 0). */
static int64_t int_in(builder *b, json_t *obj, const char *key, int64_t def, int64_t max)
{
    json_t *v = field(b, obj, key);
    if (v == NULL) {
        if (def < 0)
            pb_fail(b, ESL_EINVAL, "missing config field '%s'", key);
        return def < 0 ? 0 : def;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        pb_fail(b, ESL_EINVAL, "config field '%s': expected a non-negative integer", key);
        return 0;
    }
    if (json_integer_value(v) > max) {
        pb_fail(b, ESL_ERANGE, "config field '%s': %lld is above the limit of %lld", key,
                (long long)json_integer_value(v), (long long)max);
        return 0;
    }
    return json_integer_value(v);
}

int64_t cfg_int_in(builder *b, json_t *obj, const char *key, int64_t def)
{
    return int_in(b, obj, key, def, PLAN_DIM_MAX);
}

int64_t cfg_int(builder *b, const char *key, int64_t def)
{
    return int_in(b, b->cfg, key, def, PLAN_DIM_MAX);
}

int64_t cfg_count_in(builder *b, json_t *obj, const char *key, int64_t def)
{
    return int_in(b, obj, key, def, PLAN_COUNT_MAX);
}

int64_t cfg_count(builder *b, const char *key, int64_t def)
{
    return int_in(b, b->cfg, key, def, PLAN_COUNT_MAX);
}

const char *cfg_str(builder *b, const char *key, const char *def)
{
    json_t *v = field(b, b->cfg, key);
    if (v == NULL)
        return def;
    if (!json_is_string(v)) {
        pb_fail(b, ESL_EINVAL, "config field '%s': expected a string", key);
        return def;
    }
    return json_string_value(v);
}

int cfg_bool(builder *b, const char *key, int def)
{
    json_t *v = field(b, b->cfg, key);
    if (v == NULL)
        return def;
    if (!json_is_boolean(v)) {
        pb_fail(b, ESL_EINVAL, "config field '%s': expected a boolean", key);
        return def;
    }
    return json_is_true(v);
}

/* The i-th integer of a list field in [0, max]; an integer field counts
 * for every i. */
static int64_t int_at(builder *b, const char *key, size_t i, int64_t def, int64_t max)
{
    json_t *v = field(b, b->cfg, key);
    if (v == NULL || json_is_integer(v))
        return int_in(b, b->cfg, key, def, max);
    if (!json_is_array(v) || i >= json_array_size(v)) {
        pb_fail(b, ESL_EINVAL, "config field '%s': expected an integer or a list of at least %zu",
                key, i + 1);
        return 0;
    }
    json_t *x = json_array_get(v, i);
    if (!json_is_integer(x) || json_integer_value(x) < 0) {
        pb_fail(b, ESL_EINVAL, "config field '%s': element %zu is not a non-negative integer", key, i);
        return 0;
    }
    if (json_integer_value(x) > max) {
        pb_fail(b, ESL_ERANGE, "config field '%s': element %zu: %lld is above the limit of %lld",
                key, i, (long long)json_integer_value(x), (long long)max);
        return 0;
    }
    return json_integer_value(x);
}

int64_t cfg_int_at(builder *b, const char *key, size_t i, int64_t def)
{
    return int_at(b, key, i, def, PLAN_DIM_MAX);
}

int64_t cfg_count_at(builder *b, const char *key, size_t i, int64_t def)
{
    return int_at(b, key, i, def, PLAN_COUNT_MAX);
}

size_t cfg_len(builder *b, const char *key)
{
    json_t *v = field(b, b->cfg, key);
    return json_is_array(v) ? json_array_size(v) : 0;
}

const char *cfg_str_at(builder *b, const char *key, size_t i)
{
    json_t *v = field(b, b->cfg, key);
    json_t *x = json_is_array(v) ? json_array_get(v, i) : NULL;
    if (x == NULL || !json_is_string(x)) {
        pb_fail(b, ESL_EINVAL, "config field '%s': element %zu is not a string", key, i);
        return "";
    }
    return json_string_value(x);
}

void pb_latent(builder *b, int64_t *h, int64_t *w)
{
    *h = b->req->height / b->model->latent_factor;
    *w = b->req->width / b->model->latent_factor;
}

int64_t pb_text_tokens(const builder *b)
{
    return b->req->text_tokens > 0 ? b->req->text_tokens : b->model->text_tokens;
}

static int build_component(esl_plan_component *pc, const esl_model *m, const esl_component *c,
                           const esl_request *r)
{
    json_error_t jerr;
    builder b = {.comp = pc, .where = c->name, .model = m, .req = r, .cls = "?"};
    pc->name = c->name;
    pc->stage = c->stage;
    if (c->arch == NULL)
        return esl__fail(ESL_EUNSUPPORTED,
                         "%s: component %s has no architecture section: the exact convention "
                         "needs one (docs/model-format.md)", m->name, c->name);
    if ((b.cfg = json_loads(c->arch, 0, &jerr)) == NULL)
        return esl__fail(ESL_EINVAL, "%s: component %s: architecture section: %s", m->name,
                         c->name, jerr.text);
    const char *cls = json_string_value(json_object_get(b.cfg, "class"));
    size_t i;
    for (i = 0; i < sizeof classes / sizeof classes[0]; i++)
        if (cls != NULL && strcmp(classes[i].cls, cls) == 0)
            break;
    if (i == sizeof classes / sizeof classes[0]) {
        int rc = esl__fail(ESL_EUNSUPPORTED, "%s: component %s: unsupported architecture class '%s' "
                           "(supported: %s)", m->name, c->name, cls ? cls : "", esl_plan_classes());
        json_decref(b.cfg);
        return rc;
    }
    b.cls = pc->arch_class = classes[i].cls;
    if (classes[i].build == build_unet && unet_is_added_kv(b.cfg)) {
        build_unet_added_kv(&b); /* Kandinsky 2.2's decoder */
    } else if (classes[i].build != NULL) {
        classes[i].build(&b);
    } else {
        const char *norm = cfg_str(&b, "norm_type", "layer_norm");
        if (strcmp(norm, "ada_norm_zero") == 0)
            build_dit(&b);
        else if (strcmp(norm, "ada_norm_single") == 0)
            build_pixart(&b);
        else
            pb_fail(&b, ESL_EUNSUPPORTED, "norm_type '%s' is not supported (ada_norm_zero for DiT, "
                    "ada_norm_single for PixArt)", norm);
    }
    json_decref(b.cfg);
    return b.rc;
}

int esl_plan_build(esl_plan **out, const esl_model *m, const esl_request *r)
{
    *out = NULL;
    if (r->height <= 0 || r->width <= 0 || r->height % m->latent_factor != 0 ||
        r->width % m->latent_factor != 0)
        return esl__fail(ESL_EINVAL, "image size %lldx%lld: height and width must be positive "
                         "multiples of %lld, the latent factor of model %s", (long long)r->height,
                         (long long)r->width, (long long)m->latent_factor, m->name);
    /* The builders multiply a few sizes without checks (elements of an
     * activation, say): these bounds keep every such product inside 64 bits,
     * and anything larger is far beyond an image generator anyway. */
    if (r->height > PLAN_SIDE_MAX || r->width > PLAN_SIDE_MAX ||
        r->height * r->width > PLAN_PIXELS_MAX)
        return esl__fail(ESL_ERANGE, "image size %lldx%lld: the exact convention counts images of "
                         "up to %lld pixels a side and %lld pixels in all", (long long)r->height,
                         (long long)r->width, (long long)PLAN_SIDE_MAX, (long long)PLAN_PIXELS_MAX);
    int64_t text = r->text_tokens > 0 ? r->text_tokens : m->text_tokens;
    if (text > PLAN_DIM_MAX)
        return esl__fail(ESL_ERANGE, "%lld text tokens: the exact convention counts up to %lld",
                         (long long)text, (long long)PLAN_DIM_MAX);
    esl_plan *p = calloc(1, sizeof *p);
    if (p == NULL || (p->components = calloc(m->n_components, sizeof *p->components)) == NULL) {
        free(p);
        return esl__fail(ESL_ENOMEM, "out of memory building the layer plan");
    }
    p->n_components = m->n_components;
    for (size_t i = 0; i < m->n_components; i++) {
        int rc = build_component(&p->components[i], m, &m->components[i], r);
        if (rc != ESL_OK) {
            esl_plan_free(p);
            return rc;
        }
    }
    *out = p;
    return ESL_OK;
}

void esl_plan_free(esl_plan *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->n_components; i++)
        free(p->components[i].layers);
    free(p->components);
    free(p);
}

/* The layer's shape: "MxNxK" (+b with a bias), "Hh QxKV dD" (lin: linear
 * attention), "CIN>COUT KxK@HxW" (/S stride, gG groups, tT temporal taps),
 * or the elements and FLOPs per element of an element pass. */
const char *esl_layer_shape(char *buf, size_t size, const esl_layer *l)
{
    char extra[64] = "";
    switch (l->kind) {
    case ESL_LAYER_LINEAR:
        snprintf(buf, size, "%lldx%lldx%lld%s", (long long)l->m, (long long)l->n, (long long)l->k,
                 l->bias ? "+b" : "");
        break;
    case ESL_LAYER_ATTENTION:
        snprintf(buf, size, "%lldh %lldx%lld d%lld%s", (long long)l->heads, (long long)l->q_len,
                 (long long)l->kv_len, (long long)l->head_dim, l->linear_attention ? " lin" : "");
        break;
    case ESL_LAYER_CONV: {
        size_t j = 0;
        if (l->stride > 1)
            j += (size_t)snprintf(extra + j, sizeof extra - j, "/%lld", (long long)l->stride);
        if (l->groups > 1)
            j += (size_t)snprintf(extra + j, sizeof extra - j, " g%lld", (long long)l->groups);
        if (l->kt > 1)
            snprintf(extra + j, sizeof extra - j, " t%lld", (long long)l->kt);
        snprintf(buf, size, "%lld>%lld %lldx%lld@%lldx%lld%s", (long long)l->c_in,
                 (long long)l->c_out, (long long)l->kh, (long long)l->kw, (long long)l->h_out,
                 (long long)l->w_out, extra);
        break;
    }
    default:
        snprintf(buf, size, "%lld x %lld", (long long)l->elements, (long long)l->flops_per_element);
    }
    return buf;
}
