/*
 * exchange.h - filling an api_event from what a protocol decoder saw, the same
 * way for HTTP/1 and HTTP/2: request target -> path and parameter names,
 * header fields -> host, user agent, content type (and, with identity
 * extraction, the caller's identity). Copies, bounded by the event's fields;
 * nothing here keeps a pointer into the input.
 */
#ifndef TAPIR_EXCHANGE_H
#define TAPIR_EXCHANGE_H

#include <stddef.h>

#include "../decoders/event.h"
#include "../decoders/forwarded.h"
#include "../decoders/identity.h"
#include "flow.h"
#include "idcache.h"

/* What turning headers into an identity and a client address needs (owned by the caller). */
struct exchange_config {
	const struct identity_names *names; /* NULL: the defaults */
	identity_verify_fn verify;          /* NULL: no JWT keys configured */
	void *verify_ctx;
	const struct cidr *trusted_proxies;
	size_t n_trusted_proxies;
	uint64_t key_max_age_us;            /* policy.key_max_age: older JWTs are "stale" */
	struct idcache *idcache;            /* NULL: every Authorization value decoded anew;
					       else the worker's cache, cleared when verify changes */
};

/* Request target -> path (up to '?') and query parameter names (RFC 9112 3.2). */
void exchange_set_target(struct api_event *ev, const char *target, size_t len);

/* The :authority pseudo-header or Host header value, without any userinfo. */
void exchange_set_host(struct api_event *ev, const char *host, size_t len);

/* The method token. */
void exchange_set_method(struct api_event *ev, const char *method, size_t len);

/*
 * One request header field (name matched case-insensitively): host, user
 * agent, content type, credentials, forwarding headers. The endpoints must be
 * set first (the packet source decides whether forwarding headers count).
 */
void exchange_request_header(struct api_event *ev, const struct exchange_config *xc,
			     const char *name, size_t nlen, const char *value, size_t vlen);

/* The exchange is complete: time-dependent identity flags at the request's packet time. */
void exchange_finish(struct api_event *ev, const struct exchange_config *xc);

/* One response header field. */
void exchange_response_header(struct api_event *ev, const char *name, size_t nlen,
			      const char *value, size_t vlen);

/*
 * Makes *ev read as a zeroed event without writing all of it: every member is
 * zeroed except the text members, of which only the first byte is (the rest
 * keep whatever they held). Every writer of a text member writes a string
 * from its first byte with its NUL (or a name list with its count, which is
 * zeroed), and every reader stops at the NUL or the count, so no byte of an
 * earlier exchange can be read back. For records reused exchange after
 * exchange: a zeroed event is 5.6 KiB, almost all of it text room.
 */
void exchange_reset(struct api_event *ev);
/* Client and server addresses from the flow, `client` being the client's side. */
void exchange_set_endpoints(struct api_event *ev, const struct flow *f, int client);

#endif
