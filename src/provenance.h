/* provenance.h - what a prediction rests on, for auditors (provenance.c). */
#ifndef ESL_PROVENANCE_H
#define ESL_PROVENANCE_H

#include <jansson.h>

#include "esl/esl.h"

/* Add to prediction `o`, after its other keys, the fields of `p`
 * (esl_provenance_of): esl_version, law, law_form, law_hash,
 * law_training_rows, zone, grid_gco2e_per_kwh, grid_year, grid_source;
 * null for what the prediction lacks. */
void predict_provenance(json_t *o, const esl_provenance *p);

#endif
