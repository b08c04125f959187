/*
 * report/internal.h - what the two halves of the report share: the page's
 * context, HTML escaping and the sections written by sections.c.
 */
#ifndef ESL_REPORT_INTERNAL_H
#define ESL_REPORT_INTERNAL_H

#include <stdio.h>

#include "core/internal.h"
#include "esl/esl.h"
#include "esl/report.h"

/* Distinct values of a column, first-seen order; the strings are the dataset's. */
typedef struct report_levels {
    const char *v[64];
    size_t n;
} report_levels;

void esl__report_levels_add(report_levels *l, const char *v);

/* Text with HTML's special characters escaped; printf into the page, escaped. */
void esl__report_html(FILE *out, const char *text);
void esl__report_htmlf(FILE *out, const char *fmt, ...) ESL_PRINTF(2, 3);

/* A number for a table cell: "-" when it is not finite. */
void esl__report_cell(FILE *out, const char *fmt, double x);

/* What the page is made of. */
typedef struct report_ctx {
    FILE *out;
    const char *dir;            /* a private folder for the figures' files */
    const esl_dataset *ds;
    const esl_law *law;         /* the law reported */
    const char *law_name;       /* its file, or the built-in law's description */
    const esl_provenance *prov; /* what the law rests on (esl_provenance_of) */
    const esl_report_opts *opts;
    esl_fit_opts fit;           /* how validations and per-model laws are fitted */
    report_levels models, gpus;
} report_ctx;

/* The law's form validated beside the paper's: the paper's three strategies. */
void esl__report_validation(const report_ctx *r);

/* The data-driven figures (esl_figure_*) and Figure 1. @return ESL_OK or a status */
int esl__report_figures(const report_ctx *r);
int esl__report_compute(const report_ctx *r);

#endif
