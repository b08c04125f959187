/*
 * hunyuan.c - layer plans of HunyuanDiT (v1.2) and its bilingual CLIP text
 * encoder, after diffusers' HunyuanDiT2DModel and transformers' BertModel.
 * HunyuanDiT is a DiT with a U-Net-like long skip: the second half of the
 * blocks joins the output of a mirrored block of the first half through a
 * norm and a linear layer. Each block has a shift-only adaptive norm,
 * self-attention with 2-D rotary positions and per-head layer-normed q and
 * k, cross-attention to the BERT tokens and the projected mT5 tokens, and a
 * GELU feed-forward. The text is also pooled into the time embedding by an
 * attention over the mT5 tokens.
 */
#include <string.h>

#include "plan/internal.h"

/* q, k, v with biases, per-head layer norms (with weights) on q and k, the
 * rotary embedding on q (and k for self-attention), the product and the
 * output projection. */
static void hy_attention(builder *b, const char *name, int self, int64_t count, int64_t n, int64_t kv,
                         int64_t kv_dim, int64_t d, int64_t heads, int64_t hd)
{
    char s[48];
    pb_name(s, sizeof s, "%s.to_q", name);
    pb_linear(b, s, count, n, d, d, 1);
    pb_name(s, sizeof s, "%s.to_k", name);
    pb_linear(b, s, count, kv, kv_dim, d, 1);
    pb_name(s, sizeof s, "%s.to_v", name);
    pb_linear(b, s, count, kv, kv_dim, d, 1);
    pb_name(s, sizeof s, "%s.norm_q", name);
    pb_layernorm(b, s, count, n * heads, hd, 1);
    pb_name(s, sizeof s, "%s.norm_k", name);
    pb_layernorm(b, s, count, kv * heads, hd, 1);
    pb_name(s, sizeof s, "%s.rope", name);
    pb_elementwise(b, ESL_LAYER_OTHER, s, count, (self ? 2 : 1) * n * d, FPE_ROPE, 0);
    pb_name(s, sizeof s, "%s.attention", name);
    pb_attention(b, s, count, heads, n, kv, hd);
    pb_name(s, sizeof s, "%s.to_out", name);
    pb_linear(b, s, count, n, d, d, 1);
    pb_name(s, sizeof s, "%s.residual", name);
    pb_elementwise(b, ESL_LAYER_OTHER, s, count, n * d, FPE_ADD, 0);
}

/* One HunyuanDiTBlock, `count` times; `skip` adds the long-skip join. */
static void hy_block(builder *b, const char *name, int64_t count, int skip, int64_t n, int64_t t, int64_t cross,
                     int64_t d, int64_t heads, int64_t hd, int64_t ff)
{
    char s[48];
    if (skip) {
        pb_name(s, sizeof s, "%s.skip_norm", name);
        pb_layernorm(b, s, count, n, 2 * d, 1);
        pb_name(s, sizeof s, "%s.skip_linear", name);
        pb_linear(b, s, count, n, 2 * d, d, 1);
    }
    /* AdaLayerNormShift: norm(x) + linear(silu(temb)) */
    pb_name(s, sizeof s, "%s.norm1.act", name);
    pb_elementwise(b, ESL_LAYER_ACT, s, count, d, FPE_SILU, 0);
    pb_name(s, sizeof s, "%s.norm1.linear", name);
    pb_linear(b, s, count, 1, d, d, 1);
    pb_name(s, sizeof s, "%s.norm1.norm", name);
    pb_layernorm(b, s, count, n, d, 1);
    pb_name(s, sizeof s, "%s.norm1.shift", name);
    pb_elementwise(b, ESL_LAYER_OTHER, s, count, n * d, FPE_ADD, 0);
    pb_name(s, sizeof s, "%s.attn1", name);
    hy_attention(b, s, 1, count, n, n, d, d, heads, hd);
    pb_name(s, sizeof s, "%s.norm2", name);
    pb_layernorm(b, s, count, n, d, 1);
    pb_name(s, sizeof s, "%s.attn2", name);
    hy_attention(b, s, 0, count, n, t, cross, d, heads, hd);
    pb_name(s, sizeof s, "%s.norm3", name);
    pb_layernorm(b, s, count, n, d, 1);
    pb_name(s, sizeof s, "%s.ff.proj", name);
    pb_linear(b, s, count, n, d, ff, 1);
    pb_name(s, sizeof s, "%s.ff.gelu", name);
    pb_elementwise(b, ESL_LAYER_ACT, s, count, n * ff, FPE_GELU, 0);
    pb_name(s, sizeof s, "%s.ff.out", name);
    pb_linear(b, s, count, n, ff, d, 1);
    pb_name(s, sizeof s, "%s.ff.residual", name);
    pb_elementwise(b, ESL_LAYER_OTHER, s, count, n * d, FPE_ADD, 0);
}

