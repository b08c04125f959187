/*
 * test_flops.c - the FLOP engine on the catalogue models: the paper-formula
 * reference values, Eq. 1's composition, Figure 1's claim, the SD2
 * reconstruction and the errors a user can meet.
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

static esl_model *load(const char *name)
{
    esl_model *m = NULL;
    int rc = esl_catalog_find(&m, name);
    if (rc != ESL_OK)
        fail_msg("%s: %s", name, esl_error_last());
    return m;
}

static esl_flops count(const esl_model *m, int64_t h, int64_t w, int64_t steps, int cfg,
                       int64_t prompts)
{
    esl_request r = {.height = h, .width = w, .steps = steps, .cfg = cfg, .prompts = prompts};
    esl_flops f;
    int rc = esl_flops_count(&f, m, &r, ESL_CONVENTION_PAPER);
    if (rc != ESL_OK)
        fail_msg("%s %lldx%lld: %s", m->name, (long long)h, (long long)w, esl_error_last());
    return f;
}

static void assert_rel(double got, double want, double tol, const char *what)
{
    if (!(fabs(got - want) <= tol * fabs(want)))
        fail_msg("%s: got %.17g, want %.17g", what, got, want);
}

/* Every row of the paper-formula reference, to 1e-9 relative (they are exact). */
static void paper_formula_reference(void **state)
{
    (void)state;
    FILE *f = fopen(ESL_TEST_DATA "/reference/flops_paper_formulas.csv", "r");
    assert_non_null(f);
    char line[512], name[64];
    long long h, w, denoise, text, decode;
    int rows = 0;
    assert_non_null(fgets(line, sizeof line, f));
    while (fgets(line, sizeof line, f) != NULL) {
        assert_int_equal(sscanf(line, "%63[^,],%lld,%lld,%lld,%lld,%lld", name, &h, &w, &denoise,
                                &text, &decode), 6);
        esl_model *m = load(name);
        esl_flops r = count(m, h, w, 30, 0, 1);
        assert_rel((double)r.denoise_flops_per_step, (double)denoise, 1e-9, "denoise");
        assert_rel((double)r.text_flops, (double)text, 1e-9, "text");
        assert_rel((double)r.decode_flops, (double)decode, 1e-9, "decode");
        /* They are integers: the match is in fact exact. */
        assert_int_equal(r.denoise_flops_per_step, denoise);
        assert_int_equal(r.text_flops, text);
        assert_int_equal(r.decode_flops, decode);
        esl_model_free(m);
        rows++;
    }
    fclose(f);
    assert_int_equal(rows, 15);
}

/* Eq. 1 and section 3.3's FLOPs_cfg. */
static void eq1_composition(void **state)
{
    (void)state;
    esl_model *m = load("flux-dev");
    esl_flops a = count(m, 512, 768, 20, 0, 1);
    esl_flops b = count(m, 512, 768, 20, 1, 100);
    assert_int_equal(a.image_flops, a.text_flops + 20 * a.denoise_flops_per_step + a.decode_flops);
    assert_int_equal(b.image_flops, b.text_flops + 40 * b.denoise_flops_per_step + b.decode_flops);
    assert_true(b.total_flops == 100.0 * (double)b.image_flops);
    assert_true(b.flops_cfg == 100.0 * 20 * 2 * (double)b.denoise_flops_per_step);
    assert_true(a.flops_cfg == 20.0 * (double)a.denoise_flops_per_step);
    /* Height and width are independent; the MMDiT count depends on H*W only. */
    esl_flops c = count(m, 768, 512, 20, 0, 1);
    assert_int_equal(c.denoise_flops_per_step, a.denoise_flops_per_step);
    esl_flops d = count(m, 512, 512, 20, 0, 1);
    assert_true(d.denoise_flops_per_step < a.denoise_flops_per_step);
    esl_model_free(m);
}

/* Figure 1: with T = 10, denoising is over 90% of all FLOPs. */
static void figure1_denoising_dominates(void **state)
{
    (void)state;
    static const char *const names[] = {"flux-dev", "sd35-large", "qwen-image"};
    for (size_t i = 0; i < 3; i++) {
        esl_model *m = load(names[i]);
        for (int64_t side = 256; side <= 1024; side += 256) {
            esl_flops f = count(m, side, side, 10, 0, 1);
            double share = 10.0 * (double)f.denoise_flops_per_step / (double)f.image_flops;
            if (!(share > 0.90))
                fail_msg("%s %lld: denoising share %.4f", names[i], (long long)side, share);
        }
        esl_model_free(m);
    }
}

/* SD2: the reconstructed U-Net, checked against an independent
 * re-implementation of the same term list (tests/unit/sd2_reference.py). */
