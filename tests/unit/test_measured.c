/*
 * test_measured.c - a measurement on its way to the store and stored runs
 * on their way out (esl/store.h, esl/export.h): the command line joined,
 * a window's labels merged with the run's, the doubtful note, the indented
 * summary and the file that keeps an unstored run, the windows report, and
 * the list, one run and the dataset rows as `esl runs` writes them; and a
 * workload measured, stored and reported whole (esl_measure_run); another
 * tool's file imported into a store by path (esl_import_into).
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

#include "scratch_dir.h"

static esl_record *make_record(unsigned flags)
{
    esl_record *rec = calloc(1, sizeof *rec);
    rec->meter = ESL_METER_REPLAY;
    rec->start_unix_s = 1795600000.75;
    rec->duration_s = 2.0;
    rec->n_devices = 1;
    rec->devices = calloc(1, sizeof *rec->devices);
    snprintf(rec->devices[0].info.name, sizeof rec->devices[0].info.name, "replay");
    rec->devices[0].energy_j = 0.1 + 0.2; /* 0.30000000000000004: all 17 digits */
    rec->devices[0].idle_w = 0.0;
    rec->devices[0].counter_j = NAN;
    rec->devices[0].avg_power_w = 0.15;
    rec->devices[0].peak_power_w = 0.2;
    rec->devices[0].flags = flags;
    esl_record_sum(rec);
    return rec;
}

/* A stream writing into memory: *text (to free()) once *f is closed. */
static void captured(FILE **f, char **text, size_t *len)
{
    *f = open_memstream(text, len);
    assert_non_null(*f);
}

static void command_line(void **state)
{
    (void)state;
    char *words[] = {"python", "gen.py", "--steps", "50"};
    char *s = NULL;
    assert_int_equal(esl_run_command(&s, words, 4), ESL_OK);
    assert_string_equal(s, "python gen.py --steps 50");
    free(s);
    assert_int_equal(esl_run_command(&s, words, 0), ESL_OK);
    assert_string_equal(s, "");
    free(s);
    assert_int_equal(esl_run_command(NULL, words, 1), ESL_EINVAL);
}

/* A window's own labels win over --label's of the same key, which keep
 * their place before the window's. */
static void window_labels(void **state)
{
    (void)state;
    esl_control_line cl;
    assert_int_equal(esl_control_parse(&cl, "begin model=sd2 steps=50\n"), ESL_OK);
    esl_label run[] = {{"host", "a"}, {"model", "flux-dev"}, {"zone", "FR"}};
    esl_label out[8];
    size_t n = esl_run_window_labels(out, 8, run, 3, &cl);
    assert_int_equal(n, 4);
    assert_string_equal(out[0].key, "host");
    assert_string_equal(out[1].key, "zone");
    assert_string_equal(out[2].key, "model");
    assert_string_equal(out[2].value, "sd2");
    assert_string_equal(out[3].value, "50");
    assert_int_equal(esl_run_window_labels(out, 2, run, 3, &cl), 2);
    assert_int_equal(esl_run_window_labels(out, 8, run, 3, NULL), 3);
}

static void doubt(void **state)
{
    (void)state;
    char buf[200];
    esl_record *rec = make_record(ESL_FLAG_NO_IDLE);
    assert_int_equal(esl_record_doubt(buf, sizeof buf, rec), 0);
    assert_string_equal(buf, "");
    esl_record_free(rec);
    rec = make_record(ESL_FLAG_TOO_SHORT | ESL_FLAG_NO_CHANGE | ESL_FLAG_NO_IDLE);
    assert_int_equal(esl_record_doubt(buf, sizeof buf, rec), 1);
    assert_string_equal(buf, "the energy is doubtful (no-change,too-short): see docs/measurement.md");
    esl_record_free(rec);
}

/* The summary as esl measure --format json prints it: indented, doubles in
 * seventeen digits, a newline; kept in a file named after the store. */
