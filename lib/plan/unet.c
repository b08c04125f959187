/*
 * unet.c - layer plans of the convolutional networks: diffusers'
 * UNet2DConditionModel (SD 1.x, SD 2.x, SDXL with the text_time addition
 * embedding) and the decoder half of AutoencoderKL, following the module
 * structure of diffusers' unet_2d_blocks.py, resnet.py and
 * transformer_2d.py. Nearest-neighbour upsampling and skip concatenation
 * move data without arithmetic and count no FLOPs.
 */
#include <string.h>

#include "plan/internal.h"

/* ResnetBlock2D at an h x w grid; temb 0 for none (the VAE decoder). */
static void resnet(builder *b, const char *name, int64_t c_in, int64_t c_out, int64_t h, int64_t w,
                   int64_t temb)
{
    char s[48];
    int64_t hw = h * w;
    pb_name(s, sizeof s, "%s.norm1", name);
    pb_layernorm(b, s, 1, hw, c_in, 1);
    pb_name(s, sizeof s, "%s.act1", name);
    pb_elementwise(b, ESL_LAYER_ACT, s, 1, hw * c_in, FPE_SILU, 0);
    pb_name(s, sizeof s, "%s.conv1", name);
    pb_conv(b, s, 1, c_in, c_out, 3, 1, h, w, 1);
    if (temb > 0) {
        pb_name(s, sizeof s, "%s.temb.act", name);
        pb_elementwise(b, ESL_LAYER_ACT, s, 1, temb, FPE_SILU, 0);
        pb_name(s, sizeof s, "%s.time_emb_proj", name);
        pb_linear(b, s, 1, 1, temb, c_out, 1);
        pb_name(s, sizeof s, "%s.temb.add", name);
        pb_elementwise(b, ESL_LAYER_OTHER, s, 1, hw * c_out, FPE_ADD, 0);
    }
    pb_name(s, sizeof s, "%s.norm2", name);
    pb_layernorm(b, s, 1, hw, c_out, 1);
    pb_resnet_tail(b, name, c_in, c_out, h, w);
}

/* Projection in or out of a spatial transformer: linear or 1x1 conv. */
static void proj(builder *b, const char *name, int linear, int64_t c, int64_t h, int64_t w)
{
    if (linear)
        pb_linear(b, name, 1, h * w, c, c, 1);
    else
        pb_conv(b, name, 1, c, c, 1, 1, h, w, 1);
}

/* Transformer2DModel inside the U-Net: `layers` BasicTransformerBlocks
 * (self-attention, cross-attention to `t` tokens of width `cross`, GEGLU). */
static void spatial_transformer(builder *b, const char *name, int64_t c, int64_t heads, int64_t layers,
                                int64_t cross, int64_t t, int linear, int64_t h, int64_t w)
{
    char s[48];
    int64_t n = h * w, hd = heads > 0 ? c / heads : 0;
    if (heads <= 0 || c % heads != 0) {
        pb_fail(b, ESL_EINVAL, "%s: %lld channels do not split into %lld heads", name,
                (long long)c, (long long)heads);
        return;
    }
    pb_name(s, sizeof s, "%s.norm", name);
    pb_layernorm(b, s, 1, n, c, 1);
    pb_name(s, sizeof s, "%s.proj_in", name);
    proj(b, s, linear, c, h, w);
    static const char *const qkv[] = {"q", "k", "v"};
    for (int i = 0; i < 3; i++) {
        pb_name(s, sizeof s, "%s.attn1.%s", name, qkv[i]);
        pb_linear(b, s, layers, n, c, c, 0);
    }
    pb_name(s, sizeof s, "%s.norm1", name);
    pb_layernorm(b, s, layers, n, c, 1);
    pb_name(s, sizeof s, "%s.attn1.attention", name);
    pb_attention(b, s, layers, heads, n, n, hd);
    pb_name(s, sizeof s, "%s.attn1.out", name);
    pb_linear(b, s, layers, n, c, c, 1);
    pb_name(s, sizeof s, "%s.norm2", name);
    pb_layernorm(b, s, layers, n, c, 1);
    pb_name(s, sizeof s, "%s.attn2.q", name);
    pb_linear(b, s, layers, n, c, c, 0);
    pb_name(s, sizeof s, "%s.attn2.k", name);
    pb_linear(b, s, layers, t, cross, c, 0);
    pb_name(s, sizeof s, "%s.attn2.v", name);
    pb_linear(b, s, layers, t, cross, c, 0);
    pb_name(s, sizeof s, "%s.attn2.attention", name);
    pb_attention(b, s, layers, heads, n, t, hd);
    pb_name(s, sizeof s, "%s.attn2.out", name);
    pb_linear(b, s, layers, n, c, c, 1);
    pb_name(s, sizeof s, "%s.norm3", name);
    pb_layernorm(b, s, layers, n, c, 1);
    pb_name(s, sizeof s, "%s.ff.geglu_proj", name);
    pb_linear(b, s, layers, n, c, 8 * c, 1);
    pb_name(s, sizeof s, "%s.ff.geglu", name);
    pb_elementwise(b, ESL_LAYER_ACT, s, layers, n * 4 * c, FPE_GELU + FPE_GATE, 0);
    pb_name(s, sizeof s, "%s.ff.out", name);
    pb_linear(b, s, layers, n, 4 * c, c, 1);
    pb_name(s, sizeof s, "%s.residuals", name);
    pb_elementwise(b, ESL_LAYER_OTHER, s, layers, 3 * n * c, FPE_ADD, 0);
    pb_name(s, sizeof s, "%s.proj_out", name);
    proj(b, s, linear, c, h, w);
    pb_name(s, sizeof s, "%s.residual", name);
    pb_elementwise(b, ESL_LAYER_OTHER, s, 1, n * c, FPE_ADD, 0);
}

