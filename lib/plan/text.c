/*
 * text.c - layer plans of the text encoders of diffusion pipelines, after
 * the transformers classes: CLIPTextModel (and WithProjection), the T5
 * encoder (T5EncoderModel, and UMT5EncoderModel with a position bias per
 * layer), the language model of Qwen2.5-VL (Qwen2_5_VLForConditionalGeneration,
 * its text_config), Gemma2Model and GlmModel. The sequence length
 * is the architecture section's "tokens" when given, else CLIP's
 * max_position_embeddings and the model's text tokens for T5 and Qwen, plus
 * "template_tokens" (a prompt template the pipeline drops afterwards).
 */
#include <string.h>

#include "plan/internal.h"

static int64_t sequence(builder *b, int64_t def)
{
    int64_t t = cfg_int(b, "tokens", def) + cfg_int(b, "template_tokens", 0);
    if (t <= 0)
        pb_fail(b, ESL_EINVAL, "the sequence has no tokens");
    return t;
}

void pb_clip_layers(builder *b, int64_t layers, int64_t t, int64_t d, int64_t heads, int64_t ff,
                    int64_t act_fpe)
{
    pb_layernorm(b, "layer.norm1", layers, t, d, 1);
    pb_linear(b, "layer.attn.q", layers, t, d, d, 1);
    pb_linear(b, "layer.attn.k", layers, t, d, d, 1);
    pb_linear(b, "layer.attn.v", layers, t, d, d, 1);
    pb_attention(b, "layer.attn.attention", layers, heads, t, t, d / heads);
    pb_linear(b, "layer.attn.out", layers, t, d, d, 1);
    pb_layernorm(b, "layer.norm2", layers, t, d, 1);
    pb_linear(b, "layer.mlp.fc1", layers, t, d, ff, 1);
    pb_elementwise(b, ESL_LAYER_ACT, "layer.mlp.act", layers, t * ff, act_fpe, 0);
    pb_linear(b, "layer.mlp.fc2", layers, t, ff, d, 1);
    pb_elementwise(b, ESL_LAYER_OTHER, "layer.residuals", layers, 2 * t * d, FPE_ADD, 0);
}

void build_clip_text(builder *b)
{
    int64_t d = cfg_int(b, "hidden_size", 512), layers = cfg_count(b, "num_hidden_layers", 12);
    int64_t heads = cfg_int(b, "num_attention_heads", 8), ff = cfg_int(b, "intermediate_size", 2048);
    int64_t vocab = cfg_int(b, "vocab_size", 49408), pos = cfg_int(b, "max_position_embeddings", 77);
    const char *act = cfg_str(b, "hidden_act", "quick_gelu");
    int64_t t = sequence(b, pos);
    int64_t act_fpe = strcmp(act, "quick_gelu") == 0 ? FPE_QUICK_GELU : FPE_GELU;
    if (strcmp(act, "quick_gelu") != 0 && strcmp(act, "gelu") != 0)
        pb_fail(b, ESL_EUNSUPPORTED, "hidden_act '%s' is not supported (quick_gelu, gelu)", act);
    if (heads == 0 || d % heads != 0 || t > pos)
        pb_fail(b, ESL_EINVAL, "%lld tokens with %lld heads of width %lld do not fit the config",
                (long long)t, (long long)heads, (long long)d);
    if (b->rc != ESL_OK)
        return;
    pb_table(b, "token_embedding", vocab * d);
    pb_elementwise(b, ESL_LAYER_OTHER, "position_embedding", 1, t * d, FPE_ADD, pos * d);
    pb_clip_layers(b, layers, t, d, heads, ff, act_fpe);
    pb_layernorm(b, "final_layer_norm", 1, t, d, 1);
    if (strcmp(b->cls, "CLIPTextModelWithProjection") == 0)
        pb_linear(b, "text_projection", 1, 1, d, cfg_int(b, "projection_dim", 512), 0);
}

