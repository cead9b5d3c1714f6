/*
 * session.h - the application layer of one TCP connection: HTTP/1 exchanges.
 *
 * Gets each direction's reassembled bytes, gaps and end, runs an HTTP/1
 * parser per direction, pairs responses with requests first-in-first-out
 * (RFC 9112 9.3: responses come in request order, also when pipelined), and
 * emits one api_event per exchange: when its final response completes, or
 * with status null when the connection ends before it.
 *
 * Which side is the client: the side that sent the SYN when the handshake was
 * seen; otherwise the side whose bytes turn out to be requests.
 */
#ifndef TAPIR_SESSION_H
#define TAPIR_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../decoders/event.h"
#include "../decoders/http1.h"
#include "../decoders/http2.h"
#include "exchange.h"
#include "flow.h"

typedef void (*session_emit_fn)(void *ctx, const struct api_event *ev);

struct session_limits {
	struct h1_limits h1;
	struct h2_limits h2;
	uint32_t max_pending;  /* requests waiting for responses on one connection */
	size_t memcap;         /* all sessions' memory; past it requests are emitted unanswered */
	struct exchange_config exchange; /* identity and client address rules */
};

struct session_stats {
	uint64_t sessions;          /* connections that carried application bytes */
	uint64_t events;            /* exchanges emitted */
	uint64_t no_response;       /* of which with status null */
	uint64_t orphan_responses;  /* responses with no request to pair with (not emitted) */
	uint64_t pending_overflow;  /* requests flushed early: more than max_pending waiting */
	uint64_t memcap_early;      /* requests emitted early: over the memory cap */
	uint64_t late_responses;    /* responses to requests that were emitted early (dropped) */
	uint64_t tunnels;           /* connections that switched away from HTTP/1 (101, CONNECT) */
	uint64_t http2_preface;     /* connections that opened with the HTTP/2 preface */
	uint64_t not_http;          /* directions given up as not HTTP */
	uint64_t gap_exchanges;     /* exchanges that lost bytes to a gap */
	struct h1_stats h1;
	struct h2_stats h2;
};

struct session_env {
	struct session_limits lim;
	struct session_stats stats;
	session_emit_fn emit;
	void *emit_ctx;
	size_t memory;              /* bytes held by all sessions (parsers, pending requests) */
	/* Exchange records (HTTP/1 requests, HTTP/2 streams) kept for reuse: a list
	 * through their first word, at most SESSION_SPARE_MAX, freed when their
	 * last user leaves. Not in `memory`: they hold no connection's data. */
	void *spare;
	uint32_t n_spare;
	uint32_t users;             /* see session_env_enter */
};

/* Room of one exchange record: an api_event and its protocol's bookkeeping. */
#define SESSION_RECORD_SIZE (sizeof(struct api_event) + 64)
/* Spare records kept (740 KiB): with 32, bursts of exchanges ending together
 * (a busy HTTP/2 connection's streams, flows expiring at once) still left one
 * record in seven to malloc on a prefix of the bench capture; with 128, none
 * after warm-up. */
#define SESSION_SPARE_MAX 128

struct session;

/* Bytes `side` of flow `f` sent, in stream order, at packet time `now`. */
void session_data(struct session_env *env, struct flow *f, int side, const uint8_t *p,
		  size_t len, uint64_t now);
/* `len` bytes of `side`'s stream are missing from the capture. */
void session_gap(struct session_env *env, struct flow *f, int side, uint32_t len, uint64_t now);
/* `side` finished sending (FIN reached in order). */
void session_fin(struct session_env *env, struct flow *f, int side, uint64_t now);
/* The flow is leaving the table: emit everything pending and free the session. */
void session_end(struct session_env *env, struct flow *f, uint64_t now);

/*
 * An exchange record of SESSION_RECORD_SIZE bytes, a spare one or a new one;
 * its bytes are unspecified (reset the event before use). NULL when out of
 * memory. Counting it in env->memory is the caller's business.
 */
void *session_record_get(struct session_env *env);
/* Gives a record from session_record_get back (kept as a spare, or freed). */
void session_record_put(struct session_env *env, void *rec);
/* A user of env's records (a session, an HTTP/2 connection's state) comes and
 * goes; the last one to go frees the spare records. */
void session_env_enter(struct session_env *env);
void session_env_leave(struct session_env *env);

/* Completes, counts and hands one finished exchange to env's emit function (every protocol). */
void session_emit(struct session_env *env, struct api_event *ev);

#endif
