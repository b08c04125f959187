/*
 * test_plan.c - the layer plan and the exact convention: parameter counts
 * against the published exact counts, per-forward counts against published
 * MAC counts (docs/flops.md), the catalogue and the diffusers folder agreeing,
 * the FLOPs of single layers, and the errors.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "esl/esl.h"

#define DIFFUSERS ESL_TEST_DATA "/diffusers/"

static esl_model *catalogue(const char *name)
{
    esl_model *m = NULL;
    if (esl_catalog_find(&m, name) != ESL_OK)
        fail_msg("%s: %s", name, esl_error_last());
    return m;
}

static esl_model *diffusers(const char *dir)
{
    esl_model *m = NULL;
    if (esl_model_from_diffusers(&m, dir, "fixture") != ESL_OK)
        fail_msg("%s: %s", dir, esl_error_last());
    return m;
}

static esl_plan *plan(const esl_model *m, int64_t h, int64_t w)
{
    esl_request r = {.height = h, .width = w, .steps = 1, .prompts = 1};
    esl_plan *p = NULL;
    if (esl_plan_build(&p, m, &r) != ESL_OK)
        fail_msg("%s: %s", m->name, esl_error_last());
    return p;
}

static const esl_plan_component *part(const esl_plan *p, const char *name)
{
    for (size_t i = 0; i < p->n_components; i++)
        if (strcmp(p->components[i].name, name) == 0)
            return &p->components[i];
    fail_msg("no component %s", name);
    return NULL;
}

static const esl_layer *layer(const esl_plan_component *c, const char *name)
{
    for (size_t i = 0; i < c->n_layers; i++)
        if (strcmp(c->layers[i].name, name) == 0)
            return &c->layers[i];
    fail_msg("no layer %s", name);
    return NULL;
}

/* The plan of one component alone. */
static esl_plan *plan_of(const esl_model *m, const char *component, int64_t side)
{
    esl_model one = *m;
    for (size_t i = 0; i < m->n_components; i++)
        if (strcmp(m->components[i].name, component) == 0)
            one.components = &m->components[i];
    one.n_components = 1;
    return plan(&one, side, side);
}

/* The published exact parameter counts (docs/flops.md cites each). */
static void test_published_params(void **state)
{
    (void)state;
    static const struct {
        const char *model, *component;
        int from_diffusers;
        int64_t params;
    } cases[] = {
        {"sd2", "unet", 0, INT64_C(865910724)},
        {DIFFUSERS "sd2", "unet", 1, INT64_C(865910724)},
        {DIFFUSERS "sd15", "unet", 1, INT64_C(859520964)},
        {DIFFUSERS "sdxl", "unet", 1, INT64_C(2567463684)},
        {"flux-dev", "transformer", 0, INT64_C(11901408320)},
        {DIFFUSERS "flux-dev", "transformer", 1, INT64_C(11901408320)},
        {"qwen-image", "transformer", 0, INT64_C(20430401088)},
        {DIFFUSERS "sd15", "text_encoder", 1, INT64_C(123060480)},  /* CLIP ViT-L/14 */
        {"flux-dev", "t5-xxl", 0, INT64_C(4762310656)},
        {DIFFUSERS "sdxl", "text_encoder_2", 1, INT64_C(694659840)}, /* 817,720,320 - CLIP-L */
        {DIFFUSERS "pixart-alpha", "text_encoder", 1, INT64_C(4762310656)},
        {DIFFUSERS "sana", "text_encoder", 1, INT64_C(2614341888)},  /* Gemma-2-2B */
        {"qwen-image", "qwen2.5-vl", 0, INT64_C(7615616512)},        /* as Qwen2.5-7B */
        /* SD3-Medium, every component (NVIDIA AITune's inspect guide) */
        {DIFFUSERS "sd3-medium", "transformer", 1, INT64_C(2028328000)},
        {DIFFUSERS "sd3-medium", "text_encoder", 1, INT64_C(123650304)},
        {DIFFUSERS "sd3-medium", "text_encoder_2", 1, INT64_C(694659840)},
        {DIFFUSERS "sd3-medium", "text_encoder_3", 1, INT64_C(4762310656)},
        {DIFFUSERS "sd3-medium", "vae-decoder", 1, INT64_C(49545475)},
        /* PixArt-Sigma: PixArt-alpha without the micro-condition embedders */
        {DIFFUSERS "pixart-sigma", "text_encoder", 1, INT64_C(4762310656)},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        esl_model *m = cases[i].from_diffusers ? diffusers(cases[i].model) : catalogue(cases[i].model);
        esl_plan *p = plan_of(m, cases[i].component, 512);
        if (p->components[0].params != cases[i].params)
            fail_msg("%s %s: %lld parameters, published %lld", cases[i].model, cases[i].component,
                     (long long)p->components[0].params, (long long)cases[i].params);
        esl_plan_free(p);
        esl_model_free(m);
    }
    /* The SD VAE decoder without post_quant_conv: 49,490,179 (BK-SDM's count). */
    esl_model *m = diffusers(DIFFUSERS "sd15");
    esl_plan *p = plan(m, 512, 512);
    const esl_plan_component *vae = part(p, "vae-decoder");
    assert_int_equal(vae->params - layer(vae, "post_quant_conv")->params, 49490179);
    esl_plan_free(p);
    esl_model_free(m);
}

/* SD3.5 Medium's transformer: its checkpoint holds 2,469,663,936 tensor
 * elements (a derived model's checkpoint audit, docs/flops.md), the
 * parameters plus the 384 x 384 x 1536 position table PatchEmbed keeps as a
 * buffer; the 13 dual-attention blocks add a self-attention each. */
