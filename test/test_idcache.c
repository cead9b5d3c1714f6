/*
 * test_idcache.c - the Authorization cache (sensor/idcache.c) behind
 * exchange_request_header: a cached identity is byte-for-byte the one
 * identity_offer_header gives, a token is verified once until the cache is
 * cleared, precedence is unchanged, and only exact bytes hit.
 */
#include "unit.h"

#include <stdlib.h>

#include "../sensor/exchange.h"
#include "../sensor/idcache.h"
#include "../sensor/sensor.h"

#define JWT_HDR "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
/* {"sub":"alice","exp":2000000000,"scope":"read write","roles":["admin","ops"]} */
#define JWT_ALICE JWT_HDR ".eyJzdWIiOiJhbGljZSIsImV4cCI6MjAwMDAwMDAwMCwic2NvcGUiOiJyZWFkIHdyaXRlIiwicm9sZXMiOlsiYWRtaW4iLCJvcHMiXX0.c2ln"
/* {"iss":"me","exp":2000000000}: no sub, so kind bearer with claims */
#define JWT_NOSUB JWT_HDR ".eyJpc3MiOiJtZSIsImV4cCI6MjAwMDAwMDAwMH0.c2ln"

static int verify_calls;

static int count_verify(void *ctx, const char *alg, const char *kid, const uint8_t *in, size_t n,
			const uint8_t *sig, size_t siglen)
{
	(void)ctx, (void)alg, (void)kid, (void)in, (void)n, (void)sig, (void)siglen;
	verify_calls++;
	return 1;
}

static const char *const values[] = {
	"Bearer " JWT_ALICE,
	"Bearer " JWT_NOSUB,
	"bearer   " JWT_ALICE "  ",
	"Bearer opaque-token-0123456789",
	"Basic Ym9iOnNlY3JldA==",
	"Basic bm9jb2xvbg==", /* no ':' : no identity */
	"Digest username=\"x\"",
	"Bearer",
	"",
};

/* The identity as exchange_request_header leaves it, with or without a cache. */
static void offer(struct api_event *ev, struct idcache *c, const char *name, const char *value)
{
	struct exchange_config xc = {.verify = count_verify, .idcache = c};
	exchange_request_header(ev, &xc, name, strlen(name), value, strlen(value));
}

/* Every value, from an empty identity and from one holding an API key, miss then hit. */
static void test_same_identity(void)
{
	struct idcache *c = idcache_new();
	CHECK(c != NULL);
	for (int start = 0; start < 2; start++) {
		for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
			for (int round = 0; round < 2; round++) {
				static struct api_event plain, cached;
				memset(&plain, 0, sizeof plain);
				memset(&cached, 0, sizeof cached);
				if (start) {
					offer(&plain, NULL, "X-API-Key", "k-123");
					offer(&cached, c, "X-API-Key", "k-123");
				}
				offer(&plain, NULL, "Authorization", values[i]);
				offer(&cached, c, "authorization", values[i]);
				CHECK(memcmp(&plain.identity, &cached.identity,
					     sizeof plain.identity) == 0);
			}
		}
	}
	idcache_free(c);
}

static void test_verified_once(void)
{
	struct idcache *c = idcache_new();
	static struct api_event ev;
	verify_calls = 0;
	for (int i = 0; i < 5; i++) {
		memset(&ev, 0, sizeof ev);
		offer(&ev, c, "Authorization", "Bearer " JWT_ALICE);
		CHECK_STR(ev.identity.id, "alice");
		CHECK(ev.identity.flags & ID_FLAG_VERIFIED);
	}
	CHECK_EQ(verify_calls, 1);
	idcache_clear(c); /* new keys: decoded and verified again */
	memset(&ev, 0, sizeof ev);
	offer(&ev, c, "Authorization", "Bearer " JWT_ALICE);
	CHECK_EQ(verify_calls, 2);
	CHECK_STR(ev.identity.id, "alice");
	idcache_free(c);
}

/* The first usable Authorization field wins, cached or not. */
static void test_first_wins(void)
{
	struct idcache *c = idcache_new();
	static struct api_event ev;
	memset(&ev, 0, sizeof ev);
	offer(&ev, c, "Authorization", "Basic Ym9iOnNlY3JldA==");
	offer(&ev, c, "Authorization", "Bearer " JWT_ALICE);
	CHECK_STR(ev.identity.id, "bob");
	memset(&ev, 0, sizeof ev);
	offer(&ev, c, "Authorization", "Basic bm9jb2xvbg=="); /* not usable: the next one counts */
	offer(&ev, c, "Authorization", "Bearer " JWT_ALICE);
	CHECK_STR(ev.identity.id, "alice");
	idcache_free(c);
}

/* Only the same bytes hit; a value too long to cache is decoded every time. */
static void test_exact_and_long(void)
{
	struct idcache *c = idcache_new();
	struct identity a;
	identity_init(&a);
	strcpy(a.id, "x");
	a.source = IDSRC_AUTHORIZATION;
	idcache_store(c, "Bearer aaaa", 11, &a);
	CHECK(idcache_find(c, "Bearer aaaa", 11) != NULL);
	CHECK(idcache_find(c, "Bearer aaab", 11) == NULL);
	CHECK(idcache_find(c, "Bearer aaa", 10) == NULL);
	CHECK_STR(idcache_find(c, "Bearer aaaa", 11)->id, "x");

	size_t n = IDCACHE_VALUE_MAX + 100;
	char *v = malloc(n + 1);
	memcpy(v, "Bearer " JWT_ALICE, strlen("Bearer " JWT_ALICE));
	memset(v + strlen("Bearer " JWT_ALICE), ' ', n - strlen("Bearer " JWT_ALICE)); /* OWS */
	v[n] = '\0';
	static struct api_event ev;
	verify_calls = 0;
	for (int i = 0; i < 2; i++) {
		memset(&ev, 0, sizeof ev);
		offer(&ev, c, "Authorization", v);
		CHECK_STR(ev.identity.id, "alice");
	}
	CHECK_EQ(verify_calls, 2);
	free(v);
	idcache_clear(c);
	CHECK(idcache_find(c, "Bearer aaaa", 11) == NULL);
	idcache_free(c);
}

