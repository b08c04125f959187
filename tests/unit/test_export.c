/*
 * test_export.c - run documents for other programs (esl/export.h) and
 * merging into a store by path: the record and stored-run JSON read back
 * with their values and nulls, the trace CSV, the CodeCarbon and
 * OpenMetrics exports, esl_store_merge_into leaving no store behind when it
 * fails; and a planned calibration sweep as CSV and JSON with its time left.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "esl/esl.h"
#include "esl/export.h"

#include "scratch_dir.h"

static esl_record *make_record(void)
{
    esl_record *rec = calloc(1, sizeof *rec);
    rec->meter = ESL_METER_NVML;
    snprintf(rec->driver_version, sizeof rec->driver_version, "550.54.15");
    rec->start_unix_s = 1795600000.25;
    rec->duration_s = 2.0;
    rec->n_devices = 1;
    rec->devices = calloc(1, sizeof *rec->devices);
    snprintf(rec->devices[0].info.name, sizeof rec->devices[0].info.name, "NVIDIA A100");
    rec->devices[0].energy_j = 720.0;
    rec->devices[0].idle_w = 60.0;
    rec->devices[0].counter_j = NAN;
    rec->devices[0].avg_power_w = 360.0;
    rec->devices[0].peak_power_w = NAN;
    esl_record_sum(rec);
    rec->n_samples = 2;
    rec->samples = calloc(2, sizeof *rec->samples);
    rec->samples[0] = (esl_sample){0.0, 0, 350.0, NAN, 1.5, NAN, 61.0, NAN};
    rec->samples[1] = (esl_sample){0.1, 0, 0.1 + 0.2, NAN, NAN, NAN, NAN, 99.0};
    return rec;
}

/* A stream writing into memory: *text (to free()) once *f is closed. */
static void captured(FILE **f, char **text, size_t *len)
{
    *f = open_memstream(text, len);
    assert_non_null(*f);
}

static void record_json(void **state)
{
    (void)state;
    esl_record *rec = make_record();
    esl_label labels[] = {{"zone", "FR"}, {"a\"b", "x\ny"}};
    char *text = NULL;
    assert_int_equal(esl_record_json(&text, rec, "python gen.py", 3, 0, labels, 2), ESL_OK);
    json_t *o = json_loads(text, 0, NULL);
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "meter")), "nvml");
    assert_true(json_real_value(json_object_get(o, "energy_j")) == rec->energy_j);
    assert_true(json_real_value(json_object_get(o, "energy_wh")) == rec->energy_j / 3600.0);
    assert_true(json_real_value(json_object_get(o, "start_unix_s")) == 1795600000.25);
    assert_true(json_is_null(json_object_get(o, "peak_power_w")));
    json_t *dev = json_array_get(json_object_get(o, "devices"), 0);
    assert_true(json_is_null(json_object_get(dev, "counter_j")));
    assert_string_equal(json_string_value(json_object_get(dev, "name")), "NVIDIA A100");
    assert_int_equal(json_integer_value(json_object_get(o, "samples")), 2);
    assert_int_equal(json_integer_value(json_object_get(o, "exit_status")), 3);
    assert_true(json_is_null(json_object_get(o, "run_id")));
    json_t *lj = json_object_get(o, "labels");
    assert_string_equal(json_string_value(json_object_get(lj, "a\"b")), "x\ny");
    /* the keys in the order esl measure --format json prints them */
    const char *first = json_object_iter_key(json_object_iter(o));
    assert_string_equal(first, "meter");
    json_decref(o);
    free(text);
    assert_int_equal(esl_record_json(&text, rec, "true", 0, 42, NULL, 0), ESL_OK);
    o = json_loads(text, 0, NULL);
    assert_int_equal(json_integer_value(json_object_get(o, "run_id")), 42);
    json_decref(o);
    free(text);
    assert_int_equal(esl_record_json(&text, NULL, "true", 0, 0, NULL, 0), ESL_EINVAL);
    assert_null(text);
    esl_record_free(rec);
}

