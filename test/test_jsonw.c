/*
 * test_jsonw.c - the hand-written formatters of sensor/jsonw.c give exactly
 * what the printf formats, gmtime_r and inet_ntop they replaced give, and a
 * string escaped in one go (room for the worst case) equals the same string
 * escaped byte by byte in a buffer that just fits.
 */
#include "unit.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <time.h>

#include "../sensor/jsonw.h"

static uint64_t rng = 88172645463325252ull;

static uint64_t next(void)
{
	rng ^= rng << 13; /* xorshift64 */
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* A value with a random number of significant bits, so every digit count shows up. */
static uint64_t any_width(void)
{
	unsigned bits = (unsigned)(next() % 65);
	return bits == 64 ? next() : next() & ((1ull << bits) - 1);
}

#define OUT(call)                                                                     \
	do {                                                                          \
		jw_init(&w, buf, sizeof buf);                                         \
		call;                                                                 \
	} while (0)

static void test_integers(void)
{
	struct jsonw w;
	char buf[64], want[64];
	for (int i = 0; i < 200000; i++) {
		uint64_t u = any_width();
		OUT(jw_u64(&w, u));
		snprintf(want, sizeof want, "%llu", (unsigned long long)u);
		CHECK_STR(buf, want);
		int64_t s = (int64_t)u;
		OUT(jw_i64(&w, s));
		snprintf(want, sizeof want, "%lld", (long long)s);
		CHECK_STR(buf, want);
	}
	OUT(jw_i64(&w, INT64_MIN));
	CHECK_STR(buf, "-9223372036854775808");
	OUT(jw_u64(&w, 0));
	CHECK_STR(buf, "0");
}

static void test_fixed(void)
{
	struct jsonw w;
	char buf[64], want[64];
	for (int d = 0; d <= 9; d++) {
		uint64_t div = 1;
		for (int k = 0; k < d; k++)
			div *= 10;
		for (int i = 0; i < 20000; i++) {
			uint64_t v = i < 50 ? (uint64_t)i : any_width();
			OUT(jw_fixed(&w, v, d));
			snprintf(want, sizeof want, "%llu.%0*llu", (unsigned long long)(v / div), d,
				 (unsigned long long)(v % div));
			CHECK_STR(buf, want);
		}
	}
}

static void test_time(void)
{
	struct jsonw w;
	char buf[128], want[128];
	for (int i = 0; i < 200000; i++) {
		/* 1970 to 9999, a few past it, and the leap-day edges */
		uint64_t secs = i % 1000 == 0 ? 253402300799ull + next() % 1000000
					      : next() % 253402300800ull;
		if (i < 4)
			secs = (uint64_t[]){0, 951782400, 951868799, 4107542400}[i];
		uint64_t us = secs * 1000000 + next() % 1000000;
		time_t t = (time_t)secs;
		struct tm tm;
		gmtime_r(&t, &tm);
		snprintf(want, sizeof want, "\"%04d-%02d-%02dT%02d:%02d:%02d.%06uZ\"",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			 tm.tm_sec, (unsigned)(us % 1000000));
		OUT(jw_time(&w, us));
		CHECK_STR(buf, want);
	}
}

/*
 * jw_time_memo gives jw_time's text whatever came before: runs of one second,
 * steps forward and back, the same microsecond again, and a time past 9999
 * (never memoized) between two of the same second.
 */
static void test_time_memo(void)
{
	struct jsonw w;
	char buf[64], want[64];
	struct jw_time_memo m;
	uint64_t us = 1795824000ull * 1000000;
	memset(&m, 0, sizeof m);
	for (int i = 0; i < 200000; i++) {
		switch (next() % 8) {
		case 0: us += next() % 5000000; break;                 /* a few seconds on */
		case 1: us -= us > 3000000 ? next() % 3000000 : 0; break; /* back (another flow) */
		case 2: break;                                         /* the same instant */
		case 3: us = next() % 253402300800000000ull; break;    /* anywhere to 9999 */
		case 4: us = 253402300800000000ull + next() % 1000000; break; /* year 10000 */
		default: us += next() % 1000; break;                   /* same second, mostly */
		}
		OUT(jw_time(&w, us));
		snprintf(want, sizeof want, "%s", buf);
		OUT(jw_time_memo(&w, us, &m));
		CHECK_STR(buf, want);
	}
}

static void test_ip(void)
{
	struct jsonw w;
	char buf[64], want[64], text[INET6_ADDRSTRLEN];
	for (int i = 0; i < 100000; i++) {
		uint8_t a[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
		uint64_t r = next();
		memcpy(a + 12, &r, 4);
		if (i % 7 == 0)
			a[12 + i % 4] = (uint8_t)(i % 3 == 0 ? 0 : 255);
		inet_ntop(AF_INET, a + 12, text, sizeof text);
		snprintf(want, sizeof want, "\"%s\"", text);
		OUT(jw_ip(&w, a));
		CHECK_STR(buf, want);
	}
}

/* jw_ip_memo writes what jw_ip writes: repeated and new addresses, v4 and v6, after a comma, short of room. */
static void test_ip_memo(void)
{
	struct jsonw w;
	char buf[128], want[128];
	struct jw_ip_memo m;
	memset(&m, 0, sizeof m);
	uint8_t a[16] = {0};
	for (int i = 0; i < 100000; i++) {
		switch (next() % 4) {
		case 0: /* another IPv4 address */
			memset(a, 0, 10);
			a[10] = a[11] = 0xff;
			for (int k = 12; k < 16; k++)
				a[k] = (uint8_t)next();
			break;
		case 1: /* another IPv6 address, some with runs of zeros */
			for (int k = 0; k < 16; k++)
				a[k] = next() % 3 ? 0 : (uint8_t)next();
			break;
		default: /* the same again */
			break;
		}
		size_t cap = next() % 5 == 0 ? (size_t)(next() % 60) : sizeof buf;
		bool arr = next() % 2;
		jw_init(&w, buf, cap);
		if (arr) {
			jw_arr_open(&w);
			jw_u64(&w, 7);
		}
		jw_ip(&w, a);
		bool over = w.overflow;
		size_t len = w.len;
		snprintf(want, sizeof want, "%s", over ? "" : buf);
		jw_init(&w, buf, cap);
		if (arr) {
			jw_arr_open(&w);
			jw_u64(&w, 7);
		}
		jw_ip_memo(&w, a, &m);
		CHECK(w.overflow == over);
		if (!over) {
			CHECK_EQ(w.len, len);
			CHECK_STR(buf, want);
		}
	}
}

static void test_strings(void)
{
	static const unsigned char pieces[][5] = {
		{'a'}, {'"'}, {'\\'}, {'\n'}, {'\r'}, {'\t'}, {0x01}, {0x1f}, {0x7f}, {0x80},
		{0xff}, {0xc3, 0xa9}, {0xe2, 0x82, 0xac}, {0xf0, 0x9f, 0x98, 0x80}, {0xed, 0xa0, 0x80},
		{0xc3}, {0xe2, 0x82}, {' '}, {'/'},
	};
	struct jsonw w;
	char in[256], roomy[2048], tight[2048];
	for (int i = 0; i < 50000; i++) {
		size_t n = 0, want = (size_t)(next() % 60);
		while (n < want) {
			/* odd rounds mostly plain text: the eight- and sixteen-bytes-at-a-time
			 * paths; one round in four nearly all plain: one odd byte anywhere */
			const unsigned char *p = (i & 1) && next() % (i % 4 == 3 ? 40 : 8)
				? pieces[0] : pieces[next() % (sizeof pieces / sizeof pieces[0])];
			size_t k = strnlen((const char *)p, 5);
			memcpy(in + n, p, k ? k : 1); /* {0x..} single bytes; strnlen of "\0" is 0 */
			n += k ? k : 1;
		}
		jw_init(&w, roomy, sizeof roomy);
		jw_str(&w, in, n);
		CHECK(!w.overflow);
		size_t len = w.len;
		/* Just room for the text and its NUL: the general, byte-by-byte path. */
		jw_init(&w, tight, len + 1);
		jw_str(&w, in, n);
		CHECK(!w.overflow);
		CHECK_STR(tight, roomy);
		jw_init(&w, tight, len); /* one short: overflow, never past the buffer */
		jw_str(&w, in, n);
		CHECK(w.overflow);
	}
}

int main(void)
{
	RUN(test_integers);
	RUN(test_fixed);
	RUN(test_time);
	RUN(test_time_memo);
	RUN(test_ip);
	RUN(test_ip_memo);
	RUN(test_strings);
	return unit_done("test_jsonw");
}
