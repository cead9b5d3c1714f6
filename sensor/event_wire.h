/*
 * event_wire.h - an api_event as bytes, to cross from a pipeline worker to the
 * merge thread. struct api_event holds no pointers (decoders/event.h), so the
 * copy is deep; the path, the one large field that is usually short, is cut
 * at its NUL to keep the rings small.
 */
#ifndef TAPIR_EVENT_WIRE_H
#define TAPIR_EVENT_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "../decoders/event.h"

/* Bytes event_wire_put writes for ev (at most sizeof(struct api_event)). */
size_t event_wire_size(const struct api_event *ev);

/* Writes ev into dst (event_wire_size(ev) bytes). */
void event_wire_put(const struct api_event *ev, uint8_t *dst);

/* Reads back what event_wire_put wrote (len bytes). Returns 0, or -1 when len is wrong. */
int event_wire_get(struct api_event *ev, const uint8_t *src, size_t len);

#endif
