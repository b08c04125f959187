/*
 * sana.c - layer plans of the convolutional parts of Sana: the GLUMBConv
 * feed-forward its transformer shares with the deep-compression autoencoder
 * (AutoencoderDC), and that autoencoder's decoder, following diffusers'
 * autoencoder_dc.py: residual convolution stages at high resolution,
 * EfficientViT stages (multi-scale ReLU linear attention plus GLUMBConv) at
 * low resolution, and upsampling by interpolation with a channel-shuffle
 * shortcut.
 */
#include <string.h>

#include "plan/internal.h"

void glumbconv(builder *b, const char *name, int64_t count, int64_t c_in, int64_t c_out,
               int64_t hidden, int64_t h, int64_t w, int norm, int residual)
{
    char s[64];
    int64_t hw = h * w;
    pb_name(s, sizeof s, "%s.conv_inverted", name);
    pb_conv(b, s, count, c_in, 2 * hidden, 1, 1, h, w, 1);
    pb_name(s, sizeof s, "%s.act", name);
    pb_elementwise(b, ESL_LAYER_ACT, s, count, hw * 2 * hidden, FPE_SILU, 0);
    pb_name(s, sizeof s, "%s.conv_depth", name);
    pb_conv_grouped(b, s, count, 2 * hidden, 2 * hidden, 3, 2 * hidden, h, w, 1);
    pb_name(s, sizeof s, "%s.glu", name);
    pb_elementwise(b, ESL_LAYER_ACT, s, count, hw * hidden, FPE_SILU + FPE_GATE, 0);
    pb_name(s, sizeof s, "%s.conv_point", name);
    pb_conv(b, s, count, hidden, c_out, 1, 1, h, w, 0);
    if (norm) { /* RMSNorm over channels with weight and bias */
        pb_name(s, sizeof s, "%s.norm", name);
        pb_elementwise(b, ESL_LAYER_NORM, s, count, hw * c_out, FPE_RMSNORM + FPE_AFFINE, 2 * c_out);
    }
    if (residual) {
        pb_name(s, sizeof s, "%s.residual", name);
        pb_elementwise(b, ESL_LAYER_OTHER, s, count, hw * c_out, FPE_ADD, 0);
    }
}

/* DC-AE ResBlock: conv, act, conv without bias, channel RMS norm, residual. */
static void dc_resblock(builder *b, const char *name, int64_t count, int64_t c, int64_t h, int64_t w)
{
    char s[64];
    pb_name(s, sizeof s, "%s.conv1", name);
    pb_conv(b, s, count, c, c, 3, 1, h, w, 1);
    pb_name(s, sizeof s, "%s.act", name);
    pb_elementwise(b, ESL_LAYER_ACT, s, count, h * w * c, FPE_SILU, 0);
    pb_name(s, sizeof s, "%s.conv2", name);
    pb_conv(b, s, count, c, c, 3, 1, h, w, 0);
    pb_name(s, sizeof s, "%s.norm", name);
    pb_elementwise(b, ESL_LAYER_NORM, s, count, h * w * c, FPE_RMSNORM + FPE_AFFINE, 2 * c);
    pb_name(s, sizeof s, "%s.residual", name);
    pb_elementwise(b, ESL_LAYER_OTHER, s, count, h * w * c, FPE_ADD, 0);
}

/* EfficientViTBlock: multi-scale linear attention (q, k, v plus one depthwise
 * k x k and grouped 1x1 aggregation per scale, each scale adding as many
 * heads again), then GLUMBConv with expansion 4. */
static void dc_vit_block(builder *b, const char *name, int64_t count, int64_t c, int64_t hd,
                         size_t scales, const int64_t *kernels, int64_t h, int64_t w)
{
    char s[64];
    int64_t n = h * w, heads = c / hd;
    static const char *const proj[] = {"q", "k", "v"};
    for (int i = 0; i < 3; i++) {
        pb_name(s, sizeof s, "%s.attn.to_%s", name, proj[i]);
        pb_linear(b, s, count, n, c, c, 0);
    }
    for (size_t i = 0; i < scales; i++) {
        pb_name(s, sizeof s, "%s.attn.ms%zu.proj_in", name, i);
        pb_conv_grouped(b, s, count, 3 * c, 3 * c, kernels[i], 3 * c, h, w, 0);
        pb_name(s, sizeof s, "%s.attn.ms%zu.proj_out", name, i);
        pb_conv_grouped(b, s, count, 3 * c, 3 * c, 1, 3 * heads, h, w, 0);
    }
    pb_name(s, sizeof s, "%s.attn.attention", name);
    pb_linear_attention(b, s, count, heads * (int64_t)(1 + scales), n, hd);
    pb_name(s, sizeof s, "%s.attn.to_out", name);
    pb_linear(b, s, count, n, c * (int64_t)(1 + scales), c, 0);
    pb_name(s, sizeof s, "%s.attn.norm_out", name);
    pb_elementwise(b, ESL_LAYER_NORM, s, count, n * c, FPE_RMSNORM + FPE_AFFINE, 2 * c);
    pb_name(s, sizeof s, "%s.attn.residual", name);
    pb_elementwise(b, ESL_LAYER_OTHER, s, count, n * c, FPE_ADD, 0);
    pb_name(s, sizeof s, "%s.conv_out", name);
    glumbconv(b, s, count, c, c, 4 * c, h, w, 1, 1);
}

