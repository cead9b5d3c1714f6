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
	struct delivery *redis;    /* owned by the caller; NULL: no Redis */
	bool redis_events;         /* events go to Redis too (output.redis.events_stream) */
	uint64_t events_seen;
	uint64_t alerts_written;
	uint64_t audit_errors;
	uint64_t too_long;         /* records that did not fit the line buffer (never expected) */
	uint64_t write_errors;
	struct engine_health health_seen; /* cumulative figures at the last output_health */
	/* output_events_buffer's: event lines gathered here and written to the
	 * events file's descriptor a block at a time (NULL: one fwrite a line). */
	char *evbuf;
	size_t evbuf_len, evbuf_block;
	uint64_t evbuf_lines;
	bool evbuf_failed;         /* a block could not be written (sticky) */
};

/*
 * Writes the event lines to `events` (a file, not standard output) in blocks
 * of `block` bytes straight to its descriptor, as stdio would with a buffer
 * of that size, without copying each line into stdio's buffer: nothing else
 * may write to that stream. output_flush_events writes what is gathered.
 * Returns 0, or -1 out of memory (lines then go through stdio).
 */
int output_events_buffer(struct output *o, size_t block);

/* Writes the gathered event lines (if any); 0, or -1 when this or an earlier block
 * could not be written (its lines counted in write_errors). */
int output_flush_events(struct output *o);

/* Frees the buffer after a last output_flush_events. */
void output_events_buffer_free(struct output *o);

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
 * Called every 10 s of packet time; it also writes out the events gathered.
 */
void output_health(struct output *o, uint64_t now, const struct engine_health *total);

/* Writes the output counters as members of a JSON object (leading comma included). */
void output_stats_json(const struct output *o, FILE *out);

#endif
