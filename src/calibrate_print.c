/*
 * calibrate_print.c - what `esl calibrate` shows: a dry run's planned sweep
 * and the measured calibration (their tables and documents are libesl's,
 * esl_calib_sweep_table/_csv/_json and esl_calib_table/_json), the law
 * after them, and the progress line on a terminal while the sweep runs.
 */
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "calibrate.h"
#include "emit.h"
#include "law_cli.h"

void calibrate_print_plan(const args *a, const esl_calib_sweep *cp, esl_model **models,
                          size_t n_models)
{
    const esl_model *const *m = (const esl_model *const *)models;
    if (a->format == FORMAT_CSV) {
        esl_calib_sweep_csv(stdout, cp, m, n_models);
    } else if (a->format == FORMAT_JSON) {
        char *text = NULL;
        json_t *o = NULL;
        if (esl_calib_sweep_json(&text, cp, m, n_models, a->budget_s) == ESL_OK)
            o = json_loads(text, 0, NULL);
        free(text);
        emit_json(o != NULL ? o : json_null());
        json_decref(o);
    } else {
        esl_calib_sweep_table(stdout, cp, m, n_models, a->budget_s);
    }
}

void calibrate_on_event(void *ctx, const esl_calib_event *ev)
{
    const int *show_progress = ctx;
    if (ev->kind != ESL_CALIB_PROGRESS) {
        if (ev->kind == ESL_CALIB_UNFITTED && *show_progress)
            fputc('\n', stderr);
        cli_error("%s", ev->message);
    } else if (*show_progress) {
        fprintf(stderr, "\r%s\033[K%s", ev->message, ev->next != NULL ? "" : "\n");
        fflush(stderr);
    }
}

int calibrate_print(const args *a, const esl_calib *c, double elapsed_s, const char *law_path)
{
    if (a->format == FORMAT_JSON) {
        char *text = NULL;
        int rc = esl_calib_json(&text, c, elapsed_s, law_path);
        if (rc != ESL_OK)
            return cli_fail(rc);
        fputs(text, stdout);
        free(text);
        return 0;
    }
    esl_calib_table(stdout, c, elapsed_s);
    law_cli_print(c->law);
    printf("\nlaw written to %s\n", law_path);
    return 0;
}
