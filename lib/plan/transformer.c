/*
 * transformer.c - layer plans of the diffusion transformers of diffusers:
 * FluxTransformer2DModel, SD3Transformer2DModel, QwenImageTransformer2DModel
 * (MMDiT: joint attention over image and text tokens), DiTTransformer2DModel
 * and PixArtTransformer2DModel (adaLN-zero and adaLN-single DiT blocks).
 * Each function follows the module structure of the diffusers class of the
 * same name (diffusers/models/transformers), layer by layer, with the
 * elementwise work (norms, modulation, gates, RoPE) counted as docs/flops.md
 * states. One forward pass, batch 1; classifier-free guidance is the
 * caller's second pass.
 */
#include <string.h>

#include "plan/internal.h"

/* Image tokens of a latent grid cut into p x p patches; fails unless whole. */
int64_t pb_image_tokens(builder *b, int64_t p, int64_t *gh, int64_t *gw)
{
    int64_t h, w;
    *gh = *gw = 0; /* set on every path: a failed build reads them too */
    pb_latent(b, &h, &w);
    if (p <= 0 || h % p != 0 || w % p != 0) {
        pb_fail(b, ESL_EINVAL, "image size %lldx%lld: the latent grid %lldx%lld is not a multiple "
                "of the patch size %lld", (long long)b->req->height, (long long)b->req->width,
                (long long)h, (long long)w, (long long)p);
        return 0;
    }
    *gh = h / p;
    *gw = w / p;
    return (h / p) * (w / p);
}

/* TimestepEmbedding(in, d): sinusoid of `in` channels, linear, SiLU, linear. */
void pb_timestep_embedding(builder *b, const char *name, int64_t count, int64_t in, int64_t d)
{
    char n[48];
    pb_name(n, sizeof n, "%s.sinusoid", name);
    pb_elementwise(b, ESL_LAYER_OTHER, n, count, in, FPE_SINUSOID, 0);
    pb_name(n, sizeof n, "%s.linear_1", name);
    pb_linear(b, n, count, 1, in, d, 1);
    pb_name(n, sizeof n, "%s.act", name);
    pb_elementwise(b, ESL_LAYER_ACT, n, count, d, FPE_SILU, 0);
    pb_name(n, sizeof n, "%s.linear_2", name);
    pb_linear(b, n, count, 1, d, d, 1);
}

/* Linear, activation, linear over `rows` (PixArtAlphaTextProjection, FeedForward). */
static void mlp(builder *b, const char *name, int64_t count, int64_t rows, int64_t in, int64_t hidden,
                int64_t out, int64_t act_fpe)
{
    char n[48];
    pb_name(n, sizeof n, "%s.linear_1", name);
    pb_linear(b, n, count, rows, in, hidden, 1);
    pb_name(n, sizeof n, "%s.act", name);
    pb_elementwise(b, ESL_LAYER_ACT, n, count, rows * hidden, act_fpe, 0);
    pb_name(n, sizeof n, "%s.linear_2", name);
    pb_linear(b, n, count, rows, hidden, out, 1);
}

/* adaLN: SiLU of the conditioning vector, a linear to `chunks` x d, a norm
 * without affine weights over rows x d and the shift-and-scale. */
static void ada_norm(builder *b, const char *name, int64_t count, int64_t rows, int64_t d, int64_t chunks)
{
    char n[48];
    pb_name(n, sizeof n, "%s.act", name);
    pb_elementwise(b, ESL_LAYER_ACT, n, count, d, FPE_SILU, 0);
    pb_name(n, sizeof n, "%s.linear", name);
    pb_linear(b, n, count, 1, d, chunks * d, 1);
    pb_name(n, sizeof n, "%s.norm", name);
    pb_layernorm(b, n, count, rows, d, 0);
    pb_name(n, sizeof n, "%s.modulate", name);
    pb_elementwise(b, ESL_LAYER_OTHER, n, count, rows * d, FPE_MODULATE, 0);
}

