/* catalog_builtin.h - the table generated from data/models by cmake/embed.cmake. */
#ifndef ESL_MODEL_CATALOG_BUILTIN_H
#define ESL_MODEL_CATALOG_BUILTIN_H

#include <stddef.h>

typedef struct esl_builtin_model {
    const char *name; /* file name without .json */
    const char *json;
    size_t len;
} esl_builtin_model;

extern const esl_builtin_model esl__builtin_models[];
extern const size_t esl__builtin_model_count;

#endif
