/*
 * law_cli.h - what `esl fit`, `esl predict` and `esl validate` share:
 * the data and fit options, read into libesl's law spec, and the spec's
 * dataset and law with their errors printed.
 */
#ifndef ESL_LAW_CLI_H
#define ESL_LAW_CLI_H

#include <jansson.h>

#include "cli.h"
#include "esl/esl.h"

/* Options common to the commands that fit a law: libesl's law spec
 * (esl_law_spec, esl/law.h), which reads the rows and fits the law. */
typedef esl_law_spec law_cli_opts;

/* Keys of the shared option groups "data" and "fit" (options.c). */
enum {
    LAW_OPT_DATA = 'd', LAW_OPT_ARCH = 'a',
    LAW_OPT_WHERE = 1024, LAW_OPT_BASELINE, LAW_OPT_TERMS, LAW_OPT_RESPONSE, LAW_OPT_EXPAND,
    LAW_OPT_WEIGHTED, LAW_OPT_ROBUST, LAW_OPT_CONVENTION,
};

/* Handle an option of the "data" or "fit" group: 0 or an exit code, or
 * LAW_CLI_NOT_MINE for a key of neither. */
#define LAW_CLI_NOT_MINE (-2)
int law_cli_option(law_cli_opts *o, int key, const char *arg);

/* Handle --where SPEC and --form F for a command that takes them outside
 * the groups (returns 0 or an exit code). */
int law_cli_where(law_cli_opts *o, const char *arg);
int law_cli_form(law_cli_opts *o, const char *arg);

/* Read o->data (stdin for "-") and every further --data file, counting FLOPs
 * in o->convention (no o->data: the built-in paper data), then apply the
 * --where filters (esl_law_spec_dataset). Prints its error; returns 0 or an
 * exit code. */
int law_cli_dataset(const law_cli_opts *o, int no_energy, esl_dataset **out);

/* Fit the law of o->fit on the rows law_cli_dataset would give. One file
 * and no --where or --expand-prompts: read packed, without holding the rows
 * (esl_law_fit_load). Prints its error; returns 0 or an exit code. */
int law_cli_fit(const law_cli_opts *o, esl_law **out);

#endif
