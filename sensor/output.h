/*
 * output.h - where finished exchanges go after the sensor: the route table
 * (which names each event's route and keeps the API inventory) and the event
 * sink (JSON lines to a file or standard output).
 */
#ifndef TAPIR_OUTPUT_H
#define TAPIR_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "../decoders/event.h"
#include "../models/routes.h"
#include "audit.h"

struct output {
	struct routes *routes;     /* owned by the caller */
	struct audit *audit;       /* owned by the caller; NULL: no audit log */
	uint64_t audit_errors;
	FILE *events;              /* NULL: no event output */
	bool events_is_stdout;
	uint64_t too_long;         /* events that did not fit the line buffer (never expected) */
	uint64_t write_errors;
};

/* One finished exchange (a session_emit_fn: `ctx` is the struct output). */
void output_event(void *ctx, const struct api_event *ev);

/* Writes the output counters as members of a JSON object (leading comma included). */
void output_stats_json(const struct output *o, FILE *out);

#endif
