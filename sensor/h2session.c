/*
 * h2session.c - HTTP/2 exchanges of one connection: the streams of RFC 9113
 * 5.1 as a passive observer sees them, one api_event per stream.
 *
 * decoders/http2.c turns both directions' bytes into header blocks, DATA
 * counts and stream ends; here they are put together per stream:
 *   request  HEADERS from the client (or the HTTP/1.1 request of an h2c
 *            upgrade, stream 1, RFC 7540 3.2; or a server's PUSH_PROMISE,
 *            RFC 9113 8.4): ts, :method, :path, :authority (else Host),
 *            user-agent, content-type;
 *   response the final :status (1xx are interim, RFC 9113 8.1), its fields;
 *   trailers grpc-status and grpc-message (gRPC, and gRPC's Trailers-Only
 *            responses carry them in the response fields);
 *   DATA     req_bytes / resp_bytes, padding excluded.
 * A stream's event is emitted when both directions ended it (END_STREAM), on
 * RST_STREAM, on a GOAWAY whose last-stream-id leaves it unprocessed (RFC 9113
 * 6.8: streams above it, opened by the GOAWAY's receiver), or when the
 * connection ends; status stays null unless a final response was seen.
 * A client's RST_STREAM crosses the server's response on the wire: the
 * server may have sent it before it read the reset (RFC 9113 5.4.2, 6.4). So
 * a stream the client reset before any response lingers until the server
 * ends or resets it too, or for H2_RESET_LINGER_US of packet time, and a
 * response that was already in flight still counts.
 *
 * Midstream, which side is the client is the caller's guess. The first
 * block that tells (pseudo-headers of a request or a response, a
 * PUSH_PROMISE) settles it; if the guess was wrong, the sides are swapped for
 * the rest of the connection (counted).
 *
 * Streams are kept in creation order in a table of at most h2.max_streams;
 * a new stream beyond it emits the oldest first (counted), and so does a new
 * stream while all sessions together are over http.memcap (as HTTP/1 does). Server frames for
 * a stream whose request was never seen (a capture that began after it) are
 * counted as orphans and not emitted: an event is about a request.
 */
#include "h2session.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "exchange.h"

/* How long (packet time) a stream reset by the client waits for a response
 * already on its way: a few round trips of a slow WAN link. */
#define H2_RESET_LINGER_US 2000000u

struct h2stream {
	uint32_t id;
	bool req_end;   /* END_STREAM (or the h2c request) from the client */
	bool resp_end;  /* END_STREAM from the server */
	bool reset;     /* the client reset it; lingering (see the top) */
	uint64_t reset_at;
	struct api_event ev;
};

_Static_assert(sizeof(struct h2stream) <= SESSION_RECORD_SIZE, "a stream fits a record");

struct h2session {
	struct session_env *env;
	struct api_event tmpl;    /* endpoints; what every stream's event starts from */
	struct h2_conn *dec;
	struct h2stream **tab;    /* open streams, oldest first */
	uint32_t n, cap;
	struct h2stream *last;    /* the stream looked up last */
	uint64_t now;
	uint32_t n_lingering;     /* streams with `reset` set */
	bool roles_known;         /* which side is the client is settled */
	bool swapped;             /* ... and it is the side the caller called server */
	size_t accounted;         /* what this session added to env->memory */
};

static struct h2_stats *stats_of(struct h2session *h)
{
	return &h->env->stats.h2;
}

static void account(struct h2session *h)
{
	size_t now = sizeof *h + h->cap * sizeof *h->tab + h->n * sizeof(struct h2stream) +
		     (h->dec ? h2_memory(h->dec) : 0);
	h->env->memory = h->env->memory - h->accounted + now;
	h->accounted = now;
}

static struct h2stream *find(struct h2session *h, uint32_t id)
{
	if (h->last && h->last->id == id)
		return h->last;
	for (uint32_t i = 0; i < h->n; i++) {
		if (h->tab[i]->id == id) {
			h->last = h->tab[i];
			return h->last;
		}
	}
	return NULL;
}

