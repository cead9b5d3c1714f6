/*
 * h2session.h - the HTTP/2 exchanges of one connection (RFC 9113), as a
 * passive observer: both directions' frames go through decoders/http2.c
 * (frames, HPACK through libnghttp2's inflater), and each stream's request and
 * response become one api_event with proto HTTP/2 and its stream_id.
 *
 * session.c hands a connection over here when the client sends the HTTP/2
 * connection preface (prior knowledge), when a request with `Upgrade: h2c`
 * is answered 101 (the upgraded request is stream 1, RFC 9113 3.1 / RFC 7540
 * 3.2), or when a connection seen without its start carries HTTP/2 frames.
 */
#ifndef TAPIR_H2SESSION_H
#define TAPIR_H2SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../decoders/event.h"
#include "session.h"

struct h2session;

/*
 * Creates the HTTP/2 state of a connection. `endpoints` supplies the client
 * and server addresses, ports and VLAN copied into every event. `midstream`:
 * the connection's start was not seen (no preface): both directions begin by
 * looking for a frame boundary, and what HPACK cannot decode is marked
 * partial. Returns NULL when out of memory (or over env's limits).
 */
struct h2session *h2session_new(struct session_env *env, const struct api_event *endpoints,
				bool midstream);

/*
 * h2c: the HTTP/1.1 request that carried `Upgrade: h2c` and was answered 101
 * becomes stream 1 (its request is complete; its response comes as HTTP/2).
 */
void h2session_upgrade(struct h2session *h, const struct api_event *request);

/* Stream bytes from the client (from_client) or the server, at packet time `now`. */
void h2session_data(struct h2session *h, bool from_client, const uint8_t *p, size_t len,
		    uint64_t now);

/* `len` bytes of one direction are missing from the capture. */
void h2session_gap(struct h2session *h, bool from_client, uint32_t len, uint64_t now);

/* The connection ended: emit every stream still open (status null where no response), free. */
void h2session_end(struct h2session *h, uint64_t now);

/*
 * A cheap test for a connection seen without its start: do these bytes look
 * like a sequence of well-formed HTTP/2 frame headers (known types, sane
 * lengths, reserved bits clear)? Used to route a midstream connection here.
 */
bool h2session_looks_like_frames(const uint8_t *p, size_t len);

#endif