static void summary_and_keep(void **state)
{
    (void)state;
    esl_record *rec = make_record(0);
    esl_label labels[] = {{"model", "sd2"}};
    char *text = NULL, *kept = NULL, path[SCRATCH_PATH_MAX], want[SCRATCH_PATH_MAX + 64];
    assert_int_equal(esl_record_json_text(&text, rec, "true", 0, 5, labels, 1), ESL_OK);
    assert_memory_equal(text, "{\n  \"meter\": \"replay\",", 22);
    assert_non_null(strstr(text, "\n  \"energy_j\": 0.30000000000000004,\n"));
    assert_non_null(strstr(text, "\n  \"run_id\": 5,\n  \"labels\": {\n    \"model\": \"sd2\"\n  }\n}\n"));
    assert_int_equal(esl_record_keep(&kept, text, in_dir(path, "runs.db"), rec->start_unix_s, 0),
                     ESL_OK);
    snprintf(want, sizeof want, "%s.unsaved-1795600000-%ld.json", path, (long)getpid());
    assert_string_equal(kept, want);
    FILE *f = fopen(kept, "r");
    char back[4096] = "";
    assert_non_null(f);
    back[fread(back, 1, sizeof back - 1, f)] = '\0';
    fclose(f);
    assert_string_equal(back, text);
    /* a second run of the same second keeps the first file */
    char *again = NULL;
    assert_int_equal(esl_record_keep(&again, "{}\n", in_dir(path, "runs.db"), rec->start_unix_s, 0),
                     ESL_OK);
    snprintf(want, sizeof want, "%s.unsaved-1795600000-%ld-2.json", path, (long)getpid());
    assert_string_equal(again, want);
    assert_non_null(f = fopen(kept, "r"));
    back[fread(back, 1, sizeof back - 1, f)] = '\0';
    fclose(f);
    assert_string_equal(back, text);
    free(again);
    free(kept);
    setenv("TMPDIR", dir, 1);
    assert_int_equal(esl_record_keep(&kept, text, "/nonexistent/dir/runs.db", 1.0, 1), ESL_OK);
    snprintf(want, sizeof want, "%s/runs.db.unsaved-1-%ld.json", dir, (long)getpid());
    assert_string_equal(kept, want);
    free(kept);
    assert_int_equal(esl_record_keep(&kept, text, "/nonexistent/dir/runs.db", 1.0, 0), ESL_EIO);
    assert_null(kept);
    unsetenv("TMPDIR");
    free(text);
    esl_record_free(rec);
}

/* esl measure --control's report: a header per window with its labels, the
 * stored line for a stored one; the JSON array carries the merged labels. */
static void windows(void **state)
{
    (void)state;
    esl_exec_control c;
    memset(&c, 0, sizeof c);
    c.ctl_fd = 3;
    esl_control_line begins[2];
    esl_exec_window w[2];
    assert_int_equal(esl_control_parse(&begins[0], "begin model=a"), ESL_OK);
    assert_int_equal(esl_control_parse(&begins[1], "begin host=b"), ESL_OK);
    w[0] = (esl_exec_window){make_record(0), &begins[0]};
    w[1] = (esl_exec_window){make_record(0), &begins[1]};
    c.windows = w;
    c.n_windows = 2;
    int64_t ids[] = {7, 0};
    esl_label labels[] = {{"host", "h"}};
    FILE *f;
    char *text = NULL;
    size_t len;
    captured(&f, &text, &len);
    assert_int_equal(esl_windows_write(f, &c, ids, "sh x", 0, labels, 1, 0, "r.db"), ESL_OK);
    fclose(f);
    assert_memory_equal(text, "window    1 of 2: model=a\nmeter     replay\n", 43);
    assert_non_null(strstr(text, "stored    run 7 in r.db\n\nwindow    2 of 2: host=b\n"));
    free(text);
    captured(&f, &text, &len);
    assert_int_equal(esl_windows_write(f, &c, ids, "sh x", 0, labels, 1, 1, "r.db"), ESL_OK);
    fclose(f);
    json_t *a = json_loads(text, 0, NULL);
    assert_int_equal(json_array_size(a), 2);
    json_t *l0 = json_object_get(json_array_get(a, 0), "labels");
    assert_string_equal(json_string_value(json_object_get(l0, "host")), "h");
    assert_string_equal(json_string_value(json_object_get(l0, "model")), "a");
    json_t *l1 = json_object_get(json_array_get(a, 1), "labels");
    assert_int_equal(json_object_size(l1), 1);
    assert_string_equal(json_string_value(json_object_get(l1, "host")), "b");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(a, 0), "run_id")), 7);
    assert_true(json_is_null(json_object_get(json_array_get(a, 1), "run_id")));
    json_decref(a);
    free(text);
    c.n_windows = 0;
    captured(&f, &text, &len);
    assert_int_equal(esl_windows_write(f, &c, NULL, "true", 0, NULL, 0, 0, NULL), ESL_OK);
    fclose(f);
    assert_string_equal(text, "no window was opened on --control fd:3\n");
    free(text);
    esl_record_free(w[0].record);
    esl_record_free(w[1].record);
}

