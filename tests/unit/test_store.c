/*
 * test_store.c - the run store: a record survives the round trip bit for bit
 * (unknown values included), labels filter runs, a failed write leaves no
 * trace, and a store from a newer esl is refused rather than damaged.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "esl/esl.h"

static char dir[64];
static char path[128];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/esl-store-XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(path, sizeof path, "%s/runs.db", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* A two-device record with samples, one of them holding unknown values. */
static esl_record *make_record(double energy)
{
    esl_record *rec = calloc(1, sizeof *rec);
    rec->meter = ESL_METER_NVML;
    snprintf(rec->driver_version, sizeof rec->driver_version, "550.54.15");
    snprintf(rec->nvml_version, sizeof rec->nvml_version, "12.550.54.15");
    rec->start_unix_s = 1795600000.25;
    rec->duration_s = 12.345678901234567;
    rec->n_devices = 2;
    rec->devices = calloc(2, sizeof *rec->devices);
    for (size_t i = 0; i < 2; i++) {
        esl_device_record *d = &rec->devices[i];
        d->info.index = (int)i * 2;
        snprintf(d->info.name, sizeof d->info.name, "NVIDIA H100 80GB HBM3");
        snprintf(d->info.uuid, sizeof d->info.uuid, "GPU-%zu", i);
        d->info.power_limit_w = 700.0;
        d->info.update_interval_s = 0.1;
        d->info.counter_period_s = i == 0 ? 0.0995 : NAN;
        d->info.caps = ESL_CAP_ENERGY_COUNTER | ESL_CAP_POWER;
        d->energy_j = energy + (double)i / 3.0;
        d->counter_j = d->energy_j;
        d->integrated_j = i == 0 ? NAN : d->energy_j * 1.01;
        d->idle_w = 70.1;
        d->peak_power_w = 650.5;
        d->flags = i == 1 ? ESL_FLAG_TOO_SHORT : 0;
    }
    esl_record_sum(rec);
    rec->n_samples = 3;
    rec->samples = calloc(3, sizeof *rec->samples);
    for (size_t i = 0; i < 3; i++)
        rec->samples[i] = (esl_sample){0.1 * (double)i, (int)(i % 2), 300.0 + (double)i, NAN,
                                       (double)i * 30.0, 1980.0, 40.0, NAN};
    return rec;
}

static void round_trip(void **state)
{
    (void)state;
    esl_store *s;
    assert_int_equal(esl_store_open(&s, path), ESL_OK);
    esl_record *rec = make_record(1234.5678901234567);
    esl_label labels[] = {{"model", "flux-dev"}, {"steps", "50"}, {"gpu", "H100"}};
    int64_t id = 0;
    assert_int_equal(esl_store_put(s, &id, rec, "python gen.py --steps 50", 0, labels, 3), ESL_OK);
    assert_int_equal(id, 1);

    esl_run *run;
    assert_int_equal(esl_store_get(s, &run, id), ESL_OK);
    assert_string_equal(run->command, "python gen.py --steps 50");
    assert_string_equal(run->started, "2026-11-25T09:46:40Z");
    assert_int_equal(run->n_labels, 3);
    assert_string_equal(run->labels[0].key, "gpu"); /* sorted by key */
    assert_string_equal(esl_run_label(run, "model"), "flux-dev");
    assert_null(esl_run_label(run, "dtype"));
    const esl_record *back = run->record;
    assert_memory_equal(&back->energy_j, &rec->energy_j, sizeof(double));
    assert_memory_equal(&back->duration_s, &rec->duration_s, sizeof(double));
    assert_memory_equal(&back->dynamic_j, &rec->dynamic_j, sizeof(double));
    assert_string_equal(back->driver_version, "550.54.15");
    assert_int_equal(back->n_devices, 2);
    assert_int_equal(back->devices[1].info.index, 2);
    assert_true(isnan(back->devices[0].integrated_j));
    assert_memory_equal(&back->devices[1].integrated_j, &rec->devices[1].integrated_j, sizeof(double));
    assert_int_equal(back->devices[1].flags, ESL_FLAG_TOO_SHORT);
    assert_int_equal(back->flags, ESL_FLAG_TOO_SHORT);
    assert_int_equal(back->n_samples, 3);
    assert_true(isnan(back->samples[2].power_instant_w));
    assert_true(back->samples[2].energy_j == 60.0);
    assert_int_equal(back->samples[1].device, 1);
    esl_runs_free(run, 1);

    assert_int_equal(esl_store_get(s, &run, 99), ESL_ENOTFOUND);
    assert_non_null(strstr(esl_error_last(), "no run 99"));
    esl_record_free(rec);
    esl_store_close(s);
}