/* The table esl measure prints: dashes for unknown values, the stored line
 * only for a stored run. */
static void record_table(void **state)
{
    (void)state;
    esl_record *rec = make_record();
    FILE *f;
    char *text = NULL;
    size_t len;
    captured(&f, &text, &len);
    assert_int_equal(esl_record_table(f, rec, "python gen.py", 3, 0, NULL), ESL_OK);
    fclose(f);
    assert_non_null(strstr(text, "meter     nvml (driver 550.54.15, NVML )\n"
                                 "command   python gen.py\nexit      3\nduration  2.000 s\n"));
    assert_non_null(strstr(text, "\n0 NVIDIA A100                     720.000            -    60.00"));
    assert_non_null(strstr(text, "energy    720.000 J = 0.200000 Wh"));
    assert_null(strstr(text, "stored"));
    free(text);
    captured(&f, &text, &len);
    assert_int_equal(esl_record_table(f, rec, "true", 0, 42, "runs.db"), ESL_OK);
    fclose(f);
    assert_non_null(strstr(text, "stored    run 42 in runs.db\n"));
    free(text);
    assert_int_equal(esl_record_table(stderr, rec, "true", 0, 42, NULL), ESL_EINVAL);
    assert_int_equal(esl_record_table(stderr, NULL, "true", 0, 0, NULL), ESL_EINVAL);
    esl_record_free(rec);
}

/* esl runs show's text: control characters of labels made visible. */
static void run_text(void **state)
{
    (void)state;
    esl_record *rec = make_record();
    esl_label labels[] = {{"model", "sd2"}, {"k\x1b", "a\nb"}};
    esl_run run = {.id = 7, .started = (char *)"2026-11-26T06:31:08Z", .command = (char *)"true",
                   .n_labels = 2, .labels = labels, .record = rec};
    FILE *f;
    char *text = NULL;
    size_t len;
    captured(&f, &text, &len);
    assert_int_equal(esl_run_text(f, &run), ESL_OK);
    fclose(f);
    assert_non_null(strstr(text, "run       7\nuuid      -\nstarted   2026-11-26T06:31:08Z\n"));
    assert_non_null(strstr(text, "energy    720.000 J = 0.200000 Wh\n"));
    assert_non_null(strstr(text, "label     model=sd2\nlabel     k\\x1b=a\\x0ab\n"));
    assert_non_null(strstr(text, "device    0 NVIDIA A100: 720.000 J, idle 60.00 W"));
    free(text);
    char buf[64];
    assert_string_equal(esl_run_labels_text(buf, sizeof buf, &run), "model=sd2 k\x1b=a\\x0ab");
    assert_string_equal(esl_run_labels_text(buf, 6, &run), "model");
    run.record = NULL;
    assert_int_equal(esl_run_text(stderr, &run), ESL_EINVAL);
    esl_record_free(rec);
}

static void run_json_and_trace(void **state)
{
    (void)state;
    esl_record *rec = make_record();
    esl_label labels[] = {{"model", "sd2"}};
    esl_run run = {.id = 7, .started = (char *)"2026-11-26T06:31:08Z", .command = (char *)"true",
                   .n_labels = 1, .labels = labels, .record = rec};
    char *text = NULL;
    assert_int_equal(esl_run_json(&text, &run, 1), ESL_OK);
    json_t *o = json_loads(text, 0, NULL);
    free(text);
    assert_int_equal(json_integer_value(json_object_get(o, "id")), 7);
    assert_true(json_is_null(json_object_get(o, "run_uuid")));
    json_t *trace = json_object_get(o, "trace");
    assert_int_equal(json_array_size(trace), 2);
    json_t *s1 = json_array_get(trace, 1);
    assert_true(json_real_value(json_object_get(s1, "power_w")) == 0.1 + 0.2);
    assert_true(json_is_null(json_object_get(s1, "energy_j")));
    json_decref(o);
    assert_int_equal(esl_run_json(&text, &run, 0), ESL_OK);
    assert_null(strstr(text, "\"trace\""));
    free(text);

    FILE *f;
    size_t len;
    captured(&f, &text, &len);
    assert_int_equal(esl_record_trace_csv(f, rec), ESL_OK);
    fclose(f);
    assert_string_equal(text, "time_s,device,power_w,power_instant_w,energy_j,sm_clock_mhz,"
                              "temperature_c,utilization_pct\n"
                              "0,0,350,,1.5,,61,\n"
                              "0.10000000000000001,0,0.30000000000000004,,,,,99\n");
    free(text);
    run.record = NULL;
    assert_int_equal(esl_run_json(&text, &run, 0), ESL_EINVAL);
    esl_record_free(rec);
}

