/*
 * store.c - the run store on SQLite: schema and its migrations, writing a
 * run in one transaction, and reading runs back with their labels, devices
 * and samples.
 *
 * The database runs in WAL mode with synchronous=FULL, so a committed run
 * survives a crash of esl, of its workload or of the machine, and a run cut
 * off before COMMIT simply is not there. Missing values (NaN in a record)
 * are stored as NULL and read back as NaN. Readers that must not change a
 * file (plotting) open it read-only, with no migration.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "core/internal.h"
#include "esl/store.h"
#include "store/internal.h"

/* migrations[v] takes a store from schema v to v + 1. */
static const char *const migrations[ESL_STORE_SCHEMA_VERSION] = {
    "CREATE TABLE runs ("
    "  id INTEGER PRIMARY KEY,"
    "  started TEXT NOT NULL,"
    "  start_unix_s REAL NOT NULL,"
    "  command TEXT NOT NULL,"
    "  exit_status INTEGER NOT NULL,"
    "  meter TEXT NOT NULL,"
    "  driver_version TEXT NOT NULL,"
    "  nvml_version TEXT NOT NULL,"
    "  duration_s REAL NOT NULL,"
    "  energy_j REAL NOT NULL,"
    "  idle_w REAL NOT NULL,"
    "  dynamic_j REAL NOT NULL,"
    "  avg_power_w REAL,"
    "  peak_power_w REAL,"
    "  flags INTEGER NOT NULL);"
    "CREATE TABLE labels ("
    "  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    "  key TEXT NOT NULL,"
    "  value TEXT NOT NULL,"
    "  PRIMARY KEY (run_id, key));"
    "CREATE TABLE devices ("
    "  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    "  position INTEGER NOT NULL,"
    "  device_index INTEGER NOT NULL,"
    "  name TEXT NOT NULL,"
    "  uuid TEXT NOT NULL,"
    "  pci_bus_id TEXT NOT NULL,"
    "  power_limit_w REAL NOT NULL,"
    "  update_interval_s REAL,"
    "  caps INTEGER NOT NULL,"
    "  energy_j REAL NOT NULL,"
    "  counter_j REAL,"
    "  integrated_j REAL,"
    "  idle_w REAL NOT NULL,"
    "  dynamic_j REAL NOT NULL,"
    "  avg_power_w REAL,"
    "  peak_power_w REAL,"
    "  flags INTEGER NOT NULL,"
    "  PRIMARY KEY (run_id, position));"
    "CREATE TABLE samples ("
    "  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    "  device INTEGER NOT NULL,"
    "  time_s REAL NOT NULL,"
    "  power_w REAL,"
    "  power_instant_w REAL,"
    "  energy_j REAL,"
    "  sm_clock_mhz REAL,"
    "  temperature_c REAL,"
    "  utilization_pct REAL);"
    "CREATE INDEX samples_by_run ON samples (run_id, device, time_s);",
    /* 1 -> 2: every run gets a UUID (version 4, random), so that a run keeps
     * its identity when stores are merged; runs stored before get theirs here */
    "ALTER TABLE runs ADD COLUMN uuid TEXT;"
    "UPDATE runs SET uuid = lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' ||"
    "  substr(hex(randomblob(2)), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) ||"
    "  substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)));"
    "CREATE UNIQUE INDEX runs_by_uuid ON runs (uuid);",
    /* 2 -> 3: each device's energy-counter period as measured during the
     * run's idle baseline (NULL when it was not measured). */
    "ALTER TABLE devices ADD COLUMN counter_period_s REAL;",
};

/* A text column, "" for NULL (a damaged or foreign file may hold one where
 * esl's schema says NOT NULL). */
static const char *text_of(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : "";
}

int esl__store_fail(esl_store *s, const char *what)
{
    return esl__fail(ESL_ESTORE, "%s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
}

int esl__store_exec(esl_store *s, const char *sql, const char *what)
{
    char *err = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &err) != SQLITE_OK) {
        int rc = esl__fail(ESL_ESTORE, "%s: %s: %s", s->path, what, err ? err : "unknown error");
        sqlite3_free(err);
        return rc;
    }
    return ESL_OK;
}

static int user_version(esl_store *s, int *out)
{
    *out = 0;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return esl__store_fail(s, "reading the schema version");
    int rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? ESL_OK : esl__store_fail(s, "reading the schema version");
}

/* A schema version esl can read: 1..ESL_STORE_SCHEMA_VERSION, or 0 for a
 * file that is still empty. Anything else is refused before it indexes the
 * migration table. */
