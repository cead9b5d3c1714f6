/*
 * fuzz_event.h - what the session-level harnesses check of every api_event
 * they are handed: every string field is NUL-terminated inside its array, and
 * the event serialises as INTERFACE.md JSON within EVENT_JSON_MAX (the worst
 * case event_json.h promises); its hash lets a harness compare two runs.
 * Header-only, one copy per harness.
 */
#ifndef TAPIR_FUZZ_EVENT_H
#define TAPIR_FUZZ_EVENT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../sensor/event_json.h"
#include "fuzz_input.h"

#define FZ_TERMINATED(arr) FZ_CHECK(memchr((arr), 0, sizeof(arr)) != NULL)

/* Checks one event; returns a hash (FNV-1a) of its JSON, for comparing runs. */
static inline uint64_t fz_event_hash(const struct api_event *ev)
{
	FZ_TERMINATED(ev->method);
	FZ_TERMINATED(ev->host);
	FZ_TERMINATED(ev->path);
	FZ_TERMINATED(ev->user_agent);
	FZ_TERMINATED(ev->content_type);
	FZ_TERMINATED(ev->grpc_message);
	FZ_TERMINATED(ev->identity.id);
	char *buf = malloc(EVENT_JSON_MAX);
	FZ_CHECK(buf != NULL);
	size_t n = event_json(ev, NULL, buf, EVENT_JSON_MAX);
	FZ_CHECK(n > 0 && n < EVENT_JSON_MAX && buf[n - 1] == '\n');
	FZ_CHECK(memchr(buf, '\n', n) == buf + n - 1);
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)buf[i]) * 1099511628211ull;
	free(buf);
	return h;
}

/* A session_emit_fn that only checks. */
static inline void fz_check_event(void *ctx, const struct api_event *ev)
{
	(void)ctx;
	(void)fz_event_hash(ev);
}

/* What one run emitted: how many events, and a hash over their JSON in order. */
struct fz_outcome {
	uint64_t events;
	uint64_t hash;
};

/* A session_emit_fn that checks and records (ctx: struct fz_outcome). */
static inline void fz_collect(void *ctx, const struct api_event *ev)
{
	struct fz_outcome *o = ctx;
	o->events++;
	o->hash = o->hash * 1000003u ^ fz_event_hash(ev);
}

#endif
