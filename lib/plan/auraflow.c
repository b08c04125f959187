/*
 * auraflow.c - the layer plan of AuraFlow's transformer, after diffusers'
 * AuraFlowTransformer2DModel. AuraFlow is an MMDiT without biases: a few
 * joint blocks (separate weights for the image and the text stream, one
 * attention over both) then many single blocks over the concatenated
 * sequence. Every block has a bias-free adaLN-zero of six chunks, layer
 * norms without weights (also per head on q and k) and a SwiGLU
 * feed-forward whose hidden width is two thirds of 4d rounded up to a
 * multiple of 256. Eight learned register tokens are prepended to the text;
 * image tokens get a learned position table. The final norm is a modulation
 * only (no normalisation), as in the diffusers class.
 */
#include "plan/internal.h"

/* AuraFlowFeedForward's hidden width: int(2 * 4d / 3) rounded up to 256. */
static int64_t swiglu_hidden(int64_t d)
{
    int64_t h = 2 * 4 * d / 3;
    return (h + 255) / 256 * 256;
}

/* One stream's adaLN-zero: SiLU of the time embedding, a bias-free linear
 * to six chunks, the norm without weights and the shift-and-scale. */
static void af_adaln(builder *b, const char *name, int64_t count, int64_t rows, int64_t d)
{
    char s[48];
    pb_name(s, sizeof s, "%s.act", name);
    pb_elementwise(b, ESL_LAYER_ACT, s, count, d, FPE_SILU, 0);
    pb_name(s, sizeof s, "%s.linear", name);
    pb_linear(b, s, count, 1, d, 6 * d, 0);
    pb_name(s, sizeof s, "%s.norm", name);
    pb_layernorm(b, s, count, rows, d, 0);
    pb_name(s, sizeof s, "%s.modulate", name);
    pb_elementwise(b, ESL_LAYER_OTHER, s, count, rows * d, FPE_MODULATE, 0);
}

/* Bias-free q, k, v of one stream and the per-head layer norms of q and k. */
static void af_qkv(builder *b, const char *name, int64_t count, int64_t rows, int64_t d, int64_t heads,
                   int64_t hd)
{
    char s[48];
    static const char *const proj[] = {"q", "k", "v"};
    for (int i = 0; i < 3; i++) {
        pb_name(s, sizeof s, "%s.%s", name, proj[i]);
        pb_linear(b, s, count, rows, d, heads * hd, 0);
    }
    pb_name(s, sizeof s, "%s.norm_q", name);
    pb_layernorm(b, s, count, rows * heads, hd, 0);
    pb_name(s, sizeof s, "%s.norm_k", name);
    pb_layernorm(b, s, count, rows * heads, hd, 0);
}

/* After the attention, per stream: the bias-free output projection, the
 * gated residual, the weightless norm and modulation, the SwiGLU
 * feed-forward and its gated residual. */
static void af_tail(builder *b, const char *name, int64_t count, int64_t rows, int64_t d, int64_t ff)
{
    char s[48];
    pb_name(s, sizeof s, "%s.attn.out", name);
    pb_linear(b, s, count, rows, d, d, 0);
    pb_name(s, sizeof s, "%s.attn.gate", name);
    pb_elementwise(b, ESL_LAYER_OTHER, s, count, rows * d, FPE_GATED_ADD, 0);
    pb_name(s, sizeof s, "%s.norm2", name);
    pb_layernorm(b, s, count, rows, d, 0);
    pb_name(s, sizeof s, "%s.norm2.modulate", name);
    pb_elementwise(b, ESL_LAYER_OTHER, s, count, rows * d, FPE_MODULATE, 0);
    pb_name(s, sizeof s, "%s.ff.linear_1", name);
    pb_linear(b, s, count, rows, d, ff, 0);
    pb_name(s, sizeof s, "%s.ff.linear_2", name);
    pb_linear(b, s, count, rows, d, ff, 0);
    pb_name(s, sizeof s, "%s.ff.swiglu", name);
    pb_elementwise(b, ESL_LAYER_ACT, s, count, rows * ff, FPE_SILU + FPE_GATE, 0);
    pb_name(s, sizeof s, "%s.ff.out", name);
    pb_linear(b, s, count, rows, ff, d, 0);
    pb_name(s, sizeof s, "%s.ff.gate", name);
    pb_elementwise(b, ESL_LAYER_OTHER, s, count, rows * d, FPE_GATED_ADD, 0);
}

