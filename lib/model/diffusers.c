/*
 * diffusers.c - a model description from a diffusers pipeline folder, read
 * from its configuration files only (model_index.json and each component's
 * config.json; no weights). Each component's config becomes the component's
 * architecture section (docs/model-format.md) under its class name, and the
 * pipeline class decides what the configs do not say: how many text tokens
 * the denoiser attends to, how many each text encoder reads, and how latents
 * are packed into tokens (FLUX and Qwen-Image pack 2x2 latent cells before
 * the transformer, whatever their patch_size says).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/internal.h"
#include "esl/model.h"
#include "esl/plan.h"

/* What a pipeline class fixes: the denoiser's text tokens; tokens the T5
 * encoder reads when they differ (SD3 joins 77 CLIP and 256 T5 tokens); a
 * prompt template the Qwen-Image pipeline runs through its encoder and then
 * drops (34 tokens). Qwen-Image's prompt length varies: 12 is the mean over
 * the paper's prompts, as in the catalogue. */
typedef struct part {
    const char *key;     /* the component's folder and model_index.json key */
    const char *stage;   /* text, denoise or decode */
    int64_t passes;      /* forward passes per image of a text-stage loop, 0: one */
    int64_t tokens;      /* tokens a text encoder reads, 0: its default */
    double compression;  /* image side over the grid of a stage that does not
                          * run on the latent (Stable Cascade's prior), 0: none */
} part;

/* Kandinsky 2.2's combined text-to-image pipeline (KandinskyV22Combined-
 * Pipeline): the prior samples the image embedding once per image with its
 * own loop, prior_num_inference_steps 25 under prior_guidance_scale 4 (two
 * passes a step), and its pipeline encodes a blank 224 x 224 image with the
 * CLIP image encoder for the negative embedding; the decoder U-Net is the
 * denoiser the request's steps apply to, MoVQ the decoder. */
static const part kandinsky22[] = {
    {"prior_text_encoder", "text", 0, 0, 0.0},
    {"prior_image_encoder", "text", 0, 0, 0.0},
    {"prior_prior", "text", 50, 0, 0.0},
    {"unet", "denoise", 0, 0, 0.0},
    {"movq", "decode", 0, 0, 0.0},
    {NULL, NULL, 0, 0, 0.0},
};

/* Kandinsky 3 (Kandinsky3Pipeline): the FLAN-UL2 encoder reads 128 tokens;
 * the pipeline then cuts the states to the prompt's length plus one
 * (the denoiser's text tokens: 14 for a 12-token prompt and its end mark,
 * the mean prompt length the Qwen-Image entry uses). */
static const part kandinsky3[] = {
    {"text_encoder", "text", 0, 128, 0.0},
    {"unet", "denoise", 0, 0, 0.0},
    {"movq", "decode", 0, 0, 0.0},
    {NULL, NULL, 0, 0, 0.0},
};

/* Stable Cascade's combined text-to-image pipeline (StableCascadeCombined-
 * Pipeline): the prior pipeline encodes the prompt with its CLIP text
 * encoder and runs Stage C (the prior U-Net) on a grid of the image side
 * over 42.67, prior_num_inference_steps 60 under prior_guidance_scale 4 (two
 * passes a step), with a zero image embedding (the image encoder does not
 * run without input images); the decoder pipeline encodes the prompt again
 * with its own CLIP text encoder and runs Stage B, the denoiser the
 * request's steps apply to (decoder_guidance_scale 0: one pass a step),
 * and Stage A (the Paella VQ-GAN) decodes. */
static const part stable_cascade[] = {
    {"prior_text_encoder", "text", 0, 0, 0.0},
    {"prior_prior", "text", 120, 0, 42.67},
    {"text_encoder", "text", 0, 0, 0.0},
    {"decoder", "denoise", 0, 0, 0.0},
    {"vqgan", "decode", 0, 0, 0.0},
    {NULL, NULL, 0, 0, 0.0},
};

/* The most VAE levels (the latent factor is 2^(levels - 1)) and the largest
 * patch a folder may describe. */
#define DIFFUSERS_LEVELS_MAX 16
#define DIFFUSERS_PATCH_MAX 1024

