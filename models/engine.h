/*
 * engine.h - the streaming anomaly engine: api_events in, alerts out.
 *
 * Event time only: the clock is each event's packet time (ts_us); nothing
 * reads the wall clock, so a replay gives byte-identical alerts every run.
 * Per-identity state has a fixed memory budget; tables are bounded and evict.
 * See ../shared issue "The streaming anomaly engine" for the detectors.
 */
#ifndef TAPIR_ENGINE_H
#define TAPIR_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../decoders/event.h"
#include "alert.h"
#include "routes.h"

/* A sensitive route rule: optional method ("" = any) and a path glob (* one segment, ** any). */
struct engine_sensitive {
	char method[32];
	const char *glob;
};

/*
 * Local time for business hours: minutes east of UTC at a given instant.
 * Supplied by the sensor (time zone rules are I/O); NULL means UTC.
 */
typedef int32_t (*engine_utc_offset_fn)(void *ctx, uint64_t ts_us);

struct engine_config {
	char sensor_name[64];
	uint64_t learning_period_us;      /* per identity: baseline first, deviation alerts after */
	uint8_t business_days;            /* bit d: tm_wday d is a business day (0 = Sunday) */
	uint16_t business_start_min;      /* minutes after local midnight */
	uint16_t business_end_min;
	engine_utc_offset_fn utc_offset;
	void *utc_offset_ctx;
	const struct engine_sensitive *sensitive;
	size_t n_sensitive;
	uint64_t key_max_age_us;          /* credentials older than this: token_misuse */
	uint64_t suppress_us;             /* repeats per (identity, detector, route) suppressed this long */
	uint32_t max_identities;          /* hot identity records; the least recently seen is demoted */
	uint64_t seed;                    /* fixed: deterministic sketches and trees */
};

void engine_config_default(struct engine_config *c);

/* Sensor health since the last call, for blind_spot. */
struct engine_health {
	uint64_t kernel_drops;
	uint64_t gap_bytes;
	uint64_t gaps;
	uint64_t cap_hits;                /* memory caps reached (reassembly, HTTP, flows evicted) */
};

typedef void (*engine_alert_fn)(void *ctx, const struct alert *a);

struct engine;

/* Returns NULL when out of memory. */
struct engine *engine_new(const struct engine_config *cfg);
void engine_free(struct engine *e);

/* One exchange with its route template and the inventory's verdict on it. */
void engine_event(struct engine *e, const struct api_event *ev, const char *route,
		  enum routes_verdict verdict, engine_alert_fn fn, void *ctx);

/* Sensor health at packet time `now` (called every few seconds of packet time). */
void engine_health(struct engine *e, uint64_t now, const struct engine_health *h,
		   engine_alert_fn fn, void *ctx);

/* End of input: close open windows at `now` (alerts they raise are emitted). */
void engine_finish(struct engine *e, uint64_t now, engine_alert_fn fn, void *ctx);

/* Saves everything learned (versioned binary, checksummed); returns 0 or -1. */
int engine_save(const struct engine *e, FILE *out);
/* Restores what engine_save wrote; returns 0, or -1 with a one-line message. */
int engine_load(struct engine *e, FILE *in, char *err, size_t errlen);

struct engine_stats {
	uint64_t events;
	uint64_t alerts;
	uint64_t suppressed;             /* repeats not emitted */
	uint64_t identities;             /* hot records now */
	uint64_t identities_evicted;     /* demoted to cold records at the cap */
	uint64_t memory;                 /* bytes held */
	uint64_t by_detector[24];        /* alerts per detector, in engine_detector_names order */
};

/* Detector names, NULL-terminated, in the order of engine_stats.by_detector. */
extern const char *const engine_detector_names[];

void engine_get_stats(const struct engine *e, struct engine_stats *st);

#endif
