/*
 * event_wire.c - api_event -> ring record (event_wire.h). The struct in
 * place, written part by part so that the two large fields that are
 * usually short or absent cost little:
 *
 *   +---------+----------------+--------------+-----------+-----------+-----------+
 *   | up to   | .path up to    | rest of      | .path's   | .claims,  | after the |
 *   | .path   | its NUL        | .path: not   | end to    | or zeroes | claims    |
 *   |         |                | written      | .claims   |           |           |
 *   +---------+----------------+--------------+-----------+-----------+-----------+
 */
#include "event_wire.h"

#include <stdalign.h>
#include <string.h>

#define A_END offsetof(struct api_event, path)
#define B_AT (A_END + EV_PATH_MAX)
#define B_END offsetof(struct api_event, identity.claims)
#define C_END (B_END + sizeof(struct jwt_claims))
#define D_END sizeof(struct api_event)

_Static_assert(alignof(struct api_event) <= 8, "ring records are 8-byte aligned");

void event_wire_put(const struct api_event *ev, void *dst)
{
	const uint8_t *src = (const uint8_t *)ev;
	uint8_t *d = dst;
	struct api_event *out = dst;
	memcpy(d, src, A_END);
	size_t n = strnlen(ev->path, EV_PATH_MAX - 1);
	memcpy(out->path, ev->path, n);
	out->path[n] = '\0';
	memcpy(d + B_AT, src + B_AT, B_END - B_AT);
	if (ev->identity.has_claims)
		memcpy(d + B_END, src + B_END, C_END - B_END);
	else
		memset(d + B_END, 0, C_END - B_END);
	memcpy(d + C_END, src + C_END, D_END - C_END);
}

const struct api_event *event_wire_view(const void *src, size_t len)
{
	const struct api_event *ev = src;
	if (len != EVENT_WIRE_SIZE || (uintptr_t)src % alignof(struct api_event) != 0 ||
	    !memchr(ev->path, '\0', EV_PATH_MAX))
		return NULL;
	return ev;
}
