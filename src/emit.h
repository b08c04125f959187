/*
 * emit.h - how every command writes its results on stdout: JSON documents
 * indented with doubles in the shortest form that reads back exactly, counts as exact integers where they
 * are, undefined numbers as null, CSV fields through libesl's one quoter.
 */
#ifndef ESL_EMIT_H
#define ESL_EMIT_H

#include <jansson.h>

/* Print `doc` on stdout, indented by two spaces a level, keys in insertion
 * order, each double in the shortest form that reads back to the same value
 * (esl_format_double), then a newline. `doc` stays the caller's. */
void emit_json(const json_t *doc);

/* A JSON real, or null for a number that is not finite. */
json_t *emit_real(double x);

/* An exact JSON integer when the double holds one, a real otherwise. */
json_t *emit_count(double x);

/* One CSV field on stdout (esl_csv_field), then `sep`. */
void emit_csv(const char *s, char sep);

#endif
