/*
 * test_estimate.c - the prediction document (esl/estimate.h): the built-in
 * law's estimate of FLUX.1-dev at 1024x1024 is the law's own prediction,
 * its carbon and cost follow the total energy, the PUE and the grid; the
 * table, CSV and JSON carry those numbers and the provenance; a file of
 * configurations names the line of a row that cannot be priced; a fleet
 * needs a law with a time; bad options are refused before anything is
 * written.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "esl/esl.h"
#include "test_io.h"

static esl_law *builtin;
static esl_model *flux;

static int setup(void **state)
{
    (void)state;
    if (esl_law_builtin(&builtin, ESL_CONVENTION_PAPER, NULL) != ESL_OK)
        return -1;
    return esl_catalog_find(&flux, "flux-dev") == ESL_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    esl_law_free(builtin);
    esl_model_free(flux);
    return 0;
}

/* FLUX.1-dev, 1024x1024, 50 steps, no CFG, fp16 on A100, `prompts` images. */
static esl_row flux_row(const esl_law *law, int64_t prompts)
{
    esl_row row = {.model = flux->name, .gpu = "A100", .dtype = "fp16", .height = 1024,
                   .width = 1024, .steps = 50, .prompts = prompts, .batch_size = 1,
                   .num_gpus = 1};
    assert_int_equal(esl_row_set_work(&row, flux, law->convention), ESL_OK);
    return row;
}

static void test_numbers(void **state)
{
    (void)state;
    esl_row row = flux_row(builtin, 1);
    esl_prediction p;
    assert_int_equal(esl_law_predict(&p, builtin, &row, NULL), ESL_OK);
    esl_grid de;
    assert_int_equal(esl_grid_find(&de, "DE"), ESL_OK);
    esl_estimate_opts opts = {.pue = 1.2, .zone = &de, .has_price = 1, .price_per_kwh = 0.3};
    esl_estimate e;
    assert_int_equal(esl_estimate_of(&e, builtin, &row, &opts), ESL_OK);
    assert_true(e.prediction.energy_j == p.energy_j);
    /* the golden `esl predict` table: 8262 J, 1.019e+04 J with idle power */
    assert_true(fabs(e.prediction.energy_j - 8262) < 1);
    assert_true(isfinite(e.prediction.total_j));
    double kwh = e.prediction.total_j * 1.2 / 3.6e6;
    assert_true(fabs(e.footprint.facility_energy_j - e.prediction.total_j * 1.2) < 1e-6);
    assert_true(fabs(e.footprint.gco2e - kwh * de.gco2e_per_kwh) < 1e-9);
    assert_true(fabs(e.footprint.cost - kwh * 0.3) < 1e-12);
    assert_int_equal(e.has_fleet, 0);

    opts.rate = 20;
    assert_int_equal(esl_estimate_of(&e, builtin, &row, &opts), ESL_OK);
    assert_int_equal(e.has_fleet, 1);
    assert_true(e.fleet.gpus >= 1 && e.fleet.utilisation > 0 && e.fleet.utilisation <= 1);
    assert_true(fabs(e.fleet.tco2e_per_year - e.fleet.kwh_per_day * 365 * de.gco2e_per_kwh / 1e6) <
                1e-9 * e.fleet.tco2e_per_year);
}

static void test_refused(void **state)
{
    (void)state;
    esl_row row = flux_row(builtin, 1);
    esl_estimate e;
    esl_grid world;
    assert_int_equal(esl_grid_find(&world, "WORLD"), ESL_OK);
    esl_estimate_opts low = {.pue = 0.5};
    assert_int_equal(esl_estimate_of(&e, builtin, &row, &low), ESL_EINVAL);
    esl_estimate_opts both = {.zone = &world, .has_grid = 1, .gco2e_per_kwh = 300};
    assert_int_equal(esl_estimate_of(&e, builtin, &row, &both), ESL_EINVAL);
    FILE *f = tmpfile();
    assert_non_null(f);
    assert_int_equal(esl_estimate_write(f, builtin, &row, &both), ESL_EINVAL);
    char *text = captured_text(f);
    assert_string_equal(text, "");
    free(text);

    /* a law trained on no row with a duration predicts no time: no fleet */
    esl_law *law = NULL;
    assert_int_equal(esl_law_load(&law, ESL_TEST_DATA "/law-flux.json"), ESL_OK);
    esl_row r2 = flux_row(law, 1);
    esl_estimate_opts rate = {.rate = 5};
    assert_int_equal(esl_estimate_of(&e, law, &r2, &rate), ESL_EUNSUPPORTED);
    assert_non_null(strstr(esl_error_last(), "no row with a duration"));
    rate.rate = 0;
    assert_int_equal(esl_estimate_of(&e, law, &r2, &rate), ESL_OK);
    assert_true(isnan(e.prediction.time_s));
    esl_law_free(law);
}

