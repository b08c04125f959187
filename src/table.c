/*
 * table.c - the column-driven emitter (table.h): one loop over the columns
 * per row, writing the cell as the format wants it, so that a command's
 * table, CSV and JSON cannot disagree on what a column holds.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "emit.h"
#include "esl/esl.h"
#include "table.h"

static int shown(const table *t, const table_col *c)
{
    unsigned bit = t->fmt == FORMAT_TABLE ? IN_TABLE : t->fmt == FORMAT_CSV ? IN_CSV : IN_JSON;
    return (c->in & bit) != 0;
}

/* A table field: text padded to the column's width. */
static void put_field(const table_col *c, const char *text, int first)
{
    if (!first)
        fputs(c->gap ? c->gap : " ", stdout);
    printf("%*s", c->width, text);
}

void table_begin(table *t, const table_col *cols, size_t n, cli_format fmt)
{
    t->cols = cols;
    t->n = n;
    t->fmt = fmt;
    t->rows = fmt == FORMAT_JSON ? json_array() : NULL;
    if (fmt == FORMAT_JSON)
        return;
    int first = 1, any = fmt == FORMAT_CSV;
    for (size_t k = 0; k < n && !any; k++)
        any = shown(t, &cols[k]) && (cols[k].head == NULL || cols[k].head[0] != '\0');
    if (!any)
        return; /* a table whose headings are all "" has no header line */
    for (size_t k = 0; k < n; k++) {
        const table_col *c = &cols[k];
        if (!shown(t, c))
            continue;
        if (fmt == FORMAT_TABLE)
            put_field(c, c->head ? c->head : c->key, first);
        else
            printf("%s%s", first ? "" : ",", c->key);
        first = 0;
    }
    putchar('\n');
}

json_t *table_row(table *t, const table_cell *cells)
{
    json_t *o = t->fmt == FORMAT_JSON ? json_object() : NULL;
    int first = 1;
    for (size_t k = 0; k < t->n; k++) {
        const table_col *c = &t->cols[k];
        const table_cell *v = &cells[k];
        if (!shown(t, c))
            continue;
        char buf[64];
        if (t->fmt == FORMAT_JSON) {
            json_t *j = v->missing ? json_null()
                        : c->kind == COL_STR ? (v->s ? json_string(v->s) : json_null())
                        : c->kind == COL_INT ? json_integer(v->i)
                                             : emit_real(v->x);
            json_object_set_new(o, c->key, j);
        } else if (t->fmt == FORMAT_CSV) {
            if (!first)
                putchar(',');
            if (c->kind == COL_STR && c->quote) {
                putchar('"');
                for (const char *p = v->s ? v->s : ""; *p; p++)
                    fputs(*p == '"' ? "\"\"" : (char[]){*p, '\0'}, stdout);
                putchar('"');
            } else if (c->kind == COL_STR) {
                esl_csv_field(stdout, v->s ? v->s : "");
            } else if (c->kind == COL_INT) {
                printf("%lld", v->i);
            } else {
                printf(c->csv ? c->csv : "%g", v->x);
            }
        } else {
            const char *text = buf;
            if (v->missing)
                text = "-";
            else if (c->kind == COL_STR)
                text = v->s ? v->s : "";
            else if (c->kind == COL_INT)
                snprintf(buf, sizeof buf, "%lld", v->i);
            else
                snprintf(buf, sizeof buf, c->num ? c->num : "%g", v->x);
            put_field(c, text, first);
        }
        first = 0;
    }
    if (t->fmt == FORMAT_JSON)
        json_array_append_new(t->rows, o);
    else
        putchar('\n');
    return o;
}

void table_end(table *t)
{
    if (t->fmt == FORMAT_JSON)
        emit_json(t->rows);
    json_decref(t->rows);
    t->rows = NULL;
}
