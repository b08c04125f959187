/*
 * baseline.c - the idle baseline before measured work: an optional wait
 * for the device to cool down, then the idle power measured over a window
 * of its own or given by the caller.
 */
#include <errno.h>
#include <math.h>
#include <time.h>

#include "core/internal.h"
#include "esl/meter.h"

int esl_meter_baseline(esl_meter *m, double cooldown_s, double idle_s, double idle_w)
{
    if (!isnan(idle_w))
        return esl_meter_set_idle(m, idle_w);
    if (!(idle_s > 0.0))
        return ESL_OK;
    if (cooldown_s > 0.0) {
        struct timespec ts = {(time_t)cooldown_s,
                              (long)((cooldown_s - (double)(time_t)cooldown_s) * 1e9)};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
    }
    return esl_meter_measure_idle(m, idle_s);
}
