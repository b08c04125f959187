/*
 * carbon.h - turning energy into carbon and cost.
 *
 * Grid carbon intensity comes from a table compiled into the library
 * (data/grid_intensity.csv: Ember's yearly electricity data, via Green Web
 * Foundation co2.js; see data/grid_intensity.SOURCE.md), in gCO2e per kWh
 * of electricity generated, or from the caller.
 */
#ifndef ESL_CARBON_H
#define ESL_CARBON_H

#include "esl/api.h"

#include <stdint.h>

#include "esl/law.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct esl_grid {
    char zone[16];        /* ISO 3166-1 alpha-2 code, or "WORLD" */
    char name[64];
    double gco2e_per_kwh; /* life-cycle gCO2e per kWh generated */
    int year;             /* the year the intensity is for */
} esl_grid;

/*
 * Look up a zone code (case-insensitive) in the built-in table.
 * @return ESL_OK, or ESL_ENOTFOUND listing the known codes
 */
ESL_API int esl_grid_find(esl_grid *out, const char *zone);

/* The ISO 3166-1 alpha-3 code of a zone of the table ("DE" -> "DEU"), or NULL
 * (WORLD, an unknown zone). Static storage. */
ESL_API const char *esl_grid_alpha3(const char *zone);

/* The number of zones in the built-in table, and the i-th (file order). */
ESL_API int esl_grid_count(void);
ESL_API int esl_grid_get(esl_grid *out, int i);

/* The carbon and cost of a GPU energy. */
typedef struct esl_footprint {
    double facility_energy_j; /* energy_j * pue */
    double gco2e;             /* facility kWh * grid intensity */
    double cost;              /* facility kWh * price per kWh, in the price's currency */
} esl_footprint;

/* Account energy_j (joules at the GPU) with a PUE >= 1, a grid intensity in
 * gCO2e/kWh and a price per kWh (either may be 0). */
ESL_API void esl_footprint_of(esl_footprint *out, double energy_j, double pue, double gco2e_per_kwh,
                      double price_per_kwh);

/* A fleet serving a steady rate of images. */
typedef struct esl_fleet {
    double set_images_per_s; /* what one set of GPUs (one batch's GPUs) serves */
    int64_t sets;            /* sets needed, rounded up */
    int64_t gpus;            /* GPUs in all: sets x GPUs per set */
    double utilisation;      /* rate / capacity, 0..1 */
    double kwh_per_day;      /* facility energy a day: the images' dynamic energy, every
                              * GPU's idle power all day, times the PUE */
    double tco2e_per_year;   /* kwh_per_day x 365 x grid intensity */
    double cost_per_day;     /* kwh_per_day x price */
} esl_fleet;

/*
 * Size a fleet for `rate` images per second from one prediction: `images`
 * images taking `time_s` seconds on `gpus_per_set` GPUs with `dynamic_j`
 * joules above idle, each GPU idling at `idle_w` watts. Every GPU of the
 * fleet draws its idle power all day; the busy ones add the images' dynamic
 * energy (so spare capacity costs idle power only).
 * @return ESL_OK; ESL_EINVAL for a rate, count, time or energy that is not
 *         positive and finite, or a fleet above 10^9 GPUs
 */
ESL_API int esl_fleet_plan(esl_fleet *out, double rate, double images, double time_s, double dynamic_j,
                   double idle_w, int64_t gpus_per_set, double pue, double gco2e_per_kwh,
                   double price_per_kwh);

/*
 * Size the fleet that serves `rate` images per second with the
 * configuration of `row` as predicted in `p` (esl_law_predict): its images,
 * time, dynamic energy, idle power (0 when the law knows none) and GPUs per
 * batch, then esl_fleet_plan.
 * @return ESL_OK; ESL_EUNSUPPORTED when the prediction has no time (the law
 *         was trained on no row with a duration); the codes of esl_fleet_plan
 */
ESL_API int esl_fleet_for(esl_fleet *out, double rate, const esl_row *row, const esl_prediction *p,
                          double pue, double gco2e_per_kwh, double price_per_kwh);

/*
 * What a prediction rests on, for auditors: the library's version, the law
 * (its name, form, fingerprint and training rows) and the grid intensity
 * with its year and source. `esl predict --format json` prints these keys.
 */
typedef struct esl_provenance {
    const char *esl_version;   /* esl_version() */
    const char *law;           /* the caller's name for the law (its file), or the built-in
                                * law's description: "built-in by-kind form, paper A100 + ..." */
    const char *law_form;      /* the form's name */
    char law_hash[32];         /* esl_law_hash; "" when it failed */
    size_t law_training_rows;
    const char *zone;          /* the grid zone's code, NULL without one */
    double grid_gco2e_per_kwh; /* NaN without a zone or a given intensity */
    int grid_year;             /* 0 unless from the zone table */
    const char *grid_source;   /* the table's source, "given (--grid)", or NULL */
    char builtin_name[96];     /* storage of `law` for a built-in law */
} esl_provenance;

/*
 * Fill `out` for a prediction by `law`. `law_name` is the law file's name,
 * or NULL for a built-in law (esl_law_builtin), which is then described by
 * its form and data. `grid` is the zone's entry or NULL; `given_gco2e_per_kwh`
 * an intensity the caller gave (NaN for none), used without a zone. Strings
 * are static, the law's or the grid's: valid while those are.
 */
ESL_API void esl_provenance_of(esl_provenance *out, const esl_law *law, const char *law_name,
                               const esl_grid *grid, double given_gco2e_per_kwh);

#ifdef __cplusplus
}
#endif
#endif
