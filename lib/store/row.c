/*
 * row.c - a stored run as a row of the law's dataset. What `esl runs
 * export` writes and what `esl calibrate` fits are the same rows, decided
 * here: which labels a run needs, which runs stay out (a failed command, a
 * doubtful record, no energy above idle) and which energy the row carries.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "esl/store.h"

/* The dataset columns every run needs as labels, in column order. */
static const char *const required[] = {"model", "dtype", "cfg", "height", "width", "steps",
                                       "prompts"};

static int label_int(const esl_run *run, const char *key, int64_t *out)
{
    const char *s = esl_run_label(run, key);
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end != '\0' || errno == ERANGE || v < 1)
        return esl__fail(ESL_EINVAL, "label '%s': '%s' is not a positive integer", key, s);
    *out = v;
    return ESL_OK;
}

int esl_run_row_of(esl_run_row *out, const esl_run *run)
{
    const esl_record *rec = run->record;
    int rc;
    memset(out, 0, sizeof *out);
    for (size_t k = 0; k < sizeof required / sizeof required[0]; k++)
        if (esl_run_label(run, required[k]) == NULL)
            return esl__fail(ESL_EINVAL, "no label '%s'", required[k]);
    if (run->exit_status != 0)
        return esl__fail(ESL_EINVAL, "its command exited with %d", run->exit_status);
    if (rec->flags & ESL_FLAGS_DOUBTFUL) {
        char flags[256];
        return esl__fail(ESL_EINVAL, "flagged %s",
                         esl_flags_string(flags, sizeof flags, rec->flags & ESL_FLAGS_DOUBTFUL));
    }
    if (!(rec->dynamic_j > 0.0)) /* a dataset row needs positive energy: the law takes its log */
        return esl__fail(ESL_EINVAL, "dynamic energy %.6g J is not positive (idle %.6g W over "
                         "%.6g s)", rec->dynamic_j, rec->idle_w, rec->duration_s);
    esl_row *row = &out->row;
    const char *cfg = esl_run_label(run, "cfg");
    if (strcmp(cfg, "0") != 0 && strcmp(cfg, "1") != 0)
        return esl__fail(ESL_EINVAL, "label 'cfg': '%s' is not 0 or 1", cfg);
    row->cfg = cfg[0] == '1';
    row->batch_size = 1;
    row->num_gpus = 1;
    if ((rc = label_int(run, "height", &row->height)) != ESL_OK ||
        (rc = label_int(run, "width", &row->width)) != ESL_OK ||
        (rc = label_int(run, "steps", &row->steps)) != ESL_OK ||
        (rc = label_int(run, "prompts", &row->prompts)) != ESL_OK ||
        (esl_run_label(run, "batch_size") != NULL &&
         (rc = label_int(run, "batch_size", &row->batch_size)) != ESL_OK))
        return rc;
    row->model = (char *)esl_run_label(run, "model");
    row->dtype = (char *)esl_run_label(run, "dtype");
    row->gpu = (char *)esl_run_label(run, "gpu");
    if (row->gpu == NULL)
        row->gpu = rec->n_devices > 0 ? (char *)rec->devices[0].info.name : "";
    snprintf(out->source, sizeof out->source, "esl-run:%" PRId64, run->id);
    row->source = out->source;
    row->duration_s = rec->duration_s;
    row->present = ESL_ROW_ENERGY | ESL_ROW_BATCH | ESL_ROW_KIND | ESL_ROW_DURATION | ESL_ROW_SOURCE;
    if (rec->meter == ESL_METER_IMPORTED) {
        /* another tool's total energy; the law subtracts idle power itself */
        row->energy_j = rec->energy_j;
        row->energy_kind = ESL_ENERGY_TOTAL;
    } else {
        row->energy_j = rec->dynamic_j;
        row->energy_kind = ESL_ENERGY_DYNAMIC;
        row->idle_w = rec->idle_w;
        row->present |= ESL_ROW_IDLE;
    }
    return ESL_OK;
}

int esl_dataset_append_run(esl_dataset *ds, const esl_run *run, const esl_model *model)
{
    esl_run_row rr;
    esl_model *found = NULL;
    int rc = esl_run_row_of(&rr, run);
    if (rc == ESL_OK && model == NULL && (rc = esl_catalog_find(&found, rr.row.model)) == ESL_OK)
        model = found;
    if (rc != ESL_OK)
        return rc;
    /* As the reader counts (data/read.c): the work of one prompt, then
     * Section 3.3's N * T * FLOPs_denoise * 2^cfg, so the bits agree. */
    esl_row row = rr.row;
    row.prompts = 1;
    rc = esl_row_set_work(&row, model, ds->convention);
    esl_model_free(found);
    if (rc != ESL_OK)
        return rc;
    row.prompts = rr.row.prompts;
    row.flops_cfg = (double)row.prompts * (double)row.steps * row.denoise_flops *
                    (row.cfg ? 2.0 : 1.0);
    row.line = (int64_t)ds->n_rows + 2; /* as if read back: line 1 is the header */
    return esl_dataset_append(ds, &row);
}
