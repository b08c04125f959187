/*
 * kandinsky.c - layer plans of the networks of Kandinsky 2.2, after the
 * diffusers and transformers classes its combined text-to-image pipeline
 * runs: the prior (PriorTransformer, a causal transformer that samples a CLIP
 * image embedding from the text), the CLIP image encoder the prior pipeline
 * runs once on a blank image for its negative embedding
 * (CLIPVisionModelWithProjection), the decoder U-Net (UNet2DConditionModel
 * with added-KV "simple" cross-attention blocks, ResNet samplers and
 * scale-shift time conditioning, conditioned on the image embedding) and the
 * MoVQ decoder (VQModel with spatially conditioned norms). Average pooling
 * of a 2x2 window counts 4 FLOPs per output element; nearest upsampling and
 * interpolation count none (docs/flops.md).
 */
#include <string.h>

#include "plan/internal.h"

/* FLOPs per output element of a 2x2 average pool: three adds, one scale. */
enum { FPE_AVGPOOL = 4 };

/*
 * PriorTransformer (Kandinsky 2.2's prior, after DALL-E 2): the text
 * states (num_embeddings tokens), the pooled text embedding, the timestep,
 * the noisy image embedding and a learned "prd" token form one sequence,
 * with a learned position table, through num_layers self-attention blocks;
 * the last token is projected to the CLIP embedding. The pipeline's whole
 * sampling loop is one image's cost: "passes" (steps, doubled under the
 * prior's guidance; set by the diffusers reader) multiplies every layer.
 */
/* One forward pass of the prior, `count` times (n tokens of width d). */
static void prior_pass(builder *b, int64_t count, int64_t n, int64_t text, int64_t d, int64_t heads,
                       int64_t hd, int64_t layers, int64_t emb, int64_t proj, int64_t tdim, int64_t clip)
{
    pb_elementwise(b, ESL_LAYER_OTHER, "time_proj.sinusoid", count, d, FPE_SINUSOID, 0);
    pb_linear(b, "time_embedding.linear_1", count, 1, d, tdim, 1);
    pb_elementwise(b, ESL_LAYER_ACT, "time_embedding.act", count, tdim, FPE_SILU, 0);
    pb_linear(b, "time_embedding.linear_2", count, 1, tdim, d, 1);
    pb_linear(b, "proj_in", count, 1, emb, d, 1);
    pb_linear(b, "embedding_proj", count, 1, proj, d, 1);
    pb_linear(b, "encoder_hidden_states_proj", count, text, emb, d, 1);
    pb_elementwise(b, ESL_LAYER_OTHER, "positional_embedding", count, n * d, FPE_ADD, n * d);
    /* BasicTransformerBlock without cross-attention, GELU feed-forward;
     * the causal mask is not exploited (docs/flops.md). */
    int64_t c = count * layers;
    pb_layernorm(b, "block.norm1", c, n, d, 1);
    pb_linear(b, "block.attn1.q", c, n, d, d, 1);
    pb_linear(b, "block.attn1.k", c, n, d, d, 1);
    pb_linear(b, "block.attn1.v", c, n, d, d, 1);
    pb_attention(b, "block.attn1.attention", c, heads, n, n, hd);
    pb_linear(b, "block.attn1.out", c, n, d, d, 1);
    pb_layernorm(b, "block.norm3", c, n, d, 1);
    pb_linear(b, "block.ff.proj", c, n, d, 4 * d, 1);
    pb_elementwise(b, ESL_LAYER_ACT, "block.ff.gelu", c, n * 4 * d, FPE_GELU, 0);
    pb_linear(b, "block.ff.out", c, n, 4 * d, d, 1);
    pb_elementwise(b, ESL_LAYER_OTHER, "block.residuals", c, 2 * n * d, FPE_ADD, 0);
    pb_layernorm(b, "norm_out", count, n, d, 1);
    pb_linear(b, "proj_to_clip_embeddings", count, 1, d, clip, 1);
}

void build_prior(builder *b)
{
    int64_t heads = cfg_int(b, "num_attention_heads", 32), hd = cfg_int(b, "attention_head_dim", 64);
    int64_t d = heads * hd, layers = cfg_int(b, "num_layers", 20);
    int64_t emb = cfg_int(b, "embedding_dim", 768), text = cfg_int(b, "num_embeddings", 77);
    int64_t extra = cfg_int(b, "additional_embeddings", 4);
    int64_t clip = cfg_int(b, "clip_embed_dim", emb), proj = cfg_int(b, "embedding_proj_dim", emb);
    int64_t tdim = cfg_int(b, "time_embed_dim", d), passes = cfg_int(b, "passes", 1);
    const char *added = cfg_str(b, "added_emb_type", "prd");
    const char *hid = cfg_str(b, "encoder_hid_proj_type", "linear");
    const char *act = cfg_str(b, "time_embed_act_fn", "silu");
    if (strcmp(added, "prd") != 0 || strcmp(hid, "linear") != 0 || strcmp(act, "silu") != 0)
        pb_fail(b, ESL_EUNSUPPORTED, "added_emb_type '%s', encoder_hid_proj_type '%s', time_embed_act_fn "
                "'%s': only prd, linear and silu are supported", added, hid, act);
    if (cfg_str(b, "norm_in_type", NULL) != NULL || cfg_str(b, "embedding_proj_norm_type", NULL) != NULL)
        pb_fail(b, ESL_EUNSUPPORTED, "norm_in_type and embedding_proj_norm_type must be null");
    if (passes < 1 || passes > 100000 || layers < 1 || layers > 1000)
        pb_fail(b, ESL_EINVAL, "passes (1 to 100000) and num_layers (1 to 1000) out of range");
    if (b->rc != ESL_OK)
        return;
    int64_t n = text + extra; /* the sequence the position table covers */
    pb_table(b, "prd_embedding", d);
    /* the first pass holds the parameters; the others reuse them */
    prior_pass(b, 1, n, text, d, heads, hd, layers, emb, proj, tdim, clip);
    if (passes > 1) {
        b->shared = 1;
        prior_pass(b, passes - 1, n, text, d, heads, hd, layers, emb, proj, tdim, clip);
        b->shared = 0;
    }
    /* post_process_latents: x * clip_std + clip_mean, once per image */
    pb_elementwise(b, ESL_LAYER_OTHER, "clip_mean_std", 1, clip, 2, 2 * clip);
}

