/*
 * http2.c - one planned connection as HTTP/2 with prior knowledge (RFC 9113
 * 3.3) over TCP: the client's connection preface, SETTINGS both ways and
 * their ACKs, connection and stream flow control (WINDOW_UPDATE, 6.9), one
 * stream per request (odd ids, concurrent when requests overlap), HEADERS
 * compressed with HPACK (RFC 7541) by libnghttp2's deflater (one per
 * direction, so the dynamic tables evolve as on a real connection), DATA
 * frames of at most 16384 bytes interleaved between concurrent streams,
 * cookie crumbs split (RFC 9113 8.2.3), GOAWAY from an idle server.
 *
 * Frame (RFC 9113 4.1):
 *   +-----------------------------------------------+
 *   |                 Length (24)                   |
 *   +---------------+---------------+---------------+
 *   |   Type (8)    |   Flags (8)   |
 *   +-+-------------+---------------+-------------------------------+
 *   |R|                 Stream Identifier (31)                      |
 *   +=+=============================================================+
 *   |                   Frame Payload (0...)                      ...
 *   +---------------------------------------------------------------+
 *
 * Frames are planned as jobs with a time, sorted, and the bytes made in that
 * order (HPACK state follows wire order); jobs of one direction a few
 * hundred microseconds apart leave in one write, as a real stack would send
 * them.
 */
#include "sim.h"

#include <stdlib.h>
#include <string.h>

#include <nghttp2/nghttp2.h>

#define H2_IDLE_US (180 * US_PER_S)
#define FRAME_MAX 16384
#define STREAM_WU (3u << 20)      /* the client returns stream window every 3 MiB */
#define CONN_WU (7u << 20)        /* ... and connection window every 7 MiB */
#define COALESCE_US 300

enum job_type { J_PREFACE, J_SRV_SETTINGS, J_CLI_ACK, J_REQ, J_RESP_HEADERS, J_DATA, J_WU, J_GOAWAY };

struct job {
	uint64_t ts;
	uint32_t seq;
	uint8_t type;
	uint8_t dir;
	uint8_t last;   /* J_DATA: END_STREAM */
	uint32_t req;   /* index in the connection */
	uint32_t stream;
	uint32_t off, len; /* J_DATA: body slice; J_WU: increment */
};

struct jobs {
	struct job *v;
	size_t n, cap;
};

static void job_add(struct jobs *j, struct job x)
{
	if (j->n == j->cap) {
		j->cap = j->cap ? j->cap * 2 : 64;
		j->v = xrealloc(j->v, j->cap * sizeof *j->v);
	}
	x.seq = (uint32_t)j->n;
	j->v[j->n++] = x;
}

