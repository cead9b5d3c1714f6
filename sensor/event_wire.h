/*
 * event_wire.h - an api_event as bytes, to cross from a pipeline worker to the
 * merge thread. struct api_event holds no pointers (decoders/event.h), so the
 * copy is deep. Most of its 5.6 KiB are fixed-size text fields that are
 * short or empty, and the bytes a worker writes are cache lines the merge
 * thread's core must fetch: so every string and name list is cut at its end
 * and the JWT claims are left out when the identity has none, which makes a
 * typical record a few hundred bytes.
 */
#ifndef TAPIR_EVENT_WIRE_H
#define TAPIR_EVENT_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "../decoders/event.h"

/* Bytes event_wire_put may write: an upper bound for any event. */
#define EVENT_WIRE_MAX (sizeof(struct api_event) + 64)

/* Writes ev into dst (at most EVENT_WIRE_MAX bytes); returns the bytes written. */
size_t event_wire_put(const struct api_event *ev, uint8_t *dst);

/*
 * Reads back what event_wire_put wrote (len bytes) into *ev. Every byte a
 * reader may look at is the writer's: text fields up to their NUL, name lists
 * up to their last name, the claims zeroed when absent; bytes after a field's
 * NUL are left as they were. Returns 0, or -1 when the record is malformed.
 */
int event_wire_get(struct api_event *ev, const uint8_t *src, size_t len);

#endif