static const struct {
    const char *pipeline;
    int64_t text_tokens, t5_tokens, template_tokens;
    const part *parts; /* NULL: text_encoder*, transformer or unet, vae */
} pipelines[] = {
    {"FluxPipeline", 512, 0, 0, NULL},
    {"StableDiffusion3Pipeline", 333, 256, 0, NULL},
    {"QwenImagePipeline", 12, 0, 34, NULL},
    {"PixArtAlphaPipeline", 120, 0, 0, NULL},
    {"PixArtSigmaPipeline", 300, 0, 0, NULL},
    {"SanaPipeline", 300, 0, 0, NULL},
    {"DiTPipeline", 0, 0, 0, NULL},
    {"StableDiffusionPipeline", 77, 0, 0, NULL},
    {"StableDiffusionXLPipeline", 77, 0, 0, NULL},
    {"HunyuanDiTPipeline", 333, 256, 0, NULL},
    {"KandinskyV22CombinedPipeline", 77, 0, 0, kandinsky22},
    {"Kandinsky3Pipeline", 14, 0, 0, kandinsky3},
    /* AuraFlow: the UMT5 encoder and the transformer read 256 tokens (the
     * transformer adds 8 register tokens of its own) */
    {"AuraFlowPipeline", 256, 0, 0, NULL},
    /* Lumina-Image 2.0: Gemma-2 reads the system prompt and the prompt padded
     * to 256 tokens; the padded length is counted throughout (docs/flops.md) */
    {"Lumina2Pipeline", 256, 0, 0, NULL},
    {"Lumina2Text2ImgPipeline", 256, 0, 0, NULL},
    /* CogView4: GLM-4 reads the prompt and its two start tokens padded to a
     * multiple of 16: 16 for the 12-token mean prompt */
    {"CogView4Pipeline", 16, 0, 0, NULL},
    {"StableCascadeCombinedPipeline", 77, 0, 0, stable_cascade},
};

/* The supported pipeline classes, sorted, comma-separated into list. */
static void pipeline_names(char *list, size_t size)
{
    list[0] = '\0';
    size_t n = sizeof pipelines / sizeof pipelines[0];
    const char *last = "";
    for (size_t done = 0; done < n; done++) { /* selection by name: n is small */
        const char *next = NULL;
        for (size_t i = 0; i < n; i++)
            if (strcmp(pipelines[i].pipeline, last) > 0 &&
                (next == NULL || strcmp(pipelines[i].pipeline, next) < 0))
                next = pipelines[i].pipeline;
        if (done > 0)
            strncat(list, ", ", size - strlen(list) - 1);
        strncat(list, next, size - strlen(list) - 1);
        last = next;
    }
}

/* Config keys that describe the file, not the network. */
static int metadata_key(const char *key)
{
    static const char *const drop[] = {"architectures", "transformers_version", "torch_dtype",
                                       "vision_config", "latents_mean", "latents_std", "id2label",
                                       "label2id", NULL};
    if (key[0] == '_')
        return 1;
    for (const char *const *d = drop; *d != NULL; d++)
        if (strcmp(*d, key) == 0)
            return 1;
    return 0;
}

static json_t *load_json(const char *dir, const char *sub, int *rc)
{
    char path[4096];
    json_error_t jerr;
    if (sub == NULL)
        snprintf(path, sizeof path, "%s/model_index.json", dir);
    else
        snprintf(path, sizeof path, "%s/%s/config.json", dir, sub);
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        FILE *f = fopen(path, "rb");
        if (f == NULL)
            *rc = esl__fail(errno == ENOENT ? ESL_ENOTFOUND : ESL_EIO, "%s: cannot open: %s", path,
                            strerror(errno));
        else
            *rc = esl__fail(ESL_EPARSE, "%s:%d:%d: not valid JSON: %s", path, jerr.line, jerr.column,
                            jerr.text);
        if (f != NULL)
            fclose(f);
    } else if (!json_is_object(root)) {
        *rc = esl__fail(ESL_EINVAL, "%s: expected a JSON object", path);
        json_decref(root);
        root = NULL;
    }
    return root;
}

/* The class of a component: the "class" name listed in model_index.json. */
static const char *listed_class(json_t *index, const char *key)
{
    json_t *entry = json_object_get(index, key);
    if (!json_is_array(entry) || json_array_size(entry) != 2)
        return NULL;
    return json_string_value(json_array_get(entry, 1));
}

static int supported(const char *cls)
{
    const char *list = esl_plan_classes();
    size_t n = strlen(cls);
    for (const char *p = strstr(list, cls); p != NULL; p = strstr(p + 1, cls))
        if ((p == list || p[-1] == ' ') && (p[n] == ',' || p[n] == '\0'))
            return 1;
    return 0;
}

/* Record a component left out of a partial description. */
static void skip(json_t *skipped, const char *name, const char *cls, const char *reason)
{
    json_t *o = json_object();
    json_object_set_new(o, "component", json_string(name));
    json_object_set_new(o, "class", json_string(cls));
    json_object_set_new(o, "reason", json_string(reason));
    json_array_append_new(skipped, o);
}

