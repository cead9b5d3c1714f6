/*
 * test_http1.c - the HTTP/1 parser against its contract (decoders/http1.h).
 *
 * A recording sink turns every callback into text ("H:GET /a 1.1|B:5|E|",
 * "X:gap:1|"), so a test compares one string. Consecutive on_body calls are
 * merged: how many there are depends on the pieces, the byte count does not.
 * The split tests feed the same streams whole, in two pieces at every offset
 * and byte by byte, and require the same log and the same counters.
 */
#include "../decoders/http1.h"
#include "unit.h"

#include <stdarg.h>
#include <stdlib.h>

struct rec {
	char log[8192];
	size_t len;
	uint64_t body;                /* on_body bytes not yet written to the log */
	enum h1_body_mode modes[8];   /* what on_head returns, in turn; then AUTO */
	int n_modes, next_mode;
	/* details of the last head, copied (the head lives for the call only) */
	char fields[2048];
	uint32_t n_headers;
	bool truncated, chunked, conn_close, conn_keep_alive, conn_upgrade, expect;
	bool version_missing;
	int version_minor;
	int64_t content_length;
	char upgrade[64];
};

static void rec_add(struct rec *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void rec_add(struct rec *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(r->log + r->len, sizeof r->log - r->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		r->len += (size_t)n < sizeof r->log - r->len ? (size_t)n : sizeof r->log - r->len - 1;
}

static void rec_flush(struct rec *r)
{
	if (r->body) {
		rec_add(r, "B:%" PRIu64 "|", r->body);
		r->body = 0;
	}
}

static const char *rec_str(struct rec *r)
{
	rec_flush(r);
	return r->log;
}

static enum h1_body_mode rec_head(void *ctx, const struct h1_head *h)
{
	struct rec *r = ctx;
	rec_flush(r);
	if (h->is_request) {
		if (h->version_missing)
			rec_add(r, "H:%.*s %.*s -|", (int)h->method.len, h->method.p,
				(int)h->target.len, h->target.p);
		else
			rec_add(r, "H:%.*s %.*s 1.%d|", (int)h->method.len, h->method.p,
				(int)h->target.len, h->target.p, h->version_minor);
	} else {
		rec_add(r, "H:%d 1.%d|", h->status, h->version_minor);
	}
	size_t fl = 0;
	r->fields[0] = '\0';
	for (uint32_t i = 0; i < h->n_headers && fl < sizeof r->fields - 1; i++) {
		int n = snprintf(r->fields + fl, sizeof r->fields - fl, "%.*s=%.*s;",
				 (int)h->headers[i].name.len, h->headers[i].name.p,
				 (int)h->headers[i].value.len, h->headers[i].value.p);
		if (n > 0)
			fl += (size_t)n;
	}
	r->n_headers = h->n_headers;
	r->truncated = h->headers_truncated;
	r->chunked = h->chunked;
	r->conn_close = h->conn_close;
	r->conn_keep_alive = h->conn_keep_alive;
	r->conn_upgrade = h->conn_upgrade;
	r->expect = h->expect_continue;
	r->version_missing = h->version_missing;
	r->version_minor = h->version_minor;
	r->content_length = h->content_length;
	snprintf(r->upgrade, sizeof r->upgrade, "%.*s", (int)h->upgrade.len,
		 h->upgrade.p ? h->upgrade.p : "");
	return r->next_mode < r->n_modes ? r->modes[r->next_mode++] : H1_BODY_AUTO;
}

static void rec_body(void *ctx, uint64_t n)
{
	struct rec *r = ctx;
	r->body += n;
}

static void rec_end(void *ctx)
{
	struct rec *r = ctx;
	rec_flush(r);
	rec_add(r, "E|");
}

static void rec_error(void *ctx, enum h1_error err, bool in_message)
{
	struct rec *r = ctx;
	rec_flush(r);
	rec_add(r, "X:%s:%d|", h1_error_names[err], in_message ? 1 : 0);
}

static const struct h1_callbacks rec_cb = { rec_head, rec_body, rec_end, rec_error };

/* A parser with its recorder and counters. */
struct t {
	struct rec r;
	struct h1_stats st;
	struct h1_parser *p;
};

static struct t *t_new(enum h1_kind kind, bool midstream, const struct h1_limits *lim)
{
	struct t *t = calloc(1, sizeof *t);
	if (!t)
		abort();
	t->p = h1_new(kind, midstream, lim, &t->st);
	if (!t->p)
		abort();
	return t;
}

static void t_free(struct t *t)
{
	h1_free(t->p);
	free(t);
}

static void feed(struct t *t, const char *s)
{
	h1_feed(t->p, (const uint8_t *)s, strlen(s), &rec_cb, &t->r);
}

static void feedn(struct t *t, const void *s, size_t n)
{
	h1_feed(t->p, s, n, &rec_cb, &t->r);
}

static void gap(struct t *t, uint64_t n)
{
	h1_gap(t->p, n, &rec_cb, &t->r);
}

static void finish(struct t *t)
{
	h1_finish(t->p, &rec_cb, &t->r);
}

/* Feeds `s` whole (and finishes) on a fresh parser; returns the log. */
static const char *once(struct t *t, const char *s)
{
	feed(t, s);
	finish(t);
	return rec_str(&t->r);
}

static void test_simple_get(void)
{
	struct t *t = t_new(H1_REQUESTS, false, NULL);
	CHECK_STR(once(t, "GET /a HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n"),
		  "H:GET /a 1.1|E|");
	CHECK_STR(t->r.fields, "Host=example.com;Accept=*/*;");
	CHECK_EQ(t->r.content_length, -1);
	CHECK_EQ(t->st.messages, 1);
	CHECK_EQ(h1_kind_of(t->p), H1_REQUESTS);
	CHECK(!h1_stopped(t->p));
	t_free(t);
}

static void test_keepalive_sequence(void)
{
	struct t *t = t_new(H1_RESPONSES, false, NULL);
	feed(t, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: keep-alive\r\n\r\nabc");
	CHECK(t->r.conn_keep_alive);
	feed(t, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
	feed(t, "HTTP/1.0 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
	CHECK(t->r.conn_close);
	finish(t);
	CHECK_STR(rec_str(&t->r), "H:200 1.1|B:3|E|H:404 1.1|E|H:200 1.0|B:2|E|");
	CHECK_EQ(t->st.messages, 3);
	t_free(t);
}

static void test_pipelined(void)
{
	struct t *t = t_new(H1_REQUESTS, false, NULL);
	CHECK_STR(once(t, "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n"
			  "GET /3 HTTP/1.1\r\nHost: a\r\n\r\n"),
		  "H:GET /1 1.1|E|H:GET /2 1.1|E|H:GET /3 1.1|E|");
	t_free(t);
}

static void test_post_content_length(void)
{
	struct t *t = t_new(H1_REQUESTS, false, NULL);
	CHECK_STR(once(t, "POST /p HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloGET /n HTTP/1.1\r\n\r\n"),
		  "H:POST /p 1.1|B:5|E|H:GET /n 1.1|E|");
	t_free(t);
	/* Content-Length: 0 ends the message at once */
	t = t_new(H1_REQUESTS, false, NULL);
	CHECK_STR(once(t, "POST /p HTTP/1.1\r\nContent-Length: 0\r\n\r\n"), "H:POST /p 1.1|E|");
	t_free(t);
}

static void test_chunked_ext_trailers(void)
{
	struct t *t = t_new(H1_REQUESTS, false, NULL);
	CHECK_STR(once(t, "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
			  "5;ext=1\r\nhello\r\nA ; name=\"v\"\r\n0123456789\r\n"
			  "0;last\r\nX-Trailer: t\r\nX-Other: u\r\n\r\n"
			  "GET /after HTTP/1.1\r\n\r\n"),
		  "H:POST /c 1.1|B:15|E|H:GET /after 1.1|E|");
	t_free(t);
	/* upper-case hex, leading zeros, no trailers */
	t = t_new(H1_RESPONSES, false, NULL);
	CHECK_STR(once(t, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
			  "0000000000000000001F\r\n0123456789abcdef0123456789abcde\r\n0\r\n\r\n"),
		  "H:200 1.1|B:31|E|");
	t_free(t);
}

static void test_head_response_none(void)
{
	struct t *t = t_new(H1_RESPONSES, false, NULL);
	t->r.modes[0] = H1_BODY_NONE; /* the owner knows the request was HEAD */
	t->r.n_modes = 1;
	CHECK_STR(once(t, "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n"
			  "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"),
		  "H:200 1.1|E|H:200 1.1|B:2|E|");
	CHECK_EQ(t->r.content_length, 2);
	t_free(t);
	/* chunked response to HEAD: no body either */
	t = t_new(H1_RESPONSES, false, NULL);
	t->r.modes[0] = H1_BODY_NONE;
	t->r.n_modes = 1;
	CHECK_STR(once(t, "HTTP/1.1 500 Oops\r\nTransfer-Encoding: chunked\r\n\r\n"
			  "HTTP/1.1 204 No Content\r\n\r\n"),
		  "H:500 1.1|E|H:204 1.1|E|");
	t_free(t);
}

static void test_204_304_no_body(void)
{
	struct t *t = t_new(H1_RESPONSES, false, NULL);
	CHECK_STR(once(t, "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n"
			  "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n"
			  "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx"),
		  "H:204 1.1|E|H:304 1.1|E|H:200 1.1|B:1|E|");
	t_free(t);
}

static void test_interim_1xx(void)
{
	struct t *t = t_new(H1_RESPONSES, false, NULL);
	CHECK_STR(once(t, "HTTP/1.1 100 Continue\r\n\r\n"
			  "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
			  "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
		  "H:100 1.1|E|H:103 1.1|E|H:200 1.1|B:2|E|");
	CHECK_EQ(t->st.messages, 3);
	t_free(t);
	/* the request side of it */
	t = t_new(H1_REQUESTS, false, NULL);
	feed(t, "PUT /f HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 4\r\n\r\n");
	CHECK(t->r.expect);
	feed(t, "data");
	CHECK_STR(rec_str(&t->r), "H:PUT /f 1.1|B:4|E|");
	t_free(t);
}

static void test_multiple_100(void)
{
	struct t *t = t_new(H1_RESPONSES, false, NULL);
	CHECK_STR(once(t, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n"
			  "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"),
		  "H:100 1.1|E|H:100 1.1|E|H:100 1.1|E|H:201 1.1|E|");
	t_free(t);
}

static void test_101_upgrade_stops(void)
{
	struct t *t = t_new(H1_RESPONSES, false, NULL);
	feed(t, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
		"Connection: Upgrade\r\n\r\n\x81\x05hello");
	CHECK(h1_stopped(t->p));
	CHECK(t->r.conn_upgrade);
	CHECK_STR(t->r.upgrade, "websocket");
	feed(t, "HTTP/1.1 200 OK\r\n\r\n");
	gap(t, 100);
	finish(t);
	CHECK_STR(rec_str(&t->r), "H:101 1.1|E|");
	t_free(t);
}

static void test_connect_tunnel(void)
{
	struct t *t = t_new(H1_REQUESTS, false, NULL);
	CHECK_STR(once(t, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"),
		  "H:CONNECT example.com:443 1.1|E|");
	t_free(t);
	t = t_new(H1_RESPONSES, false, NULL);
	t->r.modes[0] = H1_BODY_TUNNEL; /* the owner saw CONNECT and a 2xx */
	t->r.n_modes = 1;
	feed(t, "HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x01\x02\x00\x01");
	CHECK(h1_stopped(t->p));
	feed(t, "HTTP/1.1 200 OK\r\n\r\n");
	finish(t);
	CHECK_STR(rec_str(&t->r), "H:200 1.1|E|");
	CHECK_EQ(t->st.messages, 1);
	t_free(t);
}

static void test_close_delimited(void)
{
	struct t *t = t_new(H1_RESPONSES, false, NULL);
	feed(t, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nsome body");
	feed(t, "HTTP/1.1 200 OK\r\n"); /* body text, not a message */
	gap(t, 7);
	CHECK_STR(rec_str(&t->r), "H:200 1.0|B:33|");
	finish(t);
	CHECK_STR(rec_str(&t->r), "H:200 1.0|B:33|E|");
	finish(t); /* idempotent once idle */
	CHECK_STR(rec_str(&t->r), "H:200 1.0|B:33|E|");
	t_free(t);
	/* a Transfer-Encoding that is not chunked: until close (RFC 9112 6.3 rule 4) */
	t = t_new(H1_RESPONSES, false, NULL);
	CHECK_STR(once(t, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 2\r\n\r\nabcd"),
		  "H:200 1.1|B:4|E|");
	t_free(t);
}

static void test_bare_lf(void)
{
	struct t *t = t_new(H1_REQUESTS, false, NULL);
	CHECK_STR(once(t, "GET /a HTTP/1.1\nHost: x\nContent-Length: 3\n\nabcGET /b HTTP/1.0\n\n"),
		  "H:GET /a 1.1|B:3|E|H:GET /b 1.0|E|");
	CHECK_STR(t->r.fields, "");
	t_free(t);
	t = t_new(H1_RESPONSES, false, NULL);
	CHECK_STR(once(t, "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n3\nabc\n0\nT: 1\n\n"
			  "HTTP/1.1 200 OK\r\nContent-Length: 1\n\r\nz"),
		  "H:200 1.1|B:3|E|H:200 1.1|B:1|E|");
	t_free(t);
}

static void test_leading_crlf(void)
{
	struct t *t = t_new(H1_REQUESTS, false, NULL);
	CHECK_STR(once(t, "\r\n\r\n\nGET / HTTP/1.1\r\n\r\n\r\nPOST / HTTP/1.1\r\nContent-Length: 1\r\n"
			  "\r\nx\r\n"),
		  "H:GET / 1.1|E|H:POST / 1.1|B:1|E|");
	CHECK_EQ(t->st.errors[H1_ERR_BAD_START], 0);
	t_free(t);
}

static void test_no_version(void)
{
	struct t *t = t_new(H1_REQUESTS, false, NULL);
	CHECK_STR(once(t, "GET /path\r\nHost: x\r\n\r\n"), "H:GET /path -|E|");
	CHECK(t->r.version_missing);
	CHECK_EQ(t->r.version_minor, 0);
	CHECK_STR(t->r.fields, "Host=x;");
	t_free(t);
}

/* Request lines from zeek's methods.pcap, read the way tshark reads them. */
static void test_odd_request_lines(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "OPTIONS * HTTP/1.1\nHost: www.google.com\n\n", "H:OPTIONS * 1.1|E|" },
		{ "OPTIONS HTTP/1.1\nHost: www.google.com\n\n", "H:OPTIONS HTTP/1.1 -|E|" },
		{ "OPTIONS  HTTP/1.1\nHost: www.google.com\n\n", "H:OPTIONS  1.1|E|" },
		{ "OPTIONS\nHost: www.google.com\n\n", "H:OPTIONS  -|E|" },
		{ "GET / HTTP/1.\nHost: www.google.com\n\n", "H:GET / -|E|" },
		{ "CCM_POST / HTTP/1.1\nHost: www.google.com\n\n", "H:CCM_POST / 1.1|E|" },
		{ "GET /a%20b?x=1 HTTP/1.0\r\n\r\n", "H:GET /a%20b?x=1 1.0|E|" },
		{ "OPTIONSHTTP/1.1\nHost: www.google.com\n\n", "X:bad_start:0|" },
		{ "GET/ HTTP/1.1\nHost: www.google.com\n\n", "X:bad_start:0|" },
		{ "\xc3\x90\xc3\x90 / HTTP/1.1\nHost: www.google.com\n\n", "X:bad_start:0|" },
		{ "GET / HTTP/2.0\r\n\r\n", "X:bad_start:0|" },
		{ "GET /\x01 HTTP/1.1\r\n\r\n", "X:bad_start:0|" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct t *t = t_new(H1_REQUESTS, false, NULL);
		const char *got = once(t, cases[i].in);
		if (strcmp(got, cases[i].want) != 0)
			fprintf(stderr, "case %zu\n", i);
		CHECK_STR(got, cases[i].want);
		t_free(t);
	}
	/* status lines: no reason, and refused ones */
	struct t *t = t_new(H1_RESPONSES, false, NULL);
	CHECK_STR(once(t, "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\nHTTP/1.0 404\n\n"),
		  "H:200 1.1|E|H:404 1.0|E|");
	t_free(t);
	t = t_new(H1_RESPONSES, false, NULL);
	CHECK_STR(once(t, "HTTP/2 200\r\n\r\n"), "X:bad_start:0|");
	t_free(t);
}

static void test_get_slash_http(void)
{
	/* zeek methods.pcap stream 6: tshark says method GET, uri "/HTTP/1.1" */
	struct t *t = t_new(H1_REQUESTS, false, NULL);
	CHECK_STR(once(t, "GET /HTTP/1.1\nHost: www.google.com\n\n"), "H:GET /HTTP/1.1 -|E|");
	CHECK(t->r.version_missing);
	CHECK_STR(t->r.fields, "Host=www.google.com;");
	t_free(t);
}

static void test_h2_preface(void)
{
	static const char pri[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x12\x04\x00";
	struct t *t = t_new(H1_REQUESTS, false, NULL);
	feedn(t, pri, sizeof pri - 1);
	CHECK(h1_stopped(t->p));
	feed(t, "GET / HTTP/1.1\r\n\r\n");
	finish(t);
	CHECK_STR(rec_str(&t->r), "X:h2_preface:0|");
	CHECK_EQ(t->st.errors[H1_ERR_H2_PREFACE], 1);
	t_free(t);
	/* split inside the request line, on a parser that did not know its kind */
	t = t_new(H1_ANY, false, NULL);
	feedn(t, pri, 5);
	feedn(t, pri + 5, sizeof pri - 1 - 5);
	CHECK(h1_stopped(t->p));
	CHECK_STR(rec_str(&t->r), "X:h2_preface:0|");
	t_free(t);
	/* after an h2c upgrade the request side sees the preface mid-connection */
	t = t_new(H1_REQUESTS, false, NULL);
	feed(t, "GET / HTTP/1.1\r\nUpgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\n\r\n");
	feedn(t, pri, sizeof pri - 1);
	CHECK_STR(rec_str(&t->r), "H:GET / 1.1|E|X:h2_preface:0|");
	CHECK(h1_stopped(t->p));
	t_free(t);
}

static void test_head_too_big(void)
{
	struct h1_limits lim = { .max_head_bytes = 64 };
	struct t *t = t_new(H1_REQUESTS, false, &lim);
	CHECK_STR(once(t, "GET /big HTTP/1.1\r\nX-Long: 0123456789012345678901234567890123456789"
			  "0123456789\r\n\r\nGET /next HTTP/1.1\r\n\r\n"),
		  "X:head_too_big:0|H:GET /next 1.1|E|");
	CHECK_EQ(t->st.resyncs, 1);
	CHECK_EQ(t->st.errors[H1_ERR_HEAD_TOO_BIG], 1);
	t_free(t);
	/* exactly max_head_bytes is allowed */
	t = t_new(H1_REQUESTS, false, &lim);
	char head[65];
	memset(head, 'a', sizeof head);
	memcpy(head, "GET / HTTP/1.1\r\nX: ", 19);
	memcpy(head + 60, "\r\n\r\n", 4);
	head[64] = '\0';
	CHECK_STR(once(t, head), "H:GET / 1.1|E|");
	t_free(t);
}

static void test_too_many_headers(void)
{
	char in[4096];
	size_t n = (size_t)snprintf(in, sizeof in, "POST / HTTP/1.1\r\n");
	for (int i = 0; i < 120; i++) {
		if (i == 110)
			n += (size_t)snprintf(in + n, sizeof in - n, "Content-Length: 3\r\n");
		else
			n += (size_t)snprintf(in + n, sizeof in - n, "H%d: %d\r\n", i, i);
	}
	snprintf(in + n, sizeof in - n, "\r\nabcGET / HTTP/1.1\r\n\r\n");
	struct t *t = t_new(H1_REQUESTS, false, NULL);
	CHECK_STR(once(t, in), "H:POST / 1.1|B:3|E|H:GET / 1.1|E|");
	t_free(t);
	t = t_new(H1_REQUESTS, false, NULL);
	feed(t, in);
	CHECK_EQ(t->st.headers_dropped, 20);
	t_free(t);
	t = t_new(H1_REQUESTS, false, NULL);
	t->r.modes[0] = H1_BODY_AUTO;
	t->r.n_modes = 1;
	in[n] = '\0';
	strcat(in, "\r\n");
	feed(t, in);
	CHECK_EQ(t->r.n_headers, H1_MAX_HEADERS);
	CHECK(t->r.truncated);
	CHECK_EQ(t->r.content_length, 3);
	t_free(t);
}

static void test_bad_chunk_size(void)
{
	struct t *t = t_new(H1_RESPONSES, false, NULL);
	CHECK_STR(once(t, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n"
			  "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
		  "H:200 1.1|X:bad_chunk:1|H:200 1.1|E|");
	CHECK_EQ(t->st.resyncs, 1);
	t_free(t);
	/* 16 significant hex digits could overflow: refused */
	t = t_new(H1_RESPONSES, false, NULL);
	CHECK_STR(once(t, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1000000000000000\r\n"),
		  "H:200 1.1|X:bad_chunk:1|");
	t_free(t);
	/* chunk data not followed by CRLF */
	t = t_new(H1_RESPONSES, false, NULL);
	CHECK_STR(once(t, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n"
			  "HTTP/1.1 204 No Content\r\n\r\n"),
		  "H:200 1.1|B:3|X:bad_chunk:1|H:204 1.1|E|");
	t_free(t);
	/* a chunk-size line longer than max_line_bytes */
	struct h1_limits lim = { .max_line_bytes = 30 };
	t = t_new(H1_RESPONSES, false, &lim);
	CHECK_STR(once(t, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
			  "5;aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\nhello\r\n"
			  "HTTP/1.1 204 No Content\r\n\r\n"),
		  "H:200 1.1|X:bad_chunk:1|H:204 1.1|E|");
	t_free(t);
	/* the bad chunk-size line is itself the next response (miscounted body) */
	t = t_new(H1_RESPONSES, false, NULL);
	CHECK_STR(once(t, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n"
			  "HTTP/1.1 204 No Content\r\n\r\n"),
		  "H:200 1.1|B:2|X:bad_chunk:1|H:204 1.1|E|");
	t_free(t);
}

static void test_framing_headers(void)
{
	/* suricata-verify http-chunked: an odd list whose last coding is chunked */
	struct t *t = t_new(H1_REQUESTS, false, NULL);
	CHECK_STR(once(t, "HEAD / HTTP/1.1\r\nTransfer-Encoding: , \tchunked,\r\n\r\n"
			  "2\r\nhi\r\n0\r\n\r\n"),
		  "H:HEAD / 1.1|B:2|E|");
	CHECK(t->r.chunked);
	t_free(t);
	/* Transfer-Encoding overrides Content-Length */
	t = t_new(H1_REQUESTS, false, NULL);
	CHECK_STR(once(t, "POST / HTTP/1.1\r\nContent-Length: 100\r\nTransfer-Encoding: gzip, CHUNKED\r\n"
			  "\r\n1\r\nx\r\n0\r\n\r\n"),
		  "H:POST / 1.1|B:1|E|");
	CHECK(t->r.chunked);
	CHECK_EQ(t->r.content_length, 100);
	t_free(t);
	/* chunked not last: not chunked; a request then has no body */
	t = t_new(H1_REQUESTS, false, NULL);
	CHECK_STR(once(t, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"),
		  "H:POST / 1.1|E|");
	CHECK(!t->r.chunked);
	t_free(t);
	/* a folded Transfer-Encoding still counts */
	t = t_new(H1_REQUESTS, false, NULL);
	CHECK_STR(once(t, "POST / HTTP/1.1\r\nTransfer-Encoding: gzip,\r\n chunked\r\nX: 1\r\n"
			  "\r\n1\r\nx\r\n0\r\n\r\n"),
		  "H:POST / 1.1|B:1|E|");
	CHECK_STR(t->r.fields, "Transfer-Encoding=gzip,;X=1;");
	t_free(t);
	/* identical values are one length; conflicting ones are an error */
	t = t_new(H1_REQUESTS, false, NULL);
	CHECK_STR(once(t, "POST / HTTP/1.1\r\nContent-Length: 2, 2\r\ncontent-length: 2\r\n\r\nab"),
		  "H:POST / 1.1|B:2|E|");
	t_free(t);
	t = t_new(H1_REQUESTS, false, NULL);
	CHECK_STR(once(t, "POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc\r\n"
			  "GET /n HTTP/1.1\r\n\r\n"),
		  "X:bad_length:0|H:GET /n 1.1|E|");
	t_free(t);
	t = t_new(H1_RESPONSES, false, NULL);
	CHECK_STR(once(t, "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"), "X:bad_length:0|");
	t_free(t);
	t = t_new(H1_RESPONSES, false, NULL);
	CHECK_STR(once(t, "HTTP/1.1 200 OK\r\nContent-Length: 9999999999999999999\r\n\r\n"),
		  "X:bad_length:0|");
	t_free(t);
	/* Connection tokens, Upgrade, Expect; OWS trimmed */
	t = t_new(H1_REQUESTS, false, NULL);
	feed(t, "GET /ws HTTP/1.1\r\nConnection:  keep-alive ,Upgrade\t\r\nUpgrade: websocket\r\n"
		"Expect: 100-continue\r\n\r\n");
	CHECK(t->r.conn_keep_alive);
	CHECK(t->r.conn_upgrade);
	CHECK(!t->r.conn_close);
	CHECK(t->r.expect);
	CHECK_STR(t->r.upgrade, "websocket");
	CHECK_STR(t->r.fields, "Connection=keep-alive ,Upgrade;Upgrade=websocket;Expect=100-continue;");
	t_free(t);
}

static void test_bad_header_resync(void)
{
	struct t *t = t_new(H1_REQUESTS, false, NULL);
	CHECK_STR(once(t, "GET / HTTP/1.1\r\nHost x\r\n\r\nGET /2 HTTP/1.1\r\n\r\n"),
		  "X:bad_header:0|H:GET /2 1.1|E|");
	CHECK_EQ(t->st.resyncs, 1);
	t_free(t);
	t = t_new(H1_REQUESTS, false, NULL);
	CHECK_STR(once(t, "GET / HTTP/1.1\r\nBad Name: x\r\n\r\nGET /2 HTTP/1.1\r\n\r\n"),
		  "X:bad_header:0|H:GET /2 1.1|E|");
	t_free(t);
	/* body text taken for a request without version; the real one follows */
	t = t_new(H1_REQUESTS, false, NULL);
	CHECK_STR(once(t, "GET / HTTP/1.1\r\n\r\nhello world\r\nGET /b HTTP/1.1\r\nHost: b\r\n\r\n"),
		  "H:GET / 1.1|E|X:bad_header:0|H:GET /b 1.1|E|");
	CHECK_EQ(t->st.resyncs, 1);
	CHECK_EQ(t->st.resync_skipped, 13);
	CHECK_STR(t->r.fields, "Host=b;");
	t_free(t);
}

/* A field name is one or more tchars then ':'; the value may hold more colons. */
static void test_field_names(void)
{
	static const char *const bad[] = {
		":x", "Na\x01me: x", "Name : x", "Name\t: x", "A B:c", "Name", "N\x80: x", "Name;",
	};
	char req[128];
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct t *t = t_new(H1_REQUESTS, false, NULL);
		snprintf(req, sizeof req, "GET / HTTP/1.1\r\n%s\r\n\r\nGET /2 HTTP/1.1\r\n\r\n", bad[i]);
		CHECK_STR(once(t, req), "X:bad_header:0|H:GET /2 1.1|E|");
		t_free(t);
	}
	struct t *t = t_new(H1_REQUESTS, false, NULL);
	CHECK_STR(once(t, "GET / HTTP/1.1\r\nX-A!#$%&'*+.^_`|~9:b:c\r\nZ:\r\n\r\n"), "H:GET / 1.1|E|");
	CHECK_STR(t->r.fields, "X-A!#$%&'*+.^_`|~9=b:c;Z=;");
	t_free(t);
}

/*
 * Streams fed whole, in two pieces at every offset, and byte by byte: the
 * log and the counters must not depend on the cut.
 */
struct split_case {
	enum h1_kind kind;
	bool midstream;
	struct h1_limits lim;
	const char *in;
	const char *want;
};

static void split_run(const struct split_case *c, size_t len, const size_t *cuts, size_t n_cuts,
		      char *out, size_t out_len)
{
	struct t *t = t_new(c->kind, c->midstream, &c->lim);
	size_t at = 0;
	for (size_t i = 0; i <= n_cuts; i++) {
		size_t end = i < n_cuts ? cuts[i] : len;
		feedn(t, c->in + at, end - at);
		at = end;
	}
	finish(t);
	snprintf(out, out_len, "%sS:m%" PRIu64 ",r%" PRIu64 ",k%" PRIu64 ",g%" PRIu64 ",e%" PRIu64
		 ",stop%d", rec_str(&t->r), t->st.messages, t->st.resyncs, t->st.resync_skipped,
		 t->st.gave_up, t->st.errors[0] + t->st.errors[1] + t->st.errors[2] +
		 t->st.errors[3] + t->st.errors[4] + t->st.errors[5] + t->st.errors[6],
		 h1_stopped(t->p));
	t_free(t);
}

static void test_every_split(void)
{
	static const struct split_case cases[] = {
		{ H1_REQUESTS, false, { 0, 0, 0 },
		  "POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
		  "4;a=b\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nExpires: never\r\n"
		  "\r\nPUT /x HTTP/1.1\r\nContent-Length: 7\r\n\r\n1234567\r\nGET /y\nHost: z\n\n",
		  "H:POST /up 1.1|B:23|E|H:PUT /x 1.1|B:7|E|H:GET /y -|E|" },
		{ H1_RESPONSES, false, { 0, 0, 0 },
		  "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		  "3\nabc\n0\n\nHTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n"
		  "HTTP/1.0 200 OK\r\n\r\nuntil the end\r\n\r\n",
		  "H:100 1.1|E|H:200 1.1|B:3|E|H:304 1.1|E|H:200 1.0|B:17|E|" },
		/* midstream: starts inside a body, resyncs */
		{ H1_REQUESTS, true, { 0, 0, 0 },
		  "ody of an earlier request\r\nwith lines\r\n\r\nGET /a HTTP/1.1\r\nHost: q\r\n\r\n"
		  "GET /b HTTP/1.1\r\n\r\n",
		  "H:GET /a 1.1|E|H:GET /b 1.1|E|" },
		/* errors and resync on a parser that decides its kind */
		{ H1_ANY, false, { 0, 0, 0 },
		  "HTTP/1.1 200 OK\r\nBad\r\n\r\nbody line\r\nGET / HTTP/1.1\r\n"
		  "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
		  "X:bad_header:0|H:200 1.1|B:2|E|" },
		/* too big heads, long resync lines, chunk-size lines past max_line */
		{ H1_REQUESTS, false, { 48, 20, 0 },
		  "GET /0123456789012345678901234567890123456789 HTTP/1.1\r\n\r\n"
		  "GET /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1;xxxxxxxxxxxxxxxxxxxxxxxx\r\nx\r\n"
		  "GET /b HTTP/1.1\r\n\r\nGET /c HTTP/1.1\r\nA: 0123456789012345678901234\r\n\r\n",
		  "X:head_too_big:0|H:GET /a 1.1|X:bad_chunk:1|H:GET /b 1.1|E|"
		  "X:head_too_big:0|" },
		/* not HTTP: give up */
		{ H1_REQUESTS, false, { 0, 0, 40 },
		  "\x16\x03\x01\x02\xa5\x01\x10\x10\xa1\x03\x03xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		  "\nGET / HTTP/1.1\r\n\r\n",
		  "X:bad_start:0|" },
		/* body text that reads as a request without version (tshark would too) */
		{ H1_REQUESTS, false, { 0, 0, 40 },
		  "\x16\x03\x01\x02\xa5\x01\x10\x10\xa1\x03\x03\nGET / HTTP/1.1\r\n\r\n"
		  "more bytes\nand more bytes\nuntil we give up\nGET / HTTP/1.1\r\n\r\n",
		  "X:bad_start:0|H:GET / 1.1|E|X:bad_header:0|H:GET / 1.1|E|" },
		{ H1_ANY, true, { 0, 0, 40 },
		  "\x16\x03\x01\x02\xa5\x01\x10\x10\xa1\x03\x03\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n"
		  "GET / HTTP/1.1\r\n\r\n",
		  "" },
		/* trailer section missing its empty line; preface at the end */
		{ H1_REQUESTS, false, { 0, 0, 0 },
		  "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n"
		  "GET / HTTP/1.1\r\n\r\nPRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
		  "H:POST / 1.1|B:1|E|H:GET / 1.1|E|X:h2_preface:0|" },
	};
	char want[4096], got[4096];
	for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
		const struct split_case *c = &cases[ci];
		size_t len = strlen(c->in);
		split_run(c, len, NULL, 0, want, sizeof want);
		if (getenv("VERBOSE"))
			printf("split case %zu: %s\n", ci, want);
		if (strncmp(want, c->want, strlen(c->want)) != 0 || want[strlen(c->want)] != 'S')
			fprintf(stderr, "case %zu whole: %s\n", ci, want);
		CHECK(strncmp(want, c->want, strlen(c->want)) == 0 && want[strlen(c->want)] == 'S');
		for (size_t cut = 1; cut < len; cut++) {
			split_run(c, len, &cut, 1, got, sizeof got);
			if (strcmp(got, want) != 0) {
				fprintf(stderr, "case %zu cut %zu:\n  %s\n  %s\n", ci, cut, got, want);
				CHECK_STR(got, want);
				break;
			}
		}
		size_t *cuts = malloc(len * sizeof *cuts);
		if (!cuts)
			abort();
		for (size_t i = 0; i + 1 < len; i++)
			cuts[i] = i + 1;
		split_run(c, len, cuts, len - 1, got, sizeof got);
		if (strcmp(got, want) != 0)
			fprintf(stderr, "case %zu byte by byte\n", ci);
		CHECK_STR(got, want);
		/* three pieces: every pair of cuts for the first streams (quadratic) */
		if (ci < 2) {
			for (size_t a = 1; a < len; a += 3) {
				for (size_t b = a + 1; b < len; b += 2) {
					size_t two[2] = { a, b };
					split_run(c, len, two, 2, got, sizeof got);
					if (strcmp(got, want) != 0) {
						fprintf(stderr, "case %zu cuts %zu %zu\n", ci, a, b);
						CHECK_STR(got, want);
						a = len;
						break;
					}
				}
			}
		}
		free(cuts);
	}
}

/*
 * Random streams built from HTTP fragments and junk, with small limits so that
 * every error path is reached: whole input, byte by byte and random cuts must
 * agree.
 */
static void test_random_splits(void)
{
	static const char *const frags[] = {
		/* whole messages */
		"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "POST /p HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
		"POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;x\r\nabc\r\n0\r\nT: 1\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", "HTTP/1.1 100 Continue\r\n\r\n",
		"HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n2\nok\n0\n\n",
		"HTTP/1.1 204 No\r\nContent-Length: 5\r\n\r\n", "GET /v\nA: b\n\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
		"POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
		/* pieces and damage */
		"GET / HTTP/1.1\r\n", "HTTP/1.1 200 OK\r\n", "HTTP/1.1 101 Up\r\n", "Content-Length: 3\r\n",
		"Content-Length: 0\n", "Transfer-Encoding: chunked\r\n", "X-Long: 0123456789abcdef\r\n",
		"\r\n", "\n", "\r", "3\r\nabc\r\n", "0\r\n", "1;eeeeeeeeeeeeeeeeeeee\n", "zz\r\n",
		"3\r\nabcd", "abc", "junk line\n", "\x16\x03\x01", " folded\r\n", "NoColon\r\n",
		"PRI * HTTP/2.0\r\n", "OPTIONS HTTP/1.1\n", "HTTP/1.0 304 NM\n", "Content-Length: 1, 2\n",
	};
	static const struct h1_limits lims[] = { { 0, 0, 0 }, { 60, 16, 50 }, { 40, 10, 200 } };
	static const enum h1_kind kinds[] = { H1_REQUESTS, H1_RESPONSES, H1_ANY };
	uint32_t x = 2463534242u;
	char in[1024], want[8192], got[8192];
	size_t cuts[1024];
	int bad = 0;
	for (int iter = 0; iter < 12000 && bad < 3; iter++) {
		size_t len = 0;
		int nf = 1 + (int)((x >> 3) % 16);
		for (int i = 0; i < nf; i++) {
			x ^= x << 13, x ^= x >> 17, x ^= x << 5;
			const char *fr = frags[x % (sizeof frags / sizeof frags[0])];
			size_t fl = strlen(fr);
			if (len + fl >= sizeof in)
				break;
			memcpy(in + len, fr, fl);
			len += fl;
		}
		struct split_case c = { kinds[iter % 3], (iter / 3) % 2 == 1, lims[(iter / 6) % 3],
					in, "" };
		split_run(&c, len, NULL, 0, want, sizeof want);
		for (size_t i = 0; i + 1 < len; i++)
			cuts[i] = i + 1;
		split_run(&c, len, cuts, len ? len - 1 : 0, got, sizeof got);
		if (strcmp(got, want) != 0) {
			fprintf(stderr, "iter %d byte by byte: %.*s\n", iter, (int)len, in);
			CHECK_STR(got, want);
			bad++;
		}
		size_t nc = 0;
		for (size_t i = 1; i < len; i++) {
			x ^= x << 13, x ^= x >> 17, x ^= x << 5;
			if (x % 5 == 0)
				cuts[nc++] = i;
		}
		split_run(&c, len, cuts, nc, got, sizeof got);
		if (strcmp(got, want) != 0) {
			fprintf(stderr, "iter %d random cuts: %.*s\n", iter, (int)len, in);
			CHECK_STR(got, want);
			bad++;
		}
	}
}

static void test_gap_in_cl_body(void)
{
	struct t *t = t_new(H1_REQUESTS, false, NULL);
	feed(t, "POST /p HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc");
	gap(t, 4);
	feed(t, "xyzGET /n HTTP/1.1\r\n\r\n");
	CHECK_STR(rec_str(&t->r), "H:POST /p 1.1|B:10|E|H:GET /n 1.1|E|");
	CHECK_EQ(t->st.errors[H1_ERR_GAP], 0);
	CHECK_EQ(t->st.resyncs, 0);
	t_free(t);
	/* a gap that ends the body exactly */
	t = t_new(H1_REQUESTS, false, NULL);
	feed(t, "POST /p HTTP/1.1\r\nContent-Length: 5\r\n\r\n");
	gap(t, 5);
	CHECK_STR(rec_str(&t->r), "H:POST /p 1.1|B:5|E|");
	feed(t, "GET /n HTTP/1.1\r\n\r\n");
	CHECK_STR(rec_str(&t->r), "H:POST /p 1.1|B:5|E|H:GET /n 1.1|E|");
	t_free(t);
	/* a gap past the end of the body */
	t = t_new(H1_REQUESTS, false, NULL);
	feed(t, "POST /p HTTP/1.1\r\nContent-Length: 5\r\n\r\nab");
	gap(t, 10);
	feed(t, "o HTTP/1.1\r\n\r\nGET /n HTTP/1.1\r\n\r\n");
	CHECK_STR(rec_str(&t->r), "H:POST /p 1.1|B:2|X:gap:1|H:GET /n 1.1|E|");
	CHECK_EQ(t->st.resyncs, 1);
	t_free(t);
	/* inside chunk data: in sync; in a close-delimited body: counted */
	t = t_new(H1_RESPONSES, false, NULL);
	feed(t, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123");
	gap(t, 12);
	feed(t, "\r\n0\r\n\r\nHTTP/1.1 200 OK\r\n\r\nab");
	gap(t, 1000);
	finish(t);
	CHECK_STR(rec_str(&t->r), "H:200 1.1|B:16|E|H:200 1.1|B:1002|E|");
	t_free(t);
}

static void test_gap_in_head(void)
{
	struct t *t = t_new(H1_REQUESTS, false, NULL);
	feed(t, "GET /a HTTP/1.1\r\nHo");
	gap(t, 10);
	feed(t, "st: x\r\n\r\nGET /b HTTP/1.1\r\n\r\n");
	CHECK_STR(rec_str(&t->r), "X:gap:0|H:GET /b 1.1|E|");
	CHECK_EQ(t->st.resyncs, 1);
	CHECK_EQ(t->st.errors[H1_ERR_GAP], 1);
	t_free(t);
	/* between messages: the first byte after the gap starts a line */
	t = t_new(H1_REQUESTS, false, NULL);
	feed(t, "GET /a HTTP/1.1\r\n\r\n");
	gap(t, 50);
	feed(t, "GET /c HTTP/1.1\r\n\r\n");
	CHECK_STR(rec_str(&t->r), "H:GET /a 1.1|E|X:gap:0|H:GET /c 1.1|E|");
	CHECK_EQ(t->st.resyncs, 1);
	CHECK_EQ(t->st.resync_skipped, 0);
	t_free(t);
}

static void test_gap_in_chunk_size_line(void)
{
	struct t *t = t_new(H1_RESPONSES, false, NULL);
	feed(t, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1");
	gap(t, 3);
	feed(t, "0\r\n0123456789abcdef\r\n0\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n");
	CHECK_STR(rec_str(&t->r), "H:200 1.1|X:gap:1|H:204 1.1|E|");
	CHECK_EQ(t->st.resyncs, 1);
	t_free(t);
	/* in the CRLF after chunk data, and in trailers */
	t = t_new(H1_RESPONSES, false, NULL);
	feed(t, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r");
	gap(t, 1);
	feed(t, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: 1\r\n");
	gap(t, 2);
	CHECK_STR(rec_str(&t->r), "H:200 1.1|B:1|X:gap:1|H:200 1.1|X:gap:1|");
	t_free(t);
	/* a gap in a stopped parser is nothing */
	t = t_new(H1_RESPONSES, false, NULL);
	feed(t, "HTTP/1.1 101 Switching Protocols\r\n\r\n");
	gap(t, 10);
	CHECK_STR(rec_str(&t->r), "H:101 1.1|E|");
	t_free(t);
}

static void test_midstream_inside_body(void)
{
	struct t *t = t_new(H1_REQUESTS, true, NULL);
	feed(t, "dy bytes of previous\r\nmore body");
	feed(t, "\r\nGET /nex");
	feed(t, "t HTTP/1.1\r\nHost: a\r\n\r\n");
	CHECK_STR(rec_str(&t->r), "H:GET /next 1.1|E|");
	CHECK_EQ(t->st.resyncs, 1);
	CHECK_EQ(t->st.resync_skipped, 33);
	t_free(t);
	/* a midstream parser that starts on a message: no resync */
	t = t_new(H1_REQUESTS, true, NULL);
	feed(t, "\r\nGET / HTTP/1.1\r\n\r\n");
	CHECK_STR(rec_str(&t->r), "H:GET / 1.1|E|");
	CHECK_EQ(t->st.resyncs, 0);
	t_free(t);
	/* a method the resync pattern does not know is not found */
	t = t_new(H1_REQUESTS, true, NULL);
	feed(t, "get / HTTP/1.1\r\n\r\nGET /x HTTP/1.1\r\n\r\n");
	CHECK_STR(rec_str(&t->r), "H:GET /x 1.1|E|");
	t_free(t);
	/* a response parser starting mid-body */
	t = t_new(H1_RESPONSES, true, NULL);
	feed(t, "</html>\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n!");
	CHECK_STR(rec_str(&t->r), "H:200 1.1|B:1|E|");
	t_free(t);
}

static void test_any_picks_response(void)
{
	struct t *t = t_new(H1_ANY, false, NULL);
	CHECK_EQ(h1_kind_of(t->p), H1_ANY);
	feed(t, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	CHECK_EQ(h1_kind_of(t->p), H1_RESPONSES);
	feed(t, "GET / HTTP/1.1\r\n\r\n");
	CHECK_STR(rec_str(&t->r), "H:200 1.1|E|X:bad_start:0|");
	t_free(t);
	t = t_new(H1_ANY, true, NULL);
	feed(t, "stuff\r\nPOST / HTTP/1.0\r\nContent-Length: 1\r\n\r\n1");
	CHECK_EQ(h1_kind_of(t->p), H1_REQUESTS);
	CHECK_STR(rec_str(&t->r), "H:POST / 1.0|B:1|E|");
	t_free(t);
}

static void test_give_up(void)
{
	struct h1_limits lim = { .max_resync_bytes = 1000 };
	uint8_t junk[5000];
	uint32_t x = 12345;
	for (size_t i = 0; i < sizeof junk; i++) {
		x = x * 1103515245u + 12345u;
		junk[i] = (uint8_t)(x >> 16);
	}
	junk[0] = 0x16;
	struct t *t = t_new(H1_REQUESTS, false, &lim);
	feedn(t, junk, sizeof junk);
	CHECK(h1_stopped(t->p));
	CHECK_EQ(t->st.gave_up, 1);
	CHECK(t->st.resync_skipped > 1000 && t->st.resync_skipped <= 5000);
	CHECK_STR(rec_str(&t->r), "X:bad_start:0|");
	feed(t, "\nGET / HTTP/1.1\r\n\r\n");
	CHECK_STR(rec_str(&t->r), "X:bad_start:0|");
	t_free(t);
	/* midstream: no error, just given up */
	t = t_new(H1_ANY, true, &lim);
	for (size_t i = 0; i < sizeof junk; i += 100)
		feedn(t, junk + i, 100);
	CHECK(h1_stopped(t->p));
	CHECK_EQ(t->st.gave_up, 1);
	CHECK_STR(rec_str(&t->r), "");
	t_free(t);
	/* a stream that carried HTTP keeps looking */
	t = t_new(H1_REQUESTS, false, &lim);
	feed(t, "GET / HTTP/1.1\r\n\r\n");
	feedn(t, junk, sizeof junk);
	feed(t, "\nGET /again HTTP/1.1\r\n\r\n");
	CHECK(!h1_stopped(t->p));
	CHECK_EQ(t->st.gave_up, 0);
	CHECK_STR(rec_str(&t->r), "H:GET / 1.1|E|X:bad_start:0|H:GET /again 1.1|E|");
	t_free(t);
}

static void test_memory(void)
{
	struct t *t = t_new(H1_REQUESTS, false, NULL);
	size_t idle = h1_memory(t->p);
	char head[4000];
	size_t n = (size_t)snprintf(head, sizeof head, "GET /m HTTP/1.1\r\n");
	while (n < 3000)
		n += (size_t)snprintf(head + n, sizeof head - n, "X-Pad-%zu: %s\r\n", n,
				      "abcdefghijklmnopqrstuvwxyz0123456789");
	n += (size_t)snprintf(head + n, sizeof head - n, "\r\n");
	for (size_t i = 0; i + 1 < n; i += 100)
		feedn(t, head + i, n - i - 1 < 100 ? n - i - 1 : 100);
	CHECK(h1_memory(t->p) >= idle + 2900);
	feedn(t, head + n - 1, 1);
	CHECK_STR(rec_str(&t->r), "H:GET /m 1.1|E|");
	CHECK(h1_memory(t->p) <= idle + 256);
	/* a whole head in one piece allocates nothing */
	feedn(t, head, n);
	CHECK(h1_memory(t->p) <= idle + 256);
	finish(t);
	CHECK_EQ(h1_memory(t->p), idle);
	t_free(t);
}

static void test_finish(void)
{
	struct t *t = t_new(H1_REQUESTS, false, NULL);
	feed(t, "GET / HTTP/1.1\r\nHost:");
	finish(t);
	CHECK_STR(rec_str(&t->r), "X:gap:0|");
	t_free(t);
	t = t_new(H1_REQUESTS, false, NULL);
	feed(t, "GET / HTTP/1.1\r\n\r\n\r\n");
	finish(t);
	CHECK_STR(rec_str(&t->r), "H:GET / 1.1|E|");
	t_free(t);
	t = t_new(H1_REQUESTS, false, NULL);
	feed(t, "POST / HTTP/1.1\r\nContent-Length: 9\r\n\r\nabc");
	finish(t);
	CHECK_STR(rec_str(&t->r), "H:POST / 1.1|B:3|X:gap:1|");
	t_free(t);
	t = t_new(H1_RESPONSES, false, NULL);
	feed(t, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n");
	finish(t);
	CHECK_STR(rec_str(&t->r), "H:200 1.1|B:2|X:gap:1|");
	CHECK_EQ(t->st.errors[H1_ERR_GAP], 1);
	t_free(t);
	/* out of sync at the end: nothing to say */
	t = t_new(H1_REQUESTS, true, NULL);
	feed(t, "partial line");
	finish(t);
	CHECK_STR(rec_str(&t->r), "");
	t_free(t);
}

static void test_names_and_defaults(void)
{
	CHECK_STR(h1_error_names[H1_ERR_BAD_START], "bad_start");
	CHECK_STR(h1_error_names[H1_ERR_BAD_HEADER], "bad_header");
	CHECK_STR(h1_error_names[H1_ERR_HEAD_TOO_BIG], "head_too_big");
	CHECK_STR(h1_error_names[H1_ERR_BAD_CHUNK], "bad_chunk");
	CHECK_STR(h1_error_names[H1_ERR_BAD_LENGTH], "bad_length");
	CHECK_STR(h1_error_names[H1_ERR_GAP], "gap");
	CHECK_STR(h1_error_names[H1_ERR_H2_PREFACE], "h2_preface");
	struct h1_stats st = { 0 };
	CHECK(h1_new(H1_REQUESTS, false, NULL, NULL) == NULL);
	/* zero limits are the defaults: a 60 KB head passes */
	struct h1_limits zero = { 0, 0, 0 };
	struct h1_parser *p = h1_new(H1_REQUESTS, false, &zero, &st);
	CHECK(p != NULL);
	h1_free(p);
	struct t *t = t_new(H1_REQUESTS, false, &zero);
	static char big[62000];
	size_t n = (size_t)snprintf(big, sizeof big, "GET / HTTP/1.1\r\nX: ");
	memset(big + n, 'v', 60000);
	n += 60000;
	memcpy(big + n, "\r\n\r\n", 5);
	CHECK_STR(once(t, big), "H:GET / 1.1|E|");
	t_free(t);
	h1_free(NULL);
}

/* h1_feed's return value: where another protocol takes over the stream. */
static void test_feed_consumed_at_handover(void)
{
	struct h1_stats st = {0};
	struct h1_callbacks none = {0};
	static const char resp[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n"
				   "Connection: Upgrade\r\n\r\n\x00\x00\x00\x04";
	size_t head = sizeof resp - 1 - 4;
	struct h1_parser *p = h1_new(H1_RESPONSES, false, NULL, &st);
	CHECK_EQ(h1_feed(p, (const uint8_t *)resp, sizeof resp - 1, &none, NULL), head);
	CHECK(h1_stopped(p));
	h1_free(p);

	static const char req[] = "GET / HTTP/1.1\r\nHost: a\r\n\r\n"
				  "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00";
	size_t first = strlen("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
	p = h1_new(H1_REQUESTS, false, NULL, &st);
	CHECK_EQ(h1_feed(p, (const uint8_t *)req, sizeof req - 1, &none, NULL), first);
	CHECK(h1_stopped(p));
	CHECK_EQ(st.errors[H1_ERR_H2_PREFACE], 1);
	h1_free(p);

	static const char plain[] = "GET / HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n";
	p = h1_new(H1_REQUESTS, false, NULL, &st);
	CHECK_EQ(h1_feed(p, (const uint8_t *)plain, sizeof plain - 1, &none, NULL), sizeof plain - 1);
	h1_free(p);
}

int main(void)
{
	RUN(test_simple_get);
	RUN(test_feed_consumed_at_handover);
	RUN(test_keepalive_sequence);
	RUN(test_pipelined);
	RUN(test_post_content_length);
	RUN(test_chunked_ext_trailers);
	RUN(test_head_response_none);
	RUN(test_204_304_no_body);
	RUN(test_interim_1xx);
	RUN(test_multiple_100);
	RUN(test_101_upgrade_stops);
	RUN(test_connect_tunnel);
	RUN(test_close_delimited);
	RUN(test_bare_lf);
	RUN(test_leading_crlf);
	RUN(test_no_version);
	RUN(test_odd_request_lines);
	RUN(test_get_slash_http);
	RUN(test_h2_preface);
	RUN(test_head_too_big);
	RUN(test_too_many_headers);
	RUN(test_bad_chunk_size);
	RUN(test_framing_headers);
	RUN(test_bad_header_resync);
	RUN(test_field_names);
	RUN(test_every_split);
	RUN(test_random_splits);
	RUN(test_gap_in_cl_body);
	RUN(test_gap_in_head);
	RUN(test_gap_in_chunk_size_line);
	RUN(test_midstream_inside_body);
	RUN(test_any_picks_response);
	RUN(test_give_up);
	RUN(test_memory);
	RUN(test_finish);
	RUN(test_names_and_defaults);
	return unit_done("test_http1");
}