/* Emits the stream at tab[i] and frees it. */
static void emit_at(struct h2session *h, uint32_t i)
{
	struct h2stream *s = h->tab[i];
	struct api_event *ev = &s->ev;
	struct h2_stats *st = stats_of(h);
	if (ev->status && !ev->end_us)
		ev->end_us = h->now;
	st->v[H2_STAT_EVENTS]++;
	if (!ev->status)
		st->v[H2_STAT_NO_RESPONSE]++;
	if (ev->partial)
		st->v[H2_STAT_PARTIAL]++;
	session_emit(h->env, ev);
	if (s->reset)
		h->n_lingering--;
	memmove(h->tab + i, h->tab + i + 1, (h->n - i - 1) * sizeof *h->tab);
	h->n--;
	if (h->last == s)
		h->last = NULL;
	session_record_put(h->env, s);
	account(h);
}

static void emit_stream(struct h2session *h, struct h2stream *s)
{
	for (uint32_t i = 0; i < h->n; i++) {
		if (h->tab[i] == s) {
			emit_at(h, i);
			return;
		}
	}
}

/* The members every event of the connection shares: endpoints, protocol, no gRPC status yet. */
static void conn_members(struct api_event *ev, const struct api_event *from)
{
	memcpy(ev->client_ip, from->client_ip, sizeof ev->client_ip);
	memcpy(ev->server_ip, from->server_ip, sizeof ev->server_ip);
	ev->client_port = from->client_port;
	ev->server_port = from->server_port;
	ev->vlan = from->vlan;
	ev->proto = EV_HTTP2;
	ev->grpc_status = -1;
}

/*
 * A new stream's event on a reused record: a zeroed event with the members
 * h2session_new sets in h->tmpl (the endpoints swapped by settle_roles).
 * Copying all of h->tmpl instead would write 5.6 KiB a stream.
 */
static void stream_event_init(const struct h2session *h, struct api_event *ev)
{
	exchange_reset(ev);
	conn_members(ev, &h->tmpl);
}

/* A new stream with the connection's endpoints; the oldest goes out when full. */
static struct h2stream *stream_new(struct h2session *h, uint32_t id)
{
	if (h->cap == 0)
		return NULL;
	if (h->n == h->cap) {
		stats_of(h)->v[H2_STAT_STREAMS_EVICTED]++;
		emit_at(h, 0);
	}
	if (h->n && h->env->lim.memcap &&
	    h->env->memory + sizeof(struct h2stream) > h->env->lim.memcap) {
		stats_of(h)->v[H2_STAT_STREAMS_EVICTED]++;
		h->env->stats.memcap_early++;
		emit_at(h, 0);
	}
	struct h2stream *s = session_record_get(h->env);
	if (!s)
		return NULL;
	s->id = id;
	s->req_end = s->resp_end = s->reset = false;
	s->reset_at = 0;
	stream_event_init(h, &s->ev);
	s->ev.stream_id = id;
	s->ev.ts_us = h->now;
	h->tab[h->n++] = s;
	h->last = s;
	stats_of(h)->v[H2_STAT_STREAMS]++;
	account(h);
	return s;
}

static bool is(const struct h2_field *f, const char *name)
{
	size_t n = strlen(name);
	return f->namelen == n && memcmp(f->name, name, n) == 0;
}

/* grpc-status and grpc-message, wherever they come (trailers, Trailers-Only). */
static void grpc_fields(struct api_event *ev, const struct h2_field *f)
{
	if (is(f, "grpc-status")) {
		int v = 0;
		size_t i = 0;
		for (; i < f->valuelen && i < 9 && f->value[i] >= '0' && f->value[i] <= '9'; i++)
			v = v * 10 + (f->value[i] - '0');
		ev->grpc_status = i > 0 && i == f->valuelen ? v : -1;
	} else if (is(f, "grpc-message")) {
		size_t n = f->valuelen < sizeof ev->grpc_message - 1 ? f->valuelen
								   : sizeof ev->grpc_message - 1;
		memcpy(ev->grpc_message, f->value, n);
		ev->grpc_message[n] = '\0';
	}
}

