/*
 * meter.c - what every meter shares: opening the backend, windows, the
 * sampler thread, the idle baseline, and turning a window's samples into a
 * record (counter energy, trapezoid of the power trace, dynamic energy and
 * the flags that say when a number deserves doubt).
 *
 * Real-time backends (NVML, RAPL) are read once at each window edge and by a
 * sampler thread in between; trace backends (replay) append their rows for
 * the window in their own time. Both end in the same finish_record().
 *
 * Window edges sit on counter steps. An energy counter advances in steps
 * (about every 100 ms on NVIDIA GPUs), so "last reading minus first" over
 * a window that starts and ends between steps is off by up to a period's
 * energy at each end, and biased when power changes at the edges (a
 * workload that starts with the window). Where the backend can read its
 * counter alone, each edge polls it every millisecond until it steps and
 * takes the edge's reading there: energy and duration then both run from
 * step to step. The idle baseline polls the same way for its whole length
 * and keeps the median time between steps as the device's measured period.
 *
 * Tests meter a stand-in libnvidia-ml whose own virtual clock (stub_clock.h)
 * replaces CLOCK_MONOTONIC where it offers one: then the meter sleeps and
 * samples on that clock, from its callbacks instead of the thread.
 *
 * A reading that fails is tried once more; if it fails again the sample is
 * left out and the record flagged missed. Only a lost device (or NVML
 * uninitialised) ends a window.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/internal.h"
#include "meter/meter_internal.h"
#include "meter/stub_clock.h"

#define DEFAULT_HZ 10.0
#define MAX_HZ 1000.0
/* Edge alignment: poll the counter this often, for at most this many
 * update periods (and at least MIN_AWAIT_S), before giving up. */
#define POLL_S 0.001
/* ... after this many reads back to back (a counter that moves at every
 * read, like the test stub's, is seen at once, without a sleep). */
#define SPIN_READS 64
#define AWAIT_PERIODS 2.5
#define MIN_AWAIT_S 0.05
/* A window shorter than this many counter periods is flagged too-short. */
#define MIN_PERIODS 10.0
/* An idle baseline is unsettled when its halves' mean power differ by more
 * than this fraction and this many watts. */
#define UNSETTLED_FRACTION 0.05
#define UNSETTLED_W 2.0

const char *esl_meter_kind_name(esl_meter_kind kind)
{
    switch (kind) {
    case ESL_METER_NVML: return "nvml";
    case ESL_METER_RAPL: return "rapl";
    case ESL_METER_REPLAY: return "replay";
    case ESL_METER_IMPORTED: return "imported";
    }
    return "unknown";
}

int esl_meter_kind_parse(esl_meter_kind *out, const char *name)
{
    static const esl_meter_kind kinds[] = {ESL_METER_NVML, ESL_METER_RAPL, ESL_METER_REPLAY,
                                           ESL_METER_IMPORTED};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        if (strcmp(name, esl_meter_kind_name(kinds[i])) == 0) {
            *out = kinds[i];
            return ESL_OK;
        }
    }
    return esl__fail(ESL_EINVAL, "unknown meter '%s' (known: nvml, rapl, replay)", name);
}

char *esl_flags_string(char *buf, size_t size, unsigned flags)
{
    static const char *const names[] = {"integrated", "no-change", "too-short", "device-lost",
                                        "few-samples", "no-idle", "idle-stored", "unaligned",
                                        "module-scope", "idle-busy", "idle-unsettled", "missed"};
    size_t used = 0;
    if (size == 0)
        return buf;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (!(flags & (1u << i)))
            continue;
        int n = snprintf(buf + used, size - used, "%s%s", used ? "," : "", names[i]);
        if (n < 0 || (size_t)n >= size - used)
            break;
        used += (size_t)n;
    }
    return buf;
}

