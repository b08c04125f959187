/*
 * cascade.c - layer plans of Stable Cascade (Würstchen v3), after diffusers'
 * StableCascadeUNet and PaellaVQModel. One U-Net class serves two stages:
 * Stage C, the prior, denoises a 16-channel latent at 1/42.67 of the image
 * side conditioned on the CLIP text states; Stage B, the decoder, denoises a
 * 4-channel latent at 1/4 of the side conditioned on Stage C's output (the
 * "effnet" features). Its blocks are ConvNeXt-like residual blocks (a
 * depthwise convolution, a weightless layer norm, a channel MLP with global
 * response normalisation), timestep blocks that scale and shift, and
 * attention blocks whose keys are the image positions and the mapped CLIP
 * tokens. A level may run its blocks several times with the same weights
 * ("repeat mappers", a 1x1 convolution between repeats). Stage A, the
 * Paella VQ-GAN, decodes Stage B's latent to pixels with mixing residual
 * blocks; the pipelines skip its quantiser. Bilinear interpolation, pixel
 * (un)shuffling and concatenation move data and count no FLOPs.
 */
#include <math.h>
#include <string.h>

#include "plan/internal.h"

/* FLOPs per element of global response normalisation: the square and the
 * sum of the spatial L2 norm, the division by the mean norm, the product
 * with gamma, and the beta and residual adds. */
enum { FPE_GRN = 6 };

#define SC_MAX_LEVELS 8
#define SC_MAX_TYPES 4

enum { SC_RES, SC_TIME, SC_ATTN };

/* Everything the blocks of one U-Net share. */
typedef struct sc_net {
    int64_t kernel, c_r, conds, c_cond, tokens;
} sc_net;

/* SDCascadeResBlock at h x w with c channels (+ c_skip concatenated). */
static void sc_res(builder *b, const char *name, int64_t count, int64_t c, int64_t c_skip, int64_t k,
                   int64_t h, int64_t w)
{
    char s[48];
    int64_t hw = h * w;
    pb_name(s, sizeof s, "%s.depthwise", name);
    pb_conv_grouped(b, s, count, c, c, k, c, h, w, 1);
    pb_name(s, sizeof s, "%s.norm", name);
    pb_layernorm(b, s, count, hw, c, 0);
    pb_name(s, sizeof s, "%s.channelwise.0", name);
    pb_linear(b, s, count, hw, c + c_skip, 4 * c, 1);
    pb_name(s, sizeof s, "%s.channelwise.gelu", name);
    pb_elementwise(b, ESL_LAYER_ACT, s, count, hw * 4 * c, FPE_GELU, 0);
    pb_name(s, sizeof s, "%s.channelwise.grn", name);
    pb_elementwise(b, ESL_LAYER_NORM, s, count, hw * 4 * c, FPE_GRN, 8 * c);
    pb_name(s, sizeof s, "%s.channelwise.4", name);
    pb_linear(b, s, count, hw, 4 * c, c, 1);
    pb_name(s, sizeof s, "%s.residual", name);
    pb_elementwise(b, ESL_LAYER_OTHER, s, count, hw * c, FPE_ADD, 0);
}

/* SDCascadeTimestepBlock: one mapper per condition (the timestep first),
 * their scale and shift summed, x (1 + a) + b. */
static void sc_time(builder *b, const char *name, int64_t count, int64_t c, const sc_net *net, int64_t h,
                    int64_t w)
{
    char s[48];
    pb_name(s, sizeof s, "%s.mappers", name);
    pb_linear(b, s, count * (1 + net->conds), 1, net->c_r, 2 * c, 1);
    pb_name(s, sizeof s, "%s.sum", name);
    pb_elementwise(b, ESL_LAYER_OTHER, s, count, 2 * c * net->conds, FPE_ADD, 0);
    pb_name(s, sizeof s, "%s.modulate", name);
    pb_elementwise(b, ESL_LAYER_OTHER, s, count, h * w * c, FPE_MODULATE, 0);
}

/* SDCascadeAttnBlock: the CLIP tokens mapped to c, self-attention whose
 * keys are the normed positions and those tokens. */
