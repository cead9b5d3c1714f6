/*
 * session.c - HTTP/1 exchanges of one connection (RFC 9112 9.3 pairing).
 *
 * Each direction's bytes go through its own h1_parser. Requests wait in a FIFO
 * until their final response completes; the first request in the FIFO is the
 * one the next final response answers. Interim 1xx responses (RFC 9110 15.2)
 * are skipped. A response with no request to answer (its request was lost to a
 * gap, or came before the capture) is parsed to keep framing, counted, and not
 * emitted: an API event is about a request.
 *
 * The body framing of a response depends on its request (RFC 9112 6.3): the
 * response to HEAD has none, a 2xx to CONNECT and a 101 turn the connection
 * into a tunnel, after which neither direction is HTTP/1 and parsing stops.
 *
 * HTTP/2 takes a connection over, one direction at a time, from the exact
 * byte where it starts (h1_feed says where): the client's direction at the
 * connection preface (RFC 9113 3.4), the server's at the end of a 101 to an
 * `Upgrade: h2c` request (RFC 7540 3.2; that request becomes stream 1), or at
 * once when the preface came with no upgrade pending (prior knowledge). The two
 * can be seen in either order. A connection seen without its handshake whose
 * first bytes are HTTP/2 frames goes to HTTP/2 from the start.
 */
#include "session.h"

#include "../decoders/ascii.h"
#include "exchange.h"
#include "h2session.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

struct pending {
	struct pending *next;
	bool req_done;     /* request body complete */
	bool is_head;
	bool is_connect;
	bool final_seen;   /* its final response head arrived */
	bool upgrade_h2c;  /* asked for `Upgrade: h2c` */
	struct api_event ev;
};

_Static_assert(sizeof(struct pending) <= SESSION_RECORD_SIZE, "a request fits a record");

struct session_dir {
	struct h1_parser *parser;
	uint64_t msg_start_us; /* packet time of the current message's first byte */
	bool counted_not_http;
	bool seen;             /* any byte of this direction arrived */
	bool to_h2;            /* this direction now belongs to s->h2 */
};

struct session {
	struct session_dir dir[2];
	int client;                 /* side that sends requests, -1 until known */
	struct pending *head, *tail;
	uint32_t n_pending;
	struct pending *req_cur;    /* request whose body is arriving */
	struct pending *resp_cur;   /* request whose final response body is arriving */
	uint32_t skip_responses;    /* final responses still to come for requests emitted early */
	bool resp_ignored;          /* the response being parsed is interim or orphan */
	bool done;                  /* tunnel: no more HTTP/1 here */
	struct h2session *h2;       /* set once any direction is HTTP/2 */
	bool h2_preface;            /* the client sent the preface (in this feed) */
	bool h2_upgraded;           /* a 101 answered an h2c upgrade (in this feed) */
};

struct cb_ctx {
	struct session_env *env;
	struct flow *f;
	struct session *s;
	int side;
	uint64_t now;
};

void *session_record_get(struct session_env *env)
{
	void *rec = env->spare;
	if (!rec)
		return malloc(SESSION_RECORD_SIZE);
	memcpy(&env->spare, rec, sizeof env->spare);
	env->n_spare--;
	return rec;
}

void session_record_put(struct session_env *env, void *rec)
{
	if (env->n_spare >= SESSION_SPARE_MAX) {
		free(rec);
		return;
	}
	memcpy(rec, &env->spare, sizeof env->spare);
	env->spare = rec;
	env->n_spare++;
}

void session_env_enter(struct session_env *env)
{
	env->users++;
}

void session_env_leave(struct session_env *env)
{
	if (--env->users > 0)
		return;
	while (env->spare)
		free(session_record_get(env));
}

void session_emit(struct session_env *env, struct api_event *ev)
{
	exchange_finish(ev, &env->lim.exchange);
	env->stats.events++;
	if (ev->status == 0)
		env->stats.no_response++;
	if (ev->gap)
		env->stats.gap_exchanges++;
	env->emit(env->emit_ctx, ev);
}