/* q, k, v projections of one stream with optional RMS q/k norms. */
static void qkv(builder *b, const char *name, int64_t count, int64_t rows, int64_t d, int64_t heads,
                int64_t hd, int qk_norm, int bias)
{
    char n[48];
    static const char *const proj[] = {"q", "k", "v"};
    for (int i = 0; i < 3; i++) {
        pb_name(n, sizeof n, "%s.%s", name, proj[i]);
        pb_linear(b, n, count, rows, d, heads * hd, bias);
    }
    if (qk_norm) {
        pb_name(n, sizeof n, "%s.norm_q", name);
        pb_rmsnorm(b, n, count, rows * heads, hd);
        pb_name(n, sizeof n, "%s.norm_k", name);
        pb_rmsnorm(b, n, count, rows * heads, hd);
    }
}

/*
 * One MMDiT ("double-stream") block over n image and t text tokens, as in
 * FluxTransformerBlock, JointTransformerBlock and QwenImageTransformerBlock:
 * per-stream adaLN-zero, joint attention, per-stream output projection and
 * feed-forward. `pre_only`: the text stream stops after its q, k, v (SD3's
 * last block, with a continuous adaLN of 2 chunks on the text side).
 */
static void mmdit_block(builder *b, const char *name, int64_t count, int64_t n, int64_t t, int64_t d,
                        int64_t heads, int64_t hd, int64_t ff, int qk_norm, int rope, int pre_only)
{
    char s[48];
    int64_t len = n + t;
    pb_name(s, sizeof s, "%s.img.adaln", name);
    ada_norm(b, s, count, n, d, 6);
    pb_name(s, sizeof s, "%s.txt.adaln", name);
    ada_norm(b, s, count, t, d, pre_only ? 2 : 6);
    pb_name(s, sizeof s, "%s.img.attn", name);
    qkv(b, s, count, n, d, heads, hd, qk_norm, 1);
    pb_name(s, sizeof s, "%s.txt.attn", name);
    qkv(b, s, count, t, d, heads, hd, qk_norm, 1);
    if (rope) {
        pb_name(s, sizeof s, "%s.rope", name);
        pb_elementwise(b, ESL_LAYER_OTHER, s, count, 2 * len * heads * hd, FPE_ROPE, 0);
    }
    pb_name(s, sizeof s, "%s.attention", name);
    pb_attention(b, s, count, heads, len, len, hd);
    for (int stream = 0; stream < 2; stream++) {
        int64_t rows = stream == 0 ? n : t;
        const char *tag = stream == 0 ? "img" : "txt";
        if (stream == 1 && pre_only)
            break;
        pb_name(s, sizeof s, "%s.%s.attn.out", name, tag);
        pb_linear(b, s, count, rows, heads * hd, d, 1);
        pb_name(s, sizeof s, "%s.%s.attn.gate", name, tag);
        pb_elementwise(b, ESL_LAYER_OTHER, s, count, rows * d, FPE_GATED_ADD, 0);
        pb_name(s, sizeof s, "%s.%s.norm2", name, tag);
        pb_layernorm(b, s, count, rows, d, 0);
        pb_name(s, sizeof s, "%s.%s.norm2.modulate", name, tag);
        pb_elementwise(b, ESL_LAYER_OTHER, s, count, rows * d, FPE_MODULATE, 0);
        pb_name(s, sizeof s, "%s.%s.ff", name, tag);
        mlp(b, s, count, rows, d, ff, d, FPE_GELU);
        pb_name(s, sizeof s, "%s.%s.ff.gate", name, tag);
        pb_elementwise(b, ESL_LAYER_OTHER, s, count, rows * d, FPE_GATED_ADD, 0);
    }
}