static int check_version(esl_store *s, int version)
{
    if (version > ESL_STORE_SCHEMA_VERSION)
        return esl__fail(ESL_ESTORE, "%s: schema version %d was written by a newer esl (this one "
                         "reads up to %d)", s->path, version, ESL_STORE_SCHEMA_VERSION);
    if (version < 0)
        return esl__fail(ESL_ESTORE, "%s: schema version %d is not one esl writes (0 to %d)",
                         s->path, version, ESL_STORE_SCHEMA_VERSION);
    return ESL_OK;
}

/* The schema version, the number of tables in the file and how many of
 * them are esl's four, read in one statement so that they agree with each
 * other while another process migrates the file. */
static int read_schema(esl_store *s, int *version, int *all, int *ours)
{
    *version = *all = *ours = 0;
    sqlite3_stmt *st;
    int step = SQLITE_ERROR;
    if (sqlite3_prepare_v2(s->db, "SELECT (SELECT user_version FROM pragma_user_version), "
                           "count(*), coalesce(sum(name IN ('runs', 'labels', 'devices', "
                           "'samples')), 0) FROM sqlite_master WHERE type = 'table'",
                           -1, &st, NULL) == SQLITE_OK) {
        step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            *version = sqlite3_column_int(st, 0);
            *all = sqlite3_column_int(st, 1);
            *ours = sqlite3_column_int(st, 2);
        }
    }
    int err = sqlite3_errcode(s->db);
    sqlite3_finalize(st);
    if (step == SQLITE_ROW)
        return ESL_OK;
    if (err == SQLITE_NOTADB)
        return esl__fail(ESL_EINVAL, "%s: not an esl run store (not an SQLite database)", s->path);
    return esl__store_fail(s, "reading the schema");
}

/* Refuse a version esl cannot read, and someone else's SQLite file: tables
 * but no esl schema version, or a version without esl's four tables. */
static int check_schema(esl_store *s, int *version_out)
{
    int version, all, ours;
    int rc = read_schema(s, &version, &all, &ours);
    if (version_out != NULL)
        *version_out = version;
    if (rc != ESL_OK || (rc = check_version(s, version)) != ESL_OK)
        return rc;
    if ((version == 0 && all > 0) || (version > 0 && ours != 4))
        return esl__fail(ESL_EINVAL, "%s: not an esl run store (an SQLite database without esl's "
                         "runs and samples)", s->path);
    return ESL_OK;
}

/* Bring the schema up to date. Several processes may open a new store at
 * once: the version read before BEGIN IMMEDIATE is only a hint, and is read
 * again once this connection holds the write lock, so that exactly one of
 * them creates the tables and the others find them made. */