/* One component's description: name, stage and the arch section. With
 * `skipped` (a partial description), a text encoder or decoder of an
 * unsupported class is recorded there and left out instead of failing. */
static int add_component(json_t *comps, const char *dir, const char *key, const char *cls,
                         const char *name, const char *stage, json_t *extra, json_t *skipped)
{
    int rc = ESL_OK;
    if (!supported(cls)) {
        rc = esl__fail(ESL_EUNSUPPORTED, "%s/%s: unsupported class '%s' (supported: %s)", dir, key,
                       cls, esl_plan_classes());
        if (skipped != NULL && strcmp(stage, "denoise") != 0) {
            skip(skipped, name, cls, esl_error_last());
            rc = ESL_OK;
        }
        return rc;
    }
    json_t *cfg = load_json(dir, key, &rc);
    if (cfg == NULL)
        return rc;
    json_t *arch = json_object();
    json_object_set_new(arch, "class", json_string(cls));
    const char *k;
    json_t *v;
    json_object_foreach(cfg, k, v) {
        if (metadata_key(k))
            continue;
        if (strcmp(k, "text_config") == 0 && json_is_object(v)) {
            json_t *tc = json_object();
            const char *k2;
            json_t *v2;
            json_object_foreach(v, k2, v2)
                if (!metadata_key(k2))
                    json_object_set(tc, k2, v2);
            json_object_set_new(arch, k, tc);
        } else {
            json_object_set(arch, k, v);
        }
    }
    json_object_update(arch, extra);
    json_decref(cfg);
    json_t *c = json_object();
    json_object_set_new(c, "name", json_string(name));
    json_object_set_new(c, "stage", json_string(stage));
    json_object_set_new(c, "arch", arch);
    json_array_append_new(comps, c);
    return ESL_OK;
}