/* AdaLayerNormContinuous and the final projection to patch pixels. */
static void final_layer(builder *b, int64_t n, int64_t d, int64_t out)
{
    pb_elementwise(b, ESL_LAYER_ACT, "norm_out.act", 1, d, FPE_SILU, 0);
    pb_linear(b, "norm_out.linear", 1, 1, d, 2 * d, 1);
    pb_layernorm(b, "norm_out.norm", 1, n, d, 0);
    pb_elementwise(b, ESL_LAYER_OTHER, "norm_out.modulate", 1, n * d, FPE_MODULATE, 0);
    pb_linear(b, "proj_out", 1, n, d, out, 1);
}

/* FluxTransformer2DModel: 2x2-packed latents (the config's patch_size 1 is
 * after packing), 19 double-stream and 38 single-stream blocks in FLUX.1. */
void build_flux(builder *b)
{
    int64_t heads = cfg_int(b, "num_attention_heads", 24), hd = cfg_int(b, "attention_head_dim", 128);
    int64_t d = heads * hd, in = cfg_int(b, "in_channels", 64);
    int64_t p = cfg_int(b, "patch_size", 1), out = cfg_int(b, "out_channels", in);
    int64_t n_double = cfg_count(b, "num_layers", 19), n_single = cfg_count(b, "num_single_layers", 38);
    int64_t joint = cfg_int(b, "joint_attention_dim", 4096), pooled = cfg_int(b, "pooled_projection_dim", 768);
    int guidance = cfg_bool(b, "guidance_embeds", 0);
    int64_t gh, gw, t = pb_text_tokens(b);
    int64_t n = pb_image_tokens(b, 2 * p, &gh, &gw), len = n + t;
    if (b->rc != ESL_OK)
        return;
    pb_linear(b, "x_embedder", 1, n, in, d, 1);
    pb_timestep_embedding(b, "time_text_embed.timestep", 1, 256, d);
    if (guidance)
        pb_timestep_embedding(b, "time_text_embed.guidance", 1, 256, d);
    mlp(b, "time_text_embed.text", 1, 1, pooled, d, d, FPE_SILU);
    pb_elementwise(b, ESL_LAYER_OTHER, "time_text_embed.sum", 1, d, guidance ? 2 : 1, 0);
    pb_linear(b, "context_embedder", 1, t, joint, d, 1);
    pb_elementwise(b, ESL_LAYER_OTHER, "rope.table", 1, len * hd, FPE_SINUSOID, 0);
    mmdit_block(b, "double", n_double, n, t, d, heads, hd, 4 * d, 1, 1, 0);

    /* FluxSingleTransformerBlock: one stream over image + text tokens; the
     * MLP input projection runs beside q, k, v, and one projection maps the
     * concatenated attention and MLP outputs back. */
    int64_t mlp_d = 4 * d;
    ada_norm(b, "single.adaln", n_single, len, d, 3);
    pb_linear(b, "single.proj_mlp", n_single, len, d, mlp_d, 1);
    pb_elementwise(b, ESL_LAYER_ACT, "single.act_mlp", n_single, len * mlp_d, FPE_GELU, 0);
    qkv(b, "single.attn", n_single, len, d, heads, hd, 1, 1);
    pb_elementwise(b, ESL_LAYER_OTHER, "single.rope", n_single, 2 * len * d, FPE_ROPE, 0);
    pb_attention(b, "single.attention", n_single, heads, len, len, hd);
    pb_linear(b, "single.proj_out", n_single, len, d + mlp_d, d, 1);
    pb_elementwise(b, ESL_LAYER_OTHER, "single.gate", n_single, len * d, FPE_GATED_ADD, 0);

    final_layer(b, n, d, p * p * out);
}

/* The number of distinct blocks dual_attention_layers names; each index
 * must be a block (0 to num_layers - 1), listed once. */
