/*
 * event_json.h - an api_event as one line of JSON, exactly the shape
 * ../shared/INTERFACE.md gives ("API event").
 */
#ifndef TAPIR_EVENT_JSON_H
#define TAPIR_EVENT_JSON_H

#include <stddef.h>

#include "../decoders/event.h"
#include "../models/routes.h"
#include "identity_json.h"

/* Worst case: every field at its size with every byte escaped as \u00XX. */
#define EVENT_JSON_MAX (6 * (EV_METHOD_MAX + EV_HOST_MAX + EV_PATH_MAX + EV_UA_MAX + \
			     EV_CTYPE_MAX + EV_QKEYS_MAX + EV_GRPC_MSG_MAX) +          \
			IDENTITY_JSON_MAX + 6 * ROUTES_ROUTE_MAX + 1024)

/*
 * Writes the event and a newline into buf; returns the length, 0 if it did
 * not fit. `route` is the event's route template (NULL writes null).
 */
size_t event_json(const struct api_event *ev, const char *route, char *buf, size_t cap);

/*
 * What one writer of events reuses from one event's text to the next (see
 * jw_time_memo, identity_json_memo). A zeroed struct is empty.
 */
struct event_json_memo {
	struct jw_time_memo ts;
	struct identity_json_memo identity;
	struct jw_ip_memo client_ip, server_ip;
};

/* event_json through m: the same bytes, less work for repeated times and identities. */
size_t event_json_memo(const struct api_event *ev, const char *route, char *buf, size_t cap,
		       struct event_json_memo *m);

#endif
