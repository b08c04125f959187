/* runs_io.h - esl runs import and the export formats for other tools. */
#ifndef ESL_RUNS_IO_H
#define ESL_RUNS_IO_H

#include <stddef.h>

#include "esl/esl.h"

/* Read FILE in format `from` and store every record in one transaction,
 * each with the imported labels and `labels` (which win on the same key);
 * prints what was stored. @return the tool's exit code */
int runs_import(const char *store_path, const char *from, const char *file,
                const esl_label *labels, size_t n_labels);

/* Write runs as CodeCarbon emissions.csv rows (the columns of 2.2 to 2.8). */
void runs_export_codecarbon(const esl_run *runs, size_t n);

/* Write runs as OpenMetrics text: one gauge family per quantity, a sample per run. */
void runs_export_openmetrics(const esl_run *runs, size_t n);

#endif
