/*
 * test_http2.c - the HTTP/2 decoder (decoders/http2.h) and the HTTP/2 session
 * (sensor/h2session.h) against their contracts.
 *
 * Connections are built by hand: frame headers written byte by byte, header
 * blocks compressed by libnghttp2's HPACK deflater (one per direction, as a
 * real peer keeps it), so dynamic-table references are real. A recording sink
 * turns the decoder's callbacks into one string per direction ("H1q[...]",
 * "D1:5", "E1", "R3:8", "G5:0", "L"); consecutive on_data calls for one
 * stream are merged, because their number depends on the pieces. The split
 * tests feed the same bytes whole, in two pieces at every offset and byte by
 * byte, and require the same logs and the same counters.
 */
#include "../decoders/http2.h"
#include "../sensor/event_wire.h"
#include "../sensor/h2session.h"
#include "unit.h"

#include <stdarg.h>
#include <stdlib.h>

#include <nghttp2/nghttp2.h>

/* ------------------------------------------------------------ connection */

#define CONV_BYTES (1u << 18)
#define CONV_SEGS 4096

struct seg {
	bool fc;
	size_t off, len;
};

struct conv {
	uint8_t buf[2][CONV_BYTES]; /* [from_client] */
	size_t len[2];
	struct seg seg[CONV_SEGS];
	int nseg;
	nghttp2_hd_deflater *def[2];
};

static struct conv *conv_new(void)
{
	struct conv *v = calloc(1, sizeof *v);
	nghttp2_hd_deflate_new(&v->def[0], 4096);
	nghttp2_hd_deflate_new(&v->def[1], 4096);
	return v;
}

static void conv_free(struct conv *v)
{
	nghttp2_hd_deflate_del(v->def[0]);
	nghttp2_hd_deflate_del(v->def[1]);
	free(v);
}

/* Appends bytes to a direction, as one segment (joined to the last one
 * when `join` and it is of the same direction). */
static void put_raw(struct conv *v, bool fc, const void *p, size_t n, bool join)
{
	if (v->len[fc] + n > CONV_BYTES)
		abort();
	memcpy(v->buf[fc] + v->len[fc], p, n);
	if (join && v->nseg > 0 && v->seg[v->nseg - 1].fc == fc &&
	    v->seg[v->nseg - 1].off + v->seg[v->nseg - 1].len == v->len[fc]) {
		v->seg[v->nseg - 1].len += n;
	} else {
		if (v->nseg == CONV_SEGS)
			abort();
		v->seg[v->nseg++] = (struct seg){fc, v->len[fc], n};
	}
	v->len[fc] += n;
}

static void put(struct conv *v, bool fc, const void *p, size_t n)
{
	put_raw(v, fc, p, n, true);
}

