/*
 * visible.c - which NVML devices a selection means, resolved the way the
 * CUDA runtime numbers GPUs, so that the meter reads the GPU a workload runs
 * on. NVML numbers every GPU of the machine in its own order; CUDA first
 * orders them (CUDA_DEVICE_ORDER: FASTEST_FIRST, the default, or
 * PCI_BUS_ID), then keeps and renumbers those CUDA_VISIBLE_DEVICES lists
 * (indices into that order, GPU-UUIDs or unique UUID prefixes, MIG instance
 * ids). The two are matched by PCI bus id and UUID, never by index.
 *
 * FASTEST_FIRST ranks by a throughput estimate NVML cannot reproduce; for
 * GPUs of one model it falls back to PCI bus order, which is what esl uses.
 * With different models under FASTEST_FIRST an index is refused rather than
 * guessed. As the CUDA runtime does, CUDA_VISIBLE_DEVICES is read up to its
 * first invalid entry; entries after it are ignored. MIG instances are
 * refused: NVML's energy counter and power readings cover the whole GPU.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/internal.h"
#include "meter/meter_internal.h"

int esl__pci_parse(const char *text, unsigned long key[4])
{
    unsigned long part[4] = {0, 0, 0, 0};
    int n = 0;
    const char *p = text;
    while (n < 4) {
        char *end;
        if (!isxdigit((unsigned char)*p))
            return ESL_EINVAL;
        part[n++] = strtoul(p, &end, 16);
        p = end;
        if (*p == ':' && n < 3) {
            p++;
            continue;
        }
        if (*p == '.' && n >= 2) {
            p++;
            continue;
        }
        break;
    }
    if (*p != '\0' || n < 3)
        return ESL_EINVAL;
    /* "bus:device.function" has no domain: domain 0 */
    if (n == 3) {
        key[0] = 0;
        key[1] = part[0];
        key[2] = part[1];
        key[3] = part[2];
    } else {
        memcpy(key, part, sizeof part);
    }
    return ESL_OK;
}

static int pci_compare(const esl__gpu_id *a, const esl__gpu_id *b)
{
    unsigned long ka[4], kb[4];
    int ra = esl__pci_parse(a->pci_bus_id, ka), rb = esl__pci_parse(b->pci_bus_id, kb);
    if (ra != ESL_OK || rb != ESL_OK) /* no PCI id: NVML's order */
        return ra != rb ? (ra == ESL_OK ? -1 : 1) : (a->nvml_index > b->nvml_index) - (a->nvml_index < b->nvml_index);
    for (int i = 0; i < 4; i++)
        if (ka[i] != kb[i])
            return ka[i] < kb[i] ? -1 : 1;
    return 0;
}

/* CUDA's enumeration before visibility: positions into gpus. Sets *known
 * when an index into it is well defined. */
static void cuda_order(const esl__gpu_id *gpus, size_t n, const char *order, size_t *out,
                       bool *known, char *why, size_t why_len)
{
    /* insertion sort by PCI bus id: a handful of GPUs, and no global
     * state for qsort's comparison */
    for (size_t i = 0; i < n; i++) {
        size_t j = i;
        while (j > 0 && pci_compare(&gpus[out[j - 1]], &gpus[i]) > 0) {
            out[j] = out[j - 1];
            j--;
        }
        out[j] = i;
    }
    *known = true;
    why[0] = '\0';
    if (order != NULL && strcmp(order, "PCI_BUS_ID") == 0)
        return;
    for (size_t i = 1; i < n; i++)
        if (strcmp(gpus[i].name, gpus[0].name) != 0) {
            *known = false;
            snprintf(why, why_len, "CUDA numbers GPUs fastest first (CUDA_DEVICE_ORDER is %s) and "
                     "this machine mixes %s and %s, whose order NVML cannot tell: set "
                     "CUDA_DEVICE_ORDER=PCI_BUS_ID or name GPUs by UUID or PCI bus id",
                     order != NULL ? order : "unset", gpus[0].name, gpus[i].name);
            return;
        }
}

