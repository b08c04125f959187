/*
 * figure_internal.h - what the figure builders (lib/plot/figure*.c) share:
 * the figure's own memory (every array a builder makes is owned by the
 * figure and freed with it) and the small helpers over dataset rows.
 */
#ifndef ESL_PLOT_FIGURE_INTERNAL_H
#define ESL_PLOT_FIGURE_INTERNAL_H

#include <stddef.h>

#include "esl/figure.h"

struct esl_figure {
    esl_plot_figure plot;
    void **owned; /* every allocation behind plot */
    size_t n_owned, cap_owned;
};

/* A new empty figure. @return ESL_OK or ESL_ENOMEM */
int esl__figure_new(esl_figure **out);

/* n zeroed items of `size` bytes owned by the figure; NULL out of memory
 * (with the error detail set). */
void *esl__figure_alloc(esl_figure *fig, size_t n, size_t size);

/* A formatted string owned by the figure; NULL out of memory. */
const char *esl__figure_printf(esl_figure *fig, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Distinct strings in first-seen order (pointers into the caller's rows). */
typedef struct esl__names {
    const char **v;
    size_t n, cap;
} esl__names;

/* A name list with room for cap names, owned by the figure. @return ESL_OK or ESL_ENOMEM */
int esl__names_init(esl__names *ns, esl_figure *fig, size_t cap);
/* The index of v, or ns->n when absent. */
size_t esl__names_index(const esl__names *ns, const char *v);
/* Add v when absent and there is room. */
void esl__names_add(esl__names *ns, const char *v);

/* The distinct image sizes of rows as "HxW" names sorted by pixels, at
 * most `most`; ESL_EINVAL naming `what` when there are more. */
int esl__figure_sizes(esl__names *out, esl_figure *fig, const esl_dataset *ds, size_t most,
                      const char *what);
/* The index in `sizes` of a row's "HxW". */
size_t esl__figure_size_index(const esl__names *sizes, const esl_row *r);

/* How energies of `ds` are drawn: divide by 3600 (J -> Wh) and, when rows
 * hold different image counts, by the row's images; `label` gets the axis
 * text for `what` ("energy", "actual energy"). */
typedef struct esl__energy_axis {
    int per_image; /* 1: each row's energy divided by its images */
} esl__energy_axis;
esl__energy_axis esl__figure_energy_axis(const esl_dataset *ds);
double esl__figure_energy_wh(esl__energy_axis ax, const esl_row *r, double energy_j);
const char *esl__figure_energy_label(esl_figure *fig, esl__energy_axis ax, const esl_dataset *ds,
                                     const char *what);

#endif
