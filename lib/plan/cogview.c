/*
 * cogview.c - the layer plan of CogView4's transformer, after diffusers'
 * CogView4Transformer2DModel. The text and image streams share every weight
 * of a block but are modulated separately: one adaLN linear emits twelve
 * chunks (shift, scale and gate of the attention and of the feed-forward,
 * for each stream); q, k and v run over the joined sequence with per-head
 * layer norms without weights; the 2-D rotary embedding touches the image
 * tokens only; the feed-forward is a tanh-GELU MLP of width 4d. The
 * conditioning vector sums a timestep embedding taken from a sinusoid as
 * wide as the model and an MLP of the SDXL-style size conditions
 * (original size, target size, crop: six sinusoids of condition_dim).
 */
#include "plan/internal.h"

void build_cogview4(builder *b)
{
    int64_t heads = cfg_int(b, "num_attention_heads", 64), hd = cfg_int(b, "attention_head_dim", 40);
    int64_t d = heads * hd, in = cfg_int(b, "in_channels", 16), out = cfg_int(b, "out_channels", 16);
    int64_t p = cfg_int(b, "patch_size", 2), layers = cfg_count(b, "num_layers", 30);
    int64_t text = cfg_int(b, "text_embed_dim", 4096), temb = cfg_int(b, "time_embed_dim", 512);
    int64_t cond = cfg_int(b, "condition_dim", 256);
    int64_t gh, gw;
    if (b->rc == ESL_OK && (heads < 1 || hd < 1 || temb < 1))
        pb_fail(b, ESL_EINVAL, "num_attention_heads %lld, attention_head_dim %lld and time_embed_dim %lld "
                "must be positive", (long long)heads, (long long)hd, (long long)temb);
    if (b->rc != ESL_OK)
        return;
    int64_t n = pb_image_tokens(b, p, &gh, &gw), t = pb_text_tokens(b), len = n + t;
    if (b->rc != ESL_OK)
        return;
    int64_t ff = 4 * d;

    pb_linear(b, "patch_embed.proj", 1, n, p * p * in, d, 1);
    pb_linear(b, "patch_embed.text_proj", 1, t, text, d, 1);
    /* CogView3CombinedTimestepSizeEmbeddings, then one SiLU */
    pb_timestep_embedding(b, "time_condition_embed.timestep", 1, d, temb);
    pb_elementwise(b, ESL_LAYER_OTHER, "time_condition_embed.condition_proj", 1, 6 * cond, FPE_SINUSOID, 0);
    pb_linear(b, "time_condition_embed.condition.linear_1", 1, 1, 6 * cond, temb, 1);
    pb_elementwise(b, ESL_LAYER_ACT, "time_condition_embed.condition.act", 1, temb, FPE_SILU, 0);
    pb_linear(b, "time_condition_embed.condition.linear_2", 1, 1, temb, temb, 1);
    pb_elementwise(b, ESL_LAYER_OTHER, "time_condition_embed.sum", 1, temb, FPE_ADD, 0);
    pb_elementwise(b, ESL_LAYER_ACT, "temb.act", 1, temb, FPE_SILU, 0);
    pb_elementwise(b, ESL_LAYER_OTHER, "rope.table", 1, n * hd, FPE_SINUSOID, 0);

    /* CogView4TransformerBlock: the norms and modulations are per stream,
     * each over its own rows; together they cover the n + t rows once */
    pb_linear(b, "block.norm1.linear", layers, 1, temb, 12 * d, 1);
    pb_layernorm(b, "block.norm1.norm", layers, len, d, 0);
    pb_elementwise(b, ESL_LAYER_OTHER, "block.norm1.modulate", layers, len * d, FPE_MODULATE, 0);
    pb_linear(b, "block.attn.to_q", layers, len, d, d, 1);
    pb_linear(b, "block.attn.to_k", layers, len, d, d, 1);
    pb_linear(b, "block.attn.to_v", layers, len, d, d, 1);
    pb_layernorm(b, "block.attn.norm_q", layers, len * heads, hd, 0);
    pb_layernorm(b, "block.attn.norm_k", layers, len * heads, hd, 0);
    pb_elementwise(b, ESL_LAYER_OTHER, "block.attn.rope", layers, 2 * n * d, FPE_ROPE, 0);
    pb_attention(b, "block.attn.attention", layers, heads, len, len, hd);
    pb_linear(b, "block.attn.to_out", layers, len, d, d, 1);
    pb_elementwise(b, ESL_LAYER_OTHER, "block.attn.gate", layers, len * d, FPE_GATED_ADD, 0);
    pb_layernorm(b, "block.norm2", layers, len, d, 0);
    pb_elementwise(b, ESL_LAYER_OTHER, "block.norm2.modulate", layers, len * d, FPE_MODULATE, 0);
    pb_linear(b, "block.ff.proj", layers, len, d, ff, 1);
    pb_elementwise(b, ESL_LAYER_ACT, "block.ff.gelu", layers, len * ff, FPE_GELU, 0);
    pb_linear(b, "block.ff.out", layers, len, ff, d, 1);
    pb_elementwise(b, ESL_LAYER_OTHER, "block.ff.gate", layers, len * d, FPE_GATED_ADD, 0);

    /* AdaLayerNormContinuous over the image tokens and the projection */
    pb_elementwise(b, ESL_LAYER_ACT, "norm_out.act", 1, temb, FPE_SILU, 0);
    pb_linear(b, "norm_out.linear", 1, 1, temb, 2 * d, 1);
    pb_layernorm(b, "norm_out.norm", 1, n, d, 0);
    pb_elementwise(b, ESL_LAYER_OTHER, "norm_out.modulate", 1, n * d, FPE_MODULATE, 0);
    pb_linear(b, "proj_out", 1, n, d, p * p * out, 1);
}