static void sc_attn(builder *b, const char *name, int64_t count, int64_t c, int64_t heads, const sc_net *net,
                    int64_t h, int64_t w)
{
    char s[48];
    int64_t n = h * w, kv = n + net->tokens;
    pb_name(s, sizeof s, "%s.kv_mapper.act", name);
    pb_elementwise(b, ESL_LAYER_ACT, s, count, net->tokens * net->c_cond, FPE_SILU, 0);
    pb_name(s, sizeof s, "%s.kv_mapper", name);
    pb_linear(b, s, count, net->tokens, net->c_cond, c, 1);
    pb_name(s, sizeof s, "%s.norm", name);
    pb_layernorm(b, s, count, n, c, 0);
    pb_name(s, sizeof s, "%s.to_q", name);
    pb_linear(b, s, count, n, c, c, 1);
    pb_name(s, sizeof s, "%s.to_k", name);
    pb_linear(b, s, count, kv, c, c, 1);
    pb_name(s, sizeof s, "%s.to_v", name);
    pb_linear(b, s, count, kv, c, c, 1);
    pb_name(s, sizeof s, "%s.attention", name);
    pb_attention(b, s, count, heads, n, kv, c / heads);
    pb_name(s, sizeof s, "%s.to_out", name);
    pb_linear(b, s, count, n, c, c, 1);
    pb_name(s, sizeof s, "%s.residual", name);
    pb_elementwise(b, ESL_LAYER_OTHER, s, count, n * c, FPE_ADD, 0);
}

/* One level's block list, `layers` times over, the first residual block
 * with a skip of `c_skip` channels; `count` runs (the first holds the
 * parameters when `count` covers repeats, see level()). */
static void sc_blocks(builder *b, const char *name, int64_t count, int64_t layers, const int *types,
                      size_t n_types, int64_t c, int64_t c_skip, int64_t heads, const sc_net *net, int64_t h,
                      int64_t w)
{
    char s[48];
    for (size_t k = 0; k < n_types; k++) {
        /* the first layer's residual block carries the skip; the others not */
        int64_t plain = layers;
        pb_name(s, sizeof s, "%s.%s", name, types[k] == SC_RES ? "res" : types[k] == SC_TIME ? "time" : "attn");
        if (types[k] == SC_RES && k == 0 && c_skip > 0) {
            char first[48];
            pb_name(first, sizeof first, "%s.res_skip", name);
            sc_res(b, first, count, c, c_skip, net->kernel, h, w);
            plain = layers - 1;
        }
        if (plain <= 0)
            continue;
        if (types[k] == SC_RES)
            sc_res(b, s, count * plain, c, 0, net->kernel, h, w);
        else if (types[k] == SC_TIME)
            sc_time(b, s, count * plain, c, net, h, w);
        else
            sc_attn(b, s, count * plain, c, heads, net, h, w);
    }
}

/* A level's blocks, `count` times, each time run `repeats` times with the
 * same weights and a 1x1 convolution of its own between two runs. */
static void sc_level(builder *b, const char *name, int64_t count, int64_t repeats, int64_t layers,
                     const int *types, size_t n_types, int64_t c, int64_t c_skip, int64_t heads,
                     const sc_net *net, int64_t h, int64_t w)
{
    char s[48];
    sc_blocks(b, name, count, layers, types, n_types, c, c_skip, heads, net, h, w);
    if (repeats > 1) {
        int shared = b->shared;
        pb_name(s, sizeof s, "%s.repeat_mapper", name);
        pb_conv(b, s, count * (repeats - 1), c, c, 1, 1, h, w, 1);
        b->shared = 1;
        pb_name(s, sizeof s, "%s.repeat", name);
        sc_blocks(b, s, count * (repeats - 1), layers, types, n_types, c, c_skip, heads, net, h, w);
        b->shared = shared;
    }
}

/* The block types of level i, from block_types_per_layer. */
static size_t sc_types(builder *b, size_t i, int *types)
{
    json_t *levels = json_object_get(b->cfg, "block_types_per_layer");
    json_t *list = json_array_get(levels, i);
    size_t n = json_array_size(list);
    if (!json_is_array(list) || n < 1 || n > SC_MAX_TYPES) {
        pb_fail(b, ESL_EINVAL, "config field 'block_types_per_layer': level %zu needs 1 to %d block types",
                i, SC_MAX_TYPES);
        return 0;
    }
    for (size_t k = 0; k < n; k++) {
        const char *t = json_string_value(json_array_get(list, k));
        if (t != NULL && strcmp(t, "SDCascadeResBlock") == 0)
            types[k] = SC_RES;
        else if (t != NULL && strcmp(t, "SDCascadeTimestepBlock") == 0)
            types[k] = SC_TIME;
        else if (t != NULL && strcmp(t, "SDCascadeAttnBlock") == 0)
            types[k] = SC_ATTN;
        else {
            pb_fail(b, ESL_EUNSUPPORTED, "block_types_per_layer '%s' is not supported (SDCascadeResBlock, "
                    "SDCascadeTimestepBlock, SDCascadeAttnBlock)", t != NULL ? t : "");
            return 0;
        }
    }
    return n;
}

