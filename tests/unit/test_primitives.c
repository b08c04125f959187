/*
 * test_primitives.c - the Table 4 primitives against the exact reference
 * values in tests/data/reference/flops_primitives.csv, and their guards.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "esl/esl.h"

/* Value of `key=` in a space-separated "k=v k=v" list. */
static int64_t arg(const char *args, const char *key)
{
    char pat[32];
    snprintf(pat, sizeof pat, "%s=", key);
    for (const char *p = args; (p = strstr(p, pat)) != NULL; p++)
        if (p == args || p[-1] == ' ')
            return strtoll(p + strlen(pat), NULL, 10);
    fail_msg("key %s missing in '%s'", key, args);
    return -1;
}

static void reference_values(void **state)
{
    (void)state;
    FILE *f = fopen(ESL_TEST_DATA "/reference/flops_primitives.csv", "r");
    assert_non_null(f);
    char line[512];
    int rows = 0;
    assert_non_null(fgets(line, sizeof line, f)); /* header */
    while (fgets(line, sizeof line, f) != NULL) {
        char fn[32], args[256];
        long long expect;
        assert_int_equal(sscanf(line, "%31[^,],%255[^,],%lld", fn, args, &expect), 3);
        int64_t got = -1;
        int rc;
        if (strcmp(fn, "conv") == 0)
            rc = esl_flops_conv(&got, arg(args, "k"), arg(args, "cin"), arg(args, "cout"),
                                arg(args, "h"), arg(args, "w"));
        else if (strcmp(fn, "res") == 0)
            rc = esl_flops_res(&got, arg(args, "k"), arg(args, "cin"), arg(args, "cout"),
                               arg(args, "h"), arg(args, "w"));
        else if (strcmp(fn, "tr") == 0)
            rc = esl_flops_tr(&got, arg(args, "d_model"), arg(args, "d_ff"), arg(args, "d_attn"),
                              arg(args, "n_layer"), arg(args, "n_ctx"));
        else if (strcmp(fn, "mmdit") == 0)
            rc = esl_flops_mmdit(&got, arg(args, "d_model"), arg(args, "d_ff"), arg(args, "d_attn"),
                                 arg(args, "n_layer"), arg(args, "n_ctx"));
        else if (strcmp(fn, "crosstr") == 0)
            rc = esl_flops_crosstr(&got, arg(args, "d_q"), arg(args, "d_k"), arg(args, "d_ff"),
                                   arg(args, "d_attn"), arg(args, "n_layer"), arg(args, "n_q"),
                                   arg(args, "n_k"));
        else if (strcmp(fn, "decoder") == 0)
            rc = esl_flops_decoder(&got, arg(args, "H"), arg(args, "W"), 16);
        else
            fail_msg("unknown primitive %s", fn);
        assert_int_equal(rc, ESL_OK);
        if (got != expect)
            fail_msg("%s(%s) = %lld, expected %lld", fn, args, (long long)got, expect);
        rows++;
    }
    fclose(f);
    assert_int_equal(rows, 6);
}

static void overflow_is_an_error(void **state)
{
    (void)state;
    int64_t out = 42;
    assert_int_equal(esl_flops_conv(&out, 3, 1 << 20, 1 << 20, 1 << 20, 1 << 20), ESL_ERANGE);
    assert_int_equal(out, 42);
    assert_non_null(strstr(esl_error_last(), "overflow"));
    assert_int_equal(esl_flops_mmdit(&out, 3072, 12288, 3072, 19, INT64_C(1) << 40), ESL_ERANGE);
    assert_int_equal(esl_flops_tr(&out, 1, 1, INT64_MAX, 1, 1), ESL_ERANGE);
    assert_int_equal(esl_flops_crosstr(&out, 1, 1, INT64_MAX, 1, 1, 1, 1), ESL_ERANGE);
    assert_int_equal(esl_flops_decoder(&out, INT64_C(1) << 40, INT64_C(1) << 40, 16), ESL_ERANGE);
}

static void negative_is_an_error(void **state)
{
    (void)state;
    int64_t out;
    assert_int_equal(esl_flops_conv(&out, 3, -4, 320, 64, 64), ESL_EINVAL);
    assert_int_equal(esl_flops_tr(&out, 768, -1, 768, 12, 77), ESL_EINVAL);
    assert_int_equal(esl_flops_decoder(&out, 1020, 1024, 16), ESL_EINVAL);
}

/* The formulas, recomputed independently in doubles on a few shapes. */
static void formulas_match_table4(void **state)
{
    (void)state;
    int64_t out;
    assert_int_equal(esl_flops_tr(&out, 512, 256, 512, 1, 4096), ESL_OK);
    double p = 2.0 * 512 * 1 * (2 * 512 + 256), c = 2 * p + 2.0 * 1 * 4096 * 512;
    assert_true((double)out == 4096 * c);
    assert_int_equal(esl_flops_crosstr(&out, 640, 1024, 3840, 640, 1, 1024, 77), ESL_OK);
    p = 2.0 * 1 * (640.0 * (640 + 3840) + 1024.0 * 640);
    c = 2 * p + 2.0 * 1 * 77 * 640;
    assert_true((double)out == 1024 * c);
    int64_t a, b;
    assert_int_equal(esl_flops_res(&out, 3, 320, 640, 32, 32), ESL_OK);
    assert_int_equal(esl_flops_conv(&a, 3, 320, 640, 32, 32), ESL_OK);
    assert_int_equal(esl_flops_conv(&b, 3, 640, 640, 32, 32), ESL_OK);
    assert_int_equal(out, a + b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reference_values),
        cmocka_unit_test(overflow_is_an_error),
        cmocka_unit_test(negative_is_an_error),
        cmocka_unit_test(formulas_match_table4),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
