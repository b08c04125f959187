/*
 * test_data.c - the dataset reader: FLOPs per row from the FLOP engine,
 * optional columns, filters, and every error a dataset can produce, each
 * naming the file, line and column.
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

#define HEAD "model,gpu,dtype,cfg,height,width,steps,prompts,energy_j\n"

static int parse(esl_dataset **out, const char *text)
{
    return esl_dataset_parse(out, text, strlen(text), "t.csv", NULL);
}

static void rows_and_flops(void **state)
{
    (void)state;
    esl_dataset *ds = NULL;
    assert_int_equal(parse(&ds, HEAD "flux-dev,A100,fp16,1,1024,1024,50,100,9.8e6\r\n"
                                     "\n"
                                     "sd2,A4000,fp32,0,512,768,25,3,1234.5\n"),
                     ESL_OK);
    assert_int_equal(ds->n_rows, 2);
    const esl_row *r = &ds->rows[0];
    assert_string_equal(r->model, "flux-dev");
    assert_int_equal(r->cfg, 1);
    assert_int_equal(r->line, 2);
    assert_int_equal(ds->rows[1].line, 4); /* the blank line still counts */
    assert_true(r->present & ESL_ROW_ENERGY);
    assert_int_equal(r->batch_size, 1);

    /* FLOPs_cfg is N * T * denoise * 2^cfg from the FLOP engine. */
    esl_model *m;
    assert_int_equal(esl_catalog_find(&m, "flux-dev"), ESL_OK);
    esl_request req = {.height = 1024, .width = 1024, .steps = 50, .prompts = 100, .cfg = 1};
    esl_flops f;
    assert_int_equal(esl_flops_count(&f, m, &req, ESL_CONVENTION_PAPER), ESL_OK);
    assert_true(r->flops_cfg == f.flops_cfg);
    assert_true(r->flops_cfg == 100.0 * 50 * 2 * (double)f.denoise_flops_per_step);
    esl_model_free(m);
    esl_dataset_free(ds);
}

static void optional_columns(void **state)
{
    (void)state;
    esl_dataset *ds = NULL;
    assert_int_equal(parse(&ds, "source,energy_kind,batch_size,model,gpu,dtype,cfg,height,width,"
                                "steps,prompts,energy_j,duration_s,idle_w\n"
                                "\"lab, run 3\",dynamic,4,sd2,A100,fp16,0,512,512,10,8,50,2.5,60\n"
                                ",,,sd2,A100,fp16,0,512,512,10,8,50,,\n"),
                     ESL_OK);
    const esl_row *r = &ds->rows[0];
    assert_string_equal(r->source, "lab, run 3");
    assert_int_equal(r->energy_kind, ESL_ENERGY_DYNAMIC);
    assert_int_equal(r->batch_size, 4);
    assert_true(r->duration_s == 2.5 && r->idle_w == 60);
    assert_int_equal(ds->rows[1].present, ESL_ROW_ENERGY);
    assert_null(ds->rows[1].source);
    esl_dataset_free(ds);
}

static void configs_without_energy(void **state)
{
    (void)state;
    esl_dataset *ds = NULL;
    esl_data_opts o = {.no_energy = 1};
    const char *text = "model,gpu,dtype,cfg,height,width,steps,prompts\nsd2,A100,fp16,0,512,512,10,1\n";
    assert_int_equal(esl_dataset_parse(&ds, text, strlen(text), "c.csv", &o), ESL_OK);
    assert_int_equal(ds->rows[0].present & ESL_ROW_ENERGY, 0);
    esl_dataset_free(ds);
    assert_int_equal(parse(&ds, text), ESL_EINVAL);
    assert_string_equal(esl_error_last(), "t.csv:1: missing column 'energy_j'");
}

static void errors(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int status;
        const char *message;
    } cases[] = {
        {"", ESL_EPARSE, "t.csv: empty input: a header line is required"},
        {"model,gpu,dtype,cfg,height,width,steps,energy_j\n", ESL_EINVAL,
         "t.csv:1: missing column 'prompts'"},
        {"model,gpu,dtype,cfg,height,width,steps,prompts,energy_j,color\n", ESL_EINVAL,
         "t.csv:1: unknown column 'color' (known: model, gpu, dtype, cfg, height, width, steps, "
         "prompts, energy_j, batch_size, energy_kind, duration_s, idle_w, source)"},
        {"model,gpu,model\n", ESL_EINVAL, "t.csv:1: column 'model' appears twice"},
        {HEAD "sd2,A100,fp16,0,512,512,-3,1,5\n", ESL_EINVAL,
         "t.csv:2: column 'steps': '-3' is not a positive integer"},
        {HEAD "sd2,A100,fp16,0,512,512,ten,1,5\n", ESL_EPARSE,
         "t.csv:2: column 'steps': 'ten' is not an integer"},
        {HEAD "sd2,A100,fp16,0,512,512,10,1,lots\n", ESL_EPARSE,
         "t.csv:2: column 'energy_j': 'lots' is not a finite number"},
        {HEAD "sd2,A100,fp16,0,512,512,10,1,0\n", ESL_EINVAL,
         "t.csv:2: column 'energy_j': '0' is not a positive number"},
        {HEAD "sd2,A100,fp16,0,512,512,10,1,-4.5\n", ESL_EINVAL,
         "t.csv:2: column 'energy_j': '-4.5' is not a positive number"},
        {HEAD "sd2,A100,fp16,0,512,512,10,1,nan\n", ESL_EPARSE,
         "t.csv:2: column 'energy_j': 'nan' is not a finite number"},
        {HEAD "sd2,A100,fp16,2,512,512,10,1,5\n", ESL_EINVAL,
         "t.csv:2: column 'cfg': '2' is not 0 or 1"},
        {HEAD "sd2,A100,fp16,0,512,512,10,1\n", ESL_EPARSE, "t.csv:2: 8 fields, the header has 9"},
        {HEAD "sd2,,fp16,0,512,512,10,1,5\n", ESL_EINVAL, "t.csv:2: column 'gpu' is empty"},
        {HEAD "\nflux,A100,fp16,0,512,512,10,1,5\n", ESL_ENOTFOUND,
         "t.csv:3: column 'model': unknown model 'flux' (known: flux-dev, qwen-image, sd2, "
         "sd35-large)"},
        {HEAD "sd2,A100,fp16,0,500,512,10,1,5\n", ESL_EINVAL, NULL},
        {HEAD "sd2,A100,\"fp16,0,512,512,10,1,5\n", ESL_EPARSE,
         "t.csv: a quoted field is not closed at the end of the input"},
        {HEAD "sd2,A100,fp\"16,0,512,512,10,1,5\n", ESL_EPARSE, NULL},
        {"model,gpu,dtype,cfg,height,width,steps,prompts,energy_j,energy_kind\n"
         "sd2,A100,fp16,0,512,512,10,1,5,peak\n", ESL_EINVAL,
         "t.csv:2: column 'energy_kind': 'peak' is not 'total' or 'dynamic'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        esl_dataset *ds = (esl_dataset *)1;
        int rc = parse(&ds, cases[i].text);
        if (rc != cases[i].status)
            fail_msg("case %zu: status %d (%s)", i, rc, esl_error_last());
        assert_null(ds);
        if (cases[i].message != NULL)
            assert_string_equal(esl_error_last(), cases[i].message);
        else
            assert_true(strncmp(esl_error_last(), "t.csv:2: ", 9) == 0);
    }
}

