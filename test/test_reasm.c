/*
 * test_reasm.c - attacks the contract of sensor/reasm.h.
 *
 * A recording sink turns what a direction delivers into one string: data
 * bytes as they are, a gap as "<gap:N>", the end as "<fin>". Each test feeds
 * segments (in order, reordered, duplicated, overlapping, split at every
 * offset, across 2^32) and checks the exact string and the exact counters.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "../sensor/reasm.h"
#include "unit.h"

struct rec {
	char *buf; /* always NUL-terminated */
	size_t len, cap;
	unsigned datas, gaps, fins;
	uint64_t gap_bytes;
	const uint8_t *last_p; /* where the last data() pointed: proves no copy */
};

struct fx {
	struct reasm_dir d;
	struct reasm_pool own_pool;
	struct reasm_pool *pool;
	struct reasm_limits lim;
	struct rec r;
	struct reasm_sink sink;
};

static void rec_put(struct rec *r, const void *p, size_t n)
{
	if (r->len + n + 1 > r->cap) {
		size_t cap = r->cap ? r->cap : 256;

		while (r->len + n + 1 > cap)
			cap *= 2;
		r->buf = realloc(r->buf, cap);
		if (r->buf == NULL)
			abort();
		r->cap = cap;
	}
	memcpy(r->buf + r->len, p, n);
	r->len += n;
	r->buf[r->len] = '\0';
}

static void rec_data(void *ctx, const uint8_t *p, size_t len)
{
	struct rec *r = ctx;

	CHECK(len > 0);
	CHECK_EQ(r->fins, 0);
	r->datas++;
	r->last_p = p;
	rec_put(r, p, len);
}

static void rec_gap(void *ctx, uint32_t len)
{
	struct rec *r = ctx;
	char tmp[32];

	CHECK(len > 0);
	CHECK(len < 0x80000000u);
	CHECK_EQ(r->fins, 0);
	r->gaps++;
	r->gap_bytes += len;
	rec_put(r, tmp, (size_t)snprintf(tmp, sizeof(tmp), "<gap:%" PRIu32 ">", len));
}

static void rec_fin(void *ctx)
{
	struct rec *r = ctx;

	CHECK_EQ(r->fins, 0);
	r->fins++;
	rec_put(r, "<fin>", 5);
}

static const char *rec_str(struct rec *r)
{
	if (r->buf == NULL)
		rec_put(r, "", 0);
	return r->buf;
}

/* Generous limits: nothing but the test's own choice forces a gap. */
static void fx_init(struct fx *f)
{
	memset(f, 0, sizeof(*f));
	reasm_init(&f->d);
	f->pool = &f->own_pool;
	f->own_pool.cap = (size_t)256 << 20;
	f->lim.max_held_bytes = 16u << 20;
	f->lim.max_held_segs = 1u << 20;
	f->sink.data = rec_data;
	f->sink.gap = rec_gap;
	f->sink.fin = rec_fin;
	f->sink.ctx = &f->r;
}

static void fx_end(struct fx *f)
{
	reasm_release(&f->d, f->pool);
	CHECK_EQ(f->d.held_segs, 0);
	CHECK_EQ(f->d.held_bytes, 0);
	CHECK(f->d.held == NULL);
	if (f->pool == &f->own_pool)
		CHECK_EQ(f->pool->used, 0);
	free(f->r.buf);
	f->r.buf = NULL;
}

static void segn(struct fx *f, uint32_t seq, const void *p, size_t len, bool fin)
{
	reasm_segment(&f->d, f->pool, &f->lim, seq, p, len, fin, &f->sink);
}

static void seg(struct fx *f, uint32_t seq, const char *s)
{
	segn(f, seq, s, strlen(s), false);
}

static void segf(struct fx *f, uint32_t seq, const char *s)
{
	segn(f, seq, s, strlen(s), true);
}

static void acked(struct fx *f, uint32_t ack)
{
	reasm_acked(&f->d, f->pool, ack, &f->sink);
}

static void flush(struct fx *f)
{
	reasm_flush(&f->d, f->pool, &f->sink);
}

/* Next lexicographic permutation of a[0..n); false after the last one. */
static bool next_perm(int *a, int n)
{
	int i = n - 2, j = n - 1;

	while (i >= 0 && a[i] >= a[i + 1])
		i--;
	if (i < 0)
		return false;
	while (a[j] <= a[i])
		j--;
	int t = a[i];
	a[i] = a[j];
	a[j] = t;
	for (int l = i + 1, r = n - 1; l < r; l++, r--) {
		t = a[l];
		a[l] = a[r];
		a[r] = t;
	}
	return true;
}

static uint64_t rng_state;

static uint64_t rng(void)
{
	uint64_t x = rng_state; /* xorshift64 */

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	rng_state = x;
	return x;
}

static uint32_t rng_below(uint32_t n)
{
	return (uint32_t)(rng() % n);
}

/* ---- tests ---- */

