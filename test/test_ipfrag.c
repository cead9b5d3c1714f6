/*
 * test_ipfrag.c - sensor/ipfrag.c: reassembly order, duplicates, overlaps
 * (first copy wins; RFC 5722 for IPv6), timeouts, caps and eviction.
 *
 * Fragments are built as IPv4/IPv6 frames byte by byte and go through
 * pkt_decode, as they do in the sensor, so the views are the real ones.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../decoders/packet.h"
#include "../sensor/ipfrag.h"
#include "unit.h"

#define SEC 1000000ull

struct fspec {
	int version;      /* 4 or 6 */
	uint8_t src_last; /* last byte of the source address */
	uint32_t id;
	uint8_t proto;
	uint16_t vlan;    /* 0: untagged, else one 802.1Q tag */
};

struct frag {
	uint8_t b[1600];
	size_t n;
	struct pkt_view v;
};

static void put8(struct frag *f, uint8_t x)
{
	f->b[f->n++] = x;
}

static void put16(struct frag *f, uint16_t x)
{
	put8(f, (uint8_t)(x >> 8));
	put8(f, (uint8_t)x);
}

static void put32(struct frag *f, uint32_t x)
{
	put16(f, (uint16_t)(x >> 16));
	put16(f, (uint16_t)x);
}

/* Frame carrying data[off, off + len) of a datagram; decoded into fr->v. */
static void mk(struct frag *fr, const struct fspec *s, const uint8_t *data, size_t off, size_t len,
	       bool more)
{
	enum pkt_link link = s->version == 4 ? PKT_LINK_IPV4 : PKT_LINK_IPV6;
	fr->n = 0;
	if (s->vlan) {
		link = PKT_LINK_ETHERNET;
		for (int i = 0; i < 12; i++)
			put8(fr, (uint8_t)i);
		put16(fr, 0x8100);
		put16(fr, s->vlan);
		put16(fr, s->version == 4 ? 0x0800 : 0x86dd);
	}
	if (s->version == 4) {
		put8(fr, 0x45);
		put8(fr, 0);
		put16(fr, (uint16_t)(20 + len));
		put16(fr, (uint16_t)s->id);
		put16(fr, (uint16_t)((more ? 0x2000 : 0) | off / 8));
		put8(fr, 64);
		put8(fr, s->proto);
		put16(fr, 0);
		put32(fr, 0x0a000000u | s->src_last);
		put32(fr, 0x0a0000feu);
	} else {
		put32(fr, 0x60000000);
		put16(fr, (uint16_t)(8 + len));
		put8(fr, 44);
		put8(fr, 64);
		put32(fr, 0x20010db8);
		put32(fr, 0);
		put32(fr, 0);
		put32(fr, s->src_last);
		put32(fr, 0x20010db8);
		put32(fr, 0);
		put32(fr, 0);
		put32(fr, 0xfe);
		put8(fr, s->proto);
		put8(fr, 0);
		put16(fr, (uint16_t)(off | (more ? 1 : 0)));
		put32(fr, s->id);
	}
	memcpy(fr->b + fr->n, data + off, len);
	fr->n += len;
	enum pkt_result r = pkt_decode(link, fr->b, fr->n, &fr->v);
	CHECK_EQ(r, PKT_FRAGMENT);
	CHECK_EQ(fr->v.frag_offset, off);
	CHECK_EQ(fr->v.frag_len, len);
}

/* A TCP segment of `total` bytes: 20-byte header, then a pattern keyed by `salt`. */
static void mk_segment(uint8_t *seg, size_t total, uint8_t salt)
{
	memset(seg, 0, 20);
	seg[0] = 0x9c; /* sport 40000 */
	seg[1] = 0x40;
	seg[3] = 80;
	seg[7] = salt; /* seq */
	seg[12] = 0x50;
	seg[13] = TCP_ACK | TCP_PSH;
	seg[14] = 0xff;
	for (size_t i = 20; i < total; i++)
		seg[i] = (uint8_t)(i * 7 + salt);
}

static int feed(struct ipfrag *f, struct frag *fr, uint64_t now, const uint8_t **out,
		size_t *out_len)
{
	return ipfrag_feed(f, &fr->v, now, out, out_len);
}

static struct ipfrag_limits default_limits(void)
{
	struct ipfrag_limits lim = {
		.max_bytes = 4u << 20,
		.max_datagrams = 64,
		.timeout_us = 30 * SEC,
		.max_datagram_len = 65535,
	};
	return lim;
}

