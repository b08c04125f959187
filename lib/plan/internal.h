/*
 * plan/internal.h - what the layer builders of each architecture share: a
 * builder that appends layers with their FLOPs and parameters (the per-op
 * conventions of docs/flops.md live in plan.c, in one place), and readers of
 * architecture config fields that name the class and key on failure.
 */
#ifndef ESL_PLAN_INTERNAL_H
#define ESL_PLAN_INTERNAL_H

#include <jansson.h>

#include "core/internal.h"
#include "esl/plan.h"

/* FLOPs per element of the elementwise operations (docs/flops.md). */
enum {
    FPE_LAYERNORM = 5,   /* mean, subtract, square, sum, scale by 1/sigma */
    FPE_AFFINE = 2,      /* elementwise weight and bias of a norm */
    FPE_RMSNORM = 3,     /* square, sum, scale */
    FPE_RMS_WEIGHT = 1,  /* elementwise weight of an RMS norm */
    FPE_GELU = 8,        /* tanh or erf form */
    FPE_SILU = 4,        /* x / (1 + exp(-x)) */
    FPE_TANH = 5,        /* (e^2x - 1) / (e^2x + 1): exp, two adds, divide, scale */
    FPE_QUICK_GELU = 5,  /* x * sigmoid(1.702 x) */
    FPE_RELU = 1,
    FPE_GATE = 1,        /* the product of a gated unit (GEGLU, SwiGLU) */
    FPE_MODULATE = 3,    /* x * (1 + scale) + shift (adaLN) */
    FPE_GATED_ADD = 2,   /* residual + gate * x */
    FPE_ADD = 1,         /* residual or position-embedding add */
    FPE_ROPE = 3,        /* rotary embedding: two products and a sum per element */
    FPE_SINUSOID = 4,    /* timestep embedding: product, sin or cos, shifts */
    FPE_SOFTMAX = 5      /* per score: scale, max, subtract-exp, sum, divide */
};

/* Bounds on what the builders read and are asked for. PLAN_DIM_MAX bounds
 * every integer of an architecture section (widths, heads, vocabularies,
 * tokens); PLAN_COUNT_MAX bounds the counts that the builders loop over
 * (layers per block, layers); the image may hold PLAN_PIXELS_MAX pixels,
 * PLAN_SIDE_MAX a side. With these, every product a builder forms without
 * a check (elements = pixels x channels x a small factor) fits in 64 bits. */
#define PLAN_DIM_MAX (INT64_C(1) << 20)
#define PLAN_COUNT_MAX 1024
#define PLAN_SIDE_MAX (INT64_C(1) << 20)
#define PLAN_PIXELS_MAX (INT64_C(1) << 32)

typedef struct builder {
    esl_plan_component *comp;
    size_t cap;
    int rc;                /* first failure, sticky */
    int shared;            /* layers appended now reuse earlier weights: no params */
    const char *cls;       /* class name for messages */
    const char *where;     /* component name for messages */
    json_t *cfg;           /* the architecture section */
    const esl_model *model;
    const esl_request *req;
} builder;

/* Append layers; on failure the builder's rc is set and later calls do nothing. */
void pb_linear(builder *b, const char *name, int64_t count, int64_t m, int64_t k, int64_t n, int bias);
void pb_conv(builder *b, const char *name, int64_t count, int64_t c_in, int64_t c_out, int64_t kernel,
             int64_t stride, int64_t h_out, int64_t w_out, int bias);
/* A causal 3-D convolution on a single frame: kt temporal taps over the
 * zero-padded past frames, all of which are multiplied. */
void pb_conv3d(builder *b, const char *name, int64_t count, int64_t c_in, int64_t c_out, int64_t kt,
               int64_t kernel, int64_t h_out, int64_t w_out);
/* A grouped 2-D convolution, stride 1 (depthwise when groups = c_in). */
void pb_conv_grouped(builder *b, const char *name, int64_t count, int64_t c_in, int64_t c_out,
                     int64_t kernel, int64_t groups, int64_t h_out, int64_t w_out, int bias);
/* ReLU linear attention over `len` tokens (Sana, DC-AE). */
void pb_linear_attention(builder *b, const char *name, int64_t count, int64_t heads, int64_t len,
                         int64_t head_dim);
void pb_attention(builder *b, const char *name, int64_t count, int64_t heads, int64_t q_len,
                  int64_t kv_len, int64_t head_dim);
void pb_elementwise(builder *b, esl_layer_kind kind, const char *name, int64_t count,
                    int64_t elements, int64_t flops_per_element, int64_t params);
/* A norm over `rows` vectors of width `width`; kind "layer"/"group" or RMS,
 * with or without elementwise affine weights. */
void pb_layernorm(builder *b, const char *name, int64_t count, int64_t rows, int64_t width, int affine);

/* The second half of a ResNet block at h x w: SiLU, a 3x3 conv to c_out, a
 * 1x1 shortcut when c_in != c_out, and the residual add (diffusers' ResnetBlock2D
 * and the blocks built like it). */
void pb_resnet_tail(builder *b, const char *name, int64_t c_in, int64_t c_out, int64_t h, int64_t w);