/* The GPU whose UUID `token` names or is a unique prefix of; n when none. */
static size_t by_uuid(const esl__gpu_id *gpus, size_t n, const char *token, size_t len,
                      bool *ambiguous)
{
    size_t found = n;
    *ambiguous = false;
    for (size_t i = 0; i < n; i++)
        if (strlen(gpus[i].uuid) >= len && strncasecmp(gpus[i].uuid, token, len) == 0) {
            if (found != n)
                *ambiguous = true;
            found = i;
        }
    return found;
}

static size_t by_pci_id(const esl__gpu_id *gpus, size_t n, const char *token)
{
    unsigned long want[4], have[4];
    if (esl__pci_parse(token, want) != ESL_OK)
        return n;
    for (size_t i = 0; i < n; i++)
        if (esl__pci_parse(gpus[i].pci_bus_id, have) == ESL_OK && memcmp(want, have, sizeof want) == 0)
            return i;
    return n;
}

static bool all_digits(const char *s, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

static bool listed(const size_t *list, size_t n, size_t v)
{
    for (size_t i = 0; i < n; i++)
        if (list[i] == v)
            return true;
    return false;
}

/* The visible GPUs in CUDA's numbering. */
static int visible_list(const esl__gpu_id *gpus, size_t n, const char *visible, const size_t *order,
                        bool order_known, const char *why, size_t *out, size_t *n_out)
{
    *n_out = 0;
    if (visible == NULL) {
        memcpy(out, order, n * sizeof *out);
        *n_out = n;
        return ESL_OK;
    }
    const char *p = visible;
    while (*p != '\0') {
        while (*p == ' ')
            p++;
        size_t len = strcspn(p, ",");
        while (len > 0 && p[len - 1] == ' ')
            len--;
        size_t pick = n;
        if (len >= 4 && strncasecmp(p, "MIG-", 4) == 0)
            return esl__fail(ESL_EUNSUPPORTED, "CUDA_VISIBLE_DEVICES names the MIG instance "
                             "'%.*s': NVML's energy counter and power cover the whole GPU, not "
                             "one instance, so esl cannot meter it; measure with MIG disabled",
                             (int)len, p);
        if (all_digits(p, len)) {
            unsigned long k = strtoul(p, NULL, 10);
            if (k < n) {
                if (!order_known)
                    return esl__fail(ESL_EINVAL, "CUDA_VISIBLE_DEVICES='%s': %s", visible, why);
                pick = order[k];
            }
        } else if (len >= 4 && strncasecmp(p, "GPU-", 4) == 0) {
            bool ambiguous;
            pick = by_uuid(gpus, n, p, len, &ambiguous);
            if (ambiguous)
                pick = n;
        }
        /* As CUDA: the list ends at its first invalid or repeated entry. */
        if (pick == n || listed(out, *n_out, pick))
            break;
        out[(*n_out)++] = pick;
        p += strcspn(p, ",");
        if (*p == ',')
            p++;
    }
    return ESL_OK;
}

int esl__gpu_select(const esl__gpu_id *gpus, size_t n, const char *visible, const char *order,
                    const char *spec, size_t *out, size_t *n_out)
{
    *n_out = 0;
    size_t *base = calloc(n ? n : 1, sizeof *base), *vis = calloc(n ? n : 1, sizeof *vis);
    if (base == NULL || vis == NULL) {
        free(base);
        free(vis);
        return esl__fail(ESL_ENOMEM, "out of memory listing GPUs");
    }
    bool known;
    char why[512];
    cuda_order(gpus, n, order, base, &known, why, sizeof why);
    size_t n_vis = 0;
    int rc = visible_list(gpus, n, visible, base, known, why, vis, &n_vis);
    /* Without CUDA_VISIBLE_DEVICES the visible list is CUDA's own order. */
    bool vis_known = visible != NULL || known;
    if (rc == ESL_OK && spec != NULL && strcmp(spec, "all") == 0) {
        memcpy(out, base, n * sizeof *out);
        *n_out = n;
    } else if (rc == ESL_OK && (spec == NULL || spec[0] == '\0' || strcmp(spec, "visible") == 0)) {
        if (n_vis == 0)
            rc = esl__fail(ESL_ENODEV, "no GPU is visible: CUDA_VISIBLE_DEVICES='%s' names none "
                           "of the %zu GPUs NVML found", visible ? visible : "", n);
        memcpy(out, vis, n_vis * sizeof *out);
        *n_out = rc == ESL_OK ? n_vis : 0;
    } else if (rc == ESL_OK) {
        const char *p = spec;
        while (rc == ESL_OK && *p != '\0') {
            size_t len = strcspn(p, ",");
            char token[128];
            snprintf(token, sizeof token, "%.*s", (int)(len < sizeof token - 1 ? len : sizeof token - 1), p);
            size_t pick = n;
            if (all_digits(token, strlen(token))) {
                unsigned long k = strtoul(token, NULL, 10);
                if (!vis_known)
                    rc = esl__fail(ESL_EINVAL, "gpu %lu: %s", k, why);
                else if (k >= n_vis)
                    rc = esl__fail(ESL_EINVAL, "gpu %lu does not exist (%zu visible%s)", k, n_vis,
                                   visible != NULL ? " under CUDA_VISIBLE_DEVICES" : "");
                else
                    pick = vis[k];
            } else if (strncasecmp(token, "GPU-", 4) == 0) {
                bool ambiguous;
                pick = by_uuid(gpus, n, token, strlen(token), &ambiguous);
                if (ambiguous)
                    rc = esl__fail(ESL_EINVAL, "gpu '%s' is the start of more than one GPU's UUID",
                                   token);
                else if (pick == n)
                    rc = esl__fail(ESL_EINVAL, "gpu '%s': no GPU has this UUID", token);
            } else if (strncasecmp(token, "MIG-", 4) == 0) {
                rc = esl__fail(ESL_EUNSUPPORTED, "gpu '%s' is a MIG instance: NVML's energy "
                               "counter and power cover the whole GPU, so esl cannot meter one "
                               "instance; measure with MIG disabled", token);
            } else if (by_pci_id(gpus, n, token) < n) {
                pick = by_pci_id(gpus, n, token);
            } else {
                rc = esl__fail(ESL_EINVAL, "gpu '%s' is not 'all', 'visible', an index, a GPU "
                               "UUID or a PCI bus id (like 0,2 or GPU-8f2c... or 0000:3b:00.0)",
                               token);
            }
            if (rc == ESL_OK && listed(out, *n_out, pick))
                rc = esl__fail(ESL_EINVAL, "gpu '%s' is listed twice in '%s'", token, spec);
            if (rc == ESL_OK)
                out[(*n_out)++] = pick;
            p += len;
            if (*p == ',') {
                p++;
                if (*p == '\0' && rc == ESL_OK)
                    rc = esl__fail(ESL_EINVAL, "gpu list '%s' ends with a comma", spec);
            }
        }
        if (rc == ESL_OK && *n_out == 0)
            rc = esl__fail(ESL_EINVAL, "gpu list '%s' names no GPU", spec);
    }
    for (size_t i = 0; rc == ESL_OK && i < *n_out; i++)
        if (gpus[out[i]].mig)
            rc = esl__fail(ESL_EUNSUPPORTED, "gpu %u (%s, %s) is in MIG mode: NVML's energy "
                           "counter and power cover the whole GPU, not one instance; measure "
                           "with MIG disabled", gpus[out[i]].nvml_index, gpus[out[i]].name,
                           gpus[out[i]].pci_bus_id[0] ? gpus[out[i]].pci_bus_id : "no PCI id");
    if (rc != ESL_OK)
        *n_out = 0;
    free(base);
    free(vis);
    return rc;
}

bool esl__module_scope(const char *name)
{
    /* Grace Hopper and Grace Blackwell superchips: NVML's power and energy
     * cover the module (Grace CPU and memory too) on these parts. */
    return strstr(name, "GH200") != NULL || strstr(name, "GB200") != NULL ||
           strstr(name, "GB300") != NULL;
}