static void test_in_order(void)
{
	struct fx f;
	static const char a[] = "hello ", b[] = "world";

	fx_init(&f);
	reasm_syn(&f.d, 1000);
	CHECK(f.d.started);
	CHECK_EQ(f.d.next_seq, 1001);
	seg(&f, 1001, a);
	CHECK(f.r.last_p == (const uint8_t *)a);
	seg(&f, 1007, b);
	CHECK(f.r.last_p == (const uint8_t *)b);
	segn(&f, 1012, NULL, 0, false); /* a pure ACK */
	CHECK_STR(rec_str(&f.r), "hello world");
	segn(&f, 1012, NULL, 0, true);
	CHECK_STR(rec_str(&f.r), "hello world<fin>");
	CHECK(f.d.finished);
	CHECK_EQ(f.pool->stats.segments, 3);
	CHECK_EQ(f.pool->stats.bytes, 11);
	CHECK_EQ(f.pool->stats.ooo_segments, 0);
	CHECK_EQ(f.pool->stats.retransmits, 0);
	CHECK_EQ(f.pool->stats.overlaps, 0);
	CHECK_EQ(f.pool->stats.gaps, 0);
	CHECK_EQ(f.pool->peak, 0);
	fx_end(&f);

	/* data and FIN in one segment */
	fx_init(&f);
	reasm_syn(&f.d, 0);
	segf(&f, 1, "abc");
	CHECK_STR(rec_str(&f.r), "abc<fin>");
	CHECK_EQ(f.pool->stats.segments, 1);
	fx_end(&f);
}

static void test_reversed(void)
{
	static const char msg[] = "abcdefghijklmnopqrstuvwxyz012345";
	struct fx f;

	static const size_t widths[] = {4, 1};

	/* 8 segments of 4 bytes, then every byte its own segment */
	for (size_t t = 0; t < 2; t++) {
		size_t w = widths[t], n = (sizeof(msg) - 1) / w;

		fx_init(&f);
		reasm_syn(&f.d, 77);
		for (size_t i = n; i-- > 0;) {
			segn(&f, 78 + (uint32_t)(i * w), msg + i * w, w, false);
			if (i > 0) {
				CHECK_STR(rec_str(&f.r), "");
				CHECK_EQ(f.d.held_segs, n - i);
			}
		}
		CHECK_STR(rec_str(&f.r), msg);
		CHECK_EQ(f.pool->stats.ooo_segments, n - 1);
		CHECK_EQ(f.pool->stats.segments, n);
		CHECK_EQ(f.pool->stats.bytes, sizeof(msg) - 1);
		CHECK_EQ(f.d.held_segs, 0);
		CHECK_EQ(f.pool->used, 0);
		CHECK(f.pool->peak >= (n - 1) * w);
		fx_end(&f);
	}
}

/* Every order of k segments of unequal length; the last by sequence carries the FIN. */
static void perms_of(const size_t *lens, int k, uint32_t isn)
{
	static const char msg[] = "The quick brown fox jumps over the lazy dog";
	size_t off[8];
	int p[8];
	char want[64];
	size_t total = 0;
	int rounds = 0;

	for (int i = 0; i < k; i++) {
		off[i] = total;
		total += lens[i];
		p[i] = i;
	}
	memcpy(want, msg, total);
	memcpy(want + total, "<fin>", 6);
	do {
		struct fx f;
		bool got[8] = {false};
		int next = 0, ooo = 0;

		fx_init(&f);
		reasm_syn(&f.d, isn);
		for (int i = 0; i < k; i++) {
			int s = p[i];

			segn(&f, isn + 1 + (uint32_t)off[s], msg + off[s], lens[s], s == k - 1);
			got[s] = true;
			if (s != next)
				ooo++;
			while (next < k && got[next])
				next++;
		}
		CHECK_STR(rec_str(&f.r), want);
		CHECK_EQ(f.pool->stats.ooo_segments, ooo);
		CHECK_EQ(f.pool->stats.gaps, 0);
		CHECK_EQ(f.pool->stats.overlaps, 0);
		CHECK_EQ(f.pool->used, 0);
		CHECK(f.d.finished);
		fx_end(&f);
		rounds++;
	} while (next_perm(p, k));
	CHECK_EQ(rounds, k == 5 ? 120 : 24);
}

static void test_permutations(void)
{
	static const size_t five[] = {3, 7, 1, 9, 5};
	static const size_t four[] = {6, 2, 11, 4};

	perms_of(five, 5, 41);
	perms_of(five, 5, 0xFFFFFFF5u); /* crosses 2^32 inside the third segment */
	perms_of(four, 4, 0xFFFFFFFFu); /* the stream starts at sequence 0 */
	perms_of(four, 4, 0x7FFFFFF8u); /* crosses the signed boundary */
}

static void test_duplicates(void)
{
	struct fx f;

	fx_init(&f);
	reasm_syn(&f.d, 0);
	seg(&f, 9, "89AB");  /* early: held */
	seg(&f, 9, "89AB");  /* again: all of it held already */
	CHECK_EQ(f.d.held_segs, 1);
	seg(&f, 1, "0123");  /* in order */
	seg(&f, 1, "0123");  /* retransmit */
	seg(&f, 5, "4567");  /* fills the hole, drains 89AB */
	seg(&f, 13, "CDEF");
	seg(&f, 13, "CDEF"); /* retransmit */
	CHECK_STR(rec_str(&f.r), "0123456789ABCDEF");
	CHECK_EQ(f.pool->stats.segments, 7);
	CHECK_EQ(f.pool->stats.ooo_segments, 1);
	CHECK_EQ(f.pool->stats.overlaps, 1);
	CHECK_EQ(f.pool->stats.retransmits, 2);
	CHECK_EQ(f.pool->stats.overlap_conflicts, 0);
	CHECK_EQ(f.pool->stats.bytes, 16);
	CHECK_EQ(f.pool->stats.gaps, 0);
	fx_end(&f);
}

