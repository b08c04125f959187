/*
 * provenance.c - the keys of `esl predict --format json` that say what a
 * prediction rests on (esl_provenance_of gathers them). They come after the
 * prediction's own keys, so that readers of the earlier keys are not
 * disturbed.
 */
#include <math.h>

#include "provenance.h"

void predict_provenance(json_t *o, const esl_provenance *p)
{
    json_object_set_new(o, "esl_version", json_string(p->esl_version));
    json_object_set_new(o, "law", json_string(p->law));
    json_object_set_new(o, "law_form", json_string(p->law_form));
    json_object_set_new(o, "law_hash", p->law_hash[0] ? json_string(p->law_hash) : json_null());
    json_object_set_new(o, "law_training_rows", json_integer((json_int_t)p->law_training_rows));
    json_object_set_new(o, "zone", p->zone ? json_string(p->zone) : json_null());
    json_object_set_new(o, "grid_gco2e_per_kwh",
                        isfinite(p->grid_gco2e_per_kwh) ? json_real(p->grid_gco2e_per_kwh)
                                                        : json_null());
    json_object_set_new(o, "grid_year", p->grid_year ? json_integer(p->grid_year) : json_null());
    json_object_set_new(o, "grid_source", p->grid_source ? json_string(p->grid_source) : json_null());
}