static int describe(json_t **out, const char *dir, const char *name, json_t *skipped)
{
    int rc = ESL_OK;
    json_t *index = load_json(dir, NULL, &rc);
    if (index == NULL)
        return rc;
    const char *pipeline = json_string_value(json_object_get(index, "_class_name"));
    size_t p;
    for (p = 0; p < sizeof pipelines / sizeof pipelines[0]; p++)
        if (pipeline != NULL && strcmp(pipelines[p].pipeline, pipeline) == 0)
            break;
    if (p == sizeof pipelines / sizeof pipelines[0]) {
        char names[1024];
        pipeline_names(names, sizeof names);
        rc = esl__fail(ESL_EUNSUPPORTED, "%s/model_index.json: unsupported pipeline class '%s' "
                       "(supported: %s)", dir, pipeline ? pipeline : "", names);
        json_decref(index);
        return rc;
    }
    const part *parts = pipelines[p].parts;
    const char *den_key = listed_class(index, "transformer") ? "transformer" : "unet", *vae_key = "vae";
    for (size_t i = 0; parts != NULL && parts[i].key != NULL; i++) {
        if (strcmp(parts[i].stage, "denoise") == 0)
            den_key = parts[i].key;
        else if (strcmp(parts[i].stage, "decode") == 0)
            vae_key = parts[i].key;
    }
    const char *den_cls = listed_class(index, den_key);
    const char *vae_cls = listed_class(index, vae_key);
    for (size_t i = 0; parts != NULL && parts[i].key != NULL; i++)
        if (listed_class(index, parts[i].key) == NULL) {
            json_decref(index);
            return esl__fail(ESL_EINVAL, "%s/model_index.json: no %s listed (%s)", dir, parts[i].key,
                             pipeline);
        }
    if (den_cls == NULL || vae_cls == NULL) {
        json_decref(index);
        return esl__fail(ESL_EINVAL, "%s/model_index.json: no %s listed", dir,
                         den_cls == NULL ? "transformer or unet" : "vae");
    }

    json_t *doc = json_object(), *comps = json_array();
    int64_t text_tokens = pipelines[p].text_tokens;
    static const char *const encoders[] = {"text_encoder", "text_encoder_2", "text_encoder_3"};
    for (size_t i = 0; rc == ESL_OK && parts != NULL && parts[i].key != NULL; i++) {
        json_t *extra = json_object();
        if (parts[i].passes > 0)
            json_object_set_new(extra, "passes", json_integer(parts[i].passes));
        if (parts[i].tokens > 0)
            json_object_set_new(extra, "tokens", json_integer(parts[i].tokens));
        if (parts[i].compression > 0.0)
            json_object_set_new(extra, "image_compression", json_real(parts[i].compression));
        rc = add_component(comps, dir, parts[i].key, listed_class(index, parts[i].key), parts[i].key,
                           parts[i].stage, extra, skipped);
        json_decref(extra);
    }
    for (size_t i = 0; rc == ESL_OK && parts == NULL && i < 3; i++) {
        const char *cls = listed_class(index, encoders[i]);
        if (cls == NULL)
            continue;
        json_t *extra = json_object();
        if (strcmp(cls, "T5EncoderModel") == 0 && pipelines[p].t5_tokens > 0)
            json_object_set_new(extra, "tokens", json_integer(pipelines[p].t5_tokens));
        if (pipelines[p].template_tokens > 0)
            json_object_set_new(extra, "template_tokens", json_integer(pipelines[p].template_tokens));
        rc = add_component(comps, dir, encoders[i], cls, encoders[i], "text", extra, skipped);
        json_decref(extra);
    }
    json_t *none = json_object();
    if (rc == ESL_OK && parts == NULL)
        rc = add_component(comps, dir, den_key, den_cls, den_key, "denoise", none, skipped);
    if (rc == ESL_OK && parts == NULL)
        rc = add_component(comps, dir, "vae", vae_cls, "vae-decoder", "decode", none, skipped);
    json_decref(none);
    if (rc != ESL_OK) {
        json_decref(index);
        json_decref(comps);
        json_decref(doc);
        return rc;
    }

    /* Latent geometry: the VAE halves the size at each level but the last;
     * FLUX and Qwen-Image pack 2x2 latents per token. */
    json_t *vae = NULL, *den = NULL;
    for (size_t i = 0; i < json_array_size(comps); i++) {
        json_t *c = json_array_get(comps, i);
        const char *st = json_string_value(json_object_get(c, "stage"));
        if (strcmp(st, "decode") == 0)
            vae = json_object_get(c, "arch");
        else if (strcmp(st, "denoise") == 0)
            den = json_object_get(c, "arch");
    }
    size_t levels = json_array_size(json_object_get(vae, "block_out_channels"));
    int64_t shuffle = 1; /* a pixel shuffle after the last level (Paella) */
    if (levels == 0) /* AutoencoderDC, AutoencoderKLQwenImage */
        levels = json_array_size(json_object_get(vae, "decoder_block_out_channels"));
    if (levels == 0)
        levels = json_array_size(json_object_get(vae, "dim_mult"));
    if (levels == 0 && strcmp(vae_cls, "PaellaVQModel") == 0) {
        /* levels - 1 transposed convolutions, then a pixel shuffle */
        json_t *lv = json_object_get(vae, "levels"), *sf = json_object_get(vae, "up_down_scale_factor");
        levels = json_is_integer(lv) && json_integer_value(lv) > 0 ? (size_t)json_integer_value(lv) : 2;
        shuffle = json_is_integer(sf) && json_integer_value(sf) > 0 && json_integer_value(sf) <= 16
                      ? json_integer_value(sf)
                      : 2;
    }
    json_t *ps = json_object_get(den, "patch_size");
    int64_t patch = json_is_integer(ps) ? json_integer_value(ps) : 1;
    /* Checked here, before they are shifted and doubled; the plan builders
     * bound the rest of each config. */
    if (levels > DIFFUSERS_LEVELS_MAX || patch < 1 || patch > DIFFUSERS_PATCH_MAX) {
        rc = levels > DIFFUSERS_LEVELS_MAX
                 ? esl__fail(ESL_ERANGE, "%s/vae/config.json: %zu levels of block_out_channels is "
                             "above the limit of %d", dir, levels, DIFFUSERS_LEVELS_MAX)
                 : esl__fail(ESL_ERANGE, "%s/%s/config.json: patch_size %lld is outside [1, %d]",
                             dir, den_key, (long long)patch, DIFFUSERS_PATCH_MAX);
        json_decref(index);
        json_decref(comps);
        json_decref(doc);
        return rc;
    }
    int64_t factor = levels > 0 ? shuffle * (INT64_C(1) << (levels - 1)) : 8;
    json_t *lc = json_object_get(vae, "latent_channels");
    if (lc == NULL)
        lc = json_object_get(vae, "z_dim");
    int64_t channels = json_is_integer(lc) ? json_integer_value(lc) : 4;
    if (strcmp(den_cls, "FluxTransformer2DModel") == 0)
        patch *= 2;
    char source[4200];
    snprintf(source, sizeof source, "diffusers folder %s (%s)", dir, pipeline);
    json_object_set_new(doc, "format", json_string("esl-model/1"));
    json_object_set_new(doc, "name", json_string(name));
    json_object_set_new(doc, "display_name", json_string(name));
    json_object_set_new(doc, "family", json_string(strstr(den_cls, "UNet") != NULL ? "unet" : "dit"));
    json_object_set_new(doc, "source", json_string(source));
    json_t *latent = json_object();
    json_object_set_new(latent, "factor", json_integer(factor));
    json_object_set_new(latent, "channels", json_integer(channels));
    json_object_set_new(doc, "latent", latent);
    json_object_set_new(doc, "patch", json_integer(patch));
    json_object_set_new(doc, "text_tokens", json_integer(text_tokens));
    json_object_set_new(doc, "components", comps);
    json_decref(index);
    *out = doc;
    return ESL_OK;
}

