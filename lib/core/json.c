/*
 * json.c - esl's JSON layout (esl/json.h): jansson's JSON_INDENT(2) with keys
 * in insertion order, except that a double is written in the shortest form
 * that reads back exactly (esl_format_double) where jansson would print
 * seventeen digits. Also the two number helpers every document builder uses.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "esl/data.h"
#include "esl/json.h"

/* A JSON string, escaped as jansson escapes it by default: the quote, the
 * backslash and control characters (\b \f \n \r \t, else \u00XX); UTF-8
 * (which jansson has already checked) as it is. */
static void put_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\b': fputs("\\b", f); break;
        case '\f': fputs("\\f", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (*p < 0x20)
                fprintf(f, "\\u%04X", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}

/* A real in the shortest form that reads back to the same double, with a
 * ".0" where that form would read as an integer (as jansson writes it). */
static void put_real(FILE *f, double x)
{
    char buf[40];
    esl_format_double(buf, x);
    fputs(buf, f);
    if (strpbrk(buf, ".eEn") == NULL)
        fputs(".0", f);
}

/* `v` at nesting depth `depth`, laid out as jansson's JSON_INDENT(2). */
static void put_value(FILE *f, const json_t *v, int depth)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        if (json_object_size(v) == 0) {
            fputs("{}", f);
            return;
        }
        const char *key;
        json_t *item;
        int first = 1;
        fputc('{', f);
        json_object_foreach((json_t *)v, key, item) {
            fprintf(f, "%s\n%*s", first ? "" : ",", 2 * (depth + 1), "");
            put_string(f, key);
            fputs(": ", f);
            put_value(f, item, depth + 1);
            first = 0;
        }
        fprintf(f, "\n%*s}", 2 * depth, "");
        return;
    }
    case JSON_ARRAY: {
        if (json_array_size(v) == 0) {
            fputs("[]", f);
            return;
        }
        fputc('[', f);
        for (size_t i = 0; i < json_array_size(v); i++) {
            fprintf(f, "%s\n%*s", i ? "," : "", 2 * (depth + 1), "");
            put_value(f, json_array_get(v, i), depth + 1);
        }
        fprintf(f, "\n%*s]", 2 * depth, "");
        return;
    }
    case JSON_STRING: put_string(f, json_string_value(v)); return;
    case JSON_INTEGER: fprintf(f, "%" JSON_INTEGER_FORMAT, json_integer_value(v)); return;
    case JSON_REAL: put_real(f, json_real_value(v)); return;
    case JSON_TRUE: fputs("true", f); return;
    case JSON_FALSE: fputs("false", f); return;
    case JSON_NULL: fputs("null", f); return;
    }
}

int esl_json_text(char **out, const struct json_t *doc)
{
    char *text = NULL;
    size_t len = 0;
    *out = NULL;
    FILE *f = open_memstream(&text, &len);
    if (f == NULL)
        return esl__fail(ESL_ENOMEM, "cannot lay out a JSON document: out of memory");
    put_value(f, doc, 0);
    fputc('\n', f);
    if (fclose(f) != 0 || text == NULL) {
        free(text);
        return esl__fail(ESL_ENOMEM, "cannot lay out a JSON document: out of memory");
    }
    *out = text;
    return ESL_OK;
}

json_t *esl__json_real(double x)
{
    return isfinite(x) ? json_real(x) : json_null();
}

json_t *esl__json_count(double x)
{
    if (fabs(x) < 9.0e18 && x == floor(x))
        return json_integer((json_int_t)x);
    return json_real(x);
}