static const struct fspec V4 = {.version = 4, .src_last = 1, .id = 0x1234, .proto = 6};
static const struct fspec V6 = {.version = 6, .src_last = 1, .id = 0xabcdef01, .proto = 6};

/* Feeds the pieces [cuts[i], cuts[i+1]) in the given order; the last must complete. */
static void reassemble_in_order(const struct fspec *s, const size_t *cuts, size_t npieces,
				const size_t *order)
{
	static uint8_t seg[4000];
	size_t total = cuts[npieces];
	mk_segment(seg, total, 3);
	struct ipfrag_limits lim = default_limits();
	struct ipfrag *f = ipfrag_new(&lim);
	CHECK(f != NULL);
	const uint8_t *out = NULL;
	size_t out_len = 0;
	for (size_t i = 0; i < npieces; i++) {
		size_t k = order[i];
		struct frag fr;
		mk(&fr, s, seg, cuts[k], cuts[k + 1] - cuts[k], k + 1 < npieces);
		int r = feed(f, &fr, SEC + i, &out, &out_len);
		CHECK_EQ(r, i + 1 == npieces ? 1 : 0);
		if (i + 1 < npieces)
			CHECK(out == NULL && out_len == 0);
	}
	CHECK_EQ(out_len, total);
	CHECK(out && memcmp(out, seg, total) == 0);

	struct pkt_view v;
	memset(&v, 0, sizeof(v));
	CHECK_EQ(pkt_decode_tcp(out, out_len, &v), PKT_TCP);
	CHECK_EQ(v.sport, 40000);
	CHECK_EQ(v.dport, 80);
	CHECK_EQ(v.payload_len, total - 20);

	const struct ipfrag_stats *st = ipfrag_stats(f);
	CHECK_EQ(st->fragments, npieces);
	CHECK_EQ(st->reassembled, 1);
	CHECK_EQ(st->overlaps, 0);
	CHECK_EQ(st->dropped, 0);
	CHECK_EQ(st->bytes_held, 0);
	CHECK(st->bytes_peak >= total);
	ipfrag_free(f);
}

static void test_ip4_in_order(void)
{
	static const size_t cuts[] = {0, 1480, 2960, 3020};
	static const size_t order[] = {0, 1, 2};
	reassemble_in_order(&V4, cuts, 3, order);
}

static void test_ip4_reversed(void)
{
	static const size_t cuts[] = {0, 1480, 2960, 3020};
	static const size_t order[] = {2, 1, 0};
	reassemble_in_order(&V4, cuts, 3, order);
}

static void test_ip4_middle_last(void)
{
	static const size_t cuts[] = {0, 8, 16, 1000, 1001};
	static const size_t order[] = {3, 0, 2, 1};
	reassemble_in_order(&V4, cuts, 4, order);
}

static void test_ip6_in_order_and_reversed(void)
{
	static const size_t cuts[] = {0, 1232, 2464, 2500};
	static const size_t fwd[] = {0, 1, 2};
	static const size_t rev[] = {2, 1, 0};
	reassemble_in_order(&V6, cuts, 3, fwd);
	reassemble_in_order(&V6, cuts, 3, rev);
}

