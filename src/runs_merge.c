/*
 * runs_merge.c - `esl runs merge SHARD... -o STORE` and `esl runs upgrade`:
 * the tool's side of merging shard stores (the library does the work in one
 * transaction) and of bringing an older store to this esl's schema.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "esl/esl.h"
#include "runs_io.h"

int runs_merge(const char *store_path, char *const *shards, size_t n)
{
    esl_store *dst = NULL;
    esl_merge_result res;
    int existed = access(store_path, F_OK) == 0;
    int rc = esl_store_open(&dst, store_path);
    if (rc != ESL_OK)
        return cli_fail(rc);
    rc = esl_store_merge(dst, (const char *const *)shards, n, &res);
    esl_store_close(dst);
    if (rc != ESL_OK) {
        cli_error("runs merge: %s; nothing was merged", esl_error_last());
        if (!existed) { /* the store this merge created, empty: not left behind */
            char side[4096];
            unlink(store_path);
            snprintf(side, sizeof side, "%s-wal", store_path);
            unlink(side);
            snprintf(side, sizeof side, "%s-shm", store_path);
            unlink(side);
        }
        return cli_exit_code(rc);
    }
    for (size_t i = 0; i < res.n_conflicts; i++) {
        const esl_merge_conflict *c = &res.conflicts[i];
        cli_error("runs merge: conflict: run %s of %s (id %" PRId64 ") differs from run %" PRId64
                  " of %s, which was kept", c->uuid, c->shard, c->shard_id, c->store_id,
                  store_path);
    }
    printf("%s: %zu stores merged: %zu runs added, %zu already there, %zu conflicts\n",
           store_path, res.shards, res.added, res.skipped, res.n_conflicts);
    int code = res.n_conflicts > 0 ? EXIT_FAIL : EXIT_OK;
    esl_merge_result_release(&res);
    return code;
}

int runs_upgrade(const char *store_path)
{
    esl_store *s = NULL;
    int rc = esl_store_open(&s, store_path);
    if (rc != ESL_OK)
        return cli_fail(rc);
    esl_store_close(s);
    printf("%s: schema version %d\n", store_path, ESL_STORE_SCHEMA_VERSION);
    return EXIT_OK;
}

int runs_merge_verb(const char *verb, const char *store, const char *output, int stray, int n,
                    char **rest)
{
    if (stray) {
        cli_error("runs %s: --from, --label, --where and --format do not apply", verb);
        return EXIT_USAGE;
    }
    if (strcmp(verb, "upgrade") == 0) {
        if (n > 0 || output != NULL) {
            cli_error("runs upgrade: give the store with --store, nothing else");
            return EXIT_USAGE;
        }
        if (access(store, F_OK) != 0) {
            cli_error("%s: no run store here (--store chooses another)", store);
            return EXIT_USAGE;
        }
        return runs_upgrade(store);
    }
    if (output == NULL || n == 0) {
        cli_error("runs merge: give the shards and the store to merge into (esl runs merge "
                  "SHARD... -o STORE)");
        return EXIT_USAGE;
    }
    return runs_merge(output, rest, (size_t)n);
}
