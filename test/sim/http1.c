/*
 * http1.c - one planned connection as HTTP/1.1 (RFC 9112) over TCP:
 * keep-alive, one exchange at a time (no pipelining, as browsers and
 * client libraries do), Content-Length bodies, chunked responses for large
 * downloads (RFC 9112 7.1), closed by the server when idle or by the client.
 */
#include "sim.h"

#include <stdlib.h>
#include <string.h>

/* Idle time after which the server closes a keep-alive connection (nginx's
 * keepalive_timeout default). emit_activity() splits activity to match. */
#define H1_IDLE_US (75 * US_PER_S)
#define CHUNKED_ABOVE (256 * 1024)
#define CHUNK 16384

static const struct addr proxy_addr = {0, {10, 0, 1, 5}};
static const struct addr server4 = {0, {10, 0, 0, 10}};
static const struct addr server6 = {1, {0x20, 0x01, 0x0d, 0xb8, 0x01, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10}};

void server_addr(const struct addr *client, struct addr *out)
{
	*out = client->v6 ? server6 : server4;
}

void wire_client(const struct conn *c, struct addr *out)
{
	*out = (c->flags & CF_PROXY) ? proxy_addr : c->client;
}

struct buf {
	uint8_t *p;
	size_t n, cap;
};

static void buf_need(struct buf *b, size_t more)
{
	if (b->n + more > b->cap) {
		b->cap = (b->n + more) * 2;
		b->p = xrealloc(b->p, b->cap);
	}
}

static void buf_put(struct buf *b, const void *p, size_t n)
{
	buf_need(b, n);
	memcpy(b->p + b->n, p, n);
	b->n += n;
}

static void buf_str(struct buf *b, const char *s)
{
	buf_put(b, s, strlen(s));
}

static void put_head(struct buf *b, const struct msg *m)
{
	for (int i = 0; i < m->n; i++) {
		buf_str(b, m->name[i]);
		buf_put(b, ": ", 2);
		buf_str(b, m->value[i]);
		buf_put(b, "\r\n", 2);
	}
	buf_put(b, "\r\n", 2);
}

void render_h1(struct world *w, struct sink *s, const struct conn *c, uint16_t cport)
{
	struct addr cli, srv;
	struct tcpc t;
	struct buf rq = {0}, rs = {0};
	struct msg m;
	char path[1024], line[1200];
	bool proxied = c->flags & CF_PROXY;
	uint32_t rtt = proxied ? 250 : c->rtt_us;
	uint64_t h = mix64(c->start ^ ((uint64_t)cport << 40) ^ (uint64_t)c->ident);

	wire_client(c, &cli);
	server_addr(&cli, &srv);
	tcp_init(&t, s, &cli, cport, &srv, API_PORT, rtt, proxied ? 1000 : c->bw_mbps,
		 cli.v6 ? 1440 : (proxied ? 1460 : c->mss), proxied ? 64 : c->ttl, (uint32_t)h,
		 (uint32_t)(h >> 32));
	uint64_t ready = tcp_open(&t, c->start - rtt - 400);
	uint64_t last = ready;

	for (uint32_t i = 0; i < c->n; i++) {
		const struct req *q = &w->reqs[c->first + i];
		uint64_t ts = q->ts > ready ? q->ts : ready;

		api_request(w, c, q, ts, false, path, sizeof path, &m);
		rq.n = 0;
		snprintf(line, sizeof line, "%s %s HTTP/1.1\r\n", api_routes[q->route].method, path);
		buf_str(&rq, line);
		put_head(&rq, &m);
		if (q->req_len) {
			buf_need(&rq, q->req_len);
			api_body(rq.p + rq.n, q->req_len, (uint32_t)q->ts);
			rq.n += q->req_len;
		}
		uint64_t sent = tcp_send(&t, C2S, ts, rq.p, rq.n);

		uint64_t tr = sent + 60 + (uint64_t)q->proc_ms * 1000;
		bool chunked = q->resp_len > CHUNKED_ABOVE;
		api_response(c, q, tr, false, chunked, &m);
		rs.n = 0;
		snprintf(line, sizeof line, "HTTP/1.1 %u %s\r\n", q->status, api_reason(q->status));
		buf_str(&rs, line);
		put_head(&rs, &m);
		if (q->status != 204 && q->resp_len) {
			if (!chunked) {
				buf_need(&rs, q->resp_len);
				api_body(rs.p + rs.n, q->resp_len, q->obj);
				rs.n += q->resp_len;
			} else {
				/* the body in CHUNK-sized chunks, then the last chunk */
				size_t body = q->resp_len, off = 0;
				while (off < body) {
					size_t k = body - off < CHUNK ? body - off : CHUNK;
					snprintf(line, sizeof line, "%zx\r\n", k);
					buf_str(&rs, line);
					buf_need(&rs, k + 2);
					api_body_slice(rs.p + rs.n, body, off, k, q->obj);
					rs.n += k;
					buf_put(&rs, "\r\n", 2);
					off += k;
				}
				buf_put(&rs, "0\r\n\r\n", 5);
			}
		}
		last = tcp_send(&t, S2C, tr, rs.p, rs.n);
		/* the client reads the response, then may send the next request */
		ready = last + rtt + 300;
	}
	if (c->flags & CF_CLIENT_CLOSES)
		tcp_close(&t, C2S, ready + 2000, c->flags & CF_RST);
	else
		tcp_close(&t, S2C, last + H1_IDLE_US, false);
	free(rq.p);
	free(rs.p);
}