/* Takes the oldest pending request off the queue; the caller frees it. */
static struct pending *pop_oldest(struct session_env *env, struct session *s)
{
	struct pending *p = s->head;
	s->head = p->next;
	if (!s->head)
		s->tail = NULL;
	s->n_pending--;
	if (s->req_cur == p)
		s->req_cur = NULL;
	if (s->resp_cur == p)
		s->resp_cur = NULL;
	env->memory -= sizeof *p;
	return p;
}

/* Emits and frees the oldest pending request. */
static void pop_emit(struct session_env *env, struct session *s, uint64_t now)
{
	struct pending *p = pop_oldest(env, s);
	if (p->ev.status)
		p->ev.end_us = now;
	session_emit(env, &p->ev);
	session_record_put(env, p);
}

/*
 * Emits the oldest waiting request before its response (a cap was reached).
 * Its response, still to come, must not be paired with the next request.
 */
static void emit_oldest_early(struct session_env *env, struct session *s, uint64_t now)
{
	if (!s->head->final_seen)
		s->skip_responses++;
	pop_emit(env, s, now);
}

static enum h1_body_mode on_request(struct cb_ctx *c, const struct h1_head *h)
{
	struct session *s = c->s;
	struct session_env *env = c->env;
	if (s->client < 0)
		s->client = c->side;
	if (s->n_pending >= env->lim.max_pending) {
		env->stats.pending_overflow++;
		emit_oldest_early(env, s, c->now);
	}
	struct pending early;
	struct pending *p = NULL;
	if (env->memory + sizeof *p > env->lim.memcap) {
		/* Over the cap: make room from this connection, or do not wait at all. */
		env->stats.memcap_early++;
		if (s->head)
			emit_oldest_early(env, s, c->now);
		else
			p = &early;
	}
	if (!p) {
		p = session_record_get(env);
		if (!p) {
			env->stats.memcap_early++;
			p = &early;
		} else {
			env->memory += sizeof *p;
		}
	}
	/* Reused records and the stack's: as zeroed (see exchange_reset). */
	memset(p, 0, offsetof(struct pending, ev));
	exchange_reset(&p->ev);
	struct api_event *ev = &p->ev;
	ev->ts_us = s->dir[c->side].msg_start_us;
	ev->proto = h->version_minor == 1 ? EV_HTTP11 : EV_HTTP10;
	exchange_set_endpoints(ev, c->f, s->client);
	exchange_set_method(ev, h->method.p, h->method.len);
	exchange_set_target(ev, h->target.p, h->target.len);
	for (uint32_t i = 0; i < h->n_headers; i++) {
		const struct h1_header *hd = &h->headers[i];
		exchange_request_header(ev, &env->lim.exchange, hd->name.p, hd->name.len,
					hd->value.p, hd->value.len);
	}
	p->is_head = h->method.len == 4 && memcmp(h->method.p, "HEAD", 4) == 0;
	p->is_connect = h->method.len == 7 && memcmp(h->method.p, "CONNECT", 7) == 0;
	p->upgrade_h2c = h->upgrade.len == 3 && ascii_ieq_lit(h->upgrade.p, "h2c", 3);
	if (p == &early) {
		session_emit(env, ev);
		s->skip_responses++;
		s->req_cur = NULL;
		return H1_BODY_AUTO;
	}
	if (s->tail)
		s->tail->next = p;
	else
		s->head = p;
	s->tail = p;
	s->n_pending++;
	s->req_cur = p;
	return H1_BODY_AUTO;
}

static struct pending *awaiting_response(struct session *s)
{
	for (struct pending *p = s->head; p; p = p->next)
		if (!p->final_seen)
			return p;
	return NULL;
}

