/*
 * fuzz_diffusers.c - libFuzzer target for the diffusers folder reader and
 * the layer plans behind it. The input is one JSON object standing for a
 * folder: "model_index" becomes model_index.json and every other key K
 * (letters, digits and '_' only) becomes K/config.json, written to a fresh
 * temporary folder. Any folder must give a model or a clean error, and any
 * model must plan at the sizes a user asks for (64 to 2048 pixels a side) or
 * fail cleanly, never crash or overflow. (Counts at absurd sizes are
 * fuzz_model's; here the configs are the input.)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "esl/esl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int safe_key(const char *k)
{
    size_t n = strlen(k);
    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((k[i] >= 'a' && k[i] <= 'z') || (k[i] >= 'A' && k[i] <= 'Z') ||
              (k[i] >= '0' && k[i] <= '9') || k[i] == '_'))
            return 0;
    return 1;
}

static void plan_all(const esl_model *m)
{
    static const int64_t sides[] = {64, 512, 1024, 2048};
    for (size_t i = 0; i < sizeof sides / sizeof sides[0]; i++) {
        int64_t side = sides[i] - sides[i] % (m->latent_factor > 0 ? m->latent_factor : 1);
        esl_request r = {.height = side, .width = side, .steps = 50, .prompts = 1, .cfg = 1};
        esl_plan *p = NULL;
        esl_flops f;
        if (esl_plan_build(&p, m, &r) == ESL_OK)
            esl_plan_free(p);
        (void)esl_flops_count(&f, m, &r, ESL_CONVENTION_EXACT);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *root = json_loadb((const char *)data, size, 0, NULL);
    char dir[] = "/tmp/esl-fuzz-diffusers-XXXXXX", path[256];
    if (!json_is_object(root) || mkdtemp(dir) == NULL) {
        json_decref(root);
        return 0;
    }
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v) {
        if (!safe_key(key))
            continue;
        if (strcmp(key, "model_index") == 0) {
            snprintf(path, sizeof path, "%s/model_index.json", dir);
        } else {
            snprintf(path, sizeof path, "%s/%s", dir, key);
            mkdir(path, 0700);
            snprintf(path, sizeof path, "%s/%s/config.json", dir, key);
        }
        json_dump_file(v, path, JSON_ENCODE_ANY);
    }
    esl_model *m = NULL;
    char *uncounted = NULL;
    if (esl_model_from_diffusers_partial(&m, &uncounted, dir, "fuzz") == ESL_OK) {
        plan_all(m);
        esl_model_free(m);
    }
    free(uncounted);
    if (esl_model_from_diffusers(&m, dir, "fuzz") == ESL_OK)
        esl_model_free(m);
    json_object_foreach(root, key, v) {
        if (!safe_key(key))
            continue;
        if (strcmp(key, "model_index") == 0) {
            snprintf(path, sizeof path, "%s/model_index.json", dir);
            unlink(path);
        } else {
            snprintf(path, sizeof path, "%s/%s/config.json", dir, key);
            unlink(path);
            snprintf(path, sizeof path, "%s/%s", dir, key);
            rmdir(path);
        }
    }
    rmdir(dir);
    json_decref(root);
    return 0;
}