static int migrate(esl_store *s)
{
    int version;
    int rc = user_version(s, &version);
    if (rc != ESL_OK || (rc = check_version(s, version)) != ESL_OK)
        return rc;
    if (version == ESL_STORE_SCHEMA_VERSION)
        return ESL_OK;
    if ((rc = esl__store_exec(s, "BEGIN IMMEDIATE", "starting a schema migration")) != ESL_OK)
        return rc;
    if ((rc = check_schema(s, &version)) == ESL_OK) {
        for (int v = version; v < ESL_STORE_SCHEMA_VERSION && rc == ESL_OK; v++) {
            char pragma[64];
            snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", v + 1);
            if ((rc = esl__store_exec(s, migrations[v], "migrating the schema")) == ESL_OK)
                rc = esl__store_exec(s, pragma, "migrating the schema");
        }
        if (rc == ESL_OK && (rc = esl__store_exec(s, "COMMIT", "committing a schema migration")) == ESL_OK)
            return ESL_OK;
    }
    /* rolled back directly, so that the reason above stays the detail */
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

static void nap_ms(int ms)
{
    struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

/* Switch a store to WAL mode. The switch needs the file to itself for a
 * moment, and SQLite does not always wait for that under the busy timeout
 * (another process's migration or first read holds a lock), so it is tried
 * again for up to the same five seconds. A file already in WAL mode is left
 * alone: the mode is kept in the file. */
static int use_wal(esl_store *s)
{
    for (int waited_ms = 0;; waited_ms += 10) {
        sqlite3_stmt *st;
        int rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode", -1, &st, NULL);
        int step = rc == SQLITE_OK ? sqlite3_step(st) : rc;
        int wal = step == SQLITE_ROW &&
                  strcmp(text_of(st, 0), "wal") == 0;
        if (rc == SQLITE_OK)
            sqlite3_finalize(st);
        if (wal)
            return ESL_OK;
        if (step == SQLITE_ROW) {
            rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
            step = rc == SQLITE_OK ? sqlite3_step(st) : rc;
            wal = step == SQLITE_ROW &&
                  strcmp(text_of(st, 0), "wal") == 0;
            if (rc == SQLITE_OK)
                sqlite3_finalize(st);
            if (wal)
                return ESL_OK;
        }
        int err = sqlite3_errcode(s->db);
        if ((err != SQLITE_BUSY && err != SQLITE_LOCKED) || waited_ms >= 5000)
            return err == SQLITE_OK || err == SQLITE_ROW || err == SQLITE_DONE
                       ? esl__fail(ESL_ESTORE, "%s: switching to WAL mode: the file stays in "
                                   "another journal mode", s->path)
                       : esl__store_fail(s, "switching to WAL mode");
        nap_ms(10);
    }
}

int esl_store_open(esl_store **out, const char *path)
{
    *out = NULL;
    esl_store *s = calloc(1, sizeof *s);
    if (s == NULL || (s->path = esl__strdup(path)) == NULL) {
        free(s);
        return esl__fail(ESL_ENOMEM, "out of memory opening %s", path);
    }
    int rc;
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        rc = s->db ? esl__store_fail(s, "opening") : esl__fail(ESL_ENOMEM, "out of memory opening %s", path);
        esl_store_close(s);
        return rc;
    }
    sqlite3_busy_timeout(s->db, 5000);
    /* A file esl may only read would fail at the first write, after the
     * workload ran: refuse it now, while that costs nothing. */
    if (sqlite3_db_readonly(s->db, "main") == 1) {
        rc = esl__fail(ESL_ESTORE, "%s: cannot write the run store (opened read-only: check the "
                       "file's and its folder's permissions)", path);
        esl_store_close(s);
        return rc;
    }
    /* Nothing is written to a file that is not esl's (not even its journal
     * mode) before it is known to be one, or an empty one. */
    if ((rc = check_schema(s, NULL)) != ESL_OK || (rc = use_wal(s)) != ESL_OK ||
        (rc = esl__store_exec(s, "PRAGMA synchronous = FULL", "setting synchronous mode")) != ESL_OK ||
        (rc = esl__store_exec(s, "PRAGMA foreign_keys = ON", "enabling foreign keys")) != ESL_OK ||
        (rc = migrate(s)) != ESL_OK) {
        esl_store_close(s);
        return rc;
    }
    s->version = ESL_STORE_SCHEMA_VERSION;
    *out = s;
    return ESL_OK;
}

int esl_store_open_readonly(esl_store **out, const char *path)
{
    *out = NULL;
    if (access(path, F_OK) != 0)
        return esl__fail(ESL_ENOTFOUND, "%s: no such file", path);
    esl_store *s = calloc(1, sizeof *s);
    if (s == NULL || (s->path = esl__strdup(path)) == NULL) {
        free(s);
        return esl__fail(ESL_ENOMEM, "out of memory opening %s", path);
    }
    int rc;
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        rc = s->db ? esl__store_fail(s, "opening") : esl__fail(ESL_ENOMEM, "out of memory opening %s", path);
        esl_store_close(s);
        return rc;
    }
    sqlite3_busy_timeout(s->db, 5000);
    /* A file that is not SQLite fails on its first read; an SQLite file
     * without esl's four tables (or with user_version 0) is someone else's,
     * and an empty file is nobody's store yet. */
    int all = 0, ours = 0, version = 0;
    if ((rc = read_schema(s, &version, &all, &ours)) == ESL_OK &&
        (rc = check_version(s, version)) == ESL_OK) {
        s->version = version;
        if (all == 0 && version == 0)
            rc = esl__fail(ESL_EINVAL, "%s: not an esl run store (an empty file or database)",
                           path);
        else if (ours != 4 || version == 0)
            rc = esl__fail(ESL_EINVAL, "%s: not an esl run store (an SQLite database without "
                           "esl's runs and samples)", path);
    }
    if (rc != ESL_OK) {
        esl_store_close(s);
        return rc;
    }
    s->version = version;
    *out = s;
    return ESL_OK;
}

void esl_store_close(esl_store *s)
{
    if (s == NULL)
        return;
    sqlite3_close(s->db);
    free(s->path);
    free(s);
}

