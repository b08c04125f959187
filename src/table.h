/*
 * table.h - one description of a command's result columns that prints all
 * three output formats: an aligned table, CSV with a header line, and a
 * JSON array of objects. A column says once its key (the CSV header and
 * the JSON key), its table heading and width, how a number is written in
 * the table and in CSV, and in which formats it appears.
 */
#ifndef ESL_TABLE_H
#define ESL_TABLE_H

#include <jansson.h>

#include "cli.h"

/* Where a column appears. */
enum { IN_TABLE = 1, IN_CSV = 2, IN_JSON = 4, IN_ALL = 7 };

/* What a column holds. */
typedef enum table_kind { COL_STR = 0, COL_NUM, COL_INT } table_kind;

typedef struct table_col {
    const char *key;   /* CSV header and JSON key */
    table_kind kind;
    unsigned in;       /* IN_* */
    const char *head;  /* table heading; NULL: the key */
    int width;         /* table width; negative: left-aligned; 0: as wide as the value */
    const char *num;   /* a number in the table ("%.3f"); NULL: "%g" */
    const char *csv;   /* a number in CSV ("%.17g"); NULL: "%g" */
    const char *gap;   /* the table's space before the column; NULL: one space */
    int quote;         /* CSV: quote the string always (else only where needed) */
} table_col;

/* One value. A string NULL is "" in the table and CSV and null in JSON;
 * a value marked `missing` is "-" in the table and null in JSON (CSV
 * writes the value as it is); a number that is not finite is null in
 * JSON. */
typedef struct table_cell {
    const char *s;
    double x;
    long long i;
    int missing;
} table_cell;

typedef struct table {
    const table_col *cols;
    size_t n;
    cli_format fmt;
    json_t *rows;      /* FORMAT_JSON: the array */
} table;

/* Start a table of `n` columns in `fmt` and print its header line (CSV;
 * the table's unless every heading shown is ""). */
void table_begin(table *t, const table_col *cols, size_t n, cli_format fmt);

/* Print one row of n cells, in the columns' order. With FORMAT_JSON the
 * row's object is returned (owned by the table) for keys a column cannot
 * describe (nested arrays); NULL otherwise. */
json_t *table_row(table *t, const table_cell *cells);

/* Finish: with FORMAT_JSON print the array (emit_json). Frees the table. */
void table_end(table *t);

#endif