static void exports(void **state)
{
    (void)state;
    esl_record *rec = make_record();
    esl_label labels[] = {{"project", "demo"}, {"weird key", "a\"b\\c"}, {"zone", "FR"}};
    esl_run run = {.id = 3, .started = (char *)"x", .command = (char *)"true", .n_labels = 3,
                   .labels = labels, .record = rec};
    FILE *f;
    char *text = NULL;
    size_t len;
    captured(&f, &text, &len);
    assert_int_equal(esl_runs_export(f, &run, 1, ESL_EXPORT_CODECARBON), ESL_OK);
    fclose(f);
    /* the header line and one row of 31 fields */
    char *row = strchr(text, '\n') + 1;
    size_t commas = 0;
    for (char *p = row; *p != '\n'; p++)
        commas += *p == ',';
    assert_int_equal(commas, 30);
    assert_non_null(strstr(row, ",demo,esl-run-3,2,"));
    char kwh[32], want[96];
    snprintf(want, sizeof want, ",%s,,%s,France,FRA,", esl_format_double(kwh, rec->energy_j / 3.6e6),
             kwh);
    assert_non_null(strstr(row, want));
    free(text);

    captured(&f, &text, &len);
    assert_int_equal(esl_runs_export(f, &run, 1, ESL_EXPORT_OPENMETRICS), ESL_OK);
    fclose(f);
    assert_non_null(strstr(text, "# TYPE esl_run_energy_joules gauge\n"));
    assert_non_null(strstr(text, "esl_run_energy_joules{run=\"3\",label_project=\"demo\","
                                 "label_weird_key=\"a\\\"b\\\\c\",label_zone=\"FR\"} 720\n"));
    assert_non_null(strstr(text, "esl_run_duration_seconds{run=\"3\""));
    assert_true(len > 6 && strcmp(text + len - 6, "# EOF\n") == 0);
    free(text);

    captured(&f, &text, &len);
    assert_int_equal(esl_runs_export(f, &run, 1, (esl_export_format)9), ESL_EINVAL);
    fclose(f);
    free(text);
    esl_record_free(rec);
}

static void merge_into(void **state)
{
    (void)state;
    char shard[SCRATCH_PATH_MAX], dst[SCRATCH_PATH_MAX], bad[SCRATCH_PATH_MAX];
    esl_store *s = NULL;
    esl_record *rec = make_record();
    int64_t id;
    assert_int_equal(esl_store_open(&s, in_dir(shard, "shard.db")), ESL_OK);
    assert_int_equal(esl_store_put(s, &id, rec, "true", 0, NULL, 0), ESL_OK);
    esl_store_close(s);
    esl_record_free(rec);

    const char *ok[] = {shard};
    esl_merge_result res;
    assert_int_equal(esl_store_merge_into(in_dir(dst, "merged.db"), ok, 1, &res), ESL_OK);
    assert_int_equal(res.added, 1);
    esl_merge_result_release(&res);
    assert_int_equal(esl_store_merge_into(dst, ok, 1, &res), ESL_OK);
    assert_int_equal(res.skipped, 1);
    esl_merge_result_release(&res);

    /* a failed merge into a new store leaves no file; into an old one, keeps it */
    const char *missing[] = {shard, in_dir(bad, "missing.db")};
    char fresh[SCRATCH_PATH_MAX], side[SCRATCH_PATH_MAX + 8];
    assert_int_equal(esl_store_merge_into(in_dir(fresh, "fresh.db"), missing, 2, &res),
                     ESL_ENOTFOUND);
    assert_non_null(strstr(esl_error_last(), "; nothing was merged"));
    assert_int_equal(access(fresh, F_OK), -1);
    snprintf(side, sizeof side, "%s-wal", fresh);
    assert_int_equal(access(side, F_OK), -1);
    assert_int_equal(esl_store_merge_into(dst, missing, 2, &res), ESL_ENOTFOUND);
    assert_int_equal(access(dst, F_OK), 0);
}