/* Bind a double; NaN (an unknown value) becomes NULL. */
static int bind_real(sqlite3_stmt *st, int i, double v)
{
    return isnan(v) ? sqlite3_bind_null(st, i) : sqlite3_bind_double(st, i, v);
}

static double column_real(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}

/* A new random (version 4) UUID, "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx",
 * from SQLite's generator (seeded from the system's entropy). */
static void new_uuid(char out[37])
{
    unsigned char b[16];
    sqlite3_randomness((int)sizeof b, b);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* RFC 4122 section 4.4: version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* and its variant */
    size_t used = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[used++] = '-';
        used += (size_t)snprintf(out + used, 37 - used, "%02x", b[i]);
    }
    out[36] = '\0';
}

/* Insert the runs row; `uuid` and `started` NULL: a new UUID, and the start
 * written from rec->start_unix_s. */
static int put_run(esl_store *s, int64_t *out_id, const esl_record *rec, const char *command,
                   int exit_status, const char *uuid, const char *started_text)
{
    static const char sql[] =
        "INSERT INTO runs (started, start_unix_s, command, exit_status, meter, driver_version,"
        " nvml_version, duration_s, energy_j, idle_w, dynamic_j, avg_power_w, peak_power_w, flags,"
        " uuid) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return esl__store_fail(s, "preparing a run");
    char started[32], fresh[37];
    time_t t = (time_t)rec->start_unix_s;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(started, sizeof started, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (uuid == NULL) {
        new_uuid(fresh);
        uuid = fresh;
    }
    sqlite3_bind_text(st, 1, started_text ? started_text : started, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 15, uuid, -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(st, 2, rec->start_unix_s);
    sqlite3_bind_text(st, 3, command ? command : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 4, exit_status);
    sqlite3_bind_text(st, 5, esl_meter_kind_name(rec->meter), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, rec->driver_version, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 7, rec->nvml_version, -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(st, 8, rec->duration_s);
    sqlite3_bind_double(st, 9, rec->energy_j);
    sqlite3_bind_double(st, 10, rec->idle_w);
    sqlite3_bind_double(st, 11, rec->dynamic_j);
    bind_real(st, 12, rec->avg_power_w);
    bind_real(st, 13, rec->peak_power_w);
    sqlite3_bind_int64(st, 14, rec->flags);
    int step = sqlite3_step(st);
    int rc = step == SQLITE_DONE ? ESL_OK
             : step == SQLITE_CONSTRAINT
                 ? esl__fail(ESL_ESTORE, "%s: a run with UUID %s is already stored", s->path, uuid)
                 : esl__store_fail(s, "writing a run");
    sqlite3_finalize(st);
    *out_id = sqlite3_last_insert_rowid(s->db);
    return rc;
}

static int put_labels(esl_store *s, int64_t id, const esl_label *labels, size_t n)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "INSERT INTO labels (run_id, key, value) VALUES (?,?,?)", -1, &st,
                           NULL) != SQLITE_OK)
        return esl__store_fail(s, "preparing labels");
    int rc = ESL_OK;
    for (size_t i = 0; i < n && rc == ESL_OK; i++) {
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_text(st, 2, labels[i].key, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, labels[i].value, -1, SQLITE_TRANSIENT);
        int step = sqlite3_step(st);
        if (step == SQLITE_CONSTRAINT)
            rc = esl__fail(ESL_EINVAL, "label '%s' is given twice", labels[i].key);
        else if (step != SQLITE_DONE)
            rc = esl__store_fail(s, "writing labels");
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return rc;
}

static int put_devices(esl_store *s, int64_t id, const esl_record *rec)
{
    static const char sql[] =
        "INSERT INTO devices (run_id, position, device_index, name, uuid, pci_bus_id, power_limit_w,"
        " update_interval_s, caps, energy_j, counter_j, integrated_j, idle_w, dynamic_j,"
        " avg_power_w, peak_power_w, flags, counter_period_s)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return esl__store_fail(s, "preparing devices");
    int rc = ESL_OK;
    for (size_t i = 0; i < rec->n_devices && rc == ESL_OK; i++) {
        const esl_device_record *d = &rec->devices[i];
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, (int64_t)i);
        sqlite3_bind_int(st, 3, d->info.index);
        sqlite3_bind_text(st, 4, d->info.name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 5, d->info.uuid, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 6, d->info.pci_bus_id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_double(st, 7, d->info.power_limit_w);
        bind_real(st, 8, isinf(d->info.update_interval_s) ? NAN : d->info.update_interval_s);
        sqlite3_bind_int64(st, 9, d->info.caps);
        sqlite3_bind_double(st, 10, d->energy_j);
        bind_real(st, 11, d->counter_j);
        bind_real(st, 12, d->integrated_j);
        sqlite3_bind_double(st, 13, d->idle_w);
        sqlite3_bind_double(st, 14, d->dynamic_j);
        bind_real(st, 15, d->avg_power_w);
        bind_real(st, 16, d->peak_power_w);
        sqlite3_bind_int64(st, 17, d->flags);
        bind_real(st, 18, d->info.counter_period_s);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = esl__store_fail(s, "writing devices");
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return rc;
}

static int put_samples(esl_store *s, int64_t id, const esl_record *rec)
{
    static const char sql[] =
        "INSERT INTO samples (run_id, device, time_s, power_w, power_instant_w, energy_j,"
        " sm_clock_mhz, temperature_c, utilization_pct) VALUES (?,?,?,?,?,?,?,?,?)";
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return esl__store_fail(s, "preparing samples");
    int rc = ESL_OK;
    for (size_t i = 0; i < rec->n_samples && rc == ESL_OK; i++) {
        const esl_sample *x = &rec->samples[i];
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int(st, 2, x->device);
        sqlite3_bind_double(st, 3, x->time_s);
        bind_real(st, 4, x->power_w);
        bind_real(st, 5, x->power_instant_w);
        bind_real(st, 6, x->energy_j);
        bind_real(st, 7, x->sm_clock_mhz);
        bind_real(st, 8, x->temperature_c);
        bind_real(st, 9, x->utilization_pct);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = esl__store_fail(s, "writing samples");
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return rc;
}

int esl_store_put(esl_store *s, int64_t *out_id, const esl_record *rec, const char *command,
                  int exit_status, const esl_label *labels, size_t n_labels)
{
    int64_t id = 0;
    int rc = esl__store_exec(s, "BEGIN IMMEDIATE", "starting to write a run");
    if (rc != ESL_OK)
        return rc;
    if ((rc = put_run(s, &id, rec, command, exit_status, NULL, NULL)) == ESL_OK &&
        (rc = put_labels(s, id, labels, n_labels)) == ESL_OK &&
        (rc = put_devices(s, id, rec)) == ESL_OK && (rc = put_samples(s, id, rec)) == ESL_OK &&
        (rc = esl__store_exec(s, "COMMIT", "committing a run")) == ESL_OK) {
        *out_id = id;
        return ESL_OK;
    }
    char detail[1024];
    snprintf(detail, sizeof detail, "%s", esl_error_last());
    esl__store_exec(s, "ROLLBACK", "rolling back a run");
    return esl__fail(rc, "%s", detail);
}

int esl_store_put_many(esl_store *s, int64_t *out_ids, const esl_store_item *items, size_t n)
{
    int rc = esl__store_exec(s, "BEGIN IMMEDIATE", "starting to write runs");
    if (rc != ESL_OK)
        return rc;
    for (size_t i = 0; i < n && rc == ESL_OK; i++) {
        const esl_store_item *it = &items[i];
        int64_t id = 0;
        if ((rc = put_run(s, &id, it->record, it->command, it->exit_status, NULL, NULL)) == ESL_OK &&
            (rc = put_labels(s, id, it->labels, it->n_labels)) == ESL_OK &&
            (rc = put_devices(s, id, it->record)) == ESL_OK &&
            (rc = put_samples(s, id, it->record)) == ESL_OK && out_ids != NULL)
            out_ids[i] = id;
    }
    if (rc == ESL_OK && (rc = esl__store_exec(s, "COMMIT", "committing runs")) == ESL_OK)
        return ESL_OK;
    char detail[1024];
    snprintf(detail, sizeof detail, "%s", esl_error_last());
    esl__store_exec(s, "ROLLBACK", "rolling back runs");
    return esl__fail(rc, "%s", detail);
}

int esl__store_put_copy(esl_store *s, int64_t *out_id, const esl_run *r)
{
    int64_t id = 0;
    int rc;
    *out_id = 0;
    if ((rc = put_run(s, &id, r->record, r->command, r->exit_status, r->uuid, r->started)) == ESL_OK &&
        (rc = put_labels(s, id, r->labels, r->n_labels)) == ESL_OK &&
        (rc = put_devices(s, id, r->record)) == ESL_OK &&
        (rc = put_samples(s, id, r->record)) == ESL_OK)
        *out_id = id;
    return rc;
}

int esl__store_find_uuid(esl_store *s, const char *uuid, int64_t *out_id)
{
    *out_id = 0;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT id FROM runs WHERE uuid = ?", -1, &st, NULL) != SQLITE_OK)
        return esl__store_fail(s, "looking up a run's UUID");
    sqlite3_bind_text(st, 1, uuid, -1, SQLITE_TRANSIENT);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        *out_id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return step == SQLITE_ROW || step == SQLITE_DONE ? ESL_OK
                                                     : esl__store_fail(s, "looking up a run's UUID");
}

void esl_runs_free(esl_run *runs, size_t n)
{
    if (runs == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        free(runs[i].started);
        free(runs[i].command);
        free(runs[i].uuid);
        for (size_t j = 0; j < runs[i].n_labels; j++) {
            free(runs[i].labels[j].key);
            free(runs[i].labels[j].value);
        }
        free(runs[i].labels);
        esl_record_free(runs[i].record);
    }
    free(runs);
}

const char *esl_run_label(const esl_run *run, const char *key)
{
    for (size_t i = 0; i < run->n_labels; i++)
        if (strcmp(run->labels[i].key, key) == 0)
            return run->labels[i].value;
    return NULL;
}

static char *column_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return esl__strdup(t ? (const char *)t : "");
}

/* Fill run r (id set) with its labels and devices, and samples if asked. */
static int load_details(esl_store *s, esl_run *r, int with_samples)
{
    sqlite3_stmt *st;
    int rc = ESL_OK;
    if (sqlite3_prepare_v2(s->db, "SELECT key, value FROM labels WHERE run_id = ? ORDER BY key", -1,
                           &st, NULL) != SQLITE_OK)
        return esl__store_fail(s, "reading labels");
    sqlite3_bind_int64(st, 1, r->id);
    while (rc == ESL_OK && sqlite3_step(st) == SQLITE_ROW) {
        esl_label *grown = realloc(r->labels, (r->n_labels + 1) * sizeof *grown);
        if (grown == NULL) {
            rc = esl__fail(ESL_ENOMEM, "out of memory reading labels");
            break;
        }
        r->labels = grown;
        grown[r->n_labels].key = column_text(st, 0);
        grown[r->n_labels].value = column_text(st, 1);
        r->n_labels++;
    }
    sqlite3_finalize(st);
    if (rc != ESL_OK)
        return rc;

    /* A store read-only below schema 3 has no counter periods. */
    const char *dev_sql =
        s->version < 3
            ? "SELECT device_index, name, uuid, pci_bus_id, power_limit_w, update_interval_s, caps,"
              " energy_j, counter_j, integrated_j, idle_w, dynamic_j, avg_power_w, peak_power_w,"
              " flags, NULL FROM devices WHERE run_id = ? ORDER BY position"
            : "SELECT device_index, name, uuid, pci_bus_id, power_limit_w, update_interval_s, caps,"
              " energy_j, counter_j, integrated_j, idle_w, dynamic_j, avg_power_w, peak_power_w,"
              " flags, counter_period_s FROM devices WHERE run_id = ? ORDER BY position";
    if (sqlite3_prepare_v2(s->db, dev_sql, -1, &st, NULL) != SQLITE_OK)
        return esl__store_fail(s, "reading devices");
    sqlite3_bind_int64(st, 1, r->id);
    esl_record *rec = r->record;
    while (rc == ESL_OK && sqlite3_step(st) == SQLITE_ROW) {
        esl_device_record *grown = realloc(rec->devices, (rec->n_devices + 1) * sizeof *grown);
        if (grown == NULL) {
            rc = esl__fail(ESL_ENOMEM, "out of memory reading devices");
            break;
        }
        rec->devices = grown;
        esl_device_record *d = &grown[rec->n_devices++];
        memset(d, 0, sizeof *d);
        d->info.index = sqlite3_column_int(st, 0);
        snprintf(d->info.name, sizeof d->info.name, "%s", text_of(st, 1));
        snprintf(d->info.uuid, sizeof d->info.uuid, "%s", text_of(st, 2));
        snprintf(d->info.pci_bus_id, sizeof d->info.pci_bus_id, "%s",
                 text_of(st, 3));
        d->info.power_limit_w = sqlite3_column_double(st, 4);
        d->info.update_interval_s = column_real(st, 5);
        d->info.caps = (unsigned)sqlite3_column_int64(st, 6);
        d->energy_j = sqlite3_column_double(st, 7);
        d->counter_j = column_real(st, 8);
        d->integrated_j = column_real(st, 9);
        d->idle_w = sqlite3_column_double(st, 10);
        d->dynamic_j = sqlite3_column_double(st, 11);
        d->avg_power_w = column_real(st, 12);
        d->peak_power_w = column_real(st, 13);
        d->flags = (unsigned)sqlite3_column_int64(st, 14);
        d->info.counter_period_s = column_real(st, 15);
    }
    sqlite3_finalize(st);
    if (rc != ESL_OK || !with_samples)
        return rc;

    static const char sample_sql[] =
        "SELECT device, time_s, power_w, power_instant_w, energy_j, sm_clock_mhz, temperature_c,"
        " utilization_pct FROM samples WHERE run_id = ? ORDER BY rowid";
    if (sqlite3_prepare_v2(s->db, sample_sql, -1, &st, NULL) != SQLITE_OK)
        return esl__store_fail(s, "reading samples");
    sqlite3_bind_int64(st, 1, r->id);
    size_t cap = 0;
    while (rc == ESL_OK && sqlite3_step(st) == SQLITE_ROW) {
        if (rec->n_samples == cap) {
            cap = cap ? 2 * cap : 256;
            esl_sample *grown = realloc(rec->samples, cap * sizeof *grown);
            if (grown == NULL) {
                rc = esl__fail(ESL_ENOMEM, "out of memory reading samples");
                break;
            }
            rec->samples = grown;
        }
        esl_sample *x = &rec->samples[rec->n_samples++];
        x->device = sqlite3_column_int(st, 0);
        x->time_s = sqlite3_column_double(st, 1);
        x->power_w = column_real(st, 2);
        x->power_instant_w = column_real(st, 3);
        x->energy_j = column_real(st, 4);
        x->sm_clock_mhz = column_real(st, 5);
        x->temperature_c = column_real(st, 6);
        x->utilization_pct = column_real(st, 7);
    }
    sqlite3_finalize(st);
    return rc;
}

/* The runs columns read_run reads; a store of schema 1 (read-only, not
 * upgraded) has no UUIDs: NULL stands in for them. */
#define RUN_COLUMNS_BUT_UUID                                                               \
    "SELECT id, started, start_unix_s, command, exit_status, meter, driver_version,"       \
    " nvml_version, duration_s, energy_j, idle_w, dynamic_j, avg_power_w, peak_power_w,"    \
    " flags, "

static const char *run_columns(const esl_store *s)
{
    return s->version >= 2 ? RUN_COLUMNS_BUT_UUID "uuid FROM runs"
                           : RUN_COLUMNS_BUT_UUID "NULL FROM runs";
}

/* Read the current row of a run_columns() query into r. */
static int read_run(sqlite3_stmt *st, esl_run *r)
{
    memset(r, 0, sizeof *r);
    r->record = calloc(1, sizeof *r->record);
    if (r->record == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory reading runs");
    r->id = sqlite3_column_int64(st, 0);
    r->started = column_text(st, 1);
    r->command = column_text(st, 3);
    if (r->started == NULL || r->command == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory reading runs");
    r->exit_status = sqlite3_column_int(st, 4);
    esl_record *rec = r->record;
    rec->start_unix_s = sqlite3_column_double(st, 2);
    const char *meter = (const char *)sqlite3_column_text(st, 5);
    esl_meter_kind kind = ESL_METER_NVML;
    if (meter != NULL && esl_meter_kind_parse(&kind, meter) != ESL_OK)
        esl_error_clear();
    rec->meter = kind;
    snprintf(rec->driver_version, sizeof rec->driver_version, "%s",
             text_of(st, 6));
    snprintf(rec->nvml_version, sizeof rec->nvml_version, "%s",
             text_of(st, 7));
    rec->duration_s = sqlite3_column_double(st, 8);
    rec->energy_j = sqlite3_column_double(st, 9);
    rec->idle_w = sqlite3_column_double(st, 10);
    rec->dynamic_j = sqlite3_column_double(st, 11);
    rec->avg_power_w = column_real(st, 12);
    rec->peak_power_w = column_real(st, 13);
    rec->flags = (unsigned)sqlite3_column_int64(st, 14);
    if (sqlite3_column_type(st, 15) != SQLITE_NULL &&
        (r->uuid = column_text(st, 15)) == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory reading runs");
    return ESL_OK;
}

int esl_store_list(esl_store *s, esl_run **out, size_t *n_out, const esl_label *where,
                   size_t n_where)
{
    *out = NULL;
    *n_out = 0;
    size_t size = strlen(run_columns(s)) + 64 + n_where * 160;
    char *sql = malloc(size);
    if (sql == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory listing runs");
    size_t used = (size_t)snprintf(sql, size, "%s WHERE 1", run_columns(s));
    for (size_t i = 0; i < n_where; i++)
        used += (size_t)snprintf(sql + used, size - used,
                                 " AND EXISTS (SELECT 1 FROM labels l WHERE l.run_id = runs.id"
                                 " AND l.key = ? AND l.value = ?)");
    snprintf(sql + used, size - used, " ORDER BY id");
    sqlite3_stmt *st;
    int prep = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    free(sql);
    if (prep != SQLITE_OK)
        return esl__store_fail(s, "listing runs");
    for (size_t i = 0; i < n_where; i++) {
        sqlite3_bind_text(st, (int)(2 * i + 1), where[i].key, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, (int)(2 * i + 2), where[i].value, -1, SQLITE_TRANSIENT);
    }
    esl_run *runs = NULL;
    size_t n = 0;
    int rc = ESL_OK, step;
    while (rc == ESL_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        esl_run *grown = realloc(runs, (n + 1) * sizeof *grown);
        if (grown == NULL) {
            rc = esl__fail(ESL_ENOMEM, "out of memory listing runs");
            break;
        }
        runs = grown;
        rc = read_run(st, &runs[n++]);
    }
    if (rc == ESL_OK && step != SQLITE_DONE)
        rc = esl__store_fail(s, "listing runs");
    sqlite3_finalize(st);
    for (size_t i = 0; i < n && rc == ESL_OK; i++)
        rc = load_details(s, &runs[i], 0);
    if (rc != ESL_OK) {
        esl_runs_free(runs, n);
        return rc;
    }
    *out = runs;
    *n_out = n;
    return ESL_OK;
}

int esl_store_get(esl_store *s, esl_run **out, int64_t id)
{
    *out = NULL;
    sqlite3_stmt *st;
    char sql[512];
    snprintf(sql, sizeof sql, "%s WHERE id = ?", run_columns(s));
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return esl__store_fail(s, "reading a run");
    sqlite3_bind_int64(st, 1, id);
    int step = sqlite3_step(st);
    if (step != SQLITE_ROW) {
        int rc = step == SQLITE_DONE ? esl__fail(ESL_ENOTFOUND, "%s: no run %lld", s->path, (long long)id)
                                     : esl__store_fail(s, "reading a run");
        sqlite3_finalize(st);
        return rc;
    }
    esl_run *run = calloc(1, sizeof *run);
    int rc = run == NULL ? esl__fail(ESL_ENOMEM, "out of memory reading a run") : read_run(st, run);
    sqlite3_finalize(st);
    if (rc == ESL_OK)
        rc = load_details(s, run, 1);
    if (rc != ESL_OK) {
        esl_runs_free(run, run ? 1 : 0);
        return rc;
    }
    *out = run;
    return ESL_OK;
}

int esl_store_check(esl_store *s)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "PRAGMA integrity_check", -1, &st, NULL) != SQLITE_OK)
        return esl__store_fail(s, "checking integrity");
    int rc = ESL_OK;
    if (sqlite3_step(st) != SQLITE_ROW)
        rc = esl__store_fail(s, "checking integrity");
    else if (strcmp(text_of(st, 0), "ok") != 0)
        rc = esl__fail(ESL_ESTORE, "%s: integrity check: %s", s->path, text_of(st, 0));
    sqlite3_finalize(st);
    if (rc != ESL_OK)
        return rc;
    static const char orphans[] =
        "SELECT id FROM runs WHERE NOT EXISTS (SELECT 1 FROM devices d WHERE d.run_id = runs.id)"
        " LIMIT 1";
    if (sqlite3_prepare_v2(s->db, orphans, -1, &st, NULL) != SQLITE_OK)
        return esl__store_fail(s, "checking runs");
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        rc = esl__fail(ESL_ESTORE, "%s: run %lld has no devices", s->path,
                       (long long)sqlite3_column_int64(st, 0));
    else if (step != SQLITE_DONE)
        rc = esl__store_fail(s, "checking runs");
    sqlite3_finalize(st);
    return rc;
}