/* A 1x1 conv, GELU, 1x1 conv and weightless norm at h x w (the effnet and
 * pixel mappers). */
static void sc_mapper(builder *b, const char *name, int64_t count, int64_t c_in, int64_t c, int64_t h,
                      int64_t w)
{
    char s[48];
    pb_name(s, sizeof s, "%s.0", name);
    pb_conv(b, s, count, c_in, 4 * c, 1, 1, h, w, 1);
    pb_name(s, sizeof s, "%s.gelu", name);
    pb_elementwise(b, ESL_LAYER_ACT, s, count, h * w * 4 * c, FPE_GELU, 0);
    pb_name(s, sizeof s, "%s.2", name);
    pb_conv(b, s, count, 4 * c, c, 1, 1, h, w, 1);
    pb_name(s, sizeof s, "%s.norm", name);
    pb_layernorm(b, s, count, h * w, c, 0);
}

/* What one forward pass of StableCascadeUNet reads from its config. */
typedef struct sc_cfg {
    size_t levels;
    int64_t in, out, p, c_cond, seq, pooled, txt, img, effnet, pixels;
    int64_t ch[SC_MAX_LEVELS], heads[SC_MAX_LEVELS], down[SC_MAX_LEVELS], up[SC_MAX_LEVELS];
    int64_t rep_down[SC_MAX_LEVELS], rep_up[SC_MAX_LEVELS];
    int types[SC_MAX_LEVELS][SC_MAX_TYPES], sw[SC_MAX_LEVELS], switched;
    size_t n_types[SC_MAX_LEVELS];
    sc_net net;
} sc_cfg;