static void where(void **state)
{
    (void)state;
    esl_dataset *ds = NULL, *sub = NULL;
    assert_int_equal(esl_dataset_builtin(&ds, ESL_CONVENTION_PAPER), ESL_OK);
    assert_int_equal(ds->n_rows, 280);
    assert_int_equal(esl_dataset_where(&sub, ds, "model=flux-dev,qwen-image"), ESL_OK);
    assert_int_equal(sub->n_rows, 120);
    esl_dataset_free(sub);
    assert_int_equal(esl_dataset_where(&sub, ds, "dtype=fp32"), ESL_OK);
    assert_int_equal(sub->n_rows, 120);
    esl_dataset_free(sub);
    assert_int_equal(esl_dataset_where(&sub, ds, "gpu=H100"), ESL_ENOTFOUND);
    assert_string_equal(esl_error_last(), "builtin:paper_a100.csv: no row has gpu 'H100' (present: A100)");
    assert_int_equal(esl_dataset_where(&sub, ds, "color=red"), ESL_EINVAL);
    assert_int_equal(esl_dataset_where(&sub, ds, "model="), ESL_EINVAL);
    esl_dataset_free(ds);
}

static void load_missing_file(void **state)
{
    (void)state;
    esl_dataset *ds = NULL;
    /* a missing file is bad input (exit 2), like a missing model or trace */
    assert_int_equal(esl_dataset_load(&ds, "/nonexistent/d.csv", NULL), ESL_ENOTFOUND);
    assert_string_equal(esl_error_last(), "/nonexistent/d.csv: cannot open: No such file or directory");
    assert_int_equal(esl_dataset_load(&ds, ESL_TEST_DATA, NULL), ESL_EINVAL);
    assert_string_equal(esl_error_last(), ESL_TEST_DATA ": is a directory, not a CSV file");
    assert_null(ds);
}

/* A UTF-8 byte order mark before the header (spreadsheets write one) is
 * not part of the first column's name. */
static void byte_order_mark(void **state)
{
    (void)state;
    esl_dataset *ds = NULL;
    assert_int_equal(parse(&ds, "\xEF\xBB\xBF" HEAD "sd2,A4000,fp32,0,512,768,25,3,1234.5\n"), ESL_OK);
    assert_int_equal(ds->n_rows, 1);
    assert_string_equal(ds->rows[0].model, "sd2");
    esl_dataset_free(ds);
    /* only at the very start: elsewhere it is still an unknown column */
    assert_int_equal(parse(&ds, "model,\xEF\xBB\xBFgpu,dtype,cfg,height,width,steps,prompts,energy_j\n"),
                     ESL_EINVAL);
}

static void grid(void **state)
{
    (void)state;
    esl_grid g;
    assert_true(esl_grid_count() >= 21);
    assert_int_equal(esl_grid_find(&g, "world"), ESL_OK);
    assert_string_equal(g.zone, "WORLD");
    assert_true(g.gco2e_per_kwh == 473.05 && g.year == 2024);
    assert_int_equal(esl_grid_find(&g, "XX"), ESL_ENOTFOUND);
    esl_footprint fp;
    esl_footprint_of(&fp, 3.6e6, 1.5, 400, 0.2);
    assert_true(fabs(fp.facility_energy_j - 5.4e6) < 1e-6);
    assert_true(fabs(fp.gco2e - 600) < 1e-9 && fabs(fp.cost - 0.3) < 1e-12);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rows_and_flops),   cmocka_unit_test(optional_columns),
        cmocka_unit_test(configs_without_energy), cmocka_unit_test(errors),
        cmocka_unit_test(where),            cmocka_unit_test(load_missing_file),
        cmocka_unit_test(byte_order_mark),
        cmocka_unit_test(grid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