static void test_json(void **state)
{
    (void)state;
    esl_row row = flux_row(builtin, 4);
    esl_estimate_opts opts = {.has_grid = 1, .gco2e_per_kwh = 100, .rate = 2};
    esl_estimate e;
    assert_int_equal(esl_estimate_of(&e, builtin, &row, &opts), ESL_OK);
    char *text = NULL;
    assert_int_equal(esl_estimate_json(&text, builtin, &row, &opts), ESL_OK);
    json_error_t err;
    json_t *doc = json_loads(text, 0, &err);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "model")), "flux-dev");
    assert_int_equal(json_integer_value(json_object_get(doc, "prompts")), 4);
    assert_true(json_real_value(json_object_get(doc, "energy_j")) == e.prediction.energy_j);
    assert_true(json_real_value(json_object_get(doc, "gco2e")) == e.footprint.gco2e);
    assert_true(json_is_null(json_object_get(doc, "cost")));
    assert_true(json_is_null(json_object_get(doc, "zone")));
    assert_string_equal(json_string_value(json_object_get(doc, "grid_source")), "given (--grid)");
    assert_non_null(strstr(json_string_value(json_object_get(doc, "law")), "built-in by-kind"));
    json_t *fleet = json_object_get(doc, "fleet");
    assert_int_equal(json_integer_value(json_object_get(fleet, "gpus")), e.fleet.gpus);
    /* the text is esl_json_text's layout: "fleet" comes last */
    assert_string_equal(strrchr(text, '}') + 1, "\n");
    assert_true(strstr(text, "\"fleet\"") > strstr(text, "\"grid_source\""));
    json_decref(doc);
    free(text);
}

static void test_table_and_csv(void **state)
{
    (void)state;
    esl_row row = flux_row(builtin, 1);
    esl_estimate_opts opts = {0};
    FILE *f = tmpfile();
    assert_non_null(f);
    assert_int_equal(esl_estimate_header(f, &opts, 0), ESL_OK);
    assert_int_equal(esl_estimate_write(f, builtin, &row, &opts), ESL_OK);
    char *text = captured_text(f);
    assert_non_null(strstr(text, "flux-dev, 1024x1024, 50 steps, no CFG, fp16, A100, 1 prompt "
                                  "(law: built-in by-kind form"));
    assert_non_null(strstr(text, "FLOPs_cfg              3.729 PFLOP\n"));
    assert_non_null(strstr(text, "energy                 8262 J (95% prediction interval 7246 "
                                  ".. 9421 J)\n"));
    assert_null(strstr(text, "carbon"));
    free(text);

    opts.format = ESL_ESTIMATE_CSV;
    opts.has_price = 1;
    opts.price_per_kwh = 0.25;
    assert_non_null(f = tmpfile());
    assert_int_equal(esl_estimate_header(f, &opts, 0), ESL_OK);
    assert_int_equal(esl_estimate_write(f, builtin, &row, &opts), ESL_OK);
    text = captured_text(f);
    assert_true(strncmp(text, "model,gpu,dtype,cfg,height,width,steps,prompts,flops_cfg,", 57) == 0);
    char *line = strchr(text, '\n') + 1;
    assert_true(strncmp(line, "flux-dev,A100,fp16,0,1024,1024,50,1,", 36) == 0);
    size_t commas = 0;
    for (const char *c = line; *c; c++)
        commas += *c == ',';
    assert_int_equal(commas, 18);
    /* the carbon column is empty, the cost is not */
    assert_non_null(strstr(line, ",,0."));
    free(text);
}

static void test_configs(void **state)
{
    (void)state;
    esl_estimate_opts opts = {.format = ESL_ESTIMATE_JSON};
    FILE *in = fopen(ESL_TEST_DATA "/configs.csv", "rb");
    FILE *f = tmpfile();
    assert_non_null(in);
    assert_non_null(f);
    assert_int_equal(esl_estimate_configs(f, in, "configs.csv", builtin, NULL, &opts), ESL_OK);
    fclose(in);
    char *text = captured_text(f);
    json_error_t err;
    json_t *doc = json_loads(text, 0, &err);
    assert_true(json_is_array(doc));
    assert_int_equal(json_array_size(doc), 4);
    json_t *first = json_array_get(doc, 0);
    assert_int_equal(json_integer_value(json_object_get(first, "prompts")), 10);
    assert_int_equal(json_integer_value(json_object_get(first, "height")), 512);
    assert_null(json_object_get(first, "fleet"));
    json_decref(doc);
    free(text);

    /* the row that cannot be priced is named by its line; a table's earlier
     * rows are already written, a JSON array is not */
    opts.format = ESL_ESTIMATE_TABLE;
    in = fopen(ESL_TEST_DATA "/bad/configs-unseen-gpu.csv", "rb");
    assert_non_null(in);
    assert_non_null(f = tmpfile());
    assert_int_equal(esl_estimate_configs(f, in, "x.csv", builtin, NULL, &opts), ESL_ENOTFOUND);
    fclose(in);
    assert_true(strncmp(esl_error_last(), "x.csv:3: GPU 'H300'", 19) == 0);
    text = captured_text(f);
    assert_true(strncmp(text, "flux-dev     A100   fp16   no 512x512       20      10 ", 55) == 0);
    assert_null(strchr(strchr(text, '\n') + 1, '\n'));
    free(text);
}

static void test_zones(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    assert_non_null(f);
    assert_int_equal(esl_estimate_zones(f), ESL_OK);
    char *text = captured_text(f);
    assert_true(strncmp(text, "zone   name                    gCO2e/kWh  year\n", 47) == 0);
    assert_non_null(strstr(text, "\nWORLD "));
    assert_non_null(strstr(text, "\nSource: Ember"));
    size_t lines = 0;
    for (const char *c = text; *c; c++)
        lines += *c == '\n';
    assert_int_equal(lines, (size_t)esl_grid_count() + 3);
    free(text);
    assert_int_equal(esl_estimate_zones(NULL), ESL_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_table_and_csv),
        cmocka_unit_test(test_configs),
        cmocka_unit_test(test_zones),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
