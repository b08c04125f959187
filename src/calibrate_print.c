/*
 * calibrate_print.c - what `esl calibrate` shows: a dry run's planned sweep
 * and the measured calibration (their tables and documents are libesl's,
 * esl_calib_sweep_table/_csv/_json and esl_calib_table/_json), the law
 * after them, and the progress line on a terminal while the sweep runs.
 */
#include <math.h>
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
    const calibrate_view *v = ctx;
    if (ev->kind != ESL_CALIB_PROGRESS) {
        if (ev->kind == ESL_CALIB_UNFITTED && v->show_progress)
            fputc('\n', stderr);
        cli_error("%s", ev->message);
        return;
    }
    if (!v->show_progress)
        return;
    char bar[31];
    size_t fill = ev->n_points ? ev->done * 30 / ev->n_points : 30;
    for (size_t i = 0; i < 30; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[30] = '\0';
    fprintf(stderr, "\r[%s] %zu/%zu", bar, ev->done, ev->n_points);
    const esl_calib_point *next = ev->next;
    if (next != NULL)
        fprintf(stderr, "  %s %lldx%lld %lld steps %s%s", v->models[next->model]->name,
                (long long)next->side, (long long)next->side, (long long)next->steps,
                esl_dtype_name(next->dtype), next->cfg ? " cfg" : "");
    fprintf(stderr, "  ETA %dm%02ds\033[K", (int)(ev->left_s / 60), (int)fmod(ev->left_s, 60));
    if (next == NULL)
        fputc('\n', stderr);
    fflush(stderr);
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
