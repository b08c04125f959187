/*
 * import_file.c - another tool's measurements brought into a store by path
 * (esl/import.h): the file read (esl_import_read), the store opened or
 * created, every run put in one transaction (esl_import_put). This is
 * `esl runs import` without its messages, for a program that gathers
 * CodeCarbon, Zeus or ML.ENERGY results into a store.
 */
#include <stdint.h>
#include <stdlib.h>

#include "core/internal.h"
#include "esl/import.h"

int esl_import_into(int64_t **out_ids, size_t *out_n, const char *store_path, const char *path,
                    esl_import_format fmt, const esl_label *labels, size_t n_labels)
{
    if (out_ids == NULL || out_n == NULL || store_path == NULL || path == NULL)
        return esl__fail(ESL_EINVAL, "import: no output, store or file given");
    *out_ids = NULL;
    *out_n = 0;
    esl_import *imp = NULL;
    esl_store *store = NULL;
    int64_t *ids = NULL;
    int rc = esl_import_read(&imp, path, fmt);
    if (rc == ESL_OK && (ids = calloc(imp->n_runs ? imp->n_runs : 1, sizeof *ids)) == NULL)
        rc = esl__fail(ESL_ENOMEM, "out of memory");
    if (rc == ESL_OK && (rc = esl_store_open(&store, store_path)) == ESL_OK &&
        (rc = esl_import_put(store, ids, imp, labels, n_labels)) == ESL_OK) {
        *out_ids = ids;
        *out_n = imp->n_runs;
        ids = NULL;
    }
    esl_store_close(store);
    free(ids);
    esl_import_free(imp);
    return rc;
}