static void filter_and_rollback(void **state)
{
    (void)state;
    esl_store *s;
    assert_int_equal(esl_store_open(&s, path), ESL_OK);
    esl_record *rec = make_record(10.0);
    esl_label a[] = {{"model", "sd2"}, {"steps", "25"}};
    esl_label b[] = {{"model", "sd2"}, {"steps", "50"}};
    esl_label dup[] = {{"model", "sd2"}, {"model", "flux-dev"}};
    int64_t id;
    assert_int_equal(esl_store_put(s, &id, rec, "a", 0, a, 2), ESL_OK);
    assert_int_equal(esl_store_put(s, &id, rec, "b", 0, b, 2), ESL_OK);
    /* a failed write is rolled back whole: no run without its labels */
    assert_int_equal(esl_store_put(s, &id, rec, "dup", 0, dup, 2), ESL_EINVAL);
    assert_string_equal(esl_error_last(), "label 'model' is given twice");

    esl_run *runs;
    size_t n;
    assert_int_equal(esl_store_list(s, &runs, &n, NULL, 0), ESL_OK);
    assert_int_equal(n, 2); /* the failed write left nothing */
    esl_runs_free(runs, n);
    esl_label where[] = {{"model", "sd2"}, {"steps", "50"}};
    assert_int_equal(esl_store_list(s, &runs, &n, where, 2), ESL_OK);
    assert_int_equal(n, 1);
    assert_string_equal(runs[0].command, "b");
    assert_int_equal(runs[0].record->n_samples, 0); /* list leaves the trace out */
    assert_int_equal(runs[0].record->n_devices, 2);
    esl_runs_free(runs, n);
    assert_int_equal(esl_store_check(s), ESL_OK);
    esl_record_free(rec);
    esl_store_close(s);
}

/* Schema 1 (before counter periods) migrates to 2 on a writable open, and
 * reads as it is, periods unknown, on a read-only one; periods round-trip. */
static void counter_period_migration(void **state)
{
    (void)state;
    esl_store *s;
    int64_t id = 0;
    esl_record *rec = make_record(100.0);
    assert_int_equal(esl_store_open(&s, path), ESL_OK);
    assert_int_equal(esl_store_put(s, &id, rec, "cmd", 0, NULL, 0), ESL_OK);
    esl_store_close(s);
    esl_record_free(rec);
    esl_run *runs = NULL;
    assert_int_equal(esl_store_open_readonly(&s, path), ESL_OK);
    assert_int_equal(esl_store_get(s, &runs, id), ESL_OK);
    assert_true(runs[0].record->devices[0].info.counter_period_s == 0.0995);
    assert_true(isnan(runs[0].record->devices[1].info.counter_period_s));
    esl_runs_free(runs, 1);
    esl_store_close(s);

    /* back to schema 1, as an older esl wrote it */
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "DROP INDEX runs_by_uuid; ALTER TABLE runs DROP COLUMN uuid; "
                                      "ALTER TABLE devices DROP COLUMN counter_period_s; "
                                      "PRAGMA user_version = 1", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(esl_store_open_readonly(&s, path), ESL_OK);
    assert_int_equal(esl_store_get(s, &runs, id), ESL_OK);
    assert_true(isnan(runs[0].record->devices[0].info.counter_period_s));
    assert_true(fabs(runs[0].record->devices[0].energy_j - 100.0) < 1e-9);
    esl_runs_free(runs, 1);
    esl_store_close(s);
    assert_int_equal(esl_store_open(&s, path), ESL_OK);
    assert_int_equal(esl_store_get(s, &runs, id), ESL_OK);
    assert_true(isnan(runs[0].record->devices[0].info.counter_period_s));
    esl_runs_free(runs, 1);
    esl_store_close(s);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT (SELECT user_version FROM pragma_user_version), "
                                            "count(*) FROM pragma_table_info('devices') WHERE "
                                            "name = 'counter_period_s'", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), ESL_STORE_SCHEMA_VERSION);
    assert_int_equal(sqlite3_column_int(st, 1), 1);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void schema_versions(void **state)
{
    (void)state;
    esl_store *s;
    assert_int_equal(esl_store_open(&s, path), ESL_OK);
    esl_store_close(s);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), ESL_STORE_SCHEMA_VERSION);
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(esl_store_open(&s, path), ESL_ESTORE);
    assert_null(s);
    assert_non_null(strstr(esl_error_last(), "schema version 99 was written by a newer esl"));

    char bad[160];
    snprintf(bad, sizeof bad, "%s/not-a-db", dir);
    FILE *f = fopen(bad, "w");
    fputs("this is not a database, just text that is long enough to have a header......\n", f);
    fclose(f);
    assert_int_equal(esl_store_open(&s, bad), ESL_EINVAL);
    assert_non_null(strstr(esl_error_last(), "not-a-db: not an esl run store (not an SQLite"));
}