static void test_sd35_medium(void **state)
{
    (void)state;
    esl_model *med = diffusers(DIFFUSERS "sd35-medium"), *sd3 = diffusers(DIFFUSERS "sd3-medium");
    esl_plan *pm = plan_of(med, "transformer", 1024), *p3 = plan_of(sd3, "transformer", 1024);
    const esl_plan_component *m = &pm->components[0], *t = &p3->components[0];
    assert_int_equal(m->params + INT64_C(384) * 384 * 1536, INT64_C(2469663936));
    const esl_layer *attn2 = layer(m, "dual.attn2.attention");
    assert_int_equal(attn2->count, 13);
    assert_int_equal(attn2->q_len, 4096);
    assert_int_equal(attn2->kv_len, 4096);
    /* Same widths and depth as SD3-Medium: the difference is the dual
     * blocks' attention (13 x 24 heads over 4096 x 4096 scores of width 64),
     * the q/k RMS norms and their linear work. */
    int64_t extra = INT64_C(13) * 24 * 4096 * 4096 * (4 * 64 + 5);
    assert_int_equal(m->kind_flops[ESL_LAYER_ATTENTION] - t->kind_flops[ESL_LAYER_ATTENTION], extra);
    esl_plan_free(pm);
    esl_plan_free(p3);
    esl_model_free(med);
    esl_model_free(sd3);
}

/* SANA 1.5: Sana's blocks with q and k RMS-normed across heads in both
 * attentions; the 4.8B model is the same block 60 times. */
static void test_sana15(void **state)
{
    (void)state;
    esl_model *s10 = diffusers(DIFFUSERS "sana"), *s15 = diffusers(DIFFUSERS "sana15-1.6b");
    esl_model *s48 = diffusers(DIFFUSERS "sana15-4.8b");
    esl_plan *p10 = plan_of(s10, "transformer", 1024), *p15 = plan_of(s15, "transformer", 1024);
    esl_plan *p48 = plan_of(s48, "transformer", 1024);
    /* four norms of width 2240 (70 x 32 and 20 x 112) per block, 20 blocks */
    assert_int_equal(p15->components[0].params - p10->components[0].params, INT64_C(20) * 4 * 2240);
    /* RMS norms, 4 FLOPs per element, on q and k of the self-attention (1024
     * image tokens each), q of the cross-attention (1024) and its k (300) */
    int64_t norm = INT64_C(20) * 4 * 2240 * (1024 + 1024 + 1024 + 300);
    assert_int_equal(p15->components[0].kind_flops[ESL_LAYER_NORM] - p10->components[0].kind_flops[ESL_LAYER_NORM],
                     norm);
    /* 40 more blocks: every per-block layer three times as many */
    const esl_layer *a = layer(&p48->components[0], "block.attn2.attention");
    assert_int_equal(a->count, 60);
    int64_t per_block = 0;
    for (size_t i = 0; i < p15->components[0].n_layers; i++) {
        const esl_layer *l = &p15->components[0].layers[i];
        if (strncmp(l->name, "block.", 6) == 0) {
            assert_int_equal(l->count, 20);
            per_block += l->params;
        }
    }
    assert_int_equal(p48->components[0].params - p15->components[0].params, 40 * per_block);
    esl_plan_free(p10);
    esl_plan_free(p15);
    esl_plan_free(p48);
    esl_model_free(s10);
    esl_model_free(s15);
    esl_model_free(s48);
}

/* HunyuanDiT v1.2: 21 plain blocks and 19 joining a long skip, cross-
 * attention to 77 BERT and 256 projected mT5 tokens; the paper's "1.5B". */
static void test_hunyuandit(void **state)
{
    (void)state;
    esl_model *m = diffusers(DIFFUSERS "hunyuandit-v1.2");
    esl_plan *p = plan(m, 1024, 1024);
    const esl_plan_component *t = part(p, "transformer");
    assert_int_equal(layer(t, "block.attn1.attention")->count, 21);
    assert_int_equal(layer(t, "block_skip.skip_linear")->count, 19);
    assert_int_equal(layer(t, "block.attn2.attention")->kv_len, 77 + 256);
    assert_int_equal(layer(t, "block.attn1.attention")->q_len, 64 * 64);
    assert_int_equal(layer(t, "block.ff.proj")->n, 6144); /* int(1408 x 4.3637) */
    assert_true(t->params >= INT64_C(1450000000) && t->params < INT64_C(1550000000));
    assert_int_equal(layer(part(p, "text_encoder_2"), "layer.attn.attention")->q_len, 256);
    assert_int_equal(layer(part(p, "text_encoder"), "layer.attn.attention")->q_len, 77);
    esl_plan_free(p);
    esl_model_free(m);
}

/* SSD-1B: the SDXL U-Net with transformer layers removed per attention
 * (down [2, 2] and [4, 4], up [4, 4, 10] and [2, 1, 1], the layer counts
 * ComfyUI's model detection loads SSD-1B checkpoints with) and a mid block
 * of one ResNet. */
static void test_ssd1b(void **state)
{
    (void)state;
    esl_model *ssd = diffusers(DIFFUSERS "ssd-1b"), *xl = diffusers(DIFFUSERS "sdxl");
    esl_plan *ps = plan_of(ssd, "unet", 1024), *px = plan_of(xl, "unet", 1024);
    const esl_plan_component *u = &ps->components[0];
    assert_int_equal(layer(u, "down1.attn1.attn1.q")->count, 2);
    assert_int_equal(layer(u, "down2.attn0.attn1.q")->count, 4);
    assert_int_equal(layer(u, "up0.attn2.attn1.q")->count, 10);
    assert_int_equal(layer(u, "up1.attn0.attn1.q")->count, 2);
    assert_int_equal(layer(u, "up1.attn2.attn1.q")->count, 1);
    for (size_t i = 0; i < u->n_layers; i++)
        assert_null(strstr(u->layers[i].name, "mid.attn"));
    /* SDXL minus 34 blocks at 1280 channels (34,755,840 each, cross width
     * 2048), 2 at 640 (10,005,120 each), the mid block's spatial-transformer
     * norm and projections (3,281,920) and its second ResNet (31,138,560) */
    assert_int_equal(px->components[0].params - u->params,
                     INT64_C(34) * 34755840 + INT64_C(2) * 10005120 + 3281920 + 31138560);
    esl_plan_free(ps);
    esl_plan_free(px);
    esl_model_free(ssd);
    esl_model_free(xl);
}

