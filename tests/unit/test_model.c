/*
 * test_model.c - reading model descriptions: the catalogue, user folders,
 * and every error a description file can produce, each naming its JSON path.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "esl/esl.h"

#define MINIMAL_HEAD "{\"name\": \"m\", \"latent\": {\"factor\": 8, \"channels\": 4}, "
#define MINIMAL_DENOISER \
    "{\"name\": \"d\", \"stage\": \"denoise\", \"terms\": [{\"op\": \"conv\", \"k\": 3, \"c_in\": 4, \"c_out\": 4}]}"

static void catalogue(void **state)
{
    (void)state;
    assert_int_equal(esl_catalog_count(), 15);
    static const char *const names[] = {"auraflow", "cogview4-6b", "flux-dev", "kandinsky-2-2",
                                        "kandinsky-3", "lumina-image-2", "qwen-image",
                                        "sd15", "sd2", "sd3-medium", "sd35-large",
                                        "sdxl", "sdxl-turbo", "ssd-1b", "stable-cascade"};
    for (size_t i = 0; i < 15; i++) {
        assert_string_equal(esl_catalog_name(i), names[i]);
        esl_model *m;
        assert_int_equal(esl_catalog_find(&m, names[i]), ESL_OK);
        assert_string_equal(m->name, names[i]);
        if (i > 0)
            assert_true(strcmp(names[i - 1], names[i]) < 0); /* sorted as strcmp sorts */
        esl_model_free(m);
    }
    assert_null(esl_catalog_name(15));
    esl_model *m = (esl_model *)1;
    assert_int_equal(esl_catalog_find(&m, "flux"), ESL_ENOTFOUND);
    assert_null(m);
    assert_string_equal(esl_error_last(),
                        "unknown model 'flux' (known: auraflow, cogview4-6b, flux-dev, kandinsky-2-2, "
                        "kandinsky-3, lumina-image-2, qwen-image, sd15, sd2, sd3-medium, sd35-large, "
                        "sdxl, sdxl-turbo, ssd-1b, stable-cascade)");
    assert_int_equal(esl_catalog_find(&m, "../etc/passwd"), ESL_ENOTFOUND);
    esl_model_free(NULL);
}

static void parameters(void **state)
{
    (void)state;
    esl_model *m;
    assert_int_equal(esl_catalog_find(&m, "sd2"), ESL_OK);
    assert_int_equal(m->components[1].params, INT64_C(865910724));
    esl_model_free(m);
    assert_int_equal(esl_catalog_find(&m, "flux-dev"), ESL_OK);
    assert_int_equal(m->components[2].params, INT64_C(11901408320));
    esl_model_free(m);
}

static void user_folder(void **state)
{
    (void)state;
    char dir[] = "/tmp/esl-test-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/tiny.json", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(MINIMAL_HEAD "\"components\": [" MINIMAL_DENOISER "]}", f);
    fclose(f);
    setenv("ESL_MODEL_PATH", dir, 1);
    esl_model *m;
    assert_int_equal(esl_catalog_find(&m, "tiny"), ESL_OK);
    assert_string_equal(m->name, "m");
    esl_request r = {.height = 64, .width = 64, .steps = 2, .prompts = 1};
    esl_flops fl;
    assert_int_equal(esl_flops_count(&fl, m, &r, ESL_CONVENTION_PAPER), ESL_OK);
    assert_int_equal(fl.denoise_flops_per_step, 2 * 8 * 8 * 9 * 4 * 4);
    esl_model_free(m);
    unsetenv("ESL_MODEL_PATH");
    remove(path);
    rmdir(dir);
}

/* Parse `json`, expect `status`, and a detail containing `needle`. */
static void expect_error(const char *json, int status, const char *needle)
{
    esl_model *m = NULL;
    int rc = esl_model_parse(&m, json, strlen(json), "t.json");
    if (rc != status || strstr(esl_error_last(), needle) == NULL)
        fail_msg("status %d (want %d), detail '%s' (want '%s')", rc, status, esl_error_last(), needle);
    assert_null(m);
}

