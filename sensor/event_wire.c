/*
 * event_wire.c - api_event <-> bytes (event_wire.h):
 *
 *   +-------------------------+------------------+---------------------------+
 *   | the struct up to .path  | path, NUL ended  | the struct after .path    |
 *   +-------------------------+------------------+---------------------------+
 */
#include "event_wire.h"

#include <stddef.h>
#include <string.h>

#define HEAD offsetof(struct api_event, path)
#define TAIL_AT (HEAD + EV_PATH_MAX)
#define TAIL (sizeof(struct api_event) - TAIL_AT)

static size_t path_len(const struct api_event *ev)
{
	return strnlen(ev->path, EV_PATH_MAX - 1);
}

size_t event_wire_size(const struct api_event *ev)
{
	return HEAD + path_len(ev) + 1 + TAIL;
}

void event_wire_put(const struct api_event *ev, uint8_t *dst)
{
	size_t n = path_len(ev);
	memcpy(dst, ev, HEAD);
	memcpy(dst + HEAD, ev->path, n);
	dst[HEAD + n] = '\0';
	memcpy(dst + HEAD + n + 1, (const uint8_t *)ev + TAIL_AT, TAIL);
}

int event_wire_get(struct api_event *ev, const uint8_t *src, size_t len)
{
	if (len < HEAD + 1 + TAIL || len > HEAD + EV_PATH_MAX + TAIL)
		return -1;
	size_t n = len - HEAD - TAIL; /* path with its NUL */
	memcpy(ev, src, HEAD);
	memcpy(ev->path, src + HEAD, n);
	ev->path[n - 1] = '\0';
	memcpy((uint8_t *)ev + TAIL_AT, src + HEAD + n, TAIL);
	return 0;
}