/* One forward pass over an h x w grid, every layer `count` times. */
static void sc_pass(builder *b, const sc_cfg *u, int64_t count, int64_t h, int64_t w)
{
    char s[48];
    int64_t gh = h / u->p, gw = w / u->p, c0 = u->ch[0], lh[SC_MAX_LEVELS], lw[SC_MAX_LEVELS];
    const sc_net *net = &u->net;
    /* the conditioning: the timestep-ratio sinusoids, the CLIP tokens */
    pb_elementwise(b, ESL_LAYER_OTHER, "r_embed.sinusoid", count, net->c_r * (1 + net->conds),
                   FPE_SINUSOID, 0);
    pb_linear(b, "clip_txt_pooled_mapper", count, 1, u->pooled, u->c_cond * u->seq, 1);
    if (u->txt > 0) {
        pb_linear(b, "clip_txt_mapper", count, pb_text_tokens(b), u->txt, u->c_cond, 1);
        pb_linear(b, "clip_img_mapper", count, 1, u->img, u->c_cond * u->seq, 1);
    }
    pb_layernorm(b, "clip_norm", count, net->tokens, u->c_cond, 0);
    pb_conv(b, "embedding.conv", count, u->in * u->p * u->p, c0, 1, 1, gh, gw, 1);
    pb_layernorm(b, "embedding.norm", count, gh * gw, c0, 0);
    if (u->effnet > 0) { /* Stage C's output, interpolated to the grid */
        sc_mapper(b, "effnet_mapper", count, u->effnet, c0, gh, gw);
        pb_elementwise(b, ESL_LAYER_OTHER, "effnet_mapper.add", count, gh * gw * c0, FPE_ADD, 0);
    }
    if (u->pixels > 0) { /* zero pixels at 8 x 8, interpolated to the grid */
        sc_mapper(b, "pixels_mapper", count, u->pixels, c0, 8, 8);
        pb_elementwise(b, ESL_LAYER_OTHER, "pixels_mapper.add", count, gh * gw * c0, FPE_ADD, 0);
    }
    for (size_t i = 0; i < u->levels; i++) {
        if (i > 0) {
            pb_name(s, sizeof s, "down%zu.downscaler.norm", i);
            pb_layernorm(b, s, count, gh * gw, u->ch[i - 1], 0);
            pb_name(s, sizeof s, "down%zu.downscaler", i);
            if (!u->switched) { /* a 2x2 convolution of stride 2 */
                gh /= 2, gw /= 2;
                pb_conv(b, s, count, u->ch[i - 1], u->ch[i], 2, 2, gh, gw, 1);
            } else { /* a 1x1 mapping, then bilinear halving when enabled */
                pb_conv(b, s, count, u->ch[i - 1], u->ch[i], 1, 1, gh, gw, 1);
                if (u->sw[i - 1])
                    gh /= 2, gw /= 2;
            }
        }
        lh[i] = gh, lw[i] = gw;
        pb_name(s, sizeof s, "down%zu", i);
        sc_level(b, s, count, u->rep_down[i], u->down[i], u->types[i], u->n_types[i], u->ch[i], 0,
                 u->heads[i], net, gh, gw);
    }
    for (size_t r = 0; r < u->levels; r++) {
        size_t i = u->levels - 1 - r;
        gh = lh[i], gw = lw[i];
        pb_name(s, sizeof s, "up%zu", i);
        sc_level(b, s, count, u->rep_up[i], u->up[i], u->types[i], u->n_types[i], u->ch[i],
                 i + 1 < u->levels ? u->ch[i] : 0, u->heads[i], net, gh, gw);
        if (i > 0) {
            pb_name(s, sizeof s, "up%zu.upscaler.norm", i);
            pb_layernorm(b, s, count, gh * gw, u->ch[i], 0);
            pb_name(s, sizeof s, "up%zu.upscaler", i);
            if (!u->switched) {
                /* ConvTranspose2d(k 2, s 2): a 2x2 convolution over the input
                 * grid, the bias on the doubled grid */
                pb_conv(b, s, count, u->ch[i], u->ch[i - 1], 2, 2, gh, gw, 0);
                pb_name(s, sizeof s, "up%zu.upscaler.bias", i);
                pb_elementwise(b, ESL_LAYER_OTHER, s, count, 4 * gh * gw * u->ch[i - 1], FPE_ADD,
                               u->ch[i - 1]);
            } else { /* bilinear doubling when enabled, then a 1x1 mapping */
                int64_t uh = u->sw[i - 1] ? 2 * gh : gh, uw = u->sw[i - 1] ? 2 * gw : gw;
                pb_conv(b, s, count, u->ch[i], u->ch[i - 1], 1, 1, uh, uw, 1);
            }
        }
    }
    pb_layernorm(b, "clf.norm", count, lh[0] * lw[0], c0, 0);
    pb_conv(b, "clf.conv", count, c0, u->out * u->p * u->p, 1, 1, lh[0], lw[0], 1);
}

/*
 * StableCascadeUNet. The prior (no effnet input) runs on the grid of the
 * image side over "image_compression" (set by the pipeline: 42.67), rounded
 * up, and reads the text states, the pooled text and a zero image
 * embedding; its "passes" (the prior's loop, set by the pipeline) repeat
 * the whole pass with the same weights. The decoder runs on the latent grid
 * and reads the pooled text only.
 */
