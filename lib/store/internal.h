/*
 * internal.h - what the run store's files share and libesl never exports:
 * the store's handle, its SQLite helpers, and writing one whole run
 * (identity, labels, devices, trace) inside a transaction the caller holds,
 * so that merging can copy runs from other stores as they are.
 */
#ifndef ESL_STORE_INTERNAL_H
#define ESL_STORE_INTERNAL_H

#include <sqlite3.h>

#include "esl/store.h"

struct esl_store {
    sqlite3 *db;
    char *path;
    int version; /* the file's schema version once opened */
};

/* ESL_ESTORE naming the store, `what` failed and SQLite's reason. */
int esl__store_fail(esl_store *s, const char *what);

/* Run `sql`; ESL_ESTORE naming `what` when it fails. */
int esl__store_exec(esl_store *s, const char *sql, const char *what);

/*
 * Write run `r` (its uuid, started, command, exit status, labels, record
 * with devices and samples) as a new run of `s`, keeping its UUID and start
 * text. The caller holds the transaction. @param out_id  the new id
 * @return ESL_OK; ESL_EINVAL for a repeated label key; ESL_ESTORE
 */
int esl__store_put_copy(esl_store *s, int64_t *out_id, const esl_run *r);

/* The id of the run with UUID `uuid` in `s`, 0 when there is none.
 * @return ESL_OK or ESL_ESTORE */
int esl__store_find_uuid(esl_store *s, const char *uuid, int64_t *out_id);

/* The JSON objects of esl_record_json and esl_run_json, for documents that
 * carry them; *out is the caller's. @return as those functions */
struct json_t;
int esl__record_doc(struct json_t **out, const esl_record *rec, const char *command,
                    int exit_status, int64_t run_id, const esl_label *labels, size_t n_labels);
int esl__run_doc(struct json_t **out, const esl_run *r, int with_samples);

#endif
