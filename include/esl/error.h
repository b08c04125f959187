/*
 * error.h - status codes and the thread-local error detail.
 *
 * Every fallible libesl function returns an esl_status (0 on success). The
 * code says what kind of failure it was; esl_error_last() says exactly what
 * failed, in one line that names the file and line, JSON path, option, symbol
 * or value to fix. Codes have fixed values: new ones are only ever appended.
 */
#ifndef ESL_ERROR_H
#define ESL_ERROR_H

#include "esl/api.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum esl_status {
    ESL_OK = 0,
    ESL_EINVAL = 1,       /* an argument or input value is invalid */
    ESL_ENOMEM = 2,       /* out of memory */
    ESL_EIO = 3,          /* a file could not be opened, read or written */
    ESL_EPARSE = 4,       /* malformed input: JSON, CSV, number syntax */
    ESL_ERANGE = 5,       /* a value is out of range or a count overflows */
    ESL_ENOTFOUND = 6,    /* an unknown name: model, column, level, run */
    ESL_ENODEV = 7,       /* no measuring device (no driver, no GPU) */
    ESL_ENUMERIC = 8,     /* numerical failure: singular design, no convergence */
    ESL_EUNSUPPORTED = 9, /* valid request this build or model cannot serve */
    ESL_ESTORE = 10,      /* the run store failed (SQLite) */
    ESL_EDEVICE = 11      /* the measuring device failed during use */
} esl_status;

/* A short fixed description of a status code ("invalid input", ...). */
ESL_API const char *esl_strerror(int status);

/*
 * The detail of the last failure on this thread: one line, no trailing
 * newline, e.g. "flux.json: $.components[1].terms[0]: unknown key 'd_mdel'".
 * The string stays valid until the next failing libesl call on this thread.
 * Empty when nothing has failed yet.
 */
ESL_API const char *esl_error_last(void);

/* Forget the last failure on this thread. */
ESL_API void esl_error_clear(void);

#ifdef __cplusplus
}
#endif
#endif