static int has_cross(const char *type, const char *cross, const char *plain, builder *b, const char *key)
{
    if (strcmp(type, cross) == 0)
        return 1;
    if (strcmp(type, plain) != 0)
        pb_fail(b, ESL_EUNSUPPORTED, "%s '%s' is not supported (%s or %s)", key, type, cross, plain);
    return 0;
}

/* The per-level value of a list field read from the top (i) or, reversed,
 * for the up path. */
#define MAX_LEVELS 8

/* Element i of a JSON list: an integer, or (nested) element j of the list
 * found there; -1 after a failure naming the key. */
static int64_t nested_int(builder *b, json_t *v, const char *key, size_t i, size_t j)
{
    json_t *x = json_is_array(v) ? json_array_get(v, i) : v;
    if (json_is_array(x))
        x = json_array_get(x, j);
    if (!json_is_integer(x) || json_integer_value(x) < 0 || json_integer_value(x) > 1024) {
        pb_fail(b, ESL_EINVAL, "config field '%s': no layer count (0 to 1024) for block %zu, layer %zu",
                key, i, j);
        return -1;
    }
    return json_integer_value(x);
}

/*
 * Transformer layers of the j-th attention of a U-Net block, as diffusers'
 * UNet2DConditionModel reads them: transformer_layers_per_block is one
 * integer, one per level, or (SSD-1B, Segmind Vega) one list per down block
 * with an entry per layer; the up blocks mirror the levels reversed unless
 * reverse_transformer_layers_per_block lists theirs, one list per up block
 * (required with the nested form). `up` < 0: the mid block, which takes the
 * last level's first entry. Absent: 1.
 */
static int64_t transformer_layers(builder *b, int up, size_t i, size_t levels, int64_t j)
{
    json_t *down = json_object_get(b->cfg, "transformer_layers_per_block");
    json_t *rev = json_object_get(b->cfg, "reverse_transformer_layers_per_block");
    if (up > 0 && rev != NULL && !json_is_null(rev))
        return nested_int(b, rev, "reverse_transformer_layers_per_block", i, (size_t)j);
    if (down == NULL || json_is_null(down))
        return 1;
    if (up > 0) {
        size_t r = levels - 1 - i;
        if (json_is_array(json_array_get(down, r))) {
            pb_fail(b, ESL_EINVAL, "config field 'reverse_transformer_layers_per_block' is missing: "
                    "a nested transformer_layers_per_block needs it");
            return -1;
        }
        return nested_int(b, down, "transformer_layers_per_block", r, 0);
    }
    if (up < 0)
        return nested_int(b, down, "transformer_layers_per_block", levels - 1, 0);
    return nested_int(b, down, "transformer_layers_per_block", i, (size_t)j);
}