/* The parameters of the layers whose names start with `prefix`, every
 * instance counted. */
static int64_t params_of(const esl_plan_component *c, const char *prefix)
{
    int64_t sum = 0;
    for (size_t i = 0; i < c->n_layers; i++)
        if (strncmp(c->layers[i].name, prefix, strlen(prefix)) == 0)
            sum += c->layers[i].params * c->layers[i].count;
    return sum;
}

/* |a - b| / b below `tol`. */
static void assert_near(double a, double b, double tol, const char *what)
{
    if (fabs(a - b) / b > tol)
        fail_msg("%s: %.0f against %.0f, %.3f%% off (tolerance %.3f%%)", what, a, b,
                 100.0 * fabs(a - b) / b, 100.0 * tol);
}

/*
 * AuraFlow v0.3: the module shapes of AuraFlowTransformer2DModel written
 * out (d = 3072, SwiGLU width 8192, no biases in the blocks) against the
 * plan, and the plan against the published "6.8B"; UMT5 has a position
 * bias per layer; the text joins 8 register tokens.
 */
static void test_auraflow(void **state)
{
    (void)state;
    esl_model *m = diffusers(DIFFUSERS "auraflow-v0.3");
    esl_plan *p = plan(m, 1024, 1024);
    const esl_plan_component *t = part(p, "transformer");
    const int64_t d = 3072, ff = 8192;
    int64_t joint = 2 * 6 * d * d + 8 * d * d + 2 * 3 * d * ff;
    int64_t single = 6 * d * d + 4 * d * d + 3 * d * ff;
    int64_t rest = (16 * d + d) + 9216 * d /* patch linear, position table */ + 2048 * d /* context */ +
                   (256 * d + d + d * d + d) /* time MLP */ + 8 * d /* registers */ +
                   2 * d * d /* norm_out */ + d * 16 /* proj_out */;
    assert_int_equal(t->params, 4 * joint + 32 * single + rest);
    assert_int_equal(t->params, INT64_C(6858605568));
    assert_near((double)t->params, 6.8e9, 0.01, "AuraFlow transformer against \"6.8B\"");
    assert_int_equal(layer(t, "joint.attention")->q_len, 64 * 64 + 256 + 8);
    assert_int_equal(layer(t, "single.attention")->count, 32);
    assert_int_equal(layer(t, "single.ff.out")->k, ff);
    /* Pile-T5-XL's encoder (UMT5): 24 layers, each with its own 32 x 32 bias */
    const esl_plan_component *te = part(p, "text_encoder");
    const esl_layer *bias = layer(te, "layer.attn.relative_attention_bias");
    assert_int_equal(bias->count, 24);
    assert_int_equal(bias->params, 32 * 32);
    assert_int_equal(te->params, INT64_C(32128) * 2048 + 24 * (4 * 2048 * 2048 + 3 * 2048 * 5120 +
                                                           2 * 2048 + 1024) + 2048);
    assert_int_equal(layer(te, "layer.attn.attention")->q_len, 256);
    esl_plan_free(p);
    /* a grid larger than the 96 x 96 position table is refused */
    esl_request r = {.height = 2048, .width = 2048, .steps = 1, .prompts = 1};
    assert_int_equal(esl_plan_build(&p, m, &r), ESL_EINVAL);
    assert_non_null(strstr(esl_error_last(), "pos_embed_max_size 9216"));
    esl_model_free(m);
}

/*
 * Lumina-Image 2.0: 26 main and 2 + 2 refiner blocks of width 2304 (24
 * query heads, 8 key-value heads of 96), SwiGLU width 6144, a conditioning
 * vector of 1024, against the "2B" of its model card; the context refiner
 * runs over the text alone, the noise refiner over the image alone.
 */
static void test_lumina2(void **state)
{
    (void)state;
    esl_model *m = diffusers(DIFFUSERS "lumina-image-2.0");
    esl_plan *p = plan(m, 1024, 1024);
    const esl_plan_component *t = part(p, "transformer");
    const int64_t d = 2304, kv = 8 * 96, ff = 6144;
    int64_t attn = 2 * d * d + 2 * d * kv + 2 * 96, mlp = 3 * d * ff, norms = 3 * d;
    int64_t modulated = attn + mlp + norms + (1024 * 4 * d + 4 * d + d);
    int64_t plain = attn + mlp + norms + d;
    int64_t rest = (64 * d + d) + (256 * 1024 + 1024 + 1024 * 1024 + 1024) + (d + d * d + d) +
                   (1024 * d + d) + (d * 64 + 64);
    assert_int_equal(t->params, 28 * modulated + 2 * plain + rest);
    assert_int_equal(t->params, INT64_C(1972759232));
    assert_near((double)t->params, 2.0e9, 0.015, "Lumina-Image 2.0 transformer against \"2B\"");
    assert_int_equal(layer(t, "layer.attn.attention")->q_len, 64 * 64 + 256);
    assert_int_equal(layer(t, "layer.attn.attention")->count, 26);
    assert_int_equal(layer(t, "context_refiner.attn.attention")->q_len, 256);
    assert_int_equal(layer(t, "noise_refiner.attn.attention")->q_len, 64 * 64);
    assert_int_equal(layer(t, "layer.attn.to_k")->n, kv);
    /* the text encoder is Gemma-2-2B (checked above) over the padded 256 */
    assert_int_equal(part(p, "text_encoder")->params, INT64_C(2614341888));
    assert_int_equal(layer(part(p, "text_encoder"), "layer.attn.attention")->q_len, 256);
    esl_plan_free(p);
    esl_model_free(m);
}

/*
 * CogView4-6B: 28 blocks of width 4096 sharing one set of weights between
 * the streams, an adaLN of 12 chunks from the 512-wide conditioning; GLM-4's
 * model without its vocabulary head, which with the head (151,552 x 4096)
 * is GLM-4-9B's published "9.4B".
 */
