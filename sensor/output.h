/*
 * output.h - where finished exchanges go after the sensor: the route table
 * (which names each event's route and keeps the API inventory), the event
 * sink (JSON lines), the audit log, the anomaly engine and the alert sink.
 */
#ifndef TAPIR_OUTPUT_H
#define TAPIR_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "../decoders/event.h"
#include "../models/engine.h"
#include "../models/routes.h"
#include "audit.h"
#include "delivery.h"

struct output {
	struct routes *routes;     /* owned by the caller */
	struct audit *audit;       /* owned by the caller; NULL: no audit log */
	struct engine *engine;     /* owned by the caller; NULL: no detection */
	const char *sensor_name;
	FILE *events;              /* NULL: no event output */
	bool events_is_stdout;
	FILE *alerts;              /* NULL: alerts are counted (and audited) only */
	bool alerts_is_stdout;
	struct delivery *redis;    /* owned by the caller; NULL: no Redis */
	bool redis_events;         /* events go to Redis too (output.redis.events_stream) */
	uint64_t events_seen;
	uint64_t alerts_written;
	uint64_t audit_errors;
	uint64_t too_long;         /* records that did not fit the line buffer (never expected) */
	uint64_t write_errors;
	struct engine_health health_seen; /* cumulative figures at the last output_health */
};

/* One finished exchange (a session_emit_fn: `ctx` is the struct output). */
void output_event(void *ctx, const struct api_event *ev);

/* One alert from the engine (an engine_alert_fn: `ctx` is the struct output). */
void output_alert(void *ctx, const struct alert *a);

/*
 * A sensor-level alert that delivery to Redis is in danger (the spool is
 * near its cap): detector "delivery_backlog", at packet time `ts_us`.
 */
void output_delivery_alert(struct output *o, uint64_t ts_us, const char *summary);

/*
 * What the sensor may have missed so far (cumulative `total`): the engine is
 * told the change since the last call, at packet time `now` (blind_spot).
 */
void output_health(struct output *o, uint64_t now, const struct engine_health *total);

/* Writes the output counters as members of a JSON object (leading comma included). */
void output_stats_json(const struct output *o, FILE *out);

#endif