static void sd2_reconstruction(void **state)
{
    (void)state;
    esl_model *m = load("sd2");
    assert_int_equal(m->pixel_multiple, 64);
    assert_int_equal(count(m, 256, 256, 10, 0, 1).denoise_flops_per_step, INT64_C(184709652480));
    assert_int_equal(count(m, 512, 512, 10, 0, 1).denoise_flops_per_step, INT64_C(784606986240));
    assert_int_equal(count(m, 1024, 1024, 10, 0, 1).denoise_flops_per_step, INT64_C(3873228718080));
    assert_int_equal(count(m, 512, 768, 10, 0, 1).denoise_flops_per_step, INT64_C(1222818119680));
    assert_int_equal(count(m, 512, 512, 10, 0, 1).text_flops, INT64_C(44847953920));
    int64_t dec;
    assert_int_equal(esl_flops_decoder(&dec, 512, 512, 4), ESL_OK);
    assert_int_equal(count(m, 512, 512, 10, 0, 1).decode_flops, dec);
    esl_model_free(m);
}

static void text_tokens_override(void **state)
{
    (void)state;
    esl_model *m = load("flux-dev");
    esl_request r = {.height = 1024, .width = 1024, .steps = 1, .prompts = 1};
    esl_flops base, fewer;
    assert_int_equal(esl_flops_count(&base, m, &r, ESL_CONVENTION_PAPER), ESL_OK);
    r.text_tokens = 256;
    assert_int_equal(esl_flops_count(&fewer, m, &r, ESL_CONVENTION_PAPER), ESL_OK);
    int64_t expect;
    int64_t a, b;
    assert_int_equal(esl_flops_mmdit(&a, 3072, 12288, 3072, 19, 4096 + 256), ESL_OK);
    assert_int_equal(esl_flops_tr(&b, 3072, 12288, 3072, 38, 4096 + 256), ESL_OK);
    expect = a + b;
    assert_int_equal(fewer.denoise_flops_per_step, expect);
    assert_true(fewer.text_flops < base.text_flops); /* T5 runs over the text tokens too */
    esl_model_free(m);
}

static void request_errors(void **state)
{
    (void)state;
    esl_model *m = load("flux-dev");
    esl_flops f;
    esl_request r = {.height = 520, .width = 512, .steps = 10, .prompts = 1};
    assert_int_equal(esl_flops_count(&f, m, &r, ESL_CONVENTION_PAPER), ESL_EINVAL);
    assert_non_null(strstr(esl_error_last(), "height 520 is not a multiple of 16"));
    r.height = 512, r.width = 8;
    assert_int_equal(esl_flops_count(&f, m, &r, ESL_CONVENTION_PAPER), ESL_EINVAL);
    assert_non_null(strstr(esl_error_last(), "width 8"));
    r.width = 512, r.steps = 0;
    assert_int_equal(esl_flops_count(&f, m, &r, ESL_CONVENTION_PAPER), ESL_EINVAL);
    assert_non_null(strstr(esl_error_last(), "steps 0"));
    r.steps = 10, r.prompts = -5;
    assert_int_equal(esl_flops_count(&f, m, &r, ESL_CONVENTION_PAPER), ESL_EINVAL);
    r.prompts = 1, r.height = r.width = INT64_C(1) << 40;
    assert_int_equal(esl_flops_count(&f, m, &r, ESL_CONVENTION_PAPER), ESL_ERANGE);
    assert_non_null(strstr(esl_error_last(), "overflow"));
    r.height = r.width = 1024, r.steps = INT64_C(1) << 50;
    assert_int_equal(esl_flops_count(&f, m, &r, ESL_CONVENTION_PAPER), ESL_ERANGE);
    /* Huge prompt counts are fine: totals are doubles. */
    r.steps = 50, r.prompts = INT64_C(1) << 40;
    assert_int_equal(esl_flops_count(&f, m, &r, ESL_CONVENTION_PAPER), ESL_OK);
    assert_true(f.total_flops > 1e27);
    esl_model_free(m);

    esl_model *sd2 = load("sd2");
    r = (esl_request){.height = 512 + 32, .width = 512, .steps = 10, .prompts = 1};
    assert_int_equal(esl_flops_count(&f, sd2, &r, ESL_CONVENTION_PAPER), ESL_EINVAL);
    assert_non_null(strstr(esl_error_last(), "multiple of 64"));
    esl_model_free(sd2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(paper_formula_reference),
        cmocka_unit_test(eq1_composition),
        cmocka_unit_test(figure1_denoising_dominates),
        cmocka_unit_test(sd2_reconstruction),
        cmocka_unit_test(text_tokens_override),
        cmocka_unit_test(request_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
