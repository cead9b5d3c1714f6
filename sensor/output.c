/*
 * output.c - route, then JSON line. One event's JSON is built in a static
 * buffer sized for the worst case (event_json.h), then written with one fwrite.
 */
#include "output.h"

#include "event_json.h"

void output_event(void *ctx, const struct api_event *ev)
{
	struct output *o = ctx;
	static char route[ROUTES_ROUTE_MAX];
	static char line[EVENT_JSON_MAX];
	route[0] = '\0';
	if (o->routes)
		routes_observe(o->routes, ev, route, sizeof route);
	if (!o->events && !o->audit)
		return;
	size_t n = event_json(ev, o->routes ? route : NULL, line, sizeof line);
	if (n == 0) {
		o->too_long++;
		return;
	}
	if (o->events && fwrite(line, 1, n, o->events) != n)
		o->write_errors++;
	if (o->audit) {
		const uint8_t *ip = ev->has_origin ? ev->origin_ip : ev->client_ip;
		const char *who = ev->identity.kind == ID_NONE ? NULL : ev->identity.id;
		uint64_t record;
		/* The record is the JSON line without its newline. */
		if (audit_append(o->audit, AUDIT_EVENT, ev->ts_us, who, ip, ev->path, NULL, line,
				 n - 1, &record) != 0)
			o->audit_errors++;
	}
}

void output_stats_json(const struct output *o, FILE *out)
{
	fprintf(out, ",\"output\":{\"event_too_long\":%llu,\"write_errors\":%llu,"
		"\"audit_errors\":%llu}",
		(unsigned long long)o->too_long, (unsigned long long)o->write_errors,
		(unsigned long long)o->audit_errors);
}