/*
 * HunyuanDiT2DModel without style and image-size conditions (v1.2; the
 * earlier versions' use_style_cond_and_image_meta_size is not supported).
 * The denoiser's text tokens are text_len BERT tokens and text_len_t5 mT5
 * tokens (77 + 256 = 333, the pipeline's); --text-tokens changes the total
 * the cross-attention reads.
 */
void build_hunyuan_dit(builder *b)
{
    int64_t heads = cfg_int(b, "num_attention_heads", 16), hd = cfg_int(b, "attention_head_dim", 88);
    int64_t d = cfg_int(b, "hidden_size", heads * hd), in = cfg_int(b, "in_channels", 4);
    int64_t p = cfg_int(b, "patch_size", 2), layers = cfg_int(b, "num_layers", 28);
    int64_t cross = cfg_int(b, "cross_attention_dim", 1024), cross_t5 = cfg_int(b, "cross_attention_dim_t5", 2048);
    int64_t pooled = cfg_int(b, "pooled_projection_dim", 1024);
    int64_t len_t5 = cfg_int(b, "text_len_t5", 256);
    int64_t out = cfg_bool(b, "learn_sigma", 1) ? 2 * in : in;
    json_t *ratio = json_object_get(b->cfg, "mlp_ratio");
    double mlp_ratio = json_is_number(ratio) ? json_number_value(ratio) : 4.0;
    const char *act = cfg_str(b, "activation_fn", "gelu-approximate");
    int64_t t = pb_text_tokens(b), len = cfg_int(b, "text_len", 77), h, w;
    if (cfg_bool(b, "use_style_cond_and_image_meta_size", 1))
        pb_fail(b, ESL_EUNSUPPORTED, "use_style_cond_and_image_meta_size true (HunyuanDiT before v1.2) is "
                "not supported");
    if (strcmp(act, "gelu-approximate") != 0 && strcmp(act, "gelu") != 0)
        pb_fail(b, ESL_EUNSUPPORTED, "activation_fn '%s' is not supported (gelu-approximate, gelu)", act);
    if (heads == 0 || d != heads * hd || !(mlp_ratio > 0.0 && mlp_ratio < 64.0) || layers < 2)
        pb_fail(b, ESL_EINVAL, "hidden_size %lld, %lld heads of width %lld, mlp_ratio or num_layers do not fit",
                (long long)d, (long long)heads, (long long)hd);
    pb_latent(b, &h, &w);
    if (b->rc == ESL_OK && (p <= 0 || h % p != 0 || w % p != 0))
        pb_fail(b, ESL_EINVAL, "image size %lldx%lld: the latent grid %lldx%lld is not a multiple of the "
                "patch size %lld", (long long)b->req->height, (long long)b->req->width, (long long)h,
                (long long)w, (long long)p);
    if (b->rc != ESL_OK)
        return;
    int64_t ff = (int64_t)((double)d * mlp_ratio), gh = h / p, gw = w / p, n = gh * gw;

    pb_conv(b, "pos_embed.proj", 1, in, d, p, p, gh, gw, 1);
    pb_elementwise(b, ESL_LAYER_OTHER, "rope.table", 1, n * hd, FPE_SINUSOID, 0);
    /* time, pooled text: HunyuanCombinedTimestepTextSizeStyleEmbedding */
    pb_elementwise(b, ESL_LAYER_OTHER, "time_extra_emb.time_proj", 1, 256, FPE_SINUSOID, 0);
    pb_linear(b, "time_extra_emb.timestep.linear_1", 1, 1, 256, d, 1);
    pb_elementwise(b, ESL_LAYER_ACT, "time_extra_emb.timestep.act", 1, d, FPE_SILU, 0);
    pb_linear(b, "time_extra_emb.timestep.linear_2", 1, 1, d, d, 1);
    pb_elementwise(b, ESL_LAYER_OTHER, "time_extra_emb.pooler.mean", 1, len_t5 * cross_t5, FPE_ADD, 0);
    pb_elementwise(b, ESL_LAYER_OTHER, "time_extra_emb.pooler.positional", 1, (len_t5 + 1) * cross_t5, FPE_ADD,
                   (len_t5 + 1) * cross_t5);
    pb_linear(b, "time_extra_emb.pooler.q_proj", 1, 1, cross_t5, cross_t5, 1);
    pb_linear(b, "time_extra_emb.pooler.k_proj", 1, len_t5 + 1, cross_t5, cross_t5, 1);
    pb_linear(b, "time_extra_emb.pooler.v_proj", 1, len_t5 + 1, cross_t5, cross_t5, 1);
    pb_attention(b, "time_extra_emb.pooler.attention", 1, 8, 1, len_t5 + 1, cross_t5 / 8);
    pb_linear(b, "time_extra_emb.pooler.c_proj", 1, 1, cross_t5, pooled, 1);
    pb_linear(b, "time_extra_emb.extra.linear_1", 1, 1, pooled, 4 * d, 1);
    pb_elementwise(b, ESL_LAYER_ACT, "time_extra_emb.extra.act", 1, 4 * d, FPE_SILU, 0);
    pb_linear(b, "time_extra_emb.extra.linear_2", 1, 1, 4 * d, d, 1);
    pb_elementwise(b, ESL_LAYER_OTHER, "time_extra_emb.sum", 1, d, FPE_ADD, 0);
    /* the mT5 tokens projected to the BERT width, then the padding table */
    pb_linear(b, "text_embedder.linear_1", 1, len_t5, cross_t5, 4 * cross_t5, 1);
    pb_elementwise(b, ESL_LAYER_ACT, "text_embedder.act", 1, len_t5 * 4 * cross_t5, FPE_SILU, 0);
    pb_linear(b, "text_embedder.linear_2", 1, len_t5, 4 * cross_t5, cross, 1);
    pb_table(b, "text_embedding_padding", (len + len_t5) * cross);

    /* blocks 0 .. L/2 run plain; L/2 + 1 .. L - 1 join a long skip */
    int64_t plain = layers / 2 + 1, skipped = layers - plain;
    hy_block(b, "block", plain, 0, n, t, cross, d, heads, hd, ff);
    if (skipped > 0)
        hy_block(b, "block_skip", skipped, 1, n, t, cross, d, heads, hd, ff);

    pb_elementwise(b, ESL_LAYER_ACT, "norm_out.act", 1, d, FPE_SILU, 0);
    pb_linear(b, "norm_out.linear", 1, 1, d, 2 * d, 1);
    pb_layernorm(b, "norm_out.norm", 1, n, d, 0);
    pb_elementwise(b, ESL_LAYER_OTHER, "norm_out.modulate", 1, n * d, FPE_MODULATE, 0);
    pb_linear(b, "proj_out", 1, n, d, p * p * out, 1);
}