void build_cascade_unet(builder *b)
{
    sc_cfg u = {0};
    json_t *switch_level = json_object_get(b->cfg, "switch_level");
    int64_t passes = cfg_int(b, "passes", 1), h, w;
    u.levels = cfg_len(b, "block_out_channels");
    u.in = cfg_int(b, "in_channels", 16), u.out = cfg_int(b, "out_channels", 16);
    u.p = cfg_int(b, "patch_size", 1), u.c_cond = cfg_int(b, "conditioning_dim", 2048);
    u.seq = cfg_int(b, "clip_seq", 4), u.pooled = cfg_int(b, "clip_text_pooled_in_channels", 1280);
    u.txt = cfg_int(b, "clip_text_in_channels", 0), u.img = cfg_int(b, "clip_image_in_channels", 0);
    u.effnet = cfg_int(b, "effnet_in_channels", 0), u.pixels = cfg_int(b, "pixel_mapper_in_channels", 0);
    u.net.kernel = cfg_int(b, "kernel_size", 3), u.net.c_r = cfg_int(b, "timestep_ratio_embedding_dim", 64);
    u.net.conds = (int64_t)cfg_len(b, "timestep_conditioning_type");
    u.net.c_cond = u.c_cond;
    u.switched = switch_level != NULL && !json_is_null(switch_level);

    if (u.levels < 1 || u.levels > SC_MAX_LEVELS)
        pb_fail(b, ESL_EINVAL, "block_out_channels: expected 1 to %d levels", SC_MAX_LEVELS);
    if (passes < 1 || passes > 100000)
        pb_fail(b, ESL_EINVAL, "passes %lld: expected 1 to 100000", (long long)passes);
    if (u.p < 1 || u.net.kernel % 2 == 0 || u.net.conds > 16)
        pb_fail(b, ESL_EINVAL, "patch_size %lld, kernel_size %lld and %lld timestep conditions: expected a "
                "patch of 1 or more, an odd kernel and at most 16 conditions", (long long)u.p,
                (long long)u.net.kernel, (long long)u.net.conds);
    if ((u.txt > 0) != (u.img > 0))
        pb_fail(b, ESL_EUNSUPPORTED, "clip_text_in_channels and clip_image_in_channels: both or neither");
    if (u.switched && (!json_is_array(switch_level) || json_array_size(switch_level) + 1 < u.levels))
        pb_fail(b, ESL_EINVAL, "config field 'switch_level': expected one entry per level after the first");
    for (size_t i = 0; b->rc == ESL_OK && i < u.levels; i++) {
        u.ch[i] = cfg_int_at(b, "block_out_channels", i, -1);
        u.heads[i] = cfg_int_at(b, "num_attention_heads", i, 0);
        u.down[i] = cfg_count_at(b, "down_num_layers_per_block", i, -1);
        u.up[i] = cfg_count_at(b, "up_num_layers_per_block", u.levels - 1 - i, -1);
        u.rep_down[i] = cfg_count_at(b, "down_blocks_repeat_mappers", i, 1);
        u.rep_up[i] = cfg_count_at(b, "up_blocks_repeat_mappers", u.levels - 1 - i, 1);
        u.n_types[i] = sc_types(b, i, u.types[i]);
        u.sw[i] = u.switched && json_is_true(json_array_get(switch_level, i));
        for (size_t k = 0; b->rc == ESL_OK && k < u.n_types[i]; k++)
            if (u.types[i][k] == SC_ATTN && (u.heads[i] < 1 || u.ch[i] % u.heads[i] != 0))
                pb_fail(b, ESL_EINVAL, "level %zu: %lld channels do not split into %lld attention heads", i,
                        (long long)u.ch[i], (long long)u.heads[i]);
        if (b->rc == ESL_OK && (u.rep_down[i] < 1 || u.rep_up[i] < 1 || u.down[i] < 1 || u.up[i] < 1))
            pb_fail(b, ESL_EINVAL, "level %zu: layer and repeat counts must be 1 or more", i);
    }
    if (b->rc != ESL_OK)
        return;
    if (u.effnet == 0) { /* the prior: its grid follows the image, not the latent */
        json_t *comp = json_object_get(b->cfg, "image_compression");
        double f = json_is_number(comp) ? json_number_value(comp) : 42.67;
        if (comp != NULL && !json_is_number(comp))
            f = 0.0;
        if (!(f >= 1.0 && f <= 1024.0)) {
            pb_fail(b, ESL_EINVAL, "config field 'image_compression': expected a number in [1, 1024]");
            return;
        }
        h = (int64_t)ceil((double)b->req->height / f);
        w = (int64_t)ceil((double)b->req->width / f);
    } else {
        pb_latent(b, &h, &w);
    }
    int64_t div = u.p;
    for (size_t i = 1; i < u.levels; i++)
        if (!u.switched || u.sw[i - 1])
            div *= 2;
    if (h % div != 0 || w % div != 0) {
        pb_fail(b, ESL_EINVAL, "image size %lldx%lld: the grid %lldx%lld must be a multiple of %lld for "
                "the patch and %zu levels", (long long)b->req->height, (long long)b->req->width,
                (long long)h, (long long)w, (long long)div, u.levels);
        return;
    }
    u.net.tokens = u.seq + (u.txt > 0 ? pb_text_tokens(b) + u.seq : 0);
    sc_pass(b, &u, 1, h, w);
    if (passes > 1) { /* the loop's other passes reuse the weights */
        b->shared = 1;
        sc_pass(b, &u, passes - 1, h, w);
        b->shared = 0;
    }
}

/* MixingResidualBlock: weightless norms with learned scalar modulation, a
 * depthwise 3x3 convolution and a channel MLP, each added back gated. */
