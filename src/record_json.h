/* record_json.h - measurement records as `esl measure` shows them (record_json.c). */
#ifndef ESL_RECORD_JSON_H
#define ESL_RECORD_JSON_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "esl/esl.h"

/* The record as `esl measure` prints it: meter, command, exit status and
 * duration, one line per device and the total, then the energy in J and
 * Wh and where the run was stored (run_id 0: not stored). */
void record_table(FILE *out, const esl_record *rec, const char *command, int status,
                  int64_t run_id, const char *store);

/* The record's samples as CSV at `path` (written to a temporary name and
 * renamed). @return 0 or the tool's exit code, the error said on stderr */
int record_trace_csv(const char *path, const esl_record *rec);

/* The run as JSON (esl_record_json): the record's totals and devices, the
 * command, its exit status, the stored run's id (null when not stored) and
 * the labels; an empty object when it could not be made. */
json_t *record_summary_json(const esl_record *rec, const char *command, int status,
                            int64_t run_id, const esl_label *labels, size_t n_labels);

#endif
