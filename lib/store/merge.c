/*
 * merge.c - bringing shard stores together: the runs of many stores (one
 * per job of a sweep, written on different nodes) copied into one, each
 * run known by its UUID so that merging again adds nothing.
 *
 * Every shard is opened read-only and checked (an esl store of this schema
 * version) before the destination is touched; then every run is copied in
 * one transaction on the destination, so that a failure (a damaged shard, a
 * full disk, a kill) leaves the destination exactly as it was.
 */
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/internal.h"
#include "esl/store.h"
#include "store/internal.h"

void esl_merge_result_release(esl_merge_result *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->n_conflicts; i++) {
        free(r->conflicts[i].uuid);
        free(r->conflicts[i].shard);
    }
    free(r->conflicts);
    memset(r, 0, sizeof *r);
}

/* Two doubles equal, NaN equal to NaN (a value neither store knows). */
static int same_num(double a, double b)
{
    return (isnan(a) && isnan(b)) || a == b;
}

static int same_text(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

/* Whether two runs with one UUID hold the same measurement: start, command,
 * exit status, meter and totals, every label, every device's identity and
 * energy, and the trace's length. */
static int same_run(const esl_run *a, const esl_run *b)
{
    const esl_record *x = a->record, *y = b->record;
    if (!same_text(a->started, b->started) || !same_text(a->command, b->command) ||
        a->exit_status != b->exit_status || x->meter != y->meter ||
        !same_num(x->start_unix_s, y->start_unix_s) || !same_num(x->duration_s, y->duration_s) ||
        !same_num(x->energy_j, y->energy_j) || !same_num(x->idle_w, y->idle_w) ||
        !same_num(x->dynamic_j, y->dynamic_j) || x->flags != y->flags ||
        a->n_labels != b->n_labels || x->n_devices != y->n_devices ||
        x->n_samples != y->n_samples)
        return 0;
    for (size_t i = 0; i < a->n_labels; i++) /* both sorted by key */
        if (strcmp(a->labels[i].key, b->labels[i].key) != 0 ||
            strcmp(a->labels[i].value, b->labels[i].value) != 0)
            return 0;
    for (size_t i = 0; i < x->n_devices; i++)
        if (strcmp(x->devices[i].info.uuid, y->devices[i].info.uuid) != 0 ||
            strcmp(x->devices[i].info.name, y->devices[i].info.name) != 0 ||
            !same_num(x->devices[i].energy_j, y->devices[i].energy_j))
            return 0;
    return 1;
}

static int add_conflict(esl_merge_result *res, const esl_run *r, const char *shard, int64_t kept)
{
    esl_merge_conflict *grown = realloc(res->conflicts, (res->n_conflicts + 1) * sizeof *grown);
    if (grown == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory merging runs");
    res->conflicts = grown;
    esl_merge_conflict *c = &grown[res->n_conflicts];
    c->uuid = esl__strdup(r->uuid);
    c->shard = esl__strdup(shard);
    c->shard_id = r->id;
    c->store_id = kept;
    if (c->uuid == NULL || c->shard == NULL) {
        free(c->uuid);
        free(c->shard);
        return esl__fail(ESL_ENOMEM, "out of memory merging runs");
    }
    res->n_conflicts++;
    return ESL_OK;
}

/* Open shard `path` read-only and make sure its runs carry UUIDs. */
static int open_shard(esl_store **out, const char *path)
{
    int rc = esl_store_open_readonly(out, path);
    if (rc != ESL_OK)
        return rc;
    if ((*out)->version != ESL_STORE_SCHEMA_VERSION) {
        /* Runs are copied column for column: both stores must be this schema. */
        rc = esl__fail(ESL_ESTORE, "%s: schema version %d is an older esl's%s (upgrade it first: "
                       "esl runs upgrade --store %s)", path, (*out)->version,
                       (*out)->version < 2 ? ", whose runs have no UUIDs" : "", path);
        esl_store_close(*out);
        *out = NULL;
    }
    return rc;
}

/* Copy the runs of one shard into dst (inside the caller's transaction). */
static int merge_one(esl_store *dst, esl_store *shard, const char *path, esl_merge_result *res)
{
    esl_run *list = NULL;
    size_t n = 0;
    int rc = esl_store_list(shard, &list, &n, NULL, 0);
    for (size_t i = 0; i < n && rc == ESL_OK; i++) {
        if (list[i].uuid == NULL) {
            rc = esl__fail(ESL_ESTORE, "%s: run %lld has no UUID", path, (long long)list[i].id);
            break;
        }
        int64_t have = 0, id = 0;
        esl_run *full = NULL, *kept = NULL;
        if ((rc = esl__store_find_uuid(dst, list[i].uuid, &have)) != ESL_OK)
            break;
        if (have != 0) {
            if ((rc = esl_store_get(dst, &kept, have)) == ESL_OK &&
                (rc = esl_store_get(shard, &full, list[i].id)) == ESL_OK) {
                if (same_run(full, kept))
                    res->skipped++;
                else
                    rc = add_conflict(res, full, path, have);
            }
        } else if ((rc = esl_store_get(shard, &full, list[i].id)) == ESL_OK &&
                   (rc = esl__store_put_copy(dst, &id, full)) == ESL_OK) {
            res->added++;
        }
        if (rc != ESL_OK && have == 0)
            rc = esl__fail_prefix(rc, "%s: run %lld: ", path, (long long)list[i].id);
        esl_runs_free(full, full ? 1 : 0);
        esl_runs_free(kept, kept ? 1 : 0);
    }
    esl_runs_free(list, n);
    return rc;
}

int esl_store_merge(esl_store *dst, const char *const *paths, size_t n, esl_merge_result *out)
{
    memset(out, 0, sizeof *out);
    esl_store **shards = calloc(n ? n : 1, sizeof *shards);
    if (shards == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory merging stores");
    int rc = ESL_OK;
    for (size_t i = 0; i < n && rc == ESL_OK; i++)
        rc = open_shard(&shards[i], paths[i]);
    if (rc == ESL_OK)
        rc = esl__store_exec(dst, "BEGIN IMMEDIATE", "starting to merge runs");
    if (rc == ESL_OK) {
        for (size_t i = 0; i < n && rc == ESL_OK; i++) {
            rc = merge_one(dst, shards[i], paths[i], out);
            out->shards += rc == ESL_OK;
        }
        if (rc == ESL_OK)
            rc = esl__store_exec(dst, "COMMIT", "committing merged runs");
        if (rc != ESL_OK) {
            /* rolled back directly, so that the reason above stays the detail */
            sqlite3_exec(dst->db, "ROLLBACK", NULL, NULL, NULL);
        }
    }
    for (size_t i = 0; i < n; i++)
        esl_store_close(shards[i]);
    free(shards);
    if (rc != ESL_OK)
        esl_merge_result_release(out);
    return rc;
}

int esl_store_merge_into(const char *path, const char *const *paths, size_t n,
                         esl_merge_result *out)
{
    if (out != NULL)
        memset(out, 0, sizeof *out);
    if (path == NULL)
        return esl__fail(ESL_EINVAL, "merge: no destination store");
    esl_store *dst = NULL;
    int existed = access(path, F_OK) == 0;
    int rc = esl_store_open(&dst, path);
    if (rc != ESL_OK)
        return rc;
    rc = esl_store_merge(dst, paths, n, out);
    esl_store_close(dst);
    if (rc == ESL_OK)
        return ESL_OK;
    char detail[1024];
    snprintf(detail, sizeof detail, "%s", esl_error_last());
    if (!existed) { /* the store this merge created, empty: not left behind */
        char side[4096];
        unlink(path);
        snprintf(side, sizeof side, "%s-wal", path);
        unlink(side);
        snprintf(side, sizeof side, "%s-shm", path);
        unlink(side);
    }
    return esl__fail(rc, "%s; nothing was merged", detail);
}