static enum h1_body_mode on_response(struct cb_ctx *c, const struct h1_head *h)
{
	struct session *s = c->s;
	if (s->client < 0)
		s->client = !c->side;
	s->resp_cur = NULL;
	s->resp_ignored = true;
	if (h->status >= 100 && h->status < 200 && h->status != 101)
		return H1_BODY_AUTO; /* interim: the final response is still to come */
	if (s->skip_responses) {
		s->skip_responses--;
		c->env->stats.late_responses++;
		return H1_BODY_AUTO;
	}
	struct pending *p = awaiting_response(s);
	if (!p) {
		c->env->stats.orphan_responses++;
		return H1_BODY_AUTO;
	}
	/* Responses complete in order: anything older still waiting lost its response. */
	while (s->head != p)
		pop_emit(c->env, s, c->now);
	p->final_seen = true;
	p->ev.status = h->status;
	for (uint32_t i = 0; i < h->n_headers; i++) {
		const struct h1_header *hd = &h->headers[i];
		exchange_response_header(&p->ev, hd->name.p, hd->name.len, hd->value.p,
					 hd->value.len);
	}
	s->resp_cur = p;
	s->resp_ignored = false;
	if (h->status == 101 && p->upgrade_h2c) {
		/* Not an exchange of its own: the request becomes HTTP/2 stream 1, whose
		 * final status is still to come. session_data hands it over. */
		p->ev.status = 0;
		s->resp_cur = NULL;
		s->resp_ignored = true;
		s->h2_upgraded = true;
		return H1_BODY_TUNNEL;
	}
	if (h->status == 101 || (p->is_connect && h->status >= 200 && h->status < 300)) {
		c->env->stats.tunnels++;
		s->done = true;
		return H1_BODY_TUNNEL;
	}
	return p->is_head ? H1_BODY_NONE : H1_BODY_AUTO;
}

static enum h1_body_mode cb_head(void *ctx, const struct h1_head *h)
{
	struct cb_ctx *c = ctx;
	return h->is_request ? on_request(c, h) : on_response(c, h);
}

static bool is_request_side(const struct cb_ctx *c)
{
	return c->s->client == c->side;
}

static void cb_body(void *ctx, uint64_t n)
{
	struct cb_ctx *c = ctx;
	if (is_request_side(c)) {
		if (c->s->req_cur)
			c->s->req_cur->ev.req_bytes += n;
	} else if (c->s->resp_cur) {
		c->s->resp_cur->ev.resp_bytes += n;
	}
}

static void cb_end(void *ctx)
{
	struct cb_ctx *c = ctx;
	struct session *s = c->s;
	s->dir[c->side].msg_start_us = c->now;
	if (is_request_side(c)) {
		if (s->req_cur)
			s->req_cur->req_done = true;
		s->req_cur = NULL;
		return;
	}
	if (s->resp_cur && !s->resp_ignored && s->head == s->resp_cur)
		pop_emit(c->env, s, c->now);
	s->resp_cur = NULL;
}

static void cb_error(void *ctx, enum h1_error err, bool in_message)
{
	struct cb_ctx *c = ctx;
	struct session *s = c->s;
	s->dir[c->side].msg_start_us = c->now;
	if (err == H1_ERR_H2_PREFACE) {
		c->env->stats.http2_preface++;
		s->h2_preface = true; /* session_data hands the rest over */
		return;
	}
	if (!in_message)
		return;
	if (is_request_side(c)) {
		if (s->req_cur)
			s->req_cur->ev.gap = true;
		s->req_cur = NULL;
	} else if (s->resp_cur && !s->resp_ignored) {
		/* The status is known even though the body was cut: report it. */
		s->resp_cur->ev.gap = true;
		if (s->head == s->resp_cur)
			pop_emit(c->env, s, c->now);
		s->resp_cur = NULL;
	}
}

static const struct h1_callbacks callbacks = {
	.on_head = cb_head,
	.on_body = cb_body,
	.on_end = cb_end,
	.on_error = cb_error,
};

