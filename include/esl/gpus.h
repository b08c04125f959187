/*
 * gpus.h - the GPU table: what a GPU can do, as data (data/gpu_peaks.csv,
 * compiled into the library, every row with its source).
 *
 * Per GPU and form factor: dense peak throughput per precision, memory
 * bandwidth and size, the default power limit (TDP) and a typical idle power
 * with how it was obtained. The law reads it to price fp32 work (kappa, the
 * TF32/FP16 ratio), to carry a law to a GPU it was not trained on, and to turn
 * dynamic energy into total energy (docs/law.md); `esl gpus` lists it.
 *
 * Units: TFLOP/s (dense, no sparsity), GB/s, GB, watts.
 */
#ifndef ESL_GPUS_H
#define ESL_GPUS_H

#include "esl/api.h"

#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct esl_gpu_spec {
    const char *name;          /* the table's name, e.g. "H100 SXM5 80GB" */
    const char *device_names;  /* names CUDA or NVML report, '|'-separated */
    const char *names_status;  /* how the device names were checked */
    double fp32_tflops, tf32_tflops, fp16_tflops, bf16_tflops, fp8_tflops; /* 0: none */
    double mem_bw_gbs;         /* memory bandwidth, GB/s */
    double mem_gb;             /* memory, GB */
    double tdp_w;              /* default power limit, W */
    double idle_w;             /* typical idle power with a CUDA context open, W */
    const char *idle_status;   /* how idle_w was obtained ("estimate: ...", "derived: ...") */
    const char *source;        /* where the numbers come from */
} esl_gpu_spec;

/* Rows of the table. */
ESL_API size_t esl_gpu_count(void);

/* The i-th row, in table order. @return ESL_OK, ESL_ERANGE past the end,
 * ESL_EPARSE when the built-in table is malformed */
ESL_API int esl_gpu_get(esl_gpu_spec *out, size_t i);

/*
 * Find a GPU by a forgiving name: a device name as CUDA or NVML reports it
 * ("NVIDIA H100 80GB HBM3"), the table's name ("H100 SXM5 80GB"), or the
 * start of a table name at a word boundary ("H100" is the first H100 row,
 * the SXM5 card; "A100" the A100 SXM4 80GB), case-insensitively. The strings
 * in *out live as long as the process.
 * @return ESL_OK; ESL_ENOTFOUND naming the closest table names
 */
ESL_API int esl_gpu_find(esl_gpu_spec *out, const char *name);

/*
 * The rows `names` name (esl_gpu_find, in the order given), or the whole
 * table in table order when n_names is 0. Every name must resolve: the first
 * one that does not fails the call and nothing is returned.
 * @param out      receives a malloc'd array the caller frees; NULL on failure
 * @param n_out    receives its length; 0 on failure
 * @return ESL_OK; ESL_ENOTFOUND (the detail names the closest table names),
 *         ESL_ERANGE for an empty table, ESL_EPARSE, ESL_ENOMEM
 */
ESL_API int esl_gpu_select(esl_gpu_spec **out, size_t *n_out, const char *const *names,
                           size_t n_names);

/* ---- rows written out (gpus_doc.c) ---- */

/*
 * `n` rows as an aligned table for people: a heading line, then per GPU its
 * name and numbers (dense TFLOP/s per precision, '-' where it has none;
 * memory bandwidth and size, power limit, idle power), each in %g.
 * @param out  the stream to write to, borrowed
 * @return ESL_OK; ESL_EINVAL for a NULL argument; ESL_EIO when writing failed
 */
ESL_API int esl_gpu_table(FILE *out, const esl_gpu_spec *gpus, size_t n);

/*
 * The rows as CSV: a header line gpu, fp32_tflops, tf32_tflops, fp16_tflops,
 * bf16_tflops, fp8_tflops, mem_bw_gbs, mem_gb, tdp_w, idle_w, device_names,
 * idle_status, source; numbers in %g (0 for a precision the GPU lacks).
 * @return ESL_OK; ESL_EINVAL for a NULL argument; ESL_EIO when writing failed
 */
ESL_API int esl_gpu_csv(FILE *out, const esl_gpu_spec *gpus, size_t n);

/*
 * The rows as a JSON array of objects: gpu, device_names, the CSV's numbers
 * (null for a precision the GPU lacks), idle_status, names_status, source,
 * laid out by esl_json_text.
 * @param out  a new string: free() it; NULL on failure
 * @return ESL_OK; ESL_EINVAL for a NULL argument; ESL_ENOMEM
 */
ESL_API int esl_gpu_json(char **out, const esl_gpu_spec *gpus, size_t n);

#ifdef __cplusplus
}
#endif
#endif