static void fill_request(struct api_event *ev, const struct exchange_config *xc,
			 const struct h2_block *b)
{
	for (uint32_t i = 0; i < b->n_fields; i++) {
		const struct h2_field *f = &b->fields[i];
		if (is(f, ":method"))
			exchange_set_method(ev, f->value, f->valuelen);
		else if (is(f, ":path"))
			exchange_set_target(ev, f->value, f->valuelen);
		else if (is(f, ":authority"))
			exchange_set_host(ev, f->value, f->valuelen);
		else if (f->namelen > 0 && f->name[0] != ':')
			exchange_request_header(ev, xc, f->name, f->namelen, f->value, f->valuelen);
	}
	if (b->partial)
		ev->partial = true;
}

/* Response fields: the final :status and its fields; 1xx are interim. */
static void fill_response(struct api_event *ev, const struct h2_block *b)
{
	int status = 0;
	for (uint32_t i = 0; i < b->n_fields; i++) {
		const struct h2_field *f = &b->fields[i];
		if (is(f, ":status") && f->valuelen == 3) {
			status = 0;
			for (int k = 0; k < 3; k++)
				if (f->value[k] >= '0' && f->value[k] <= '9')
					status = status * 10 + (f->value[k] - '0');
				else
					status = -1000;
			if (status < 100)
				status = 0;
		}
	}
	if (status >= 100 && status < 200)
		return; /* interim (RFC 9113 8.1); 101 is not allowed in HTTP/2 */
	if (status)
		ev->status = status;
	for (uint32_t i = 0; i < b->n_fields; i++) {
		const struct h2_field *f = &b->fields[i];
		if (f->namelen > 0 && f->name[0] != ':') {
			exchange_response_header(ev, f->name, f->namelen, f->value, f->valuelen);
			grpc_fields(ev, f);
		}
	}
	if (b->partial)
		ev->partial = true;
}

static void swap_endpoints(struct api_event *ev)
{
	uint8_t ip[16];
	memcpy(ip, ev->client_ip, sizeof ip);
	memcpy(ev->client_ip, ev->server_ip, sizeof ip);
	memcpy(ev->server_ip, ip, sizeof ip);
	uint16_t port = ev->client_port;
	ev->client_port = ev->server_port;
	ev->server_port = port;
}

/* Midstream: does this block show which side is the client? */
static void settle_roles(struct h2session *h, bool from_client, const struct h2_block *b)
{
	bool says_client;
	if (b->promised_id)
		says_client = false;
	else if (b->kind == H2_BLOCK_REQUEST)
		says_client = true;
	else if (b->kind == H2_BLOCK_RESPONSE)
		says_client = false;
	else
		return;
	h->roles_known = true;
	if (says_client == from_client)
		return;
	h->swapped = true;
	stats_of(h)->v[H2_STAT_ROLES_SWAPPED]++;
	swap_endpoints(&h->tmpl);
	for (uint32_t i = 0; i < h->n; i++) {
		struct h2stream *s = h->tab[i];
		swap_endpoints(&s->ev);
		bool e = s->req_end;
		s->req_end = s->resp_end;
		s->resp_end = e;
		uint64_t n = s->ev.req_bytes;
		s->ev.req_bytes = s->ev.resp_bytes;
		s->ev.resp_bytes = n;
	}
}

