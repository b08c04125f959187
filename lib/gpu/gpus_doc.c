/*
 * gpus_doc.c - rows of the GPU table (esl_gpu_select) written out, the
 * forms `esl gpus` prints: an aligned table of the numbers for people, and
 * for programs CSV and a JSON document that add the device names, how the
 * idle power and the names were obtained, and each row's source.
 */
#include <stdio.h>

#include <jansson.h>

#include "core/internal.h"
#include "esl/data.h"
#include "esl/gpus.h"
#include "esl/json.h"

/* The numeric columns, in every form's order: JSON key, table heading and
 * width; a peak (the first five) is missing where it is not positive. */
static const struct {
    const char *key, *head;
    int width;
} numbers[] = {
    {"fp32_tflops", "fp32", 7}, {"tf32_tflops", "tf32", 7}, {"fp16_tflops", "fp16", 7},
    {"bf16_tflops", "bf16", 7}, {"fp8_tflops", "fp8", 7},   {"mem_bw_gbs", "GB/s", 7},
    {"mem_gb", "GB", 5},        {"tdp_w", "TDP_W", 6},      {"idle_w", "idle_W", 6},
};
enum { N_NUMBERS = sizeof numbers / sizeof numbers[0], N_PEAKS = 5 };

/* The row's numbers in the columns' order. */
static void numbers_of(double v[N_NUMBERS], const esl_gpu_spec *g)
{
    const double row[N_NUMBERS] = {g->fp32_tflops, g->tf32_tflops, g->fp16_tflops,
                                   g->bf16_tflops, g->fp8_tflops,  g->mem_bw_gbs,
                                   g->mem_gb,      g->tdp_w,       g->idle_w};
    for (size_t k = 0; k < N_NUMBERS; k++)
        v[k] = row[k];
}

static int check(const void *out, const esl_gpu_spec *gpus, size_t n)
{
    return out == NULL || (gpus == NULL && n > 0)
               ? esl__fail(ESL_EINVAL, "GPU table: no output or rows")
               : ESL_OK;
}

static int written(FILE *out)
{
    return ferror(out) ? esl__fail(ESL_EIO, "GPU table: cannot write") : ESL_OK;
}

int esl_gpu_table(FILE *out, const esl_gpu_spec *gpus, size_t n)
{
    int rc = check(out, gpus, n);
    if (rc != ESL_OK)
        return rc;
    fprintf(out, "%-24s", "gpu");
    for (size_t k = 0; k < N_NUMBERS; k++)
        fprintf(out, " %*s", numbers[k].width, numbers[k].head);
    fputc('\n', out);
    for (size_t i = 0; i < n; i++) {
        double v[N_NUMBERS];
        numbers_of(v, &gpus[i]);
        fprintf(out, "%-24s", gpus[i].name ? gpus[i].name : "");
        for (size_t k = 0; k < N_NUMBERS; k++) {
            char buf[64] = "-";
            if (k >= N_PEAKS || v[k] > 0)
                snprintf(buf, sizeof buf, "%g", v[k]);
            fprintf(out, " %*s", numbers[k].width, buf);
        }
        fputc('\n', out);
    }
    return written(out);
}

int esl_gpu_csv(FILE *out, const esl_gpu_spec *gpus, size_t n)
{
    int rc = check(out, gpus, n);
    if (rc != ESL_OK)
        return rc;
    fputs("gpu", out);
    for (size_t k = 0; k < N_NUMBERS; k++)
        fprintf(out, ",%s", numbers[k].key);
    fputs(",device_names,idle_status,source\n", out);
    for (size_t i = 0; i < n; i++) {
        const esl_gpu_spec *g = &gpus[i];
        double v[N_NUMBERS];
        numbers_of(v, g);
        esl_csv_field(out, g->name ? g->name : "");
        for (size_t k = 0; k < N_NUMBERS; k++)
            fprintf(out, ",%g", v[k]);
        const char *text[] = {g->device_names, g->idle_status, g->source};
        for (size_t k = 0; k < 3; k++) {
            fputc(',', out);
            esl_csv_field(out, text[k] ? text[k] : "");
        }
        fputc('\n', out);
    }
    return written(out);
}

/* A string, or null for none. */
static json_t *text(const char *s)
{
    return s ? json_string(s) : json_null();
}

int esl_gpu_json(char **out, const esl_gpu_spec *gpus, size_t n)
{
    if (out != NULL)
        *out = NULL;
    int rc = check(out, gpus, n);
    if (rc != ESL_OK)
        return rc;
    json_t *rows = json_array();
    for (size_t i = 0; i < n; i++) {
        const esl_gpu_spec *g = &gpus[i];
        json_t *o = json_object();
        double v[N_NUMBERS];
        numbers_of(v, g);
        json_object_set_new(o, "gpu", text(g->name));
        json_object_set_new(o, "device_names", text(g->device_names));
        for (size_t k = 0; k < N_NUMBERS; k++) {
            json_object_set_new(o, numbers[k].key,
                                k < N_PEAKS && !(v[k] > 0) ? json_null() : esl__json_real(v[k]));
        }
        json_object_set_new(o, "idle_status", text(g->idle_status));
        json_object_set_new(o, "names_status", text(g->names_status));
        json_object_set_new(o, "source", text(g->source));
        json_array_append_new(rows, o);
    }
    rc = esl_json_text(out, rows);
    json_decref(rows);
    return rc;
}