/* BertModel (HunyuanDiT's bilingual CLIP text encoder): word, position and
 * token-type embeddings summed and normed, post-norm encoder layers, and the
 * pooler (a dense layer and tanh on the first token) its forward runs. */
void build_bert(builder *b)
{
    int64_t d = cfg_int(b, "hidden_size", 768), layers = cfg_int(b, "num_hidden_layers", 12);
    int64_t heads = cfg_int(b, "num_attention_heads", 12), ff = cfg_int(b, "intermediate_size", 3072);
    int64_t vocab = cfg_int(b, "vocab_size", 30522), pos = cfg_int(b, "max_position_embeddings", 512);
    int64_t types = cfg_int(b, "type_vocab_size", 2), t = cfg_int(b, "tokens", 77);
    const char *act = cfg_str(b, "hidden_act", "gelu");
    if (strcmp(act, "gelu") != 0)
        pb_fail(b, ESL_EUNSUPPORTED, "hidden_act '%s' is not supported (gelu)", act);
    if (heads == 0 || d % heads != 0 || t == 0 || t > pos)
        pb_fail(b, ESL_EINVAL, "%lld tokens with %lld heads of width %lld do not fit the config",
                (long long)t, (long long)heads, (long long)d);
    if (b->rc != ESL_OK)
        return;
    pb_table(b, "embeddings.word", vocab * d);
    pb_elementwise(b, ESL_LAYER_OTHER, "embeddings.position_token_type", 1, t * d, 2, (pos + types) * d);
    pb_layernorm(b, "embeddings.norm", 1, t, d, 1);
    pb_linear(b, "layer.attn.q", layers, t, d, d, 1);
    pb_linear(b, "layer.attn.k", layers, t, d, d, 1);
    pb_linear(b, "layer.attn.v", layers, t, d, d, 1);
    pb_attention(b, "layer.attn.attention", layers, heads, t, t, d / heads);
    pb_linear(b, "layer.attn.out", layers, t, d, d, 1);
    pb_layernorm(b, "layer.attn.norm", layers, t, d, 1);
    pb_linear(b, "layer.intermediate", layers, t, d, ff, 1);
    pb_elementwise(b, ESL_LAYER_ACT, "layer.act", layers, t * ff, FPE_GELU, 0);
    pb_linear(b, "layer.output", layers, t, ff, d, 1);
    pb_layernorm(b, "layer.output.norm", layers, t, d, 1);
    pb_elementwise(b, ESL_LAYER_OTHER, "layer.residuals", layers, 2 * t * d, FPE_ADD, 0);
    pb_linear(b, "pooler.dense", 1, 1, d, d, 1);
    pb_elementwise(b, ESL_LAYER_ACT, "pooler.tanh", 1, d, FPE_TANH, 0);
}