/* Two stored runs: one a dataset row, one missing its labels. */
static void make_runs(esl_run runs[2], esl_label *labels)
{
    static esl_label row_labels[] = {{"cfg", "1"}, {"dtype", "bf16"}, {"height", "512"},
                                     {"model", "sd2"}, {"prompts", "1"}, {"steps", "20"},
                                     {"width", "512"}};
    memset(runs, 0, 2 * sizeof *runs);
    runs[0] = (esl_run){.id = 3, .started = (char *)"2026-11-26T06:31:08Z",
                        .command = (char *)"python a,b.py", .n_labels = 7, .labels = row_labels,
                        .record = make_record(0)};
    labels[0] = (esl_label){"note", "a\x1b" "b"};
    runs[1] = (esl_run){.id = 12, .started = (char *)"2026-11-26T07:00:00Z",
                        .command = (char *)"true", .exit_status = 1, .n_labels = 1,
                        .labels = labels, .record = make_record(ESL_FLAG_TOO_SHORT)};
}

static void runs_list(void **state)
{
    (void)state;
    esl_run runs[2];
    esl_label labels[1];
    make_runs(runs, labels);
    FILE *f;
    char *text = NULL;
    size_t len;
    captured(&f, &text, &len);
    assert_int_equal(esl_runs_list_write(f, runs, 2, ESL_RUNS_TABLE), ESL_OK);
    fclose(f);
    assert_string_equal(text,
        "   id  started              exit duration s     energy J   idle W    dynamic J  flags"
        "            labels\n"
        "    3  2026-11-26T06:31:08Z    0      2.000        0.300     0.00        0.300  -       "
        "         cfg=1 dtype=bf16 height=512 model=sd2 prompts=1 steps=20 width=512\n"
        "   12  2026-11-26T07:00:00Z    1      2.000        0.300     0.00        0.300  too-short"
        "        note=a\\x1bb\n");
    free(text);
    captured(&f, &text, &len);
    assert_int_equal(esl_runs_list_write(f, runs, 2, ESL_RUNS_CSV), ESL_OK);
    fclose(f);
    assert_non_null(strstr(text, "labels,command\n3,2026-11-26T06:31:08Z,0,2,0.30000000000000004,"
                                 "0,0.30000000000000004,,cfg=1 "));
    assert_non_null(strstr(text, "width=512,\"python a,b.py\"\n12,"));
    assert_non_null(strstr(text, ",too-short,note=a\\x1bb,true\n"));
    free(text);
    captured(&f, &text, &len);
    assert_int_equal(esl_runs_list_write(f, runs, 2, ESL_RUNS_JSON), ESL_OK);
    fclose(f);
    json_t *a = json_loads(text, 0, NULL);
    assert_int_equal(json_array_size(a), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(a, 1), "id")), 12);
    assert_null(json_object_get(json_array_get(a, 1), "trace"));
    assert_non_null(strstr(text, "\"energy_j\": 0.30000000000000004"));
    json_decref(a);
    free(text);
    esl_record_free(runs[0].record);
    esl_record_free(runs[1].record);
}