void build_t5_encoder(builder *b)
{
    int64_t d = cfg_int(b, "d_model", 512), kv = cfg_int(b, "d_kv", 64), heads = cfg_int(b, "num_heads", 8);
    int64_t ff = cfg_int(b, "d_ff", 2048), layers = cfg_count(b, "num_layers", 6);
    int64_t vocab = cfg_int(b, "vocab_size", 32128);
    int64_t buckets = cfg_int(b, "relative_attention_num_buckets", 32);
    const char *proj = cfg_str(b, "feed_forward_proj", "relu");
    int gated = strncmp(proj, "gated-", 6) == 0;
    const char *act = gated ? proj + 6 : proj;
    int64_t act_fpe = strcmp(act, "relu") == 0 ? FPE_RELU : strcmp(act, "silu") == 0 ? FPE_SILU : FPE_GELU;
    if (strcmp(act, "relu") != 0 && strcmp(act, "gelu") != 0 && strcmp(act, "silu") != 0)
        pb_fail(b, ESL_EUNSUPPORTED, "feed_forward_proj '%s' is not supported (relu, gelu, silu, "
                "gated-relu, gated-gelu, gated-silu)", proj);
    int64_t t = sequence(b, pb_text_tokens(b));
    if (b->rc != ESL_OK)
        return;
    int64_t inner = heads * kv;
    pb_table(b, "shared", vocab * d);
    if (strcmp(b->cls, "UMT5EncoderModel") == 0) {
        /* UMT5: every layer has a bucketed position bias table of its own */
        pb_elementwise(b, ESL_LAYER_OTHER, "layer.attn.relative_attention_bias", layers, heads * t * t,
                       FPE_ADD, buckets * heads);
    } else {
        /* T5: the bias is computed once and added to every layer's scores */
        pb_elementwise(b, ESL_LAYER_OTHER, "relative_attention_bias", 1, heads * t * t, FPE_ADD,
                       buckets * heads);
        pb_elementwise(b, ESL_LAYER_OTHER, "layer.attn.bias_add", layers, heads * t * t, FPE_ADD, 0);
    }
    pb_rmsnorm(b, "layer.norm1", layers, t, d);
    pb_linear(b, "layer.attn.q", layers, t, d, inner, 0);
    pb_linear(b, "layer.attn.k", layers, t, d, inner, 0);
    pb_linear(b, "layer.attn.v", layers, t, d, inner, 0);
    pb_attention(b, "layer.attn.attention", layers, heads, t, t, kv);
    pb_linear(b, "layer.attn.o", layers, t, inner, d, 0);
    pb_rmsnorm(b, "layer.norm2", layers, t, d);
    pb_linear(b, "layer.ff.wi_0", layers, t, d, ff, 0);
    if (gated)
        pb_linear(b, "layer.ff.wi_1", layers, t, d, ff, 0);
    pb_elementwise(b, ESL_LAYER_ACT, "layer.ff.act", layers, t * ff, act_fpe + (gated ? FPE_GATE : 0), 0);
    pb_linear(b, "layer.ff.wo", layers, t, ff, d, 0);
    pb_elementwise(b, ESL_LAYER_OTHER, "layer.residuals", layers, 2 * t * d, FPE_ADD, 0);
    pb_rmsnorm(b, "final_layer_norm", 1, t, d);
}

/* The language model of Qwen2.5-VL: grouped-query attention with biased
 * q, k, v, rotary positions, SwiGLU; the pipeline runs the full
 * ForConditionalGeneration forward, so the vocabulary head runs too. */