static void test_cogview4(void **state)
{
    (void)state;
    esl_model *m = diffusers(DIFFUSERS "cogview4-6b");
    esl_plan *p = plan(m, 1024, 1024);
    const esl_plan_component *t = part(p, "transformer");
    const int64_t d = 4096;
    int64_t block = (512 * 12 * d + 12 * d) + 4 * (d * d + d) + (d * 4 * d + 4 * d) + (4 * d * d + d);
    int64_t rest = (64 * d + d) + (d * d + d) + (d * 512 + 512 + 512 * 512 + 512) +
                   (1536 * 512 + 512 + 512 * 512 + 512) + (512 * 2 * d + 2 * d) + (d * 64 + 64);
    assert_int_equal(t->params, 28 * block + rest);
    assert_int_equal(t->params, INT64_C(6369118272));
    assert_int_equal(layer(t, "block.attn.attention")->q_len, 64 * 64 + 16);
    /* the rotary embedding touches the image tokens only */
    assert_int_equal(layer(t, "block.attn.rope")->elements, 2 * 64 * 64 * d);
    const esl_plan_component *te = part(p, "text_encoder");
    assert_int_equal(te->params, INT64_C(8779194368));
    assert_near((double)(te->params + INT64_C(151552) * 4096), 9.4e9, 0.001, "GLM-4-9B against \"9.4B\"");
    assert_int_equal(layer(te, "layer.attn.k")->n, 2 * 128);
    assert_int_equal(layer(te, "layer.attn.attention")->q_len, 16);
    esl_plan_free(p);
    esl_model_free(m);
}

/*
 * Kandinsky 2.2's decoder U-Net against the model card's "1.22B": the plan
 * follows the diffusers modules the checkpoint loads into (1,253,091,080);
 * the card's figure is the network without its two projections of the
 * image embedding (32 tokens of 768 for the attention, one vector for the
 * time embedding), 33,454,080 parameters that are not the U-Net proper.
 */
static void test_kandinsky22_unet(void **state)
{
    (void)state;
    esl_model *m = diffusers(DIFFUSERS "kandinsky-2-2");
    esl_plan *p = plan_of(m, "unet", 512);
    const esl_plan_component *u = &p->components[0];
    int64_t hid = params_of(u, "encoder_hid_proj."), add = params_of(u, "add_embedding.image_");
    assert_int_equal(hid, 1280 * 32 * 768 + 32 * 768 + 2 * 768);
    assert_int_equal(add, 1280 * 1536 + 1536 + 2 * 1536);
    assert_int_equal(u->params, INT64_C(1253091080));
    assert_int_equal(u->params - hid - add, INT64_C(1219637000));
    assert_near((double)(u->params - hid - add), 1.22e9, 0.0005, "Kandinsky 2.2 U-Net body against \"1.22B\"");
    esl_plan_free(p);
    esl_model_free(m);
}

/* SSD-1B's layer counts are the config's: one fewer layer in the config's
 * reverse_transformer_layers_per_block gives one block fewer. */
static void test_ssd1b_from_config(void **state)
{
    (void)state;
    char *text = NULL;
    assert_int_equal(esl_diffusers_describe(&text, DIFFUSERS "ssd-1b", "ssd"), ESL_OK);
    char *at = strstr(text, "\"reverse_transformer_layers_per_block\"");
    assert_non_null(at);
    at = strstr(at, "10");
    assert_non_null(at);
    at[0] = ' ', at[1] = '9'; /* up0's third attention: 10 layers -> 9 */
    esl_model *fewer = NULL, *ssd = diffusers(DIFFUSERS "ssd-1b");
    assert_int_equal(esl_model_parse(&fewer, text, strlen(text), "ssd-1b-fewer"), ESL_OK);
    esl_plan *pf = plan_of(fewer, "unet", 1024), *ps = plan_of(ssd, "unet", 1024);
    assert_int_equal(layer(&pf->components[0], "up0.attn2.attn1.q")->count, 9);
    assert_int_equal(ps->components[0].params - pf->components[0].params, 34755840);
    esl_plan_free(pf);
    esl_plan_free(ps);
    esl_model_free(fewer);
    esl_model_free(ssd);
    free(text);
}

/*
 * Stable Cascade as one pipeline: Stage C (the prior) on a 24 x 24 grid at
 * 1024 px, 60 guided steps (120 passes) per image in the text stage; Stage
 * B (the decoder) the denoiser; Stage A (the Paella decoder). Published:
 * Stage C "3.6B", Stage B "1.5B", Stage A "20M" (encoder and decoder).
 */
