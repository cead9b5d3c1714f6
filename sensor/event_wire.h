/*
 * event_wire.h - an api_event in a ring record, to cross from a pipeline
 * worker to the merge thread. struct api_event holds no pointers
 * (decoders/event.h), so a copy is deep; the record is the struct itself,
 * read in place by the merge thread (no second copy), and the writer skips
 * the parts that are usually empty: the path after its NUL, and the JWT
 * claims (zeroed) when the identity has none.
 */
#ifndef TAPIR_EVENT_WIRE_H
#define TAPIR_EVENT_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "../decoders/event.h"

/* Bytes of a record: always sizeof(struct api_event). */
#define EVENT_WIRE_SIZE sizeof(struct api_event)

/*
 * Writes ev as a record at dst (EVENT_WIRE_SIZE bytes, aligned for a struct
 * api_event: 8 bytes is enough). Bytes of the path after its NUL are left as
 * they were; nothing reads them.
 */
void event_wire_put(const struct api_event *ev, void *dst);

/*
 * The event in a record event_wire_put wrote (len bytes at src), valid as
 * long as the record is; NULL when len is not EVENT_WIRE_SIZE, src is not
 * aligned or the path is not terminated.
 */
const struct api_event *event_wire_view(const void *src, size_t len);

#endif