/* A CLIP encoder's `layers` transformer layers over t tokens of width d
 * (pre-norm attention with `heads` heads, an MLP of width ff with activation
 * act_fpe, two residual adds), as CLIPTextModel and CLIPVisionModel run them. */
void pb_clip_layers(builder *b, int64_t layers, int64_t t, int64_t d, int64_t heads, int64_t ff,
                    int64_t act_fpe);
void pb_rmsnorm(builder *b, const char *name, int64_t count, int64_t rows, int64_t width);
/* Parameters with no FLOPs (embedding tables): kind other, zero elements. */
void pb_table(builder *b, const char *name, int64_t params);

/* Format a layer name into out (truncated to `size`, as layer names are). */
void pb_name(char *out, size_t size, const char *fmt, ...) ESL_PRINTF(3, 4);

/* Config readers: fail (sticky) naming class and key; `def` < 0 means required. */
int64_t cfg_int(builder *b, const char *key, int64_t def);
int64_t cfg_int_in(builder *b, json_t *obj, const char *key, int64_t def);
/* A count the builder loops over: as cfg_int, and at most PLAN_COUNT_MAX. */
int64_t cfg_count(builder *b, const char *key, int64_t def);
int64_t cfg_count_in(builder *b, json_t *obj, const char *key, int64_t def);
/* The i-th count of a list field (an integer counts for every i). */
int64_t cfg_count_at(builder *b, const char *key, size_t i, int64_t def);
/* A string field, `def` when absent or null. */
const char *cfg_str(builder *b, const char *key, const char *def);
/* 1/0 for a boolean field, `def` when absent or null. */
int cfg_bool(builder *b, const char *key, int def);
/* The i-th integer of an array field; an integer field counts as [x, x, ...]. */
int64_t cfg_int_at(builder *b, const char *key, size_t i, int64_t def);
/* Length of an array field, 0 when absent. */
size_t cfg_len(builder *b, const char *key);
/* The i-th string of an array field, NULL when absent. */
const char *cfg_str_at(builder *b, const char *key, size_t i);
/* Fail with EINVAL naming class and component. */
void pb_fail(builder *b, int status, const char *fmt, ...) ESL_PRINTF(3, 4);

/* Latent grid of the request (height/width over the latent factor). */
void pb_latent(builder *b, int64_t *h, int64_t *w);
/* Image tokens of the latent grid cut into p x p patches (the token grid in
 * gh x gw); fails naming the size unless the patches tile the grid. */
int64_t pb_image_tokens(builder *b, int64_t p, int64_t *gh, int64_t *gw);
/* TimestepEmbedding(in, d) of one vector: the sinusoid of `in` channels, a
 * linear to d, SiLU, a linear d to d (both with biases). */
void pb_timestep_embedding(builder *b, const char *name, int64_t count, int64_t in, int64_t d);
/* Text tokens the denoiser attends to (request override, else the model's). */
int64_t pb_text_tokens(const builder *b);

/* Per-architecture builders (transformer.c, unet.c, text.c). */
void build_flux(builder *b);
void build_sd3(builder *b);
void build_qwen_image(builder *b);
void build_pixart(builder *b);
void build_dit(builder *b);
void build_unet(builder *b);
void build_vae_decoder(builder *b);
void build_qwen_vae_decoder(builder *b);
void build_sana(builder *b);
void build_dc_decoder(builder *b);
void build_gemma2(builder *b);
/* GLUMBConv (Sana's feed-forward, DC-AE's block MLP) at h x w. */
void glumbconv(builder *b, const char *name, int64_t count, int64_t c_in, int64_t c_out,
               int64_t hidden, int64_t h, int64_t w, int norm, int residual);
void build_clip_text(builder *b);
void build_t5_encoder(builder *b);
void build_qwen2_5_vl_text(builder *b);
/* Kandinsky 2.2 (kandinsky.c): the prior, the CLIP image encoder, the
 * added-KV decoder U-Net (UNet2DConditionModel configs for which
 * unet_is_added_kv is 1) and the MoVQ decoder. */
void build_prior(builder *b);
void build_clip_vision(builder *b);
int unet_is_added_kv(json_t *cfg);
void build_unet_added_kv(builder *b);
void build_movq_decoder(builder *b);
/* Kandinsky3UNet (kandinsky.c) */
void build_kandinsky3_unet(builder *b);
/* HunyuanDiT2DModel and BertModel (hunyuan.c) */
void build_hunyuan_dit(builder *b);
void build_bert(builder *b);
/* AuraFlowTransformer2DModel (auraflow.c) */
void build_auraflow(builder *b);
/* Lumina2Transformer2DModel (lumina.c) */
void build_lumina2(builder *b);
/* CogView4Transformer2DModel (cogview.c) */
void build_cogview4(builder *b);
/* GlmModel, CogView4's text encoder (text.c) */
void build_glm(builder *b);
/* StableCascadeUNet (Stage C and Stage B) and PaellaVQModel's decoder
 * (Stage A) (cascade.c) */
void build_cascade_unet(builder *b);
void build_paella_decoder(builder *b);

#endif
