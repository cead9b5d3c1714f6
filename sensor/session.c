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
 */
#include "session.h"

#include "exchange.h"

#include <stdlib.h>
#include <string.h>

struct pending {
	struct pending *next;
	bool req_done;     /* request body complete */
	bool is_head;
	bool is_connect;
	bool final_seen;   /* its final response head arrived */
	struct api_event ev;
};

struct session_dir {
	struct h1_parser *parser;
	uint64_t msg_start_us; /* packet time of the current message's first byte */
	bool idle;             /* between messages: the next byte starts one */
	bool counted_not_http;
};

struct session {
	struct session_dir dir[2];
	int client;                 /* side that sends requests, -1 until known */
	struct pending *head, *tail;
	uint32_t n_pending;
	struct pending *req_cur;    /* request whose body is arriving */
	struct pending *resp_cur;   /* request whose final response body is arriving */
	bool resp_ignored;          /* the response being parsed is interim or orphan */
	bool done;                  /* tunnel or HTTP/2: no more HTTP/1 here */
};

struct cb_ctx {
	struct session_env *env;
	struct flow *f;
	struct session *s;
	int side;
	uint64_t now;
};

void session_emit(struct session_env *env, const struct api_event *ev)
{
	env->stats.events++;
	if (ev->status == 0)
		env->stats.no_response++;
	if (ev->gap)
		env->stats.gap_exchanges++;
	env->emit(env->emit_ctx, ev);
}

/* Emits and frees the oldest pending request. */
static void pop_emit(struct session_env *env, struct session *s, uint64_t now)
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
	if (p->ev.status)
		p->ev.end_us = now;
	session_emit(env, &p->ev);
	env->memory -= sizeof *p;
	free(p);
}

static enum h1_body_mode on_request(struct cb_ctx *c, const struct h1_head *h)
{
	struct session *s = c->s;
	if (s->client < 0)
		s->client = c->side;
	if (s->n_pending >= c->env->lim.max_pending) {
		c->env->stats.pending_overflow++;
		pop_emit(c->env, s, c->now);
	}
	struct pending *p = calloc(1, sizeof *p);
	if (!p)
		return H1_BODY_AUTO;
	c->env->memory += sizeof *p;
	struct api_event *ev = &p->ev;
	ev->ts_us = s->dir[c->side].msg_start_us;
	ev->proto = h->version_minor == 1 ? EV_HTTP11 : EV_HTTP10;
	exchange_set_endpoints(ev, c->f, s->client);
	exchange_set_method(ev, h->method.p, h->method.len);
	exchange_set_target(ev, h->target.p, h->target.len);
	for (uint32_t i = 0; i < h->n_headers; i++) {
		const struct h1_header *hd = &h->headers[i];
		exchange_request_header(ev, hd->name.p, hd->name.len, hd->value.p, hd->value.len);
	}
	p->is_head = h->method.len == 4 && memcmp(h->method.p, "HEAD", 4) == 0;
	p->is_connect = h->method.len == 7 && memcmp(h->method.p, "CONNECT", 7) == 0;
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
	c->s->dir[c->side].idle = false;
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
	s->dir[c->side].idle = true;
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
	s->dir[c->side].idle = true;
	s->dir[c->side].msg_start_us = c->now;
	if (err == H1_ERR_H2_PREFACE) {
		c->env->stats.http2_preface++;
		s->done = true;
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
	s->dir[0].idle = s->dir[1].idle = true;
	env->memory += sizeof *s;
	env->stats.sessions++;
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

void session_data(struct session_env *env, struct flow *f, int side, const uint8_t *p,
		  size_t len, uint64_t now)
{
	struct session *s = session_get(env, f);
	if (!s)
		return;
	struct h1_parser *hp = parser_of(env, f, s, side);
	if (!hp)
		return;
	struct session_dir *d = &s->dir[side];
	if (d->idle) {
		d->idle = false;
		d->msg_start_us = now;
	}
	struct cb_ctx c = {env, f, s, side, now};
	size_t before = h1_memory(hp);
	h1_feed(hp, p, len, &callbacks, &c);
	env->memory += h1_memory(hp) - before;
}

void session_gap(struct session_env *env, struct flow *f, int side, uint32_t len, uint64_t now)
{
	struct session *s = session_get(env, f);
	if (!s)
		return;
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
	if (!s || !s->dir[side].parser || s->done || h1_stopped(s->dir[side].parser))
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
	for (int side = 0; side < 2; side++) {
		if (s->dir[side].parser) {
			env->memory -= h1_memory(s->dir[side].parser);
			h1_free(s->dir[side].parser);
		}
	}
	env->memory -= sizeof *s;
	free(s);
	f->app = NULL;
}
