/*
 * internal.h - helpers shared by libesl's modules and never exported:
 * setting the thread-local error detail, and overflow-checked integer
 * arithmetic for exact FLOP counts.
 */
#ifndef ESL_CORE_INTERNAL_H
#define ESL_CORE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "esl/error.h"

#if defined(__GNUC__)
#define ESL_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define ESL_PRINTF(a, b)
#endif

/* Record the detail of a failure and return `status`, so that callers can
 * write `return esl__fail(ESL_EINVAL, "...", ...)`. */
int esl__fail(int status, const char *fmt, ...) ESL_PRINTF(2, 3);

/* Put "prefix" in front of the current detail (adding context on the way
 * up) and return `status`. */
int esl__fail_prefix(int status, const char *fmt, ...) ESL_PRINTF(2, 3);

/* Overflow-checked int64 arithmetic: false when the result does not fit. */
/* strcmp(a, b) == 0 for the short names and values of a dataset's columns,
 * inline: strcmp's call and its setup for long strings cost more than these
 * few bytes on the reader's hot path. */
static inline bool esl__same_name(const char *a, const char *b)
{
    for (; *a == *b; a++, b++)
        if (*a == '\0')
            return true;
    return false;
}

static inline bool esl__mul(int64_t *acc, int64_t x)
{
    return !__builtin_mul_overflow(*acc, x, acc);
}
static inline bool esl__add(int64_t *acc, int64_t x)
{
    return !__builtin_add_overflow(*acc, x, acc);
}

/* Ask the kernel to back a large array (of `size` bytes at p) with huge
 * pages where it can: a dataset of 10^6 rows then costs a few hundred page
 * faults instead of some 60 000. A hint only; nothing happens for arrays
 * under a few MiB or where the system has no such advice. */
void esl__advise_huge(void *p, size_t size);

/* JSON numbers for esl's documents (core/json.c): a real, or null for a
 * number that is not finite; an exact integer where the double holds one,
 * a real otherwise. NULL when out of memory. */
struct json_t;
struct json_t *esl__json_real(double x);
struct json_t *esl__json_count(double x);

/* 1 when every component of `m` has paper-convention terms (Table 4); a
 * model imported or described by --arch may count only in the exact
 * convention. */
struct esl_model;
int esl__model_has_paper_terms(const struct esl_model *m);

/* The law file's document (esl_law_to_json before it is laid out), for
 * documents that carry a law; NULL when out of memory. */
struct esl_law;
struct json_t *esl__law_json(const struct esl_law *law);

/* A CSV field always between quotes, quotes doubled (esl_csv_field quotes
 * only where it must; some columns are always quoted). NULL is "".
 * @return ESL_OK, or ESL_EIO when writing failed */
int esl__csv_quoted(FILE *f, const char *s);

/* Duplicate a string; NULL in, NULL out. */
char *esl__strdup(const char *s);

/* How many (model, image size) pairs the dataset readers of the calling
 * thread have counted with esl_row_set_work since it started: the work
 * behind a row (its layer plan, FLOPs per component) depends on the model
 * and size only, so a reader counts each pair once, however many rows,
 * step counts or CFG settings repeat it. The unit tests read it to check
 * that the work cache never counts twice. */
size_t esl__data_work_builds(void);

/* The FLOPs of one image from its stages' counts (Eq. 1: text + T * denoise
 * * 2^cfg + decode), with esl_flops_count's overflow check and message.
 * @return ESL_OK or ESL_ERANGE */
struct esl_model;
int esl__flops_image(int64_t *out, const struct esl_model *m, int64_t text, int64_t denoise,
                     int64_t decode, int64_t steps, int cfg);

/* esl_row_set_work, also giving the engine's integer counts (*f). */
struct esl_row;
struct esl_flops;
int esl__row_set_work(struct esl_row *row, const struct esl_model *model, int convention,
                      struct esl_flops *f);

/* Split a dataset's rows in two new datasets, keeping their order: rows i
 * with is_in[i] set go to *in, the others to *out. Faster than appending
 * row by row: the source's strings are known to stay put during the call.
 * @return ESL_OK; ESL_ENOMEM (*in and *out NULL) */
struct esl_dataset;
int esl__dataset_split(struct esl_dataset **in, struct esl_dataset **out,
                       const struct esl_dataset *ds, const unsigned char *is_in);

/* Give `to` the strings `from` holds (the strings of its rows), `from`
 * keeping its rows: rows copied from `from` then point into `to`'s strings,
 * and `from` must be freed, or its rows dropped, before `to`. */
void esl__dataset_move_strings(struct esl_dataset *to, struct esl_dataset *from);

/* Open a dataset file for reading, with esl_dataset_load's codes and
 * messages: ESL_EINVAL for a directory, ESL_ENOTFOUND when it does not exist,
 * ESL_EIO otherwise. */
int esl__data_open(FILE **out, const char *path);

/* Put the bytes of file `from` at `path`: copied to a temporary name beside
 * `path`, every write checked, and renamed over it; a path that exists and
 * is not a regular file (/dev/stdout, a pipe) is written in place. A failure
 * leaves `path` as it was. @return ESL_OK; ESL_EIO naming `path` and the
 * system's reason. */
int esl__publish_file(const char *from, const char *path);
/* Whether esl__publish_file could write `path` (a file can be made beside
 * it, or it is a device or pipe open for writing): ESL_OK, or ESL_EIO with
 * the system's reason. Nothing is left behind. */
int esl__check_writable(const char *path);

#endif
