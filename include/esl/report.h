/*
 * esl/report.h - one self-contained HTML page about a dataset and a law:
 * the dataset's summary, the law's form, equation, coefficients, 95%
 * intervals and provenance, the paper's three validations of the law's form
 * beside the paper's form, the figures of esl/figure.h and the compute per
 * image of the paper's Figure 1.
 *
 * Figures are drawn as PNG into a private temporary folder, embedded as
 * base64 data URIs and removed, so the page needs no other file and no
 * network. Every number on the page is computed at the call. Energies are
 * written as the dataset stores them ("Wh per 100-image row" when every row
 * holds 100 images, else "Wh per image"), and the page says which.
 */
#ifndef ESL_REPORT_H
#define ESL_REPORT_H

#include "esl/api.h"

#include <stddef.h>
#include <stdio.h>

#include "esl/data.h"
#include "esl/law.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What the page says about where its data and law came from. */
typedef struct esl_report_opts {
    const char *title;      /* the page's title (HTML-escaped); NULL: "esl report" */
    const char *law_file;   /* the file the law was loaded from, or NULL for a built-in law
                               (esl_law_builtin), which is then described by its form and data */
    const char *data_file;  /* the dataset's file, or NULL for the paper's built-in A100 data */
    const char *const *where; /* n_where filters the rows were chosen with (esl_dataset_where),
                                 listed on the page; may be NULL when n_where is 0 */
    size_t n_where;
    const esl_fit_opts *fit; /* how validations and per-model laws are refitted (the form is
                                always the law's); NULL: esl_fit_opts defaults */
} esl_report_opts;

/*
 * Write the page for `law` and the rows of `ds` to `out`. The page is
 * written as it is made: on an error `out` holds part of a page, so write
 * to a temporary file and publish it only on ESL_OK. `ds`, `law` and
 * `opts` are borrowed; nothing is printed.
 *
 * @param out   an open stream, written, not closed
 * @param ds    at least one row
 * @param opts  NULL: all defaults
 * @return ESL_OK; ESL_EINVAL for no row or a NULL argument; ESL_EUNSUPPORTED
 *         when this libesl was built without PLplot (esl_plot_available);
 *         ESL_EIO when the temporary folder or a figure's file cannot be
 *         made or read; any code of esl_figure_* or esl_flops_count; ESL_ENOMEM.
 *         A validation the data cannot support (one model, a fold without
 *         rows) is written on the page, not returned.
 */
ESL_API int esl_report_write(FILE *out, const esl_dataset *ds, const esl_law *law,
                             const esl_report_opts *opts);

/*
 * How the dataset's energies are counted, for a column or an axis: "Wh per
 * N-image row" when every row holds the same N > 1 images, else "Wh per
 * image". Written into `buf` (`size` bytes, 32 are enough) and returned.
 */
ESL_API const char *esl_report_energy_unit(char *buf, size_t size, const esl_dataset *ds);

/*
 * Row `i`'s energy in the unit esl_report_energy_unit names: watt-hours of
 * the row, or of one image when rows hold different numbers of images.
 * @return Wh; NaN when `i` is out of range
 */
ESL_API double esl_report_energy_wh(const esl_dataset *ds, size_t i);

#ifdef __cplusplus
}
#endif
#endif
