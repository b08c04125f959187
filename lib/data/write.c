/*
 * write.c - writing datasets: the one CSV quoter of every CSV esl writes,
 * and a row in the columns the reader (read.c) takes back. `esl runs
 * export` and `esl calibrate` write their rows here, so the header is typed
 * once and a row reads back to the same values.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/internal.h"
#include "esl/data.h"

int esl__csv_quoted(FILE *f, const char *s)
{
    int bad = fputc('"', f) == EOF;
    for (; s != NULL && *s != '\0' && !bad; s++)
        bad = (*s == '"' && fputc('"', f) == EOF) || fputc(*s, f) == EOF;
    bad |= fputc('"', f) == EOF;
    return bad ? esl__fail(ESL_EIO, "writing a CSV field failed") : ESL_OK;
}

int esl_csv_field(FILE *f, const char *s)
{
    if (s == NULL)
        return ESL_OK;
    if (strpbrk(s, ",\"\r\n") != NULL)
        return esl__csv_quoted(f, s);
    return fputs(s, f) == EOF ? esl__fail(ESL_EIO, "writing a CSV field failed") : ESL_OK;
}

int esl_row_write_header(FILE *f)
{
    return fputs("model,gpu,dtype,cfg,height,width,steps,prompts,energy_j,batch_size,energy_kind,"
                 "duration_s,idle_w,source\n", f) == EOF
               ? esl__fail(ESL_EIO, "writing a CSV header failed")
               : ESL_OK;
}

/* ",%.17g" when the row has the column, "," when not. */
static int number(FILE *f, int present, double v)
{
    return present ? fprintf(f, ",%.17g", v) < 0 : fputc(',', f) == EOF;
}

int esl_row_write(FILE *f, const esl_row *row)
{
    int bad = esl_csv_field(f, row->model) != ESL_OK || fputc(',', f) == EOF ||
              esl_csv_field(f, row->gpu) != ESL_OK || fputc(',', f) == EOF ||
              esl_csv_field(f, row->dtype) != ESL_OK ||
              fprintf(f, ",%d,%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64, row->cfg ? 1 : 0,
                      row->height, row->width, row->steps, row->prompts) < 0 ||
              number(f, row->present & ESL_ROW_ENERGY, row->energy_j) ||
              fprintf(f, ",%" PRId64 ",", row->batch_size > 0 ? row->batch_size : 1) < 0 ||
              ((row->present & ESL_ROW_KIND) &&
               fputs(row->energy_kind == ESL_ENERGY_DYNAMIC ? "dynamic" : "total", f) == EOF) ||
              number(f, row->present & ESL_ROW_DURATION, row->duration_s) ||
              number(f, row->present & ESL_ROW_IDLE, row->idle_w) || fputc(',', f) == EOF ||
              ((row->present & ESL_ROW_SOURCE) && esl_csv_field(f, row->source) != ESL_OK) ||
              fputc('\n', f) == EOF;
    return bad ? esl__fail(ESL_EIO, "writing a dataset row failed") : ESL_OK;
}