static int64_t dual_layers(builder *b, int64_t layers)
{
    json_t *list = json_object_get(b->cfg, "dual_attention_layers");
    if (list == NULL || json_is_null(list))
        return 0;
    if (!json_is_array(list)) {
        pb_fail(b, ESL_EINVAL, "config field 'dual_attention_layers': expected a list of block indices");
        return 0;
    }
    size_t n = json_array_size(list);
    for (size_t i = 0; i < n; i++) {
        json_t *x = json_array_get(list, i);
        json_int_t v = json_is_integer(x) ? json_integer_value(x) : -1;
        if (v < 0 || v >= layers) {
            pb_fail(b, ESL_EINVAL, "config field 'dual_attention_layers': element %zu is not a block "
                    "index from 0 to %lld", i, (long long)(layers - 1));
            return 0;
        }
        for (size_t j = 0; j < i; j++)
            if (json_integer_value(json_array_get(list, j)) == v) {
                pb_fail(b, ESL_EINVAL, "config field 'dual_attention_layers': block %lld is listed "
                        "twice", (long long)v);
                return 0;
            }
    }
    return (int64_t)n;
}

/*
 * What a dual-attention block (SD3.5 Medium's MMDiT-X, JointTransformerBlock
 * with use_dual_attention) adds to the image stream of a joint block:
 * SD35AdaLayerNormZeroX emits 9 chunks where AdaLayerNormZero emits 6 (the
 * extra 3 d outputs are a linear of their own here: the same FLOPs and
 * parameters as one d -> 9d linear), a second modulation of the same norm,
 * and a self-attention over the image tokens alone (attn2, q/k RMS-normed
 * like the joint attention) whose gated output joins the residual.
 */
static void dual_attention(builder *b, int64_t count, int64_t n, int64_t d, int64_t heads, int64_t hd,
                           int qk_norm)
{
    pb_linear(b, "dual.img.adaln.linear_x", count, 1, d, 3 * d, 1);
    pb_elementwise(b, ESL_LAYER_OTHER, "dual.img.adaln.modulate2", count, n * d, FPE_MODULATE, 0);
    qkv(b, "dual.attn2", count, n, d, heads, hd, qk_norm, 1);
    pb_attention(b, "dual.attn2.attention", count, heads, n, n, hd);
    pb_linear(b, "dual.attn2.out", count, n, heads * hd, d, 1);
    pb_elementwise(b, ESL_LAYER_OTHER, "dual.attn2.gate", count, n * d, FPE_GATED_ADD, 0);
}

/* SD3Transformer2DModel (SD3, SD3.5 Large and Medium): patch-embedding
 * convolution with a position table (a buffer, no parameters), num_layers
 * joint blocks, the last text-side pre-only; the blocks listed in
 * dual_attention_layers (SD3.5 Medium: 0 to 12) add a second attention. */
void build_sd3(builder *b)
{
    int64_t heads = cfg_int(b, "num_attention_heads", 18), hd = cfg_int(b, "attention_head_dim", 64);
    int64_t d = heads * hd, in = cfg_int(b, "in_channels", 16), p = cfg_int(b, "patch_size", 2);
    int64_t out = cfg_int(b, "out_channels", 16), layers = cfg_count(b, "num_layers", 18);
    int64_t joint = cfg_int(b, "joint_attention_dim", 4096), pooled = cfg_int(b, "pooled_projection_dim", 2048);
    int64_t caption = cfg_int(b, "caption_projection_dim", 1152);
    const char *qk = cfg_str(b, "qk_norm", NULL);
    int64_t dual = dual_layers(b, layers);
    if (qk != NULL && strcmp(qk, "rms_norm") != 0)
        pb_fail(b, ESL_EUNSUPPORTED, "qk_norm '%s' is not supported (rms_norm or none)", qk);
    if (caption != d)
        pb_fail(b, ESL_EINVAL, "caption_projection_dim %lld differs from the inner width %lld",
                (long long)caption, (long long)d);
    int64_t gh, gw, t = pb_text_tokens(b);
    int64_t n = pb_image_tokens(b, p, &gh, &gw);
    if (b->rc != ESL_OK || layers < 1)
        return;
    pb_conv(b, "pos_embed.proj", 1, in, d, p, p, gh, gw, 1);
    pb_elementwise(b, ESL_LAYER_OTHER, "pos_embed.add", 1, n * d, FPE_ADD, 0);
    pb_timestep_embedding(b, "time_text_embed.timestep", 1, 256, d);
    mlp(b, "time_text_embed.text", 1, 1, pooled, d, d, FPE_SILU);
    pb_elementwise(b, ESL_LAYER_OTHER, "time_text_embed.sum", 1, d, FPE_ADD, 0);
    pb_linear(b, "context_embedder", 1, t, joint, d, 1);
    mmdit_block(b, "joint", layers - 1, n, t, d, heads, hd, 4 * d, qk != NULL, 0, 0);
    mmdit_block(b, "joint_last", 1, n, t, d, heads, hd, 4 * d, qk != NULL, 0, 1);
    if (dual > 0)
        dual_attention(b, dual, n, d, heads, hd, qk != NULL);
    final_layer(b, n, d, p * p * out);
}

