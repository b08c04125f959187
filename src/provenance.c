/*
 * provenance.c - the keys of `esl predict --format json` that say what a
 * prediction rests on: the esl version, the law (file or built-in, form,
 * fingerprint, rows), and the grid intensity with its year and source. They
 * come after the prediction's own keys, so that readers of the earlier keys
 * are not disturbed.
 */
#include <math.h>

#include "provenance.h"

void predict_provenance(json_t *o, const esl_law *law, const char *law_name, const esl_grid *grid,
                        double given)
{
    char hash[32];
    json_object_set_new(o, "esl_version", json_string(esl_version()));
    json_object_set_new(o, "law", json_string(law_name));
    json_object_set_new(o, "law_form", json_string(law->form));
    json_object_set_new(o, "law_hash", esl_law_hash(hash, sizeof hash, law) == ESL_OK
                                           ? json_string(hash) : json_null());
    json_object_set_new(o, "law_training_rows", json_integer((json_int_t)law->training.n_rows));
    json_object_set_new(o, "zone", grid ? json_string(grid->zone) : json_null());
    if (grid != NULL) {
        json_object_set_new(o, "grid_gco2e_per_kwh", json_real(grid->gco2e_per_kwh));
        json_object_set_new(o, "grid_year", json_integer(grid->year));
        json_object_set_new(o, "grid_source",
                            json_string("Ember yearly electricity data via Green Web Foundation "
                                        "co2.js (data/grid_intensity.SOURCE.md)"));
    } else if (isfinite(given)) {
        json_object_set_new(o, "grid_gco2e_per_kwh", json_real(given));
        json_object_set_new(o, "grid_year", json_null());
        json_object_set_new(o, "grid_source", json_string("given (--grid)"));
    } else {
        json_object_set_new(o, "grid_gco2e_per_kwh", json_null());
        json_object_set_new(o, "grid_year", json_null());
        json_object_set_new(o, "grid_source", json_null());
    }
}
