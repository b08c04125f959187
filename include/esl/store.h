/*
 * store.h - the run store: every measured run, its labels and its trace, in
 * one SQLite file (WAL mode; default name esl-runs.db).
 *
 * A run is written in one transaction, so a run killed halfway (the
 * process, its workload, or the machine) leaves the store consistent and
 * every earlier run intact. The schema is versioned with PRAGMA user_version
 * and upgraded in place, one migration per version, each in a transaction.
 * Labels (model=flux-dev steps=50 ...) make a run a row of the law's dataset.
 */
#ifndef ESL_STORE_H
#define ESL_STORE_H

#include "esl/api.h"

#include <stddef.h>
#include <stdint.h>

#include "esl/data.h"
#include "esl/meter.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The schema version this library writes. */
#define ESL_STORE_SCHEMA_VERSION 3

typedef struct esl_store esl_store;

/* One label of a run. */
typedef struct esl_label {
    char *key;
    char *value;
} esl_label;

/* A stored run. */
typedef struct esl_run {
    int64_t id;
    char *started;        /* UTC, "2026-11-26T06:31:08Z" */
    char *command;        /* the workload's command line, words joined by spaces */
    int exit_status;      /* the workload's exit status, 128+N when killed by signal N */
    size_t n_labels;
    esl_label *labels;    /* sorted by key */
    esl_record *record;   /* devices and totals; samples only from esl_store_get */
    char *uuid;           /* the run's identity across stores (RFC 4122 version 4, lower case);
                             NULL read from a store of schema 1 */
} esl_run;

/*
 * Open (creating if needed) the store at `path` and bring its schema to
 * ESL_STORE_SCHEMA_VERSION. Safe when several processes open one new store
 * at once: one of them creates the schema, the others wait for it (up to
 * five seconds). A file that is not esl's is refused before anything in it
 * is changed; an empty file becomes a store.
 * @param out  the store, NULL on failure
 * @return ESL_OK; ESL_EINVAL when the file is not SQLite or is someone
 *         else's SQLite database; ESL_ESTORE with SQLite's reason, or when
 *         the schema version is one esl cannot read (newer, or below zero)
 */
ESL_API int esl_store_open(esl_store **out, const char *path);

/*
 * Open an existing store read-only, for readers that must not create or
 * upgrade a file (listing, exporting, checking, plotting): nothing in the
 * file is changed, not even its journal mode, and a store the user may only
 * read can be read. An empty file is refused.
 * @param out  the store, NULL on failure
 * @return ESL_OK; ESL_ENOTFOUND when `path` does not exist; ESL_EINVAL when
 *         it is not an esl run store (not SQLite, or without esl's schema);
 *         ESL_ESTORE for a newer schema or another SQLite failure
 */
ESL_API int esl_store_open_readonly(esl_store **out, const char *path);

/* Close the store; NULL is a no-op. */
ESL_API void esl_store_close(esl_store *s);

/*
 * Store a run in one transaction: the record (devices and samples), the
 * command line, the workload's exit status and the labels (keys unique).
 * @param out_id  the new run's id
 * @return ESL_OK; ESL_EINVAL for a duplicate label key; ESL_ESTORE
 */
ESL_API int esl_store_put(esl_store *s, int64_t *out_id, const esl_record *rec, const char *command,
                  int exit_status, const esl_label *labels, size_t n_labels);

/*
 * List runs in id order, without samples, keeping those whose labels match
 * every `where` pair (key equal to value).
 * @param out    an array of *n_out runs, freed with esl_runs_free
 * @return ESL_OK, ESL_ENOMEM or ESL_ESTORE
 */
ESL_API int esl_store_list(esl_store *s, esl_run **out, size_t *n_out, const esl_label *where,
                   size_t n_where);

/* One run with its samples. @param out  one run, freed with esl_runs_free(*out, 1)
 * @return ESL_OK; ESL_ENOTFOUND for an unknown id; ESL_ESTORE */
ESL_API int esl_store_get(esl_store *s, esl_run **out, int64_t id);

/* Check the store's integrity (PRAGMA integrity_check) and that every run
 * has its devices. @return ESL_OK, or ESL_ESTORE with the first problem */
ESL_API int esl_store_check(esl_store *s);

/* One run to store with esl_store_put_many. */
typedef struct esl_store_item {
    const esl_record *record;
    const char *command;   /* what produced it: a command line, "import codecarbon FILE:LINE" */
    int exit_status;
    const esl_label *labels;
    size_t n_labels;
} esl_store_item;

/*
 * Store `n` runs in one transaction: all of them or, on any failure, none.
 * @param out_ids  receives the n new run ids in order; may be NULL
 * @return ESL_OK, ESL_EINVAL (a label key empty or repeated: which item),
 *         ESL_ESTORE (SQLite's reason; nothing was written), ESL_ENOMEM
 */
ESL_API int esl_store_put_many(esl_store *s, int64_t *out_ids, const esl_store_item *items, size_t n);

/* A run of a merged store whose UUID is already in the destination with
 * other content (start, command, exit status, energies, labels, devices or
 * trace length differ): the destination's run is kept. */
