/*
 * test_merge.c - run identity and merging stores: every run gets a UUID (and
 * a store of schema 1 gets them when it is upgraded), merging copies runs
 * whole and only once, a changed run is a conflict, and a merge that fails
 * (a bad shard, a write refused halfway) leaves the destination as it was.
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
#include <sqlite3.h>

#include "esl/esl.h"

#include "scratch_dir.h"

static esl_record *make_record(double energy, size_t n_samples)
{
    esl_record *rec = calloc(1, sizeof *rec);
    rec->meter = ESL_METER_NVML;
    snprintf(rec->driver_version, sizeof rec->driver_version, "550.54.15");
    rec->start_unix_s = 1795600000.5 + energy;
    rec->duration_s = 2.5;
    rec->n_devices = 1;
    rec->devices = calloc(1, sizeof *rec->devices);
    snprintf(rec->devices[0].info.name, sizeof rec->devices[0].info.name, "NVIDIA A100");
    snprintf(rec->devices[0].info.uuid, sizeof rec->devices[0].info.uuid, "GPU-a");
    rec->devices[0].energy_j = energy;
    rec->devices[0].idle_w = 50.0;
    rec->devices[0].avg_power_w = NAN;
    rec->devices[0].peak_power_w = NAN;
    esl_record_sum(rec);
    rec->n_samples = n_samples;
    rec->samples = calloc(n_samples ? n_samples : 1, sizeof *rec->samples);
    for (size_t i = 0; i < n_samples; i++)
        rec->samples[i] = (esl_sample){0.1 * (double)i, 0, 200.0 + (double)i, NAN, NAN, NAN,
                                       NAN, NAN};
    return rec;
}

/* A store at `name` with `n` runs labelled task=<prefix><i>. */
static void make_store(const char *name, const char *prefix, size_t n)
{
    char p[SCRATCH_PATH_MAX], task[32];
    esl_store *s;
    assert_int_equal(esl_store_open(&s, in_dir(p, name)), ESL_OK);
    for (size_t i = 0; i < n; i++) {
        esl_record *rec = make_record(100.0 + (double)i, 3 + i);
        snprintf(task, sizeof task, "%s%zu", prefix, i);
        esl_label labels[] = {{"model", "sd2"}, {"task", task}};
        int64_t id;
        assert_int_equal(esl_store_put(s, &id, rec, "true", 0, labels, 2), ESL_OK);
        esl_record_free(rec);
    }
    esl_store_close(s);
}

static size_t count_runs(const char *name)
{
    char p[SCRATCH_PATH_MAX];
    esl_store *s;
    esl_run *runs;
    size_t n;
    assert_int_equal(esl_store_open_readonly(&s, in_dir(p, name)), ESL_OK);
    assert_int_equal(esl_store_list(s, &runs, &n, NULL, 0), ESL_OK);
    esl_runs_free(runs, n);
    esl_store_close(s);
    return n;
}

static void uuids(void **state)
{
    (void)state;
    make_store("a.db", "a", 3);
    char p[SCRATCH_PATH_MAX];
    esl_store *s;
    esl_run *runs;
    size_t n;
    assert_int_equal(esl_store_open_readonly(&s, in_dir(p, "a.db")), ESL_OK);
    assert_int_equal(esl_store_list(s, &runs, &n, NULL, 0), ESL_OK);
    assert_int_equal(n, 3);
    for (size_t i = 0; i < n; i++) {
        const char *u = runs[i].uuid;
        assert_non_null(u);
        assert_int_equal(strlen(u), 36);
        assert_true(u[8] == '-' && u[13] == '-' && u[18] == '-' && u[23] == '-');
        assert_int_equal(u[14], '4');                     /* version 4 */
        assert_non_null(strchr("89ab", u[19]));           /* RFC 4122 variant */
        assert_int_equal(strspn(u, "0123456789abcdef-"), 36);
        for (size_t k = 0; k < i; k++)
            assert_string_not_equal(u, runs[k].uuid);
    }
    esl_runs_free(runs, n);
    esl_store_close(s);
}

/* A store written by an esl of schema 1 (no uuid column): read-only it
 * reads without UUIDs, it cannot be merged, and upgrading gives every run
 * its own UUID, keeping everything else. */