/*
 * CLIPVisionModelWithProjection on one image: the patch convolution (no
 * bias), a class token and a learned position table, a pre-norm, the
 * encoder layers over 1 + patches tokens, the post-norm and the projection
 * of the class token.
 */
void build_clip_vision(builder *b)
{
    int64_t d = cfg_int(b, "hidden_size", 768), layers = cfg_count(b, "num_hidden_layers", 12);
    int64_t heads = cfg_int(b, "num_attention_heads", 12), ff = cfg_int(b, "intermediate_size", 3072);
    int64_t size = cfg_int(b, "image_size", 224), p = cfg_int(b, "patch_size", 32);
    int64_t ch = cfg_int(b, "num_channels", 3), proj = cfg_int(b, "projection_dim", 512);
    const char *act = cfg_str(b, "hidden_act", "quick_gelu");
    int64_t act_fpe = strcmp(act, "quick_gelu") == 0 ? FPE_QUICK_GELU : FPE_GELU;
    if (strcmp(act, "quick_gelu") != 0 && strcmp(act, "gelu") != 0)
        pb_fail(b, ESL_EUNSUPPORTED, "hidden_act '%s' is not supported (quick_gelu, gelu)", act);
    if (heads == 0 || d % heads != 0 || p == 0 || size % p != 0)
        pb_fail(b, ESL_EINVAL, "image_size %lld, patch_size %lld, %lld heads of width %lld do not fit",
                (long long)size, (long long)p, (long long)heads, (long long)d);
    if (b->rc != ESL_OK)
        return;
    int64_t g = size / p, t = g * g + 1;
    pb_conv(b, "embeddings.patch_embedding", 1, ch, d, p, p, g, g, 0);
    pb_table(b, "embeddings.class_embedding", d);
    pb_elementwise(b, ESL_LAYER_OTHER, "embeddings.position_embedding", 1, t * d, FPE_ADD, t * d);
    pb_layernorm(b, "pre_layrnorm", 1, t, d, 1);
    pb_clip_layers(b, layers, t, d, heads, ff, act_fpe);
    pb_layernorm(b, "post_layernorm", 1, 1, d, 1);
    pb_linear(b, "visual_projection", 1, 1, d, proj, 0);
}

/*
 * ResnetBlock2D of the decoder U-Net: `sample` -1 halves the grid after the
 * first norm (a 2x2 average pool on both paths, ResnetDownsampleBlock2D's
 * sampler), +1 doubles it (nearest, free). Scale-shift time conditioning:
 * the time projection emits 2 c_out, applied as x (1 + scale) + shift after
 * the second norm; otherwise it is added before it.
 */
static void k_resnet(builder *b, const char *name, int64_t c_in, int64_t c_out, int64_t h, int64_t w,
                     int sample, int64_t temb, int scale_shift)
{
    char s[48];
    int64_t ho = sample < 0 ? h / 2 : sample > 0 ? h * 2 : h;
    int64_t wo = sample < 0 ? w / 2 : sample > 0 ? w * 2 : w;
    pb_name(s, sizeof s, "%s.norm1", name);
    pb_layernorm(b, s, 1, h * w, c_in, 1);
    pb_name(s, sizeof s, "%s.act1", name);
    pb_elementwise(b, ESL_LAYER_ACT, s, 1, h * w * c_in, FPE_SILU, 0);
    if (sample < 0) { /* the hidden and the shortcut path */
        pb_name(s, sizeof s, "%s.downsample", name);
        pb_elementwise(b, ESL_LAYER_OTHER, s, 2, ho * wo * c_in, FPE_AVGPOOL, 0);
    }
    pb_name(s, sizeof s, "%s.conv1", name);
    pb_conv(b, s, 1, c_in, c_out, 3, 1, ho, wo, 1);
    pb_name(s, sizeof s, "%s.temb.act", name);
    pb_elementwise(b, ESL_LAYER_ACT, s, 1, temb, FPE_SILU, 0);
    pb_name(s, sizeof s, "%s.time_emb_proj", name);
    pb_linear(b, s, 1, 1, temb, scale_shift ? 2 * c_out : c_out, 1);
    if (!scale_shift) {
        pb_name(s, sizeof s, "%s.temb.add", name);
        pb_elementwise(b, ESL_LAYER_OTHER, s, 1, ho * wo * c_out, FPE_ADD, 0);
    }
    pb_name(s, sizeof s, "%s.norm2", name);
    pb_layernorm(b, s, 1, ho * wo, c_out, 1);
    if (scale_shift) {
        pb_name(s, sizeof s, "%s.temb.modulate", name);
        pb_elementwise(b, ESL_LAYER_OTHER, s, 1, ho * wo * c_out, FPE_MODULATE, 0);
    }
    pb_resnet_tail(b, name, c_in, c_out, ho, wo);
}