static void calibration_sweep(void **state)
{
    (void)state;
    esl_model *m = NULL;
    assert_int_equal(esl_catalog_find(&m, "sd2"), ESL_OK);
    const esl_model *models[] = {m};
    esl_calib_opts o = {.budget_s = 600, .s_per_flop = {[ESL_DTYPE_BF16] = 1e-14},
                        .overhead_s = 1.0};
    esl_calib_sweep cp;
    assert_int_equal(esl_calib_sweep_init(&cp, models, 1, &o), ESL_OK);
    assert_true(cp.n_points >= 2);

    FILE *f;
    char *text = NULL;
    size_t len;
    captured(&f, &text, &len);
    assert_int_equal(esl_calib_sweep_csv(f, &cp, models, 1), ESL_OK);
    fclose(f);
    size_t lines = 0;
    for (char *p = text; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, cp.n_points + 1);
    char want[160];
    snprintf(want, sizeof want, "\nsd2,%lld,%lld,%lld,%d,bf16,%.17g,%.17g\n",
             (long long)cp.points[0].side, (long long)cp.points[0].side,
             (long long)cp.points[0].steps, cp.points[0].cfg, cp.points[0].exec_flops,
             cp.points[0].est_s);
    assert_non_null(strstr(text, want));
    free(text);

    assert_int_equal(esl_calib_sweep_json(&text, &cp, models, 1, 600), ESL_OK);
    json_t *j = json_loads(text, 0, NULL);
    free(text);
    assert_true(json_real_value(json_object_get(j, "budget_s")) == 600);
    assert_true(json_real_value(json_object_get(j, "est_s")) == cp.est_s);
    json_t *pts = json_object_get(j, "points");
    assert_int_equal(json_array_size(pts), cp.n_points);
    assert_true(json_real_value(json_object_get(json_array_get(pts, 1), "exec_flops")) ==
                cp.points[1].exec_flops);
    json_decref(j);

    /* a point naming a model the caller did not give is refused */
    cp.points[0].model = 1;
    assert_int_equal(esl_calib_sweep_json(&text, &cp, models, 1, 600), ESL_EINVAL);
    assert_null(text);
    cp.points[0].model = 0;

    double all = 0;
    for (size_t i = 0; i < cp.n_points; i++)
        all += cp.points[i].est_s;
    assert_true(fabs(esl_calib_time_left(&cp, 0, 0, 0) - all) < 1e-9 * all);
    double rest = all - cp.points[0].est_s;
    /* the first point took twice its estimate: the rest is expected to as well */
    assert_true(fabs(esl_calib_time_left(&cp, 1, 2 * cp.points[0].est_s, cp.points[0].est_s) -
                     2 * rest) < 1e-9 * all);
    assert_true(esl_calib_time_left(&cp, cp.n_points, 5, 5) == 0);
    esl_calib_sweep_release(&cp);
    esl_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(record_json),
        cmocka_unit_test(record_table),
        cmocka_unit_test(run_text),
        cmocka_unit_test(run_json_and_trace),
        cmocka_unit_test(exports),
        cmocka_unit_test(merge_into),
        cmocka_unit_test(calibration_sweep),
    };
    return cmocka_run_group_tests(tests, scratch_setup, scratch_teardown);
}