static void on_headers(void *ctx, bool from_client, const struct h2_block *b)
{
	struct h2session *h = ctx;
	struct h2_stats *st = stats_of(h);
	if (!h->roles_known)
		settle_roles(h, from_client, b);
	from_client ^= h->swapped;
	if (b->promised_id) {
		/* A push: the promised stream's request; it has no content (8.4). */
		if (from_client || find(h, b->promised_id))
			return;
		struct h2stream *s = stream_new(h, b->promised_id);
		if (!s)
			return;
		st->v[H2_STAT_PUSHES]++;
		s->ev.pushed = true;
		s->req_end = true;
		fill_request(&s->ev, &h->env->lim.exchange, b);
		return;
	}
	struct h2stream *s = find(h, b->stream_id);
	if (from_client) {
		if (s) {
			if (b->partial)
				s->ev.partial = true; /* trailers lost fields */
			return;
		}
		if (b->kind == H2_BLOCK_TRAILERS) {
			st->v[H2_STAT_ORPHANS]++;
			return;
		}
		s = stream_new(h, b->stream_id);
		if (s)
			fill_request(&s->ev, &h->env->lim.exchange, b);
		return;
	}
	if (!s) {
		st->v[H2_STAT_ORPHANS]++;
		return;
	}
	switch (b->kind) {
	case H2_BLOCK_RESPONSE:
		fill_response(&s->ev, b);
		break;
	case H2_BLOCK_UNKNOWN:
		/* Its :status was lost: a response without status, or trailers. */
		if (!s->ev.status)
			fill_response(&s->ev, b);
		s->ev.partial = true;
		break;
	case H2_BLOCK_TRAILERS:
	case H2_BLOCK_REQUEST:
		for (uint32_t i = 0; i < b->n_fields; i++)
			grpc_fields(&s->ev, &b->fields[i]);
		break;
	}
}

static void on_data(void *ctx, bool from_client, uint32_t stream_id, uint64_t n, bool missing)
{
	struct h2session *h = ctx;
	from_client ^= h->swapped;
	struct h2stream *s = find(h, stream_id);
	if (!s)
		return;
	if (from_client)
		s->ev.req_bytes += n;
	else
		s->ev.resp_bytes += n;
	if (missing)
		s->ev.gap = true;
}

static void on_end_stream(void *ctx, bool from_client, uint32_t stream_id)
{
	struct h2session *h = ctx;
	from_client ^= h->swapped;
	struct h2stream *s = find(h, stream_id);
	if (!s)
		return;
	if (from_client) {
		s->req_end = true;
	} else {
		s->resp_end = true;
		if (s->ev.status)
			s->ev.end_us = h->now;
	}
	if (s->req_end && s->resp_end)
		emit_stream(h, s);
}

static void on_rst_stream(void *ctx, bool from_client, uint32_t stream_id, uint32_t error)
{
	(void)error;
	struct h2session *h = ctx;
	from_client ^= h->swapped;
	struct h2stream *s = find(h, stream_id);
	if (!s)
		return;
	if (from_client && !s->reset && !s->ev.status && !s->resp_end) {
		stats_of(h)->v[H2_STAT_RESETS]++;
		s->reset = true;
		s->reset_at = h->now;
		s->req_end = true;
		h->n_lingering++;
		return;
	}
	if (!s->reset)
		stats_of(h)->v[H2_STAT_RESETS]++;
	emit_stream(h, s);
}

/* Client-reset streams whose response did not come in time. */
static void linger_expire(struct h2session *h)
{
	for (uint32_t i = 0; i < h->n && h->n_lingering;) {
		struct h2stream *s = h->tab[i];
		if (s->reset && h->now - s->reset_at > H2_RESET_LINGER_US)
			emit_at(h, i);
		else
			i++;
	}
}

