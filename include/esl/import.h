/*
 * esl/import.h - energy measured by other tools, read as runs for the run
 * store: CodeCarbon's emissions.csv, Zeus measurement windows saved as
 * JSON and the ML.ENERGY leaderboard's per-configuration results. Each record becomes one esl_record (meter ESL_METER_IMPORTED,
 * total GPU energy: the other tools subtract no idle power, so the record is
 * flagged ESL_FLAG_NO_IDLE) with labels saying where it came from. The
 * column and field mappings, with the format versions they were checked
 * against, are in docs/esl-runs.md.
 */
#ifndef ESL_IMPORT_H
#define ESL_IMPORT_H

#include "esl/api.h"

#include <stddef.h>

#include "esl/meter.h"
#include "esl/store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum esl_import_format {
    ESL_IMPORT_CODECARBON = 0, /* emissions.csv, CodeCarbon 2.2 to 2.8 columns */
    ESL_IMPORT_ZEUS = 1,       /* Zeus Measurement objects as JSON (zeus 0.9 to 0.11) */
    ESL_IMPORT_MLENERGY = 2    /* ML.ENERGY leaderboard text-to-image results (JSON) */
} esl_import_format;

/* "codecarbon", "zeus" or "mlenergy". */
ESL_API const char *esl_import_format_name(esl_import_format fmt);

/* Parse a format name. @return ESL_OK or ESL_EINVAL (the known names in the detail) */
ESL_API int esl_import_format_parse(esl_import_format *out, const char *name);

/* The most labels an imported record carries. */
#define ESL_IMPORT_MAX_LABELS 16

/* One imported record: a run ready for esl_store_put_many. */
typedef struct esl_imported {
    esl_record *record;
    char *command;     /* "import codecarbon FILE:LINE", "import zeus FILE:$[INDEX]", ... */
    esl_label *labels; /* source=FORMAT and what the record names (run id, project, zone) */
    size_t n_labels;
} esl_imported;

typedef struct esl_import {
    esl_imported *runs;
    size_t n_runs;
} esl_import;

/*
 * Read every record of `path` in format `fmt`. Nothing is returned unless
 * the whole file reads: a bad record fails the import.
 * @param out  receives the records (free with esl_import_free)
 * @return ESL_OK, ESL_EIO (cannot open or read), ESL_EPARSE (not CSV/JSON, a
 *         truncated file: line and column), ESL_EINVAL (an unknown or missing
 *         column or field, a value that is not a number or out of range, no
 *         records: FILE:LINE and the column, or FILE and the JSON path),
 *         ESL_ENOMEM
 */
ESL_API int esl_import_read(esl_import **out, const char *path, esl_import_format fmt);

/*
 * Store every record of an import in one transaction (esl_store_put_many):
 * all of them or none. Each run keeps its imported labels and gets
 * `labels`, which win over an imported label of the same key.
 * @param out_ids  imp->n_runs new run ids in order; may be NULL
 * @return ESL_OK; the codes of esl_store_put_many; ESL_ENOMEM
 */
ESL_API int esl_import_put(esl_store *store, int64_t *out_ids, const esl_import *imp,
                           const esl_label *labels, size_t n_labels);

/* Release an import; NULL is a no-op. */
ESL_API void esl_import_free(esl_import *imp);

/*
 * Read the file at `path` in `fmt` (esl_import_read) and store every
 * record in the store at `store_path` (esl_store_open: created if needed)
 * in one transaction, each with `labels` (esl_import_put): all or none.
 * @param out_ids  the new run ids in order: free() it; NULL on failure
 * @param out_n    how many (at least one)
 * @return ESL_OK; the codes of esl_import_read, esl_store_open and
 *         esl_import_put; ESL_EINVAL for a NULL argument; ESL_ENOMEM
 */
ESL_API int esl_import_into(int64_t **out_ids, size_t *out_n, const char *store_path,
                            const char *path, esl_import_format fmt, const esl_label *labels,
                            size_t n_labels);

#ifdef __cplusplus
}
#endif
#endif