static void test_stable_cascade(void **state)
{
    (void)state;
    esl_model *m = diffusers(DIFFUSERS "stable-cascade");
    assert_int_equal(m->latent_factor, 4);
    esl_plan *p = plan(m, 1024, 1024);
    const esl_plan_component *c = part(p, "prior_prior"), *b = part(p, "decoder"), *a = part(p, "vqgan");
    assert_int_equal(c->stage, ESL_STAGE_TEXT);
    assert_int_equal(b->stage, ESL_STAGE_DENOISE);
    assert_int_equal(a->stage, ESL_STAGE_DECODE);
    assert_int_equal(c->params, INT64_C(3589103632));
    assert_near((double)c->params, 3.6e9, 0.005, "Stage C against \"3.6B\"");
    assert_int_equal(b->params, INT64_C(1562941136));
    /* Stage B's 1280-channel levels: 68 layers of a residual, a timestep
     * and an attention block (8c^2 + 23c, 2 x (64 x 2c + 2c), 4c^2 + 1285c) */
    const int64_t c4 = 1280;
    assert_int_equal(params_of(b, "down2.res.") + params_of(b, "down3.res.") + params_of(b, "up2.res.") +
                         params_of(b, "up3.res.") + params_of(b, "up2.res_skip.") +
                         params_of(b, "down2.time.") + params_of(b, "down3.time.") + params_of(b, "up2.time.") +
                         params_of(b, "up3.time.") + params_of(b, "down2.attn.") + params_of(b, "down3.attn.") +
                         params_of(b, "up2.attn.") + params_of(b, "up3.attn."),
                     68 * (12 * c4 * c4 + (23 + 260 + 1285) * c4) + c4 * 4 * c4 /* up2's skip */);
    /* the prior: 24 x 24 positions and 77 + 4 + 4 CLIP tokens as keys, one
     * pass holding the weights and 119 more */
    const esl_layer *first = NULL, *rest = NULL;
    for (size_t i = 0; i < c->n_layers; i++)
        if (strcmp(c->layers[i].name, "down1.attn.attention") == 0)
            *(first == NULL ? &first : &rest) = &c->layers[i];
    assert_non_null(first);
    assert_non_null(rest);
    assert_int_equal(first->q_len, 24 * 24);
    assert_int_equal(first->kv_len, 24 * 24 + 85);
    assert_int_equal(first->count, 24);
    assert_int_equal(rest->count, 119 * 24);
    /* Stage B's deepest level runs three times (one set of weights) on 16 x 16 */
    const esl_layer *deep = layer(b, "up3.repeat.attn.attention");
    assert_int_equal(deep->count, 2 * 6);
    assert_int_equal(deep->q_len, 16 * 16);
    assert_int_equal(layer(b, "up3.repeat.res.depthwise")->params, 0);
    /* Stage A: the decoder plus its encoder (written out) and the 8192 x 4
     * codebook against "20M" */
    int64_t mix192 = 192 * 9 + 192 + 192 * 768 + 768 + 768 * 192 + 192 + 6;
    int64_t mix384 = 384 * 9 + 384 + 384 * 1536 + 1536 + 1536 * 384 + 384 + 6;
    int64_t encoder = (12 * 192 + 192) + mix192 + (192 * 384 * 16 + 384) + mix384 + (384 * 4 + 4) + 2 * 4;
    assert_int_equal(a->params, 4 * 384 + 384 + 13 * mix384 + (384 * 192 * 16 + 192) + mix192 + 192 * 12 + 12);
    assert_near((double)(a->params + encoder + 8192 * 4), 20e6, 0.025, "Stage A against \"20M\"");
    esl_plan_free(p);
    esl_model_free(m);
}

/* Kandinsky 2.2 and 3 as whole pipelines (docs/flops.md, "Kandinsky"). */
static void test_kandinsky(void **state)
{
    (void)state;
    esl_model *k2 = diffusers(DIFFUSERS "kandinsky-2-2");
    esl_plan *p = plan(k2, 512, 512);
    /* the prior's text encoder is SDXL's second one; the image encoder is
     * OpenCLIP's ViT-bigG/14 tower, 1844.91 M parameters in OpenCLIP's
     * model profile (rounded to 10 k) */
    assert_int_equal(part(p, "prior_text_encoder")->params, INT64_C(694659840));
    int64_t vision = part(p, "prior_image_encoder")->params;
    assert_true(vision >= INT64_C(1844905000) && vision < INT64_C(1844915000));
    /* the prior: 25 guided steps, 50 passes of 20 blocks, per image; its
     * parameters once */
    const esl_plan_component *prior = part(p, "prior_prior");
    int64_t first = 0, rest = 0, once = 0;
    for (size_t i = 0; i < prior->n_layers; i++) {
        const esl_layer *l = &prior->layers[i];
        if (strcmp(l->name, "block.attn1.attention") == 0) {
            if (first == 0)
                first = l->flops, assert_int_equal(l->count, 20);
            else
                rest = l->flops, assert_int_equal(l->count, 49 * 20);
        }
        if (strcmp(l->name, "clip_mean_std") == 0 || strcmp(l->name, "prd_embedding") == 0)
            once += l->flops;
    }
    assert_int_equal(rest, 49 * first);
    assert_int_equal((prior->flops - once) % 50, 0);
    assert_true(prior->params > INT64_C(1000000000) && prior->params < INT64_C(1050000000)); /* "1B" */
    /* the decoder U-Net attends to 32 image tokens beside its own positions */
    const esl_layer *a = layer(part(p, "unet"), "mid.attn.attention");
    assert_int_equal(a->q_len, 8 * 8);
    assert_int_equal(a->kv_len, 8 * 8 + 32);
    assert_int_equal(part(p, "unet")->stage, ESL_STAGE_DENOISE);
    assert_int_equal(part(p, "movq")->stage, ESL_STAGE_DECODE);
    esl_plan_free(p);
    esl_model_free(k2);

    esl_model *k3 = diffusers(DIFFUSERS "kandinsky-3");
    p = plan(k3, 1024, 1024);
    /* the model card's "3.0B" U-Net */
    int64_t unet = part(p, "unet")->params;
    assert_true(unet >= INT64_C(2950000000) && unet < INT64_C(3050000000) + INT64_C(50000000));
    /* FLAN-UL2's encoder reads 128 tokens, the U-Net sees the cut 14 */
    assert_int_equal(layer(part(p, "text_encoder"), "layer.attn.attention")->q_len, 128);
    assert_int_equal(layer(part(p, "unet"), "down1.cross_attn0.attention")->kv_len, 14);
    assert_int_equal(layer(part(p, "unet"), "down1.cross_attn0.attention")->q_len, 64 * 64);
    /* the deepest level runs at 1/8 of the latent grid */
    assert_int_equal(layer(part(p, "unet"), "up0.self_attn.attention")->q_len, 16 * 16);
    esl_plan_free(p);
    esl_model_free(k3);
}

/* A folder whose text encoders cannot be counted still gives a model,
 * naming each left-out component and why; a denoiser cannot be left out. */