void build_unet(builder *b)
{
    size_t levels = cfg_len(b, "block_out_channels");
    int64_t c0 = cfg_int_at(b, "block_out_channels", 0, -1);
    int64_t in = cfg_int(b, "in_channels", 4), out = cfg_int(b, "out_channels", 4);
    int64_t lpb = cfg_count(b, "layers_per_block", 2), cross = cfg_int(b, "cross_attention_dim", 1280);
    int linear = cfg_bool(b, "use_linear_projection", 0);
    const char *add = cfg_str(b, "addition_embed_type", NULL);
    /* null: no mid block; UNetMidBlock2D: one ResNet (diffusers builds it
     * with num_layers 0 and no attention inside UNet2DConditionModel) */
    const char *mid = json_is_null(json_object_get(b->cfg, "mid_block_type"))
                          ? "none"
                          : cfg_str(b, "mid_block_type", "UNetMidBlock2DCrossAttn");
    int64_t kin = cfg_int(b, "conv_in_kernel", 3), kout = cfg_int(b, "conv_out_kernel", 3);
    const char *heads_key = json_object_get(b->cfg, "num_attention_heads") != NULL &&
                                    !json_is_null(json_object_get(b->cfg, "num_attention_heads"))
                                ? "num_attention_heads"
                                : "attention_head_dim"; /* diffusers: these are head counts */
    int64_t t = pb_text_tokens(b), h, w;
    int64_t ch[MAX_LEVELS], heads[MAX_LEVELS];
    int cross_down[MAX_LEVELS], cross_up[MAX_LEVELS];
    char s[48];

    if (levels < 1 || levels > MAX_LEVELS)
        pb_fail(b, ESL_EINVAL, "block_out_channels: expected 1 to %d levels", MAX_LEVELS);
    if (cfg_str(b, "class_embed_type", NULL) != NULL || cfg_int(b, "num_class_embeds", 0) != 0)
        pb_fail(b, ESL_EUNSUPPORTED, "class embeddings are not supported");
    if (add != NULL && strcmp(add, "text_time") != 0)
        pb_fail(b, ESL_EUNSUPPORTED, "addition_embed_type '%s' is not supported (text_time)", add);
    if (strcmp(mid, "UNetMidBlock2DCrossAttn") != 0 && strcmp(mid, "UNetMidBlock2D") != 0 &&
        strcmp(mid, "none") != 0)
        pb_fail(b, ESL_EUNSUPPORTED, "mid_block_type '%s' is not supported (UNetMidBlock2DCrossAttn, "
                "UNetMidBlock2D or null)", mid);
    if (cfg_len(b, "down_block_types") != levels || cfg_len(b, "up_block_types") != levels)
        pb_fail(b, ESL_EINVAL, "down_block_types and up_block_types need one entry per level");
    for (size_t i = 0; b->rc == ESL_OK && i < levels; i++) {
        ch[i] = cfg_int_at(b, "block_out_channels", i, -1);
        heads[i] = cfg_int_at(b, heads_key, i, 8);
        cross_down[i] = has_cross(cfg_str_at(b, "down_block_types", i), "CrossAttnDownBlock2D",
                                  "DownBlock2D", b, "down_block_types");
        cross_up[i] = has_cross(cfg_str_at(b, "up_block_types", i), "CrossAttnUpBlock2D",
                                "UpBlock2D", b, "up_block_types");
    }
    if (b->rc != ESL_OK) /* levels may be 0: no shift below */
        return;
    pb_latent(b, &h, &w);
    int64_t div = INT64_C(1) << (levels - 1);
    if (h % div != 0 || w % div != 0)
        pb_fail(b, ESL_EINVAL, "image size %lldx%lld: the latent grid %lldx%lld must be a multiple "
                "of %lld for %zu U-Net levels", (long long)b->req->height, (long long)b->req->width,
                (long long)h, (long long)w, (long long)div, levels);
    if (b->rc != ESL_OK)
        return;

    int64_t temb = 4 * c0;
    pb_conv(b, "conv_in", 1, in, c0, kin, 1, h, w, 1);
    pb_elementwise(b, ESL_LAYER_OTHER, "time_proj.sinusoid", 1, c0, FPE_SINUSOID, 0);
    pb_linear(b, "time_embedding.linear_1", 1, 1, c0, temb, 1);
    pb_elementwise(b, ESL_LAYER_ACT, "time_embedding.act", 1, temb, FPE_SILU, 0);
    pb_linear(b, "time_embedding.linear_2", 1, 1, temb, temb, 1);
    if (add != NULL) { /* SDXL: size and crop conditioning, 6 sinusoids + pooled text */
        int64_t tdim = cfg_int(b, "addition_time_embed_dim", -1);
        int64_t pin = cfg_int(b, "projection_class_embeddings_input_dim", -1);
        pb_elementwise(b, ESL_LAYER_OTHER, "add_time_proj.sinusoid", 1, 6 * tdim, FPE_SINUSOID, 0);
        pb_linear(b, "add_embedding.linear_1", 1, 1, pin, temb, 1);
        pb_elementwise(b, ESL_LAYER_ACT, "add_embedding.act", 1, temb, FPE_SILU, 0);
        pb_linear(b, "add_embedding.linear_2", 1, 1, temb, temb, 1);
        pb_elementwise(b, ESL_LAYER_OTHER, "add_embedding.sum", 1, temb, FPE_ADD, 0);
    }

    int64_t c_out = c0, gh = h, gw = w;
    for (size_t i = 0; i < levels; i++) {
        int64_t c_in = c_out;
        c_out = ch[i];
        for (int64_t j = 0; j < lpb; j++) {
            pb_name(s, sizeof s, "down%zu.resnet%lld", i, (long long)j);
            resnet(b, s, j == 0 ? c_in : c_out, c_out, gh, gw, temb);
            if (cross_down[i]) {
                pb_name(s, sizeof s, "down%zu.attn%lld", i, (long long)j);
                spatial_transformer(b, s, c_out, heads[i], transformer_layers(b, 0, i, levels, j), cross,
                                    t, linear, gh, gw);
            }
        }
        if (i + 1 < levels) {
            gh /= 2, gw /= 2;
            pb_name(s, sizeof s, "down%zu.downsample", i);
            pb_conv(b, s, 1, c_out, c_out, 3, 2, gh, gw, 1);
        }
    }
    int64_t cm = ch[levels - 1];
    if (strcmp(mid, "none") != 0)
        resnet(b, "mid.resnet0", cm, cm, gh, gw, temb);
    if (strcmp(mid, "UNetMidBlock2DCrossAttn") == 0) {
        spatial_transformer(b, "mid.attn", cm, heads[levels - 1], transformer_layers(b, -1, 0, levels, 0),
                            cross, t, linear, gh, gw);
        resnet(b, "mid.resnet1", cm, cm, gh, gw, temb);
    }

    c_out = ch[levels - 1];
    for (size_t i = 0; i < levels; i++) {
        size_t r = levels - 1 - i; /* the level this up block mirrors */
        int64_t prev = c_out, c_skip_last = ch[r > 0 ? r - 1 : 0];
        c_out = ch[r];
        for (int64_t j = 0; j <= lpb; j++) {
            int64_t skip = j == lpb ? c_skip_last : c_out;
            pb_name(s, sizeof s, "up%zu.resnet%lld", i, (long long)j);
            resnet(b, s, (j == 0 ? prev : c_out) + skip, c_out, gh, gw, temb);
            if (cross_up[i]) {
                pb_name(s, sizeof s, "up%zu.attn%lld", i, (long long)j);
                spatial_transformer(b, s, c_out, heads[r], transformer_layers(b, 1, i, levels, j), cross,
                                    t, linear, gh, gw);
            }
        }
        if (i + 1 < levels) {
            gh *= 2, gw *= 2;
            pb_name(s, sizeof s, "up%zu.upsample.conv", i);
            pb_conv(b, s, 1, c_out, c_out, 3, 1, gh, gw, 1);
        }
    }
    pb_layernorm(b, "conv_norm_out", 1, h * w, c0, 1);
    pb_elementwise(b, ESL_LAYER_ACT, "conv_act", 1, h * w * c0, FPE_SILU, 0);
    pb_conv(b, "conv_out", 1, c0, out, kout, 1, h, w, 1);
}