/*
 * Attention with added K/V (AttnAddedKVProcessor): a group norm on the
 * image, the condition tokens group-normed (cross_attention_norm) and
 * projected by add_k/add_v, concatenated before the image's own keys and
 * values: queries over h w positions attend to t + h w keys.
 */
static void added_kv_attention(builder *b, const char *name, int64_t c, int64_t hd, int64_t cross,
                               int64_t t, int64_t h, int64_t w, int norm_cross)
{
    char s[48];
    int64_t n = h * w;
    if (hd <= 0 || c % hd != 0) {
        pb_fail(b, ESL_EINVAL, "%s: %lld channels do not split into heads of width %lld", name,
                (long long)c, (long long)hd);
        return;
    }
    if (norm_cross) {
        pb_name(s, sizeof s, "%s.norm_cross", name);
        pb_layernorm(b, s, 1, t, cross, 1);
    }
    pb_name(s, sizeof s, "%s.group_norm", name);
    pb_layernorm(b, s, 1, n, c, 1);
    pb_name(s, sizeof s, "%s.to_q", name);
    pb_linear(b, s, 1, n, c, c, 1);
    pb_name(s, sizeof s, "%s.add_k_proj", name);
    pb_linear(b, s, 1, t, cross, c, 1);
    pb_name(s, sizeof s, "%s.add_v_proj", name);
    pb_linear(b, s, 1, t, cross, c, 1);
    pb_name(s, sizeof s, "%s.to_k", name);
    pb_linear(b, s, 1, n, c, c, 1);
    pb_name(s, sizeof s, "%s.to_v", name);
    pb_linear(b, s, 1, n, c, c, 1);
    pb_name(s, sizeof s, "%s.attention", name);
    pb_attention(b, s, 1, c / hd, n, t + n, hd);
    pb_name(s, sizeof s, "%s.to_out", name);
    pb_linear(b, s, 1, n, c, c, 1);
    pb_name(s, sizeof s, "%s.residual", name);
    pb_elementwise(b, ESL_LAYER_OTHER, s, 1, n * c, FPE_ADD, 0);
}

#define K_MAX_LEVELS 8

/* Whether a UNet2DConditionModel config uses the added-KV block family. */
int unet_is_added_kv(json_t *cfg)
{
    json_t *types = json_object_get(cfg, "down_block_types");
    for (size_t i = 0; json_is_array(types) && i < json_array_size(types); i++) {
        const char *t = json_string_value(json_array_get(types, i));
        if (t != NULL && (strcmp(t, "SimpleCrossAttnDownBlock2D") == 0 ||
                          strcmp(t, "ResnetDownsampleBlock2D") == 0))
            return 1;
    }
    return 0;
}

/*
 * UNet2DConditionModel of the added-KV family (Kandinsky 2.2's decoder):
 * ResnetDownsampleBlock2D / SimpleCrossAttnDownBlock2D down blocks whose
 * samplers are ResNet blocks, UNetMidBlock2DSimpleCrossAttn, the mirrored
 * up blocks; the condition is the image embedding, projected to
 * num_image_text_embeds (32, ImageProjection's default) tokens for the
 * attention and added to the time embedding (addition_embed_type "image").
 */