static void test_partial(void **state)
{
    (void)state;
    esl_model *m = NULL;
    char *uncounted = NULL;
    assert_int_equal(esl_model_from_diffusers_partial(&m, &uncounted, ESL_TEST_DATA "/bad/diffusers-partial",
                                                      "p"), ESL_OK);
    assert_int_equal(m->n_components, 2);
    assert_non_null(uncounted);
    assert_non_null(strstr(uncounted, "\"component\":\"text_encoder_2\""));
    assert_non_null(strstr(uncounted, "unsupported class 'ChatGLMModel'"));
    assert_non_null(strstr(uncounted, "text_encoder/config.json"));
    assert_non_null(strstr(uncounted, "'hidden_size'"));
    free(uncounted);
    esl_model_free(m);
    assert_int_equal(esl_model_from_diffusers_partial(&m, &uncounted, DIFFUSERS "sd15", "s"), ESL_OK);
    assert_null(uncounted);
    assert_int_equal(m->n_components, 3);
    esl_model_free(m);
    assert_int_equal(esl_model_from_diffusers_partial(&m, &uncounted,
                                                      ESL_TEST_DATA "/bad/diffusers-unknown-denoiser", "d"),
                     ESL_EUNSUPPORTED);
    assert_non_null(strstr(esl_error_last(), "'UNet3DConditionModel'"));
    assert_null(m);
    assert_null(uncounted);
    /* the strict reader still refuses the whole folder */
    assert_int_equal(esl_model_from_diffusers(&m, ESL_TEST_DATA "/bad/diffusers-partial", "p"),
                     ESL_EUNSUPPORTED);
}

/* The same network both ways gives the same exact count. */
static void test_catalogue_equals_diffusers(void **state)
{
    (void)state;
    static const char *const names[][2] = {
        {"flux-dev", "flux-dev"}, {"sd2", "sd2"}, {"sd35-large", "sd35-large"},
        {"qwen-image", "qwen-image"}, {"auraflow", "auraflow-v0.3"},
        {"lumina-image-2", "lumina-image-2.0"}, {"cogview4-6b", "cogview4-6b"}};
    static const int64_t sizes[][2] = {{1024, 1024}, {512, 768}, {256, 256}};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        char dir[512];
        snprintf(dir, sizeof dir, DIFFUSERS "%s", names[k][1]);
        esl_model *a = catalogue(names[k][0]), *b = diffusers(dir);
        for (size_t i = 0; i < 3; i++) {
            esl_request r = {.height = sizes[i][0], .width = sizes[i][1], .steps = 28, .prompts = 1,
                             .cfg = 1};
            esl_flops fa, fb;
            assert_int_equal(esl_flops_count(&fa, a, &r, ESL_CONVENTION_EXACT), ESL_OK);
            assert_int_equal(esl_flops_count(&fb, b, &r, ESL_CONVENTION_EXACT), ESL_OK);
            assert_int_equal(fa.image_flops, fb.image_flops);
            assert_int_equal(fa.text_flops, fb.text_flops);
            assert_true(fa.image_flops > 0);
        }
        esl_model_free(a);
        esl_model_free(b);
    }
}

static double products(const esl_plan_component *c, int with_attention)
{
    double f = (double)c->kind_flops[ESL_LAYER_LINEAR] + (double)c->kind_flops[ESL_LAYER_CONV];
    if (with_attention) /* QK^T and AV only, not the softmax */
        for (size_t i = 0; i < c->n_layers; i++)
            if (c->layers[i].kind == ESL_LAYER_ATTENTION)
                f += 4.0 * (double)c->layers[i].count * (double)c->layers[i].heads *
                     (double)c->layers[i].q_len * (double)c->layers[i].kv_len *
                     (double)c->layers[i].head_dim;
    return f;
}

/*
 * Published per-forward counts, converted to FLOPs (docs/flops.md):
 * DiT-XL/2 at 256x256: 118.6 "Gflops" that are MACs, attention included
 * (Peebles & Xie 2023, Table 4); SD v1.4 U-Net, text encoder and decoder at
 * 512x512: thop MACs of nn.Module layers, no attention products (BK-SDM).
 */
static void test_published_macs(void **state)
{
    (void)state;
    esl_model *dit = diffusers(DIFFUSERS "dit-xl-2-256");
    esl_plan *p = plan_of(dit, "transformer", 256);
    double macs = products(&p->components[0], 1) / 2.0;
    assert_true(fabs(macs / 118.6e9 - 1.0) < 0.005);
    esl_plan_free(p);
    esl_model_free(dit);

    esl_model *sd = diffusers(DIFFUSERS "sd15");
    p = plan(sd, 512, 512);
    assert_true(fabs(products(part(p, "unet"), 0) / 2.0 / 338749194240.0 - 1.0) < 0.001);
    assert_true(fabs(products(part(p, "text_encoder"), 0) / 2.0 / 6545882112.0 - 1.0) < 0.001);
    assert_true(fabs(products(part(p, "vae-decoder"), 0) / 2.0 / 1240079532032.0 - 1.0) < 0.001);
    esl_plan_free(p);
    esl_model_free(sd);
}

/* Single layers hold the FLOPs of the stated conventions. */
static void test_layer_flops(void **state)
{
    (void)state;
    esl_model *m = catalogue("flux-dev");
    esl_plan *p = plan_of(m, "transformer", 1024);
    const esl_plan_component *c = &p->components[0];
    const esl_layer *x = layer(c, "x_embedder");
    /* 1024x1024: a 128x128 latent packed 2x2, 4096 tokens of 64 channels. */
    assert_int_equal(x->m, 4096);
    assert_int_equal(x->k, 64);
    assert_int_equal(x->n, 3072);
    assert_int_equal(x->flops, 2 * INT64_C(4096) * 64 * 3072 + INT64_C(4096) * 3072);
    assert_int_equal(x->params, 64 * 3072 + 3072);
    const esl_layer *a = layer(c, "double.attention");
    assert_int_equal(a->count, 19);
    assert_int_equal(a->q_len, 4096 + 512);
    assert_int_equal(a->flops, INT64_C(19) * 24 * 4608 * 4608 * (4 * 128 + 5));
    int64_t sum = 0, kinds = 0;
    for (size_t i = 0; i < c->n_layers; i++)
        sum += c->layers[i].flops;
    for (int k = 0; k < ESL_LAYER_KIND_COUNT; k++)
        kinds += c->kind_flops[k];
    assert_int_equal(sum, c->flops);
    assert_int_equal(kinds, c->flops);
    esl_plan_free(p);

    /* The exact count exceeds the paper's, which skips one attention product. */
    esl_request r = {.height = 1024, .width = 1024, .steps = 1, .prompts = 1};
    esl_flops paper, exact;
    assert_int_equal(esl_flops_count(&paper, m, &r, ESL_CONVENTION_PAPER), ESL_OK);
    assert_int_equal(esl_flops_count(&exact, m, &r, ESL_CONVENTION_EXACT), ESL_OK);
    assert_true(exact.denoise_flops_per_step > paper.denoise_flops_per_step);
    esl_model_free(m);

    /* U-Net: a conv layer, and SD2's attention_head_dim read as head counts. */
    m = catalogue("sd2");
    p = plan_of(m, "unet", 768);
    c = &p->components[0];
    const esl_layer *conv = layer(c, "conv_in");
    assert_int_equal(conv->h_out, 96);
    assert_int_equal(conv->flops, 2 * INT64_C(4) * 9 * 320 * 96 * 96 + INT64_C(320) * 96 * 96);
    assert_int_equal(layer(c, "down0.attn0.attn1.attention")->heads, 5);
    assert_int_equal(layer(c, "down0.attn0.attn1.attention")->head_dim, 64);
    assert_int_equal(layer(c, "down0.attn0.attn2.attention")->kv_len, 77);
    esl_plan_free(p);
    esl_model_free(m);
}

