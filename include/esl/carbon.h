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
int esl_grid_find(esl_grid *out, const char *zone);

/* The number of zones in the built-in table, and the i-th (file order). */
int esl_grid_count(void);
int esl_grid_get(esl_grid *out, int i);

/* The carbon and cost of a GPU energy. */
typedef struct esl_footprint {
    double facility_energy_j; /* energy_j * pue */
    double gco2e;             /* facility kWh * grid intensity */
    double cost;              /* facility kWh * price per kWh, in the price's currency */
} esl_footprint;

/* Account energy_j (joules at the GPU) with a PUE >= 1, a grid intensity in
 * gCO2e/kWh and a price per kWh (either may be 0). */
void esl_footprint_of(esl_footprint *out, double energy_j, double pue, double gco2e_per_kwh,
                      double price_per_kwh);

#ifdef __cplusplus
}
#endif
#endif