void build_unet_added_kv(builder *b)
{
    size_t levels = cfg_len(b, "block_out_channels");
    int64_t in = cfg_int(b, "in_channels", 4), out = cfg_int(b, "out_channels", 4);
    int64_t lpb = cfg_int(b, "layers_per_block", 2), cross = cfg_int(b, "cross_attention_dim", 1280);
    int64_t hid = cfg_int(b, "encoder_hid_dim", -1), hd = cfg_int(b, "attention_head_dim", 64);
    int64_t tokens = 32; /* ImageProjection's num_image_text_embeds */
    const char *hid_type = cfg_str(b, "encoder_hid_dim_type", "");
    const char *add = cfg_str(b, "addition_embed_type", "");
    const char *shift = cfg_str(b, "resnet_time_scale_shift", "default");
    const char *mid = cfg_str(b, "mid_block_type", "UNetMidBlock2DSimpleCrossAttn");
    int norm_cross = cfg_str(b, "cross_attention_norm", NULL) != NULL;
    int scale_shift = strcmp(shift, "scale_shift") == 0;
    int64_t ch[K_MAX_LEVELS], h, w;
    int attn_down[K_MAX_LEVELS], attn_up[K_MAX_LEVELS];
    char s[48];

    if (levels < 1 || levels > K_MAX_LEVELS)
        pb_fail(b, ESL_EINVAL, "block_out_channels: expected 1 to %d levels", K_MAX_LEVELS);
    if (strcmp(hid_type, "image_proj") != 0 || strcmp(add, "image") != 0)
        pb_fail(b, ESL_EUNSUPPORTED, "encoder_hid_dim_type '%s' and addition_embed_type '%s': the "
                "added-KV U-Net is supported with image_proj and image (Kandinsky 2.2)", hid_type, add);
    if (!scale_shift && strcmp(shift, "default") != 0)
        pb_fail(b, ESL_EUNSUPPORTED, "resnet_time_scale_shift '%s' is not supported (default, scale_shift)",
                shift);
    if (strcmp(mid, "UNetMidBlock2DSimpleCrossAttn") != 0)
        pb_fail(b, ESL_EUNSUPPORTED, "mid_block_type '%s' is not supported (UNetMidBlock2DSimpleCrossAttn)",
                mid);
    if (cfg_bool(b, "only_cross_attention", 0))
        pb_fail(b, ESL_EUNSUPPORTED, "only_cross_attention true is not supported");
    if (lpb < 1 || lpb > 64)
        pb_fail(b, ESL_EINVAL, "layers_per_block %lld: expected 1 to 64", (long long)lpb);
    if (cfg_len(b, "down_block_types") != levels || cfg_len(b, "up_block_types") != levels)
        pb_fail(b, ESL_EINVAL, "down_block_types and up_block_types need one entry per level");
    for (size_t i = 0; b->rc == ESL_OK && i < levels; i++) {
        const char *d = cfg_str_at(b, "down_block_types", i), *u = cfg_str_at(b, "up_block_types", i);
        ch[i] = cfg_int_at(b, "block_out_channels", i, -1);
        attn_down[i] = strcmp(d, "SimpleCrossAttnDownBlock2D") == 0;
        attn_up[i] = strcmp(u, "SimpleCrossAttnUpBlock2D") == 0;
        if (!attn_down[i] && strcmp(d, "ResnetDownsampleBlock2D") != 0)
            pb_fail(b, ESL_EUNSUPPORTED, "down_block_types '%s' is not supported "
                    "(SimpleCrossAttnDownBlock2D, ResnetDownsampleBlock2D)", d);
        if (!attn_up[i] && strcmp(u, "ResnetUpsampleBlock2D") != 0)
            pb_fail(b, ESL_EUNSUPPORTED, "up_block_types '%s' is not supported "
                    "(SimpleCrossAttnUpBlock2D, ResnetUpsampleBlock2D)", u);
    }
    if (b->rc != ESL_OK) /* levels may be 0: no shift below */
        return;
    pb_latent(b, &h, &w);
    int64_t div = INT64_C(1) << (levels - 1);
    if (h % div != 0 || w % div != 0) {
        pb_fail(b, ESL_EINVAL, "image size %lldx%lld: the latent grid %lldx%lld must be a multiple "
                "of %lld for %zu U-Net levels", (long long)b->req->height, (long long)b->req->width,
                (long long)h, (long long)w, (long long)div, levels);
        return;
    }

    int64_t c0 = ch[0], temb = 4 * c0;
    pb_conv(b, "conv_in", 1, in, c0, 3, 1, h, w, 1);
    pb_elementwise(b, ESL_LAYER_OTHER, "time_proj.sinusoid", 1, c0, FPE_SINUSOID, 0);
    pb_linear(b, "time_embedding.linear_1", 1, 1, c0, temb, 1);
    pb_elementwise(b, ESL_LAYER_ACT, "time_embedding.act", 1, temb, FPE_SILU, 0);
    pb_linear(b, "time_embedding.linear_2", 1, 1, temb, temb, 1);
    pb_linear(b, "encoder_hid_proj.image_embeds", 1, 1, hid, tokens * cross, 1);
    pb_layernorm(b, "encoder_hid_proj.norm", 1, tokens, cross, 1);
    pb_linear(b, "add_embedding.image_embeds", 1, 1, hid, temb, 1);
    pb_layernorm(b, "add_embedding.image_norm", 1, 1, temb, 1);
    pb_elementwise(b, ESL_LAYER_OTHER, "add_embedding.sum", 1, temb, FPE_ADD, 0);

    int64_t c_out = c0, gh = h, gw = w;
    for (size_t i = 0; i < levels; i++) {
        int64_t c_in = c_out;
        c_out = ch[i];
        for (int64_t j = 0; j < lpb; j++) {
            pb_name(s, sizeof s, "down%zu.resnet%lld", i, (long long)j);
            k_resnet(b, s, j == 0 ? c_in : c_out, c_out, gh, gw, 0, temb, scale_shift);
            if (attn_down[i]) {
                pb_name(s, sizeof s, "down%zu.attn%lld", i, (long long)j);
                added_kv_attention(b, s, c_out, hd, cross, tokens, gh, gw, norm_cross);
            }
        }
        if (i + 1 < levels) {
            pb_name(s, sizeof s, "down%zu.downsampler", i);
            k_resnet(b, s, c_out, c_out, gh, gw, -1, temb, scale_shift);
            gh /= 2, gw /= 2;
        }
    }
    int64_t cm = ch[levels - 1];
    k_resnet(b, "mid.resnet0", cm, cm, gh, gw, 0, temb, scale_shift);
    added_kv_attention(b, "mid.attn", cm, hd, cross, tokens, gh, gw, norm_cross);
    k_resnet(b, "mid.resnet1", cm, cm, gh, gw, 0, temb, scale_shift);

    c_out = cm;
    for (size_t i = 0; i < levels; i++) {
        size_t r = levels - 1 - i;
        int64_t prev = c_out, skip_last = ch[r > 0 ? r - 1 : 0];
        c_out = ch[r];
        for (int64_t j = 0; j <= lpb; j++) {
            int64_t skip = j == lpb ? skip_last : c_out;
            pb_name(s, sizeof s, "up%zu.resnet%lld", i, (long long)j);
            k_resnet(b, s, (j == 0 ? prev : c_out) + skip, c_out, gh, gw, 0, temb, scale_shift);
            if (attn_up[i]) {
                pb_name(s, sizeof s, "up%zu.attn%lld", i, (long long)j);
                added_kv_attention(b, s, c_out, hd, cross, tokens, gh, gw, norm_cross);
            }
        }
        if (i + 1 < levels) {
            pb_name(s, sizeof s, "up%zu.upsampler", i);
            k_resnet(b, s, c_out, c_out, gh, gw, 1, temb, scale_shift);
            gh *= 2, gw *= 2;
        }
    }
    pb_layernorm(b, "conv_norm_out", 1, h * w, c0, 1);
    pb_elementwise(b, ESL_LAYER_ACT, "conv_act", 1, h * w * c0, FPE_SILU, 0);
    pb_conv(b, "conv_out", 1, c0, out, 3, 1, h, w, 1);
}