/* AutoencoderKL: post_quant_conv and the Decoder (the encoder does not run
 * in text-to-image generation). */
void build_vae_decoder(builder *b)
{
    size_t levels = cfg_len(b, "block_out_channels");
    int64_t lat = cfg_int(b, "latent_channels", 4), out = cfg_int(b, "out_channels", 3);
    int64_t lpb = cfg_count(b, "layers_per_block", 1);
    int post = cfg_bool(b, "use_post_quant_conv", 1), attn = cfg_bool(b, "mid_block_add_attention", 1);
    int64_t ch[MAX_LEVELS], h, w;
    char s[48];
    if (levels < 1 || levels > MAX_LEVELS)
        pb_fail(b, ESL_EINVAL, "block_out_channels: expected 1 to %d levels", MAX_LEVELS);
    for (size_t i = 0; b->rc == ESL_OK && i < levels; i++) {
        ch[i] = cfg_int_at(b, "block_out_channels", i, -1);
        if (strcmp(cfg_str_at(b, "up_block_types", i), "UpDecoderBlock2D") != 0)
            pb_fail(b, ESL_EUNSUPPORTED, "up_block_types '%s' is not supported (UpDecoderBlock2D)",
                    cfg_str_at(b, "up_block_types", i));
    }
    if (b->rc != ESL_OK)
        return;
    pb_latent(b, &h, &w);
    int64_t top = ch[levels - 1];
    if (post)
        pb_conv(b, "post_quant_conv", 1, lat, lat, 1, 1, h, w, 1);
    pb_conv(b, "decoder.conv_in", 1, lat, top, 3, 1, h, w, 1);
    resnet(b, "decoder.mid.resnet0", top, top, h, w, 0);
    if (attn) { /* one head as wide as the channels */
        int64_t n = h * w;
        pb_layernorm(b, "decoder.mid.attn.group_norm", 1, n, top, 1);
        pb_linear(b, "decoder.mid.attn.q", 1, n, top, top, 1);
        pb_linear(b, "decoder.mid.attn.k", 1, n, top, top, 1);
        pb_linear(b, "decoder.mid.attn.v", 1, n, top, top, 1);
        pb_attention(b, "decoder.mid.attn.attention", 1, 1, n, n, top);
        pb_linear(b, "decoder.mid.attn.out", 1, n, top, top, 1);
        pb_elementwise(b, ESL_LAYER_OTHER, "decoder.mid.attn.residual", 1, n * top, FPE_ADD, 0);
    }
    resnet(b, "decoder.mid.resnet1", top, top, h, w, 0);
    int64_t c_out = top;
    for (size_t i = 0; i < levels; i++) {
        int64_t prev = c_out;
        c_out = ch[levels - 1 - i];
        for (int64_t j = 0; j <= lpb; j++) {
            pb_name(s, sizeof s, "decoder.up%zu.resnet%lld", i, (long long)j);
            resnet(b, s, j == 0 ? prev : c_out, c_out, h, w, 0);
        }
        if (i + 1 < levels) {
            h *= 2, w *= 2;
            pb_name(s, sizeof s, "decoder.up%zu.upsample.conv", i);
            pb_conv(b, s, 1, c_out, c_out, 3, 1, h, w, 1);
        }
    }
    pb_layernorm(b, "decoder.conv_norm_out", 1, h * w, ch[0], 1);
    pb_elementwise(b, ESL_LAYER_ACT, "decoder.conv_act", 1, h * w * ch[0], FPE_SILU, 0);
    pb_conv(b, "decoder.conv_out", 1, ch[0], out, 3, 1, h, w, 1);
}