static void on_goaway(void *ctx, bool from_client, uint32_t last_stream_id, uint32_t error)
{
	(void)error;
	struct h2session *h = ctx;
	from_client ^= h->swapped;
	/* Streams the GOAWAY's receiver opened above last_stream_id were not
	 * and will not be processed (RFC 9113 6.8); clients open odd ones. */
	uint32_t parity = from_client ? 0 : 1;
	for (uint32_t i = 0; i < h->n;) {
		struct h2stream *s = h->tab[i];
		if ((s->id & 1) == parity && s->id > last_stream_id) {
			stats_of(h)->v[H2_STAT_GOAWAY_REFUSED]++;
			emit_at(h, i);
		} else {
			i++;
		}
	}
}

static void on_lost(void *ctx, bool from_client)
{
	struct h2session *h = ctx;
	from_client ^= h->swapped;
	for (uint32_t i = 0; i < h->n; i++) {
		struct h2stream *s = h->tab[i];
		if (from_client ? !s->req_end : !s->resp_end)
			s->ev.gap = true;
	}
}

static const struct h2_callbacks callbacks = {
	.on_headers = on_headers,
	.on_data = on_data,
	.on_end_stream = on_end_stream,
	.on_rst_stream = on_rst_stream,
	.on_goaway = on_goaway,
	.on_lost = on_lost,
};

struct h2session *h2session_new(struct session_env *env, const struct api_event *endpoints,
				bool midstream)
{
	struct h2session *h = calloc(1, sizeof *h);
	if (!h)
		return NULL;
	h->env = env;
	h->cap = env->lim.h2.max_streams;
	h->tab = calloc(h->cap ? h->cap : 1, sizeof *h->tab);
	h->dec = h2_conn_new(&env->lim.h2, &env->stats.h2, midstream);
	if (!h->tab || !h->dec) {
		h2_conn_free(h->dec);
		free(h->tab);
		free(h);
		return NULL;
	}
	conn_members(&h->tmpl, endpoints);
	h->roles_known = !midstream;
	session_env_enter(env);
	env->stats.h2.v[H2_STAT_CONNECTIONS]++;
	if (midstream)
		env->stats.h2.v[H2_STAT_MIDSTREAM]++;
	account(h);
	return h;
}

void h2session_upgrade(struct h2session *h, const struct api_event *request)
{
	h->env->stats.h2.v[H2_STAT_UPGRADES]++;
	h2_conn_upgraded(h->dec);
	struct h2stream *s = find(h, 1);
	if (s)
		return;
	uint64_t now = h->now;
	h->now = request->ts_us;
	s = stream_new(h, 1);
	h->now = now;
	if (!s)
		return;
	/* The request as HTTP/1.1 saw it; its response comes on stream 1. */
	s->ev = *request;
	s->ev.proto = EV_HTTP2;
	s->ev.stream_id = 1;
	s->ev.status = 0;
	s->ev.end_us = 0;
	s->ev.resp_bytes = 0;
	if (s->ev.resp_content_type) {
		s->ev.has_content_type = false;
		s->ev.resp_content_type = false;
		s->ev.content_type[0] = '\0';
	}
	s->ev.grpc_status = -1;
	s->req_end = true;
	account(h);
}

void h2session_data(struct h2session *h, bool from_client, const uint8_t *p, size_t len,
		    uint64_t now)
{
	h->now = now;
	h2_feed(h->dec, from_client, p, len, &callbacks, h);
	if (h->n_lingering)
		linger_expire(h);
	account(h);
}

void h2session_gap(struct h2session *h, bool from_client, uint32_t len, uint64_t now)
{
	h->now = now;
	h2_gap(h->dec, from_client, len, &callbacks, h);
	account(h);
}

void h2session_end(struct h2session *h, uint64_t now)
{
	h->now = now;
	while (h->n)
		emit_at(h, 0);
	h2_conn_free(h->dec);
	h->dec = NULL;
	h->env->memory -= h->accounted;
	session_env_leave(h->env);
	free(h->tab);
	free(h);
}

bool h2session_looks_like_frames(const uint8_t *p, size_t len)
{
	return h2_looks_like_frames(p, len);
}