static void schema_1_upgrade(void **state)
{
    (void)state;
    make_store("old.db", "o", 3);
    char p[SCRATCH_PATH_MAX], d[SCRATCH_PATH_MAX];
    sqlite3 *db;
    assert_int_equal(sqlite3_open(in_dir(p, "old.db"), &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "DROP INDEX runs_by_uuid; ALTER TABLE runs DROP COLUMN uuid;"
                                  " ALTER TABLE devices DROP COLUMN counter_period_s;"
                                  " PRAGMA user_version = 1", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    esl_store *s;
    esl_run *runs;
    size_t n;
    assert_int_equal(esl_store_open_readonly(&s, p), ESL_OK);
    assert_int_equal(esl_store_list(s, &runs, &n, NULL, 0), ESL_OK);
    assert_int_equal(n, 3);
    assert_null(runs[0].uuid);
    esl_runs_free(runs, n);
    esl_store_close(s);

    esl_merge_result res;
    const char *shards[] = {p};
    assert_int_equal(esl_store_open(&s, in_dir(d, "dst.db")), ESL_OK);
    assert_int_equal(esl_store_merge(s, shards, 1, &res), ESL_ESTORE);
    assert_non_null(strstr(esl_error_last(), "old.db: schema version 1 is an older esl's"));
    assert_int_equal(res.added, 0);
    esl_store_close(s);

    assert_int_equal(esl_store_open(&s, p), ESL_OK); /* the upgrade */
    esl_store_close(s);
    assert_int_equal(esl_store_open_readonly(&s, p), ESL_OK);
    assert_int_equal(esl_store_list(s, &runs, &n, NULL, 0), ESL_OK);
    assert_int_equal(n, 3);
    for (size_t i = 0; i < n; i++) {
        assert_non_null(runs[i].uuid);
        assert_int_equal(strlen(runs[i].uuid), 36);
        assert_int_equal(runs[i].uuid[14], '4');
        assert_string_equal(esl_run_label(&runs[i], "model"), "sd2");
        if (i > 0)
            assert_string_not_equal(runs[i].uuid, runs[i - 1].uuid);
    }
    esl_runs_free(runs, n);
    esl_store_close(s);
}

static void merge_twice(void **state)
{
    (void)state;
    make_store("a.db", "a", 2);
    make_store("b.db", "b", 3);
    make_store("dst.db", "d", 1);
    char a[SCRATCH_PATH_MAX], b[SCRATCH_PATH_MAX], d[SCRATCH_PATH_MAX];
    const char *shards[] = {in_dir(a, "a.db"), in_dir(b, "b.db")};
    esl_store *s;
    esl_merge_result res;
    assert_int_equal(esl_store_open(&s, in_dir(d, "dst.db")), ESL_OK);
    assert_int_equal(esl_store_merge(s, shards, 2, &res), ESL_OK);
    assert_int_equal(res.shards, 2);
    assert_int_equal(res.added, 5);
    assert_int_equal(res.skipped, 0);
    assert_int_equal(res.n_conflicts, 0);
    esl_merge_result_release(&res);
    /* again, and a shard named twice: nothing is added */
    const char *again[] = {a, b, a};
    assert_int_equal(esl_store_merge(s, again, 3, &res), ESL_OK);
    assert_int_equal(res.added, 0);
    assert_int_equal(res.skipped, 7);
    esl_merge_result_release(&res);

    /* each merged run is the shard's run: same UUID, start, labels, trace */
    esl_store *src;
    esl_run *runs, *copy, *orig;
    size_t n;
    assert_int_equal(esl_store_open_readonly(&src, b), ESL_OK);
    esl_label where = {"task", "b2"};
    assert_int_equal(esl_store_list(s, &runs, &n, &where, 1), ESL_OK);
    assert_int_equal(n, 1);
    assert_int_equal(esl_store_get(s, &copy, runs[0].id), ESL_OK);
    assert_int_equal(esl_store_get(src, &orig, 3), ESL_OK);
    assert_string_equal(copy->uuid, orig->uuid);
    assert_string_equal(copy->started, orig->started);
    assert_int_equal(copy->record->n_samples, 5);
    assert_memory_equal(&copy->record->energy_j, &orig->record->energy_j, sizeof(double));
    assert_memory_equal(&copy->record->start_unix_s, &orig->record->start_unix_s, sizeof(double));
    esl_runs_free(runs, n);
    esl_runs_free(copy, 1);
    esl_runs_free(orig, 1);
    esl_store_close(src);
    esl_store_close(s);
    assert_int_equal(count_runs("dst.db"), 6);
}

static void conflict(void **state)
{
    (void)state;
    make_store("a.db", "a", 2);
    char a[SCRATCH_PATH_MAX], d[SCRATCH_PATH_MAX];
    const char *shards[] = {in_dir(a, "a.db")};
    esl_store *s;
    esl_merge_result res;
    assert_int_equal(esl_store_open(&s, in_dir(d, "dst.db")), ESL_OK);
    assert_int_equal(esl_store_merge(s, shards, 1, &res), ESL_OK);
    esl_merge_result_release(&res);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(a, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "UPDATE runs SET energy_j = energy_j + 1 WHERE id = 2",
                                  NULL, NULL, NULL), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT uuid FROM runs WHERE id = 2", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    char uuid[40];
    snprintf(uuid, sizeof uuid, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
    assert_int_equal(esl_store_merge(s, shards, 1, &res), ESL_OK);
    assert_int_equal(res.added, 0);
    assert_int_equal(res.skipped, 1);
    assert_int_equal(res.n_conflicts, 1);
    assert_string_equal(res.conflicts[0].uuid, uuid);
    assert_string_equal(res.conflicts[0].shard, a);
    assert_int_equal(res.conflicts[0].shard_id, 2);
    assert_int_equal(res.conflicts[0].store_id, 2);
    esl_merge_result_release(&res);
    esl_run *kept;
    assert_int_equal(esl_store_get(s, &kept, 2), ESL_OK);
    assert_true(kept->record->energy_j == 101.0); /* the destination's own */
    esl_runs_free(kept, 1);
    esl_store_close(s);
}

/* A bad shard among good ones is refused before anything is written; a
 * write that fails halfway rolls the whole merge back. */
static void failures_change_nothing(void **state)
{
    (void)state;
    make_store("a.db", "a", 2);
    make_store("dst.db", "d", 2);
    char a[SCRATCH_PATH_MAX], d[SCRATCH_PATH_MAX], text[SCRATCH_PATH_MAX], other[SCRATCH_PATH_MAX], newer[SCRATCH_PATH_MAX];
    FILE *f = fopen(in_dir(text, "text.db"), "w");
    fputs("not a database, just words that are long enough to fill a header...........\n", f);
    fclose(f);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(in_dir(other, "other.db"), &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE t (x)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    make_store("newer.db", "n", 1);
    assert_int_equal(sqlite3_open(in_dir(newer, "newer.db"), &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 7", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    esl_store *s;
    esl_merge_result res;
    in_dir(a, "a.db");
    assert_int_equal(esl_store_open(&s, in_dir(d, "dst.db")), ESL_OK);
    const char *with_text[] = {a, text};
    assert_int_equal(esl_store_merge(s, with_text, 2, &res), ESL_EINVAL);
    assert_non_null(strstr(esl_error_last(), "text.db: not an esl run store (not an SQLite"));
    assert_int_equal(res.added, 0);
    const char *with_other[] = {a, other};
    assert_int_equal(esl_store_merge(s, with_other, 2, &res), ESL_EINVAL);
    assert_non_null(strstr(esl_error_last(), "other.db: not an esl run store"));
    const char *with_newer[] = {a, newer};
    assert_int_equal(esl_store_merge(s, with_newer, 2, &res), ESL_ESTORE);
    assert_non_null(strstr(esl_error_last(), "schema version 7 was written by a newer esl"));
    char missing[SCRATCH_PATH_MAX];
    const char *with_missing[] = {a, in_dir(missing, "missing.db")};
    assert_int_equal(esl_store_merge(s, with_missing, 2, &res), ESL_ENOTFOUND);
    esl_store_close(s);
    assert_int_equal(count_runs("dst.db"), 2);

    /* the destination refuses the third run's trace: the two before go too */
    assert_int_equal(sqlite3_open(d, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TRIGGER full BEFORE INSERT ON samples WHEN"
                                  " (SELECT count(*) FROM runs) > 3 BEGIN"
                                  " SELECT RAISE(ABORT, 'disk full'); END", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    make_store("b.db", "b", 3);
    char b[SCRATCH_PATH_MAX];
    const char *two[] = {a, in_dir(b, "b.db")};
    assert_int_equal(esl_store_open(&s, d), ESL_OK);
    assert_int_equal(esl_store_merge(s, two, 2, &res), ESL_ESTORE);
    assert_non_null(strstr(esl_error_last(), "disk full"));
    assert_int_equal(res.added, 0);
    esl_store_close(s);
    assert_int_equal(count_runs("dst.db"), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(uuids, scratch_setup, scratch_teardown),
        cmocka_unit_test_setup_teardown(schema_1_upgrade, scratch_setup, scratch_teardown),
        cmocka_unit_test_setup_teardown(merge_twice, scratch_setup, scratch_teardown),
        cmocka_unit_test_setup_teardown(conflict, scratch_setup, scratch_teardown),
        cmocka_unit_test_setup_teardown(failures_change_nothing, scratch_setup, scratch_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