/* QwenImage's residual block: RMS norms (L2 normalisation times a learned
 * scale) and causal 3x3x3 convolutions. */
static void qwen_resnet(builder *b, const char *name, int64_t c_in, int64_t c_out, int64_t h, int64_t w)
{
    char s[48];
    int64_t hw = h * w;
    pb_name(s, sizeof s, "%s.norm1", name);
    pb_rmsnorm(b, s, 1, hw, c_in);
    pb_name(s, sizeof s, "%s.act1", name);
    pb_elementwise(b, ESL_LAYER_ACT, s, 1, hw * c_in, FPE_SILU, 0);
    pb_name(s, sizeof s, "%s.conv1", name);
    pb_conv3d(b, s, 1, c_in, c_out, 3, 3, h, w);
    pb_name(s, sizeof s, "%s.norm2", name);
    pb_rmsnorm(b, s, 1, hw, c_out);
    pb_name(s, sizeof s, "%s.act2", name);
    pb_elementwise(b, ESL_LAYER_ACT, s, 1, hw * c_out, FPE_SILU, 0);
    pb_name(s, sizeof s, "%s.conv2", name);
    pb_conv3d(b, s, 1, c_out, c_out, 3, 3, h, w);
    if (c_in != c_out) {
        pb_name(s, sizeof s, "%s.conv_shortcut", name);
        pb_conv3d(b, s, 1, c_in, c_out, 1, 1, h, w);
    }
    pb_name(s, sizeof s, "%s.residual", name);
    pb_elementwise(b, ESL_LAYER_OTHER, s, 1, hw * c_out, FPE_ADD, 0);
}

