/* zones.h - other names of grid zones (zones.c); internal to libesl. */
#ifndef ESL_CARBON_ZONES_H
#define ESL_CARBON_ZONES_H

/* The alpha-2 zone an ISO alpha-3 code, a country name or a cloud region
 * names (case-insensitive), or NULL; *kind says which it was. */
const char *esl__zone_alias(const char *name, const char **kind);

/* The ISO 3166-1 alpha-3 code of an alpha-2 zone of the table, or NULL. */
const char *esl__zone_alpha3(const char *alpha2);

#endif
