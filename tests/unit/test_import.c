/*
 * test_import.c - other tools' records (esl/import.h) and storing many runs
 * in one transaction: CodeCarbon kWh become joules, the CodeCarbon stamp is
 * the end of the run, Zeus windows sum their GPUs, ML.ENERGY results map
 * their pipeline and GPU to esl's names, and a batch whose last
 * run cannot be written leaves the store without any of them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "esl/esl.h"

#define DATA ESL_TEST_DATA "/import/"

static void test_codecarbon(void **state)
{
    (void)state;
    esl_import *imp = NULL;
    assert_int_equal(esl_import_read(&imp, DATA "codecarbon.csv", ESL_IMPORT_CODECARBON), ESL_OK);
    assert_int_equal(imp->n_runs, 2);
    const esl_record *r = imp->runs[0].record;
    assert_int_equal(r->meter, ESL_METER_IMPORTED);
    assert_true(r->energy_j == 0.008412 * 3.6e6);
    assert_true(r->dynamic_j == r->energy_j);
    assert_true(r->duration_s == 120.5);
    assert_true((r->flags & ESL_FLAG_NO_IDLE) != 0);
    /* 2026-03-02T10:15:30 less 120.5 s: 1772446530 - 120.5 */
    assert_true(r->start_unix_s == 1772446530.0 - 120.5);
    assert_string_equal(r->devices[0].info.name, "NVIDIA A100-SXM4-40GB");
    assert_string_equal(imp->runs[1].command, "import codecarbon " DATA "codecarbon.csv:3");
    esl_import_free(imp);
}

static void test_zeus(void **state)
{
    (void)state;
    esl_import *imp = NULL;
    assert_int_equal(esl_import_read(&imp, DATA "zeus.json", ESL_IMPORT_ZEUS), ESL_OK);
    assert_int_equal(imp->n_runs, 2);
    assert_int_equal(imp->runs[1].record->n_devices, 2);
    assert_true(imp->runs[1].record->energy_j == 12880.25 + 12101.0);
    assert_true(imp->runs[1].record->duration_s == 58.5);
    esl_import_free(imp);
    assert_int_equal(esl_import_read(&imp, DATA "zeus-unit.json", ESL_IMPORT_ZEUS), ESL_EINVAL);
    assert_null(imp);
    assert_non_null(strstr(esl_error_last(), "gpu_energy.0"));
    assert_int_equal(esl_import_read(&imp, DATA "missing.json", ESL_IMPORT_ZEUS), ESL_EIO);
}

static const char *label(const esl_imported *r, const char *key)
{
    for (size_t i = 0; i < r->n_labels; i++)
        if (strcmp(r->labels[i].key, key) == 0)
            return r->labels[i].value;
    return NULL;
}

static void test_mlenergy(void **state)
{
    (void)state;
    esl_import *imp = NULL;
    assert_int_equal(esl_import_read(&imp, DATA "mlenergy.json", ESL_IMPORT_MLENERGY), ESL_OK);
    assert_int_equal(imp->n_runs, 2);
    /* a mapped pipeline: esl's model, its resolution, fp16 with CFG, the table's GPU */
    const esl_imported *a = &imp->runs[0];
    assert_true(a->record->energy_j == 1200.0);
    assert_true(a->record->duration_s == 2.5);
    assert_true((a->record->flags & ESL_FLAG_NO_IDLE) != 0);
    assert_string_equal(label(a, "model"), "sd2");
    assert_string_equal(label(a, "height"), "768");
    assert_string_equal(label(a, "dtype"), "fp16");
    assert_string_equal(label(a, "prompts"), "4");
    assert_string_equal(label(a, "batch_size"), "4");
    assert_string_equal(label(a, "gpu"), "A100 SXM4 40GB");
    assert_string_equal(a->command, "import mlenergy " DATA "mlenergy.json:$[0]");
    /* an unmapped one keeps its Hub name and takes its energy per image x batch */
    const esl_imported *b = &imp->runs[1];
    assert_true(b->record->energy_j == 310.5);
    assert_string_equal(label(b, "model"), "black-forest-labs/FLUX.1-schnell");
    assert_string_equal(label(b, "steps"), "4");
    assert_null(label(b, "height"));
    assert_string_equal(label(b, "gpu"), "H100 SXM5 80GB");
    esl_import_free(imp);
    /* energy per image that is not the batch's energy over its size */
    assert_int_equal(esl_import_read(&imp, DATA "mlenergy-mismatch.json", ESL_IMPORT_MLENERGY),
                     ESL_EINVAL);
    assert_null(imp);
    assert_non_null(strstr(esl_error_last(), "is not \"Batch energy (J)\" 1000"));
    /* a Zeus file is not a leaderboard result: the field is named */
    assert_int_equal(esl_import_read(&imp, DATA "zeus.json", ESL_IMPORT_MLENERGY), ESL_EINVAL);
    assert_non_null(strstr(esl_error_last(), "$[0].\"name\": not a field"));
}

static void test_put_many_is_all_or_nothing(void **state)
{
    (void)state;
    char dir[] = "/tmp/esl-import-XXXXXX", path[64];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/runs.db", dir);
    esl_import *imp = NULL;
    assert_int_equal(esl_import_read(&imp, DATA "codecarbon.csv", ESL_IMPORT_CODECARBON), ESL_OK);
    esl_store *s = NULL;
    assert_int_equal(esl_store_open(&s, path), ESL_OK);
    esl_label twice[] = {{"model", "sd2"}, {"model", "sd2"}};
    esl_store_item items[2] = {
        {imp->runs[0].record, imp->runs[0].command, 0, imp->runs[0].labels, imp->runs[0].n_labels},
        {imp->runs[1].record, imp->runs[1].command, 0, twice, 2}};
    int64_t ids[2] = {0, 0};
    assert_int_equal(esl_store_put_many(s, ids, items, 2), ESL_EINVAL);
    esl_run *runs = NULL;
    size_t n = 99;
    assert_int_equal(esl_store_list(s, &runs, &n, NULL, 0), ESL_OK);
    assert_int_equal(n, 0);
    esl_runs_free(runs, n);
    items[1].labels = imp->runs[1].labels;
    items[1].n_labels = imp->runs[1].n_labels;
    assert_int_equal(esl_store_put_many(s, ids, items, 2), ESL_OK);
    assert_true(ids[0] == 1 && ids[1] == 2);
    assert_int_equal(esl_store_list(s, &runs, &n, NULL, 0), ESL_OK);
    assert_int_equal(n, 2);
    assert_true(runs[1].record->energy_j == 0.014829 * 3.6e6);
    assert_int_equal(runs[1].record->meter, ESL_METER_IMPORTED);
    esl_runs_free(runs, n);
    esl_store_close(s);
    esl_import_free(imp);
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codecarbon),
        cmocka_unit_test(test_zeus),
        cmocka_unit_test(test_mlenergy),
        cmocka_unit_test(test_put_many_is_all_or_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