/* QwenImageTransformer2DModel: 2x2-packed latents, RMS-normed text input,
 * num_layers double-stream blocks with 3-axis RoPE. */
void build_qwen_image(builder *b)
{
    int64_t heads = cfg_int(b, "num_attention_heads", 24), hd = cfg_int(b, "attention_head_dim", 128);
    int64_t d = heads * hd, in = cfg_int(b, "in_channels", 64), p = cfg_int(b, "patch_size", 2);
    int64_t out = cfg_int(b, "out_channels", 16), layers = cfg_count(b, "num_layers", 60);
    int64_t joint = cfg_int(b, "joint_attention_dim", 3584);
    if (cfg_bool(b, "guidance_embeds", 0))
        pb_fail(b, ESL_EUNSUPPORTED, "guidance_embeds true is not supported");
    int64_t gh, gw, t = pb_text_tokens(b);
    int64_t n = pb_image_tokens(b, p, &gh, &gw), len = n + t;
    if (b->rc != ESL_OK)
        return;
    pb_timestep_embedding(b, "time_text_embed.timestep", 1, 256, d);
    pb_rmsnorm(b, "txt_norm", 1, t, joint);
    pb_linear(b, "img_in", 1, n, in, d, 1);
    pb_linear(b, "txt_in", 1, t, joint, d, 1);
    pb_elementwise(b, ESL_LAYER_OTHER, "rope.table", 1, len * hd, FPE_SINUSOID, 0);
    mmdit_block(b, "block", layers, n, t, d, heads, hd, 4 * d, 1, 1, 0);
    final_layer(b, n, d, p * p * out);
}

/* The patch embedding shared by DiT and PixArt: convolution + fixed table. */
static int64_t patch_embed(builder *b, int64_t in, int64_t d, int64_t p)
{
    int64_t gh, gw;
    int64_t n = pb_image_tokens(b, p, &gh, &gw);
    if (b->rc != ESL_OK)
        return 0;
    pb_conv(b, "pos_embed.proj", 1, in, d, p, p, gh, gw, 1);
    pb_elementwise(b, ESL_LAYER_OTHER, "pos_embed.add", 1, n * d, FPE_ADD, 0);
    return n;
}

/* Self-attention with output projection over `rows` tokens. */
static void self_attention(builder *b, const char *name, int64_t count, int64_t rows, int64_t d,
                           int64_t heads, int64_t hd, int bias)
{
    char s[48];
    qkv(b, name, count, rows, d, heads, hd, 0, bias);
    pb_name(s, sizeof s, "%s.attention", name);
    pb_attention(b, s, count, heads, rows, rows, hd);
    pb_name(s, sizeof s, "%s.out", name);
    pb_linear(b, s, count, rows, heads * hd, d, 1);
}

/* DiTTransformer2DModel (or Transformer2DModel with norm_type ada_norm_zero):
 * class-conditional, each block embedding timestep and class itself. */