/* A few hundred tokens in use at once all stay cached (no two evicting each other). */
static void test_working_set(void)
{
	struct idcache *c = idcache_new();
	struct identity r;
	char v[64];
	int hits = 0;
	identity_init(&r);
	for (int round = 0; round < 2; round++)
		for (int i = 0; i < 300; i++) {
			int n = snprintf(v, sizeof v, "Bearer token-%d", i);
			if (idcache_find(c, v, (size_t)n))
				hits++;
			else
				idcache_store(c, v, (size_t)n, &r);
		}
	if (hits < 290)
		fprintf(stderr, "hits %d\n", hits);
	CHECK(hits >= 290); /* only the second round can hit */
	idcache_free(c);
}

/* ---- through the sensor: new keys (SIGHUP's sensor_set_exchange) are used at once ---- */

static int bad_calls;

static int reject_verify(void *ctx, const char *alg, const char *kid, const uint8_t *in, size_t n,
			 const uint8_t *sig, size_t siglen)
{
	(void)ctx, (void)alg, (void)kid, (void)in, (void)n, (void)sig, (void)siglen;
	bad_calls++;
	return 0;
}

static uint16_t seen_flags[8];
static int n_seen;

static void keep_flags(void *ctx, const struct api_event *ev)
{
	(void)ctx;
	if (n_seen < 8)
		seen_flags[n_seen++] = ev->identity.flags;
}

/* One IPv4/TCP packet (LINKTYPE_IPV4; tapir does not check checksums). */
static void packet(struct sensor *s, int from_client, uint32_t seq, uint32_t ack, uint8_t flags,
		   const char *data, uint64_t ts)
{
	uint8_t f[2048] = {0};
	size_t len = strlen(data);
	uint8_t *tcp = f + 20;
	const uint8_t a[4] = {10, 0, 0, 1}, b[4] = {10, 0, 0, 2};
	f[0] = 0x45;
	f[2] = (uint8_t)((40 + len) >> 8);
	f[3] = (uint8_t)(40 + len);
	f[8] = 64;
	f[9] = 6;
	memcpy(f + 12, from_client ? a : b, 4);
	memcpy(f + 16, from_client ? b : a, 4);
	tcp[0] = from_client ? 0xc0 : 0; /* ports 49152 and 80 */
	tcp[1] = from_client ? 0 : 80;
	tcp[2] = from_client ? 0 : 0xc0;
	tcp[3] = from_client ? 80 : 0;
	for (int i = 0; i < 4; i++) {
		tcp[4 + i] = (uint8_t)(seq >> (24 - 8 * i));
		tcp[8 + i] = (uint8_t)(ack >> (24 - 8 * i));
	}
	tcp[12] = 5 << 4;
	tcp[13] = flags;
	tcp[14] = 0xff;
	tcp[15] = 0xff;
	memcpy(tcp + 20, data, len);
	sensor_packet(s, PKT_LINK_IPV4, ts, f, 40 + len);
}

static void test_reload_clears(void)
{
	static const char req[] = "GET /a HTTP/1.1\r\nHost: h\r\n"
				  "Authorization: Bearer " JWT_ALICE "\r\n\r\n";
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
	struct sensor_limits lim;
	sensor_limits_default(&lim);
	lim.session.exchange.verify = count_verify;
	struct sensor *s = sensor_new(&lim, keep_flags, NULL, 1);
	CHECK(s != NULL);
	if (!s)
		return;
	uint32_t c = 1000, v = 5000;
	uint64_t t = 1764374400000000ull;
	n_seen = 0;
	verify_calls = bad_calls = 0;
	packet(s, 1, c, 0, 0x02, "", t++);
	packet(s, 0, v, c + 1, 0x12, "", t++);
	c++, v++;
	for (int i = 0; i < 3; i++) {
		if (i == 2) {
			/* a reload: other keys, that reject this token */
			struct exchange_config xc = {.verify = reject_verify};
			sensor_set_exchange(s, &xc);
		}
		packet(s, 1, c, v, 0x18, req, t++);
		c += (uint32_t)strlen(req);
		packet(s, 0, v, c, 0x18, resp, t++);
		v += (uint32_t)strlen(resp);
	}
	packet(s, 1, c, v, 0x11, "", t++);
	packet(s, 0, v, c + 1, 0x11, "", t++);
	sensor_finish(s);
	CHECK_EQ(n_seen, 3);
	CHECK_EQ(verify_calls, 1);       /* the same token twice: verified once */
	CHECK_EQ(bad_calls, 1);          /* after the reload: checked again, with the new keys */
	CHECK(seen_flags[0] & ID_FLAG_VERIFIED);
	CHECK(seen_flags[1] & ID_FLAG_VERIFIED);
	CHECK(seen_flags[2] & ID_FLAG_BAD_SIGNATURE);
	CHECK(!(seen_flags[2] & ID_FLAG_VERIFIED));
	sensor_free(s);
}

int main(void)
{
	RUN(test_same_identity);
	RUN(test_verified_once);
	RUN(test_first_wins);
	RUN(test_exact_and_long);
	RUN(test_working_set);
	RUN(test_reload_clears);
	return unit_done("test_idcache");
}
