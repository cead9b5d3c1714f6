/*
 * test_event_json.c - event_json_memo writes exactly what event_json writes,
 * whatever came before: identities that differ from a memoized one in any
 * byte its JSON reads (a claim, a flag, a role, the id) with the same slot
 * hash, a run of the same identity, kinds without claims, times repeating
 * and jumping. The memo is only a faster path: a difference is a bug.
 */
#include "unit.h"

#include <stddef.h>
#include <stdlib.h>

#include "../sensor/event_json.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next(void)
{
	rng ^= rng << 13; /* xorshift64 */
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static const char *const names[] = {"alice", "bob", "carol", "sha256:ba7816bf8f01cfea",
				    "svc-\"quoted\"", "caf\xc3\xa9", "x"};
static const char *const scopes[] = {"read:users", "read:users write:orders", "", "a\\b"};

/* A random identity from a small pool, so that the same ones come back often. */
static void some_identity(struct identity *id)
{
	identity_init(id);
	id->kind = (enum ev_identity_kind)(next() % 6);
	if (id->kind == ID_NONE)
		return;
	snprintf(id->id, sizeof id->id, "%s", names[next() % 7]);
	id->flags = (uint16_t)(next() % 4 == 0 ? next() % 512 : 0);
	if (id->kind == ID_JWT || (id->kind == ID_BEARER && next() % 2)) {
		struct jwt_claims *c = &id->claims;
		id->has_claims = true;
		c->present = (uint16_t)(next() % 1024);
		snprintf(c->iss, sizeof c->iss, "https://idp%u.example", (unsigned)(next() % 2));
		snprintf(c->aud, sizeof c->aud, "api");
		snprintf(c->scope, sizeof c->scope, "%s", scopes[next() % 4]);
		memcpy(c->roles, "admin\0ops\0", 10);
		c->n_roles = (uint8_t)(next() % 3);
		c->iat = 1795824000 + (int64_t)(next() % 2);
		c->exp = c->iat + 3600;
		c->nbf = -(int64_t)(next() % 2);
		snprintf(c->jti, sizeof c->jti, "j-%u", (unsigned)(next() % 3));
		snprintf(c->alg, sizeof c->alg, "%s", next() % 2 ? "RS256" : "none");
		snprintf(c->kid, sizeof c->kid, "k1");
	}
}

static void some_event(struct api_event *ev, uint64_t *ts)
{
	memset(ev, 0, sizeof *ev);
	*ts += next() % 4 == 0 ? next() % 3000000 : next() % 1000;
	ev->ts_us = *ts;
	ev->proto = (enum ev_proto)(next() % 3);
	memcpy(ev->client_ip, (uint8_t[16]){0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 18, 0,
					   (uint8_t)next()},
	       16);
	memcpy(ev->server_ip, (uint8_t[16]){0x20, 0x01, 0x0d, 0xb8, [15] = 1}, 16);
	ev->client_port = (uint16_t)next();
	ev->server_port = 443;
	snprintf(ev->method, sizeof ev->method, "GET");
	snprintf(ev->path, sizeof ev->path, "/v1/users/%u", (unsigned)(next() % 100));
	ev->status = next() % 2 ? 200 : 0;
	some_identity(&ev->identity);
}

static void test_same_bytes(void)
{
	static char want[EVENT_JSON_MAX], got[EVENT_JSON_MAX];
	static struct event_json_memo memo; /* zeroed: empty */
	static struct api_event ev;
	uint64_t ts = 1795824000ull * 1000000;
	for (int i = 0; i < 100000; i++) {
		some_event(&ev, &ts);
		size_t a = event_json(&ev, "/v1/users/{id}", want, sizeof want);
		size_t b = event_json_memo(&ev, "/v1/users/{id}", got, sizeof got, &memo);
		CHECK(a > 0);
		CHECK_EQ(a, b);
		CHECK(memcmp(want, got, a) == 0);
		/* The same identity with one byte its JSON reads changed, right after. */
		ev.identity.claims.iss[0] ^= (char)(next() % 2);
		ev.identity.claims.roles[4] ^= (char)(next() % 2); /* inside "admin" */
		a = event_json(&ev, NULL, want, sizeof want);
		b = event_json_memo(&ev, NULL, got, sizeof got, &memo);
		CHECK_EQ(a, b);
		CHECK(memcmp(want, got, a) == 0);
	}
}

/*
 * One byte anywhere in the identity changed after its text was memoized: a
 * byte the JSON reads (an id, a claim, a flag, a count, a terminator) must
 * give the new text; one it does not read (after a terminator, a claim not
 * present, padding) may reuse the old text, which is then still right. Bytes
 * are changed so that strings stay terminated within the struct.
 */
static void test_any_byte(void)
{
	static char want[EVENT_JSON_MAX], got[EVENT_JSON_MAX];
	static struct event_json_memo memo;
	static struct api_event ev;
	uint64_t ts = 1795824000ull * 1000000;
	const size_t kind_at = offsetof(struct identity, kind);
	for (int i = 0; i < 200000; i++) {
		some_event(&ev, &ts);
		size_t n = event_json_memo(&ev, NULL, got, sizeof got, &memo);
		CHECK(n > 0);
		unsigned char *b = (unsigned char *)&ev.identity;
		size_t at = (size_t)(next() % sizeof ev.identity);
		if (at >= kind_at && at < kind_at + sizeof ev.identity.kind)
			continue; /* kinds stay valid */
		if (at == offsetof(struct identity, has_claims))
			ev.identity.has_claims = !ev.identity.has_claims; /* a bool stays 0 or 1 */
		else if (b[at] && next() % 4 == 0)
			b[at] = 0; /* cut a string short */
		else if (b[at])
			b[at] = (unsigned char)(b[at] ^ 1) ? (unsigned char)(b[at] ^ 1) : 2;
		else if (at > 0 && !b[at - 1])
			b[at] = (unsigned char)(1 + next() % 0x7f); /* after a terminator */
		size_t a = event_json(&ev, NULL, want, sizeof want);
		size_t c = event_json_memo(&ev, NULL, got, sizeof got, &memo);
		CHECK_EQ(a, c);
		CHECK(memcmp(want, got, a) == 0);
	}
}

/* A memoized identity is not written from the memo into a buffer too small for it. */
static void test_overflow(void)
{
	static char want[EVENT_JSON_MAX], got[EVENT_JSON_MAX];
	static struct event_json_memo memo;
	static struct api_event ev;
	uint64_t ts = 1795824000ull * 1000000;
	some_event(&ev, &ts);
	while (ev.identity.kind != ID_JWT)
		some_identity(&ev.identity);
	size_t n = event_json_memo(&ev, NULL, got, sizeof got, &memo); /* memoized now */
	CHECK(n > 0);
	for (size_t cap = n - 40; cap <= n + 1; cap++) {
		size_t a = event_json(&ev, NULL, want, cap);
		size_t b = event_json_memo(&ev, NULL, got, cap, &memo);
		CHECK_EQ(a, b);
		CHECK_EQ(a, cap > n ? n : 0);
	}
}

int main(void)
{
	RUN(test_same_bytes);
	RUN(test_any_byte);
	RUN(test_overflow);
	return unit_done("test_event_json");
}