/* SpatialNorm (MoVQ): a group norm whose scale and shift are 1x1
 * convolutions of the (nearest-upsampled, free) latent zq. */
static void spatial_norm(builder *b, const char *name, int64_t c, int64_t zq, int64_t h, int64_t w)
{
    char s[48];
    pb_name(s, sizeof s, "%s.norm", name);
    pb_layernorm(b, s, 1, h * w, c, 1);
    pb_name(s, sizeof s, "%s.conv_y", name);
    pb_conv(b, s, 1, zq, c, 1, 1, h, w, 1);
    pb_name(s, sizeof s, "%s.conv_b", name);
    pb_conv(b, s, 1, zq, c, 1, 1, h, w, 1);
    pb_name(s, sizeof s, "%s.modulate", name);
    pb_elementwise(b, ESL_LAYER_OTHER, s, 1, h * w * c, 2, 0);
}

static void movq_resnet(builder *b, const char *name, int64_t c_in, int64_t c_out, int64_t zq, int64_t h,
                        int64_t w)
{
    char s[48];
    int64_t hw = h * w;
    pb_name(s, sizeof s, "%s.norm1", name);
    spatial_norm(b, s, c_in, zq, h, w);
    pb_name(s, sizeof s, "%s.act1", name);
    pb_elementwise(b, ESL_LAYER_ACT, s, 1, hw * c_in, FPE_SILU, 0);
    pb_name(s, sizeof s, "%s.conv1", name);
    pb_conv(b, s, 1, c_in, c_out, 3, 1, h, w, 1);
    pb_name(s, sizeof s, "%s.norm2", name);
    spatial_norm(b, s, c_out, zq, h, w);
    pb_resnet_tail(b, name, c_in, c_out, h, w);
}

/* One-head attention as wide as the channels, spatially normed. */
static void movq_attention(builder *b, const char *name, int64_t c, int64_t zq, int64_t h, int64_t w)
{
    char s[48];
    int64_t n = h * w;
    static const char *const proj[] = {"to_q", "to_k", "to_v"};
    pb_name(s, sizeof s, "%s.spatial_norm", name);
    spatial_norm(b, s, c, zq, h, w);
    for (int i = 0; i < 3; i++) {
        pb_name(s, sizeof s, "%s.%s", name, proj[i]);
        pb_linear(b, s, 1, n, c, c, 1);
    }
    pb_name(s, sizeof s, "%s.attention", name);
    pb_attention(b, s, 1, 1, n, n, c);
    pb_name(s, sizeof s, "%s.to_out", name);
    pb_linear(b, s, 1, n, c, c, 1);
    pb_name(s, sizeof s, "%s.residual", name);
    pb_elementwise(b, ESL_LAYER_OTHER, s, 1, n * c, FPE_ADD, 0);
}

/*
 * VQModel's decoding as the Kandinsky pipelines run it (force_not_quantize:
 * no codebook lookup): post_quant_conv and the Decoder with norm_type
 * "spatial", every norm conditioned on the latent itself.
 */