typedef struct esl_merge_conflict {
    char *uuid;
    char *shard;        /* the store it came from */
    int64_t shard_id;   /* its id there */
    int64_t store_id;   /* the id of the run kept in the destination */
} esl_merge_conflict;

/* What esl_store_merge did. */
typedef struct esl_merge_result {
    size_t shards;      /* stores read */
    size_t added;       /* runs copied into the destination */
    size_t skipped;     /* runs already there, identical (a merge run again) */
    size_t n_conflicts;
    esl_merge_conflict *conflicts;
} esl_merge_result;

/*
 * Copy every run of the stores at `paths` (shards: one per job of a sweep)
 * into `dst`, in one transaction: on any failure nothing of `dst` changes.
 * Runs are identified by UUID: a run whose UUID `dst` already holds with the
 * same content is skipped and counted, one with other content is a
 * conflict (listed; `dst` keeps its own). Merging the same shards again
 * adds nothing. Every shard is opened read-only and checked before
 * anything is written: it must be an esl store of schema
 * ESL_STORE_SCHEMA_VERSION exactly.
 * @param out  counts and conflicts, released with esl_merge_result_release
 *             (zeroed on failure)
 * @return ESL_OK (conflicts included); ESL_ENOTFOUND for a missing shard;
 *         ESL_EINVAL for a file that is not an esl store; ESL_ESTORE for a
 *         shard of another schema version, or SQLite's reason (nothing was
 *         written); ESL_ENOMEM
 */
ESL_API int esl_store_merge(esl_store *dst, const char *const *paths, size_t n,
                            esl_merge_result *out);

/*
 * Merge the stores at `paths` into the store at `path` as esl_store_merge
 * does, opening (creating if needed, esl_store_open) and closing it. On a
 * failure of the merge the detail ends "; nothing was merged", and a store
 * this call created is removed with its -wal and -shm files, so `path` is
 * as it was.
 * @param out  as esl_store_merge
 * @return ESL_OK (conflicts included); any code of esl_store_open or
 *         esl_store_merge
 */
ESL_API int esl_store_merge_into(const char *path, const char *const *paths, size_t n,
                                 esl_merge_result *out);

/* Free what a merge result holds; NULL is a no-op. */
ESL_API void esl_merge_result_release(esl_merge_result *r);

/* Free an array of runs from esl_store_list or esl_store_get; NULL is a no-op. */
ESL_API void esl_runs_free(esl_run *runs, size_t n);

/* The value of label `key`, or NULL. */
ESL_API const char *esl_run_label(const esl_run *run, const char *key);

/* ---- a stored run as a dataset row ---- */

/* A run's dataset row: `row` borrows the run's label strings (valid while
 * the run is) and `source`, its "esl-run:ID". */
typedef struct esl_run_row {
    esl_row row;
    char source[32];
} esl_run_row;

/*
 * The dataset row of a stored run (docs/data-format.md), as `esl runs
 * export` writes it and `esl calibrate` fits it. The labels model, dtype,
 * cfg, height, width, steps and prompts are required; gpu defaults to the
 * first device's name, batch_size to 1. energy_j is the dynamic energy,
 * energy_kind "dynamic", with duration_s and idle_w; a run imported from
 * another tool (ESL_METER_IMPORTED) keeps its total energy and no idle power.
 * Only the columns are filled: no FLOPs (esl_row_set_work counts them).
 * @return ESL_OK; ESL_EINVAL when the run cannot be a row, the detail saying
 *         why without the run's id: "no label 'dtype'", "its command exited
 *         with 1", "flagged too-short" (ESL_FLAGS_DOUBTFUL), "dynamic energy
 *         -5 J is not positive (idle 100 W over 2 s)", "label 'steps': 'x' is
 *         not a positive integer"
 */
ESL_API int esl_run_row_of(esl_run_row *out, const esl_run *run);

/*
 * Append the row of a stored run (esl_run_row_of) to a dataset, its FLOPs
 * counted in the dataset's convention as esl_data_read counts them, so the
 * row is the one a CSV export read back would give.
 * @param model  the run's model description; NULL: the catalogue's model of
 *               the run's label 'model'
 * @return ESL_OK; the codes of esl_run_row_of (ESL_EINVAL), of
 *         esl_catalog_find and esl_row_set_work; ESL_ENOMEM
 */
ESL_API int esl_dataset_append_run(esl_dataset *ds, const esl_run *run, const esl_model *model);

/* ---- a measured workload's run ---- */

/*
 * The command line a run is stored with: the n words of argv joined by
 * single spaces ("" for none).
 * @param out  a new string: free() it; NULL on failure
 * @return ESL_OK; ESL_EINVAL for a NULL argument; ESL_ENOMEM
 */
ESL_API int esl_run_command(char **out, char *const argv[], size_t n);

/*
 * The labels of a window the workload opened on its control channel: those
 * of `labels` (the run's, --label) whose key the begin line does not name,
 * then the begin line's own, which win. The strings are borrowed from both.
 * @param out    receives at most cap labels
 * @param begin  the window's begin line; NULL: `labels` alone
 * @return how many were written
 */
ESL_API size_t esl_run_window_labels(esl_label *out, size_t cap, const esl_label *labels, size_t n,
                                     const esl_control_line *begin);

#ifdef __cplusplus
}
#endif
#endif
