/* provenance.h - what a prediction rests on, for auditors (provenance.c). */
#ifndef ESL_PROVENANCE_H
#define ESL_PROVENANCE_H

#include <jansson.h>

#include "esl/esl.h"

/* Add to prediction `o`, after its other keys: esl_version, law (the file or
 * the built-in law's description), law_form, law_hash (esl_law_hash),
 * law_training_rows, and the grid intensity used: zone (the table's code or
 * null), grid_gco2e_per_kwh, grid_year, grid_source (null without --zone or
 * --grid). `grid` is the --zone's entry or NULL; `given` the --grid value
 * or NaN. */
void predict_provenance(json_t *o, const esl_law *law, const char *law_name, const esl_grid *grid,
                        double given);

#endif
