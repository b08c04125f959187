/*
 * fuzz_folder.c - libFuzzer target for the diffusers folder reader: the
 * input is cut at each line "--- NAME" into model_index.json (before the
 * first such line) and NAME/config.json, written into a private folder, and
 * read as a pipeline; a model it gives is then planned at small and huge
 * sizes. Any bytes must give a model or a clean error, never a crash, an
 * overflow or a hang.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "esl/esl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const parts[] = {"text_encoder", "text_encoder_2", "text_encoder_3",
                                    "transformer", "unet", "vae"};
#define N_PARTS (sizeof parts / sizeof parts[0])

static char dir[64];

static void put(const char *name, const char *text, size_t n)
{
    char path[160];
    if (name == NULL) {
        snprintf(path, sizeof path, "%s/model_index.json", dir);
    } else {
        snprintf(path, sizeof path, "%s/%s", dir, name);
        mkdir(path, 0700);
        snprintf(path, sizeof path, "%s/%s/config.json", dir, name);
    }
    FILE *f = fopen(path, "wb");
    if (f != NULL) {
        fwrite(text, 1, n, f);
        fclose(f);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (dir[0] == '\0') {
        snprintf(dir, sizeof dir, "/tmp/esl-fuzz-diffusers-XXXXXX");
        if (mkdtemp(dir) == NULL)
            abort();
    }
    char path[160];
    for (size_t i = 0; i < N_PARTS; i++) { /* nothing left from the last input */
        snprintf(path, sizeof path, "%s/%s/config.json", dir, parts[i]);
        unlink(path);
    }
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    const char *name = NULL, *start = text;
    char *cut;
    size_t used = 0;
    while ((cut = strstr(start, "\n--- ")) != NULL) {
        put(name, start, (size_t)(cut - start));
        char *nl = strchr(cut + 5, '\n');
        if (nl == NULL)
            nl = cut + strlen(cut);
        size_t len = (size_t)(nl - (cut + 5));
        name = NULL;
        for (size_t i = 0; i < N_PARTS; i++)
            if (strlen(parts[i]) == len && strncmp(parts[i], cut + 5, len) == 0)
                name = parts[i];
        if (name == NULL || ++used > 8)
            break;
        start = *nl ? nl + 1 : nl;
        if (*nl == '\0')
            break;
    }
    put(name, start, strlen(start));
    free(text);

    esl_model *m = NULL;
    if (esl_model_from_diffusers(&m, dir, "fuzz") != ESL_OK)
        return 0;
    static const int64_t sides[][2] = {{256, 256}, {1024, 1024}, {32768, 32768},
                                       {INT64_C(1) << 20, 4096}, {INT64_C(1) << 40, 8}};
    for (size_t i = 0; i < sizeof sides / sizeof sides[0]; i++) {
        esl_request r = {.height = sides[i][0] - sides[i][0] % m->pixel_multiple,
                         .width = sides[i][1] - sides[i][1] % m->pixel_multiple,
                         .steps = 1, .prompts = 1};
        if (r.height <= 0 || r.width <= 0)
            continue;
        esl_plan *p = NULL;
        (void)esl_plan_build(&p, m, &r);
        esl_plan_free(p);
    }
    esl_model_free(m);
    return 0;
}