void build_movq_decoder(builder *b)
{
    size_t levels = cfg_len(b, "block_out_channels");
    int64_t lat = cfg_int(b, "latent_channels", 3), out = cfg_int(b, "out_channels", 3);
    int64_t vq = cfg_int(b, "vq_embed_dim", lat), lpb = cfg_int(b, "layers_per_block", 1);
    const char *norm = cfg_str(b, "norm_type", "group");
    int64_t ch[K_MAX_LEVELS], h, w;
    int attn[K_MAX_LEVELS];
    char s[48];
    if (levels < 1 || levels > K_MAX_LEVELS)
        pb_fail(b, ESL_EINVAL, "block_out_channels: expected 1 to %d levels", K_MAX_LEVELS);
    if (strcmp(norm, "spatial") != 0)
        pb_fail(b, ESL_EUNSUPPORTED, "norm_type '%s' is not supported (spatial, MoVQ)", norm);
    if (lpb < 1 || lpb > 64)
        pb_fail(b, ESL_EINVAL, "layers_per_block %lld: expected 1 to 64", (long long)lpb);
    if (cfg_bool(b, "mid_block_add_attention", 1) == 0)
        pb_fail(b, ESL_EUNSUPPORTED, "mid_block_add_attention false is not supported");
    for (size_t i = 0; b->rc == ESL_OK && i < levels; i++) {
        const char *u = cfg_str_at(b, "up_block_types", i);
        ch[i] = cfg_int_at(b, "block_out_channels", i, -1);
        attn[i] = strcmp(u, "AttnUpDecoderBlock2D") == 0;
        if (!attn[i] && strcmp(u, "UpDecoderBlock2D") != 0)
            pb_fail(b, ESL_EUNSUPPORTED, "up_block_types '%s' is not supported (AttnUpDecoderBlock2D, "
                    "UpDecoderBlock2D)", u);
    }
    if (b->rc != ESL_OK)
        return;
    pb_latent(b, &h, &w);
    int64_t top = ch[levels - 1];
    pb_conv(b, "post_quant_conv", 1, vq, lat, 1, 1, h, w, 1);
    pb_conv(b, "decoder.conv_in", 1, lat, top, 3, 1, h, w, 1);
    movq_resnet(b, "decoder.mid.resnet0", top, top, vq, h, w);
    movq_attention(b, "decoder.mid.attn", top, vq, h, w);
    movq_resnet(b, "decoder.mid.resnet1", top, top, vq, h, w);
    int64_t c_out = top;
    for (size_t i = 0; i < levels; i++) {
        int64_t prev = c_out;
        c_out = ch[levels - 1 - i];
        for (int64_t j = 0; j <= lpb; j++) {
            pb_name(s, sizeof s, "decoder.up%zu.resnet%lld", i, (long long)j);
            movq_resnet(b, s, j == 0 ? prev : c_out, c_out, vq, h, w);
            if (attn[i]) {
                pb_name(s, sizeof s, "decoder.up%zu.attn%lld", i, (long long)j);
                movq_attention(b, s, c_out, vq, h, w);
            }
        }
        if (i + 1 < levels) {
            h *= 2, w *= 2;
            pb_name(s, sizeof s, "decoder.up%zu.upsample.conv", i);
            pb_conv(b, s, 1, c_out, c_out, 3, 1, h, w, 1);
        }
    }
    spatial_norm(b, "decoder.conv_norm_out", ch[0], vq, h, w);
    pb_elementwise(b, ESL_LAYER_ACT, "decoder.conv_act", 1, h * w * ch[0], FPE_SILU, 0);
    pb_conv(b, "decoder.conv_out", 1, ch[0], out, 3, 1, h, w, 1);
}

/*
 * Kandinsky3UNet (Kandinsky 3): every norm a conditional group norm (no
 * affine weights; scale and shift from the time embedding), ResNet blocks
 * that squeeze to half the channels through 1x1, 3x3, 3x3, 1x1 convolutions,
 * attention blocks with a 1x1-convolution feed-forward, transposed 2x2
 * convolutions to upsample and strided 2x2 convolutions to downsample, and
 * the text pooled into the time embedding by one attention.
 */

/* Kandinsky3ConditionalGroupNorm over h w positions of c channels. */
static void k3_norm(builder *b, const char *name, int64_t c, int64_t temb, int64_t h, int64_t w)
{
    char s[48];
    pb_name(s, sizeof s, "%s.context_act", name);
    pb_elementwise(b, ESL_LAYER_ACT, s, 1, temb, FPE_SILU, 0);
    pb_name(s, sizeof s, "%s.context_mlp", name);
    pb_linear(b, s, 1, 1, temb, 2 * c, 1);
    pb_name(s, sizeof s, "%s.norm", name);
    pb_layernorm(b, s, 1, h * w, c, 0);
    pb_name(s, sizeof s, "%s.modulate", name);
    pb_elementwise(b, ESL_LAYER_OTHER, s, 1, h * w * c, FPE_MODULATE, 0);
}

/* ConvTranspose2d with kernel 2 and stride 2 from an h x w grid: every
 * output pixel meets one tap per input channel, so it costs what a 2x2
 * convolution over the input grid does; the bias is added on the doubled
 * grid. */
static void k3_up(builder *b, const char *name, int64_t c_in, int64_t c_out, int64_t h, int64_t w)
{
    char s[48];
    pb_conv(b, name, 1, c_in, c_out, 2, 2, h, w, 0);
    pb_name(s, sizeof s, "%s.bias", name);
    pb_elementwise(b, ESL_LAYER_OTHER, s, 1, 4 * h * w * c_out, FPE_ADD, c_out);
}

/* Kandinsky3Block: norm, SiLU, optional upsampling, projection, optional
 * downsampling (`res` +1 up, -1 down); updates the grid. */
static void k3_block(builder *b, const char *name, int64_t c_in, int64_t c_out, int64_t temb, int64_t k,
                     int res, int64_t *h, int64_t *w)
{
    char s[48];
    pb_name(s, sizeof s, "%s.group_norm", name);
    k3_norm(b, s, c_in, temb, *h, *w);
    pb_name(s, sizeof s, "%s.act", name);
    pb_elementwise(b, ESL_LAYER_ACT, s, 1, *h * *w * c_in, FPE_SILU, 0);
    if (res > 0) {
        pb_name(s, sizeof s, "%s.up_sample", name);
        k3_up(b, s, c_in, c_in, *h, *w);
        *h *= 2, *w *= 2;
    }
    pb_name(s, sizeof s, "%s.projection", name);
    pb_conv(b, s, 1, c_in, c_out, k, 1, *h, *w, 1);
    if (res < 0) {
        *h /= 2, *w /= 2;
        pb_name(s, sizeof s, "%s.down_sample", name);
        pb_conv(b, s, 1, c_out, c_out, 2, 2, *h, *w, 1);
    }
}

