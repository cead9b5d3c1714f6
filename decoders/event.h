/*
 * event.h - struct api_event: one HTTP request/response exchange, the one
 * record that models and outputs see (../shared/INTERFACE.md "API event").
 *
 * Fixed-size fields so an event never allocates; a value longer than its field
 * is cut at the field size and `truncated` says so. No field ever holds a
 * secret: the query string is reduced to its parameter names, credentials to
 * an identity.
 */
#ifndef TAPIR_EVENT_H
#define TAPIR_EVENT_H

#include <stdbool.h>
#include <stdint.h>

#include "identity.h"

#define EV_METHOD_MAX 32
#define EV_HOST_MAX 256
#define EV_PATH_MAX 2048
#define EV_UA_MAX 256
#define EV_CTYPE_MAX 128
#define EV_QKEYS_MAX 512   /* parameter names, NUL-separated */
#define EV_QKEYS_COUNT 32
#define EV_GRPC_MSG_MAX 256

enum ev_proto { EV_HTTP10, EV_HTTP11, EV_HTTP2 };

/* Bits of api_event.truncated: which fields were cut to their size. */
#define EV_TRUNC_METHOD 0x01
#define EV_TRUNC_HOST 0x02
#define EV_TRUNC_PATH 0x04
#define EV_TRUNC_UA 0x08
#define EV_TRUNC_CTYPE 0x10
#define EV_TRUNC_QKEYS 0x20

struct api_event {
	uint64_t ts_us;         /* packet time of the request's first byte, µs since the epoch */
	uint64_t end_us;        /* packet time the response completed (0: no response) */
	enum ev_proto proto;
	uint32_t stream_id;     /* HTTP/2 only */

	uint8_t client_ip[16];  /* IPv4 as ::ffff:a.b.c.d */
	uint8_t server_ip[16];
	uint16_t client_port, server_port;
	uint16_t vlan;          /* outermost VLAN id, 0 when untagged */

	char method[EV_METHOD_MAX];
	char host[EV_HOST_MAX];     /* Host header or :authority; "" when absent */
	bool has_host;
	char path[EV_PATH_MAX];     /* request target up to '?' */
	char query_keys[EV_QKEYS_MAX]; /* names only, each NUL-terminated, in order */
	uint8_t n_query_keys;
	char user_agent[EV_UA_MAX];
	bool has_user_agent;
	char content_type[EV_CTYPE_MAX]; /* of the response, else of the request */
	bool has_content_type;
	bool resp_content_type; /* content_type came from the response */

	int status;             /* final status; 0 = no response seen (null) */
	uint64_t req_bytes, resp_bytes; /* decoded body bytes */

	struct identity identity; /* who: kind, id, JWT claims, flags */
	uint8_t origin_ip[16];    /* the client behind trusted proxies (X-Forwarded-For, Forwarded) */
	bool has_origin;

	uint8_t truncated;      /* EV_TRUNC_* */
	bool gap;               /* bytes of this exchange were missing from the capture */

	/* HTTP/2 only (meaningless in HTTP/1 events, which leave them zero). */
	bool pushed;            /* the server pushed this exchange (PUSH_PROMISE) */
	bool partial;           /* header fields were dropped: HPACK context lost, or a cap */
	int grpc_status;        /* gRPC (application/grpc*): grpc-status; -1 = none */
	char grpc_message[EV_GRPC_MSG_MAX]; /* grpc-message as sent (percent-encoded); "" = none */
};

#endif