static void test_errors(void **state)
{
    (void)state;
    esl_model *m = NULL;
    esl_plan *p = NULL;
    esl_request r = {.height = 1024, .width = 1024, .steps = 1, .prompts = 1};
    assert_int_equal(esl_model_from_diffusers(&m, ESL_TEST_DATA "/bad/diffusers-unknown-class", "u"),
                     ESL_EUNSUPPORTED);
    assert_non_null(strstr(esl_error_last(), "unsupported class 'ChatGLMModel'"));
    assert_int_equal(esl_model_from_diffusers(&m, ESL_TEST_DATA "/bad/diffusers-pipeline", "k"),
                     ESL_EUNSUPPORTED);
    assert_non_null(strstr(esl_error_last(), "'KandinskyV22Pipeline'"));
    assert_int_equal(esl_model_from_diffusers(&m, DIFFUSERS "nowhere", "n"), ESL_ENOTFOUND);
    assert_null(m);

    m = catalogue("sd2");
    free(m->components[0].arch);
    m->components[0].arch = NULL;
    assert_int_equal(esl_plan_build(&p, m, &r), ESL_EUNSUPPORTED);
    assert_non_null(strstr(esl_error_last(), "has no architecture section"));
    assert_null(p);
    esl_model_free(m);

    /* A FLUX size whose latent does not pack 2x2. */
    m = catalogue("flux-dev");
    r.height = 1032;
    assert_int_equal(esl_plan_build(&p, m, &r), ESL_EINVAL);
    esl_model_free(m);
    esl_plan_free(NULL);

    /* The architecture section's own shape is checked when a description is read. */
    static const struct {
        const char *arch, *detail;
    } bad[] = {
        {"3", "$.components[0].arch: expected an object, got an integer"},
        {"{\"in_channels\": 4}", "$.components[0].arch: missing key 'class'"},
        {"{\"class\": 5}", "$.components[0].arch.class: expected a string, got an integer"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char doc[512];
        snprintf(doc, sizeof doc,
                 "{\"format\": \"esl-model/1\", \"name\": \"x\", \"latent\": {\"factor\": 8, "
                 "\"channels\": 4}, \"components\": [{\"name\": \"d\", \"stage\": \"denoise\", "
                 "\"arch\": %s}]}", bad[i].arch);
        assert_int_equal(esl_model_parse(&m, doc, strlen(doc), "t.json"), ESL_EINVAL);
        if (strstr(esl_error_last(), bad[i].detail) == NULL)
            fail_msg("got '%s', want '%s'", esl_error_last(), bad[i].detail);
    }
}

/* A copy of fixture `name` in a fresh temporary folder, with the text
 * `from` in component `comp`'s config replaced by `to` (from the first
 * occurrence of `from` up to and including the first `until` after it, when
 * `until` is not NUL). Returns the folder (static storage). */
static const char *mutated(const char *name, const char *comp, const char *from, char until,
                           const char *to)
{
    static char dir[64];
    char cmd[512], path[256];
    snprintf(dir, sizeof dir, "/tmp/esl-plan-XXXXXX");
    if (mkdtemp(dir) == NULL)
        fail_msg("mkdtemp");
    snprintf(cmd, sizeof cmd, "cp -r '%s%s/.' '%s'", DIFFUSERS, name, dir);
    if (system(cmd) != 0)
        fail_msg("%s", cmd);
    snprintf(path, sizeof path, "%s/%s/config.json", dir, comp);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("%s", path);
    static char text[1 << 16], out[1 << 16];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    char *at = strstr(text, from);
    if (at == NULL)
        fail_msg("%s: no '%s'", path, from);
    char *end = at + strlen(from);
    if (until != '\0')
        end = strchr(end, until) + 1;
    snprintf(out, sizeof out, "%.*s%s%s", (int)(at - text), text, to, end);
    f = fopen(path, "wb");
    fputs(out, f);
    fclose(f);
    return dir;
}

static void remove_tree(const char *dir)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fail_msg("%s", cmd);
}

/* Every count a config gives is bounded, and the error names the key and
 * the limit: a description of a few bytes must not ask for gigabytes or
 * loop for hours. Levels and patch sizes are checked before they are
 * shifted or doubled. */