/* Kandinsky3ResNetBlock; `res` applies to the sampling block (the second
 * of four when upsampling, the third when downsampling). */
static void k3_resnet(builder *b, const char *name, int64_t c_in, int64_t c_out, int64_t temb, int res,
                      int64_t *h, int64_t *w)
{
    char s[48];
    int64_t hid = (c_in > c_out ? c_in : c_out) / 2, h0 = *h, w0 = *w;
    static const int64_t kernel[4] = {1, 3, 3, 1};
    int64_t ins[4] = {c_in, hid, hid, hid}, outs[4] = {hid, hid, hid, c_out};
    for (int i = 0; i < 4; i++) {
        int r = (res > 0 && i == 1) || (res < 0 && i == 2) ? res : 0;
        pb_name(s, sizeof s, "%s.in_blocks%d", name, i);
        k3_block(b, s, ins[i], outs[i], temb, kernel[i], r, h, w);
    }
    if (res > 0) {
        pb_name(s, sizeof s, "%s.shortcut_up_sample", name);
        k3_up(b, s, c_in, c_in, h0, w0);
    }
    if (c_in != c_out) {
        pb_name(s, sizeof s, "%s.shortcut_channels", name);
        pb_conv(b, s, 1, c_in, c_out, 1, 1, res > 0 ? *h : h0, res > 0 ? *w : w0, 1);
    }
    if (res < 0) {
        pb_name(s, sizeof s, "%s.shortcut_down_sample", name);
        pb_conv(b, s, 1, c_out, c_out, 2, 2, *h, *w, 1);
    }
    pb_name(s, sizeof s, "%s.residual", name);
    pb_elementwise(b, ESL_LAYER_OTHER, s, 1, *h * *w * c_out, FPE_ADD, 0);
}

/* Kandinsky3AttentionBlock: self-attention (cross 0) or cross-attention to
 * t tokens of width `cross`, no biases, and a 4x 1x1-convolution MLP. */
static void k3_attention(builder *b, const char *name, int64_t c, int64_t temb, int64_t cross, int64_t t,
                         int64_t hd, int64_t h, int64_t w)
{
    char s[48];
    int64_t n = h * w, kv = cross > 0 ? t : n, kv_dim = cross > 0 ? cross : c;
    if (hd <= 0 || c % hd != 0) {
        pb_fail(b, ESL_EINVAL, "%s: %lld channels do not split into heads of width %lld", name,
                (long long)c, (long long)hd);
        return;
    }
    pb_name(s, sizeof s, "%s.in_norm", name);
    k3_norm(b, s, c, temb, h, w);
    pb_name(s, sizeof s, "%s.to_q", name);
    pb_linear(b, s, 1, n, c, c, 0);
    pb_name(s, sizeof s, "%s.to_k", name);
    pb_linear(b, s, 1, kv, kv_dim, c, 0);
    pb_name(s, sizeof s, "%s.to_v", name);
    pb_linear(b, s, 1, kv, kv_dim, c, 0);
    pb_name(s, sizeof s, "%s.attention", name);
    pb_attention(b, s, 1, c / hd, n, kv, hd);
    pb_name(s, sizeof s, "%s.to_out", name);
    pb_linear(b, s, 1, n, c, c, 0);
    pb_name(s, sizeof s, "%s.out_norm", name);
    k3_norm(b, s, c, temb, h, w);
    pb_name(s, sizeof s, "%s.ff.conv1", name);
    pb_conv(b, s, 1, c, 4 * c, 1, 1, h, w, 0);
    pb_name(s, sizeof s, "%s.ff.act", name);
    pb_elementwise(b, ESL_LAYER_ACT, s, 1, n * 4 * c, FPE_SILU, 0);
    pb_name(s, sizeof s, "%s.ff.conv2", name);
    pb_conv(b, s, 1, 4 * c, c, 1, 1, h, w, 0);
    pb_name(s, sizeof s, "%s.residuals", name);
    pb_elementwise(b, ESL_LAYER_OTHER, s, 1, 2 * n * c, FPE_ADD, 0);
}