static int job_cmp(const void *a, const void *b)
{
	const struct job *x = a, *y = b;
	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

struct out {
	uint8_t *p;
	size_t n, cap;
};

static void out_need(struct out *o, size_t more)
{
	if (o->n + more > o->cap) {
		o->cap = (o->n + more) * 2;
		o->p = xrealloc(o->p, o->cap);
	}
}

static void out_put(struct out *o, const void *p, size_t n)
{
	out_need(o, n);
	memcpy(o->p + o->n, p, n);
	o->n += n;
}

static void frame_head(struct out *o, size_t len, uint8_t type, uint8_t flags, uint32_t sid)
{
	uint8_t h[9] = {(uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len, type, flags,
			(uint8_t)(sid >> 24 & 0x7f), (uint8_t)(sid >> 16), (uint8_t)(sid >> 8), (uint8_t)sid};
	out_put(o, h, 9);
}

static void settings(struct out *o, const uint32_t (*kv)[2], size_t n)
{
	frame_head(o, n * 6, 0x4, 0, 0);
	for (size_t i = 0; i < n; i++) {
		uint8_t e[6] = {(uint8_t)(kv[i][0] >> 8), (uint8_t)kv[i][0], (uint8_t)(kv[i][1] >> 24),
				(uint8_t)(kv[i][1] >> 16), (uint8_t)(kv[i][1] >> 8), (uint8_t)kv[i][1]};
		out_put(o, e, 6);
	}
}

static void window_update(struct out *o, uint32_t sid, uint32_t inc)
{
	frame_head(o, 4, 0x8, 0, sid);
	uint8_t e[4] = {(uint8_t)(inc >> 24 & 0x7f), (uint8_t)(inc >> 16), (uint8_t)(inc >> 8), (uint8_t)inc};
	out_put(o, e, 4);
}

/* HEADERS (RFC 9113 6.2) with END_HEADERS, from an nv list through the deflater. */
static void headers(struct out *o, nghttp2_hd_deflater *d, nghttp2_nv *nv, size_t n, uint32_t sid,
		    bool end_stream)
{
	size_t bound = nghttp2_hd_deflate_bound(d, nv, n);
	uint8_t *blk = xmalloc(bound);
	ssize_t len = nghttp2_hd_deflate_hd(d, blk, bound, nv, n);
	if (len < 0 || len > FRAME_MAX)
		die("HPACK deflate failed: %s", nghttp2_strerror((int)len));
	frame_head(o, (size_t)len, 0x1, (uint8_t)(0x4 | (end_stream ? 0x1 : 0)), sid);
	out_put(o, blk, (size_t)len);
	free(blk);
}

static nghttp2_nv nv_of(const char *name, const char *value, uint8_t flags)
{
	nghttp2_nv nv = {(uint8_t *)(uintptr_t)name, (uint8_t *)(uintptr_t)value, strlen(name),
			 strlen(value), flags};
	return nv;
}

/* HTTP/1 spelled fields -> HTTP/2 fields: lower-case names, no connection-specific ones. */
static size_t h2_fields(const struct msg *m, nghttp2_nv *nv, size_t at, size_t cap, char (*lower)[40],
			char *crumbs, size_t crumbcap)
{
	size_t used = 0;
	for (int i = 0; i < m->n && at < cap; i++) {
		const char *name = m->name[i];
		if (!strcmp(name, "Host") || !strcmp(name, "Connection") || !strcmp(name, "Transfer-Encoding"))
			continue;
		size_t k = 0;
		for (; name[k] && k < 39; k++)
			lower[i][k] = (char)(name[k] >= 'A' && name[k] <= 'Z' ? name[k] + 32 : name[k]);
		lower[i][k] = 0;
		if (!strcmp(lower[i], "cookie")) {
			/* one field per cookie-pair */
			const char *v = m->value[i];
			while (*v && at < cap) {
				const char *e = strstr(v, "; ");
				size_t len = e ? (size_t)(e - v) : strlen(v);
				if (used + len + 1 > crumbcap)
					break;
				memcpy(crumbs + used, v, len);
				crumbs[used + len] = 0;
				nv[at++] = nv_of(lower[i], crumbs + used, NGHTTP2_NV_FLAG_NONE);
				used += len + 1;
				v = e ? e + 2 : v + len;
			}
			continue;
		}
		nv[at++] = nv_of(lower[i], m->value[i],
				 !strcmp(lower[i], "authorization") || !strcmp(lower[i], "x-api-key")
					 ? NGHTTP2_NV_FLAG_NO_INDEX : NGHTTP2_NV_FLAG_NONE);
	}
	return at;
}

void render_h2(struct world *w, struct sink *s, const struct conn *c, uint16_t cport)
{
	struct addr cli, srv;
	struct tcpc t;
	struct jobs jobs = {0};
	struct out o = {0};
	nghttp2_hd_deflater *cd, *sd;
	bool browser = agents[c->agent].browser;
	uint64_t h = mix64(c->start ^ ((uint64_t)cport << 40) ^ (uint64_t)c->ident ^ 0x2);
	uint32_t rtt = c->rtt_us;
	uint32_t frame_us = (uint32_t)((uint64_t)FRAME_MAX * 8 / (c->bw_mbps ? c->bw_mbps : 100));

	wire_client(c, &cli);
	server_addr(&cli, &srv);
	tcp_init(&t, s, &cli, cport, &srv, API_PORT, rtt, c->bw_mbps, cli.v6 ? 1440 : c->mss, c->ttl,
		 (uint32_t)h, (uint32_t)(h >> 32));
	if (nghttp2_hd_deflate_new(&cd, 4096) || nghttp2_hd_deflate_new(&sd, 4096))
		die("nghttp2_hd_deflate_new failed");
	uint64_t ready = tcp_open(&t, c->start - rtt - 500);

	/* plan */
	job_add(&jobs, (struct job){.ts = ready, .type = J_PREFACE, .dir = C2S});
	job_add(&jobs, (struct job){.ts = ready + 40, .type = J_SRV_SETTINGS, .dir = S2C});
	job_add(&jobs, (struct job){.ts = ready + 40 + rtt, .type = J_CLI_ACK, .dir = C2S});
	uint64_t last = ready, conn_bytes = 0;
	for (uint32_t i = 0; i < c->n; i++) {
		const struct req *q = &w->reqs[c->first + i];
		uint64_t ts = q->ts > ready ? q->ts : ready;
		uint32_t sid = 2 * i + 1;
		job_add(&jobs, (struct job){.ts = ts, .type = J_REQ, .dir = C2S, .req = i, .stream = sid});
		uint64_t tr = ts + 80 + (uint64_t)q->req_len * 8 / 100 + (uint64_t)q->proc_ms * 1000;
		bool body = q->status != 204 && q->resp_len;
		job_add(&jobs, (struct job){.ts = tr, .type = J_RESP_HEADERS, .dir = S2C, .req = i,
					    .stream = sid, .last = !body});
		uint64_t end = tr;
		if (body) {
			uint32_t nfr = (q->resp_len + FRAME_MAX - 1) / FRAME_MAX, since_wu = 0;
			for (uint32_t k = 0; k < nfr; k++) {
				uint32_t off = k * FRAME_MAX;
				uint32_t len = q->resp_len - off < FRAME_MAX ? q->resp_len - off : FRAME_MAX;
				end = tr + 20 + (uint64_t)k * frame_us;
				job_add(&jobs, (struct job){.ts = end, .type = J_DATA, .dir = S2C, .req = i,
							    .stream = sid, .off = off, .len = len,
							    .last = k + 1 == nfr});
				since_wu += len;
				conn_bytes += len;
				if (since_wu >= STREAM_WU && k + 1 < nfr) {
					job_add(&jobs, (struct job){.ts = end + rtt + 50, .type = J_WU, .dir = C2S,
								    .stream = sid, .len = since_wu});
					since_wu = 0;
				}
				if (conn_bytes >= CONN_WU) {
					job_add(&jobs, (struct job){.ts = end + rtt + 60, .type = J_WU, .dir = C2S,
								    .stream = 0, .len = (uint32_t)conn_bytes});
					conn_bytes = 0;
				}
			}
		}
		if (end > last)
			last = end;
	}
	bool client_closes = c->flags & CF_CLIENT_CLOSES;
	uint64_t t_close = client_closes ? last + rtt + 5000 : last + H2_IDLE_US;
	if (!client_closes)
		job_add(&jobs, (struct job){.ts = t_close, .type = J_GOAWAY, .dir = S2C});
	qsort(jobs.v, jobs.n, sizeof *jobs.v, job_cmp);

	/* make the bytes in wire order */
	uint64_t wts = 0;
	int wdir = -1;
	for (size_t k = 0; k <= jobs.n; k++) {
		const struct job *j = k < jobs.n ? &jobs.v[k] : NULL;
		if (wdir >= 0 && (!j || j->dir != wdir || j->ts > wts + COALESCE_US)) {
			tcp_send(&t, wdir, wts, o.p, o.n);
			o.n = 0;
			wdir = -1;
		}
		if (!j)
			break;
		if (wdir < 0) {
			wdir = j->dir;
			wts = j->ts;
		}
		const struct req *q = &w->reqs[c->first + j->req];
		struct msg m;
		nghttp2_nv nv[MSG_MAX_HDRS + 16];
		char lower[MSG_MAX_HDRS][40], crumbs[1024], path[1024], status[8];
		size_t n = 0;
		switch (j->type) {
		case J_PREFACE: {
			static const uint32_t chrome[][2] = {{1, 65536}, {2, 0}, {4, 6291456}, {6, 262144}};
			static const uint32_t lib[][2] = {{2, 0}, {4, 4194304}, {6, 10485760}};
			out_put(&o, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24);
			if (browser)
				settings(&o, chrome, 4);
			else
				settings(&o, lib, 3);
			window_update(&o, 0, browser ? 15663105 : 1073676289);
			break;
		}
		case J_SRV_SETTINGS: {
			static const uint32_t srv_set[][2] = {{3, 128}, {4, 65536}, {5, 16777215}};
			settings(&o, srv_set, 3);
			window_update(&o, 0, 2147418112);
			frame_head(&o, 0, 0x4, 0x1, 0); /* ACK of the client's SETTINGS */
			break;
		}
		case J_CLI_ACK:
			frame_head(&o, 0, 0x4, 0x1, 0);
			break;
		case J_REQ:
			api_request(w, c, q, j->ts, true, path, sizeof path, &m);
			nv[n++] = nv_of(":method", api_routes[q->route].method, 0);
			nv[n++] = nv_of(":authority", API_HOST, 0);
			nv[n++] = nv_of(":scheme", "http", 0);
			nv[n++] = nv_of(":path", path, 0);
			n = h2_fields(&m, nv, n, sizeof nv / sizeof nv[0], lower, crumbs, sizeof crumbs);
			headers(&o, cd, nv, n, j->stream, !q->req_len);
			if (q->req_len) {
				uint8_t rb[4096];
				size_t len = q->req_len < sizeof rb ? q->req_len : sizeof rb;
				api_body(rb, len, (uint32_t)q->ts);
				frame_head(&o, len, 0x0, 0x1, j->stream);
				out_put(&o, rb, len);
			}
			break;
		case J_RESP_HEADERS:
			api_response(c, q, j->ts, true, false, &m);
			snprintf(status, sizeof status, "%u", q->status);
			nv[n++] = nv_of(":status", status, 0);
			n = h2_fields(&m, nv, n, sizeof nv / sizeof nv[0], lower, crumbs, sizeof crumbs);
			headers(&o, sd, nv, n, j->stream, j->last);
			break;
		case J_DATA:
			frame_head(&o, j->len, 0x0, j->last ? 0x1 : 0, j->stream);
			out_need(&o, j->len);
			api_body_slice(o.p + o.n, q->resp_len, j->off, j->len, q->obj);
			o.n += j->len;
			break;
		case J_WU:
			window_update(&o, j->stream, j->len);
			break;
		case J_GOAWAY: {
			uint32_t lastsid = c->n ? 2 * c->n - 1 : 0;
			frame_head(&o, 8, 0x7, 0, 0);
			uint8_t g[8] = {(uint8_t)(lastsid >> 24), (uint8_t)(lastsid >> 16),
					(uint8_t)(lastsid >> 8), (uint8_t)lastsid, 0, 0, 0, 0};
			out_put(&o, g, 8);
			break;
		}
		}
	}
	tcp_close(&t, client_closes ? C2S : S2C, t_close + 100, client_closes && (c->flags & CF_RST));
	nghttp2_hd_deflate_del(cd);
	nghttp2_hd_deflate_del(sd);
	free(o.p);
	free(jobs.v);
}