static void test_retransmit_delivered(void)
{
	struct fx f;

	fx_init(&f);
	reasm_syn(&f.d, 0);
	seg(&f, 1, "abcdef");     /* 1..6 */
	seg(&f, 1, "abc");        /* wholly old */
	CHECK_EQ(f.pool->stats.retransmits, 1);
	seg(&f, 4, "defgh");      /* def old, gh new */
	CHECK_EQ(f.pool->stats.overlaps, 1);
	CHECK_STR(rec_str(&f.r), "abcdefgh");
	/* different bytes for delivered data: the first copy won and is gone,
	 * so it cannot be compared (only held data counts conflicts) */
	seg(&f, 1, "XYZ");
	CHECK_EQ(f.pool->stats.retransmits, 2);
	seg(&f, 5, "XXXXij");     /* 5..8 old and different, ij new */
	CHECK_STR(rec_str(&f.r), "abcdefghij");
	CHECK_EQ(f.pool->stats.overlaps, 2);
	CHECK_EQ(f.pool->stats.overlap_conflicts, 0);
	CHECK_EQ(f.pool->stats.segments, 5);
	CHECK_EQ(f.pool->stats.bytes, 10);
	fx_end(&f);
}

static void test_overlap_held(void)
{
	struct fx f;

	/* held-held, same bytes: only the new pieces are inserted */
	fx_init(&f);
	reasm_syn(&f.d, 0);
	seg(&f, 5, "4567");
	seg(&f, 3, "23456789");
	CHECK_EQ(f.d.held_segs, 3);
	CHECK_EQ(f.d.held_bytes, 8);
	CHECK_EQ(f.pool->stats.overlaps, 1);
	CHECK_EQ(f.pool->stats.overlap_conflicts, 0);
	seg(&f, 1, "01");
	CHECK_STR(rec_str(&f.r), "0123456789");
	CHECK_EQ(f.pool->stats.ooo_segments, 2);
	CHECK_EQ(f.pool->used, 0);
	fx_end(&f);

	/* held-held, different bytes: the first copy wins, conflict counted once */
	fx_init(&f);
	reasm_syn(&f.d, 0);
	seg(&f, 5, "4567");
	seg(&f, 3, "23xxxx89");
	CHECK_EQ(f.pool->stats.overlap_conflicts, 1);
	seg(&f, 4, "3zz");        /* wholly held already, differs: not held again */
	CHECK_EQ(f.pool->stats.overlap_conflicts, 2);
	CHECK_EQ(f.pool->stats.overlaps, 2);
	CHECK_EQ(f.pool->stats.ooo_segments, 2);
	CHECK_EQ(f.d.held_bytes, 8);
	seg(&f, 1, "01");
	CHECK_STR(rec_str(&f.r), "0123456789");
	fx_end(&f);

	/* a new segment spanning two held ones and the holes around them */
	fx_init(&f);
	reasm_syn(&f.d, 0);
	seg(&f, 4, "34");
	seg(&f, 8, "78");
	seg(&f, 2, "1Q3456R89"); /* 2..10: agrees with "34", not with "78" */
	CHECK_EQ(f.d.held_segs, 5);
	CHECK_EQ(f.d.held_bytes, 9);
	CHECK_EQ(f.pool->stats.overlap_conflicts, 1);
	seg(&f, 1, "0");
	CHECK_STR(rec_str(&f.r), "01Q3456789");
	fx_end(&f);

	/* an in-order segment over held data: held bytes win */
	fx_init(&f);
	reasm_syn(&f.d, 0);
	seg(&f, 5, "4567");
	seg(&f, 1, "0123ZZZZ89");
	CHECK_STR(rec_str(&f.r), "0123456789");
	CHECK_EQ(f.r.datas, 3);
	CHECK_EQ(f.pool->stats.overlaps, 1);
	CHECK_EQ(f.pool->stats.overlap_conflicts, 1);
	CHECK_EQ(f.pool->stats.bytes, 10);
	CHECK_EQ(f.pool->used, 0);
	fx_end(&f);

	/* same, identical bytes: overlap but no conflict; held segment longer than the new one */
	fx_init(&f);
	reasm_syn(&f.d, 0);
	seg(&f, 3, "23456");
	seg(&f, 1, "0123");
	CHECK_STR(rec_str(&f.r), "0123456");
	CHECK_EQ(f.pool->stats.overlaps, 1);
	CHECK_EQ(f.pool->stats.overlap_conflicts, 0);
	fx_end(&f);
}