/* Deterministic xorshift; no clock, no rand(). */
static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void test_tiny_fragments_shuffled(void)
{
	/* 1500 bytes in 8-byte fragments (the nmap -f / fragroute shape), shuffled. */
	enum { TOTAL = 1500, N = (TOTAL + 7) / 8 };
	size_t cuts[N + 1], order[N];
	for (size_t i = 0; i < N; i++) {
		cuts[i] = i * 8;
		order[i] = i;
	}
	cuts[N] = TOTAL;
	uint64_t s = 12345;
	for (size_t i = N - 1; i > 0; i--) {
		size_t j = rng_next(&s) % (i + 1);
		size_t t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	reassemble_in_order(&V4, cuts, N, order);
	reassemble_in_order(&V6, cuts, N, order);
}

static void test_duplicates(void)
{
	static uint8_t seg[3020];
	mk_segment(seg, sizeof(seg), 9);
	const struct fspec *specs[2] = {&V4, &V6};
	for (int k = 0; k < 2; k++) {
		struct ipfrag_limits lim = default_limits();
		struct ipfrag *f = ipfrag_new(&lim);
		struct frag a, b, c;
		const uint8_t *out;
		size_t out_len;
		mk(&a, specs[k], seg, 0, 1480, true);
		mk(&b, specs[k], seg, 1480, 1480, true);
		mk(&c, specs[k], seg, 2960, 60, false);
		CHECK_EQ(feed(f, &a, 1, &out, &out_len), 0);
		CHECK_EQ(feed(f, &a, 2, &out, &out_len), 0);
		CHECK_EQ(feed(f, &c, 3, &out, &out_len), 0);
		CHECK_EQ(feed(f, &c, 4, &out, &out_len), 0);
		CHECK_EQ(feed(f, &a, 5, &out, &out_len), 0);
		CHECK_EQ(feed(f, &b, 6, &out, &out_len), 1);
		CHECK_EQ(out_len, sizeof(seg));
		CHECK(memcmp(out, seg, sizeof(seg)) == 0);
		const struct ipfrag_stats *st = ipfrag_stats(f);
		CHECK_EQ(st->overlaps, 0); /* exact copies are not overlaps */
		CHECK_EQ(st->dropped, 0);
		CHECK_EQ(st->reassembled, 1);
		CHECK_EQ(st->bytes_held, 0);

		/* A copy arriving after completion starts a new datagram that times out. */
		CHECK_EQ(feed(f, &b, 7, &out, &out_len), 0);
		CHECK(st->bytes_held > 0);
		CHECK_EQ(feed(f, &a, 8 + lim.timeout_us + 1, &out, &out_len), 0);
		CHECK_EQ(st->timeouts, 1);
		ipfrag_free(f);
	}
}

static void test_ip4_overlap_first_wins(void)
{
	static uint8_t x[64], y[64];
	memset(x, 'x', sizeof(x));
	memset(y, 'y', sizeof(y));
	/* A = x[0, 24), B = y[16, 40) last: bytes 16..23 are claimed twice. */
	for (int order = 0; order < 2; order++) {
		struct ipfrag_limits lim = default_limits();
		struct ipfrag *f = ipfrag_new(&lim);
		struct frag a, b;
		const uint8_t *out;
		size_t out_len;
		mk(&a, &V4, x, 0, 24, true);
		mk(&b, &V4, y, 16, 24, false);
		struct frag *first = order ? &b : &a, *second = order ? &a : &b;
		CHECK_EQ(feed(f, first, 1, &out, &out_len), 0);
		CHECK_EQ(feed(f, second, 2, &out, &out_len), 1);
		CHECK_EQ(out_len, 40);
		uint8_t want = order ? 'y' : 'x';
		for (size_t i = 0; i < 40; i++)
			CHECK_EQ(out[i], i < 16 ? 'x' : i >= 24 ? 'y' : want);
		CHECK_EQ(ipfrag_stats(f)->overlaps, 1);
		CHECK_EQ(ipfrag_stats(f)->bytes_held, 0);
		ipfrag_free(f);
	}

	/* A fragment spanning two held pieces fills only the holes around them. */
	struct ipfrag_limits lim = default_limits();
	struct ipfrag *f = ipfrag_new(&lim);
	struct frag p1, p2, big, inside;
	const uint8_t *out;
	size_t out_len;
	mk(&p1, &V4, x, 8, 8, true);
	mk(&p2, &V4, x, 32, 8, true);
	mk(&inside, &V4, y, 32, 8, true); /* wholly inside held data, different bytes */
	mk(&big, &V4, y, 0, 48, true);
	struct frag tail;
	mk(&tail, &V4, y, 48, 8, false);
	CHECK_EQ(feed(f, &p1, 1, &out, &out_len), 0);
	CHECK_EQ(feed(f, &p2, 2, &out, &out_len), 0);
	CHECK_EQ(feed(f, &inside, 3, &out, &out_len), 0);
	CHECK_EQ(ipfrag_stats(f)->overlaps, 1);
	CHECK_EQ(feed(f, &big, 4, &out, &out_len), 0);
	CHECK_EQ(feed(f, &tail, 5, &out, &out_len), 1);
	CHECK_EQ(out_len, 56);
	for (size_t i = 0; i < 56; i++)
		CHECK_EQ(out[i], (i >= 8 && i < 16) || (i >= 32 && i < 40) ? 'x' : 'y');
	CHECK_EQ(ipfrag_stats(f)->overlaps, 2);
	ipfrag_free(f);
}

static void test_ip6_overlap_drops_datagram(void)
{
	static uint8_t seg[64];
	mk_segment(seg, sizeof(seg), 1);
	struct ipfrag_limits lim = default_limits();
	struct ipfrag *f = ipfrag_new(&lim);
	struct frag a, b, c, d;
	const uint8_t *out;
	size_t out_len;
	mk(&a, &V6, seg, 0, 16, true);
	mk(&b, &V6, seg, 8, 16, true); /* overlaps a, same bytes: still an overlap */
	mk(&c, &V6, seg, 16, 48, false);
	mk(&d, &V6, seg, 16, 8, true);
	CHECK_EQ(feed(f, &a, 1, &out, &out_len), 0);
	const struct ipfrag_stats *st = ipfrag_stats(f);
	size_t held = st->bytes_held;
	CHECK_EQ(feed(f, &b, 2, &out, &out_len), -1);
	CHECK_EQ(st->overlaps, 1);
	CHECK_EQ(st->dropped, 1);
	/* The rest of that datagram, even fragments that would complete it, is dropped. */
	CHECK_EQ(feed(f, &d, 3, &out, &out_len), -1);
	CHECK_EQ(feed(f, &c, 4, &out, &out_len), -1);
	CHECK_EQ(feed(f, &a, 5, &out, &out_len), -1);
	CHECK_EQ(st->dropped, 4);
	CHECK_EQ(st->reassembled, 0);
	/* Only the slot is held; once it expires the id is usable again. */
	CHECK(st->bytes_held > 0 && st->bytes_held <= held - 16);
	uint64_t later = 5 + lim.timeout_us + 1;
	CHECK_EQ(feed(f, &a, later, &out, &out_len), 0);
	CHECK_EQ(st->timeouts, 0); /* a dropped datagram does not time out */
	CHECK_EQ(feed(f, &c, later, &out, &out_len), 1);
	CHECK_EQ(out_len, 64);
	CHECK(memcmp(out, seg, 64) == 0);
	ipfrag_free(f);
}

static void test_ip6_contained_copy_kept(void)
{
	/* A fragment wholly inside held data with other bytes: counted, datagram kept. */
	static uint8_t seg[64], bad[64];
	mk_segment(seg, sizeof(seg), 1);
	memset(bad, 0xee, sizeof(bad));
	struct ipfrag_limits lim = default_limits();
	struct ipfrag *f = ipfrag_new(&lim);
	struct frag a, a2, c;
	const uint8_t *out;
	size_t out_len;
	mk(&a, &V6, seg, 0, 32, true);
	mk(&a2, &V6, bad, 8, 16, true);
	mk(&c, &V6, seg, 32, 32, false);
	CHECK_EQ(feed(f, &a, 1, &out, &out_len), 0);
	CHECK_EQ(feed(f, &a2, 2, &out, &out_len), 0);
	CHECK_EQ(ipfrag_stats(f)->overlaps, 1);
	CHECK_EQ(ipfrag_stats(f)->dropped, 0);
	CHECK_EQ(feed(f, &c, 3, &out, &out_len), 1);
	CHECK(out_len == 64 && memcmp(out, seg, 64) == 0);
	ipfrag_free(f);
}

static void test_conflicting_ends(void)
{
	static uint8_t seg[64];
	mk_segment(seg, sizeof(seg), 2);
	struct ipfrag_limits lim = default_limits();
	struct ipfrag *f = ipfrag_new(&lim);
	struct frag last24, last32, past, first, mid;
	const uint8_t *out;
	size_t out_len;
	mk(&last24, &V4, seg, 16, 8, false);
	mk(&last32, &V4, seg, 16, 16, false);
	mk(&past, &V4, seg, 24, 16, true);
	mk(&first, &V4, seg, 0, 8, true);
	mk(&mid, &V4, seg, 8, 8, true);
	CHECK_EQ(feed(f, &last24, 1, &out, &out_len), 0);
	CHECK_EQ(feed(f, &last32, 2, &out, &out_len), -1); /* a second, different end */
	CHECK_EQ(feed(f, &past, 3, &out, &out_len), -1);   /* data past the end */
	CHECK_EQ(feed(f, &first, 4, &out, &out_len), 0);
	CHECK_EQ(feed(f, &mid, 5, &out, &out_len), 1);
	CHECK_EQ(out_len, 24);
	CHECK(memcmp(out, seg, 24) == 0);
	CHECK_EQ(ipfrag_stats(f)->dropped, 2);

	/* A last fragment that ends short of data already held. */
	mk(&past, &V4, seg, 24, 16, true);
	CHECK_EQ(feed(f, &past, 6, &out, &out_len), 0);
	CHECK_EQ(feed(f, &last24, 7, &out, &out_len), -1);
	CHECK_EQ(ipfrag_stats(f)->dropped, 3);
	ipfrag_free(f);
}

static void test_missing_piece_timeout(void)
{
	static uint8_t seg[3020];
	mk_segment(seg, sizeof(seg), 4);
	struct ipfrag_limits lim = default_limits();
	struct ipfrag *f = ipfrag_new(&lim);
	struct frag a, c, other;
	const uint8_t *out;
	size_t out_len;
	struct fspec s2 = V4;
	s2.id = 99;
	mk(&a, &V4, seg, 0, 1480, true);
	mk(&c, &V4, seg, 2960, 60, false);
	mk(&other, &s2, seg, 0, 8, true);
	CHECK_EQ(feed(f, &a, 10 * SEC, &out, &out_len), 0);
	CHECK_EQ(feed(f, &c, 11 * SEC, &out, &out_len), 0);
	const struct ipfrag_stats *st = ipfrag_stats(f);
	size_t held = st->bytes_held;
	CHECK(held >= 1540);
	/* Exactly the timeout after the first fragment: still kept. */
	CHECK_EQ(feed(f, &other, 40 * SEC, &out, &out_len), 0);
	CHECK_EQ(st->timeouts, 0);
	CHECK(st->bytes_held > held);
	/* One microsecond later it expires, without touching the younger one. */
	CHECK_EQ(feed(f, &other, 40 * SEC + 1, &out, &out_len), 0);
	CHECK_EQ(st->timeouts, 1);
	CHECK(st->bytes_held < 200);
	/* The missing piece arrives too late: it starts over and does not complete. */
	struct frag b;
	mk(&b, &V4, seg, 1480, 1480, true);
	CHECK_EQ(feed(f, &b, 41 * SEC, &out, &out_len), 0);
	CHECK_EQ(st->reassembled, 0);
	/* Time that goes backwards expires nothing. */
	CHECK_EQ(feed(f, &a, 1 * SEC, &out, &out_len), 0);
	CHECK_EQ(st->timeouts, 1);
	ipfrag_free(f);
}

static void test_memory_cap_evicts_oldest(void)
{
	static uint8_t seg[3020];
	mk_segment(seg, sizeof(seg), 5);
	struct ipfrag_limits lim = default_limits();
	lim.max_bytes = 3 * 1480 + 1000; /* three first fragments and their bookkeeping */
	struct ipfrag *f = ipfrag_new(&lim);
	const struct ipfrag_stats *st = ipfrag_stats(f);
	const uint8_t *out;
	size_t out_len;
	struct frag fr;
	struct fspec s[4];
	for (int i = 0; i < 4; i++) {
		s[i] = V4;
		s[i].id = (uint32_t)(100 + i);
		mk(&fr, &s[i], seg, 0, 1480, true);
		CHECK_EQ(feed(f, &fr, (uint64_t)i, &out, &out_len), 0);
		CHECK(st->bytes_held <= lim.max_bytes);
	}
	CHECK_EQ(st->evicted, 1); /* the fourth pushed out id 100 */
	CHECK(st->bytes_peak <= lim.max_bytes);

	/* id 100 lost its first fragment: the rest does not complete it. */
	mk(&fr, &s[0], seg, 1480, 1480, true);
	CHECK_EQ(feed(f, &fr, 10, &out, &out_len), 0);
	mk(&fr, &s[0], seg, 2960, 60, false);
	CHECK_EQ(feed(f, &fr, 11, &out, &out_len), 0);
	CHECK_EQ(st->reassembled, 0);
	CHECK(st->evicted >= 2);
	CHECK(st->bytes_held <= lim.max_bytes);

	/* A datagram that alone is bigger than the cap is dropped, evicting nobody. */
	uint64_t evicted = st->evicted;
	struct fspec big = V4;
	big.id = 7;
	for (size_t off = 0; off < 4 * 1480; off += 1480) {
		mk(&fr, &big, seg, off % 2960, 1480, true);
		fr.v.frag_offset = (uint32_t)off;
		int r = feed(f, &fr, 12, &out, &out_len);
		if (off < 3 * 1480)
			CHECK(r == 0);
		else
			CHECK_EQ(r, -1);
	}
	CHECK(st->dropped >= 1);
	CHECK(st->evicted > evicted); /* making room for the first three of them */
	CHECK(st->bytes_held <= lim.max_bytes);
	evicted = st->evicted;
	uint64_t dropped = st->dropped;
	mk(&fr, &big, seg, 2960, 60, false);
	fr.v.frag_offset = 4 * 1480;
	CHECK_EQ(feed(f, &fr, 13, &out, &out_len), 0); /* small: fits, hole stays */
	CHECK_EQ(st->evicted, evicted);
	CHECK_EQ(st->dropped, dropped);
	ipfrag_free(f);

	/* A single fragment larger than the whole cap: dropped, nothing evicted. */
	lim.max_bytes = 1000;
	f = ipfrag_new(&lim);
	st = ipfrag_stats(f);
	struct fspec small = V4;
	small.id = 1;
	mk(&fr, &small, seg, 0, 64, true);
	CHECK_EQ(feed(f, &fr, 1, &out, &out_len), 0);
	mk(&fr, &V4, seg, 0, 1480, true);
	CHECK_EQ(feed(f, &fr, 2, &out, &out_len), -1);
	CHECK_EQ(st->evicted, 0);
	CHECK_EQ(st->dropped, 1);
	ipfrag_free(f);
}

static void test_datagram_count_cap(void)
{
	static uint8_t seg[64];
	mk_segment(seg, sizeof(seg), 6);
	struct ipfrag_limits lim = default_limits();
	lim.max_datagrams = 2;
	struct ipfrag *f = ipfrag_new(&lim);
	const struct ipfrag_stats *st = ipfrag_stats(f);
	const uint8_t *out;
	size_t out_len;
	struct frag fr;
	struct fspec s[3];
	for (int i = 0; i < 3; i++) {
		s[i] = V4;
		s[i].id = (uint32_t)i;
		mk(&fr, &s[i], seg, 0, 16, true);
		CHECK_EQ(feed(f, &fr, (uint64_t)i, &out, &out_len), 0);
	}
	CHECK_EQ(st->evicted, 1);
	/* ids 1 and 2 are still there and complete; id 0 was the oldest and is gone. */
	for (int i = 2; i >= 0; i--) {
		mk(&fr, &s[i], seg, 16, 48, false);
		CHECK_EQ(feed(f, &fr, 10, &out, &out_len), i == 0 ? 0 : 1);
		if (i)
			CHECK(out_len == 64 && memcmp(out, seg, 64) == 0);
	}
	CHECK_EQ(st->reassembled, 2);
	ipfrag_free(f);
}

static void test_max_datagram_len(void)
{
	static uint8_t seg[4000];
	mk_segment(seg, sizeof(seg), 7);
	struct ipfrag_limits lim = default_limits();
	lim.max_datagram_len = 3000;
	struct ipfrag *f = ipfrag_new(&lim);
	const struct ipfrag_stats *st = ipfrag_stats(f);
	const uint8_t *out;
	size_t out_len;
	struct frag fr;
	mk(&fr, &V4, seg, 2000, 1008, true); /* ends at 3008 */
	CHECK_EQ(feed(f, &fr, 1, &out, &out_len), -1);
	CHECK_EQ(st->dropped, 1);
	CHECK_EQ(st->bytes_held, 0);
	mk(&fr, &V4, seg, 1480, 1520, false); /* ends at exactly 3000 */
	CHECK_EQ(feed(f, &fr, 2, &out, &out_len), 0);
	mk(&fr, &V4, seg, 0, 1480, true);
	CHECK_EQ(feed(f, &fr, 3, &out, &out_len), 1);
	CHECK_EQ(out_len, 3000);
	CHECK(memcmp(out, seg, 3000) == 0);
	ipfrag_free(f);
}

static void test_keys_separate(void)
{
	static uint8_t seg[5][64];
	struct fspec s[5];
	for (int i = 0; i < 5; i++) {
		s[i] = V4;
		mk_segment(seg[i], 64, (uint8_t)(10 + i));
	}
	s[1].src_last = 2;    /* other source */
	s[2].vlan = 10;       /* other VLAN */
	s[3].proto = 17;      /* other protocol */
	s[4].version = 6;     /* other version, same numbers */
	s[4].id = V4.id;
	struct ipfrag_limits lim = default_limits();
	struct ipfrag *f = ipfrag_new(&lim);
	const uint8_t *out;
	size_t out_len;
	struct frag fr;
	for (int i = 0; i < 5; i++) {
		mk(&fr, &s[i], seg[i], 0, 32, true);
		CHECK_EQ(feed(f, &fr, 1, &out, &out_len), 0);
	}
	for (int i = 4; i >= 0; i--) {
		mk(&fr, &s[i], seg[i], 32, 32, false);
		CHECK_EQ(feed(f, &fr, 2, &out, &out_len), 1);
		CHECK(out_len == 64 && memcmp(out, seg[i], 64) == 0);
	}
	CHECK_EQ(ipfrag_stats(f)->reassembled, 5);
	CHECK_EQ(ipfrag_stats(f)->overlaps, 0);
	ipfrag_free(f);
}

static void test_piece_cap(void)
{
	/* 65000 bytes in 8-byte fragments: more pieces than a datagram may hold. */
	static uint8_t seg[65000];
	mk_segment(seg, sizeof(seg), 8);
	struct ipfrag_limits lim = default_limits();
	lim.max_bytes = 16u << 20;
	struct ipfrag *f = ipfrag_new(&lim);
	const struct ipfrag_stats *st = ipfrag_stats(f);
	const uint8_t *out;
	size_t out_len;
	struct frag fr;
	int completed = 0;
	for (size_t off = 0; off < sizeof(seg); off += 8) {
		mk(&fr, &V4, seg, off, 8, off + 8 < sizeof(seg));
		if (feed(f, &fr, 1, &out, &out_len) == 1)
			completed++;
	}
	CHECK_EQ(completed, 0);
	CHECK(st->dropped > 0);
	CHECK(st->dropped < sizeof(seg) / 8);
	CHECK(st->bytes_held > 0 && st->bytes_held < (1u << 20));
	ipfrag_free(f);
}

static void test_bad_views(void)
{
	struct ipfrag_limits lim = default_limits();
	struct ipfrag *f = ipfrag_new(&lim);
	const uint8_t *out = (const uint8_t *)"x";
	size_t out_len = 5;
	uint8_t data[16] = {0};
	struct pkt_view v;
	memset(&v, 0, sizeof(v));
	v.ip_version = 4;
	v.frag_more = true;
	v.frag_data = data;
	v.frag_len = 7; /* not a multiple of 8 with MF set */
	CHECK_EQ(ipfrag_feed(f, &v, 1, &out, &out_len), -1);
	CHECK(out == NULL && out_len == 0);
	v.frag_len = 8;
	v.ip_version = 5;
	CHECK_EQ(ipfrag_feed(f, &v, 1, &out, &out_len), -1);
	v.ip_version = 4;
	v.frag_data = NULL;
	CHECK_EQ(ipfrag_feed(f, &v, 1, &out, &out_len), -1);
	v.frag_data = data;
	v.frag_offset = 0xfffffff8u; /* would wrap a 32-bit end */
	CHECK_EQ(ipfrag_feed(f, &v, 1, &out, &out_len), -1);
	CHECK_EQ(ipfrag_stats(f)->dropped, 4);
	CHECK_EQ(ipfrag_stats(f)->fragments, 4);
	CHECK_EQ(ipfrag_stats(f)->bytes_held, 0);
	ipfrag_free(f);
	ipfrag_free(NULL);
}

static void test_output_lifetime(void)
{
	static uint8_t s1[100], s2[200];
	mk_segment(s1, sizeof(s1), 20);
	mk_segment(s2, sizeof(s2), 21);
	struct ipfrag_limits lim = default_limits();
	struct ipfrag *f = ipfrag_new(&lim);
	struct fspec other = V4;
	other.id = 2;
	const uint8_t *out1, *out2;
	size_t len1, len2;
	struct frag fr;
	mk(&fr, &V4, s1, 0, 48, true);
	CHECK_EQ(feed(f, &fr, 1, &out1, &len1), 0);
	mk(&fr, &other, s2, 0, 96, true);
	CHECK_EQ(feed(f, &fr, 1, &out2, &len2), 0);
	mk(&fr, &V4, s1, 48, 52, false);
	CHECK_EQ(feed(f, &fr, 1, &out1, &len1), 1);
	CHECK(len1 == 100 && memcmp(out1, s1, 100) == 0);
	/* The next call owns the buffer; the one after completes into it. */
	mk(&fr, &other, s2, 96, 104, false);
	CHECK_EQ(feed(f, &fr, 1, &out2, &len2), 1);
	CHECK(len2 == 200 && memcmp(out2, s2, 200) == 0);
	CHECK_EQ(ipfrag_stats(f)->bytes_held, 0);
	ipfrag_free(f);
}

/*
 * Many datagrams, both versions, random cut points, shuffled together with
 * duplicates. With room enough every one completes byte-exact; under a tight
 * cap nothing breaks and the cap holds after every call.
 */
static void stress(size_t max_bytes, uint32_t max_datagrams, bool expect_all)
{
	enum { NDG = 40, MAXF = 64 };
	static uint8_t data[NDG][6000];
	static size_t lens[NDG];
	static struct frag frags[NDG * MAXF * 2];
	static int owner[NDG * MAXF * 2];
	uint64_t s = 0xfeedfacecafebeefull ^ max_bytes;
	size_t nf = 0;

	for (int d = 0; d < NDG; d++) {
		struct fspec sp = d % 2 ? V6 : V4;
		sp.id = (uint32_t)(1000 + d);
		sp.src_last = (uint8_t)(d % 3);
		lens[d] = 20 + rng_next(&s) % 5900;
		mk_segment(data[d], lens[d], (uint8_t)d);
		size_t off = 0;
		while (off < lens[d]) {
			size_t len = 8 * (1 + rng_next(&s) % 185);
			if (off == 0 && len >= lens[d])
				len = 8; /* at least two fragments */
			bool more = off + len < lens[d];
			if (!more)
				len = lens[d] - off;
			mk(&frags[nf], &sp, data[d], off, len, more);
			owner[nf++] = d;
			if (rng_next(&s) % 5 == 0) { /* an exact duplicate */
				frags[nf] = frags[nf - 1];
				frags[nf].v.frag_data = frags[nf].b + (frags[nf - 1].v.frag_data -
								       frags[nf - 1].b);
				owner[nf++] = d;
			}
			off += len;
		}
	}
	static size_t order[NDG * MAXF * 2];
	for (size_t i = 0; i < nf; i++)
		order[i] = i;
	for (size_t i = nf - 1; i > 0; i--) {
		size_t j = rng_next(&s) % (i + 1);
		size_t t = order[i];
		order[i] = order[j];
		order[j] = t;
	}

	struct ipfrag_limits lim = default_limits();
	lim.max_bytes = max_bytes;
	lim.max_datagrams = max_datagrams;
	struct ipfrag *f = ipfrag_new(&lim);
	const struct ipfrag_stats *st = ipfrag_stats(f);
	int done[NDG] = {0};
	for (size_t i = 0; i < nf; i++) {
		const uint8_t *out;
		size_t out_len;
		int r = feed(f, &frags[order[i]], i, &out, &out_len);
		CHECK(r >= -1 && r <= 1);
		CHECK(st->bytes_held <= lim.max_bytes);
		if (r == 1) {
			int d = owner[order[i]];
			CHECK(out_len == lens[d] && memcmp(out, data[d], lens[d]) == 0);
			done[d]++;
		}
	}
	/* A datagram can complete twice: its duplicates may all come after it did. */
	int complete = 0, completions = 0;
	for (int d = 0; d < NDG; d++) {
		complete += done[d] > 0;
		completions += done[d];
	}
	CHECK_EQ(st->fragments, nf);
	CHECK_EQ(st->reassembled, (uint64_t)completions);
	if (expect_all) {
		CHECK_EQ(complete, NDG);
		CHECK_EQ(st->overlaps, 0);
		CHECK_EQ(st->evicted, 0);
		CHECK_EQ(st->dropped, 0);
	} else {
		CHECK(st->evicted > 0);
		CHECK(complete < NDG);
	}
	ipfrag_free(f);
}

static void test_stress(void)
{
	stress(16u << 20, 256, true);
	stress(20000, 256, false);
	stress(16u << 20, 3, false);
}

int main(void)
{
	RUN(test_ip4_in_order);
	RUN(test_ip4_reversed);
	RUN(test_ip4_middle_last);
	RUN(test_ip6_in_order_and_reversed);
	RUN(test_tiny_fragments_shuffled);
	RUN(test_duplicates);
	RUN(test_ip4_overlap_first_wins);
	RUN(test_ip6_overlap_drops_datagram);
	RUN(test_ip6_contained_copy_kept);
	RUN(test_conflicting_ends);
	RUN(test_missing_piece_timeout);
	RUN(test_memory_cap_evicts_oldest);
	RUN(test_datagram_count_cap);
	RUN(test_max_datagram_len);
	RUN(test_keys_separate);
	RUN(test_piece_cap);
	RUN(test_bad_views);
	RUN(test_output_lifetime);
	RUN(test_stress);
	return unit_done("test_ipfrag");
}