/*
 * AutoencoderKLQwenImage (the Wan-style causal 3-D VAE of Qwen-Image): the
 * decoder on one frame. Causal convolutions pad two zero frames in front,
 * and the 3 temporal taps are all computed. Upsampling blocks halve the
 * channels with their 2-D convolution; the temporal upsampling convolution
 * is skipped on the first frame (so for a single image) and only holds
 * parameters.
 */
void build_qwen_vae_decoder(builder *b)
{
    int64_t base = cfg_int(b, "base_dim", 96), z = cfg_int(b, "z_dim", 16);
    int64_t blocks = cfg_count(b, "num_res_blocks", 2);
    size_t levels = cfg_len(b, "dim_mult");
    int64_t dims[MAX_LEVELS + 1], h, w;
    char s[48];
    if (levels < 2 || levels > MAX_LEVELS || cfg_len(b, "temperal_downsample") != levels - 1)
        pb_fail(b, ESL_EINVAL, "dim_mult needs 2 to %d levels and temperal_downsample one fewer",
                MAX_LEVELS);
    if (cfg_len(b, "attn_scales") > 0)
        pb_fail(b, ESL_EUNSUPPORTED, "attn_scales other than [] are not supported");
    for (size_t i = 0; b->rc == ESL_OK && i < levels; i++) {
        dims[i + 1] = base * cfg_int_at(b, "dim_mult", levels - 1 - i, -1);
        if (dims[i + 1] > PLAN_DIM_MAX)
            pb_fail(b, ESL_ERANGE, "base_dim x dim_mult: %lld channels is above the limit of %lld",
                    (long long)dims[i + 1], (long long)PLAN_DIM_MAX);
    }
    if (b->rc != ESL_OK)
        return;
    dims[0] = dims[1];
    pb_latent(b, &h, &w);
    pb_conv3d(b, "post_quant_conv", 1, z, z, 1, 1, h, w);
    pb_conv3d(b, "decoder.conv_in", 1, z, dims[0], 3, 3, h, w);
    qwen_resnet(b, "decoder.mid.resnet0", dims[0], dims[0], h, w);
    int64_t c = dims[0], n = h * w;
    pb_rmsnorm(b, "decoder.mid.attn.norm", 1, n, c);
    pb_conv(b, "decoder.mid.attn.to_qkv", 1, c, 3 * c, 1, 1, h, w, 1);
    pb_attention(b, "decoder.mid.attn.attention", 1, 1, n, n, c);
    pb_conv(b, "decoder.mid.attn.proj", 1, c, c, 1, 1, h, w, 1);
    pb_elementwise(b, ESL_LAYER_OTHER, "decoder.mid.attn.residual", 1, n * c, FPE_ADD, 0);
    qwen_resnet(b, "decoder.mid.resnet1", dims[0], dims[0], h, w);
    for (size_t i = 0; i < levels; i++) {
        int64_t in = i > 0 ? dims[i] / 2 : dims[i], out = dims[i + 1];
        for (int64_t j = 0; j <= blocks; j++) {
            pb_name(s, sizeof s, "decoder.up%zu.resnet%lld", i, (long long)j);
            qwen_resnet(b, s, j == 0 ? in : out, out, h, w);
        }
        if (i + 1 < levels) {
            /* temperal_downsample reversed: the time convolution's weights. */
            if (json_is_true(json_array_get(json_object_get(b->cfg, "temperal_downsample"),
                                            levels - 2 - i))) {
                pb_name(s, sizeof s, "decoder.up%zu.time_conv", i);
                pb_elementwise(b, ESL_LAYER_OTHER, s, 1, 0, 0, out * 2 * out * 3 + 2 * out);
            }
            h *= 2, w *= 2;
            pb_name(s, sizeof s, "decoder.up%zu.upsample.conv", i);
            pb_conv(b, s, 1, out, out / 2, 3, 1, h, w, 1);
        }
    }
    int64_t last = dims[levels];
    pb_rmsnorm(b, "decoder.norm_out", 1, h * w, last);
    pb_elementwise(b, ESL_LAYER_ACT, "decoder.act_out", 1, h * w * last, FPE_SILU, 0);
    pb_conv3d(b, "decoder.conv_out", 1, last, 3, 3, 3, h, w);
}
