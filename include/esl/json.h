/*
 * json.h - the one layout of esl's JSON documents: two-space indent, keys in
 * insertion order, each double in the shortest form that reads back to the
 * same bits. The library's document builders (predictions, validations,
 * FLOP breakdowns, calibrations) and the tool write through it, so a number
 * reads the same whoever printed it.
 */
#ifndef ESL_JSON_H
#define ESL_JSON_H

#include "esl/api.h"

#ifdef __cplusplus
extern "C" {
#endif

struct json_t;

/* Lay out a jansson document as esl writes it, followed by a newline.
 * @param out  the text, NUL-terminated; the caller frees it with free()
 * @param doc  the document; stays the caller's
 * @return ESL_OK, or ESL_ENOMEM */
ESL_API int esl_json_text(char **out, const struct json_t *doc);

#ifdef __cplusplus
}
#endif
#endif