void build_auraflow(builder *b)
{
    int64_t heads = cfg_int(b, "num_attention_heads", 12), hd = cfg_int(b, "attention_head_dim", 256);
    int64_t d = heads * hd, in = cfg_int(b, "in_channels", 4), out = cfg_int(b, "out_channels", in);
    int64_t p = cfg_int(b, "patch_size", 2), joint = cfg_int(b, "joint_attention_dim", 2048);
    int64_t cap = cfg_int(b, "caption_projection_dim", d), pos = cfg_int(b, "pos_embed_max_size", 1024);
    int64_t n_joint = cfg_count(b, "num_mmdit_layers", 4), n_single = cfg_count(b, "num_single_dit_layers", 32);
    int64_t registers = 8; /* register_tokens: 8 learned tokens before the text */
    int64_t gh, gw, side = 0;
    if (b->rc == ESL_OK && (heads < 1 || hd < 1))
        pb_fail(b, ESL_EINVAL, "num_attention_heads %lld and attention_head_dim %lld must be positive",
                (long long)heads, (long long)hd);
    if (b->rc != ESL_OK)
        return;
    if (cap != d)
        pb_fail(b, ESL_EINVAL, "caption_projection_dim %lld must equal num_attention_heads x "
                "attention_head_dim (%lld): the text joins the image stream", (long long)cap, (long long)d);
    while ((side + 1) * (side + 1) <= pos)
        side++;
    int64_t n = pb_image_tokens(b, p, &gh, &gw), t = pb_text_tokens(b) + registers, len = n + t;
    /* the position table is a side x side grid the image's patches are cut from */
    if (b->rc == ESL_OK && (gh > side || gw > side))
        pb_fail(b, ESL_EINVAL, "image size %lldx%lld: %lldx%lld patches do not fit the %lldx%lld position "
                "grid of pos_embed_max_size %lld", (long long)b->req->height, (long long)b->req->width,
                (long long)gh, (long long)gw, (long long)side, (long long)side, (long long)pos);
    if (b->rc != ESL_OK)
        return;
    int64_t ff = swiglu_hidden(d);

    pb_linear(b, "pos_embed.proj", 1, n, p * p * in, d, 1);
    pb_elementwise(b, ESL_LAYER_OTHER, "pos_embed.add", 1, n * d, FPE_ADD, pos * d);
    pb_timestep_embedding(b, "time_step_proj", 1, 256, d);
    pb_linear(b, "context_embedder", 1, t - registers, joint, d, 0);
    pb_table(b, "register_tokens", registers * d);

    /* AuraFlowJointTransformerBlock: two streams, one attention */
    af_adaln(b, "joint.img.norm1", n_joint, n, d);
    af_adaln(b, "joint.txt.norm1", n_joint, t, d);
    af_qkv(b, "joint.img.attn", n_joint, n, d, heads, hd);
    af_qkv(b, "joint.txt.attn", n_joint, t, d, heads, hd);
    pb_attention(b, "joint.attention", n_joint, heads, len, len, hd);
    af_tail(b, "joint.img", n_joint, n, d, ff);
    af_tail(b, "joint.txt", n_joint, t, d, ff);

    /* AuraFlowSingleTransformerBlock over text and image together */
    af_adaln(b, "single.norm1", n_single, len, d);
    af_qkv(b, "single.attn", n_single, len, d, heads, hd);
    pb_attention(b, "single.attention", n_single, heads, len, len, hd);
    af_tail(b, "single", n_single, len, d, ff);

    /* AuraFlowPreFinalBlock: x (1 + scale) + shift, no norm */
    pb_elementwise(b, ESL_LAYER_ACT, "norm_out.act", 1, d, FPE_SILU, 0);
    pb_linear(b, "norm_out.linear", 1, 1, d, 2 * d, 0);
    pb_elementwise(b, ESL_LAYER_OTHER, "norm_out.modulate", 1, n * d, FPE_MODULATE, 0);
    pb_linear(b, "proj_out", 1, n, d, p * p * out, 0);
}
