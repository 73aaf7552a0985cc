/* time.h - the stack's notion of time: a plain count of nanoseconds on a
 * monotonic (possibly virtual) clock, and the "never" sentinel.
 *
 * Every deadline in tcpwave (timers, RTT samples, pacing) is a tw_time_t so
 * that the simulator can drive the stack with a virtual clock and tests are
 * exactly reproducible. Nanoseconds in 64 bits last ~584 years. */
#ifndef TW_UTIL_TIME_H
#define TW_UTIL_TIME_H

#include <stdint.h>

typedef uint64_t tw_time_t;

/* A deadline that never comes; also "no timer armed". */
#define TW_TIME_NEVER UINT64_MAX

/* Durations in nanoseconds from microseconds, milliseconds and seconds. */
#define TW_US(x) ((tw_time_t)(x) * (tw_time_t)1000u)
#define TW_MS(x) ((tw_time_t)(x) * (tw_time_t)1000000u)
#define TW_SEC(x) ((tw_time_t)(x) * (tw_time_t)1000000000u)

#endif