void build_dit(builder *b)
{
    int64_t heads = cfg_int(b, "num_attention_heads", 16), hd = cfg_int(b, "attention_head_dim", 72);
    int64_t d = heads * hd, in = cfg_int(b, "in_channels", 4), p = cfg_int(b, "patch_size", 2);
    int64_t out = cfg_int(b, "out_channels", in), layers = cfg_count(b, "num_layers", 28);
    int64_t classes = cfg_int(b, "num_embeds_ada_norm", 1000);
    int bias = cfg_bool(b, "attention_bias", 1);
    int64_t n = patch_embed(b, in, d, p);
    if (b->rc != ESL_OK)
        return;
    /* AdaLayerNormZero with CombinedTimestepLabelEmbeddings per block; the
     * label table has one extra row for the classifier-free "null" class. */
    pb_timestep_embedding(b, "block.emb.timestep", layers, 256, d);
    pb_elementwise(b, ESL_LAYER_OTHER, "block.emb.class_table", layers, d, FPE_ADD, (classes + 1) * d);
    ada_norm(b, "block.norm1", layers, n, d, 6);
    self_attention(b, "block.attn1", layers, n, d, heads, hd, bias);
    pb_elementwise(b, ESL_LAYER_OTHER, "block.attn1.gate", layers, n * d, FPE_GATED_ADD, 0);
    pb_layernorm(b, "block.norm3", layers, n, d, 0);
    pb_elementwise(b, ESL_LAYER_OTHER, "block.norm3.modulate", layers, n * d, FPE_MODULATE, 0);
    mlp(b, "block.ff", layers, n, d, 4 * d, d, FPE_GELU);
    pb_elementwise(b, ESL_LAYER_OTHER, "block.ff.gate", layers, n * d, FPE_GATED_ADD, 0);
    /* The output layer recomputes block 0's conditioning (shared weights). */
    b->shared = 1;
    pb_timestep_embedding(b, "out.emb.timestep", 1, 256, d);
    b->shared = 0;
    pb_elementwise(b, ESL_LAYER_OTHER, "out.emb.class", 1, d, FPE_ADD, 0);
    pb_elementwise(b, ESL_LAYER_ACT, "proj_out_1.act", 1, d, FPE_SILU, 0);
    pb_linear(b, "proj_out_1", 1, 1, d, 2 * d, 1);
    pb_layernorm(b, "norm_out", 1, n, d, 0);
    pb_elementwise(b, ESL_LAYER_OTHER, "norm_out.modulate", 1, n * d, FPE_MODULATE, 0);
    pb_linear(b, "proj_out_2", 1, n, d, p * p * out, 1);
}

/* PixArtTransformer2DModel (or Transformer2DModel with ada_norm_single):
 * one shared adaLN-single embedding, cross-attention to T5 tokens. */