void build_qwen2_5_vl_text(builder *b)
{
    json_t *tc = json_object_get(b->cfg, "text_config");
    json_t *src = json_is_object(tc) ? tc : b->cfg;
    int64_t d = cfg_int_in(b, src, "hidden_size", -1), layers = cfg_count_in(b, src, "num_hidden_layers", -1);
    int64_t heads = cfg_int_in(b, src, "num_attention_heads", -1);
    int64_t kvh = cfg_int_in(b, src, "num_key_value_heads", heads);
    int64_t ff = cfg_int_in(b, src, "intermediate_size", -1);
    int64_t vocab = cfg_int_in(b, src, "vocab_size", cfg_int(b, "vocab_size", 152064));
    int tied = cfg_bool(b, "tie_word_embeddings", 0);
    int64_t t = sequence(b, pb_text_tokens(b));
    if (heads == 0 || d % heads != 0)
        pb_fail(b, ESL_EINVAL, "hidden_size %lld does not split into %lld heads", (long long)d,
                (long long)heads);
    if (b->rc != ESL_OK)
        return;
    int64_t hd = d / heads;
    pb_table(b, "embed_tokens", vocab * d);
    pb_rmsnorm(b, "layer.input_layernorm", layers, t, d);
    pb_linear(b, "layer.attn.q", layers, t, d, heads * hd, 1);
    pb_linear(b, "layer.attn.k", layers, t, d, kvh * hd, 1);
    pb_linear(b, "layer.attn.v", layers, t, d, kvh * hd, 1);
    pb_elementwise(b, ESL_LAYER_OTHER, "layer.rope", layers, t * (heads + kvh) * hd, FPE_ROPE, 0);
    pb_attention(b, "layer.attn.attention", layers, heads, t, t, hd);
    pb_linear(b, "layer.attn.o", layers, t, heads * hd, d, 0);
    pb_rmsnorm(b, "layer.post_attention_layernorm", layers, t, d);
    pb_linear(b, "layer.mlp.gate", layers, t, d, ff, 0);
    pb_linear(b, "layer.mlp.up", layers, t, d, ff, 0);
    pb_elementwise(b, ESL_LAYER_ACT, "layer.mlp.swiglu", layers, t * ff, FPE_SILU + FPE_GATE, 0);
    pb_linear(b, "layer.mlp.down", layers, t, ff, d, 0);
    pb_elementwise(b, ESL_LAYER_OTHER, "layer.residuals", layers, 2 * t * d, FPE_ADD, 0);
    pb_rmsnorm(b, "norm", 1, t, d);
    if (tied)
        b->shared = 1;
    pb_linear(b, "lm_head", 1, t, d, vocab, 0);
    b->shared = 0;
}

/* Gemma2Model (Sana's text encoder): grouped-query attention with logit
 * soft-capping, four RMS norms per layer, gated GELU; no vocabulary head. */
void build_gemma2(builder *b)
{
    int64_t d = cfg_int(b, "hidden_size", 2304), layers = cfg_count(b, "num_hidden_layers", 26);
    int64_t heads = cfg_int(b, "num_attention_heads", 8), kvh = cfg_int(b, "num_key_value_heads", 4);
    int64_t hd = cfg_int(b, "head_dim", 256), ff = cfg_int(b, "intermediate_size", 9216);
    int64_t vocab = cfg_int(b, "vocab_size", 256000);
    int bias = cfg_bool(b, "attention_bias", 0);
    int64_t t = sequence(b, pb_text_tokens(b));
    if (b->rc != ESL_OK)
        return;
    pb_table(b, "embed_tokens", vocab * d);
    pb_elementwise(b, ESL_LAYER_OTHER, "embed_scale", 1, t * d, 1, 0);
    pb_rmsnorm(b, "layer.input_layernorm", layers, t, d);
    pb_linear(b, "layer.attn.q", layers, t, d, heads * hd, bias);
    pb_linear(b, "layer.attn.k", layers, t, d, kvh * hd, bias);
    pb_linear(b, "layer.attn.v", layers, t, d, kvh * hd, bias);
    pb_elementwise(b, ESL_LAYER_OTHER, "layer.rope", layers, t * (heads + kvh) * hd, FPE_ROPE, 0);
    pb_attention(b, "layer.attn.attention", layers, heads, t, t, hd);
    /* tanh soft-capping of the scores: divide, tanh, multiply */
    pb_elementwise(b, ESL_LAYER_OTHER, "layer.attn.softcap", layers, heads * t * t, 3, 0);
    pb_linear(b, "layer.attn.o", layers, t, heads * hd, d, bias);
    pb_rmsnorm(b, "layer.post_attention_layernorm", layers, t, d);
    pb_rmsnorm(b, "layer.pre_feedforward_layernorm", layers, t, d);
    pb_linear(b, "layer.mlp.gate", layers, t, d, ff, 0);
    pb_linear(b, "layer.mlp.up", layers, t, d, ff, 0);
    pb_elementwise(b, ESL_LAYER_ACT, "layer.mlp.geglu", layers, t * ff, FPE_GELU + FPE_GATE, 0);
    pb_linear(b, "layer.mlp.down", layers, t, ff, d, 0);
    pb_rmsnorm(b, "layer.post_feedforward_layernorm", layers, t, d);
    pb_elementwise(b, ESL_LAYER_OTHER, "layer.residuals", layers, 2 * t * d, FPE_ADD, 0);
    pb_rmsnorm(b, "norm", 1, t, d);
}

