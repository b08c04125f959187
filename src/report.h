/*
 * report.h - the pieces of `esl report`'s page (report.c): HTML escaping,
 * embedded figures, and the sections that validate the law and draw it.
 */
#ifndef ESL_REPORT_H
#define ESL_REPORT_H

#include <stdio.h>

#include "esl/esl.h"

/* Distinct values of a column, first-seen order. */
typedef struct report_levels {
    const char *v[64];
    size_t n;
} report_levels;

void report_levels_add(report_levels *l, const char *v);

/* Text with HTML's special characters escaped; printf into the page, escaped. */
void report_html(FILE *out, const char *text);
void report_htmlf(FILE *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A number for a table cell: "-" when it is undefined. */
void report_cell(FILE *out, const char *fmt, double x);

/* How the dataset's energies are counted, for a column or an axis:
 * "Wh per 100-image row" when every row holds 100 images, else "Wh per
 * image" (and report_energy_wh divides by the row's images). */
const char *report_energy_unit(char *buf, size_t size, const esl_dataset *ds);
double report_energy_wh(const esl_dataset *ds, const esl_row *r);

/* What the page is made of. */
typedef struct report_ctx {
    FILE *out;
    const char *dir;          /* a private folder for the figures' files */
    const esl_dataset *ds;
    const esl_law *law;       /* the law reported */
    const char *law_name;     /* its file, or the built-in law's description */
    const esl_provenance *prov; /* what the law rests on (esl_provenance_of) */
    esl_fit_opts fit;         /* how validations and per-model laws are fitted */
    report_levels models, gpus;
} report_ctx;

/* The law's form validated beside the paper's: the paper's three strategies. */
void report_validation(const report_ctx *r);

/* The data-driven figures (esl_figure_*) and Figure 1; 0 or an exit code. */
int report_figures(const report_ctx *r);
int report_compute(const report_ctx *r);

#endif