/* The parameters of each component, from its layer plan (built one
 * component at a time). With `skipped`, a text encoder or decoder whose plan
 * fails on its config (a missing or invalid key, an unsupported variant) is
 * recorded there and removed from the description. */
static int count_params(json_t *doc, const char *origin, json_t *skipped)
{
    char *text = json_dumps(doc, JSON_COMPACT);
    esl_model *m = NULL;
    if (text == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory");
    int rc = esl_model_parse(&m, text, strlen(text), origin);
    free(text);
    json_t *comps = json_object_get(doc, "components");
    size_t at = 0; /* index in the (shrinking) description */
    for (size_t i = 0; rc == ESL_OK && i < m->n_components; i++) {
        esl_model one = *m;
        esl_plan *plan = NULL;
        esl_request r = {.height = 64 * m->latent_factor, .width = 64 * m->latent_factor,
                         .steps = 1, .prompts = 1};
        one.components = &m->components[i];
        one.n_components = 1;
        rc = esl_plan_build(&plan, &one, &r);
        if (rc != ESL_OK && rc != ESL_ENOMEM) { /* name the config file the plan read */
            char why[512];
            snprintf(why, sizeof why, "%s", esl_error_last());
            rc = esl__fail(rc, "%s/%s/config.json: %s", origin,
                           strcmp(m->components[i].name, "vae-decoder") == 0 ? "vae" : m->components[i].name,
                           why);
        }
        if (rc == ESL_OK) {
            json_object_set_new(json_array_get(comps, at++), "params",
                                json_integer(plan->components[0].params));
        } else if (skipped != NULL && m->components[i].stage != ESL_STAGE_DENOISE &&
                   (rc == ESL_EINVAL || rc == ESL_EUNSUPPORTED)) {
            json_t *arch = json_object_get(json_array_get(comps, at), "arch");
            skip(skipped, m->components[i].name, json_string_value(json_object_get(arch, "class")),
                 esl_error_last());
            json_array_remove(comps, at);
            rc = ESL_OK;
        }
        esl_plan_free(plan);
    }
    esl_model_free(m);
    return rc;
}

static int describe_counted(char **out, const char *dir, const char *name, json_t *skipped)
{
    json_t *doc = NULL;
    *out = NULL;
    int rc = describe(&doc, dir, name, skipped);
    if (rc == ESL_OK)
        rc = count_params(doc, dir, skipped);
    if (rc == ESL_OK && (*out = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
                                                    JSON_REAL_PRECISION(17))) == NULL)
        rc = esl__fail(ESL_ENOMEM, "out of memory");
    json_decref(doc);
    return rc;
}

int esl_diffusers_describe(char **out, const char *dir, const char *name)
{
    return describe_counted(out, dir, name, NULL);
}

int esl_model_from_diffusers_partial(esl_model **out, char **uncounted, const char *dir,
                                     const char *name)
{
    char *text = NULL;
    json_t *skipped = json_array();
    *out = NULL;
    *uncounted = NULL;
    if (skipped == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory");
    int rc = describe_counted(&text, dir, name, skipped);
    if (rc == ESL_OK)
        rc = esl_model_parse(out, text, strlen(text), dir);
    if (rc == ESL_OK && json_array_size(skipped) > 0 &&
        (*uncounted = json_dumps(skipped, JSON_COMPACT | JSON_PRESERVE_ORDER)) == NULL) {
        esl_model_free(*out);
        *out = NULL;
        rc = esl__fail(ESL_ENOMEM, "out of memory");
    }
    json_decref(skipped);
    free(text);
    return rc;
}

int esl_model_from_diffusers(esl_model **out, const char *dir, const char *name)
{
    char *text = NULL;
    *out = NULL;
    int rc = esl_diffusers_describe(&text, dir, name);
    if (rc == ESL_OK)
        rc = esl_model_parse(out, text, strlen(text), dir);
    free(text);
    return rc;
}