/* GlmModel (GLM-4, CogView4's text encoder): grouped-query attention with
 * biased q, k, v and rotary positions on partial_rotary_factor of each head,
 * a fused gate-and-up SwiGLU; the pipeline reads the hidden states, so no
 * vocabulary head runs. */
void build_glm(builder *b)
{
    int64_t d = cfg_int(b, "hidden_size", -1), layers = cfg_count(b, "num_hidden_layers", -1);
    int64_t heads = cfg_int(b, "num_attention_heads", -1);
    int64_t kvh = cfg_int(b, "num_key_value_heads", heads);
    int64_t ff = cfg_int(b, "intermediate_size", -1), vocab = cfg_int(b, "vocab_size", -1);
    int64_t hd = cfg_int(b, "head_dim", heads > 0 ? d / heads : 0);
    int bias = cfg_bool(b, "attention_bias", 1);
    json_t *prf = json_object_get(b->cfg, "partial_rotary_factor");
    double rotary = prf == NULL || json_is_null(prf) ? 0.5 : json_number_value(prf);
    int64_t t = sequence(b, pb_text_tokens(b));
    if (heads == 0 || kvh == 0 || hd == 0 || heads % kvh != 0)
        pb_fail(b, ESL_EINVAL, "num_attention_heads %lld, num_key_value_heads %lld and head_dim %lld do "
                "not form grouped-query attention", (long long)heads, (long long)kvh, (long long)hd);
    if (prf != NULL && !json_is_null(prf) && (!json_is_number(prf) || !(rotary >= 0.0 && rotary <= 1.0)))
        pb_fail(b, ESL_EINVAL, "config field 'partial_rotary_factor': expected a number in [0, 1]");
    if (b->rc != ESL_OK)
        return;
    int64_t rot = (int64_t)(rotary * (double)hd);
    pb_table(b, "embed_tokens", vocab * d);
    pb_rmsnorm(b, "layer.input_layernorm", layers, t, d);
    pb_linear(b, "layer.attn.q", layers, t, d, heads * hd, bias);
    pb_linear(b, "layer.attn.k", layers, t, d, kvh * hd, bias);
    pb_linear(b, "layer.attn.v", layers, t, d, kvh * hd, bias);
    pb_elementwise(b, ESL_LAYER_OTHER, "layer.rope", layers, t * (heads + kvh) * rot, FPE_ROPE, 0);
    pb_attention(b, "layer.attn.attention", layers, heads, t, t, hd);
    pb_linear(b, "layer.attn.o", layers, t, heads * hd, d, 0);
    pb_rmsnorm(b, "layer.post_attention_layernorm", layers, t, d);
    pb_linear(b, "layer.mlp.gate_up", layers, t, d, 2 * ff, 0);
    pb_elementwise(b, ESL_LAYER_ACT, "layer.mlp.swiglu", layers, t * ff, FPE_SILU + FPE_GATE, 0);
    pb_linear(b, "layer.mlp.down", layers, t, ff, d, 0);
    pb_elementwise(b, ESL_LAYER_OTHER, "layer.residuals", layers, 2 * t * d, FPE_ADD, 0);
    pb_rmsnorm(b, "norm", 1, t, d);
}