static void split_run(const char *msg, size_t n, uint32_t isn, const size_t *b, const size_t *e,
		      const int *order, int k)
{
	struct fx f;
	char want[128];

	memcpy(want, msg, n);
	memcpy(want + n, "<fin>", 6);
	fx_init(&f);
	reasm_syn(&f.d, isn);
	for (int i = 0; i < k; i++) {
		int s = order[i];

		segn(&f, isn + 1 + (uint32_t)b[s], msg + b[s], e[s] - b[s], e[s] == n);
	}
	CHECK_STR(rec_str(&f.r), want);
	CHECK_EQ(f.pool->stats.gaps, 0);
	CHECK_EQ(f.pool->stats.overlap_conflicts, 0);
	CHECK_EQ(f.pool->stats.bytes, n);
	CHECK_EQ(f.pool->used, 0);
	fx_end(&f);
}

static void test_every_split(void)
{
	static const char msg[] = "GET /api/v1/users?id=42 HTTP/1.1\r\nHost: x\r\n\r\n";
	static const uint32_t isns[] = {1000, 0xFFFFFFF0u, 0xFFFFFFFFu, 0x7FFFFFF0u};
	static const int orders3[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2},
					  {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
	static const int fwd[2] = {0, 1}, rev[2] = {1, 0};
	const size_t n = sizeof(msg) - 1;

	for (size_t t = 0; t < sizeof(isns) / sizeof(isns[0]); t++) {
		uint32_t isn = isns[t];

		for (size_t i = 0; i <= n; i++) {
			size_t b[3] = {0, i, 0}, e[3] = {i, n, 0};

			split_run(msg, n, isn, b, e, fwd, 2);
			split_run(msg, n, isn, b, e, rev, 2);
			for (size_t j = i; j <= n; j++) {
				size_t b3[3] = {0, i, j}, e3[3] = {i, j, n};

				for (int o = 0; o < 6; o++)
					split_run(msg, n, isn, b3, e3, orders3[o], 3);
				/* two overlapping copies: [0, j) and [i, n) */
				b[1] = i;
				e[0] = j;
				split_run(msg, n, isn, b, e, fwd, 2);
				split_run(msg, n, isn, b, e, rev, 2);
				e[0] = i;
			}
		}
	}
}

static void test_wrap(void)
{
	struct fx f;

	fx_init(&f);
	reasm_syn(&f.d, 0xFFFFFFF0u);
	CHECK_EQ(f.d.next_seq, 0xFFFFFFF1u);
	seg(&f, 0xFFFFFFFBu, "klmnopqrst"); /* 0xFFFFFFFB..0x4 */
	seg(&f, 0x00000005u, "uvwxyz");     /* past the wrap */
	CHECK_EQ(f.d.held_segs, 2);
	CHECK(f.d.held != NULL);
	seg(&f, 0xFFFFFFF1u, "abcdefghij");
	CHECK_STR(rec_str(&f.r), "abcdefghijklmnopqrstuvwxyz");
	CHECK_EQ(f.d.next_seq, 0x0000000Bu);
	seg(&f, 0xFFFFFFF1u, "abc");        /* old, from before the wrap */
	CHECK_EQ(f.pool->stats.retransmits, 1);
	segf(&f, 0x0000000Bu, "!");
	CHECK_STR(rec_str(&f.r), "abcdefghijklmnopqrstuvwxyz!<fin>");
	fx_end(&f);

	/* gap via ACK across the wrap, FIN across the wrap */
	fx_init(&f);
	reasm_syn(&f.d, 0xFFFFFFFAu);       /* stream at 0xFFFFFFFB */
	seg(&f, 0xFFFFFFFBu, "a");
	seg(&f, 0x00000004u, "XYZ");        /* hole 0xFFFFFFFC..0x3: 8 bytes */
	segf(&f, 0x00000009u, "q");         /* hole 0x7..0x8, FIN at 0xA */
	acked(&f, 0x00000005u);
	CHECK_STR(rec_str(&f.r), "a<gap:8>XYZ");
	acked(&f, 0x0000000Bu);             /* the ACK of the FIN */
	CHECK_STR(rec_str(&f.r), "a<gap:8>XYZ<gap:2>q<fin>");
	CHECK_EQ(f.pool->stats.gaps, 2);
	CHECK_EQ(f.pool->stats.gap_bytes, 10);
	fx_end(&f);
}

static void test_no_syn(void)
{
	struct fx f;

	fx_init(&f);
	segn(&f, 1, NULL, 0, false);        /* a pure ACK does not start it */
	CHECK(!f.d.started);
	seg(&f, 5000, "hello");
	CHECK(f.d.started);
	CHECK_EQ(f.d.next_seq, 5005);
	seg(&f, 4990, "0123456789");        /* before the start: old */
	CHECK_EQ(f.pool->stats.retransmits, 1);
	seg(&f, 5010, "later");
	seg(&f, 5005, ", one");
	CHECK_STR(rec_str(&f.r), "hello, onelater");
	reasm_syn(&f.d, 1);                 /* a late SYN changes nothing */
	CHECK_EQ(f.d.next_seq, 5015);
	fx_end(&f);

	/* starting on an early segment is impossible: the first one defines the start */
	fx_init(&f);
	seg(&f, 0xFFFFFFFEu, "wxyz");
	CHECK_STR(rec_str(&f.r), "wxyz");
	CHECK_EQ(f.d.next_seq, 2);
	fx_end(&f);

	/* a FIN alone starts and ends it */
	fx_init(&f);
	segn(&f, 777, NULL, 0, true);
	CHECK_STR(rec_str(&f.r), "<fin>");
	CHECK(f.d.finished);
	fx_end(&f);
}

static void test_gap_acked(void)
{
	struct fx f;

	fx_init(&f);
	acked(&f, 100);                     /* not started: nothing */
	CHECK(!f.d.started);
	reasm_syn(&f.d, 0);
	seg(&f, 1, "abc");                  /* 1..3, hole 4..6 */
	seg(&f, 7, "ghi");                  /* hole 10..12 */
	seg(&f, 13, "mno");
	acked(&f, 4);                       /* not ahead */
	acked(&f, 3);                       /* behind */
	acked(&f, 4 + (1u << 30) + 1);      /* absurdly far ahead: ignored */
	acked(&f, 4 - 100);                 /* far behind */
	CHECK_STR(rec_str(&f.r), "abc");
	CHECK_EQ(f.pool->stats.gaps, 0);
	acked(&f, 8);                       /* inside held "ghi": all of it follows */
	CHECK_STR(rec_str(&f.r), "abc<gap:3>ghi");
	CHECK_EQ(f.d.next_seq, 10);
	acked(&f, 8);
	acked(&f, 16);
	CHECK_STR(rec_str(&f.r), "abc<gap:3>ghi<gap:3>mno");
	acked(&f, 20);                      /* bytes we never saw at all */
	CHECK_STR(rec_str(&f.r), "abc<gap:3>ghi<gap:3>mno<gap:4>");
	seg(&f, 20, "t");
	CHECK_STR(rec_str(&f.r), "abc<gap:3>ghi<gap:3>mno<gap:4>t");
	CHECK_EQ(f.pool->stats.gaps, 3);
	CHECK_EQ(f.pool->stats.gap_bytes, 10);
	CHECK_EQ(f.pool->stats.limit_gaps, 0);
	CHECK_EQ(f.pool->stats.memcap_gaps, 0);
	CHECK_EQ(f.pool->used, 0);
	fx_end(&f);

	/* one ACK past several holes */
	fx_init(&f);
	reasm_syn(&f.d, 0);
	seg(&f, 1, "a");
	seg(&f, 3, "c");
	seg(&f, 5, "e");
	acked(&f, 7);
	CHECK_STR(rec_str(&f.r), "a<gap:1>c<gap:1>e<gap:1>");
	CHECK_EQ(f.pool->stats.gaps, 3);
	fx_end(&f);

	/* an ACK of a FIN we saw, past a hole before it */
	fx_init(&f);
	reasm_syn(&f.d, 0);
	seg(&f, 1, "a");
	segn(&f, 5, NULL, 0, true);
	acked(&f, 6);
	CHECK_STR(rec_str(&f.r), "a<gap:3><fin>");
	acked(&f, 100);                     /* finished: nothing */
	CHECK_STR(rec_str(&f.r), "a<gap:3><fin>");
	fx_end(&f);

	/* the largest plausible window ahead is still honoured */
	fx_init(&f);
	reasm_syn(&f.d, 0);
	acked(&f, 1 + (1u << 30));
	CHECK_EQ(f.r.gap_bytes, 1u << 30);
	fx_end(&f);
}

static void test_gap_limit(void)
{
	struct fx f;

	/* segment count */
	fx_init(&f);
	f.lim.max_held_segs = 2;
	reasm_syn(&f.d, 0);
	seg(&f, 1, "a");
	seg(&f, 3, "c");
	seg(&f, 5, "e");
	CHECK_STR(rec_str(&f.r), "a");
	seg(&f, 7, "g");                    /* a third held: give up hole 2 */
	CHECK_STR(rec_str(&f.r), "a<gap:1>c");
	CHECK_EQ(f.d.held_segs, 2);
	CHECK_EQ(f.pool->stats.limit_gaps, 1);
	CHECK_EQ(f.pool->stats.gaps, 1);
	CHECK_EQ(f.pool->stats.ooo_segments, 3);
	seg(&f, 2, "b");                    /* too late */
	CHECK_EQ(f.pool->stats.retransmits, 1);
	seg(&f, 4, "d");
	seg(&f, 6, "f");
	CHECK_STR(rec_str(&f.r), "a<gap:1>cdefg");
	fx_end(&f);

	/* byte count */
	fx_init(&f);
	f.lim.max_held_bytes = 5;
	reasm_syn(&f.d, 0);
	seg(&f, 1, "ab");
	seg(&f, 4, "de");
	seg(&f, 7, "gh");
	seg(&f, 10, "jk");                  /* 6 > 5 */
	CHECK_STR(rec_str(&f.r), "ab<gap:1>de");
	CHECK_EQ(f.d.held_bytes, 4);
	CHECK_EQ(f.pool->stats.limit_gaps, 1);
	flush(&f);
	CHECK_STR(rec_str(&f.r), "ab<gap:1>de<gap:1>gh<gap:1>jk");
	CHECK_EQ(f.pool->stats.limit_gaps, 1);
	CHECK_EQ(f.pool->stats.gaps, 3);
	fx_end(&f);

	/* a segment larger than the limit: delivered, uncopied, after the gap */
	fx_init(&f);
	f.lim.max_held_bytes = 4;
	reasm_syn(&f.d, 0);
	seg(&f, 1, "ab");
	static const char big[] = "0123456789";
	seg(&f, 5, big);
	CHECK_STR(rec_str(&f.r), "ab<gap:2>0123456789");
	CHECK(f.r.last_p == (const uint8_t *)big);
	CHECK_EQ(f.pool->stats.limit_gaps, 1);
	CHECK_EQ(f.pool->stats.ooo_segments, 0);
	CHECK_EQ(f.pool->peak, 0);
	fx_end(&f);

	/* same, with held data before it: two holes go */
	fx_init(&f);
	f.lim.max_held_bytes = 4;
	reasm_syn(&f.d, 0);
	seg(&f, 1, "ab");
	seg(&f, 4, "x");
	seg(&f, 6, big);
	CHECK_STR(rec_str(&f.r), "ab<gap:1>x<gap:1>0123456789");
	CHECK_EQ(f.pool->stats.limit_gaps, 2);
	CHECK_EQ(f.pool->stats.gap_bytes, 2);
	fx_end(&f);

	/* no holding at all */
	fx_init(&f);
	f.lim.max_held_segs = 0;
	reasm_syn(&f.d, 0);
	seg(&f, 3, "cd");
	seg(&f, 1, "ab");
	CHECK_STR(rec_str(&f.r), "<gap:2>cd");
	CHECK_EQ(f.pool->stats.retransmits, 1);
	fx_end(&f);
}

static void test_gap_memcap(void)
{
	struct fx probe, f[4];
	struct reasm_pool pool;
	size_t ov;

	/* learn the per-segment overhead */
	fx_init(&probe);
	reasm_syn(&probe.d, 0);
	seg(&probe, 11, "ABCDEFGHIJ");
	CHECK(probe.pool->used > 10);
	ov = probe.pool->used - 10;
	CHECK(ov >= sizeof(void *));
	fx_end(&probe);

	memset(&pool, 0, sizeof(pool));
	pool.cap = 3 * (ov + 10);
	for (int i = 0; i < 4; i++) {
		fx_init(&f[i]);
		f[i].pool = &pool;
		reasm_syn(&f[i].d, 0);
	}
	for (int i = 0; i < 3; i++)
		seg(&f[i], 11, "ABCDEFGHIJ");
	CHECK_EQ(pool.used, pool.cap);
	/* a direction holding nothing, pool full: it stops waiting at once */
	static const char d3[] = "ABCDEFGHIJ";
	seg(&f[3], 11, d3);
	CHECK_STR(rec_str(&f[3].r), "<gap:10>ABCDEFGHIJ");
	CHECK(f[3].r.last_p == (const uint8_t *)d3);
	CHECK_EQ(pool.stats.memcap_gaps, 1);
	/* a direction holding something gives up its own first hole */
	seg(&f[0], 31, "klmnopqrst");
	CHECK_STR(rec_str(&f[0].r), "<gap:10>ABCDEFGHIJ");
	CHECK_EQ(pool.stats.memcap_gaps, 2);
	CHECK_EQ(pool.used, pool.cap);
	CHECK_EQ(pool.peak, pool.cap);
	flush(&f[1]);
	CHECK_STR(rec_str(&f[1].r), "<gap:10>ABCDEFGHIJ");
	CHECK_EQ(pool.used, 2 * (ov + 10));
	reasm_release(&f[2].d, &pool);
	CHECK_STR(rec_str(&f[2].r), "");
	CHECK_EQ(pool.used, ov + 10);
	flush(&f[0]);
	CHECK_STR(rec_str(&f[0].r), "<gap:10>ABCDEFGHIJ<gap:10>klmnopqrst");
	CHECK_EQ(pool.used, 0);
	CHECK_EQ(pool.stats.gaps, 4);
	CHECK_EQ(pool.stats.memcap_gaps, 2);
	CHECK_EQ(pool.stats.limit_gaps, 0);
	CHECK_EQ(pool.stats.gap_bytes, 40);
	CHECK(pool.peak <= pool.cap);

	/* a full pool with many small segments across directions: never above cap */
	pool.cap = 4 * (ov + 1);
	pool.peak = 0;
	for (uint32_t s = 0; s < 40; s++)
		for (int i = 0; i < 4; i++) {
			char c = (char)('a' + (s % 26));

			segn(&f[i], 200 + 2 * s, &c, 1, false);
			CHECK(pool.used <= pool.cap);
		}
	CHECK(pool.peak <= pool.cap);
	for (int i = 0; i < 4; i++) {
		flush(&f[i]);
		fx_end(&f[i]);
	}
	CHECK_EQ(pool.used, 0);
}

static void test_flush(void)
{
	struct fx f;

	fx_init(&f);
	flush(&f);                          /* not started */
	CHECK_STR(rec_str(&f.r), "");
	reasm_syn(&f.d, 0);
	seg(&f, 1, "a");
	seg(&f, 3, "c");
	seg(&f, 5, "efg");
	segf(&f, 11, "k");                  /* FIN at 12 */
	flush(&f);
	CHECK_STR(rec_str(&f.r), "a<gap:1>c<gap:1>efg<gap:3>k<fin>");
	CHECK_EQ(f.pool->stats.gaps, 3);
	CHECK_EQ(f.pool->stats.gap_bytes, 5);
	CHECK(f.d.finished);
	CHECK_EQ(f.pool->used, 0);
	flush(&f);
	CHECK_STR(rec_str(&f.r), "a<gap:1>c<gap:1>efg<gap:3>k<fin>");
	fx_end(&f);

	/* a FIN beyond everything held: reached through a gap */
	fx_init(&f);
	reasm_syn(&f.d, 0);
	seg(&f, 1, "a");
	segn(&f, 5, NULL, 0, true);
	flush(&f);
	CHECK_STR(rec_str(&f.r), "a<gap:3><fin>");
	fx_end(&f);

	/* no FIN: the stream goes on after a flush */
	fx_init(&f);
	reasm_syn(&f.d, 0);
	seg(&f, 1, "a");
	seg(&f, 4, "d");
	flush(&f);
	flush(&f);
	seg(&f, 5, "e");
	CHECK_STR(rec_str(&f.r), "a<gap:2>de");
	CHECK(!f.d.finished);
	fx_end(&f);
}

static void test_fin(void)
{
	struct fx f;

	/* FIN ahead of the data waits */
	fx_init(&f);
	reasm_syn(&f.d, 0);
	segf(&f, 4, "def");
	CHECK(f.d.fin_seen);
	CHECK_EQ(f.d.fin_seq, 7);
	CHECK(!f.d.finished);
	seg(&f, 1, "abc");
	CHECK_STR(rec_str(&f.r), "abcdef<fin>");
	CHECK(f.d.finished);
	CHECK_EQ(f.pool->stats.ooo_segments, 1);
	/* after the FIN: ignored, counted */
	seg(&f, 7, "ghi");
	segf(&f, 4, "def");
	segn(&f, 7, NULL, 0, true);
	CHECK_STR(rec_str(&f.r), "abcdef<fin>");
	CHECK_EQ(f.pool->stats.retransmits, 3);
	fx_end(&f);

	/* a pure FIN ahead */
	fx_init(&f);
	reasm_syn(&f.d, 0);
	segn(&f, 4, NULL, 0, true);
	CHECK_EQ(f.pool->stats.ooo_segments, 1);
	segn(&f, 4, NULL, 0, true);         /* its retransmission */
	CHECK_EQ(f.pool->stats.retransmits, 1);
	seg(&f, 1, "abc");
	CHECK_STR(rec_str(&f.r), "abc<fin>");
	fx_end(&f);

	/* data beyond a pending FIN is dropped; a segment across it is cut */
	fx_init(&f);
	reasm_syn(&f.d, 0);
	segf(&f, 5, "x");                   /* FIN at 6 */
	seg(&f, 6, "yz");
	CHECK_EQ(f.pool->stats.retransmits, 1);
	seg(&f, 1, "abcdxQQ");
	CHECK_STR(rec_str(&f.r), "abcdx<fin>");
	CHECK_EQ(f.pool->stats.overlaps, 1);
	CHECK_EQ(f.pool->stats.overlap_conflicts, 0);
	fx_end(&f);

	/* a FIN inside held data cuts it */
	fx_init(&f);
	reasm_syn(&f.d, 0);
	seg(&f, 5, "efghij");
	segn(&f, 8, NULL, 0, true);
	CHECK_EQ(f.d.held_bytes, 3);
	CHECK_EQ(f.pool->stats.overlaps, 1);
	segn(&f, 10, NULL, 0, true);        /* a second, different FIN: the first stands */
	CHECK_EQ(f.d.fin_seq, 8);
	seg(&f, 1, "abcd");
	CHECK_STR(rec_str(&f.r), "abcdefg<fin>");
	CHECK_EQ(f.pool->used, 0);
	fx_end(&f);

	/* a retransmitted data segment brings the FIN we had not seen */
	fx_init(&f);
	reasm_syn(&f.d, 0);
	seg(&f, 1, "abc");
	segf(&f, 1, "abc");
	CHECK_STR(rec_str(&f.r), "abc<fin>");
	CHECK_EQ(f.pool->stats.retransmits, 0);
	fx_end(&f);

	/* a FIN before data already delivered is bogus: ignored */
	fx_init(&f);
	reasm_syn(&f.d, 0);
	seg(&f, 1, "abcdef");
	segn(&f, 3, NULL, 0, true);
	CHECK(!f.d.fin_seen);
	seg(&f, 7, "g");
	CHECK_STR(rec_str(&f.r), "abcdefg");
	fx_end(&f);
}

static void test_zero_length(void)
{
	struct fx f;

	fx_init(&f);
	reasm_syn(&f.d, 0);
	segn(&f, 1, NULL, 0, false);
	segn(&f, 50, NULL, 0, false);
	segn(&f, 0xFFFF0000u, NULL, 0, false);
	CHECK_EQ(f.pool->stats.segments, 0);
	seg(&f, 3, "c");
	segn(&f, 3, NULL, 0, false);
	seg(&f, 1, "ab");
	CHECK_STR(rec_str(&f.r), "abc");
	CHECK_EQ(f.pool->stats.segments, 2);
	CHECK_EQ(f.pool->stats.retransmits, 0);
	CHECK_EQ(f.r.datas, 2);
	fx_end(&f);
}

static void test_tfo(void)
{
	struct fx f;
	static const char req[] = "GET / HTTP/1.1\r\n";

	fx_init(&f);
	reasm_syn(&f.d, 5000);
	seg(&f, 5001, req);                 /* data carried in the SYN */
	CHECK(f.r.last_p == (const uint8_t *)req);
	reasm_syn(&f.d, 5000);              /* SYN retransmitted */
	reasm_syn(&f.d, 9);                 /* or a bogus one */
	seg(&f, 5001, req);                 /* with its data again */
	seg(&f, 5017, "\r\n");
	CHECK_STR(rec_str(&f.r), "GET / HTTP/1.1\r\n\r\n");
	CHECK_EQ(f.pool->stats.retransmits, 1);
	fx_end(&f);
}

static void test_huge_segment(void)
{
	struct fx f;
	size_t n = (5u << 20) / 2 + 3; /* 2.5 MiB: more than one piece */
	uint8_t *buf = malloc(n);

	if (buf == NULL)
		abort();
	for (size_t i = 0; i < n; i++)
		buf[i] = (uint8_t)(i * 31 + (i >> 9));
	fx_init(&f);
	reasm_syn(&f.d, 0xFFFFFFF0u);
	segn(&f, 0xFFFFFFF1u + 10, buf + 10, n - 10, true);
	segn(&f, 0xFFFFFFF1u, buf, 10, false);
	CHECK_EQ(f.r.len, n + 5);
	CHECK(memcmp(f.r.buf, buf, n) == 0);
	CHECK_STR(f.r.buf + n, "<fin>");
	CHECK_EQ(f.pool->stats.segments, 2);
	CHECK_EQ(f.pool->stats.gaps, 0);
	fx_end(&f);
	free(buf);
}

/*
 * 64 KiB cut at random points, with random resegmented duplicates, shuffled:
 * no loss, so the stream is the message exactly.
 */
static void test_random(void)
{
	enum { N = 64 * 1024, MAXSEGS = 4096 };
	static uint8_t msg[N];
	static uint32_t sb[MAXSEGS], se[MAXSEGS];

	rng_state = 0x9E3779B97F4A7C15ull;
	for (int round = 0; round < 40; round++) {
		struct fx f;
		uint32_t isn = round == 0 ? 0xFFFF8000u : (uint32_t)rng();
		int k = 0;

		for (size_t i = 0; i < N; i++)
			msg[i] = (uint8_t)rng();
		for (uint32_t at = 0; at < N;) {
			uint32_t l = 1 + rng_below(round % 2 ? 1460 : 64);

			if (at + l > N)
				l = N - at;
			sb[k] = at;
			se[k++] = at + l;
			at += l;
		}
		for (int dups = k / 3; dups > 0 && k < MAXSEGS; dups--) {
			uint32_t a = rng_below(N), l = 1 + rng_below(2000);

			sb[k] = a;
			se[k++] = a + l > N ? N : a + l;
		}
		for (int i = k - 1; i > 0; i--) {
			int j = (int)rng_below((uint32_t)i + 1);
			uint32_t tb = sb[i], te = se[i];

			sb[i] = sb[j];
			se[i] = se[j];
			sb[j] = tb;
			se[j] = te;
		}
		fx_init(&f);
		reasm_syn(&f.d, isn);
		for (int i = 0; i < k; i++) {
			segn(&f, isn + 1 + sb[i], msg + sb[i], se[i] - sb[i], se[i] == N);
			acked(&f, f.d.next_seq - rng_below(3)); /* never ahead: no gap */
		}
		CHECK_EQ(f.r.len, N + 5);
		CHECK(f.r.len >= N && memcmp(f.r.buf, msg, N) == 0);
		CHECK_EQ(f.r.fins, 1);
		CHECK_EQ(f.pool->stats.gaps, 0);
		CHECK_EQ(f.pool->stats.overlap_conflicts, 0);
		CHECK_EQ(f.pool->stats.bytes, N);
		CHECK_EQ(f.pool->stats.segments, k);
		CHECK_EQ(f.pool->used, 0);
		CHECK(f.pool->peak > 0);
		fx_end(&f);
	}
}

int main(void)
{
	RUN(test_in_order);
	RUN(test_reversed);
	RUN(test_permutations);
	RUN(test_duplicates);
	RUN(test_retransmit_delivered);
	RUN(test_overlap_held);
	RUN(test_every_split);
	RUN(test_wrap);
	RUN(test_no_syn);
	RUN(test_gap_acked);
	RUN(test_gap_limit);
	RUN(test_gap_memcap);
	RUN(test_flush);
	RUN(test_fin);
	RUN(test_zero_length);
	RUN(test_tfo);
	RUN(test_huge_segment);
	RUN(test_random);
	return unit_done("test_reasm");
}