static void put_frame(struct conv *v, bool fc, uint8_t type, uint8_t flags, uint32_t sid,
		      const void *payload, size_t n)
{
	uint8_t h[9] = {(uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n, type, flags,
			(uint8_t)(sid >> 24), (uint8_t)(sid >> 16), (uint8_t)(sid >> 8),
			(uint8_t)sid};
	put(v, fc, h, 9);
	if (n)
		put(v, fc, payload, n);
}

/* Compresses "name=value|name=value..." with the direction's deflater. */
static size_t hpack(struct conv *v, bool fc, const char *fields, uint8_t *out, size_t cap)
{
	nghttp2_nv nv[64];
	char copy[8192];
	size_t n = 0;
	snprintf(copy, sizeof copy, "%s", fields);
	for (char *f = strtok(copy, "|"); f && n < 64; f = strtok(NULL, "|")) {
		char *eq = strchr(f + 1, '=');
		if (!eq)
			continue;
		*eq = '\0';
		bool never = f[0] == '!'; /* "!name=value": never indexed */
		char *name = never ? f + 1 : f;
		nv[n] = (nghttp2_nv){(uint8_t *)name, (uint8_t *)(eq + 1), strlen(name),
				     strlen(eq + 1),
				     never ? NGHTTP2_NV_FLAG_NO_INDEX : NGHTTP2_NV_FLAG_NONE};
		n++;
	}
#if NGHTTP2_VERSION_NUM >= 0x013c00 /* 1.60: the nghttp2_ssize API */
	ptrdiff_t r = nghttp2_hd_deflate_hd2(v->def[fc], out, cap, nv, n);
#else
	ptrdiff_t r = nghttp2_hd_deflate_hd(v->def[fc], out, cap, nv, n);
#endif
	if (r < 0)
		abort();
	return (size_t)r;
}

enum { F_END_STREAM = 1, F_END_HEADERS = 4, F_PADDED = 8, F_PRIORITY = 0x20 };

static void headers(struct conv *v, bool fc, uint32_t sid, bool end_stream, const char *fields)
{
	uint8_t blk[16384];
	size_t n = hpack(v, fc, fields, blk, sizeof blk);
	put_frame(v, fc, H2_HEADERS, F_END_HEADERS | (end_stream ? F_END_STREAM : 0), sid, blk,
		  n);
}

static void data(struct conv *v, bool fc, uint32_t sid, bool end_stream, size_t n)
{
	uint8_t d[16384];
	memset(d, 'x', n);
	put_frame(v, fc, H2_DATA, end_stream ? F_END_STREAM : 0, sid, d, n);
}

static void preface(struct conv *v)
{
	put(v, true, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24);
	put_frame(v, true, H2_SETTINGS, 0, 0, NULL, 0);
	put_frame(v, false, H2_SETTINGS, 0, 0, NULL, 0);
}

/* --------------------------------------------------------------- recorder */

struct rec {
	char log[2][16384];
	size_t len[2];
	uint32_t dsid[2];
	uint64_t dn[2];
	bool dmiss[2];
};

static void rec_add(struct rec *r, bool fc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void rec_add(struct rec *r, bool fc, const char *fmt, ...)
{
	size_t room = sizeof r->log[fc] - r->len[fc];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(r->log[fc] + r->len[fc], room, fmt, ap);
	va_end(ap);
	if (n > 0)
		r->len[fc] += (size_t)n < room ? (size_t)n : room - 1;
}

static void rec_flush(struct rec *r, bool fc)
{
	if (r->dn[fc] || r->dmiss[fc])
		rec_add(r, fc, "D%u:%" PRIu64 "%s|", r->dsid[fc], r->dn[fc], r->dmiss[fc] ? "?" : "");
	r->dn[fc] = 0;
	r->dmiss[fc] = false;
}

static const char *rec_str(struct rec *r, bool fc)
{
	rec_flush(r, fc);
	return r->log[fc];
}

static void r_headers(void *ctx, bool fc, const struct h2_block *b)
{
	struct rec *r = ctx;
	rec_flush(r, fc);
	static const char kinds[] = "qstu";
	rec_add(r, fc, "H%u%c%s", b->stream_id, kinds[b->kind], b->partial ? "!" : "");
	if (b->promised_id)
		rec_add(r, fc, "P%u", b->promised_id);
	rec_add(r, fc, "[");
	for (uint32_t i = 0; i < b->n_fields; i++) {
		const struct h2_field *f = &b->fields[i];
		if (f->valuelen > 64) /* long values: first and last byte, length */
			rec_add(r, fc, "%.*s=%c..%c#%zu;", (int)f->namelen, f->name, f->value[0],
				f->value[f->valuelen - 1], f->valuelen);
		else
			rec_add(r, fc, "%.*s=%.*s;", (int)f->namelen, f->name, (int)f->valuelen,
				f->value);
	}
	rec_add(r, fc, "]|");
}

static void r_data(void *ctx, bool fc, uint32_t sid, uint64_t n, bool missing)
{
	struct rec *r = ctx;
	if (r->dsid[fc] != sid)
		rec_flush(r, fc);
	r->dsid[fc] = sid;
	r->dn[fc] += n;
	r->dmiss[fc] |= missing;
}

static void r_end(void *ctx, bool fc, uint32_t sid)
{
	struct rec *r = ctx;
	rec_flush(r, fc);
	rec_add(r, fc, "E%u|", sid);
}

static void r_rst(void *ctx, bool fc, uint32_t sid, uint32_t err)
{
	struct rec *r = ctx;
	rec_flush(r, fc);
	rec_add(r, fc, "R%u:%u|", sid, err);
}

static void r_goaway(void *ctx, bool fc, uint32_t last, uint32_t err)
{
	struct rec *r = ctx;
	rec_flush(r, fc);
	rec_add(r, fc, "G%u:%u|", last, err);
}

static void r_lost(void *ctx, bool fc)
{
	struct rec *r = ctx;
	rec_flush(r, fc);
	rec_add(r, fc, "L|");
}

static const struct h2_callbacks rec_cb = {r_headers, r_data, r_end, r_rst, r_goaway, r_lost};

/* ----------------------------------------------------------------- replay */

static struct h2_limits lim_default(void)
{
	struct h2_limits l;
	h2_limits_default(&l);
	return l;
}

/* Feeds the segments in order, each cut in pieces of `piece` bytes (0: whole). */
static void replay(struct conv *v, struct h2_conn *c, struct rec *r, size_t piece)
{
	for (int i = 0; i < v->nseg; i++) {
		const struct seg *s = &v->seg[i];
		const uint8_t *p = v->buf[s->fc] + s->off;
		size_t step = piece ? piece : s->len;
		for (size_t o = 0; o < s->len; o += step)
			h2_feed(c, s->fc, p + o, s->len - o < step ? s->len - o : step, &rec_cb, r);
	}
}

/* Runs a whole conversation through a fresh decoder; returns its stats. */
static struct h2_stats run(struct conv *v, struct rec *r, const struct h2_limits *lim,
			   bool midstream, size_t piece)
{
	struct h2_stats st = {0};
	memset(r, 0, sizeof *r);
	struct h2_conn *c = h2_conn_new(lim, &st, midstream);
	replay(v, c, r, piece);
	rec_flush(r, true);
	rec_flush(r, false);
	h2_conn_free(c);
	CHECK_EQ(st.v[H2_STAT_MEMORY], 0);
	return st;
}

/* ------------------------------------------------------------------ tests */

static void test_simple_exchange(void)
{
	struct conv *v = conv_new();
	preface(v);
	headers(v, true, 1, true,
		":method=GET|:scheme=http|:authority=api.example.com|:path=/v1/users/42?x=1|user-agent=t/1");
	put_frame(v, true, H2_SETTINGS, 1, 0, NULL, 0);
	headers(v, false, 1, false, ":status=200|content-type=application/json");
	data(v, false, 1, false, 10);
	data(v, false, 1, true, 5);
	struct rec r;
	struct h2_limits lim = lim_default();
	struct h2_stats st = run(v, &r, &lim, false, 0);
	CHECK_STR(rec_str(&r, true),
		  "H1q[:method=GET;:scheme=http;:authority=api.example.com;:path=/v1/users/42?x=1;"
		  "user-agent=t/1;]|E1|");
	CHECK_STR(rec_str(&r, false), "H1s[:status=200;content-type=application/json;]|D1:15|E1|");
	CHECK_EQ(st.v[H2_STAT_FRAMES], 7);
	CHECK_EQ(st.v[H2_STAT_FRAME_SETTINGS], 3);
	CHECK_EQ(st.v[H2_STAT_FRAME_HEADERS], 2);
	CHECK_EQ(st.v[H2_STAT_FRAME_DATA], 2);
	CHECK_EQ(st.v[H2_STAT_HEADER_BLOCKS], 2);
	CHECK_EQ(st.v[H2_STAT_BAD_FRAMES] + st.v[H2_STAT_HPACK_ERRORS] + st.v[H2_STAT_RESYNCS], 0);
	CHECK(st.v[H2_STAT_MEMORY_PEAK] > 0);
	conv_free(v);
}

/* Many concurrent streams, interleaved, sharing the dynamic table. */
static struct conv *many_streams(int n)
{
	struct conv *v = conv_new();
	preface(v);
	char f[512];
	for (int i = 0; i < n; i++) {
		uint32_t sid = 1 + 2 * (uint32_t)i;
		snprintf(f, sizeof f,
			 ":method=POST|:scheme=https|:authority=api.example.com|:path=/v1/items/%d|"
			 "content-type=application/json|x-request-id=req-%d|x-tenant=acme",
			 i, i);
		headers(v, true, sid, false, f);
		data(v, true, sid, true, (size_t)(i % 7) + 1);
	}
	for (int i = n - 1; i >= 0; i--) {
		uint32_t sid = 1 + 2 * (uint32_t)i;
		snprintf(f, sizeof f, ":status=%d|content-type=application/json|x-tenant=acme",
			 i % 3 ? 200 : 404);
		headers(v, false, sid, false, f);
	}
	for (int i = 0; i < n; i++)
		data(v, false, 1 + 2 * (uint32_t)i, true, (size_t)(i % 5) * 100);
	return v;
}

static void test_many_streams(void)
{
	struct conv *v = many_streams(60);
	struct rec r;
	struct h2_limits lim = lim_default();
	struct h2_stats st = run(v, &r, &lim, false, 0);
	CHECK_EQ(st.v[H2_STAT_HEADER_BLOCKS], 120);
	CHECK_EQ(st.v[H2_STAT_PARTIAL_BLOCKS], 0);
	CHECK(strstr(r.log[1], "H119q[:method=POST;:scheme=https;:authority=api.example.com;"
			       ":path=/v1/items/59;content-type=application/json;"
			       "x-request-id=req-59;x-tenant=acme;]|D119:4|E119|") != NULL);
	CHECK(strstr(r.log[0], "H1s[:status=404;content-type=application/json;x-tenant=acme;]|") !=
	      NULL);
	CHECK(strstr(r.log[0], "D117:300|E117|") != NULL);
	conv_free(v);
}

/* The same bytes cut anywhere give the same callbacks and counters. */
static void test_split_every_offset(void)
{
	struct conv *v = conv_new();
	preface(v);
	/* padding, priority, CONTINUATION, PUSH_PROMISE, RST, GOAWAY, PING... */
	uint8_t blk[4096];
	size_t n = hpack(v, true, ":method=GET|:scheme=https|:authority=a.example|:path=/p|"
				  "user-agent=split-test/1.0|accept=*/*",
			 blk, sizeof blk);
	uint8_t pl[4200];
	pl[0] = 3;                             /* pad length */
	memcpy(pl + 1, "\x00\x00\x00\x00\x10", 5); /* priority: dep 0, weight 16 */
	memcpy(pl + 6, blk, 10);
	memset(pl + 16, 0, 3);
	put_frame(v, true, H2_HEADERS, F_PADDED | F_PRIORITY | F_END_STREAM, 1, pl, 19);
	put_frame(v, true, H2_CONTINUATION, 0, 1, blk + 10, 5);
	put_frame(v, true, H2_CONTINUATION, F_END_HEADERS, 1, blk + 15, n - 15);
	put_frame(v, true, H2_PING, 0, 0, "12345678", 8);
	put_frame(v, true, H2_PRIORITY, 0, 3, "\x00\x00\x00\x01\x20", 5);
	put_frame(v, true, H2_WINDOW_UPDATE, 0, 0, "\x00\x01\x00\x00", 4);
	headers(v, true, 3, true, ":method=GET|:scheme=https|:authority=a.example|:path=/q");
	n = hpack(v, false, ":method=GET|:scheme=https|:authority=a.example|:path=/style.css", blk,
		  sizeof blk);
	pl[0] = 0;
	memcpy(pl + 1, "\x00\x00\x00\x02", 4);
	memcpy(pl + 5, blk, n);
	put_frame(v, false, H2_PUSH_PROMISE, F_END_HEADERS | F_PADDED, 1, pl, 5 + n);
	headers(v, false, 1, false, ":status=200|content-type=text/html");
	pl[0] = 7;
	memset(pl + 1, 'd', 20);
	memset(pl + 21, 0, 7);
	put_frame(v, false, H2_DATA, F_PADDED, 1, pl, 28);
	data(v, false, 1, true, 3);
	headers(v, false, 2, false, ":status=200|content-type=text/css");
	data(v, false, 2, true, 9);
	put_frame(v, false, H2_RST_STREAM, 0, 3, "\x00\x00\x00\x07", 4);
	put_frame(v, false, H2_GOAWAY, 0, 0, "\x00\x00\x00\x03\x00\x00\x00\x00" "debug", 13);
	put_frame(v, false, 0xfa, 0, 0, "ext", 3); /* unknown type: skipped */

	struct rec ref, r;
	struct h2_limits lim = lim_default();
	struct h2_stats st = run(v, &ref, &lim, false, 0);
	CHECK_STR(ref.log[1],
		  "H1q[:method=GET;:scheme=https;:authority=a.example;:path=/p;"
		  "user-agent=split-test/1.0;accept=*/*;]|E1|"
		  "H3q[:method=GET;:scheme=https;:authority=a.example;:path=/q;]|E3|");
	CHECK_STR(ref.log[0],
		  "H1qP2[:method=GET;:scheme=https;:authority=a.example;:path=/style.css;]|"
		  "H1s[:status=200;content-type=text/html;]|D1:23|E1|"
		  "H2s[:status=200;content-type=text/css;]|D2:9|E2|R3:7|G3:0|");
	CHECK_EQ(st.v[H2_STAT_FRAME_CONTINUATION], 2);
	CHECK_EQ(st.v[H2_STAT_FRAME_PUSH_PROMISE], 1);
	CHECK_EQ(st.v[H2_STAT_FRAME_PING], 1);
	CHECK_EQ(st.v[H2_STAT_FRAME_PRIORITY], 1);
	CHECK_EQ(st.v[H2_STAT_FRAME_WINDOW_UPDATE], 1);
	CHECK_EQ(st.v[H2_STAT_FRAME_RST_STREAM], 1);
	CHECK_EQ(st.v[H2_STAT_FRAME_GOAWAY], 1);
	CHECK_EQ(st.v[H2_STAT_FRAME_UNKNOWN], 1);
	CHECK_EQ(st.v[H2_STAT_BAD_FRAMES], 0);

	/* Each direction in two pieces at every offset, then byte by byte. */
	for (int fc = 0; fc < 2; fc++) {
		int bad = 0;
		for (size_t k = 0; k <= v->len[fc]; k++) {
			struct h2_stats s2 = {0};
			memset(&r, 0, sizeof r);
			struct h2_conn *c = h2_conn_new(&lim, &s2, false);
			/* the other direction first when it is the client's (SETTINGS) */
			if (!fc)
				h2_feed(c, true, v->buf[1], v->len[1], &rec_cb, &r);
			h2_feed(c, fc, v->buf[fc], k, &rec_cb, &r);
			h2_feed(c, fc, v->buf[fc] + k, v->len[fc] - k, &rec_cb, &r);
			if (fc)
				h2_feed(c, false, v->buf[0], v->len[0], &rec_cb, &r);
			if (strcmp(rec_str(&r, fc), ref.log[fc]) != 0 ||
			    memcmp(s2.v, st.v, sizeof(uint64_t) * H2_STAT_MEMORY) != 0)
				bad++;
			h2_conn_free(c);
		}
		CHECK_EQ(bad, 0);
	}
	struct h2_stats s3 = run(v, &r, &lim, false, 1);
	CHECK_STR(r.log[0], ref.log[0]);
	CHECK_STR(r.log[1], ref.log[1]);
	CHECK(memcmp(s3.v, st.v, sizeof(uint64_t) * H2_STAT_MEMORY) == 0);
	conv_free(v);
}

static void test_split_many_streams_random(void)
{
	struct conv *v = many_streams(40);
	struct rec ref, r;
	struct h2_limits lim = lim_default();
	run(v, &ref, &lim, false, 0);
	srand(7);
	for (int round = 0; round < 20; round++) {
		struct h2_stats st = {0};
		memset(&r, 0, sizeof r);
		struct h2_conn *c = h2_conn_new(&lim, &st, false);
		for (int i = 0; i < v->nseg; i++) {
			const struct seg *s = &v->seg[i];
			for (size_t o = 0; o < s->len;) {
				size_t k = 1 + (size_t)rand() % 40;
				if (k > s->len - o)
					k = s->len - o;
				h2_feed(c, s->fc, v->buf[s->fc] + s->off + o, k, &rec_cb, &r);
				o += k;
			}
		}
		CHECK_STR(rec_str(&r, true), ref.log[1]);
		CHECK_STR(rec_str(&r, false), ref.log[0]);
		h2_conn_free(c);
	}
	conv_free(v);
}

/* SETTINGS_HEADER_TABLE_SIZE from the client lets the server's encoder use a
 * bigger table; a smaller one makes it shrink with an in-band update. */
static void test_table_size_change(void)
{
	struct conv *v = conv_new();
	put(v, true, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24);
	put_frame(v, true, H2_SETTINGS, 0, 0, "\x00\x01\x00\x01\x00\x00", 6); /* 65536 */
	put_frame(v, false, H2_SETTINGS, 1, 0, NULL, 0);
	nghttp2_hd_deflate_del(v->def[0]);
	nghttp2_hd_deflate_new(&v->def[0], 65536);
	nghttp2_hd_deflate_change_table_size(v->def[0], 65536);
	char big[3000], f[8192];
	memset(big, 'v', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	for (uint32_t i = 0; i < 8; i++) {
		headers(v, true, 1 + 2 * i, true, ":method=GET|:scheme=http|:authority=h|:path=/");
		/* 8 x ~6 KB: only a table above 4 KiB keeps them */
		snprintf(f, sizeof f, ":status=200|x-a=%s%u|x-b=%s", big, i % 2, big);
		headers(v, false, 1 + 2 * i, true, f);
	}
	/* then the client shrinks the table to 100 bytes */
	put_frame(v, true, H2_SETTINGS, 0, 0, "\x00\x01\x00\x00\x00\x64", 6);
	put_frame(v, false, H2_SETTINGS, 1, 0, NULL, 0);
	nghttp2_hd_deflate_change_table_size(v->def[0], 100);
	headers(v, true, 17, true, ":method=GET|:scheme=http|:authority=h|:path=/");
	headers(v, false, 17, true, ":status=204|x-c=small");
	headers(v, true, 19, true, ":method=GET|:scheme=http|:authority=h|:path=/");
	headers(v, false, 19, true, ":status=204|x-c=small");
	/* and asks for more than the cap */
	put_frame(v, true, H2_SETTINGS, 0, 0, "\x00\x01\x10\x00\x00\x00", 6);
	struct rec r;
	struct h2_limits lim = lim_default();
	struct h2_stats st = run(v, &r, &lim, false, 0);
	CHECK_EQ(st.v[H2_STAT_HPACK_ERRORS], 0);
	CHECK_EQ(st.v[H2_STAT_PARTIAL_BLOCKS], 0);
	CHECK_EQ(st.v[H2_STAT_HEADER_BLOCKS], 20);
	CHECK_EQ(st.v[H2_STAT_TABLE_SIZE_CAPPED], 1);
	CHECK(strstr(r.log[0], "H19s[:status=204;x-c=small;]|E19|") != NULL);
	CHECK(strstr(r.log[0], "H15s[:status=200;x-a=v..1#3000;x-b=v..v#2999;]|E15|") != NULL);
	conv_free(v);
}

/* A table size update above what any SETTINGS seen allowed (they came
 * before the capture): the encoder's word is taken, up to the cap. */
static void test_table_size_unannounced(void)
{
	struct conv *v = conv_new();
	preface(v);
	nghttp2_hd_deflate_del(v->def[0]);
	nghttp2_hd_deflate_new(&v->def[0], 1 << 20);
	nghttp2_hd_deflate_change_table_size(v->def[0], 8192);
	headers(v, false, 1, true, ":status=200|x-a=1");
	headers(v, false, 3, true, ":status=200|x-a=1");
	nghttp2_hd_deflate_change_table_size(v->def[0], 100000); /* above the cap */
	headers(v, false, 5, true, ":status=200|x-a=1");
	headers(v, false, 7, true, ":status=200|x-a=1");
	struct rec r;
	struct h2_limits lim = lim_default();
	struct h2_stats st = run(v, &r, &lim, false, 0);
	CHECK_EQ(st.v[H2_STAT_TABLE_SIZE_UNANNOUNCED], 1);
	CHECK_EQ(st.v[H2_STAT_HPACK_ERRORS], 1);
	CHECK_EQ(st.v[H2_STAT_HPACK_LOST], 1);
	/* after the refused update a fresh inflater decodes what it can */
	CHECK_STR(r.log[0], "H1s[:status=200;x-a=1;]|E1|H3s[:status=200;x-a=1;]|E3|"
			    "H5u![]|E5|H7s![:status=200;]|E7|");
	conv_free(v);
}

/* A capture that starts in the middle: frame boundaries are found again and
 * what the lost table held is dropped, never guessed. */
static void test_midstream(void)
{
	struct conv *v = conv_new();
	preface(v);
	headers(v, true, 1, false,
		":method=POST|:scheme=https|:authority=secret.example|:path=/one|x-old=lost-value|"
		"x-tok=a");
	data(v, true, 1, true, 300);
	headers(v, false, 1, true, ":status=200|content-type=application/json");
	size_t cut_c = v->len[1] - 150; /* inside the DATA payload */
	size_t cut_s = v->len[0];
	/* stream 3 reuses the entries of stream 1 (authority, x-old), and the
	 * name of x-tok with a new value: that entry keeps its slot, nameless */
	headers(v, true, 3, true,
		":method=POST|:scheme=https|:authority=secret.example|:path=/two|x-old=lost-value|"
		"x-new=fresh|!authorization=Bearer abc|x-tok=b");
	/* stream 5 reuses both entries stream 3 added after the cut: x-new is
	 * right only if x-tok's nameless entry took its slot */
	headers(v, true, 5, true, ":method=GET|:scheme=https|:path=/three|x-new=fresh|x-tok=b");
	headers(v, false, 3, true, ":status=201|content-type=application/json|x-s=1");
	headers(v, false, 5, true, ":status=404|content-type=application/json|x-s=1");

	struct h2_stats st = {0};
	struct rec r;
	memset(&r, 0, sizeof r);
	struct h2_limits lim = lim_default();
	struct h2_conn *c = h2_conn_new(&lim, &st, true);
	h2_feed(c, true, v->buf[1] + cut_c, v->len[1] - cut_c, &rec_cb, &r);
	h2_feed(c, false, v->buf[0] + cut_s, v->len[0] - cut_s, &rec_cb, &r);
	CHECK_STR(rec_str(&r, true),
		  "H3q![:method=POST;:scheme=https;:path=/two;x-new=fresh;authorization=Bearer abc;]|"
		  "E3|H5q![:method=GET;:scheme=https;:path=/three;x-new=fresh;]|E5|");
	/* content-type was indexed by stream 1's response: lost for good */
	CHECK_STR(rec_str(&r, false),
		  "H3s![:status=201;x-s=1;]|E3|H5s![:status=404;x-s=1;]|E5|");
	CHECK_EQ(st.v[H2_STAT_RESYNCS], 2);
	CHECK_EQ(st.v[H2_STAT_BYTES_SKIPPED], 150);
	CHECK_EQ(st.v[H2_STAT_FIELDS_DROPPED], 6);
	CHECK_EQ(st.v[H2_STAT_PARTIAL_BLOCKS], 4);
	CHECK_EQ(st.v[H2_STAT_HPACK_LOST], 2);
	h2_conn_free(c);
	conv_free(v);
}

/* A gap inside a DATA payload keeps sync; a gap over frames loses them. */
static void test_gaps(void)
{
	struct conv *v = conv_new();
	preface(v);
	headers(v, true, 1, true, ":method=GET|:scheme=http|:authority=g.example|:path=/a|x-k=v1");
	headers(v, false, 1, false, ":status=200|x-r=r1");
	size_t d0 = v->len[0];
	data(v, false, 1, true, 1000);
	headers(v, true, 3, true, ":method=GET|:scheme=http|:authority=g.example|:path=/b|x-k=v1");
	size_t lost0 = v->len[0];
	headers(v, false, 3, false, ":status=200|x-r=r2");
	data(v, false, 3, true, 50);
	size_t lost1 = v->len[0];
	headers(v, true, 5, true, ":method=GET|:scheme=http|:authority=g.example|:path=/c");
	headers(v, false, 5, true, ":status=200|x-r=r2|x-r3=third");
	headers(v, true, 7, true, ":method=GET|:scheme=http|:authority=g.example|:path=/d");
	headers(v, false, 7, true, ":status=200|x-r=r1|x-r3=third");

	struct h2_stats st = {0};
	struct rec r;
	memset(&r, 0, sizeof r);
	struct h2_limits lim = lim_default();
	struct h2_conn *c = h2_conn_new(&lim, &st, false);
	h2_feed(c, true, v->buf[1], v->len[1], &rec_cb, &r);
	/* server: everything up to 100 bytes into the DATA payload, a gap of
	 * 800, the rest of the frame; then a gap over stream 3's frames. */
	size_t a = d0 + 9 + 100;
	h2_feed(c, false, v->buf[0], a, &rec_cb, &r);
	h2_gap(c, false, 800, &rec_cb, &r);
	h2_feed(c, false, v->buf[0] + a + 800, lost0 - a - 800, &rec_cb, &r);
	h2_gap(c, false, (uint32_t)(lost1 - lost0), &rec_cb, &r);
	h2_feed(c, false, v->buf[0] + lost1, v->len[0] - lost1, &rec_cb, &r);
	CHECK_STR(rec_str(&r, false),
		  "H1s[:status=200;x-r=r1;]|D1:1000?|E1|L|"
		  "H5s![:status=200;x-r3=third;]|E5|H7s![:status=200;x-r3=third;]|E7|");
	CHECK_EQ(st.v[H2_STAT_GAPS], 2);
	CHECK_EQ(st.v[H2_STAT_GAPS_BRIDGED], 1);
	CHECK_EQ(st.v[H2_STAT_RESYNCS], 1);
	CHECK_EQ(st.v[H2_STAT_BYTES_SKIPPED], 0);
	CHECK_EQ(st.v[H2_STAT_FIELDS_DROPPED], 2);
	h2_conn_free(c);
	conv_free(v);
}

/* A gap inside a header block: what came before it is delivered, partial. */
static void test_gap_in_header_block(void)
{
	struct conv *v = conv_new();
	preface(v);
	size_t at = v->len[1];
	headers(v, true, 1, true,
		":method=GET|:scheme=http|:authority=g.example|:path=/a|x-long=0123456789abcdef");
	headers(v, true, 3, true, ":method=GET|:scheme=http|:authority=g.example|:path=/b");
	struct h2_stats st = {0};
	struct rec r;
	memset(&r, 0, sizeof r);
	struct h2_limits lim = lim_default();
	struct h2_conn *c = h2_conn_new(&lim, &st, false);
	size_t cut = at + 9 + 6; /* six bytes of the block, then 3 lost */
	h2_feed(c, true, v->buf[1], cut, &rec_cb, &r);
	h2_gap(c, true, 3, &rec_cb, &r);
	h2_feed(c, true, v->buf[1] + cut + 3, v->len[1] - cut - 3, &rec_cb, &r);
	CHECK_STR(rec_str(&r, true), "H1q![:method=GET;:scheme=http;]|E1|H3q![:method=GET;"
				     ":scheme=http;:path=/b;]|E3|");
	CHECK_EQ(st.v[H2_STAT_GAPS_BRIDGED], 1);
	CHECK_EQ(st.v[H2_STAT_HPACK_LOST], 1);
	h2_conn_free(c);
	conv_free(v);
}

/* The 2024 CONTINUATION flood: the block is cut at the cap, the rest skipped
 * unbuffered, memory stays small, the connection goes on. */
static void test_continuation_flood(void)
{
	struct conv *v = conv_new();
	preface(v);
	uint8_t blk[256];
	size_t n = hpack(v, true, ":method=GET|:scheme=http|:authority=f.example|:path=/flood",
			 blk, sizeof blk);
	put_frame(v, true, H2_HEADERS, 0, 1, blk, n);
	/* a literal whose value is announced at 65 KB and never finishes */
	uint8_t junk[40];
	memset(junk, 'x', sizeof junk);
	memcpy(junk, "\x00\x01" "a" "\x7f\xff\xff\x03", 7);
	put_frame(v, true, H2_CONTINUATION, 0, 1, junk, sizeof junk);
	memset(junk, 'x', sizeof junk);
	for (int i = 1; i < 3000; i++)
		put_frame(v, true, H2_CONTINUATION, 0, 1, junk, sizeof junk);
	put_frame(v, true, H2_CONTINUATION, F_END_HEADERS, 1, NULL, 0);
	headers(v, true, 3, true, ":method=GET|:scheme=http|:path=/after");
	struct rec r;
	struct h2_limits lim = lim_default();
	struct h2_stats st = run(v, &r, &lim, false, 0);
	/* the table is lost after the cut, but /after needs nothing from it */
	CHECK_STR(r.log[1], "H1q![:method=GET;:scheme=http;:authority=f.example;:path=/flood;]|"
			    "H3q[:method=GET;:scheme=http;:path=/after;]|E3|");
	CHECK_EQ(st.v[H2_STAT_CONTINUATION_FLOOD], 1);
	CHECK_EQ(st.v[H2_STAT_FRAME_CONTINUATION], 3001);
	CHECK(st.v[H2_STAT_MEMORY_PEAK] < 80000);
	conv_free(v);
}

static void test_header_caps(void)
{
	struct conv *v = conv_new();
	preface(v);
	char f[4096], big[1500];
	memset(big, 'b', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	snprintf(f, sizeof f, ":method=GET|:scheme=http|:authority=c.example|:path=/big|x-1=%s|x-2=%s", big, big);
	headers(v, true, 1, true, f);
	headers(v, true, 3, true, ":method=GET|:scheme=http|:authority=c.example|:path=/small");
	struct rec r;
	struct h2_limits lim = lim_default();
	lim.max_header_list = 1000; /* the list of stream 1 is over: x-1 and x-2 dropped */
	struct h2_stats st = run(v, &r, &lim, false, 0);
	CHECK_STR(r.log[1], "H1q![:method=GET;:scheme=http;:authority=c.example;:path=/big;]|E1|"
			    "H3q[:method=GET;:scheme=http;:authority=c.example;:path=/small;]|E3|");
	CHECK_EQ(st.v[H2_STAT_HEADER_LIST_TOO_BIG], 1);
	CHECK_EQ(st.v[H2_STAT_HPACK_LOST], 0); /* the table stayed in step */

	lim = lim_default();
	lim.max_block_bytes = 500; /* stream 1's block is cut: its table is lost */
	st = run(v, &r, &lim, false, 0);
	CHECK_EQ(st.v[H2_STAT_BLOCK_TOO_BIG], 1);
	CHECK_EQ(st.v[H2_STAT_HPACK_LOST], 1);
	CHECK(strncmp(r.log[1], "H1q![:method=GET;:scheme=http;:authority=c.example;:path=/big;",
		      62) == 0);
	CHECK(strstr(r.log[1], "|E1|H3q![:method=GET;:scheme=http;:path=/small;]|E3|") != NULL);

	lim = lim_default();
	lim.max_memory = 8000; /* header decoding stops; frames go on */
	st = run(v, &r, &lim, false, 0);
	CHECK(st.v[H2_STAT_MEMORY_CAP] > 0);
	CHECK_EQ(st.v[H2_STAT_HEADERS_OFF], 1);
	CHECK(strstr(r.log[1], "H3u![]|E3|") != NULL);
	conv_free(v);
}

static void test_bad_frames(void)
{
	struct conv *v = conv_new();
	preface(v);
	uint8_t pl[32] = {40}; /* pad length beyond the payload */
	put_frame(v, false, H2_DATA, F_PADDED, 1, pl, 10);
	put_frame(v, false, H2_RST_STREAM, 0, 1, "\x00\x00\x00\x00\x00", 5);
	put_frame(v, false, H2_CONTINUATION, F_END_HEADERS, 1, "\x82", 1);
	put_frame(v, false, H2_HEADERS, F_END_HEADERS, 1, "\xff\xff\xff\x7f", 4); /* bad HPACK */
	headers(v, false, 3, true, ":status=200");
	struct rec r;
	struct h2_limits lim = lim_default();
	struct h2_stats st = run(v, &r, &lim, false, 0);
	CHECK_EQ(st.v[H2_STAT_BAD_FRAMES], 3);
	CHECK_EQ(st.v[H2_STAT_HPACK_ERRORS], 1);
	CHECK_STR(r.log[0], "H1u![]|H3s[:status=200;]|E3|");
	conv_free(v);
}

/* Client bytes that are not the preface: frames are looked for from byte 0. */
static void test_missing_preface(void)
{
	struct conv *v = conv_new();
	put_frame(v, true, H2_SETTINGS, 0, 0, NULL, 0);
	headers(v, true, 1, true, ":method=GET|:scheme=http|:authority=x|:path=/np|x-a=1");
	headers(v, true, 3, true, ":method=GET|:scheme=http|:authority=x|:path=/np|x-a=1");
	struct rec r;
	struct h2_limits lim = lim_default();
	struct h2_stats st = run(v, &r, &lim, false, 0);
	CHECK_EQ(st.v[H2_STAT_BAD_PREFACE], 1);
	CHECK_EQ(st.v[H2_STAT_HPACK_LOST], 0);
	CHECK_STR(r.log[1], "H1q[:method=GET;:scheme=http;:authority=x;:path=/np;x-a=1;]|E1|"
			    "H3q[:method=GET;:scheme=http;:authority=x;:path=/np;x-a=1;]|E3|");
	conv_free(v);
}

/* Bytes that never become frames: the search gives up, counted. */
static void test_resync_gives_up(void)
{
	struct h2_stats st = {0};
	struct h2_limits lim = lim_default();
	lim.max_resync_bytes = 4096;
	struct h2_conn *c = h2_conn_new(&lim, &st, true);
	uint8_t junk[1024];
	memset(junk, 'A', sizeof junk);
	struct rec r;
	memset(&r, 0, sizeof r);
	for (int i = 0; i < 10; i++)
		h2_feed(c, true, junk, sizeof junk, &rec_cb, &r);
	CHECK_EQ(st.v[H2_STAT_GAVE_UP], 1);
	CHECK_EQ(st.v[H2_STAT_RESYNCS], 0);
	h2_conn_free(c);
}

static void test_looks_like_frames(void)
{
	static const uint8_t settings[] = {0, 0, 6, 4, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 100,
					   0, 0, 4, 8, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	CHECK(h2_looks_like_frames(settings, sizeof settings));
	CHECK(h2_looks_like_frames((const uint8_t *)"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24));
	CHECK(!h2_looks_like_frames((const uint8_t *)"GET / HTTP/1.1\r\nHost: a\r\n\r\n", 27));
	CHECK(!h2_looks_like_frames((const uint8_t *)"\x16\x03\x01\x02\x00\x01\x00\x01\xfc", 9));
	CHECK(!h2_looks_like_frames(settings, 5));
	/* a plausible first header followed by an implausible second one */
	uint8_t two[18] = {0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0x33, 0, 0, 0, 0, 0};
	CHECK(!h2_looks_like_frames(two, sizeof two));
}

/* Hostile bytes: a real conversation with random bytes changed, cut at
 * random, with random gaps, through the decoder and through the session.
 * Nothing may crash (ASan, UBSan), memory must be bounded and given back. */
static void test_mutations(void)
{
	struct conv *v = many_streams(12);
	headers(v, false, 1, false, "grpc-status=0|grpc-message=ok");
	struct h2_limits lim = lim_default();
	lim.max_memory = 64 * 1024;
	static uint8_t buf[2][CONV_BYTES];
	srand(11);
	for (int round = 0; round < 400; round++) {
		memcpy(buf, v->buf, sizeof buf);
		int flips = 1 + rand() % 20;
		for (int k = 0; k < flips; k++) {
			int fc = rand() % 2;
			if (v->len[fc])
				buf[fc][(size_t)rand() % v->len[fc]] = (uint8_t)rand();
		}
		struct h2_stats st = {0};
		struct rec r;
		memset(&r, 0, sizeof r);
		struct h2_conn *c = h2_conn_new(&lim, &st, round % 3 == 0);
		for (int i = 0; i < v->nseg; i++) {
			const struct seg *sg = &v->seg[i];
			for (size_t o = 0; o < sg->len;) {
				size_t n = 1 + (size_t)rand() % 200;
				if (n > sg->len - o)
					n = sg->len - o;
				if (rand() % 50 == 0)
					h2_gap(c, sg->fc, n, &rec_cb, &r);
				else
					h2_feed(c, sg->fc, buf[sg->fc] + sg->off + o, n, &rec_cb, &r);
				o += n;
			}
		}
		CHECK(h2_memory(c) <= lim.max_memory);
		h2_conn_free(c);
		CHECK_EQ(st.v[H2_STAT_MEMORY], 0);
		CHECK(st.v[H2_STAT_MEMORY_PEAK] <= lim.max_memory);
	}
	conv_free(v);
}

/* ---------------------------------------------------------- h2session */

static struct api_event events[256];
static int n_events;

static void collect_event(void *ctx, const struct api_event *ev)
{
	(void)ctx;
	if (n_events < 256)
		events[n_events++] = *ev;
}

static struct session_env *env_new(void)
{
	struct session_env *env = calloc(1, sizeof *env);
	h2_limits_default(&env->lim.h2);
	env->emit = collect_event;
	n_events = 0;
	return env;
}

static struct api_event endpoints(void)
{
	struct api_event e;
	memset(&e, 0, sizeof e);
	e.client_ip[10] = e.client_ip[11] = 0xff;
	e.client_ip[12] = 198, e.client_ip[13] = 18, e.client_ip[14] = 1, e.client_ip[15] = 2;
	e.server_ip[10] = e.server_ip[11] = 0xff;
	e.server_ip[12] = 198, e.server_ip[13] = 18, e.server_ip[14] = 1, e.server_ip[15] = 1;
	e.client_port = 40000;
	e.server_port = 8080;
	return e;
}

static void session_replay(struct conv *v, struct h2session *h, uint64_t t0)
{
	for (int i = 0; i < v->nseg; i++)
		h2session_data(h, v->seg[i].fc, v->buf[v->seg[i].fc] + v->seg[i].off, v->seg[i].len,
			       t0 + (uint64_t)i * 1000);
}

static const struct api_event *event_of(uint32_t sid)
{
	for (int i = 0; i < n_events; i++)
		if (events[i].stream_id == sid)
			return &events[i];
	return NULL;
}

static void test_session_exchanges(void)
{
	struct session_env *env = env_new();
	struct conv *v = conv_new();
	preface(v);
	headers(v, true, 1, false,
		":method=POST|:scheme=https|:authority=user:pw@api.example.com|:path=/v1/orders?id=3&x|"
		"user-agent=grpc-test|content-type=application/grpc+proto");
	data(v, true, 1, true, 17);
	headers(v, false, 1, false, ":status=200|content-type=application/grpc");
	data(v, false, 1, false, 40);
	headers(v, false, 1, true, "grpc-status=5|grpc-message=not%20found");
	headers(v, true, 3, true, ":method=GET|:scheme=https|:path=/h|host=hosted.example");
	headers(v, false, 3, false, ":status=103|link=</s.css>");
	headers(v, false, 3, true, ":status=204");
	headers(v, true, 5, true, ":method=GET|:scheme=https|:authority=a|:path=/reset-by-server");
	put_frame(v, false, H2_RST_STREAM, 0, 5, "\x00\x00\x00\x08", 4);
	struct api_event ep = endpoints();
	struct h2session *h = h2session_new(env, &ep, false);
	session_replay(v, h, 1000000);
	CHECK_EQ(n_events, 3);
	const struct api_event *e = event_of(1);
	CHECK(e != NULL);
	if (e) {
		CHECK_EQ(e->proto, EV_HTTP2);
		CHECK_STR(e->method, "POST");
		CHECK_STR(e->host, "api.example.com");
		CHECK_STR(e->path, "/v1/orders");
		CHECK_EQ(e->n_query_keys, 2);
		CHECK_EQ(e->status, 200);
		CHECK_EQ(e->req_bytes, 17);
		CHECK_EQ(e->resp_bytes, 40);
		CHECK_STR(e->user_agent, "grpc-test");
		CHECK_STR(e->content_type, "application/grpc");
		CHECK_EQ(e->grpc_status, 5);
		CHECK_STR(e->grpc_message, "not%20found");
		CHECK_EQ(e->client_port, 40000);
		CHECK_EQ(e->ts_us, 1000000 + 2 * 1000); /* its HEADERS is the third segment */
		CHECK(!e->partial && !e->pushed);
	}
	e = event_of(3);
	CHECK(e != NULL);
	if (e) {
		CHECK_STR(e->host, "hosted.example");
		CHECK_EQ(e->status, 204);
		CHECK_EQ(e->grpc_status, -1);
	}
	e = event_of(5);
	CHECK(e && e->status == 0);
	CHECK_EQ(env->stats.h2.v[H2_STAT_RESETS], 1);
	h2session_end(h, 9000000);
	CHECK_EQ(n_events, 3);
	CHECK_EQ(env->memory, 0);
	conv_free(v);
	free(env);
}

/*
 * A stream's record is reused for the next stream: after a stream with every
 * field the event keeps, a small one gives the same event (as it leaves a
 * worker) as on a connection of its own.
 */
static void test_session_reused_record(void)
{
	static const char small_req[] = ":method=GET|:scheme=https|:path=/h";
	static uint8_t wa[EVENT_WIRE_MAX], wb[EVENT_WIRE_MAX];
	struct session_env *env = env_new();
	struct conv *v = conv_new();
	preface(v);
	headers(v, true, 1, false,
		":method=PROPFIND|:scheme=https|:authority=user:pw@api.example.com|"
		":path=/v1/orders/a/long/path?id=3&x&yy|user-agent=grpc-test/1.0|"
		"content-type=application/grpc+proto|authorization=Basic YWxpY2U6c2VjcmV0|"
		"x-forwarded-for=203.0.113.9");
	data(v, true, 1, true, 17);
	headers(v, false, 1, false, ":status=200|content-type=application/grpc");
	data(v, false, 1, false, 40);
	headers(v, false, 1, true, "grpc-status=5|grpc-message=not%20found%20at%20all");
	headers(v, true, 3, true, small_req);
	headers(v, false, 3, true, ":status=204");
	struct api_event ep = endpoints();
	struct h2session *h = h2session_new(env, &ep, false);
	session_replay(v, h, 1000000);
	CHECK_EQ(n_events, 2);
	CHECK_EQ(env->n_spare, 1); /* stream 3 took stream 1's record */
	h2session_end(h, 9000000);
	CHECK(env->spare == NULL && env->n_spare == 0); /* freed with the last user */
	struct api_event reused = *event_of(3);
	CHECK(event_of(1) && event_of(1)->identity.kind == ID_BASIC);
	conv_free(v);
	free(env);

	env = env_new();
	v = conv_new();
	preface(v);
	headers(v, true, 3, true, small_req);
	headers(v, false, 3, true, ":status=204");
	h = h2session_new(env, &ep, false);
	session_replay(v, h, 1000000);
	CHECK_EQ(n_events, 1);
	h2session_end(h, 9000000);
	struct api_event fresh = *event_of(3);
	fresh.ts_us = reused.ts_us; /* packet times follow the segments */
	fresh.end_us = reused.end_us;
	size_t na = event_wire_put(&reused, wa), nb = event_wire_put(&fresh, wb);
	CHECK(na == nb && memcmp(wa, wb, na) == 0);
	conv_free(v);
	free(env);
}

/* A client's reset crosses the response already on its way: it still counts. */
static void test_session_reset_linger(void)
{
	struct session_env *env = env_new();
	struct conv *v = conv_new();
	preface(v);
	headers(v, true, 1, true, ":method=GET|:scheme=https|:authority=a|:path=/late");
	headers(v, true, 3, true, ":method=GET|:scheme=https|:authority=a|:path=/never");
	put_frame(v, true, H2_RST_STREAM, 0, 1, "\x00\x00\x00\x08", 4);
	put_frame(v, true, H2_RST_STREAM, 0, 3, "\x00\x00\x00\x08", 4);
	headers(v, false, 1, false, ":status=200");
	data(v, false, 1, true, 10);
	struct api_event ep = endpoints();
	struct h2session *h = h2session_new(env, &ep, false);
	session_replay(v, h, 1000000);
	CHECK_EQ(n_events, 1);
	CHECK(n_events >= 1 && events[0].stream_id == 1 && events[0].status == 200);
	/* stream 3 goes once the linger time has passed */
	put_frame(v, true, H2_PING, 0, 0, "12345678", 8);
	h2session_data(h, true, v->buf[1] + v->len[1] - 17, 17, 5000000);
	CHECK_EQ(n_events, 2);
	CHECK(n_events >= 2 && events[1].stream_id == 3 && events[1].status == 0);
	h2session_end(h, 9000000);
	conv_free(v);
	free(env);
}

static void test_session_push(void)
{
	struct session_env *env = env_new();
	struct conv *v = conv_new();
	preface(v);
	headers(v, true, 1, true, ":method=GET|:scheme=http|:authority=p.example|:path=/index.html");
	uint8_t blk[512], pl[600];
	size_t n = hpack(v, false, ":method=GET|:scheme=http|:authority=p.example|:path=/style.css",
			 blk, sizeof blk);
	memcpy(pl, "\x00\x00\x00\x02", 4);
	memcpy(pl + 4, blk, n);
	put_frame(v, false, H2_PUSH_PROMISE, F_END_HEADERS, 1, pl, 4 + n);
	headers(v, false, 1, false, ":status=200|content-type=text/html");
	data(v, false, 1, true, 100);
	headers(v, false, 2, false, ":status=200|content-type=text/css");
	data(v, false, 2, true, 30);
	struct api_event ep = endpoints();
	struct h2session *h = h2session_new(env, &ep, false);
	session_replay(v, h, 1000000);
	CHECK_EQ(n_events, 2);
	const struct api_event *e = event_of(2);
	CHECK(e != NULL);
	if (e) {
		CHECK(e->pushed);
		CHECK_STR(e->path, "/style.css");
		CHECK_STR(e->content_type, "text/css");
		CHECK_EQ(e->status, 200);
		CHECK_EQ(e->resp_bytes, 30);
	}
	CHECK(event_of(1) && !event_of(1)->pushed);
	CHECK_EQ(env->stats.h2.v[H2_STAT_PUSHES], 1);
	h2session_end(h, 2000000);
	conv_free(v);
	free(env);
}

static void test_session_goaway_and_end(void)
{
	struct session_env *env = env_new();
	struct conv *v = conv_new();
	preface(v);
	for (uint32_t s = 1; s <= 7; s += 2)
		headers(v, true, s, true, ":method=GET|:scheme=http|:authority=g|:path=/g");
	headers(v, false, 1, false, ":status=200");
	put_frame(v, false, H2_GOAWAY, 0, 0, "\x00\x00\x00\x03\x00\x00\x00\x00", 8);
	data(v, false, 1, true, 1);
	headers(v, false, 3, false, ":status=500");
	struct api_event ep = endpoints();
	struct h2session *h = h2session_new(env, &ep, false);
	session_replay(v, h, 1000000);
	/* 5 and 7 were refused by the GOAWAY, 1 completed; 3 is open */
	CHECK_EQ(n_events, 3);
	CHECK_EQ(env->stats.h2.v[H2_STAT_GOAWAY_REFUSED], 2);
	h2session_end(h, 2000000);
	CHECK_EQ(n_events, 4);
	CHECK(event_of(3) && event_of(3)->status == 500);
	CHECK(event_of(5) && event_of(5)->status == 0);
	conv_free(v);
	free(env);
}

static void test_session_too_many_streams(void)
{
	struct session_env *env = env_new();
	env->lim.h2.max_streams = 4;
	struct conv *v = conv_new();
	preface(v);
	for (uint32_t s = 1; s <= 19; s += 2)
		headers(v, true, s, true, ":method=GET|:scheme=http|:authority=m|:path=/m");
	struct api_event ep = endpoints();
	struct h2session *h = h2session_new(env, &ep, false);
	session_replay(v, h, 1000000);
	CHECK_EQ(n_events, 6);
	CHECK_EQ(env->stats.h2.v[H2_STAT_STREAMS_EVICTED], 6);
	CHECK(n_events == 6 && events[0].stream_id == 1 && events[5].stream_id == 11);
	h2session_end(h, 2000000);
	CHECK_EQ(n_events, 10);

	/* over the sessions' memory cap, each new stream pushes the oldest out */
	env->lim.h2.max_streams = 128;
	env->lim.memcap = 1;
	memset(&env->stats, 0, sizeof env->stats);
	n_events = 0;
	h = h2session_new(env, &ep, false);
	session_replay(v, h, 1000000);
	CHECK_EQ(n_events, 9);
	CHECK_EQ(env->stats.memcap_early, 9);
	h2session_end(h, 2000000);
	CHECK_EQ(n_events, 10);
	CHECK_EQ(env->memory, 0);
	conv_free(v);
	free(env);
}

static void test_session_upgrade(void)
{
	struct session_env *env = env_new();
	struct conv *v = conv_new();
	put_frame(v, false, H2_SETTINGS, 0, 0, NULL, 0);
	put(v, true, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24);
	put_frame(v, true, H2_SETTINGS, 0, 0, NULL, 0);
	headers(v, false, 1, false, ":status=206|content-type=text/plain");
	data(v, false, 1, true, 68);
	headers(v, true, 3, true, ":method=GET|:scheme=http|:authority=u|:path=/second");
	headers(v, false, 3, true, ":status=404");
	struct api_event ep = endpoints();
	struct api_event req = ep;
	req.proto = EV_HTTP11;
	req.ts_us = 500000;
	strcpy(req.method, "GET");
	strcpy(req.path, "/eicar");
	strcpy(req.host, "127.0.0.1:8080");
	req.has_host = true;
	req.status = 101;
	struct h2session *h = h2session_new(env, &ep, false);
	h2session_upgrade(h, &req);
	session_replay(v, h, 1000000);
	h2session_end(h, 2000000);
	CHECK_EQ(n_events, 2);
	const struct api_event *e = event_of(1);
	CHECK(e != NULL);
	if (e) {
		CHECK_EQ(e->status, 206);
		CHECK_EQ(e->proto, EV_HTTP2);
		CHECK_STR(e->path, "/eicar");
		CHECK_EQ(e->resp_bytes, 68);
		CHECK_EQ(e->ts_us, 500000);
	}
	CHECK_EQ(env->stats.h2.v[H2_STAT_UPGRADES], 1);
	conv_free(v);
	free(env);
}

/* Midstream through the session: partial events, values never guessed. */
/* Midstream with the caller's guess of the client wrong: the first request
 * settles it, and the event has the sides the right way round. */
static void test_session_midstream_swapped(void)
{
	struct session_env *env = env_new();
	struct conv *v = conv_new();
	preface(v);
	headers(v, true, 1, true, ":method=GET|:scheme=https|:authority=s.example|:path=/1");
	headers(v, false, 1, true, ":status=200");
	size_t cut_c = v->len[1], cut_s = v->len[0];
	headers(v, true, 3, false, ":method=PUT|:scheme=https|:path=/2");
	data(v, true, 3, true, 7);
	headers(v, false, 3, false, ":status=201");
	data(v, false, 3, true, 2);
	struct api_event ep = endpoints();
	struct h2session *h = h2session_new(env, &ep, true);
	/* each side labelled as the other */
	h2session_data(h, false, v->buf[1] + cut_c, v->len[1] - cut_c, 1000000);
	h2session_data(h, true, v->buf[0] + cut_s, v->len[0] - cut_s, 1001000);
	h2session_end(h, 2000000);
	CHECK_EQ(n_events, 1);
	if (n_events == 1) {
		CHECK_STR(events[0].method, "PUT");
		CHECK_EQ(events[0].status, 201);
		CHECK_EQ(events[0].req_bytes, 7);
		CHECK_EQ(events[0].resp_bytes, 2);
		CHECK_EQ(events[0].client_port, 8080); /* the guess was the other way */
		CHECK_EQ(events[0].server_port, 40000);
	}
	CHECK_EQ(env->stats.h2.v[H2_STAT_ROLES_SWAPPED], 1);
	CHECK_EQ(env->stats.h2.v[H2_STAT_ORPHANS], 0);
	conv_free(v);
	free(env);
}

static void test_session_mutations(void)
{
	struct session_env *env = env_new();
	env->lim.h2.max_streams = 8;
	struct conv *v = many_streams(20);
	put_frame(v, false, H2_GOAWAY, 0, 0, "\x00\x00\x00\x05\x00\x00\x00\x00", 8);
	static uint8_t buf[2][CONV_BYTES];
	struct api_event ep = endpoints();
	srand(5);
	for (int round = 0; round < 200; round++) {
		memcpy(buf, v->buf, sizeof buf);
		for (int k = 0; k < 1 + rand() % 10; k++) {
			int fc = rand() % 2;
			buf[fc][(size_t)rand() % v->len[fc]] = (uint8_t)rand();
		}
		n_events = 0;
		struct h2session *h = h2session_new(env, &ep, round % 4 == 0);
		for (int i = 0; i < v->nseg; i++) {
			const struct seg *sg = &v->seg[i];
			if (rand() % 40 == 0)
				h2session_gap(h, sg->fc, (uint32_t)sg->len, 1000000 + (uint64_t)i);
			else
				h2session_data(h, sg->fc, buf[sg->fc] + sg->off, sg->len,
					       1000000 + (uint64_t)i);
		}
		h2session_end(h, 3000000);
		CHECK_EQ(env->memory, 0);
		CHECK(n_events <= 40);
	}
	CHECK_EQ(env->stats.h2.v[H2_STAT_MEMORY], 0);
	conv_free(v);
	free(env);
}

static void test_session_midstream_partial(void)
{
	struct session_env *env = env_new();
	struct conv *v = conv_new();
	preface(v);
	headers(v, true, 1, true, ":method=GET|:scheme=https|:authority=hidden.example|:path=/1");
	headers(v, false, 1, true, ":status=200");
	size_t cut_c = v->len[1], cut_s = v->len[0];
	headers(v, true, 3, true, ":method=GET|:scheme=https|:authority=hidden.example|:path=/2");
	headers(v, false, 3, true, ":status=200");
	struct api_event ep = endpoints();
	struct h2session *h = h2session_new(env, &ep, true);
	h2session_data(h, true, v->buf[1] + cut_c, v->len[1] - cut_c, 1000000);
	h2session_data(h, false, v->buf[0] + cut_s, v->len[0] - cut_s, 1001000);
	h2session_end(h, 2000000);
	CHECK_EQ(n_events, 1);
	if (n_events == 1) {
		CHECK(events[0].partial);
		CHECK(!events[0].has_host);
		CHECK_STR(events[0].path, "/2");
		CHECK_EQ(events[0].status, 200);
	}
	CHECK_EQ(env->stats.h2.v[H2_STAT_PARTIAL], 1);
	CHECK_EQ(env->stats.h2.v[H2_STAT_MIDSTREAM], 1);
	conv_free(v);
	free(env);
}

/* ------------------------------------------------------------ literal memo */

/* Every field of every block, whole and exactly, for the memo comparisons. */
struct full {
	char buf[1 << 18];
	size_t len;
};

static void full_add(struct full *f, const void *p, size_t n)
{
	if (f->len + n > sizeof f->buf)
		abort();
	memcpy(f->buf + f->len, p, n);
	f->len += n;
}

static void f_headers(void *ctx, bool fc, const struct h2_block *b)
{
	struct full *f = ctx;
	char head[64];
	int n = snprintf(head, sizeof head, "%c%u:%d%d:%u[", fc ? 'C' : 'S', b->stream_id, b->kind,
			 b->partial, b->n_fields);
	full_add(f, head, (size_t)n);
	for (uint32_t i = 0; i < b->n_fields; i++) {
		const struct h2_field *fl = &b->fields[i];
		n = snprintf(head, sizeof head, "%zu:%zu:", fl->namelen, fl->valuelen);
		full_add(f, head, (size_t)n);
		full_add(f, fl->name, fl->namelen);
		full_add(f, fl->value, fl->valuelen);
	}
	full_add(f, "]", 1);
}

static void f_end(void *ctx, bool fc, uint32_t sid)
{
	char e[32];
	int n = snprintf(e, sizeof e, "E%c%u", fc ? 'C' : 'S', sid);
	full_add(ctx, e, (size_t)n);
}

static const struct h2_callbacks full_cb = {.on_headers = f_headers, .on_end_stream = f_end};

/* Runs the conversation with the memo on and off, whole, byte by byte and in
 * odd pieces: the fields must be the same, and so must every counter but
 * the memo's own and the memory peak. Returns the hits. */
static uint64_t memo_differential(struct conv *v, const struct h2_limits *base)
{
	static struct full on, off;
	struct h2_limits lon = *base, loff = *base;
	loff.memo_bytes = 0;
	static const size_t pieces[] = {0, 1, 7, 100};
	uint64_t hits = 0;
	for (size_t k = 0; k < sizeof pieces / sizeof pieces[0]; k++) {
		struct h2_stats st[2] = {{{0}}, {{0}}};
		const struct h2_limits *l[2] = {&lon, &loff};
		struct full *out[2] = {&on, &off};
		for (int m = 0; m < 2; m++) {
			out[m]->len = 0;
			struct h2_conn *c = h2_conn_new(l[m], &st[m], false);
			for (int i = 0; i < v->nseg; i++) {
				const struct seg *s = &v->seg[i];
				const uint8_t *p = v->buf[s->fc] + s->off;
				size_t step = pieces[k] ? pieces[k] : s->len;
				for (size_t o = 0; o < s->len; o += step)
					h2_feed(c, s->fc, p + o, s->len - o < step ? s->len - o : step,
						&full_cb, out[m]);
			}
			h2_conn_free(c);
			CHECK_EQ(st[m].v[H2_STAT_MEMORY], 0);
		}
		CHECK_EQ(on.len, off.len);
		CHECK(on.len == off.len && memcmp(on.buf, off.buf, on.len) == 0);
		CHECK_EQ(st[1].v[H2_STAT_MEMO_HITS], 0);
		/* (hits may vary with the pieces under tight memory: a block
		 * buffered rather than decoded in place can shed the memo) */
		if (k == 0)
			hits = st[0].v[H2_STAT_MEMO_HITS];
		for (int i = 0; i < H2_STAT__COUNT; i++)
			if (i != H2_STAT_MEMO_HITS && i != H2_STAT_MEMORY_PEAK &&
			    st[0].v[i] != st[1].v[i]) {
				fprintf(stderr, "memo: stat %s %" PRIu64 " != %" PRIu64 "\n",
					h2_stat_names[i], st[0].v[i], st[1].v[i]);
				CHECK(0);
			}
	}
	return hits;
}

/* A block in HEADERS + CONTINUATIONs cut every `every` bytes. */
static void headers_cont(struct conv *v, bool fc, uint32_t sid, const char *fields, size_t every)
{
	uint8_t blk[16384];
	size_t n = hpack(v, fc, fields, blk, sizeof blk);
	for (size_t o = 0; o < n; o += every) {
		size_t k = n - o < every ? n - o : every;
		uint8_t flags = o + k == n ? F_END_HEADERS : 0;
		put_frame(v, fc, o == 0 ? H2_HEADERS : H2_CONTINUATION, flags, sid, blk + o, k);
	}
}

/* A hand-made block (bytes as given) on a HEADERS frame with END_STREAM. */
static void raw_block(struct conv *v, uint32_t sid, const void *p, size_t n)
{
	put_frame(v, true, H2_HEADERS, F_END_HEADERS | F_END_STREAM, sid, p, n);
}

/* RFC 7541 5.1 integer with an n-bit prefix, high bits `first`. */
static size_t hp_int(uint8_t *out, uint8_t first, int prefix, uint32_t v)
{
	uint32_t max = (1u << prefix) - 1;
	size_t n = 0;
	if (v < max) {
		out[n++] = (uint8_t)(first | v);
		return n;
	}
	out[n++] = (uint8_t)(first | max);
	v -= max;
	while (v >= 128) {
		out[n++] = (uint8_t)(v % 128 + 128);
		v /= 128;
	}
	out[n++] = (uint8_t)v;
	return n;
}

/* A raw (not Huffman) literal of the kind `first`/`prefix` give (0x10/4:
 * never indexed, 0x40/6: with incremental indexing): static name index `idx`
 * (0: the name follows), then the value. */
static size_t raw_literal(uint8_t *out, uint8_t first, int prefix, uint32_t idx, const char *name,
			  const char *value)
{
	size_t n = hp_int(out, first, prefix, idx);
	if (idx == 0) {
		n += hp_int(out + n, 0, 7, (uint32_t)strlen(name));
		memcpy(out + n, name, strlen(name));
		n += strlen(name);
	}
	n += hp_int(out + n, 0, 7, (uint32_t)strlen(value));
	memcpy(out + n, value, strlen(value));
	return n + strlen(value);
}

static size_t never_raw(uint8_t *out, uint32_t idx, const char *name, const char *value)
{
	return raw_literal(out, 0x10, 4, idx, name, value);
}

/*
 * The memo against nghttp2's own decoding: never-indexed credentials and
 * paths repeated, Huffman and raw, static and literal names, blocks cut
 * across CONTINUATIONs and pieces, table size updates between blocks, a size
 * update after a memoised field (must fail as in one piece), a block that
 * starts with one, one with a bad Huffman string, a dynamic name index, and
 * tight memory.
 */
static void test_memo_matches_inflater(void)
{
	char jwt[400], f[2048];
	for (size_t i = 0; i < sizeof jwt - 1; i++)
		jwt[i] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_."[i * 7 % 65];
	jwt[sizeof jwt - 1] = '\0';
	struct conv *v = conv_new();
	preface(v);
	uint32_t sid = 1;
	for (int i = 0; i < 12; i++, sid += 2) {
		snprintf(f, sizeof f,
			 ":method=GET|:scheme=https|:authority=api.example.com|:path=/v1/items/%d|"
			 "!authorization=Bearer %s%d|cookie=sid=%d|!x-api-key=ak_live_0123456789%s",
			 i % 3, jwt, i / 6, i % 2, i % 4 ? "abc" : "xyz");
		if (i % 4 == 3)
			headers_cont(v, true, sid, f, 37 + (size_t)i);
		else
			headers(v, true, sid, true, f);
		headers(v, false, sid, true, ":status=200|x-request-id=abcdef0123456789");
		if (i == 5) /* the next block starts with a table size update */
			nghttp2_hd_deflate_change_table_size(v->def[1], 1024);
	}
	/* hand-made blocks leave the deflater's table alone, so later ones stay in step */
	uint8_t b[1024];
	size_t n = 0;
	b[n++] = 0x82; /* :method GET */
	n += never_raw(b + n, 23, NULL, "Basic dXNlcjpwYXNzd29yZA==");
	n += never_raw(b + n, 0, "x-api-key", "raw-key-0123456789");
	for (int i = 0; i < 3; i++, sid += 2)
		raw_block(v, sid, b, n);
	/* starting with the literal: the first field always goes to the inflater */
	n = never_raw(b, 23, NULL, "Basic dXNlcjpwYXNzd29yZA==");
	n += never_raw(b + n, 23, NULL, "Basic dXNlcjpwYXNzd29yZA==");
	raw_block(v, sid, b, n);
	sid += 2;
	/* a dynamic name index (62) in a never-indexed literal: not memoised */
	headers(v, true, sid, true, ":method=GET|:path=/x|x-dyn=1");
	sid += 2;
	n = 0;
	b[n++] = 0x82;
	for (int i = 0; i < 3; i++) {
		n += hp_int(b + n, 0x10, 4, 62);
		n += hp_int(b + n, 0, 7, 12);
		memcpy(b + n, "value-abcdef", 12);
		n += 12;
	}
	raw_block(v, sid, b, n);
	sid += 2;
	/* the same bytes once index 62 names another field */
	headers(v, true, sid, true, ":method=GET|:path=/x|x-other=2");
	sid += 2;
	raw_block(v, sid, b, n);
	sid += 2;
	/* a table size update after a memoised field: an HPACK error either way */
	n = 0;
	b[n++] = 0x82;
	n += never_raw(b + n, 23, NULL, "Basic dXNlcjpwYXNzd29yZA==");
	b[n++] = 0x3f; /* size update to 31 + 0 */
	b[n++] = 0x00;
	raw_block(v, sid, b, n);
	sid += 2;
	/* a bad Huffman string (all ones: EOS) in a never-indexed literal */
	n = 0;
	b[n++] = 0x82;
	n += hp_int(b + n, 0x10, 4, 23);
	b[n++] = 0x80 | 12;
	memset(b + n, 0xff, 12);
	n += 12;
	raw_block(v, sid, b, n);
	raw_block(v, sid + 2, b, n);

	struct h2_limits lim = lim_default();
	CHECK(memo_differential(v, &lim) >= 20);
	lim.memo_bytes = 600; /* a JWT does not fit: only the short literals */
	CHECK(memo_differential(v, &lim) > 0);
	/* Tight memory: the memo is shed before any refusal, so the cap trips
	 * (header decoding stops) where it would without it. */
	lim = lim_default();
	for (lim.max_memory = 7000; lim.max_memory < 9000; lim.max_memory += 40)
		memo_differential(v, &lim);
	conv_free(v);
}

/*
 * A memo hit near the connection's memory cap: copying the remembered field
 * may itself make room by shedding the memo. The field must still arrive as
 * it was (it was wiped before the copy, which gave an all-zero
 * "authorization": an event without its identity). Block 1 fills the memo;
 * block 2 adds a table entry, then repeats the never-indexed credential; the
 * cap is swept across the point where shedding happens.
 */
static const char *shed_value;
static int shed_bad, shed_seen;

static void shed_on_headers(void *ctx, bool from_client, const struct h2_block *b)
{
	(void)ctx;
	if (!from_client || b->stream_id != 3)
		return;
	for (uint32_t i = 0; i < b->n_fields; i++) {
		const struct h2_field *f = &b->fields[i];
		if (f->valuelen != strlen(shed_value) || (f->namelen == 5 && f->name[0] == 'x'))
			continue;
		shed_seen++;
		if (f->namelen != 13 || memcmp(f->name, "authorization", 13) != 0 ||
		    memcmp(f->value, shed_value, f->valuelen) != 0)
			shed_bad++;
	}
}

static size_t shed_frame(uint8_t *o, uint8_t type, uint8_t flags, uint32_t sid, const uint8_t *p,
			 size_t n)
{
	uint8_t h[9] = {(uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n, type, flags,
			(uint8_t)(sid >> 24), (uint8_t)(sid >> 16), (uint8_t)(sid >> 8), (uint8_t)sid};
	memcpy(o, h, 9);
	if (n)
		memcpy(o + 9, p, n);
	return 9 + n;
}

static void test_memo_hit_survives_shedding(void)
{
	static char value[301], pad[401];
	static uint8_t buf[4096], blk[2048];
	for (int i = 0; i < 300; i++)
		value[i] = "abcdefghijklmnopqrstuvwxyz0123456789"[i * 7 % 36];
	shed_value = value;
	static const struct h2_callbacks cb = {.on_headers = shed_on_headers};
	int runs = 0, seen = 0;
	for (uint32_t padlen = 100; padlen <= 400; padlen += 50) {
		memset(pad, 'p', padlen);
		pad[padlen] = '\0';
		size_t n = 24, b = 0;
		memcpy(buf, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24);
		n += shed_frame(buf + n, 4, 0, 0, NULL, 0);
		blk[b++] = 0x82;
		b += never_raw(blk + b, 23, NULL, value); /* static name */
		n += shed_frame(buf + n, 1, 5, 1, blk, b);
		b = 0;
		blk[b++] = 0x82;
		b += raw_literal(blk + b, 0x40, 6, 0, "x-pad", pad); /* with incremental indexing */
		b += never_raw(blk + b, 23, NULL, value);
		n += shed_frame(buf + n, 1, 5, 3, blk, b);
		for (uint32_t cap = 4000; cap <= 7000; cap += 8) {
			struct h2_limits lim;
			h2_limits_default(&lim);
			lim.max_memory = cap;
			struct h2_stats st;
			memset(&st, 0, sizeof st);
			struct h2_conn *c = h2_conn_new(&lim, &st, false);
			CHECK(c != NULL);
			if (!c)
				return;
			shed_bad = shed_seen = 0;
			h2_feed(c, true, buf, n, &cb, NULL);
			h2_conn_free(c);
			CHECK_EQ(shed_bad, 0);
			if (shed_bad)
				return; /* one cap is enough to show it */
			runs++;
			seen += shed_seen;
		}
	}
	CHECK(runs > 0 && seen > 0);
}

int main(void)
{
	RUN(test_simple_exchange);
	RUN(test_many_streams);
	RUN(test_split_every_offset);
	RUN(test_split_many_streams_random);
	RUN(test_table_size_change);
	RUN(test_table_size_unannounced);
	RUN(test_midstream);
	RUN(test_gaps);
	RUN(test_gap_in_header_block);
	RUN(test_continuation_flood);
	RUN(test_header_caps);
	RUN(test_bad_frames);
	RUN(test_missing_preface);
	RUN(test_resync_gives_up);
	RUN(test_looks_like_frames);
	RUN(test_mutations);
	RUN(test_session_exchanges);
	RUN(test_session_reused_record);
	RUN(test_session_reset_linger);
	RUN(test_session_push);
	RUN(test_session_goaway_and_end);
	RUN(test_session_too_many_streams);
	RUN(test_session_upgrade);
	RUN(test_session_midstream_partial);
	RUN(test_session_midstream_swapped);
	RUN(test_session_mutations);
	RUN(test_memo_matches_inflater);
	RUN(test_memo_hit_survives_shedding);
	return unit_done("test_http2");
}
