/* version.c - the version string of the linked library. */
#include "esl/version.h"

const char *esl_version(void)
{
    return ESL_VERSION_STRING;
}