static void skipped(void *ctx, const esl_run *run, const char *why)
{
    char *note = ctx;
    snprintf(note, 128, "%lld: %s", (long long)run->id, why);
}

/* One run in each form, and the dataset rows with the run left out said. */
static void run_and_rows(void **state)
{
    (void)state;
    esl_run runs[2];
    esl_label labels[1];
    make_runs(runs, labels);
    FILE *f;
    char *text = NULL, note[128] = "";
    size_t len;
    captured(&f, &text, &len);
    assert_int_equal(esl_run_write(f, &runs[1], ESL_RUNS_TABLE), ESL_OK);
    fclose(f);
    assert_memory_equal(text, "run       12\nuuid      -\n", 24);
    free(text);
    captured(&f, &text, &len);
    assert_int_equal(esl_run_write(f, &runs[1], ESL_RUNS_JSON), ESL_OK);
    fclose(f);
    assert_non_null(strstr(text, "\n  \"trace\": []\n}\n"));
    free(text);
    captured(&f, &text, &len);
    assert_int_equal(esl_run_write(f, &runs[1], ESL_RUNS_CSV), ESL_OK);
    fclose(f);
    assert_memory_equal(text, "time_s,device,", 14);
    free(text);
    captured(&f, &text, &len);
    assert_int_equal(esl_runs_rows_write(f, runs, 2, skipped, note), ESL_OK);
    fclose(f);
    assert_non_null(strstr(text, "\nsd2,replay,bf16,1,512,512,20,1,0.30000000000000004,1,dynamic,"
                                 "2,0,esl-run:3\n"));
    assert_string_equal(note, "12: no label 'model'");
    free(text);
    assert_int_equal(esl_run_write(stdout, NULL, ESL_RUNS_TABLE), ESL_EINVAL);
    esl_record_free(runs[0].record);
    esl_record_free(runs[1].record);
}

/* The notes of a measured run, one per line. */
static void collect(void *ctx, const char *message)
{
    char *notes = ctx;
    size_t used = strlen(notes);
    snprintf(notes + used, 1024 - used, "%s\n", message);
}

/* A workload measured on the replay meter: stored with its labels, its
 * trace written; one that cannot start is not run and stores nothing; one
 * under a control channel that opens no window says so. */