void build_kandinsky3_unet(builder *b)
{
    size_t levels = cfg_len(b, "block_out_channels");
    int64_t in = cfg_int(b, "in_channels", 4), temb = cfg_int(b, "time_embedding_dim", 1536);
    int64_t hd = cfg_int(b, "attention_head_dim", 64), cross = cfg_int(b, "cross_attention_dim", 4096);
    int64_t hid = cfg_int(b, "encoder_hid_dim", 4096), t = pb_text_tokens(b);
    int64_t dims[K_MAX_LEVELS + 1], blocks[K_MAX_LEVELS], h, w;
    char s[48];
    if (levels < 2 || levels > K_MAX_LEVELS)
        pb_fail(b, ESL_EINVAL, "block_out_channels: expected 2 to %d levels", K_MAX_LEVELS);
    if (cfg_int(b, "groups", 32) == 0)
        pb_fail(b, ESL_EINVAL, "groups must be positive");
    if (hd == 0 || temb % hd != 0)
        pb_fail(b, ESL_EINVAL, "time_embedding_dim %lld does not split into heads of width %lld",
                (long long)temb, (long long)hd);
    for (size_t i = 0; b->rc == ESL_OK && i < levels; i++) {
        dims[i + 1] = cfg_int_at(b, "block_out_channels", i, -1);
        blocks[i] = cfg_int_at(b, "layers_per_block", i, 3);
        if (blocks[i] < 2 || blocks[i] > 64)
            pb_fail(b, ESL_EINVAL, "layers_per_block: %lld at level %zu (2 to 64)", (long long)blocks[i], i);
    }
    if (b->rc != ESL_OK)
        return;
    dims[0] = dims[1] / 2;
    pb_latent(b, &h, &w);
    int64_t div = INT64_C(1) << (levels - 1);
    if (h % div != 0 || w % div != 0) {
        pb_fail(b, ESL_EINVAL, "image size %lldx%lld: the latent grid %lldx%lld must be a multiple "
                "of %lld for %zu U-Net levels", (long long)b->req->height, (long long)b->req->width,
                (long long)h, (long long)w, (long long)div, levels);
        return;
    }
    /* the time embedding, the text projection and the pooling into time */
    int64_t c0 = dims[0];
    pb_elementwise(b, ESL_LAYER_OTHER, "time_proj.sinusoid", 1, c0, FPE_SINUSOID, 0);
    pb_linear(b, "time_embedding.linear_1", 1, 1, c0, temb, 1);
    pb_elementwise(b, ESL_LAYER_ACT, "time_embedding.act", 1, temb, FPE_SILU, 0);
    pb_linear(b, "time_embedding.linear_2", 1, 1, temb, temb, 1);
    pb_linear(b, "encoder_hid_proj.projection_linear", 1, t, hid, cross, 0);
    pb_layernorm(b, "encoder_hid_proj.projection_norm", 1, t, cross, 1);
    pb_elementwise(b, ESL_LAYER_OTHER, "add_time_condition.mean", 1, t * cross, FPE_ADD, 0);
    pb_linear(b, "add_time_condition.to_q", 1, 1, cross, temb, 0);
    pb_linear(b, "add_time_condition.to_k", 1, t, cross, temb, 0);
    pb_linear(b, "add_time_condition.to_v", 1, t, cross, temb, 0);
    pb_attention(b, "add_time_condition.attention", 1, temb / hd, 1, t, hd);
    pb_linear(b, "add_time_condition.to_out", 1, 1, temb, temb, 0);
    pb_elementwise(b, ESL_LAYER_OTHER, "add_time_condition.add", 1, temb, FPE_ADD, 0);
    pb_conv(b, "conv_in", 1, in, c0, 3, 1, h, w, 1);

    /* down: no attention at the first level, self- and cross-attention below */
    for (size_t i = 0; i < levels; i++) {
        int attn = i > 0, down = i + 1 < levels;
        int64_t ci = dims[i], co = dims[i + 1];
        if (attn) {
            pb_name(s, sizeof s, "down%zu.self_attn", i);
            k3_attention(b, s, ci, temb, 0, t, hd, h, w);
        }
        for (int64_t j = 0; j < blocks[i]; j++) {
            pb_name(s, sizeof s, "down%zu.resnet_in%lld", i, (long long)j);
            k3_resnet(b, s, j == 0 ? ci : co, co, temb, 0, &h, &w);
            if (attn) {
                pb_name(s, sizeof s, "down%zu.cross_attn%lld", i, (long long)j);
                k3_attention(b, s, co, temb, cross, t, hd, h, w);
            }
            pb_name(s, sizeof s, "down%zu.resnet_out%lld", i, (long long)j);
            k3_resnet(b, s, co, co, temb, down && j + 1 == blocks[i] ? -1 : 0, &h, &w);
        }
    }
    /* up: the mirror; each level but the first joins the skip of the level
     * below before upsampling in its first ResNet */
    for (size_t k = 0; k < levels; k++) {
        size_t i = levels - 1 - k;
        int attn = i > 0, up = k > 0;
        int64_t ci = dims[i + 1], co = dims[i], cat = up ? dims[i + 1] : 0;
        for (int64_t j = 0; j < blocks[i]; j++) {
            int64_t c = j == 0 ? ci + cat : ci, c_next = j + 1 == blocks[i] ? co : ci;
            pb_name(s, sizeof s, "up%zu.resnet_in%lld", k, (long long)j);
            k3_resnet(b, s, c, c, temb, up && j == 0 ? 1 : 0, &h, &w);
            if (attn) {
                pb_name(s, sizeof s, "up%zu.cross_attn%lld", k, (long long)j);
                k3_attention(b, s, c, temb, cross, t, hd, h, w);
            }
            pb_name(s, sizeof s, "up%zu.resnet_out%lld", k, (long long)j);
            k3_resnet(b, s, c, c_next, temb, 0, &h, &w);
        }
        if (attn) {
            pb_name(s, sizeof s, "up%zu.self_attn", k);
            k3_attention(b, s, co, temb, 0, t, hd, h, w);
        }
    }
    pb_layernorm(b, "conv_norm_out", 1, h * w, c0, 1);
    pb_elementwise(b, ESL_LAYER_ACT, "conv_act_out", 1, h * w * c0, FPE_SILU, 0);
    pb_conv(b, "conv_out", 1, c0, in, 3, 1, h, w, 1);
}
