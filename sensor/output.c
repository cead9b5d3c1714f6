/*
 * output.c - route, JSON line, audit record, engine, alerts. Single-threaded:
 * the line buffers are static, sized for the worst case (event_json.h,
 * alert_json.h), and so is what event JSON reuses from one event to the next.
 */
#include "output.h"

#include "alert_json.h"
#include "audit_int.h"
#include "event_json.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * Without stdio's lock: only the thread that owns the output writes to these
 * streams (the merge thread with workers, then the main thread after joining it).
 */
static void write_line(struct output *o, FILE *f, const char *line, size_t n)
{
	if (fwrite_unlocked(line, 1, n, f) != n)
		o->write_errors++;
}

void output_alert(void *ctx, const struct alert *a)
{
	struct output *o = ctx;
	static char line[ALERT_JSON_MAX];
	int64_t record = o->audit ? (int64_t)audit_next_record(o->audit) : -1;
	size_t n = alert_json(a, o->sensor_name, record, line, sizeof line);
	if (n == 0) {
		o->too_long++;
		return;
	}
	o->alerts_written++;
	if (o->audit) {
		uint64_t got;
		/* The alert names its own record: append exactly that one now. */
		if (audit_append(o->audit, AUDIT_ALERT, a->ts_us,
				 a->id_kind == ID_NONE ? NULL : a->id_value, a->client_ip, a->path,
				 a->detector, line, n - 1, &got) != 0)
			o->audit_errors++;
	}
	if (o->redis)
		delivery_alert(o->redis, line, n - 1);
	if (o->alerts) {
		write_line(o, o->alerts, line, n);
		/* Alerts are few and someone may be tailing the file: never sit on one. */
		fflush(o->alerts);
	}
}

void output_delivery_alert(struct output *o, uint64_t ts_us, const char *summary)
{
	struct alert a;
	memset(&a, 0, sizeof a);
	a.ts_us = ts_us;
	snprintf(a.detector, sizeof a.detector, "delivery_backlog");
	a.severity = ALERT_HIGH;
	a.score = 0.9;
	a.id_kind = ID_NONE;
	snprintf(a.summary, sizeof a.summary, "%s", summary);
	snprintf(a.evidence, sizeof a.evidence, "{}");
	/* Unique without a replay's determinism (it comes from a wall-clock outage):
	 * packet time, process and how many alerts this process has written. */
	snprintf(a.id, sizeof a.id, "%016llx%08x%08x", (unsigned long long)ts_us,
		 (unsigned)getpid(), (unsigned)o->alerts_written);
	output_alert(o, &a);
}

int output_events_buffer(struct output *o, size_t block)
{
	/* Room for a whole block and the worst-case line after it. */
	o->evbuf = malloc(block + EVENT_JSON_MAX);
	if (!o->evbuf)
		return -1;
	o->evbuf_len = 0;
	o->evbuf_block = block;
	o->evbuf_lines = 0;
	o->evbuf_failed = false;
	return 0;
}

int output_flush_events(struct output *o)
{
	if (!o->evbuf || !o->evbuf_len)
		return o->evbuf_failed ? -1 : 0;
	if (audit_write_all(fileno(o->events), o->evbuf, o->evbuf_len) != 0) {
		/* Every line of the block is lost. (Through stdio only the lines
		 * written after its buffer first failed were counted: fewer.) */
		o->write_errors += o->evbuf_lines;
		o->evbuf_failed = true;
	}
	o->evbuf_len = 0;
	o->evbuf_lines = 0;
	return o->evbuf_failed ? -1 : 0;
}

void output_events_buffer_free(struct output *o)
{
	free(o->evbuf);
	o->evbuf = NULL;
	o->evbuf_len = 0;
}

void output_event(void *ctx, const struct api_event *ev)
{
	struct output *o = ctx;
	static char route[ROUTES_ROUTE_MAX];
	static char line_buf[EVENT_JSON_MAX];
	static struct event_json_memo memo;
	enum routes_verdict verdict = ROUTES_NO_SPEC;
	route[0] = '\0';
	o->events_seen++;
	if (o->routes)
		verdict = routes_observe(o->routes, ev, route, sizeof route);
	if (o->events || o->audit || o->redis_events) {
		/* With an events buffer the line is written in place, at its end. */
		bool in_place = o->evbuf && o->events;
		char *line = in_place ? o->evbuf + o->evbuf_len : line_buf;
		size_t n = event_json_memo(ev, o->routes ? route : NULL, line, EVENT_JSON_MAX, &memo);
		if (n == 0) {
			o->too_long++;
		} else {
			if (in_place) {
				o->evbuf_len += n;
				o->evbuf_lines++;
			} else if (o->events) {
				write_line(o, o->events, line, n);
			}
			if (o->redis_events)
				delivery_event(o->redis, line, n - 1);
			if (o->audit) {
				const uint8_t *ip = ev->has_origin ? ev->origin_ip : ev->client_ip;
				const char *who = ev->identity.kind == ID_NONE ? NULL : ev->identity.id;
				uint64_t record;
				/* The record is the JSON line without its newline. */
				if (audit_append(o->audit, AUDIT_EVENT, ev->ts_us, who, ip, ev->path,
						 NULL, line, n - 1, &record) != 0)
					o->audit_errors++;
			}
			if (in_place && o->evbuf_len >= o->evbuf_block)
				(void)output_flush_events(o);
		}
	}
	if (o->engine)
		engine_event(o->engine, ev, route, verdict, output_alert, o);
}

void output_health(struct output *o, uint64_t now, const struct engine_health *total)
{
	const struct engine_health *seen = &o->health_seen;
	struct engine_health delta = {
		.kernel_drops = total->kernel_drops - seen->kernel_drops,
		.gap_bytes = total->gap_bytes - seen->gap_bytes,
		.gaps = total->gaps - seen->gaps,
		.cap_hits = total->cap_hits - seen->cap_hits,
	};
	o->health_seen = *total;
	if (o->engine)
		engine_health(o->engine, now, &delta, output_alert, o);
	/* Live, a quiet sensor would otherwise hold its events until 1 MiB of
	 * them had gathered: whoever tails the file sees them every few seconds. */
	if (o->events) {
		(void)output_flush_events(o);
		fflush(o->events);
	}
}

void output_stats_json(const struct output *o, FILE *out)
{
	fprintf(out, ",\"output\":{\"alerts\":%llu,\"too_long\":%llu,\"write_errors\":%llu,"
		"\"audit_errors\":%llu}",
		(unsigned long long)o->alerts_written, (unsigned long long)o->too_long,
		(unsigned long long)o->write_errors, (unsigned long long)o->audit_errors);
}
