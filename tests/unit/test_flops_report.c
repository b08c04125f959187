/*
 * test_flops_report.c - FLOP-count reports (esl_flops_report_*): the rows a
 * query counts, with the exact counts of the paper convention; the notes
 * for models left out or counted exactly; the JSON, CSV and table layouts
 * against the tool's golden outputs; and the errors a caller can meet.
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

typedef struct notes {
    char text[32][512];
    size_t n;
} notes;

static void collect(void *ctx, const char *text)
{
    notes *n = ctx;
    if (n->n < 32)
        snprintf(n->text[n->n], sizeof n->text[0], "%s", text);
    n->n++;
}

static esl_flops_report *report(const esl_flops_query *q)
{
    esl_flops_report *r = NULL;
    int rc = esl_flops_report_new(&r, q);
    if (rc != ESL_OK)
        fail_msg("report: %s", esl_error_last());
    return r;
}

/* The whole of a file, or of a stream from its start. */
static char *slurp(FILE *f)
{
    static char buf[1 << 16];
    rewind(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    return buf;
}

static char *golden(const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/cli/cases/%s", ESL_SOURCE_DIR, name);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char *text = strdup(slurp(f));
    fclose(f);
    return text;
}

/* FLUX.1-dev at 1024 squared, 50 steps: Eq. 1's counts, exact. */
static void one_row_counts(void **state)
{
    (void)state;
    esl_flops_query q = {.models = "flux-dev", .req = {.height = 1024, .width = 1024, .steps = 50,
                                                       .prompts = 1}};
    esl_flops_report *r = report(&q);
    assert_int_equal(r->n_models, 1);
    assert_int_equal(r->n_rows, 1);
    const esl_flops *f = &r->rows[0].flops;
    assert_int_equal(f->text_flops, INT64_C(3776587450368));
    assert_int_equal(f->denoise_flops_per_step, INT64_C(66925791019008));
    assert_int_equal(f->decode_flops, INT64_C(10068477083648));
    assert_int_equal(f->image_flops, INT64_C(3360134615484416));
    assert_true(f->flops_cfg == 3346289550950400.0);
    assert_null(r->rows[0].plan);
    assert_int_equal(r->rows[0].exact_only, 0);

    char *text = NULL, *want = golden("flops_flux_json.out");
    assert_int_equal(esl_flops_report_json(&text, r), ESL_OK);
    assert_string_equal(text, want);
    free(text);
    free(want);
    esl_flops_report_free(r);
}

/* The paper's grid: 20 rows per model, sizes then steps, as CSV. */
static void sweep_rows(void **state)
{
    (void)state;
    esl_flops_query q = {.models = "flux-dev,sd2", .sweep = 1, .req = {.prompts = 1}};
    esl_flops_report *r = report(&q);
    assert_int_equal(r->n_models, 2);
    assert_int_equal(r->n_rows, 40);
    assert_int_equal(r->rows[1].req.height, 256);
    assert_int_equal(r->rows[1].req.steps, 20);
    assert_int_equal(r->rows[1].flops.image_flops, INT64_C(206819622864896));
    assert_int_equal(r->rows[19].req.width, 1024);
    assert_int_equal(r->rows[19].req.steps, 50);
    assert_string_equal(r->rows[20].model->name, "sd2");

    FILE *f = tmpfile();
    assert_non_null(f);
    assert_int_equal(esl_flops_report_csv(f, r), ESL_OK);
    char *csv = strdup(slurp(f)), *want = golden("flops_sweep_csv.out");
    /* the golden sweep is of every model: its first 21 lines are flux-dev's */
    char *end = want;
    for (int i = 0; i < 21; i++)
        end = strchr(end, '\n') + 1;
    assert_memory_equal(csv, want, (size_t)(end - want));
    assert_int_equal(strncmp(csv + (end - want), "sd2,256,256,10,0,1,paper,", 25), 0);
    fclose(f);
    free(csv);
    free(want);
    esl_flops_report_free(r);
}

/* One row as a table is its breakdown per component. */
static void table_breakdown(void **state)
{
    (void)state;
    esl_flops_query q = {.models = "sd2", .req = {.height = 512, .width = 768, .steps = 25,
                                                  .prompts = 1, .cfg = 1}};
    esl_flops_report *r = report(&q);
    FILE *f = tmpfile();
    assert_non_null(f);
    assert_int_equal(esl_flops_report_table(f, r), ESL_OK);
    char *want = golden("flops_sd2_table.out");
    assert_string_equal(slurp(f), want);
    free(want);
    fclose(f);
    esl_flops_report_free(r);
}

/* A model without paper terms is counted exactly, and a note says so. */
static void exact_only_note(void **state)
{
    (void)state;
    notes n = {0};
    esl_flops_query q = {.models = "auraflow", .note = collect, .note_ctx = &n,
                         .req = {.height = 1024, .width = 1024, .steps = 28, .prompts = 1,
                                 .cfg = 1}};
    esl_flops_report *r = report(&q);
    assert_int_equal(n.n, 1);
    assert_string_equal(n.text[0], "flops: auraflow has no paper-convention terms: counting it in "
                                   "the exact convention");
    assert_int_equal(r->rows[0].exact_only, 1);
    assert_int_equal(r->rows[0].flops.convention, ESL_CONVENTION_EXACT);
    assert_non_null(r->rows[0].plan);
    FILE *f = tmpfile();
    assert_non_null(f);
    assert_int_equal(esl_flops_report_table(f, r), ESL_OK);
    char *want = golden("flops_model_auraflow_table.out");
    assert_string_equal(slurp(f), want);
    free(want);
    fclose(f);
    esl_flops_report_free(r);

    /* the convention asked for is kept: the paper's cannot count it */
    n.n = 0;
    q.convention_given = 1;
    assert_int_equal(esl_flops_report_new(&r, &q), ESL_EUNSUPPORTED);
    assert_null(r);
    assert_int_equal(n.n, 0);
}

/* "all" in the paper convention leaves out, with a note each, the models
 * without its terms; in the exact one it counts every model. */
static void all_models(void **state)
{
    (void)state;
    notes n = {0};
    esl_flops_query q = {.models = "all", .note = collect, .note_ctx = &n,
                         .req = {.height = 512, .width = 512, .steps = 10, .prompts = 1}};
    esl_flops_report *r = report(&q);
    assert_int_equal(n.n, 11);
    assert_int_equal(r->n_models + n.n, esl_catalog_count());
    assert_string_equal(n.text[0], "note: auraflow has no paper-convention terms: left out of "
                                   "--model all (count it with --convention exact)");
    esl_flops_report_free(r);

    n.n = 0;
    q.convention = ESL_CONVENTION_EXACT;
    q.convention_given = 1;
    r = report(&q);
    assert_int_equal(n.n, 0);
    assert_int_equal(r->n_models, esl_catalog_count());
    for (size_t i = 0; i < r->n_rows; i++)
        assert_non_null(r->rows[i].plan);
    esl_flops_report_free(r);
}

/* A diffusers folder with a component that cannot be counted: noted, and
 * listed in the document under "uncounted". */
static void diffusers_partial(void **state)
{
    (void)state;
    notes n = {0};
    esl_flops_query q = {.diffusers = ESL_TEST_DATA "/bad/diffusers-partial", .note = collect,
                         .note_ctx = &n, .req = {.height = 1024, .width = 1024, .steps = 50,
                                                 .prompts = 1}};
    esl_flops_report *r = report(&q);
    assert_int_equal(n.n, 2);
    assert_non_null(strstr(n.text[0], "flops: component text_encoder_2 (ChatGLMModel) not counted"));
    assert_string_equal(r->models[0]->name, "diffusers-partial");
    assert_int_equal(r->rows[0].flops.convention, ESL_CONVENTION_EXACT);
    char *text = NULL;
    assert_int_equal(esl_flops_report_json(&text, r), ESL_OK);
    assert_non_null(strstr(text, "\"uncounted\": [\n"));
    free(text);
    esl_flops_report_free(r);
}

/* A count for a person: four significant digits, the SI prefix that keeps
 * the mantissa under 1000, and plain FLOPs below a thousand. */
static void human_counts(void **state)
{
    (void)state;
    char b[32];
    assert_string_equal(esl_flops_human(b, 66925791019008.0), "66.93 TFLOP");
    assert_string_equal(esl_flops_human(b, 3360134615484416.0), "3.36 PFLOP");
    assert_string_equal(esl_flops_human(b, 512.0), "512 FLOP");
    assert_string_equal(esl_flops_human(b, 999999.0), "1000 KFLOP");
    assert_string_equal(esl_flops_human(b, 1.5e30), "1.5e+06 YFLOP");
    assert_ptr_equal(esl_flops_human(b, 0.0), b);
}

static void errors(void **state)
{
    (void)state;
    esl_flops_report dummy, *r = &dummy;
    esl_flops_query q = {.models = "flux-dev,no-such-model",
                         .req = {.height = 512, .width = 512, .steps = 10, .prompts = 1}};
    assert_int_equal(esl_flops_report_new(&r, &q), ESL_ENOTFOUND);
    assert_null(r);
    q.arch = "x.json";
    assert_int_equal(esl_flops_report_new(&r, &q), ESL_EINVAL);
    q.arch = NULL;
    q.models = "sd2";
    q.req.height = 500; /* not a multiple of 64 */
    assert_int_equal(esl_flops_report_new(&r, &q), ESL_EINVAL);
    assert_null(r);
    assert_int_equal(esl_flops_report_new(NULL, &q), ESL_EINVAL);
    assert_int_equal(esl_flops_report_json(NULL, NULL), ESL_EINVAL);
    assert_int_equal(esl_flops_report_csv(stdout, NULL), ESL_EINVAL);
    assert_int_equal(esl_flops_report_table(NULL, NULL), ESL_EINVAL);
    esl_flops_report_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_row_counts),   cmocka_unit_test(sweep_rows),
        cmocka_unit_test(table_breakdown),  cmocka_unit_test(exact_only_note),
        cmocka_unit_test(all_models),       cmocka_unit_test(diffusers_partial),
        cmocka_unit_test(errors),           cmocka_unit_test(human_counts),
    };
    unsetenv("ESL_MODEL_PATH");
    setenv("XDG_DATA_HOME", "/nonexistent/esl-test", 1);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
