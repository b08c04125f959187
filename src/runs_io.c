/*
 * runs_io.c - the tool's side of moving runs between stores and tools:
 * `esl runs import --from codecarbon|zeus|mlenergy FILE` (libesl reads the
 * file and stores every record in one transaction, or none), `esl runs
 * merge SHARD... -o STORE` (esl_store_merge_into) and `esl runs upgrade`.
 * The export formats are libesl's (esl_runs_export, esl/export.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "runs_io.h"

int runs_import(const char *store_path, const char *from, const char *file,
                const esl_label *labels, size_t n_labels)
{
    esl_import_format fmt;
    int rc = esl_import_format_parse(&fmt, from);
    if (rc != ESL_OK) {
        cli_error("runs import: option --from: %s", esl_error_last());
        return EXIT_USAGE;
    }
    esl_import *imp = NULL;
    if ((rc = esl_import_read(&imp, file, fmt)) != ESL_OK)
        return cli_fail(rc);
    int64_t *ids = calloc(imp->n_runs ? imp->n_runs : 1, sizeof *ids);
    esl_store *store = NULL;
    int exit_code = EXIT_FAIL;
    if (ids == NULL) {
        cli_error("out of memory");
        goto out;
    }
    if ((rc = esl_store_open(&store, store_path)) != ESL_OK ||
        (rc = esl_import_put(store, ids, imp, labels, n_labels)) != ESL_OK) {
        exit_code = cli_fail(rc);
        goto out;
    }
    printf("imported %zu run%s from %s (%s): ", imp->n_runs, imp->n_runs == 1 ? "" : "s", file,
           from);
    if (imp->n_runs == 1)
        printf("id %" PRId64 "\n", ids[0]);
    else
        printf("ids %" PRId64 " to %" PRId64 "\n", ids[0], ids[imp->n_runs - 1]);
    exit_code = EXIT_OK;
out:
    esl_store_close(store);
    free(ids);
    esl_import_free(imp);
    return exit_code;
}

int runs_merge(const char *store_path, char *const *shards, size_t n)
{
    esl_merge_result res;
    int rc = esl_store_merge_into(store_path, (const char *const *)shards, n, &res);
    if (rc != ESL_OK) {
        cli_error("runs merge: %s", esl_error_last());
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