static void errors_name_the_path(void **state)
{
    (void)state;
    expect_error("{\"name\": ", ESL_EPARSE, "t.json:1:");
    expect_error("[1, 2]", ESL_EINVAL, "t.json: $: expected an object, got an array");
    expect_error("{\"latent\": {\"factor\": 8, \"channels\": 4}, \"components\": []}", ESL_EINVAL,
                 "$: missing key 'name'");
    expect_error("{\"name\": \"m\", \"components\": [" MINIMAL_DENOISER "]}", ESL_EINVAL,
                 "$: missing key 'latent'");
    expect_error(MINIMAL_HEAD "\"patch\": \"2\", \"components\": [" MINIMAL_DENOISER "]}", ESL_EINVAL,
                 "$.patch: expected an integer, got a string");
    expect_error(MINIMAL_HEAD "\"colour\": 1, \"components\": [" MINIMAL_DENOISER "]}", ESL_EINVAL,
                 "$: unknown key 'colour'");
    expect_error(MINIMAL_HEAD "\"components\": []}", ESL_EINVAL, "$.components: expected a non-empty array");
    expect_error(MINIMAL_HEAD "\"components\": [{\"name\": \"d\", \"stage\": \"denoise\", \"terms\": "
                 "[{\"op\": \"tr\", \"d_mdel\": 8, \"d_ff\": 0, \"d_attn\": 8, \"n_layer\": 1, \"ctx\": 4}]}]}",
                 ESL_EINVAL, "$.components[0].terms[0]: unknown key 'd_mdel'");
    expect_error(MINIMAL_HEAD "\"components\": [{\"name\": \"d\", \"stage\": \"denoise\", \"terms\": "
                 "[{\"op\": \"tr\", \"d_model\": 8, \"d_ff\": 0, \"d_attn\": 8, \"n_layer\": 1}]}]}",
                 ESL_EINVAL, "$.components[0].terms[0]: missing key 'ctx'");
    expect_error(MINIMAL_HEAD "\"components\": [{\"name\": \"d\", \"stage\": \"denoise\", \"terms\": "
                 "[{\"op\": \"tr\", \"d_model\": 8.5, \"d_ff\": 0, \"d_attn\": 8, \"n_layer\": 1, \"ctx\": 4}]}]}",
                 ESL_EINVAL, "$.components[0].terms[0].d_model: expected an integer, got a real number");
    expect_error(MINIMAL_HEAD "\"components\": [{\"name\": \"d\", \"stage\": \"denoise\", \"terms\": "
                 "[{\"op\": \"tr\", \"d_model\": -8, \"d_ff\": 0, \"d_attn\": 8, \"n_layer\": 1, \"ctx\": 4}]}]}",
                 ESL_EINVAL, "$.components[0].terms[0].d_model: -8 is out of range");
    expect_error(MINIMAL_HEAD "\"components\": [{\"name\": \"d\", \"stage\": \"denoise\", \"terms\": "
                 "[{\"op\": \"attention\"}]}]}", ESL_EINVAL, "$.components[0].terms[0].op: unknown primitive 'attention'");
    expect_error(MINIMAL_HEAD "\"components\": [{\"name\": \"d\", \"stage\": \"dream\", \"terms\": []}]}",
                 ESL_EINVAL, "$.components[0].stage: 'dream' is not one of text, denoise, decode");
    expect_error(MINIMAL_HEAD "\"components\": [{\"name\": \"e\", \"stage\": \"text\", \"terms\": "
                 "[{\"op\": \"flops\", \"value\": 5}]}]}", ESL_EINVAL, "no component has stage \"denoise\"");
    expect_error(MINIMAL_HEAD "\"components\": [{\"name\": \"d\", \"stage\": \"denoise\", \"terms\": "
                 "[{\"op\": \"flops\", \"value\": 5, \"factors\": [1]}]}]}", ESL_EINVAL, "exactly one of 'value' or 'factors'");
    expect_error(MINIMAL_HEAD "\"components\": [{\"name\": \"d\", \"stage\": \"denoise\", \"terms\": "
                 "[{\"op\": \"flops\", \"factors\": [4294967296, 4294967296]}]}]}", ESL_ERANGE, "overflows");
    expect_error(MINIMAL_HEAD "\"components\": [{\"name\": \"d\", \"stage\": \"denoise\", \"terms\": "
                 "[{\"op\": \"mmdit\", \"d_model\": 8, \"d_ff\": 0, \"d_attn\": 8, \"n_layer\": 1, \"ctx\": \"pixels\"}]}]}",
                 ESL_EINVAL, "$.components[0].terms[0].ctx: 'pixels' is not a token count");
    expect_error(MINIMAL_HEAD "\"components\": [{\"name\": \"d\", \"stage\": \"denoise\", \"terms\": "
                 "[{\"op\": \"mmdit\", \"d_model\": 8, \"d_ff\": 0, \"d_attn\": 8, \"n_layer\": 1, \"ctx\": 4, \"scale\": 1}]}]}",
                 ESL_EINVAL, "'scale' and 'patch' apply only to an image sequence");
    expect_error("{\"format\": \"esl-model/9\", \"name\": \"m\"}", ESL_EINVAL,
                 "$.format: 'esl-model/9' is not a format this version reads");
    expect_error("{\"name\": \"a\", \"name\": \"b\"}", ESL_EPARSE, "duplicate object key");
    expect_error("{\"name\": 99999999999999999999999}", ESL_EPARSE, "too big");
}

static void load_errors(void **state)
{
    (void)state;
    esl_model *m;
    assert_int_equal(esl_model_load(&m, "/nonexistent/x.json"), ESL_ENOTFOUND);
    assert_non_null(strstr(esl_error_last(), "/nonexistent/x.json: cannot open"));
    assert_int_equal(esl_model_load(&m, ESL_SOURCE_DIR "/data/models/sd2.json"), ESL_OK);
    assert_string_equal(m->name, "sd2");
    esl_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(catalogue),
        cmocka_unit_test(parameters),
        cmocka_unit_test(user_folder),
        cmocka_unit_test(errors_name_the_path),
        cmocka_unit_test(load_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
