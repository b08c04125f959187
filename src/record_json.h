/* record_json.h - JSON renderings of measurement records for the tool. */
#ifndef ESL_RECORD_JSON_H
#define ESL_RECORD_JSON_H

#include <jansson.h>

#include "esl/esl.h"

/* A JSON number, or null for an unknown (NaN) value. */
json_t *record_json_num(double v);

/* The record's totals, flags and devices; "samples" holds their count. */
json_t *record_json(const esl_record *rec);

#endif