static struct session *session_get(struct session_env *env, struct flow *f)
{
	struct session *s = f->app;
	if (s)
		return s;
	s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->client = -1;
	env->memory += sizeof *s;
	env->stats.sessions++;
	session_env_enter(env);
	f->app = s;
	return s;
}

/* Returns the side's parser, creating it on first use; NULL when parsing stopped. */
static struct h1_parser *parser_of(struct session_env *env, struct flow *f, struct session *s,
				   int side)
{
	struct session_dir *d = &s->dir[side];
	if (s->done)
		return NULL;
	if (!d->parser) {
		bool handshake = f->syn_seen[f->client_side];
		enum h1_kind kind = H1_ANY;
		if (handshake)
			kind = side == f->client_side ? H1_REQUESTS : H1_RESPONSES;
		else if (s->client >= 0)
			kind = side == s->client ? H1_REQUESTS : H1_RESPONSES;
		d->parser = h1_new(kind, !handshake, &env->lim.h1, &env->stats.h1);
		if (!d->parser)
			return NULL;
		env->memory += h1_memory(d->parser);
	}
	if (h1_stopped(d->parser)) {
		if (!d->counted_not_http && !s->done) {
			d->counted_not_http = true;
			env->stats.not_http++;
		}
		return NULL;
	}
	return d->parser;
}

/* Creates the connection's HTTP/2 state once; `client` is the client's side. */
static bool h2_start(struct session_env *env, struct flow *f, struct session *s, int client,
		     bool midstream)
{
	if (s->h2)
		return true;
	struct api_event endpoints;
	memset(&endpoints, 0, sizeof endpoints);
	s->client = client;
	exchange_set_endpoints(&endpoints, f, client);
	s->h2 = h2session_new(env, &endpoints, midstream);
	return s->h2 != NULL;
}

/* The h2c upgrade request: it becomes stream 1 of the HTTP/2 connection. */
static void h2_take_upgrade(struct session_env *env, struct session *s)
{
	struct pending *p = s->head;
	if (!p || !p->upgrade_h2c)
		return;
	h2session_upgrade(s->h2, &p->ev);
	session_record_put(env, pop_oldest(env, s));
}

/* A connection without its handshake whose first bytes are HTTP/2 frames. */
static void h2_midstream(struct session_env *env, struct flow *f, struct session *s, int side,
			 const uint8_t *p, size_t len)
{
	if (s->dir[side].seen || f->syn_seen[0] || f->syn_seen[1])
		return;
	if (s->dir[0].parser || s->dir[1].parser || !h2session_looks_like_frames(p, len))
		return;
	/* Which side is the client is not known yet: the one on the higher
	 * (ephemeral) port is the better guess. */
	int client = f->key.port[0] > f->key.port[1] ? 0 : 1;
	if (!h2_start(env, f, s, client, true))
		return;
	s->dir[0].to_h2 = s->dir[1].to_h2 = true;
}

/*
 * An HTTP/2 server may send its SETTINGS before the client's preface arrives
 * (RFC 9113 3.4): server bytes first, and they are frames. No HTTP/1 server
 * speaks first, so the connection is HTTP/2 from the start, both ways.
 */
static void h2_server_first(struct session_env *env, struct flow *f, struct session *s, int side,
			    const uint8_t *p, size_t len)
{
	int client = f->client_side;
	if (!f->syn_seen[client] || side == client || s->dir[side].seen || s->dir[client].seen)
		return;
	if (!h2session_looks_like_frames(p, len) || !h2_start(env, f, s, client, false))
		return;
	s->dir[0].to_h2 = s->dir[1].to_h2 = true;
}