double esl__now_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double esl__now_unix(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The meter's clock: CLOCK_MONOTONIC, or a test stub's virtual clock. */
static double meter_now(const esl_meter *m)
{
    return m->clock != NULL ? m->clock->now() : esl__now_mono();
}

double esl_meter_clock_s(const esl_meter *m)
{
    return m != NULL ? meter_now(m) : NAN;
}

esl_sample esl__sample_unknown(void)
{
    return (esl_sample){0.0, 0, NAN, NAN, NAN, NAN, NAN, NAN};
}

int esl__meter_push(esl_meter *m, const esl_sample *s)
{
    if (m->n_samples == m->cap_samples) {
        size_t cap = m->cap_samples ? 2 * m->cap_samples : 256;
        esl_sample *grown = realloc(m->samples, cap * sizeof *grown);
        if (grown == NULL)
            return esl__fail(ESL_ENOMEM, "out of memory recording %zu samples", cap);
        m->samples = grown;
        m->cap_samples = cap;
    }
    m->samples[m->n_samples++] = *s;
    return ESL_OK;
}

int esl_meter_open(esl_meter **out, const esl_meter_opts *opts)
{
    *out = NULL;
    double hz = opts->hz == 0.0 ? DEFAULT_HZ : opts->hz;
    if (!isfinite(hz) || hz <= 0.0 || hz > MAX_HZ)
        return esl__fail(ESL_EINVAL, "sampling rate '%g' Hz is not in (0, %g]", hz, MAX_HZ);
    esl_meter *m = calloc(1, sizeof *m);
    if (m == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory opening a meter");
    m->kind = opts->kind;
    m->period_s = 1.0 / hz;
    m->align = !opts->no_align;
    m->idle_lenient = opts->idle_lenient != 0;
    pthread_mutex_init(&m->lock, NULL);
    /* The sampler waits on CLOCK_MONOTONIC so that a changed wall clock
     * cannot stretch a sampling period. */
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&m->wake, &attr);
    pthread_condattr_destroy(&attr);

    int rc = ESL_EINVAL;
    switch (opts->kind) {
    case ESL_METER_NVML: rc = esl__nvml_open(m, opts); break;
    case ESL_METER_RAPL: rc = esl__rapl_open(m, opts); break;
    case ESL_METER_REPLAY: rc = esl__replay_open(m, opts); break;
    case ESL_METER_IMPORTED:
        rc = esl__fail(ESL_EINVAL, "meter 'imported' marks runs read from another tool's file; "
                                   "it cannot measure (nvml, rapl or replay)");
        break;
    default: rc = esl__fail(ESL_EINVAL, "unknown meter kind %d", (int)opts->kind); break;
    }
    if (rc == ESL_OK && ((m->idle_w = calloc(m->n_devices ? m->n_devices : 1, sizeof(double))) == NULL ||
                         (m->edge_flags = calloc(m->n_devices ? m->n_devices : 1,
                                                 sizeof(unsigned))) == NULL))
        rc = esl__fail(ESL_ENOMEM, "out of memory opening a meter");
    if (rc != ESL_OK) {
        esl_meter_close(m);
        return rc;
    }
    *out = m;
    return ESL_OK;
}

static void stop_sampler(esl_meter *m)
{
    if (m->ticking) {
        m->clock->every(0.0, NULL, NULL);
        m->ticking = false;
    }
    if (!m->thread_running)
        return;
    pthread_mutex_lock(&m->lock);
    m->stop = true;
    pthread_cond_signal(&m->wake);
    pthread_mutex_unlock(&m->lock);
    pthread_join(m->thread, NULL);
    m->thread_running = false;
}

void esl_meter_close(esl_meter *m)
{
    if (m == NULL)
        return;
    stop_sampler(m);
    if (m->ops != NULL && m->ops->close != NULL)
        m->ops->close(m);
    pthread_mutex_destroy(&m->lock);
    pthread_cond_destroy(&m->wake);
    free(m->samples);
    free(m->devices);
    free(m->idle_w);
    free(m->edge_flags);
    free(m);
}

size_t esl_meter_device_count(const esl_meter *m)
{
    return m->n_devices;
}

const esl_device_info *esl_meter_device(const esl_meter *m, size_t i)
{
    return i < m->n_devices ? &m->devices[i] : NULL;
}

int esl_meter_find_pci(const esl_meter *m, const char *pci_bus_id)
{
    unsigned long want[4], have[4];
    if (esl__pci_parse(pci_bus_id, want) != ESL_OK)
        return -1;
    for (size_t i = 0; i < m->n_devices; i++)
        if (esl__pci_parse(m->devices[i].pci_bus_id, have) == ESL_OK &&
            memcmp(want, have, sizeof want) == 0)
            return (int)i;
    return -1;
}

int esl_meter_set_idle(esl_meter *m, double idle_w)
{
    if (!isfinite(idle_w) || idle_w < 0.0)
        return esl__fail(ESL_EINVAL, "idle power '%g' W is not a non-negative number", idle_w);
    m->idle_flags = 0;
    for (size_t i = 0; i < m->n_devices; i++)
        m->idle_w[i] = idle_w;
    m->have_idle = true;
    m->idle_stored = true;
    return ESL_OK;
}

/* Read device d now and append the sample. Each sample is stamped with the
 * middle of its own read, so that the window's duration and the counter's
 * change cover the same interval. A failed read is tried once more; when
 * that fails too the sample is left out (ESL_FLAG_MISSED) unless the device
 * is lost, which fails. Called from the sampler thread (m->lock held) and
 * at the window's edges. */
static int read_one(esl_meter *m, size_t d)
{
    int rc = ESL_OK;
    for (int attempt = 0; attempt < 2; attempt++) {
        esl_sample s = esl__sample_unknown();
        bool lost = false;
        double before = meter_now(m);
        rc = m->ops->read(m, d, &s, &lost);
        double after = meter_now(m);
        if (rc == ESL_OK) {
            s.time_s = 0.5 * (before + after) - m->t0_mono;
            s.device = (int)d;
            return esl__meter_push(m, &s);
        }
        if (lost) {
            m->lost = true;
            return rc;
        }
    }
    m->edge_flags[d] |= ESL_FLAG_MISSED;
    return ESL_OK;
}

static int read_all(esl_meter *m)
{
    for (size_t i = 0; i < m->n_devices; i++) {
        int rc = read_one(m, i);
        if (rc != ESL_OK)
            return rc;
    }
    return ESL_OK;
}

static void sleep_for(const esl_meter *m, double s)
{
    if (m->clock != NULL) {
        m->clock->sleep(s);
        return;
    }
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Device d's counter, tried twice. */
static int read_counter(esl_meter *m, size_t d, double *joules)
{
    int rc = ESL_OK;
    for (int attempt = 0; attempt < 2; attempt++) {
        bool lost = false;
        if ((rc = m->ops->read_energy(m, d, joules, &lost)) == ESL_OK)
            return ESL_OK;
        if (lost) {
            m->lost = true;
            return rc;
        }
    }
    return rc;
}

/* Whether device d's edges can sit on counter steps. */
static bool alignable(const esl_meter *m, size_t d)
{
    return m->align && m->ops->read_energy != NULL &&
           (m->devices[d].caps & ESL_CAP_ENERGY_COUNTER);
}

/* Poll device d's counter until it steps, for at most 2.5 update periods;
 * *at is when it stepped: the middle between the last reading before the
 * step and the first after it. */
static int await_step(esl_meter *m, size_t d, bool *stepped, double *at, double *joules)
{
    double j0, j, waited = 0.0, before = meter_now(m);
    double period = m->devices[d].update_interval_s;
    double limit = AWAIT_PERIODS * (isfinite(period) && period > 0 ? period : 0.1);
    if (limit < MIN_AWAIT_S)
        limit = MIN_AWAIT_S;
    *stepped = false;
    int rc = read_counter(m, d, &j0);
    double start = meter_now(m);
    for (int reads = 0; rc == ESL_OK && waited < limit; reads++) {
        if (reads >= SPIN_READS)
            sleep_for(m, POLL_S);
        double t_read = meter_now(m);
        if ((rc = read_counter(m, d, &j)) == ESL_OK && j != j0) {
            *stepped = true;
            *at = 0.5 * (before + meter_now(m));
            *joules = j;
            break;
        }
        before = t_read;
        waited = meter_now(m) - start;
    }
    /* a counter that keeps failing costs the alignment, not the window */
    return m->lost ? rc : ESL_OK;
}

/* Take device d's edge reading: right after its counter steps where it can
 * (flagged unaligned when it does not step in time), else now. At the
 * closing edge of a device whose period is not yet known, wait for one
 * more step and keep the time between the two as its period. */
static int read_edge(esl_meter *m, size_t d, bool closing)
{
    /* RAPL's counters step every millisecond or so: read at once */
    if (!alignable(m, d))
        return read_one(m, d);
    bool stepped;
    double first = 0.0, second = 0.0, joules = NAN, ignored;
    int rc = await_step(m, d, &stepped, &first, &joules);
    if (rc != ESL_OK)
        return rc;
    if (!stepped)
        m->edge_flags[d] |= ESL_FLAG_UNALIGNED;
    size_t pushed = m->n_samples;
    if ((rc = read_one(m, d)) != ESL_OK)
        return rc;
    /* the edge is the step, not the moment it was seen, with the counter
     * as the step left it */
    if (stepped && m->n_samples > pushed) {
        m->samples[pushed].time_s = first - m->t0_mono;
        m->samples[pushed].energy_j = joules;
    }
    if (closing && stepped && isnan(m->devices[d].counter_period_s)) {
        if ((rc = await_step(m, d, &stepped, &second, &ignored)) != ESL_OK)
            return rc;
        if (stepped) {
            m->devices[d].counter_period_s = second - first;
            m->devices[d].update_interval_s = second - first;
        }
    }
    return ESL_OK;
}

static int read_edges(esl_meter *m, bool closing)
{
    for (size_t i = 0; i < m->n_devices; i++) {
        int rc = read_edge(m, i, closing);
        if (rc != ESL_OK)
            return rc;
    }
    return ESL_OK;
}

static void *sampler_main(void *arg)
{
    esl_meter *m = arg;
    pthread_mutex_lock(&m->lock);
    double next = esl__now_mono() + m->period_s;
    while (!m->stop) {
        if (esl__now_mono() < next) {
            /* an absolute deadline on CLOCK_MONOTONIC (see esl_meter_open) */
            struct timespec deadline = {(time_t)next, (long)((next - (double)(time_t)next) * 1e9)};
            int w = pthread_cond_timedwait(&m->wake, &m->lock, &deadline);
            if (m->stop)
                break;
            if (w != ETIMEDOUT && esl__now_mono() < next)
                continue;
        }
        next += m->period_s;
        double now = esl__now_mono();
        if (next < now) /* fell behind (a stopped process): skip, never burst */
            next = now + m->period_s;
        int rc = read_all(m);
        if (rc != ESL_OK) {
            if (!m->lost) {
                m->thread_status = rc;
                snprintf(m->thread_error, sizeof m->thread_error, "%s", esl_error_last());
            }
            break;
        }
    }
    pthread_mutex_unlock(&m->lock);
    return NULL;
}

/* One sampling period on a virtual clock: what the sampler thread does at
 * each of its deadlines, called by the clock as it passes them. */
static void sample_tick(void *arg)
{
    esl_meter *m = arg;
    pthread_mutex_lock(&m->lock);
    int rc = read_all(m);
    if (rc != ESL_OK) {
        if (!m->lost) {
            m->thread_status = rc;
            snprintf(m->thread_error, sizeof m->thread_error, "%s", esl_error_last());
        }
        m->clock->every(0.0, NULL, NULL);
        m->ticking = false;
    }
    pthread_mutex_unlock(&m->lock);
}

int esl_window_begin(esl_meter *m)
{
    if (m->in_window)
        return esl__fail(ESL_EINVAL, "a measuring window is already open");
    m->n_samples = 0;
    m->lost = false;
    memset(m->edge_flags, 0, m->n_devices * sizeof *m->edge_flags);
    m->stop = false;
    m->thread_status = ESL_OK;
    m->thread_error[0] = '\0';
    m->start_unix_s = esl__now_unix();
    if (m->ops->play != NULL) {
        m->t0_trace = m->clock_trace;
        m->in_window = true;
        return ESL_OK;
    }
    m->t0_mono = meter_now(m);
    pthread_mutex_lock(&m->lock);
    int rc = read_edges(m, false);
    pthread_mutex_unlock(&m->lock);
    if (rc != ESL_OK)
        return rc;
    if (m->clock != NULL) {
        m->clock->every(m->period_s, sample_tick, m);
        m->ticking = true;
    } else {
        if (pthread_create(&m->thread, NULL, sampler_main, m) != 0)
            return esl__fail(ESL_EDEVICE, "cannot start the sampler thread");
        m->thread_running = true;
    }
    m->in_window = true;
    return ESL_OK;
}

/* Trapezoid of device d's power over the samples (paper-independent: plain
 * numerical integration). Uses instantaneous power where every sample has
 * it, the averaged reading otherwise. Sets *n_power and *peak. */
static double integrate(const esl_sample *s, size_t n, int d, size_t *n_power, double *peak)
{
    bool instant = true;
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i].device == d && !isnan(s[i].power_w)) {
            count++;
            if (isnan(s[i].power_instant_w))
                instant = false;
        }
    *n_power = count;
    *peak = NAN;
    if (count == 0)
        return NAN;
    double sum = 0.0, prev_t = 0.0, prev_p = 0.0;
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        if (s[i].device != d || isnan(s[i].power_w))
            continue;
        double p = instant ? s[i].power_instant_w : s[i].power_w;
        if (isnan(*peak) || p > *peak)
            *peak = p;
        if (!first)
            sum += 0.5 * (p + prev_p) * (s[i].time_s - prev_t);
        prev_t = s[i].time_s;
        prev_p = p;
        first = false;
    }
    return count >= 2 ? sum : NAN;
}

