/*
 * localtime.h - local time of day for business hours, in one configured
 * time zone (policy.business_hours.timezone), from the system's zoneinfo.
 */
#ifndef TAPIR_LOCALTIME_H
#define TAPIR_LOCALTIME_H

#include <stdint.h>

/*
 * Makes `zone` ("UTC" or an IANA name) the process's time zone. Process-wide
 * (TZ): called once by main before any thread starts, and on reload.
 */
void localtime_set_zone(const char *zone);

/* Minutes east of UTC at packet time `ts_us` (an engine_utc_offset_fn; ctx unused). */
int32_t localtime_offset(void *ctx, uint64_t ts_us);

#endif
