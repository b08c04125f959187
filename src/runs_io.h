/* runs_io.h - esl runs import, merge and upgrade (runs_io.c). */
#ifndef ESL_RUNS_IO_H
#define ESL_RUNS_IO_H

#include <stddef.h>

#include "esl/esl.h"

/* Read FILE in format `from` and store every record in one transaction,
 * each with the imported labels and `labels` (which win on the same key);
 * prints what was stored. @return the tool's exit code */
int runs_import(const char *store_path, const char *from, const char *file,
                const esl_label *labels, size_t n_labels);

/* Merge the stores `shards` into `store_path` (created if needed) in one
 * transaction; prints the counts, and each conflict on stderr.
 * @return the tool's exit code: 1 when a conflict was found */
int runs_merge(const char *store_path, char *const *shards, size_t n);

/* Open the store at `store_path` for writing, which brings its schema to
 * this esl's; prints the version. @return the tool's exit code */
int runs_upgrade(const char *store_path);

/* `esl runs merge|upgrade`: check the operands (`stray`: an option of
 * another action was given) and run it. @return the tool's exit code */
int runs_merge_verb(const char *verb, const char *store, const char *output, int stray, int n,
                    char **rest);

#endif