#define DC_MAX_LEVELS 8

void build_dc_decoder(builder *b)
{
    size_t levels = cfg_len(b, "decoder_block_out_channels");
    int64_t lat = cfg_int(b, "latent_channels", 32), out = cfg_int(b, "in_channels", 3);
    int64_t hd = cfg_int(b, "attention_head_dim", 32);
    const char *up = cfg_str(b, "upsample_block_type", "pixel_shuffle");
    int64_t ch[DC_MAX_LEVELS], nl[DC_MAX_LEVELS], h, w;
    char s[64];
    if (levels < 1 || levels > DC_MAX_LEVELS || cfg_len(b, "decoder_block_types") != levels)
        pb_fail(b, ESL_EINVAL, "decoder_block_out_channels and decoder_block_types need 1 to %d "
                "levels each", DC_MAX_LEVELS);
    if (strcmp(up, "interpolate") != 0)
        pb_fail(b, ESL_EUNSUPPORTED, "upsample_block_type '%s' is not supported (interpolate)", up);
    const char *norm = cfg_str(b, "decoder_norm_types", "rms_norm");
    const char *act = cfg_str(b, "decoder_act_fns", "silu");
    if (strcmp(norm, "rms_norm") != 0 || strcmp(act, "silu") != 0)
        pb_fail(b, ESL_EUNSUPPORTED, "decoder norm '%s' and activation '%s' are not supported "
                "(rms_norm, silu)", norm, act);
    for (size_t i = 0; b->rc == ESL_OK && i < levels; i++) {
        ch[i] = cfg_int_at(b, "decoder_block_out_channels", i, -1);
        nl[i] = cfg_count_at(b, "decoder_layers_per_block", i, -1);
    }
    if (b->rc != ESL_OK)
        return;
    pb_latent(b, &h, &w);
    pb_conv(b, "decoder.conv_in", 1, lat, ch[levels - 1], 3, 1, h, w, 1);
    pb_elementwise(b, ESL_LAYER_OTHER, "decoder.conv_in.shortcut", 1, h * w * ch[levels - 1], FPE_ADD, 0);
    /* Stages run from the deepest (lowest resolution) to the first. */
    for (size_t k = 0; k < levels; k++) {
        size_t i = levels - 1 - k;
        if (i + 1 < levels && nl[i] > 0) {
            h *= 2, w *= 2;
            pb_name(s, sizeof s, "decoder.up%zu.upsample.conv", i);
            pb_conv(b, s, 1, ch[i + 1], ch[i], 3, 1, h, w, 1);
            pb_name(s, sizeof s, "decoder.up%zu.upsample.shortcut", i);
            pb_elementwise(b, ESL_LAYER_OTHER, s, 1, h * w * ch[i], FPE_ADD, 0);
        }
        const char *type = cfg_str_at(b, "decoder_block_types", i);
        pb_name(s, sizeof s, "decoder.up%zu.block", i);
        if (strcmp(type, "ResBlock") == 0) {
            dc_resblock(b, s, nl[i], ch[i], h, w);
        } else if (strcmp(type, "EfficientViTBlock") == 0) {
            json_t *ms = json_array_get(json_object_get(b->cfg, "decoder_qkv_multiscales"), i);
            int64_t kernels[4];
            size_t scales = json_array_size(ms);
            for (size_t j = 0; j < scales && j < 4; j++)
                kernels[j] = json_integer_value(json_array_get(ms, j));
            dc_vit_block(b, s, nl[i], ch[i], hd, scales < 4 ? scales : 4, kernels, h, w);
        } else {
            pb_fail(b, ESL_EUNSUPPORTED, "decoder_block_types '%s' is not supported (ResBlock, "
                    "EfficientViTBlock)", type);
        }
    }
    pb_elementwise(b, ESL_LAYER_NORM, "decoder.norm_out", 1, h * w * ch[0], FPE_RMSNORM + FPE_AFFINE,
                   2 * ch[0]);
    pb_elementwise(b, ESL_LAYER_ACT, "decoder.conv_act", 1, h * w * ch[0], FPE_RELU, 0);
    pb_conv(b, "decoder.conv_out", 1, ch[0], out, 3, 1, h, w, 1);
}
