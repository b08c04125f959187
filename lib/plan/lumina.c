/*
 * lumina.c - the layer plan of Lumina-Image 2.0's transformer, after
 * diffusers' Lumina2Transformer2DModel. It is a single-stream DiT: the text
 * states first pass a few unconditioned "context refiner" blocks and the
 * image patches a few time-modulated "noise refiner" blocks, then the
 * concatenated sequence runs through the main blocks. Every block is
 * sandwich-normed with RMS norms (before and after the attention and the
 * feed-forward), uses grouped-query attention with RMS-normed q and k and
 * 3-axis rotary positions, and a SwiGLU feed-forward; the modulated blocks
 * scale (no shift) and gate through tanh. The conditioning vector is at
 * most 1024 wide. The final norm runs over the whole sequence, as the
 * diffusers class does before it keeps the image tokens.
 */
#include "plan/internal.h"

/* LuminaFeedForward's hidden width: int(2 x 4d / 3), times the multiplier
 * when there is one, rounded up to `multiple`. */
static int64_t lumina_hidden(builder *b, int64_t d, int64_t multiple)
{
    json_t *mult = json_object_get(b->cfg, "ffn_dim_multiplier");
    int64_t h = 2 * 4 * d / 3;
    if (mult != NULL && !json_is_null(mult)) {
        double m = json_number_value(mult);
        if (!json_is_number(mult) || !(m > 0.0 && m <= 64.0)) {
            pb_fail(b, ESL_EINVAL, "config field 'ffn_dim_multiplier': expected a number in (0, 64]");
            return 0;
        }
        h = (int64_t)(m * (double)h);
    }
    if (multiple <= 0) {
        pb_fail(b, ESL_EINVAL, "config field 'multiple_of': expected a positive integer");
        return 0;
    }
    return (h + multiple - 1) / multiple * multiple;
}

/*
 * Lumina2TransformerBlock over `rows` tokens, `count` times; `cond` > 0 is
 * the width of the conditioning vector of a modulated block, 0 for the
 * context refiner's plain RMS norm.
 */
static void lumina_block(builder *b, const char *name, int64_t count, int64_t rows, int64_t d,
                         int64_t heads, int64_t kvh, int64_t hd, int64_t ff, int64_t cond)
{
    char s[48];
    int64_t rd = rows * d;
    if (cond > 0) { /* LuminaRMSNormZero: four chunks, scale only */
        pb_name(s, sizeof s, "%s.norm1.act", name);
        pb_elementwise(b, ESL_LAYER_ACT, s, count, cond, FPE_SILU, 0);
        pb_name(s, sizeof s, "%s.norm1.linear", name);
        pb_linear(b, s, count, 1, cond, 4 * d, 1);
    }
    pb_name(s, sizeof s, "%s.norm1", name);
    pb_rmsnorm(b, s, count, rows, d);
    if (cond > 0) {
        pb_name(s, sizeof s, "%s.norm1.scale", name);
        pb_elementwise(b, ESL_LAYER_OTHER, s, count, rd, 2, 0);
    }
    pb_name(s, sizeof s, "%s.attn.to_q", name);
    pb_linear(b, s, count, rows, d, heads * hd, 0);
    pb_name(s, sizeof s, "%s.attn.to_k", name);
    pb_linear(b, s, count, rows, d, kvh * hd, 0);
    pb_name(s, sizeof s, "%s.attn.to_v", name);
    pb_linear(b, s, count, rows, d, kvh * hd, 0);
    pb_name(s, sizeof s, "%s.attn.norm_q", name);
    pb_rmsnorm(b, s, count, rows * heads, hd);
    pb_name(s, sizeof s, "%s.attn.norm_k", name);
    pb_rmsnorm(b, s, count, rows * kvh, hd);
    pb_name(s, sizeof s, "%s.attn.rope", name);
    pb_elementwise(b, ESL_LAYER_OTHER, s, count, rows * (heads + kvh) * hd, FPE_ROPE, 0);
    /* the key and value heads are repeated for the query groups */
    pb_name(s, sizeof s, "%s.attn.attention", name);
    pb_attention(b, s, count, heads, rows, rows, hd);
    pb_name(s, sizeof s, "%s.attn.to_out", name);
    pb_linear(b, s, count, rows, heads * hd, d, 0);
    pb_name(s, sizeof s, "%s.norm2", name);
    pb_rmsnorm(b, s, count, rows, d);
    pb_name(s, sizeof s, "%s.attn.residual", name);
    pb_elementwise(b, ESL_LAYER_OTHER, s, count, rd, cond > 0 ? FPE_GATED_ADD : FPE_ADD, 0);
    pb_name(s, sizeof s, "%s.ffn_norm1", name);
    pb_rmsnorm(b, s, count, rows, d);
    if (cond > 0) {
        pb_name(s, sizeof s, "%s.ffn_norm1.scale", name);
        pb_elementwise(b, ESL_LAYER_OTHER, s, count, rd, 2, 0);
    }
    pb_name(s, sizeof s, "%s.ff.linear_1", name);
    pb_linear(b, s, count, rows, d, ff, 0);
    pb_name(s, sizeof s, "%s.ff.linear_3", name);
    pb_linear(b, s, count, rows, d, ff, 0);
    pb_name(s, sizeof s, "%s.ff.swiglu", name);
    pb_elementwise(b, ESL_LAYER_ACT, s, count, rows * ff, FPE_SILU + FPE_GATE, 0);
    pb_name(s, sizeof s, "%s.ff.linear_2", name);
    pb_linear(b, s, count, rows, ff, d, 0);
    pb_name(s, sizeof s, "%s.ffn_norm2", name);
    pb_rmsnorm(b, s, count, rows, d);
    pb_name(s, sizeof s, "%s.ff.residual", name);
    pb_elementwise(b, ESL_LAYER_OTHER, s, count, rd, cond > 0 ? FPE_GATED_ADD : FPE_ADD, 0);
}