void session_data(struct session_env *env, struct flow *f, int side, const uint8_t *p,
		  size_t len, uint64_t now)
{
	struct session *s = session_get(env, f);
	if (!s)
		return;
	struct session_dir *d = &s->dir[side];
	if (!d->to_h2)
		h2_midstream(env, f, s, side, p, len);
	if (!d->to_h2)
		h2_server_first(env, f, s, side, p, len);
	d->seen = true;
	if (d->to_h2) {
		h2session_data(s->h2, side == s->client, p, len, now);
		return;
	}
	struct h1_parser *hp = parser_of(env, f, s, side);
	if (!hp)
		return;
	/*
	 * This piece may hold the next message's first byte: only while the parser
	 * holds nothing of the next message. A message that began in an earlier
	 * piece, after the previous one ended there (cb_end set the time), keeps
	 * that piece's time whichever later piece completes its head: the event's
	 * ts must not depend on where the stream was cut (found by fuzz_http1's
	 * differential mode).
	 */
	if (h1_between_messages(hp))
		d->msg_start_us = now;
	struct cb_ctx c = {env, f, s, side, now};
	size_t before = h1_memory(hp);
	size_t used = h1_feed(hp, p, len, &callbacks, &c);
	env->memory += h1_memory(hp) - before;

	if (s->h2_preface) {
		/* The client's direction is HTTP/2 from the preface on. Without an
		 * h2c upgrade waiting for its 101, so is the server's (prior knowledge). */
		s->h2_preface = false;
		bool waiting_101 = s->head && s->head->upgrade_h2c && !s->head->final_seen;
		if (!h2_start(env, f, s, side, false))
			return;
		d->to_h2 = true;
		if (!waiting_101)
			s->dir[!side].to_h2 = true;
		h2session_data(s->h2, true, p + used, len - used, now);
	} else if (s->h2_upgraded) {
		/* 101 to h2c: the server's direction is HTTP/2 after the 101's head. */
		s->h2_upgraded = false;
		if (!h2_start(env, f, s, !side, false))
			return;
		h2_take_upgrade(env, s);
		d->to_h2 = true;
		h2session_data(s->h2, false, p + used, len - used, now);
	}
}

void session_gap(struct session_env *env, struct flow *f, int side, uint32_t len, uint64_t now)
{
	struct session *s = session_get(env, f);
	if (!s)
		return;
	if (s->dir[side].to_h2) {
		h2session_gap(s->h2, side == s->client, len, now);
		return;
	}
	struct h1_parser *hp = parser_of(env, f, s, side);
	if (!hp)
		return;
	if (side == s->client && s->req_cur)
		s->req_cur->ev.gap = true;
	else if (side != s->client && s->resp_cur)
		s->resp_cur->ev.gap = true;
	struct cb_ctx c = {env, f, s, side, now};
	size_t before = h1_memory(hp);
	h1_gap(hp, len, &callbacks, &c);
	env->memory += h1_memory(hp) - before;
}

void session_fin(struct session_env *env, struct flow *f, int side, uint64_t now)
{
	struct session *s = f->app;
	if (!s || !s->dir[side].parser || s->done || s->dir[side].to_h2 ||
	    h1_stopped(s->dir[side].parser))
		return;
	struct cb_ctx c = {env, f, s, side, now};
	size_t before = h1_memory(s->dir[side].parser);
	h1_finish(s->dir[side].parser, &callbacks, &c);
	env->memory += h1_memory(s->dir[side].parser) - before;
}

void session_end(struct session_env *env, struct flow *f, uint64_t now)
{
	struct session *s = f->app;
	if (!s)
		return;
	/* Responses first: a close-delimited body ends here and completes its exchange. */
	for (int i = 0; i < 2; i++) {
		int side = s->client >= 0 ? (i == 0 ? !s->client : s->client) : i;
		session_fin(env, f, side, now);
	}
	while (s->head)
		pop_emit(env, s, now);
	if (s->h2)
		h2session_end(s->h2, now);
	for (int side = 0; side < 2; side++) {
		if (s->dir[side].parser) {
			env->memory -= h1_memory(s->dir[side].parser);
			h1_free(s->dir[side].parser);
		}
	}
	env->memory -= sizeof *s;
	free(s);
	f->app = NULL;
	session_env_leave(env);
}
