/*
 * provenance.c - what a prediction rests on: the library's version, the law
 * (file or built-in form and data, fingerprint, training rows) and the grid
 * intensity with its year and source, gathered once for every client (the
 * tool's JSON, the Python package).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/internal.h"
#include "esl/carbon.h"
#include "esl/version.h"

void esl_provenance_of(esl_provenance *out, const esl_law *law, const char *law_name,
                       const esl_grid *grid, double given_gco2e_per_kwh)
{
    memset(out, 0, sizeof *out);
    const esl_law_form_info *form = esl_law_form_get(law->form_id);
    out->esl_version = esl_version();
    if (law_name == NULL) {
        snprintf(out->builtin_name, sizeof out->builtin_name, "built-in %s form, %s", form->name,
                 form->builtin_data);
        law_name = out->builtin_name;
    }
    out->law = law_name;
    out->law_form = form->name;
    if (esl_law_hash(out->law_hash, sizeof out->law_hash, law) != ESL_OK)
        out->law_hash[0] = '\0';
    out->law_training_rows = law->training.n_rows;
    out->grid_gco2e_per_kwh = NAN;
    if (grid != NULL) {
        out->zone = grid->zone;
        out->grid_gco2e_per_kwh = grid->gco2e_per_kwh;
        out->grid_year = grid->year;
        out->grid_source = "Ember yearly electricity data via Green Web Foundation co2.js "
                           "(data/grid_intensity.SOURCE.md)";
    } else if (isfinite(given_gco2e_per_kwh)) {
        out->grid_gco2e_per_kwh = given_gco2e_per_kwh;
        out->grid_source = "given (--grid)";
    }
}