void build_pixart(builder *b)
{
    int64_t heads = cfg_int(b, "num_attention_heads", 16), hd = cfg_int(b, "attention_head_dim", 72);
    int64_t d = heads * hd, in = cfg_int(b, "in_channels", 4), p = cfg_int(b, "patch_size", 2);
    int64_t out = cfg_int(b, "out_channels", in), layers = cfg_count(b, "num_layers", 28);
    int64_t cross = cfg_int(b, "cross_attention_dim", d), caption = cfg_int(b, "caption_channels", 4096);
    int64_t sample = cfg_int(b, "sample_size", 128);
    int bias = cfg_bool(b, "attention_bias", 1), t = (int)pb_text_tokens(b);
    int extra = cfg_bool(b, "use_additional_conditions", sample == 128);
    int64_t n = patch_embed(b, in, d, p);
    if (b->rc != ESL_OK)
        return;
    pb_timestep_embedding(b, "adaln_single.timestep", 1, 256, d);
    if (extra) { /* resolution (2 values) and aspect ratio (1), d/3 wide each */
        pb_timestep_embedding(b, "adaln_single.resolution", 1, 256, d / 3);
        b->shared = 1; /* the same module embeds the width */
        pb_timestep_embedding(b, "adaln_single.resolution", 1, 256, d / 3);
        b->shared = 0;
        pb_timestep_embedding(b, "adaln_single.aspect_ratio", 1, 256, d / 3);
    }
    pb_elementwise(b, ESL_LAYER_ACT, "adaln_single.act", 1, d, FPE_SILU, 0);
    pb_linear(b, "adaln_single.linear", 1, 1, d, 6 * d, 1);
    mlp(b, "caption_projection", 1, t, caption, d, d, FPE_GELU);
    pb_elementwise(b, ESL_LAYER_OTHER, "block.scale_shift_table", layers, 6 * d, FPE_ADD, 6 * d);
    pb_layernorm(b, "block.norm1", layers, n, d, 0);
    pb_elementwise(b, ESL_LAYER_OTHER, "block.norm1.modulate", layers, n * d, FPE_MODULATE, 0);
    self_attention(b, "block.attn1", layers, n, d, heads, hd, bias);
    pb_elementwise(b, ESL_LAYER_OTHER, "block.attn1.gate", layers, n * d, FPE_GATED_ADD, 0);
    pb_linear(b, "block.attn2.q", layers, n, d, d, bias);
    pb_linear(b, "block.attn2.k", layers, t, cross, d, bias);
    pb_linear(b, "block.attn2.v", layers, t, cross, d, bias);
    pb_attention(b, "block.attn2.attention", layers, heads, n, t, hd);
    pb_linear(b, "block.attn2.out", layers, n, d, d, 1);
    pb_elementwise(b, ESL_LAYER_OTHER, "block.attn2.residual", layers, n * d, FPE_ADD, 0);
    pb_layernorm(b, "block.norm2", layers, n, d, 0);
    pb_elementwise(b, ESL_LAYER_OTHER, "block.norm2.modulate", layers, n * d, FPE_MODULATE, 0);
    mlp(b, "block.ff", layers, n, d, 4 * d, d, FPE_GELU);
    pb_elementwise(b, ESL_LAYER_OTHER, "block.ff.gate", layers, n * d, FPE_GATED_ADD, 0);
    pb_elementwise(b, ESL_LAYER_OTHER, "scale_shift_table", 1, 2 * d, FPE_ADD, 2 * d);
    pb_layernorm(b, "norm_out", 1, n, d, 0);
    pb_elementwise(b, ESL_LAYER_OTHER, "norm_out.modulate", 1, n * d, FPE_MODULATE, 0);
    pb_linear(b, "proj_out", 1, n, d, p * p * out, 1);
}

/* SanaTransformer2DModel: linear self-attention, softmax cross-attention to
 * the Gemma tokens, and a convolutional GLU feed-forward (GLUMBConv) on the
 * token grid; adaLN-single conditioning as in PixArt. SANA 1.5 adds RMS
 * norms of q and k across all heads (qk_norm "rms_norm_across_heads") in
 * both attentions. */