void esl_record_sum(esl_record *rec)
{
    rec->energy_j = rec->idle_w = rec->dynamic_j = rec->avg_power_w = 0.0;
    rec->peak_power_w = NAN;
    rec->flags = 0;
    for (size_t i = 0; i < rec->n_devices; i++) {
        esl_device_record *d = &rec->devices[i];
        double span = d->duration_s > 0 ? d->duration_s : rec->duration_s;
        d->dynamic_j = d->energy_j - d->idle_w * span;
        d->avg_power_w = span > 0 ? d->energy_j / span : 0.0;
        rec->energy_j += d->energy_j;
        rec->idle_w += d->idle_w;
        rec->dynamic_j += d->dynamic_j;
        rec->avg_power_w += d->avg_power_w;
        if (!isnan(d->peak_power_w) && (isnan(rec->peak_power_w) || d->peak_power_w > rec->peak_power_w))
            rec->peak_power_w = d->peak_power_w;
        rec->flags |= d->flags;
    }
}

static int finish_record(esl_meter *m, double duration_s, esl_record **out)
{
    esl_record *rec = calloc(1, sizeof *rec);
    if (rec == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory building a record");
    rec->devices = calloc(m->n_devices ? m->n_devices : 1, sizeof *rec->devices);
    if (rec->devices == NULL) {
        free(rec);
        return esl__fail(ESL_ENOMEM, "out of memory building a record");
    }
    rec->meter = m->kind;
    memcpy(rec->driver_version, m->driver_version, sizeof rec->driver_version);
    memcpy(rec->nvml_version, m->nvml_version, sizeof rec->nvml_version);
    rec->start_unix_s = m->start_unix_s;
    rec->duration_s = duration_s;
    rec->n_devices = m->n_devices;

    /* Counters become relative to the window's first reading. */
    for (size_t d = 0; d < m->n_devices; d++) {
        double base = NAN, last = NAN;
        for (size_t i = 0; i < m->n_samples; i++) {
            esl_sample *s = &m->samples[i];
            if (s->device != (int)d || isnan(s->energy_j))
                continue;
            if (isnan(base))
                base = s->energy_j;
            s->energy_j -= base;
            last = s->energy_j;
        }
        esl_device_record *r = &rec->devices[d];
        r->info = m->devices[d];
        /* each device's edges sit on its own counter's steps */
        double t_first = NAN, t_last = NAN;
        for (size_t i = 0; i < m->n_samples; i++)
            if (m->samples[i].device == (int)d) {
                if (isnan(t_first))
                    t_first = m->samples[i].time_s;
                t_last = m->samples[i].time_s;
            }
        r->duration_s = m->ops->play == NULL && !isnan(t_first) ? t_last - t_first : 0.0;
        size_t n_power = 0;
        r->integrated_j = integrate(m->samples, m->n_samples, (int)d, &n_power, &r->peak_power_w);
        r->counter_j = (r->info.caps & ESL_CAP_ENERGY_COUNTER) ? last : NAN;
        if (!isnan(r->counter_j)) {
            r->energy_j = r->counter_j;
            if (r->counter_j <= 0.0)
                r->flags |= ESL_FLAG_NO_CHANGE;
        } else {
            r->flags |= ESL_FLAG_INTEGRATED;
            r->energy_j = isnan(r->integrated_j) ? 0.0 : r->integrated_j;
            if (!(r->energy_j > 0.0))
                r->flags |= ESL_FLAG_NO_CHANGE;
        }
        if (n_power < 2)
            r->flags |= ESL_FLAG_FEW_SAMPLES;
        /* a trace's rows are not a counter's steps: one interval suffices */
        if (duration_s < (m->ops->play != NULL ? 1.0 : MIN_PERIODS) * r->info.update_interval_s)
            r->flags |= ESL_FLAG_TOO_SHORT;
        r->flags |= m->edge_flags[d] | m->idle_flags;
        if (r->info.caps & ESL_CAP_MODULE_SCOPE)
            r->flags |= ESL_FLAG_MODULE;
        if (m->lost)
            r->flags |= ESL_FLAG_DEVICE_LOST;
        r->idle_w = m->have_idle ? m->idle_w[d] : 0.0;
        if (!m->have_idle)
            r->flags |= ESL_FLAG_NO_IDLE;
        if (m->idle_stored)
            r->flags |= ESL_FLAG_IDLE_STORED;
    }
    esl_record_sum(rec);

    rec->samples = malloc((m->n_samples ? m->n_samples : 1) * sizeof *rec->samples);
    if (rec->samples == NULL) {
        esl_record_free(rec);
        return esl__fail(ESL_ENOMEM, "out of memory copying %zu samples", m->n_samples);
    }
    memcpy(rec->samples, m->samples, m->n_samples * sizeof *rec->samples);
    rec->n_samples = m->n_samples;
    *out = rec;
    return ESL_OK;
}

/* End the open window; trace backends stop at `trace_until` (trace time). */
static int window_close(esl_meter *m, double trace_until, esl_record **out)
{
    *out = NULL;
    if (!m->in_window)
        return esl__fail(ESL_EINVAL, "no measuring window is open");
    m->in_window = false;
    double duration;
    int rc = ESL_OK;
    if (m->ops->play != NULL) {
        double t1 = trace_until < m->t0_trace ? m->t0_trace : trace_until;
        double end = m->ops->end_time(m);
        if (t1 > end) /* an idle window longer than the trace stops at its end */
            t1 = end < m->t0_trace ? m->t0_trace : end;
        if ((rc = m->ops->play(m, m->t0_trace, t1)) != ESL_OK)
            return rc;
        m->clock_trace = t1;
        duration = t1 - m->t0_trace;
    } else {
        stop_sampler(m);
        if (m->thread_status != ESL_OK)
            return esl__fail(m->thread_status, "%s", m->thread_error);
        if (!m->lost) {
            rc = read_edges(m, true);
            if (rc != ESL_OK && !m->lost)
                return rc;
        }
        /* From the first reading to the last: a lost device ends the
         * window at its last good reading. */
        double first = INFINITY, last = -INFINITY;
        for (size_t i = 0; i < m->n_samples; i++) {
            if (m->samples[i].time_s < first)
                first = m->samples[i].time_s;
            if (m->samples[i].time_s > last)
                last = m->samples[i].time_s;
        }
        duration = m->n_samples > 0 ? last - first : 0.0;
        for (size_t i = 0; i < m->n_samples; i++)
            m->samples[i].time_s -= first;
    }
    if ((rc = finish_record(m, duration, out)) != ESL_OK)
        return rc;
    /* Readings each in range can still add up past a double (a trace of
     * 1e308 W): such a window has no energy to report or store. */
    const esl_record *rec = *out;
    if (!isfinite(rec->energy_j) || !isfinite(rec->dynamic_j) || !isfinite(rec->duration_s)) {
        esl_record_free(*out);
        *out = NULL;
        return esl__fail(ESL_EDEVICE, "the energy of the window is not a finite number: a power "
                         "or energy reading is out of range");
    }
    return ESL_OK;
}

int esl_window_end(esl_meter *m, esl_record **out)
{
    double until = m->ops->end_time != NULL ? m->ops->end_time(m) : 0.0;
    return window_close(m, until, out);
}

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Poll every device's counter for window_s seconds and set the measured
 * update period of each that stepped at least three times: the median time
 * between steps. Counter failures here only cost the measurement. */
static int poll_periods(esl_meter *m, double window_s)
{
    size_t n = m->n_devices, cap = (size_t)(window_s / POLL_S) + 8;
    double *last_j = malloc((n ? n : 1) * sizeof *last_j);
    double *last_t = malloc((n ? n : 1) * sizeof *last_t);
    double *gaps = malloc((n ? n : 1) * cap * sizeof *gaps);
    size_t *n_gaps = calloc(n ? n : 1, sizeof *n_gaps);
    if (last_j == NULL || last_t == NULL || gaps == NULL || n_gaps == NULL) {
        free(last_j);
        free(last_t);
        free(gaps);
        free(n_gaps);
        return esl__fail(ESL_ENOMEM, "out of memory measuring counter periods");
    }
    for (size_t d = 0; d < n; d++)
        last_j[d] = last_t[d] = NAN;
    double end = meter_now(m) + window_s;
    while (meter_now(m) < end) {
        for (size_t d = 0; d < n; d++) {
            if (!alignable(m, d))
                continue;
            double j;
            bool lost = false;
            pthread_mutex_lock(&m->lock);
            int rc = m->ops->read_energy(m, d, &j, &lost);
            pthread_mutex_unlock(&m->lock);
            double t = meter_now(m);
            if (rc != ESL_OK)
                continue;
            if (!isnan(last_j[d]) && j != last_j[d]) {
                /* the first step only starts the clock */
                if (!isnan(last_t[d]) && n_gaps[d] < cap)
                    gaps[d * cap + n_gaps[d]++] = t - last_t[d];
                last_t[d] = t;
            }
            last_j[d] = j;
        }
        sleep_for(m, POLL_S);
    }
    for (size_t d = 0; d < n; d++) {
        if (n_gaps[d] < 2)
            continue;
        double *g = gaps + d * cap;
        qsort(g, n_gaps[d], sizeof *g, compare_double);
        double median = n_gaps[d] % 2 ? g[n_gaps[d] / 2]
                                      : 0.5 * (g[n_gaps[d] / 2 - 1] + g[n_gaps[d] / 2]);
        m->devices[d].counter_period_s = median;
        m->devices[d].update_interval_s = median;
    }
    free(last_j);
    free(last_t);
    free(gaps);
    free(n_gaps);
    return ESL_OK;
}

/* Why an idle window on device d was not idle: utilisation above 0, or
 * other processes on it. Writes "" when it was. */
static void busy_reason(esl_meter *m, const esl_record *rec, size_t d, char *why, size_t len)
{
    double util = 0.0;
    for (size_t i = 0; i < rec->n_samples; i++)
        if (rec->samples[i].device == (int)d && rec->samples[i].utilization_pct > util)
            util = rec->samples[i].utilization_pct;
    int others = -1;
    if (m->ops->others != NULL)
        m->ops->others(m, d, &others);
    why[0] = '\0';
    if (util > 0.0 && others > 0)
        snprintf(why, len, "utilisation reached %g %% and %d other process%s hold%s it", util,
                 others, others == 1 ? "" : "es", others == 1 ? "s" : "");
    else if (util > 0.0)
        snprintf(why, len, "utilisation reached %g %%", util);
    else if (others > 0)
        snprintf(why, len, "%d other process%s hold%s it", others, others == 1 ? "" : "es",
                 others == 1 ? "s" : "");
}

/* Whether device d's power still moved: the mean of the second half of the
 * window against the first. */
static bool unsettled(const esl_record *rec, size_t d)
{
    double half = 0.5 * rec->duration_s, sum[2] = {0, 0};
    size_t count[2] = {0, 0};
    for (size_t i = 0; i < rec->n_samples; i++) {
        const esl_sample *s = &rec->samples[i];
        if (s->device != (int)d || isnan(s->power_w))
            continue;
        int k = s->time_s >= half;
        sum[k] += s->power_w;
        count[k]++;
    }
    if (count[0] < 2 || count[1] < 2)
        return false;
    double a = sum[0] / (double)count[0], b = sum[1] / (double)count[1];
    return fabs(b - a) > UNSETTLED_W && fabs(b - a) > UNSETTLED_FRACTION * a;
}

int esl_meter_measure_idle(esl_meter *m, double window_s)
{
    if (!isfinite(window_s) || window_s <= 0.0)
        return esl__fail(ESL_EINVAL, "idle window '%g' s is not a positive duration", window_s);
    m->idle_flags = 0;
    int rc = esl_window_begin(m);
    if (rc != ESL_OK)
        return esl__fail_prefix(rc, "idle window: ");
    if (m->ops->play != NULL) {
        m->clock_trace += window_s;
    } else if (m->ops->read_energy != NULL && m->align) {
        if ((rc = poll_periods(m, window_s)) != ESL_OK) {
            esl_record *drop = NULL;
            window_close(m, m->clock_trace, &drop);
            esl_record_free(drop);
            return rc;
        }
    } else {
        sleep_for(m, window_s);
    }
    esl_record *rec = NULL;
    rc = window_close(m, m->clock_trace, &rec);
    if (rc != ESL_OK)
        return esl__fail_prefix(rc, "idle window: ");
    unsigned idle_flags = 0;
    for (size_t d = 0; d < rec->n_devices; d++) {
        const esl_device_record *r = &rec->devices[d];
        char why[160];
        if (r->flags & ESL_FLAGS_DOUBTFUL) {
            char flags[128];
            esl_flags_string(flags, sizeof flags,
                             r->flags & (ESL_FLAG_NO_CHANGE | ESL_FLAG_TOO_SHORT |
                                         ESL_FLAG_DEVICE_LOST));
            int code = ESL_EDEVICE;
            esl_record_free(rec);
            return esl__fail(code, "idle window of %g s on %s is unusable (%s): use a longer --idle "
                             "or a stored --idle-w", window_s, m->devices[d].name, flags);
        }
        /* a replayed trace is what it is: only a live device is checked */
        why[0] = '\0';
        if (m->ops->play == NULL)
            busy_reason(m, rec, d, why, sizeof why);
        if (why[0] != '\0') {
            if (!m->idle_lenient) {
                esl_record_free(rec);
                return esl__fail(ESL_EDEVICE, "idle window on %s is not idle: %s; stop the other "
                                 "work, or give a stored --idle-w", m->devices[d].name, why);
            }
            idle_flags |= ESL_FLAG_IDLE_BUSY;
        }
        if (m->ops->play == NULL && unsettled(rec, d))
            idle_flags |= ESL_FLAG_IDLE_UNSETTLED;
        m->idle_w[d] = r->avg_power_w;
    }
    esl_record_free(rec);
    m->have_idle = true;
    m->idle_stored = false;
    m->idle_flags = idle_flags;
    return ESL_OK;
}

void esl_record_free(esl_record *rec)
{
    if (rec == NULL)
        return;
    free(rec->devices);
    free(rec->samples);
    free(rec);
}
