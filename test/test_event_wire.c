/*
 * test_event_wire.c - api_event across threads: every byte a reader may look
 * at comes back, with and without JWT claims, at every text length (empty,
 * short, full without a NUL), over whatever the previous event left in the
 * reader's struct; the claims are zeroed when absent; the record is much
 * smaller than the struct when the texts are short; malformed records are
 * refused.
 */
#include <stdlib.h>

#include "../sensor/event_wire.h"
#include "unit.h"

static uint64_t rnd = 88172645463325252ULL;

static uint8_t next(void)
{
	rnd ^= rnd << 13;
	rnd ^= rnd >> 7;
	rnd ^= rnd << 17;
	return (uint8_t)rnd;
}

/* A text field: `len` non-NUL bytes, then NULs to its end (len == size: no NUL). */
static void text(char *f, size_t size, size_t len)
{
	for (size_t i = 0; i < size; i++)
		f[i] = i < len ? (char)(next() | 1) : '\0';
}

/* A name list of `n` names of 1..9 bytes each, then NULs. */
static void names(char *f, size_t size, uint8_t *count, unsigned n)
{
	memset(f, 0, size);
	size_t at = 0;
	*count = 0;
	for (unsigned i = 0; i < n && at + 10 < size; i++) {
		size_t len = 1 + next() % 9;
		text(f + at, len + 1, len);
		at += len + 1;
		(*count)++;
	}
}

/* Bytes of a name list up to its last name's NUL. */
static size_t list_len(const char *f, unsigned n)
{
	size_t at = 0;
	for (unsigned i = 0; i < n; i++)
		at += strlen(f + at) + 1;
	return at;
}

/* Every byte random, then the text fields and lists made what their readers expect. */
static void fill(struct api_event *ev, bool claims, size_t len)
{
	uint8_t *b = (uint8_t *)ev;
	for (size_t i = 0; i < sizeof *ev; i++)
		b[i] = next();
#define T(f) text(f, sizeof(f), len < sizeof(f) ? len : sizeof(f))
	T(ev->method);
	T(ev->host);
	T(ev->path);
	T(ev->user_agent);
	T(ev->content_type);
	T(ev->identity.id);
	T(ev->grpc_message);
	names(ev->query_keys, sizeof ev->query_keys, &ev->n_query_keys, (unsigned)len % 40);
	ev->identity.has_claims = claims;
	struct jwt_claims *c = &ev->identity.claims;
	if (!claims) {
		memset(c, 0, sizeof *c);
		return;
	}
	T(c->iss);
	T(c->aud);
	T(c->scope);
	T(c->jti);
	T(c->alg);
	T(c->kid);
	names(c->roles, sizeof c->roles, &c->n_roles, (unsigned)len % 7);
#undef T
}

static void test_round_trip(void)
{
	static struct api_event ev, back;
	static uint8_t buf[EVENT_WIRE_MAX];
	/* Every short length: the decoder copies runs of up to 32 bytes its own way. */
	size_t lens[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 40, 100, 159,
			 160, 255, 256, EV_PATH_MAX - 1, EV_PATH_MAX};
	const size_t nl = sizeof lens / sizeof lens[0];
	for (int claims = 0; claims < 2; claims++)
		for (size_t i = 0; i < nl; i++) {
			fill(&ev, claims, lens[i]);
			size_t n = event_wire_put(&ev, buf);
			CHECK(n <= sizeof buf);
			/* Into zeroes: the very struct (the texts end in NULs here). */
			memset(&back, 0, sizeof back);
			CHECK_EQ(event_wire_get(&back, buf, n), 0);
			CHECK(memcmp(&ev, &back, sizeof ev) == 0);
			/* Over an earlier event: the same as far as any reader looks. */
			fill(&back, !claims, lens[(i + 3) % nl]);
			CHECK_EQ(event_wire_get(&back, buf, n), 0);
			CHECK_STR(back.host, ev.host);
			CHECK(strncmp(back.path, ev.path, EV_PATH_MAX) == 0);
			CHECK_EQ(back.n_query_keys, ev.n_query_keys);
			CHECK(memcmp(back.query_keys, ev.query_keys,
				     list_len(ev.query_keys, ev.n_query_keys)) == 0);
			/* The earlier event had claims exactly when this one has none. */
			CHECK(memcmp(&back.identity.claims, &ev.identity.claims,
				     sizeof ev.identity.claims) == 0);
			CHECK_EQ(back.status, ev.status);
			CHECK(strncmp(back.grpc_message, ev.grpc_message, EV_GRPC_MSG_MAX) == 0);
			/* Cut anywhere, or one byte long: refused, never read past the record. */
			CHECK(event_wire_get(&back, buf, n - 1) != 0);
			CHECK(event_wire_get(&back, buf, n / 2) != 0);
			buf[n] = 0;
			CHECK(event_wire_get(&back, buf, n + 1) != 0);
		}
}

static void test_short_texts_make_small_records(void)
{
	static struct api_event ev;
	static uint8_t buf[EVENT_WIRE_MAX];
	fill(&ev, false, 12);
	CHECK(event_wire_put(&ev, buf) < 1024);
	fill(&ev, true, 12);
	CHECK(event_wire_put(&ev, buf) < 1200);
}

static void test_no_claims_are_zeroed(void)
{
	static struct api_event ev, back;
	static uint8_t buf[EVENT_WIRE_MAX];
	fill(&ev, false, 5);
	size_t n = event_wire_put(&ev, buf);
	memset(&back, 0xAA, sizeof back);
	CHECK_EQ(event_wire_get(&back, buf, n), 0);
	CHECK_EQ(back.identity.claims.iss[0], 0);
	CHECK_EQ(back.identity.claims.exp, 0);
	CHECK_EQ(back.identity.claims.present, 0);
}

/* A length past its field: refused, not copied over the next member. */
static void test_bad_length(void)
{
	static struct api_event ev, back;
	static uint8_t buf[EVENT_WIRE_MAX];
	fill(&ev, false, 3);
	size_t n = event_wire_put(&ev, buf);
	size_t at = offsetof(struct api_event, method); /* method's length comes first */
	uint16_t big = EV_METHOD_MAX + 1;
	memcpy(buf + at, &big, sizeof big);
	CHECK(event_wire_get(&back, buf, n) != 0);
}

int main(void)
{
	RUN(test_round_trip);
	RUN(test_short_texts_make_small_records);
	RUN(test_no_claims_are_zeroed);
	RUN(test_bad_length);
	return unit_done("test_event_wire");
}
