/*
 * emit.c - the output conventions every command shares (emit.h), written
 * once so that a JSON number or a CSV field looks the same in every command.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emit.h"
#include "esl/esl.h"

void emit_json(const json_t *doc)
{
    char *text = NULL;
    if (esl_json_text(&text, doc) == ESL_OK)
        fputs(text, stdout);
    free(text);
}

json_t *emit_real(double x)
{
    return isfinite(x) ? json_real(x) : json_null();
}

json_t *emit_count(double x)
{
    if (fabs(x) < 9.0e18 && x == floor(x))
        return json_integer((json_int_t)x);
    return json_real(x);
}

void emit_csv(const char *s, char sep)
{
    esl_csv_field(stdout, s);
    putchar(sep);
}