static void test_config_bounds(void **state)
{
    (void)state;
    static const struct {
        const char *fixture, *comp, *from;
        char until;
        const char *to, *detail;
        int status;
    } cases[] = {
        {"sd15", "unet", "\"layers_per_block\": 2", 0, "\"layers_per_block\": 1000000000",
         "unet: UNet2DConditionModel: config field 'layers_per_block': 1000000000 is above the "
         "limit of 1024", ESL_ERANGE},
        {"sd15", "vae", "\"layers_per_block\": 2", 0, "\"layers_per_block\": 5000",
         "AutoencoderKL: config field 'layers_per_block': 5000 is above the limit of 1024",
         ESL_ERANGE},
        {"sdxl", "unet", "\"transformer_layers_per_block\": [", ']',
         "\"transformer_layers_per_block\": [1, 2, 100000]",
         "config field 'transformer_layers_per_block': no layer count (0 to 1024) for block 2",
         ESL_EINVAL},
        {"flux-dev", "transformer", "\"num_layers\": 19", 0, "\"num_layers\": 2000000000",
         "config field 'num_layers': 2000000000 is above the limit of 1024", ESL_ERANGE},
        {"flux-dev", "transformer", "\"num_single_layers\": 38", 0, "\"num_single_layers\": 1025",
         "config field 'num_single_layers': 1025 is above the limit of 1024", ESL_ERANGE},
        {"sd15", "text_encoder", "\"num_hidden_layers\": 12", 0, "\"num_hidden_layers\": 99999",
         "config field 'num_hidden_layers': 99999 is above the limit of 1024", ESL_ERANGE},
        {"flux-dev", "transformer", "\"joint_attention_dim\": 4096", 0,
         "\"joint_attention_dim\": 1099511627776",
         "config field 'joint_attention_dim': 1099511627776 is above the limit of 1048576",
         ESL_ERANGE},
        {"sd15", "vae", "\"block_out_channels\": [", ']',
         "\"block_out_channels\": [1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,"
         "1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]",
         "vae/config.json: 70 levels of block_out_channels is above the limit of 16", ESL_ERANGE},
        {"flux-dev", "transformer", "\"patch_size\": 1", 0, "\"patch_size\": 9223372036854775807",
         "transformer/config.json: patch_size 9223372036854775807 is outside [1, 1024]", ESL_ERANGE},
        {"sd15", "unet", "\"block_out_channels\": [", ']', "\"block_out_channels\": []",
         "config field 'block_out_channels': expected an integer or a list of at least 1",
         ESL_EINVAL},
        {"sd15", "vae", "\"block_out_channels\": [", ']', "\"block_out_channels\": []",
         "block_out_channels: expected 1 to 8 levels", ESL_EINVAL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *dir = mutated(cases[i].fixture, cases[i].comp, cases[i].from, cases[i].until,
                                  cases[i].to);
        esl_model *m = NULL;
        int rc = esl_model_from_diffusers(&m, dir, "mutant");
        char got[1024];
        snprintf(got, sizeof got, "%s", esl_error_last());
        remove_tree(dir);
        esl_model_free(m);
        if (rc != cases[i].status || strstr(got, cases[i].detail) == NULL)
            fail_msg("case %zu: status %d, '%s'; want %d, '%s'", i, rc, got, cases[i].status,
                     cases[i].detail);
    }
}

/* Every architecture at huge sizes: counted or refused, never an overflow
 * (the sanitizer build aborts on one). 2^30 pixels is counted; beyond the
 * limits the refusal names them. */
static void test_huge_sizes(void **state)
{
    (void)state;
    static const char *const fixtures[] = {"dit-xl-2-256", "flux-dev", "pixart-alpha", "qwen-image",
                                           "sana", "sd15", "sd2", "sd35-large", "sdxl"};
    static const int64_t sides[][2] = {{32768, 32768}, {65536, 65536}, {1 << 20, 4096},
                                       {INT64_C(1) << 30, 32}, {INT64_C(1) << 40, INT64_C(1) << 40}};
    for (size_t i = 0; i < sizeof fixtures / sizeof fixtures[0]; i++) {
        char dir[256];
        snprintf(dir, sizeof dir, "%s%s", DIFFUSERS, fixtures[i]);
        esl_model *m = diffusers(dir);
        for (size_t j = 0; j < sizeof sides / sizeof sides[0]; j++) {
            int64_t h = sides[j][0] / m->pixel_multiple * m->pixel_multiple;
            int64_t w = sides[j][1] / m->pixel_multiple * m->pixel_multiple;
            esl_request r = {.height = h, .width = w, .steps = 1, .prompts = 1};
            esl_plan *p = NULL;
            int rc = esl_plan_build(&p, m, &r);
            if (j == 0 && rc != ESL_OK && rc != ESL_ERANGE)
                fail_msg("%s at %lldx%lld: %s", fixtures[i], (long long)h, (long long)w,
                         esl_error_last());
            if (j >= 3 && (rc != ESL_ERANGE ||
                           strstr(esl_error_last(), "the exact convention counts images of up to "
                                  "1048576 pixels a side and 4294967296 pixels in all") == NULL))
                fail_msg("%s at %lldx%lld: %d %s", fixtures[i], (long long)h, (long long)w, rc,
                         esl_error_last());
            if (rc == ESL_OK)
                assert_true(p->components[0].flops > 0);
            esl_plan_free(p);
        }
        esl_model_free(m);
    }
    esl_model *m = diffusers(DIFFUSERS "sd15");
    esl_request r = {.height = 512, .width = 512, .steps = 1, .prompts = 1,
                     .text_tokens = INT64_C(1) << 40};
    esl_plan *p = NULL;
    assert_int_equal(esl_plan_build(&p, m, &r), ESL_ERANGE);
    assert_non_null(strstr(esl_error_last(), "1099511627776 text tokens: the exact convention "
                                             "counts up to 1048576"));
    esl_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_published_params),
        cmocka_unit_test(test_catalogue_equals_diffusers),
        cmocka_unit_test(test_sd35_medium),
        cmocka_unit_test(test_ssd1b),
        cmocka_unit_test(test_sana15),
        cmocka_unit_test(test_hunyuandit),
        cmocka_unit_test(test_partial),
        cmocka_unit_test(test_kandinsky),
        cmocka_unit_test(test_kandinsky22_unet),
        cmocka_unit_test(test_ssd1b_from_config),
        cmocka_unit_test(test_auraflow),
        cmocka_unit_test(test_lumina2),
        cmocka_unit_test(test_cogview4),
        cmocka_unit_test(test_stable_cascade),
        cmocka_unit_test(test_published_macs),
        cmocka_unit_test(test_layer_flops),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_config_bounds),
        cmocka_unit_test(test_huge_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
