/*
 * test_session.c - pairing HTTP/1 requests and responses on one connection:
 * pipelining, interim responses, HEAD, tunnels, a lost response, the
 * per-connection and memory caps (a request emitted early must not steal the
 * next request's response); a request record reused after a full exchange
 * gives the same event as a new one.
 */
#include "../sensor/session.h"

#include "../sensor/event_wire.h"

#include <stdlib.h>

#include "unit.h"

struct rec {
	char log[4096];
	int n;
};

static void on_emit(void *ctx, const struct api_event *ev)
{
	struct rec *r = ctx;
	size_t used = strlen(r->log);
	snprintf(r->log + used, sizeof r->log - used, "%s %s %d|", ev->method, ev->path,
		 ev->status);
	r->n++;
}

static void setup(struct session_env *env, struct flow *f, struct rec *r)
{
	memset(env, 0, sizeof *env);
	memset(f, 0, sizeof *f);
	memset(r, 0, sizeof *r);
	env->lim.max_pending = 64;
	env->lim.memcap = 1 << 20;
	env->emit = on_emit;
	env->emit_ctx = r;
	f->syn_seen[0] = f->syn_seen[1] = true; /* handshake seen: side 0 is the client */
	f->client_side = 0;
}

static void feed(struct session_env *env, struct flow *f, int side, const char *s)
{
	session_data(env, f, side, (const uint8_t *)s, strlen(s), 1);
}

