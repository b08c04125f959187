/* version.h - the library's version, at compile time and at run time. */
#ifndef ESL_VERSION_H
#define ESL_VERSION_H

#include "esl/api.h"

#define ESL_VERSION_MAJOR 0
#define ESL_VERSION_MINOR 1
#define ESL_VERSION_PATCH 0
#define ESL_VERSION_STRING "0.1.0"

#ifdef __cplusplus
extern "C" {
#endif

/* The version of the library actually linked, "MAJOR.MINOR.PATCH". */
ESL_API const char *esl_version(void);

#ifdef __cplusplus
}
#endif
#endif
