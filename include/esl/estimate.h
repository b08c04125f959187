/*
 * estimate.h - the energy, carbon and cost of configurations nobody
 * measured, as `esl predict` prints them: a law's prediction
 * (esl_law_predict) with its 95% interval, its footprint (esl_footprint_of)
 * and, for a steady rate of images, the fleet that serves it
 * (esl_fleet_for), written as a table for a person, as CSV, or as a JSON
 * document for programs that carries what the prediction rests on
 * (esl_provenance_of). Any program gets the text the tool prints.
 */
#ifndef ESL_ESTIMATE_H
#define ESL_ESTIMATE_H

#include "esl/api.h"

#include <stdio.h>

#include "esl/carbon.h"
#include "esl/data.h"
#include "esl/law.h"
#include "esl/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* How estimates are written. */
typedef enum esl_estimate_format {
    ESL_ESTIMATE_TABLE = 0, /* text for a person; one line per row of a configuration file */
    ESL_ESTIMATE_CSV = 1,   /* a header, then a line per configuration, each number in the
                               shortest form that reads back to the same double */
    ESL_ESTIMATE_JSON = 2   /* an object for one configuration, an array for a file of them */
} esl_estimate_format;

/* What an estimate is accounted with. Zero-initialised: a table, PUE 1, no
 * carbon, no cost, no fleet, a built-in law. */
typedef struct esl_estimate_opts {
    esl_estimate_format format;
    const char *law_name;  /* the law's file, or NULL for a built-in law (esl_law_builtin),
                              then named by its form and data */
    double pue;            /* data-centre power usage effectiveness, >= 1; 0 means 1 */
    const esl_grid *zone;  /* the zone whose grid intensity prices carbon (esl_grid_find),
                              or NULL */
    int has_grid;          /* without a zone: 1 when gco2e_per_kwh prices carbon */
    double gco2e_per_kwh;  /* the grid intensity given, gCO2e per kWh of electricity */
    int has_price;         /* 1 when price_per_kwh prices the energy */
    double price_per_kwh;  /* electricity price per kWh, in any currency */
    double rate;           /* one configuration: size a fleet for this many images per
                              second (esl_fleet_for); 0 for none */
} esl_estimate_opts;

/* One configuration's estimate. */
typedef struct esl_estimate {
    esl_prediction prediction; /* esl_law_predict, 95% intervals */
    esl_footprint footprint;   /* of the total energy where the law predicts one (with idle
                                  power), else of the dynamic energy; 0 carbon or cost
                                  where opts give no intensity or price */
    int has_fleet;             /* 1 when opts->rate asked for a fleet */
    esl_fleet fleet;
} esl_estimate;

/*
 * Estimate `row` (its flops_cfg counted in the law's convention,
 * esl_row_set_work) with `law`.
 * @param out   set on success; zeroed on failure
 * @param opts  NULL for the defaults
 * @return ESL_OK; ESL_EINVAL for a PUE below 1, a rate that is negative or
 *         not finite, or both a zone and a given intensity; the codes of
 *         esl_law_predict; ESL_EUNSUPPORTED only when opts->rate asks for a
 *         fleet and the law predicts no time (it was trained on no row with a
 *         duration), the other codes of esl_fleet_for
 */
ESL_API int esl_estimate_of(esl_estimate *out, const esl_law *law, const esl_row *row,
                            const esl_estimate_opts *opts);

/*
 * Write to `out` what comes before the estimates in opts->format: the CSV
 * header, or, when `many` (a file of configurations follows), the table's
 * column names; nothing for JSON or for one configuration as a table.
 * @return ESL_OK; ESL_EINVAL for no stream; ESL_EIO when writing failed
 */
ESL_API int esl_estimate_header(FILE *out, const esl_estimate_opts *opts, int many);

/*
 * Estimate one configuration (esl_estimate_of) and write it to `out` in
 * opts->format: the table `esl predict` prints (energy, interval, Wh per
 * image, time, carbon, cost, the fleet, a warning per extrapolation), one
 * CSV line (after esl_estimate_header), or the JSON object of
 * esl_estimate_json. Nothing is written when the estimate fails.
 * @return ESL_OK; the codes of esl_estimate_of; ESL_ENOMEM; ESL_EIO when
 *         writing failed
 */
ESL_API int esl_estimate_write(FILE *out, const esl_law *law, const esl_row *row,
                               const esl_estimate_opts *opts);

/*
 * The JSON document of one configuration's estimate: the row, the energy
 * with its interval, time and total energy (null where the law predicts
 * none), carbon and cost (null where not priced), the extrapolations, the
 * provenance keys of esl_provenance_of and, with opts->rate, "fleet".
 * @param out  the text, laid out by esl_json_text; the caller frees it
 * @return ESL_OK (*out set); the codes of esl_estimate_of; ESL_ENOMEM
 */
ESL_API int esl_estimate_json(char **out, const esl_law *law, const esl_row *row,
                              const esl_estimate_opts *opts);

/*
 * Estimate each row of a CSV of configurations read from `in` (dataset
 * columns, energy optional; esl_data_read) and write it to `out` in
 * opts->format as it is read: a table line or a CSV line per row (after
 * esl_estimate_header), or, once every row is estimated, a JSON array of
 * esl_estimate_json's objects. opts->rate is not used.
 * @param origin  the name of `in` in messages ("configs.csv", "<stdin>")
 * @param arch    a model description the file's rows may name, or NULL
 * @return ESL_OK; the codes of esl_data_read; a row's esl_law_predict code,
 *         the detail prefixed "ORIGIN:LINE: "; ESL_ENOMEM; ESL_EIO
 */
ESL_API int esl_estimate_configs(FILE *out, FILE *in, const char *origin, const esl_law *law,
                                 const esl_model *arch, const esl_estimate_opts *opts);

/*
 * Write the grid zones an estimate can be priced with (esl_grid_get) as a
 * table, with their source: what `esl predict --zone list` prints.
 * @return ESL_OK; ESL_EINVAL for no stream; ESL_EIO when writing failed
 */
ESL_API int esl_estimate_zones(FILE *out);

#ifdef __cplusplus
}
#endif
#endif