/* Read-only opening reads runs and samples, changes nothing, and tells a
 * missing file, a file that is not SQLite and someone else's SQLite apart. */
static void open_readonly(void **state)
{
    (void)state;
    esl_store *s;
    assert_int_equal(esl_store_open_readonly(&s, path), ESL_ENOTFOUND);
    assert_null(s);
    assert_non_null(strstr(esl_error_last(), "no such file"));

    esl_record *rec = make_record(1000.0);
    int64_t id;
    assert_int_equal(esl_store_open(&s, path), ESL_OK);
    assert_int_equal(esl_store_put(s, &id, rec, "true", 0, NULL, 0), ESL_OK);
    esl_store_close(s);
    assert_int_equal(esl_store_open_readonly(&s, path), ESL_OK);
    esl_run *run;
    assert_int_equal(esl_store_get(s, &run, id), ESL_OK);
    assert_int_equal(run->record->n_samples, 3);
    assert_true(run->record->samples[2].power_w == 302.0);
    assert_true(run->record->duration_s == rec->duration_s);
    esl_runs_free(run, 1);
    assert_int_equal(esl_store_get(s, &run, id + 1), ESL_ENOTFOUND);
    /* Writing through a read-only store fails and leaves the run count alone. */
    assert_int_equal(esl_store_put(s, &id, rec, "true", 0, NULL, 0), ESL_ESTORE);
    esl_store_close(s);
    esl_record_free(rec);

    char bad[160];
    snprintf(bad, sizeof bad, "%s/not-a-db", dir);
    FILE *f = fopen(bad, "w");
    fputs("time_s,power_w\n0,50\n1,60\nthis is text, not a database, long enough for a header\n", f);
    fclose(f);
    assert_int_equal(esl_store_open_readonly(&s, bad), ESL_EINVAL);
    assert_null(s);
    assert_non_null(strstr(esl_error_last(), "not-a-db: not an esl run store (not an SQLite"));

    char other[160];
    snprintf(other, sizeof other, "%s/other.db", dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(other, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE runs (x INTEGER)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(esl_store_open_readonly(&s, other), ESL_EINVAL);
    assert_non_null(strstr(esl_error_last(), "without esl's runs and samples"));
    /* ... and it was not turned into a store. */
    assert_int_equal(sqlite3_open(other, &db), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 1);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* A writer killed inside its transaction (a power cut, kill -9) leaves the
 * store as it was: earlier runs intact, no half run, integrity ok. */
static void crash_mid_transaction(void **state)
{
    (void)state;
    esl_store *s;
    assert_int_equal(esl_store_open(&s, path), ESL_OK);
    esl_record *rec = make_record(42.0);
    esl_label l[] = {{"model", "sd2"}};
    int64_t id;
    assert_int_equal(esl_store_put(s, &id, rec, "before", 0, l, 1), ESL_OK);
    esl_store_close(s);

    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        sqlite3 *db;
        if (sqlite3_open(path, &db) != SQLITE_OK ||
            sqlite3_exec(db,
                         "BEGIN IMMEDIATE;"
                         "INSERT INTO runs (started, start_unix_s, command, exit_status, meter,"
                         " driver_version, nvml_version, duration_s, energy_j, idle_w, dynamic_j,"
                         " flags) VALUES ('x', 0, 'half', 0, 'nvml', '', '', 1, 1, 0, 1, 0);"
                         "INSERT INTO labels VALUES (last_insert_rowid(), 'model', 'half');",
                         NULL, NULL, NULL) != SQLITE_OK)
            _exit(2);
        raise(SIGKILL); /* before COMMIT */
        _exit(3);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

    assert_int_equal(esl_store_open(&s, path), ESL_OK);
    assert_int_equal(esl_store_check(s), ESL_OK);
    esl_run *runs;
    size_t n;
    assert_int_equal(esl_store_list(s, &runs, &n, NULL, 0), ESL_OK);
    assert_int_equal(n, 1);
    assert_string_equal(runs[0].command, "before");
    assert_true(runs[0].record->energy_j == rec->energy_j);
    esl_runs_free(runs, n);
    /* and the store takes new runs */
    assert_int_equal(esl_store_put(s, &id, rec, "after", 0, l, 1), ESL_OK);
    assert_int_equal(id, 2);
    esl_record_free(rec);
    esl_store_close(s);
}

static int count_rows(const char *file, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    int n = -1;
    if (sqlite3_open_v2(file, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW)
            n = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return n;
}

static const char *journal_mode(const char *file, char *buf, size_t size)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    snprintf(buf, size, "?");
    if (sqlite3_open_v2(file, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW)
            snprintf(buf, size, "%s", (const char *)sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return buf;
}

/* Someone else's SQLite file is refused by both openings and left exactly
 * as it was: no esl tables added, its journal mode not switched to WAL. A
 * schema version below zero is an error, not an index. An empty file is not
 * a store to read, though a writer may make one of it. */
static void foreign_files(void **state)
{
    (void)state;
    char other[160], mode[32];
    snprintf(other, sizeof other, "%s/other.db", dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(other, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE notes (x TEXT)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    esl_store *s = NULL;
    assert_int_equal(esl_store_open(&s, other), ESL_EINVAL);
    assert_null(s);
    assert_non_null(strstr(esl_error_last(), "other.db: not an esl run store"));
    assert_int_equal(esl_store_open_readonly(&s, other), ESL_EINVAL);
    assert_int_equal(count_rows(other, "SELECT count(*) FROM sqlite_master"), 1);
    assert_string_equal(journal_mode(other, mode, sizeof mode), "delete");

    /* a store whose schema version was set below zero */
    assert_int_equal(esl_store_open(&s, path), ESL_OK);
    esl_store_close(s);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = -1", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(esl_store_open(&s, path), ESL_ESTORE);
    assert_non_null(strstr(esl_error_last(), "schema version -1 is not one esl writes"));
    assert_int_equal(esl_store_open_readonly(&s, path), ESL_ESTORE);
    assert_non_null(strstr(esl_error_last(), "schema version -1 is not one esl writes"));

    char empty[160];
    snprintf(empty, sizeof empty, "%s/empty.db", dir);
    FILE *f = fopen(empty, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(esl_store_open_readonly(&s, empty), ESL_EINVAL);
    assert_non_null(strstr(esl_error_last(), "empty.db: not an esl run store (an empty file"));
    assert_int_equal(count_rows(empty, "SELECT count(*) FROM sqlite_master"), 0);
    assert_int_equal(esl_store_open(&s, empty), ESL_OK);
    esl_store_close(s);
    assert_int_equal(count_rows(empty, "SELECT count(*) FROM runs"), 0);
}

/* Several connections opening one new store at once (threads stand in for
 * processes; SQLite locks the file the same way): exactly one migrates, none
 * fails, and every run each of them writes is there. */
#include <pthread.h>

static void *open_and_put(void *arg)
{
    (void)arg;
    esl_store *s;
    if (esl_store_open(&s, path) != ESL_OK)
        return (void *)1;
    esl_record *rec = make_record(5.0);
    int64_t id;
    int rc = esl_store_put(s, &id, rec, "racer", 0, NULL, 0);
    esl_record_free(rec);
    esl_store_close(s);
    return rc == ESL_OK ? NULL : (void *)1;
}

static void racing_openers(void **state)
{
    (void)state;
    for (int trial = 0; trial < 5; trial++) {
        unlink(path);
        enum { N = 8 };
        pthread_t t[N];
        for (int i = 0; i < N; i++)
            assert_int_equal(pthread_create(&t[i], NULL, open_and_put, NULL), 0);
        int failed = 0;
        for (int i = 0; i < N; i++) {
            void *r;
            pthread_join(t[i], &r);
            failed += r != NULL;
        }
        assert_int_equal(failed, 0);
        assert_int_equal(count_rows(path, "SELECT count(*) FROM runs"), N);
        char wal[160];
        snprintf(wal, sizeof wal, "%s-wal", path);
        unlink(wal);
        snprintf(wal, sizeof wal, "%s-shm", path);
        unlink(wal);
    }
}

/* A message longer than the detail buffer keeps its end, where the reason
 * is, and loses its middle. */
static void long_messages(void **state)
{
    (void)state;
    static char longpath[6001];
    memset(longpath, 'a', sizeof longpath - 1);
    longpath[0] = '/';
    esl_store *s;
    assert_int_equal(esl_store_open_readonly(&s, longpath), ESL_ENOTFOUND);
    const char *msg = esl_error_last();
    size_t n = strlen(msg);
    assert_true(n < 4096 && n > 4000);
    assert_string_equal(msg + n - strlen("aaa: no such file"), "aaa: no such file");
    assert_non_null(strstr(msg, "aaa ... aaa"));
    assert_true(msg[0] == '/');
}

/* A run becomes a dataset row (esl_run_row_of), written by the one CSV
 * writer and read back by the dataset reader to the same values; runs that
 * cannot be rows say why. */
static void run_rows(void **state)
{
    (void)state;
    esl_record rec = {.meter = ESL_METER_NVML, .duration_s = 12.345678901234567,
                      .energy_j = 5000.25, .idle_w = 70.1, .dynamic_j = 4134.1234567890123};
    esl_label labels[] = {{"batch_size", "2"}, {"cfg", "1"}, {"dtype", "fp16"},
                          {"gpu", "H100, \"SXM\""}, {"height", "512"}, {"model", "sd2"},
                          {"prompts", "4"}, {"steps", "20"}, {"width", "768"}};
    esl_run run = {.id = 7, .n_labels = 9, .labels = labels, .record = &rec};
    esl_run_row rr;
    assert_int_equal(esl_run_row_of(&rr, &run), ESL_OK);
    assert_string_equal(rr.row.source, "esl-run:7");
    assert_int_equal(rr.row.energy_kind, ESL_ENERGY_DYNAMIC);

    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_int_equal(esl_row_write_header(f), ESL_OK);
    assert_int_equal(esl_row_write(f, &rr.row), ESL_OK);
    fclose(f);
    assert_non_null(strstr(text, "sd2,\"H100, \"\"SXM\"\"\",fp16,1,512,768,20,4,"));
    esl_dataset *ds = NULL;
    assert_int_equal(esl_dataset_parse(&ds, text, len, "rows", NULL), ESL_OK);
    assert_int_equal(ds->n_rows, 1);
    const esl_row *back = &ds->rows[0];
    assert_string_equal(back->gpu, "H100, \"SXM\"");
    assert_int_equal(back->batch_size, 2);
    assert_true(back->energy_j == rec.dynamic_j && back->duration_s == rec.duration_s &&
                back->idle_w == rec.idle_w);
    /* the row appended from the run is the row read back, FLOPs included */
    esl_dataset *direct = NULL;
    assert_int_equal(esl_dataset_new(&direct, "runs", ESL_CONVENTION_PAPER), ESL_OK);
    assert_int_equal(esl_dataset_append_run(direct, &run, NULL), ESL_OK);
    assert_true(direct->rows[0].flops_cfg == back->flops_cfg && back->flops_cfg > 0);
    esl_dataset_free(direct);
    esl_dataset_free(ds);
    free(text);

    rec.flags = ESL_FLAG_TOO_SHORT | ESL_FLAG_INTEGRATED;
    assert_int_equal(esl_run_row_of(&rr, &run), ESL_EINVAL);
    assert_string_equal(esl_error_last(), "flagged too-short");
    rec.flags = 0;
    labels[4].value = "x512";
    assert_int_equal(esl_run_row_of(&rr, &run), ESL_EINVAL);
    assert_string_equal(esl_error_last(), "label 'height': 'x512' is not a positive integer");
    run.n_labels = 2;
    assert_int_equal(esl_run_row_of(&rr, &run), ESL_EINVAL);
    assert_string_equal(esl_error_last(), "no label 'model'");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(filter_and_rollback, setup, teardown),
        cmocka_unit_test_setup_teardown(schema_versions, setup, teardown),
        cmocka_unit_test_setup_teardown(open_readonly, setup, teardown),
        cmocka_unit_test_setup_teardown(crash_mid_transaction, setup, teardown),
        cmocka_unit_test_setup_teardown(foreign_files, setup, teardown),
        cmocka_unit_test_setup_teardown(racing_openers, setup, teardown),
        cmocka_unit_test_setup_teardown(counter_period_migration, setup, teardown),
        cmocka_unit_test(long_messages),
        cmocka_unit_test(run_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
