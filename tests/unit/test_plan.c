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

/* The same network both ways gives the same exact count. */
static void test_catalogue_equals_diffusers(void **state)
{
    (void)state;
    static const char *const names[] = {"flux-dev", "sd2", "sd35-large", "qwen-image"};
    static const int64_t sizes[][2] = {{1024, 1024}, {512, 768}, {256, 256}};
    for (size_t k = 0; k < 4; k++) {
        char dir[512];
        snprintf(dir, sizeof dir, DIFFUSERS "%s", names[k]);
        esl_model *a = catalogue(names[k]), *b = diffusers(dir);
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
         "config field 'transformer_layers_per_block': element 2: 100000 is above the limit of 1024",
         ESL_ERANGE},
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
        cmocka_unit_test(test_published_macs),
        cmocka_unit_test(test_layer_flops),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_config_bounds),
        cmocka_unit_test(test_huge_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
