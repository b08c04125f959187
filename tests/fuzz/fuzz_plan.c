/*
 * fuzz_plan.c - libFuzzer target for the exact-convention plan builders:
 * the input is one architecture section (a JSON object with "class"), set
 * as the only component of a model, optionally preceded by a line "SIZE
 * HEIGHT WIDTH TOKENS" choosing the request; it is planned at that size and
 * at small and huge sizes. Any section must plan or fail cleanly, never
 * crash, overflow or hang.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esl/esl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void plan_at(const esl_model *m, int64_t h, int64_t w, int64_t tokens)
{
    if (m->pixel_multiple <= 0)
        return;
    esl_request r = {.height = h - h % m->pixel_multiple, .width = w - w % m->pixel_multiple,
                     .steps = 1, .prompts = 1, .text_tokens = tokens};
    esl_plan *p = NULL;
    (void)esl_plan_build(&p, m, &r);
    esl_plan_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    const char *arch = text;
    int64_t h = 0, w = 0, tokens = 0;
    if (strncmp(text, "SIZE ", 5) == 0) {
        if (sscanf(text + 5, "%" SCNd64 " %" SCNd64 " %" SCNd64, &h, &w, &tokens) != 3)
            h = w = tokens = 0;
        const char *nl = strchr(text, '\n');
        arch = nl ? nl + 1 : text + size;
    }
    static const char head[] = "{\"format\": \"esl-model/1\", \"name\": \"fuzz\", \"latent\": "
                               "{\"factor\": 8, \"channels\": 16}, \"text_tokens\": 77, "
                               "\"components\": [{\"name\": \"c\", \"stage\": \"denoise\", "
                               "\"arch\": ";
    size_t n = strlen(head) + strlen(arch) + 4;
    char *doc = malloc(n);
    if (doc == NULL) {
        free(text);
        return 0;
    }
    snprintf(doc, n, "%s%s}]}", head, arch);
    esl_model *m = NULL;
    if (esl_model_parse(&m, doc, strlen(doc), "fuzz") == ESL_OK) {
        if (h > 0 && w > 0)
            plan_at(m, h, w, tokens < 0 ? 0 : tokens);
        plan_at(m, 256, 256, 0);
        plan_at(m, 1024, 1024, 0);
        plan_at(m, 32768, 32768, 0);
        plan_at(m, INT64_C(1) << 20, 4096, INT64_C(1) << 20);
        plan_at(m, INT64_C(1) << 40, INT64_C(1) << 40, 0);
    }
    esl_model_free(m);
    free(doc);
    free(text);
    return 0;
}