void build_lumina2(builder *b)
{
    int64_t d = cfg_int(b, "hidden_size", 2304), heads = cfg_int(b, "num_attention_heads", 24);
    int64_t kvh = cfg_int(b, "num_kv_heads", 8), layers = cfg_count(b, "num_layers", 26);
    int64_t refiners = cfg_count(b, "num_refiner_layers", 2), p = cfg_int(b, "patch_size", 2);
    int64_t in = cfg_int(b, "in_channels", 16), multiple = cfg_int(b, "multiple_of", 256);
    int64_t cap = cfg_int(b, "cap_feat_dim", 1024);
    int64_t out = cfg_int(b, "out_channels", in); /* null: in_channels */
    int64_t gh, gw;
    if (b->rc != ESL_OK)
        return;
    if (heads == 0 || kvh == 0 || d % heads != 0 || heads % kvh != 0)
        pb_fail(b, ESL_EINVAL, "hidden_size %lld, num_attention_heads %lld and num_kv_heads %lld: the "
                "width must split into the heads and the heads into the key-value groups", (long long)d,
                (long long)heads, (long long)kvh);
    int64_t ff = lumina_hidden(b, d, multiple);
    int64_t n = pb_image_tokens(b, p, &gh, &gw), t = pb_text_tokens(b), len = n + t;
    if (b->rc != ESL_OK)
        return;
    int64_t hd = d / heads, cond = d < 1024 ? d : 1024;

    pb_linear(b, "x_embedder", 1, n, p * p * in, d, 1);
    pb_timestep_embedding(b, "time_caption_embed.timestep", 1, 256, cond);
    pb_rmsnorm(b, "time_caption_embed.caption.norm", 1, t, cap);
    pb_linear(b, "time_caption_embed.caption.linear", 1, t, cap, d, 1);
    pb_elementwise(b, ESL_LAYER_OTHER, "rope.table", 1, len * hd, FPE_SINUSOID, 0);
    lumina_block(b, "context_refiner", refiners, t, d, heads, kvh, hd, ff, 0);
    lumina_block(b, "noise_refiner", refiners, n, d, heads, kvh, hd, ff, cond);
    lumina_block(b, "layer", layers, len, d, heads, kvh, hd, ff, cond);
    /* LuminaLayerNormContinuous: a scale from the conditioning, a weightless
     * norm, the projection to patch pixels */
    pb_elementwise(b, ESL_LAYER_ACT, "norm_out.act", 1, cond, FPE_SILU, 0);
    pb_linear(b, "norm_out.linear_1", 1, 1, cond, d, 1);
    pb_layernorm(b, "norm_out.norm", 1, len, d, 0);
    pb_elementwise(b, ESL_LAYER_OTHER, "norm_out.scale", 1, len * d, 2, 0);
    pb_linear(b, "norm_out.linear_2", 1, len, d, p * p * out, 1);
}
