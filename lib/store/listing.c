/*
 * listing.c - stored runs written out (esl/export.h) as `esl runs` shows
 * them: the list (an aligned table, CSV with the command, or a JSON array of
 * the runs' documents), one run (its text, its trace as CSV, or its document
 * with the trace), and the runs as rows of the law's dataset, a run that
 * cannot be a row passed to the caller with the reason. The single
 * documents and the text live in export.c and text.c; this is where many
 * runs are walked.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "core/internal.h"
#include "store/internal.h"
#include "esl/data.h"
#include "esl/export.h"
#include "esl/json.h"

/* The run's document (esl_run_json) as a jansson value; null when it
 * cannot be made. */
static json_t *run_doc(const esl_run *r, int with_trace)
{
    json_t *o = NULL;
    (void)esl__run_doc(&o, r, with_trace);
    return o != NULL ? o : json_null();
}

/* `doc` in esl's JSON layout to `out`; `doc` is released. */
static int put_json(FILE *out, json_t *doc)
{
    char *text = NULL;
    int rc = doc != NULL ? esl_json_text(&text, doc) : esl__fail(ESL_ENOMEM, "out of memory");
    if (rc == ESL_OK)
        fputs(text, out);
    free(text);
    json_decref(doc);
    return rc;
}

static int written(FILE *out)
{
    return ferror(out) ? esl__fail(ESL_EIO, "cannot write the runs") : ESL_OK;
}

int esl_runs_list_write(FILE *out, const esl_run *runs, size_t n, esl_runs_form form)
{
    if (out == NULL || (runs == NULL && n > 0))
        return esl__fail(ESL_EINVAL, "runs list: no stream or runs given");
    if (form == ESL_RUNS_JSON) {
        json_t *a = json_array();
        for (size_t i = 0; a != NULL && i < n; i++)
            json_array_append_new(a, run_doc(&runs[i], 0));
        return put_json(out, a);
    }
    for (size_t i = 0; i < n; i++)
        if (runs[i].record == NULL)
            return esl__fail(ESL_EINVAL, "runs list: run %" PRId64 " has no record", runs[i].id);
    if (form == ESL_RUNS_CSV)
        fputs("id,started,exit_status,duration_s,energy_j,idle_w,dynamic_j,flags,labels,command\n",
              out);
    else
        fprintf(out, "%5s  %-20s %4s %10s %12s %8s %12s  %-16s %s\n", "id", "started", "exit",
                "duration s", "energy J", "idle W", "dynamic J", "flags", "labels");
    for (size_t i = 0; i < n; i++) {
        const esl_run *r = &runs[i];
        const esl_record *rec = r->record;
        char flags[256], labels[1024];
        esl_flags_string(flags, sizeof flags, rec->flags);
        esl_run_labels_text(labels, sizeof labels, r);
        if (form != ESL_RUNS_CSV) {
            fprintf(out, "%5" PRId64 "  %-20s %4d %10.3f %12.3f %8.2f %12.3f  %-16s %s\n", r->id,
                    r->started ? r->started : "", r->exit_status, rec->duration_s, rec->energy_j,
                    rec->idle_w, rec->dynamic_j, flags[0] != '\0' ? flags : "-", labels);
            continue;
        }
        fprintf(out, "%" PRId64 ",", r->id);
        esl_csv_field(out, r->started ? r->started : "");
        fprintf(out, ",%d,%.17g,%.17g,%.17g,%.17g,", r->exit_status, rec->duration_s,
                rec->energy_j, rec->idle_w, rec->dynamic_j);
        esl_csv_field(out, flags);
        fputc(',', out);
        esl_csv_field(out, labels);
        fputc(',', out);
        esl_csv_field(out, r->command ? r->command : "");
        fputc('\n', out);
    }
    return written(out);
}

int esl_run_write(FILE *out, const esl_run *run, esl_runs_form form)
{
    if (out == NULL || run == NULL || run->record == NULL)
        return esl__fail(ESL_EINVAL, "run: no stream or run given");
    if (form == ESL_RUNS_JSON)
        return put_json(out, run_doc(run, 1));
    if (form == ESL_RUNS_CSV)
        return esl_record_trace_csv(out, run->record);
    return esl_run_text(out, run);
}

int esl_runs_rows_write(FILE *out, const esl_run *runs, size_t n, esl_run_skip_fn skipped,
                        void *ctx)
{
    if (out == NULL || (runs == NULL && n > 0))
        return esl__fail(ESL_EINVAL, "runs rows: no stream or runs given");
    esl_row_write_header(out);
    for (size_t i = 0; i < n; i++) {
        esl_run_row rr;
        if (esl_run_row_of(&rr, &runs[i]) == ESL_OK)
            esl_row_write(out, &rr.row);
        else if (skipped != NULL)
            skipped(ctx, &runs[i], esl_error_last());
    }
    return written(out);
}
