/*
 * zones.c - other names of the grid zones of data/grid_intensity.csv: ISO
 * 3166-1 alpha-3 codes (CodeCarbon writes them, as do most grid data
 * sources), common country names, and cloud regions (AWS, Google Cloud,
 * Azure) mapped to the country their data centres stand in. A region in a
 * country the table lacks is left out rather than guessed.
 */
#include <stddef.h>
#include <strings.h>

#include "carbon/zones.h"
#include "esl/carbon.h"

typedef struct alias {
    const char *name;  /* compared without case */
    const char *zone;  /* alpha-2 code of grid_intensity.csv */
} alias;

/* ISO 3166-1 alpha-3 codes (ISO 3166 Maintenance Agency, Online Browsing Platform). */
static const alias alpha3[] = {
    {"CHN", "CN"}, {"USA", "US"}, {"IND", "IN"}, {"RUS", "RU"}, {"JPN", "JP"}, {"BRA", "BR"},
    {"CAN", "CA"}, {"KOR", "KR"}, {"DEU", "DE"}, {"FRA", "FR"}, {"IRN", "IR"}, {"SAU", "SA"},
    {"IDN", "ID"}, {"MEX", "MX"}, {"GBR", "GB"}, {"TUR", "TR"}, {"ITA", "IT"}, {"ESP", "ES"},
    {"AUS", "AU"}, {"TWN", "TW"}, {"ZAF", "ZA"}, {"VNM", "VN"}, {"THA", "TH"}, {"MYS", "MY"},
    {"POL", "PL"}, {"EGY", "EG"}, {"PAK", "PK"}, {"ARG", "AR"}, {"NLD", "NL"}, {"SWE", "SE"},
    {"NOR", "NO"}, {"CHE", "CH"}, {"SGP", "SG"}, {"PHL", "PH"}, {"ARE", "AE"}, {"BEL", "BE"},
    {"AUT", "AT"}, {"FIN", "FI"}, {"NZL", "NZ"}, {"CHL", "CL"}, {"KAZ", "KZ"},
};

/* Names the table's own (Ember's) do not cover: ISO short names and common use. */
static const alias names[] = {
    {"United States of America", "US"}, {"Russian Federation", "RU"},
    {"Korea, Republic of", "KR"}, {"Republic of Korea", "KR"}, {"Turkey", "TR"},
    {"Turkiye", "TR"}, {"Vietnam", "VN"}, {"Iran, Islamic Republic of", "IR"},
    {"United Kingdom of Great Britain and Northern Ireland", "GB"}, {"UK", "GB"},
    {"Taiwan, Province of China", "TW"},
};

/* Cloud regions and the country of their data centres, from each provider's
 * list of regions and locations: AWS "Regions and Availability Zones"
 * (docs.aws.amazon.com), Google Cloud "Cloud locations" (cloud.google.com/
 * about/locations), Azure "Azure geographies" (azure.microsoft.com). */
static const alias regions[] = {
    /* AWS */
    {"us-east-1", "US"}, {"us-east-2", "US"}, {"us-west-1", "US"}, {"us-west-2", "US"},
    {"ca-central-1", "CA"}, {"eu-central-1", "DE"}, {"eu-central-2", "CH"},
    {"eu-west-2", "GB"}, {"eu-west-3", "FR"}, {"eu-north-1", "SE"}, {"eu-south-1", "IT"},
    {"eu-south-2", "ES"}, {"ap-northeast-1", "JP"}, {"ap-northeast-2", "KR"},
    {"ap-northeast-3", "JP"}, {"ap-southeast-1", "SG"}, {"ap-southeast-2", "AU"},
    {"ap-southeast-3", "ID"}, {"ap-south-1", "IN"}, {"sa-east-1", "BR"},
    {"me-central-1", "AE"}, {"af-south-1", "ZA"},
    /* Google Cloud */
    {"us-central1", "US"}, {"us-east1", "US"}, {"us-east4", "US"}, {"us-west1", "US"},
    {"us-west2", "US"}, {"northamerica-northeast1", "CA"}, {"southamerica-east1", "BR"},
    {"europe-west1", "BE"}, {"europe-west2", "GB"}, {"europe-west3", "DE"},
    {"europe-west4", "NL"}, {"europe-west6", "CH"}, {"europe-west9", "FR"},
    {"europe-north1", "FI"}, {"europe-central2", "PL"}, {"asia-east1", "TW"},
    {"asia-northeast1", "JP"}, {"asia-northeast3", "KR"}, {"asia-south1", "IN"},
    {"asia-southeast1", "SG"}, {"asia-southeast2", "ID"}, {"australia-southeast1", "AU"},
    /* Azure */
    {"eastus", "US"}, {"eastus2", "US"}, {"westus", "US"}, {"westus2", "US"},
    {"westus3", "US"}, {"centralus", "US"}, {"southcentralus", "US"}, {"canadacentral", "CA"},
    {"brazilsouth", "BR"}, {"westeurope", "NL"}, {"uksouth", "GB"}, {"francecentral", "FR"},
    {"germanywestcentral", "DE"}, {"swedencentral", "SE"}, {"switzerlandnorth", "CH"},
    {"norwayeast", "NO"}, {"polandcentral", "PL"}, {"italynorth", "IT"},
    {"japaneast", "JP"}, {"koreacentral", "KR"}, {"australiaeast", "AU"},
    {"southeastasia", "SG"}, {"centralindia", "IN"}, {"uaenorth", "AE"},
    {"southafricanorth", "ZA"},
};

static const char *lookup(const alias *t, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(t[i].name, name) == 0)
            return t[i].zone;
    return NULL;
}

const char *esl__zone_alias(const char *name, const char **kind)
{
    const char *z;
    if ((z = lookup(alpha3, sizeof alpha3 / sizeof alpha3[0], name)) != NULL) {
        *kind = "ISO 3166-1 alpha-3";
        return z;
    }
    if ((z = lookup(names, sizeof names / sizeof names[0], name)) != NULL) {
        *kind = "country name";
        return z;
    }
    if ((z = lookup(regions, sizeof regions / sizeof regions[0], name)) != NULL) {
        *kind = "cloud region";
        return z;
    }
    return NULL;
}

const char *esl__zone_alpha3(const char *alpha2)
{
    for (size_t i = 0; i < sizeof alpha3 / sizeof alpha3[0]; i++)
        if (strcasecmp(alpha3[i].zone, alpha2) == 0)
            return alpha3[i].name;
    return NULL;
}

const char *esl_grid_alpha3(const char *zone)
{
    return zone != NULL ? esl__zone_alpha3(zone) : NULL;
}
