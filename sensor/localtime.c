/*
 * localtime.c - UTC offsets through the C library's zoneinfo reader, so
 * daylight saving time changes are the system's, not ours.
 */
#include "localtime.h"

#include <stdlib.h>
#include <time.h>

void localtime_set_zone(const char *zone)
{
	setenv("TZ", zone && *zone ? zone : "UTC", 1);
	tzset();
}

int32_t localtime_offset(void *ctx, uint64_t ts_us)
{
	(void)ctx;
	time_t t = (time_t)(ts_us / 1000000);
	struct tm tm;
	if (!localtime_r(&t, &tm))
		return 0;
	return (int32_t)(tm.tm_gmtoff / 60);
}