static void measure_run(void **state)
{
    (void)state;
    char db[SCRATCH_PATH_MAX], trace[SCRATCH_PATH_MAX], notes[1024] = "";
    esl_meter_opts mo = {.kind = ESL_METER_REPLAY,
                         .replay_path = ESL_SOURCE_DIR "/tests/data/meter/idle_then_load.csv"};
    esl_meter *m = NULL;
    esl_store *store = NULL;
    assert_int_equal(esl_meter_open(&m, &mo), ESL_OK);
    assert_int_equal(esl_store_open(&store, in_dir(db, "m.db")), ESL_OK);
    esl_label labels[] = {{"model", "sd2"}};
    esl_measure_opts o = {m, store, db, labels, 1, -1, -1, in_dir(trace, "t.csv"), 0,
                          collect, notes};
    char *argv[] = {"sh", "-c", "exit 3", NULL};
    esl_measure_result r;
    /* a trace is one window's samples: refused with a control channel */
    esl_measure_opts windows = o;
    windows.ctl_fd = 0;
    assert_int_equal(esl_measure_run(&r, argv, &windows), ESL_EINVAL);
    assert_false(r.started);
    assert_int_equal(esl_measure_run(&r, argv, &o), ESL_OK);
    assert_true(r.started);
    assert_int_equal(r.status, 3);
    assert_int_equal(r.failed, 0);
    assert_int_equal(r.run_id, 1);
    assert_string_equal(r.command, "sh -c exit 3");
    assert_string_equal(notes, "");
    assert_int_equal(access(trace, F_OK), 0);
    FILE *f;
    char *text = NULL;
    size_t len;
    captured(&f, &text, &len);
    assert_int_equal(esl_measure_write(f, &r, &o), ESL_OK);
    fclose(f);
    assert_non_null(strstr(text, "exit      3\n"));
    assert_non_null(strstr(text, "stored    run 1 in "));
    free(text);
    esl_measure_result_release(&r);
    esl_run *runs = NULL;
    assert_int_equal(esl_store_get(store, &runs, 1), ESL_OK);
    assert_string_equal(esl_run_label(runs, "model"), "sd2");
    assert_int_equal(runs[0].exit_status, 3);
    esl_runs_free(runs, 1);

    char *missing[] = {"/nonexistent/workload", NULL};
    o.trace_path = NULL;
    assert_int_not_equal(esl_measure_run(&r, missing, &o), ESL_OK);
    assert_true(r.not_run);
    assert_false(r.started);
    assert_non_null(strstr(notes, "/nonexistent/workload"));
    assert_int_equal(esl_measure_write(stdout, &r, &o), ESL_EINVAL);
    esl_measure_result_release(&r);

    char *none[] = {"true", NULL};
    o.ctl_fd = 3;
    o.json = 1;
    assert_int_equal(esl_measure_run(&r, none, &o), ESL_OK);
    assert_int_equal(r.control.n_windows, 0);
    captured(&f, &text, &len);
    assert_int_equal(esl_measure_write(f, &r, &o), ESL_OK);
    fclose(f);
    assert_string_equal(text, "[]\n");
    free(text);
    esl_measure_result_release(&r);
    esl_measure_result_release(NULL);
    assert_int_equal(esl_measure_run(&r, none, NULL), ESL_EINVAL);
    esl_store_close(store);
    esl_meter_close(m);
}

/* Another tool's file brought into a store by path: every run or none. */
static void import_into(void **state)
{
    (void)state;
    char db[SCRATCH_PATH_MAX];
    int64_t *ids = NULL;
    size_t n = 0;
    esl_label labels[] = {{"project", "p"}};
    assert_int_equal(esl_import_into(&ids, &n, in_dir(db, "imported.db"),
                                     ESL_SOURCE_DIR "/tests/data/import/codecarbon.csv",
                                     ESL_IMPORT_CODECARBON, labels, 1), ESL_OK);
    assert_int_equal(n, 2);
    assert_int_equal(ids[0], 1);
    assert_int_equal(ids[1], 2);
    free(ids);
    esl_store *s = NULL;
    esl_run *runs = NULL;
    assert_int_equal(esl_store_open_readonly(&s, db), ESL_OK);
    assert_int_equal(esl_store_get(s, &runs, 2), ESL_OK);
    assert_string_equal(esl_run_label(runs, "project"), "p");
    esl_runs_free(runs, 1);
    esl_store_close(s);
    assert_int_equal(esl_import_into(&ids, &n, db, "/nonexistent.csv", ESL_IMPORT_CODECARBON,
                                     NULL, 0), ESL_EIO);
    assert_null(ids);
    assert_int_equal(n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(command_line),
        cmocka_unit_test(window_labels),
        cmocka_unit_test(doubt),
        cmocka_unit_test(summary_and_keep),
        cmocka_unit_test(windows),
        cmocka_unit_test(runs_list),
        cmocka_unit_test(run_and_rows),
        cmocka_unit_test(measure_run),
        cmocka_unit_test(import_into),
    };
    return cmocka_run_group_tests(tests, scratch_setup, scratch_teardown);
}