void build_sana(builder *b)
{
    int64_t heads = cfg_int(b, "num_attention_heads", 70), hd = cfg_int(b, "attention_head_dim", 32);
    int64_t d = heads * hd, in = cfg_int(b, "in_channels", 32), p = cfg_int(b, "patch_size", 1);
    int64_t out = cfg_int(b, "out_channels", in), layers = cfg_count(b, "num_layers", 20);
    int64_t cross = cfg_int(b, "cross_attention_dim", 2240), caption = cfg_int(b, "caption_channels", 2304);
    int64_t xheads = cfg_int(b, "num_cross_attention_heads", 20);
    int64_t xhd = cfg_int(b, "cross_attention_head_dim", 112);
    int bias = cfg_bool(b, "attention_bias", 0);
    const char *qk = cfg_str(b, "qk_norm", NULL);
    int qk_norm = qk != NULL && strcmp(qk, "rms_norm_across_heads") == 0;
    if (qk != NULL && !qk_norm)
        pb_fail(b, ESL_EUNSUPPORTED, "qk_norm '%s' is not supported (rms_norm_across_heads or none)", qk);
    if (cfg_bool(b, "guidance_embeds", 0))
        pb_fail(b, ESL_EUNSUPPORTED, "guidance_embeds true is not supported");
    json_t *ratio = json_object_get(b->cfg, "mlp_ratio");
    double mlp_ratio = json_is_number(ratio) ? json_number_value(ratio) : 2.5;
    int64_t hidden = (int64_t)(mlp_ratio * (double)d), t = pb_text_tokens(b), gh, gw;
    int64_t n = pb_image_tokens(b, p, &gh, &gw);
    if (b->rc != ESL_OK)
        return;
    pb_conv(b, "patch_embed.proj", 1, in, d, p, p, gh, gw, 1);
    /* A fixed sin-cos table is added only when interpolation_scale is set. */
    if (json_is_number(json_object_get(b->cfg, "interpolation_scale")))
        pb_elementwise(b, ESL_LAYER_OTHER, "patch_embed.pos_add", 1, n * d, FPE_ADD, 0);
    pb_timestep_embedding(b, "time_embed.timestep", 1, 256, d);
    pb_elementwise(b, ESL_LAYER_ACT, "time_embed.act", 1, d, FPE_SILU, 0);
    pb_linear(b, "time_embed.linear", 1, 1, d, 6 * d, 1);
    mlp(b, "caption_projection", 1, t, caption, d, d, FPE_GELU);
    pb_rmsnorm(b, "caption_norm", 1, t, d);
    pb_elementwise(b, ESL_LAYER_OTHER, "block.scale_shift_table", layers, 6 * d, FPE_ADD, 6 * d);
    pb_layernorm(b, "block.norm1", layers, n, d, 0);
    pb_elementwise(b, ESL_LAYER_OTHER, "block.norm1.modulate", layers, n * d, FPE_MODULATE, 0);
    qkv(b, "block.attn1", layers, n, d, heads, hd, 0, bias);
    if (qk_norm) {
        pb_rmsnorm(b, "block.attn1.norm_q", layers, n, d);
        pb_rmsnorm(b, "block.attn1.norm_k", layers, n, d);
    }
    pb_linear_attention(b, "block.attn1.attention", layers, heads, n, hd);
    pb_linear(b, "block.attn1.out", layers, n, d, d, 1);
    pb_elementwise(b, ESL_LAYER_OTHER, "block.attn1.gate", layers, n * d, FPE_GATED_ADD, 0);
    pb_linear(b, "block.attn2.q", layers, n, d, xheads * xhd, 1);
    pb_linear(b, "block.attn2.k", layers, t, cross, xheads * xhd, 1);
    pb_linear(b, "block.attn2.v", layers, t, cross, xheads * xhd, 1);
    if (qk_norm) {
        pb_rmsnorm(b, "block.attn2.norm_q", layers, n, xheads * xhd);
        pb_rmsnorm(b, "block.attn2.norm_k", layers, t, xheads * xhd);
    }
    pb_attention(b, "block.attn2.attention", layers, xheads, n, t, xhd);
    pb_linear(b, "block.attn2.out", layers, n, xheads * xhd, d, 1);
    pb_elementwise(b, ESL_LAYER_OTHER, "block.attn2.residual", layers, n * d, FPE_ADD, 0);
    pb_layernorm(b, "block.norm2", layers, n, d, 0);
    pb_elementwise(b, ESL_LAYER_OTHER, "block.norm2.modulate", layers, n * d, FPE_MODULATE, 0);
    glumbconv(b, "block.ff", layers, d, d, hidden, gh, gw, 0, 0);
    pb_elementwise(b, ESL_LAYER_OTHER, "block.ff.gate", layers, n * d, FPE_GATED_ADD, 0);
    pb_elementwise(b, ESL_LAYER_OTHER, "scale_shift_table", 1, 2 * d, FPE_ADD, 2 * d);
    pb_layernorm(b, "norm_out", 1, n, d, 0);
    pb_elementwise(b, ESL_LAYER_OTHER, "norm_out.modulate", 1, n * d, FPE_MODULATE, 0);
    pb_linear(b, "proj_out", 1, n, d, p * p * out, 1);
}
