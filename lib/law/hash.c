/*
 * hash.c - a law's fingerprint for provenance: FNV-1a (64 bits) of its law
 * file text (esl_law_to_json), which holds every coefficient bit for bit, so
 * two predictions made with the same law carry the same fingerprint and a
 * refitted law a different one. It identifies; it does not authenticate.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/internal.h"
#include "esl/law.h"

int esl_law_hash(char *out, size_t size, const esl_law *law)
{
    char *text = NULL;
    int rc = esl_law_to_json(&text, law);
    if (rc != ESL_OK)
        return rc;
    uint64_t h = 14695981039346656037ull; /* FNV-1a offset basis and prime, 64 bits */
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        h ^= *p;
        h *= 1099511628211ull;
    }
    free(text);
    if (snprintf(out, size, "fnv1a64:%016llx", (unsigned long long)h) >= (int)size)
        return esl__fail(ESL_ERANGE, "law hash: a buffer of %zu bytes is too small", size);
    return ESL_OK;
}