static void paella_block(builder *b, const char *name, int64_t count, int64_t c, int64_t h, int64_t w)
{
    char s[48];
    int64_t hw = h * w;
    pb_name(s, sizeof s, "%s.norm1", name);
    pb_layernorm(b, s, count, hw, c, 0);
    pb_name(s, sizeof s, "%s.norm1.modulate", name);
    pb_elementwise(b, ESL_LAYER_OTHER, s, count, hw * c, FPE_MODULATE, 6); /* the six gammas */
    pb_name(s, sizeof s, "%s.depthwise", name);
    pb_conv_grouped(b, s, count, c, c, 3, c, h, w, 1);
    pb_name(s, sizeof s, "%s.depthwise.gate", name);
    pb_elementwise(b, ESL_LAYER_OTHER, s, count, hw * c, FPE_GATED_ADD, 0);
    pb_name(s, sizeof s, "%s.norm2", name);
    pb_layernorm(b, s, count, hw, c, 0);
    pb_name(s, sizeof s, "%s.norm2.modulate", name);
    pb_elementwise(b, ESL_LAYER_OTHER, s, count, hw * c, FPE_MODULATE, 0);
    pb_name(s, sizeof s, "%s.channelwise.0", name);
    pb_linear(b, s, count, hw, c, 4 * c, 1);
    pb_name(s, sizeof s, "%s.channelwise.gelu", name);
    pb_elementwise(b, ESL_LAYER_ACT, s, count, hw * 4 * c, FPE_GELU, 0);
    pb_name(s, sizeof s, "%s.channelwise.2", name);
    pb_linear(b, s, count, hw, 4 * c, c, 1);
    pb_name(s, sizeof s, "%s.channelwise.gate", name);
    pb_elementwise(b, ESL_LAYER_OTHER, s, count, hw * c, FPE_GATED_ADD, 0);
}

/*
 * PaellaVQModel's decoder (Stage A) as the pipeline runs it (no
 * quantisation): a 1x1 convolution from the latent, a mixing block, the
 * bottleneck blocks at the deepest level and one block per level above,
 * 4x4 transposed convolutions between levels, and a 1x1 convolution to
 * up_down_scale_factor^2 x out_channels pixels that a pixel shuffle spreads.
 */
void build_paella_decoder(builder *b)
{
    int64_t levels = cfg_count(b, "levels", 2), blocks = cfg_count(b, "bottleneck_blocks", 12);
    int64_t embed = cfg_int(b, "embed_dim", 384), lat = cfg_int(b, "latent_channels", 4);
    int64_t out = cfg_int(b, "out_channels", 3), f = cfg_int(b, "up_down_scale_factor", 2);
    int64_t h, w;
    char s[48];
    if (levels < 1 || levels > SC_MAX_LEVELS || blocks < 1 || f < 1 || f > 16)
        pb_fail(b, ESL_EINVAL, "levels (1 to %d), bottleneck_blocks (1 or more) and up_down_scale_factor "
                "(1 to 16) out of range", SC_MAX_LEVELS);
    if (b->rc == ESL_OK && (embed >> (levels - 1)) < 1)
        pb_fail(b, ESL_EINVAL, "embed_dim %lld does not halve over %lld levels", (long long)embed,
                (long long)levels);
    if (b->rc != ESL_OK)
        return;
    pb_latent(b, &h, &w);
    int64_t c = embed; /* c_levels[levels - 1] */
    pb_conv(b, "up_blocks.in", 1, lat, c, 1, 1, h, w, 1);
    paella_block(b, "up_blocks.first", 1, c, h, w);
    for (int64_t i = 0; i < levels; i++) {
        pb_name(s, sizeof s, "up_blocks.level%lld", (long long)i);
        paella_block(b, s, i == 0 ? blocks : 1, c, h, w);
        if (i + 1 < levels) {
            /* ConvTranspose2d(k 4, s 2, p 1): each output pixel meets 2 x 2 taps,
             * a 4x4 convolution over the input grid; the bias on the doubled grid */
            pb_name(s, sizeof s, "up_blocks.level%lld.up", (long long)i);
            pb_conv(b, s, 1, c, c / 2, 4, 2, h, w, 0);
            h *= 2, w *= 2;
            pb_name(s, sizeof s, "up_blocks.level%lld.up.bias", (long long)i);
            pb_elementwise(b, ESL_LAYER_OTHER, s, 1, h * w * (c / 2), FPE_ADD, c / 2);
            c /= 2;
        }
    }
    pb_conv(b, "out_block.conv", 1, c, out * f * f, 1, 1, h, w, 1);
}