static void test_pipelined_in_order(void)
{
	struct session_env env;
	struct flow f;
	struct rec r;
	setup(&env, &f, &r);
	feed(&env, &f, 0, "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\nHEAD /c HTTP/1.1\r\n\r\n");
	feed(&env, &f, 1, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
	feed(&env, &f, 1, "HTTP/1.1 404 No\r\nContent-Length: 0\r\n\r\n");
	/* The response to HEAD has a Content-Length but no body (RFC 9110 9.3.2). */
	feed(&env, &f, 1, "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n");
	feed(&env, &f, 0, "GET /d HTTP/1.1\r\n\r\n");
	feed(&env, &f, 1, "HTTP/1.1 204 No Content\r\n\r\n");
	CHECK_STR(r.log, "GET /a 200|GET /b 404|HEAD /c 200|GET /d 204|");
	session_end(&env, &f, 2);
	CHECK_EQ(env.memory, 0);
	CHECK_EQ(env.stats.events, 4);
}

static void test_no_response_at_end(void)
{
	struct session_env env;
	struct flow f;
	struct rec r;
	setup(&env, &f, &r);
	feed(&env, &f, 0, "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n");
	feed(&env, &f, 1, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	session_end(&env, &f, 2);
	CHECK_STR(r.log, "GET /a 200|GET /b 0|");
	CHECK_EQ(env.stats.no_response, 1);
	CHECK_EQ(env.memory, 0);
}

static void test_close_delimited_ends_at_fin(void)
{
	struct session_env env;
	struct flow f;
	struct rec r;
	setup(&env, &f, &r);
	feed(&env, &f, 0, "GET /old HTTP/1.0\r\n\r\n");
	feed(&env, &f, 1, "HTTP/1.0 200 OK\r\n\r\nsome bytes");
	CHECK_EQ(r.n, 0);
	session_fin(&env, &f, 1, 2);
	CHECK_STR(r.log, "GET /old 200|");
	session_end(&env, &f, 3);
	CHECK_EQ(r.n, 1);
}

static void test_connect_tunnel(void)
{
	struct session_env env;
	struct flow f;
	struct rec r;
	setup(&env, &f, &r);
	feed(&env, &f, 0, "CONNECT db:5432 HTTP/1.1\r\nHost: db:5432\r\n\r\n");
	feed(&env, &f, 1, "HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x01 not http");
	feed(&env, &f, 0, "\x16\x03\x01\x02\x00 tunnel bytes, not a request\r\n\r\n");
	session_end(&env, &f, 2);
	CHECK_STR(r.log, "CONNECT db:5432 200|");
	CHECK_EQ(env.stats.tunnels, 1);
	CHECK_EQ(env.stats.h1.errors[H1_ERR_BAD_START], 0);
}

static void test_pending_cap_keeps_pairing(void)
{
	struct session_env env;
	struct flow f;
	struct rec r;
	setup(&env, &f, &r);
	env.lim.max_pending = 2;
	feed(&env, &f, 0, "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\nGET /3 HTTP/1.1\r\n\r\n");
	/* /1 was emitted early, unanswered; its response must not go to /2. */
	CHECK_STR(r.log, "GET /1 0|");
	feed(&env, &f, 1, "HTTP/1.1 201 A\r\nContent-Length: 0\r\n\r\n"
			  "HTTP/1.1 202 B\r\nContent-Length: 0\r\n\r\n"
			  "HTTP/1.1 203 C\r\nContent-Length: 0\r\n\r\n");
	CHECK_STR(r.log, "GET /1 0|GET /2 202|GET /3 203|");
	CHECK_EQ(env.stats.pending_overflow, 1);
	CHECK_EQ(env.stats.late_responses, 1);
	session_end(&env, &f, 2);
}

static void test_memcap_emits_early(void)
{
	struct session_env env;
	struct flow f;
	struct rec r;
	setup(&env, &f, &r);
	env.lim.memcap = 1; /* nothing fits */
	feed(&env, &f, 0, "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n");
	CHECK_STR(r.log, "GET /1 0|GET /2 0|");
	feed(&env, &f, 1, "HTTP/1.1 200 A\r\nContent-Length: 0\r\n\r\n"
			  "HTTP/1.1 200 B\r\nContent-Length: 0\r\n\r\n");
	CHECK_EQ(env.stats.memcap_early, 2);
	CHECK_EQ(env.stats.late_responses, 2);
	CHECK_EQ(env.stats.orphan_responses, 0);
	session_end(&env, &f, 2);
	CHECK_EQ(r.n, 2);
	CHECK_EQ(env.memory, 0);
}

static void test_midstream_direction_found_from_bytes(void)
{
	struct session_env env;
	struct flow f;
	struct rec r;
	setup(&env, &f, &r);
	f.syn_seen[0] = f.syn_seen[1] = false;
	/* Capture starts inside a response body; side 1 turns out to be the client. */
	feed(&env, &f, 0, "tail of a body\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	feed(&env, &f, 1, "POST /x HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc");
	feed(&env, &f, 0, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
	session_end(&env, &f, 2);
	CHECK_STR(r.log, "POST /x 201|");
	CHECK_EQ(env.stats.orphan_responses, 1);
}

static void test_gap_in_response_body_keeps_status(void)
{
	struct session_env env;
	struct flow f;
	struct rec r;
	setup(&env, &f, &r);
	feed(&env, &f, 0, "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n");
	feed(&env, &f, 1, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab");
	session_gap(&env, &f, 1, 5, 1);
	feed(&env, &f, 1, "cde");
	feed(&env, &f, 1, "HTTP/1.1 404 No\r\nContent-Length: 0\r\n\r\n");
	CHECK_STR(r.log, "GET /a 200|GET /b 404|");
	CHECK_EQ(env.stats.gap_exchanges, 1);
	session_end(&env, &f, 2);
}

/* The last event as it leaves a worker. */
struct wire {
	uint8_t b[EVENT_WIRE_MAX];
	size_t n;
	int events;
};

static void on_emit_wire(void *ctx, const struct api_event *ev)
{
	struct wire *w = ctx;
	w->n = event_wire_put(ev, w->b);
	w->events++;
}

static void test_reused_record_gives_a_fresh_event(void)
{
	static const char full_req[] =
		"PROPFIND /a/long/path/to/something?x=1&yy=2&zzz HTTP/1.1\r\nHost: h.example\r\n"
		"User-Agent: ua/1.0\r\nContent-Type: text/plain\r\nX-API-Key: k-123456\r\n"
		"Authorization: Basic YWxpY2U6c2VjcmV0\r\nContent-Length: 3\r\n\r\nabc";
	static const char full_resp[] =
		"HTTP/1.1 500 X\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
	static const char small_req[] = "GET / HTTP/1.0\r\n\r\n";
	static const char small_resp[] = "HTTP/1.0 204 N\r\n\r\n";
	struct session_env env;
	struct flow f;
	struct rec r;
	struct wire reused = {0}, fresh = {0};

	setup(&env, &f, &r);
	env.emit = on_emit_wire;
	env.emit_ctx = &reused;
	feed(&env, &f, 0, full_req);
	feed(&env, &f, 1, full_resp);
	CHECK_EQ(env.n_spare, 1); /* the record went back for the next request */
	feed(&env, &f, 0, small_req);
	CHECK_EQ(env.n_spare, 0); /* and was taken */
	feed(&env, &f, 1, small_resp);
	session_end(&env, &f, 2);
	CHECK_EQ(reused.events, 2);
	CHECK(env.spare == NULL && env.n_spare == 0); /* freed with the last session */

	setup(&env, &f, &r);
	env.emit = on_emit_wire;
	env.emit_ctx = &fresh;
	feed(&env, &f, 0, small_req);
	feed(&env, &f, 1, small_resp);
	session_end(&env, &f, 2);
	CHECK_EQ(fresh.events, 1);
	CHECK(reused.n == fresh.n && memcmp(reused.b, fresh.b, fresh.n) == 0);
}

int main(void)
{
	RUN(test_pipelined_in_order);
	RUN(test_no_response_at_end);
	RUN(test_close_delimited_ends_at_fin);
	RUN(test_connect_tunnel);
	RUN(test_pending_cap_keeps_pairing);
	RUN(test_memcap_emits_early);
	RUN(test_midstream_direction_found_from_bytes);
	RUN(test_gap_in_response_body_keeps_status);
	RUN(test_reused_record_gives_a_fresh_event);
	return unit_done("test_session");
}
