/*
 * test_identity.c - credentials -> identity against ../shared/INTERFACE.md
 * "Identity": fingerprints bit for bit (expected values computed with
 * `printf %s VALUE | sha256sum`), precedence, names, cookies, Basic, every
 * JWT claim shape, time flags, the verify callback, caps on hostile sizes,
 * the JSON shape, and that no secret is ever held.
 */
#include "unit.h"

#include <stdlib.h>

#include "../decoders/identity.h"
#include "../sensor/identity_json.h"

#define SEC 1000000ull
#define DAY (86400 * SEC)

/* ---- helpers ---- */

static void b64url(const char *in, size_t n, char *out)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t i, o = 0;

	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)(uint8_t)in[i] << 16 | (uint32_t)(uint8_t)in[i + 1] << 8 |
			     (uint8_t)in[i + 2];
		out[o++] = a[v >> 18];
		out[o++] = a[(v >> 12) & 63];
		out[o++] = a[(v >> 6) & 63];
		out[o++] = a[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)(uint8_t)in[i] << 16;
		out[o++] = a[v >> 18];
		out[o++] = a[(v >> 12) & 63];
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)(uint8_t)in[i] << 16 | (uint32_t)(uint8_t)in[i + 1] << 8;
		out[o++] = a[v >> 18];
		out[o++] = a[(v >> 12) & 63];
		out[o++] = a[(v >> 6) & 63];
	}
	out[o] = '\0';
}

/* "Bearer " + b64url(header) "." b64url(payload) "." sig_text into buf. */
static const char *bearer_jwt(char *buf, size_t cap, const char *header, const char *payload,
			      const char *sig_text)
{
	char h[2048], p[4096];

	b64url(header, strlen(header), h);
	b64url(payload, strlen(payload), p);
	snprintf(buf, cap, "Bearer %s.%s.%s", h, p, sig_text);
	return buf;
}

static void offer(struct identity *id, const char *name, const char *value)
{
	identity_offer_header(id, NULL, name, strlen(name), value, strlen(value), NULL, NULL);
}

/* One identity from a list of "Name", "value" pairs, finished at now. */
static void from_headers(struct identity *id, const char *const *hv, size_t n, uint64_t now)
{
	size_t i;

	identity_init(id);
	for (i = 0; i + 1 < n; i += 2)
		offer(id, hv[i], hv[i + 1]);
	identity_finish(id, now, 90 * DAY);
}

static const char *to_json(const struct identity *id, char *buf, size_t cap)
{
	struct jsonw w;

	jw_init(&w, buf, cap);
	identity_json(&w, id);
	return w.overflow ? "(overflow)" : buf;
}

/* The struct's bytes hold no copy of `secret`. */
static int holds(const struct identity *id, const char *secret)
{
	return memmem(id, sizeof *id, secret, strlen(secret)) != NULL;
}

/* ---- fingerprints ---- */

static void test_fingerprint_function(void)
{
	char fp[IDENTITY_FP_SIZE];

	identity_fingerprint("abc", 3, fp);
	CHECK_STR(fp, "sha256:ba7816bf8f01cfea");
	identity_fingerprint("", 0, fp);
	CHECK_STR(fp, "sha256:e3b0c44298fc1c14");
}

static void test_fingerprints_bit_for_bit(void)
{
	struct identity id;
	char json[512];

	/* RFC 6750's example token: three dot-separated parts, but not a JWT. */
	identity_init(&id);
	offer(&id, "Authorization", "Bearer mF_9.B5f-4.1JqM");
	CHECK_EQ(id.kind, ID_BEARER);
	CHECK_STR(id.id, "sha256:b8e148545b13c78b");
	CHECK(!id.has_claims);

	identity_init(&id);
	offer(&id, "X-API-Key", "k-12345-SECRET");
	CHECK_EQ(id.kind, ID_API_KEY);
	CHECK_STR(id.id, "sha256:8e509bf5f390f75b");
	CHECK_STR(to_json(&id, json, sizeof json), "{\"kind\":\"api_key\",\"id\":\"sha256:8e509bf5f390f75b\"}");

	identity_init(&id);
	offer(&id, "Cookie", "session=s3cr3t-session");
	CHECK_EQ(id.kind, ID_COOKIE);
	CHECK_STR(id.id, "sha256:65556a0d535be5fd");

	/* A cookie value is fingerprinted as sent (no percent-decoding). */
	identity_init(&id);
	offer(&id, "Cookie", "connect.sid=s%3Aabc.def");
	CHECK_EQ(id.kind, ID_COOKIE);
	CHECK_STR(id.id, "sha256:b55bfccadad2d5e3");

	/* A JWT without "sub": the whole token's fingerprint. */
	identity_init(&id);
	offer(&id, "Authorization",
	      "Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
	      "eyJpc3MiOiJodHRwczovL2lkcC5leGFtcGxlIiwiZXhwIjoxNzY0MzIwMDAwfQ.c2lnbmF0dXJl");
	CHECK_EQ(id.kind, ID_BEARER);
	CHECK_STR(id.id, "sha256:b40f7a09ae158b92");
	CHECK(id.has_claims);
	CHECK_STR(id.claims.iss, "https://idp.example");
	CHECK_EQ(id.claims.exp, 1764320000);
}

/* ---- precedence and names ---- */

static void test_none(void)
{
	struct identity id;
	char json[128];
	static const char *const hv[] = {"Host", "api", "Cookie", "theme=dark; lang=en",
					 "X-Other", "v"};

	from_headers(&id, hv, 6, 0);
	CHECK_EQ(id.kind, ID_NONE);
	CHECK_STR(id.id, "");
	CHECK_EQ(id.flags, 0);
	CHECK_STR(to_json(&id, json, sizeof json), "{\"kind\":\"none\",\"id\":null}");
}

static void test_precedence(void)
{
	struct identity id;
	static const char *const any_order[][8] = {
		{"Cookie", "sid=c1", "X-API-Key", "k1", "Authorization", "Basic YWxpY2U6cHc=", "", ""},
		{"Authorization", "Basic YWxpY2U6cHc=", "X-API-Key", "k1", "Cookie", "sid=c1", "", ""},
		{"X-API-Key", "k1", "Authorization", "Basic YWxpY2U6cHc=", "Cookie", "sid=c1", "", ""},
	};
	size_t i;

	for (i = 0; i < 3; i++) {
		from_headers(&id, any_order[i], 6, 0);
		CHECK_EQ(id.kind, ID_BASIC);
		CHECK_STR(id.id, "alice");
	}
	/* API key beats cookie whatever the order. */
	static const char *const kc[] = {"Cookie", "sid=c1", "X-API-Key", "abc"};
	static const char *const ck[] = {"X-API-Key", "abc", "Cookie", "sid=c1"};
	from_headers(&id, kc, 4, 0);
	CHECK_EQ(id.kind, ID_API_KEY);
	CHECK_STR(id.id, "sha256:ba7816bf8f01cfea");
	from_headers(&id, ck, 4, 0);
	CHECK_EQ(id.kind, ID_API_KEY);
	CHECK_STR(id.id, "sha256:ba7816bf8f01cfea");

	/* The first Authorization wins. */
	static const char *const two_auth[] = {"Authorization", "Basic Ym9iOng=", "Authorization",
					       "Basic YWxpY2U6cHc="};
	from_headers(&id, two_auth, 4, 0);
	CHECK_STR(id.id, "bob");
	/* ... the first usable one: a malformed one does not block the next. */
	static const char *const bad_then_good[] = {"Authorization", "Basic !!!", "Authorization",
						    "Basic YWxpY2U6cHc="};
	from_headers(&id, bad_then_good, 4, 0);
	CHECK_EQ(id.kind, ID_BASIC);
	CHECK_STR(id.id, "alice");

	/* Among API-key headers the one listed first in the names wins (X-API-Key). */
	static const char *const two_keys[] = {"Api-Key", "zzz", "X-API-Key", "abc", "Api-Key", "yyy"};
	from_headers(&id, two_keys, 6, 0);
	CHECK_STR(id.id, "sha256:ba7816bf8f01cfea");
	/* Same name twice: the first. */
	static const char *const same_key[] = {"X-API-Key", "abc", "X-API-Key", "zzz"};
	from_headers(&id, same_key, 4, 0);
	CHECK_STR(id.id, "sha256:ba7816bf8f01cfea");

	/* An unknown scheme is no identity; the API key below it counts. */
	static const char *const digest[] = {"Authorization", "Digest username=\"alice\", nonce=\"x\"",
					     "X-API-Key", "abc"};
	from_headers(&id, digest, 4, 0);
	CHECK_EQ(id.kind, ID_API_KEY);
}

static void test_case_insensitive(void)
{
	struct identity id;
	static const char *const a[] = {"AUTHORIZATION", "bASIC YWxpY2U6cHc="};
	static const char *const b[] = {"authorization", "BEARER abc"};
	static const char *const c[] = {"x-api-key", "abc"};
	static const char *const d[] = {"API-KEY", "abc"};
	static const char *const e[] = {"COOKIE", "SESSION=abc"};
	static const char *const f[] = {"cookie", "jsessionid=abc"};

	from_headers(&id, a, 2, 0);
	CHECK_EQ(id.kind, ID_BASIC);
	CHECK_STR(id.id, "alice");
	from_headers(&id, b, 2, 0);
	CHECK_EQ(id.kind, ID_BEARER);
	CHECK_STR(id.id, "sha256:ba7816bf8f01cfea");
	from_headers(&id, c, 2, 0);
	CHECK_EQ(id.kind, ID_API_KEY);
	from_headers(&id, d, 2, 0);
	CHECK_EQ(id.kind, ID_API_KEY);
	from_headers(&id, e, 2, 0);
	CHECK_EQ(id.kind, ID_COOKIE);
	CHECK_STR(id.id, "sha256:ba7816bf8f01cfea");
	from_headers(&id, f, 2, 0);
	CHECK_EQ(id.kind, ID_COOKIE);
	/* Near misses are not names. */
	static const char *const g[] = {"X-API-Keys", "abc", "Authorizatio", "Basic YWxpY2U6cHc=",
					"Cookie2", "session=abc"};
	from_headers(&id, g, 6, 0);
	CHECK_EQ(id.kind, ID_NONE);
}

static void test_configured_names(void)
{
	struct identity_names names;
	struct identity id;

	memset(&names, 0, sizeof names);
	snprintf(names.api_key_headers[0], IDENTITY_NAME_MAX, "X-Tenant-Token");
	names.n_api_key_headers = 1;
	snprintf(names.session_cookies[0], IDENTITY_NAME_MAX, "__Host-auth");
	names.n_session_cookies = 1;

	identity_init(&id);
	identity_offer_header(&id, &names, "X-API-Key", 9, "abc", 3, NULL, NULL);
	CHECK_EQ(id.kind, ID_NONE); /* no longer a key header */
	identity_offer_header(&id, &names, "Cookie", 6, "session=abc", 11, NULL, NULL);
	CHECK_EQ(id.kind, ID_NONE);
	identity_offer_header(&id, &names, "Cookie", 6, "__host-AUTH=abc", 15, NULL, NULL);
	CHECK_EQ(id.kind, ID_COOKIE);
	identity_offer_header(&id, &names, "x-tenant-token", 14, "abc", 3, NULL, NULL);
	CHECK_EQ(id.kind, ID_API_KEY);
	CHECK_STR(id.id, "sha256:ba7816bf8f01cfea");

	identity_names_default(&names);
	CHECK_EQ(names.n_api_key_headers, 2);
	CHECK_STR(names.api_key_headers[0], "X-API-Key");
	CHECK_STR(names.api_key_headers[1], "Api-Key");
	CHECK_EQ(names.n_session_cookies, 6);
	CHECK_STR(names.session_cookies[0], "session");
	CHECK_STR(names.session_cookies[5], "connect.sid");

	/* No names at all: only Authorization counts. */
	memset(&names, 0, sizeof names);
	identity_init(&id);
	identity_offer_header(&id, &names, "X-API-Key", 9, "abc", 3, NULL, NULL);
	identity_offer_header(&id, &names, "Cookie", 6, "session=abc", 11, NULL, NULL);
	CHECK_EQ(id.kind, ID_NONE);
}

/* ---- cookies ---- */

static void test_cookies(void)
{
	static const struct {
		const char *value;
		enum ev_identity_kind kind;
		const char *id;
	} cases[] = {
		{"session=abc", ID_COOKIE, "sha256:ba7816bf8f01cfea"},
		{"theme=dark; session=abc; lang=en", ID_COOKIE, "sha256:ba7816bf8f01cfea"},
		{"  theme=dark ;   session = abc  ;lang=en ", ID_COOKIE, "sha256:ba7816bf8f01cfea"},
		{"session=\"abc\"", ID_COOKIE, "sha256:ba7816bf8f01cfea"},
		{"\tsession=\"abc\"\t", ID_COOKIE, "sha256:ba7816bf8f01cfea"},
		{"session=\"abc def\"", ID_COOKIE, "sha256:010971ea0013a09d"},
		{"session=abc;", ID_COOKIE, "sha256:ba7816bf8f01cfea"},
		/* the name listed first wins, wherever it is in the field */
		{"sid=zzz; PHPSESSID=yyy; session=abc", ID_COOKIE, "sha256:ba7816bf8f01cfea"},
		/* same name twice: the first */
		{"session=abc; session=zzz", ID_COOKIE, "sha256:ba7816bf8f01cfea"},
		/* '=' inside a value stays in it */
		{"sid=a=b", ID_COOKIE, NULL},
		/* not sessions */
		{"session=", ID_NONE, ""},
		{"session=\"\"", ID_NONE, ""},
		{"session", ID_NONE, ""},
		{"sessions=abc; xsid=abc; sid_=abc", ID_NONE, ""},
		{";;; ; =abc", ID_NONE, ""},
		{"", ID_NONE, ""},
	};
	struct identity id;
	char fp[IDENTITY_FP_SIZE];
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		identity_init(&id);
		offer(&id, "Cookie", cases[i].value);
		CHECK_EQ(id.kind, cases[i].kind);
		if (cases[i].id)
			CHECK_STR(id.id, cases[i].id);
		if (id.kind != cases[i].kind)
			fprintf(stderr, "  cookie case %zu: \"%s\"\n", i, cases[i].value);
	}
	identity_init(&id);
	offer(&id, "Cookie", "sid=a=b");
	identity_fingerprint("a=b", 3, fp);
	CHECK_STR(id.id, fp);

	/* HTTP/2 splits cookies into fields (RFC 9113 8.2.3): the best across them wins. */
	identity_init(&id);
	offer(&id, "cookie", "sid=zzz");
	offer(&id, "cookie", "theme=dark");
	offer(&id, "cookie", "session=abc");
	offer(&id, "cookie", "sessionid=yyy");
	CHECK_STR(id.id, "sha256:ba7816bf8f01cfea");

	/* HTTP/2 pseudo-headers are never credentials. */
	identity_init(&id);
	offer(&id, ":authority", "Basic YWxpY2U6cHc=");
	offer(&id, ":path", "/x");
	CHECK_EQ(id.kind, ID_NONE);
}

/* ---- Basic ---- */

static void test_basic(void)
{
	static const struct {
		const char *value;
		enum ev_identity_kind kind;
		const char *id;
	} cases[] = {
		{"Basic YWxpY2U6c2VjcmV0", ID_BASIC, "alice"},     /* alice:secret */
		{"Basic YWxpY2U6", ID_BASIC, "alice"},             /* alice: (no password) */
		{"Basic YWxpY2U6cGE6c3M=", ID_BASIC, "alice"},     /* alice:pa:ss */
		{"Basic YWxpY2U6cGE6c3M", ID_BASIC, "alice"},      /* unpadded */
		{"Basic   YWxpY2U6c2VjcmV0  ", ID_BASIC, "alice"}, /* extra spaces */
		{"basic w6lsw6hvbm9yZTpwdw==", ID_BASIC, "\xc3\xa9l\xc3\xa8onore"}, /* éléonore:pw */
		{"Basic YWxpY2U=", ID_NONE, ""},                   /* alice: no colon */
		{"Basic OnB3", ID_NONE, ""},                       /* :pw, empty user */
		{"Basic !!!!", ID_NONE, ""},
		{"Basic YWxpY2U6c2VjcmV0=====", ID_NONE, ""},
		{"Basic Y", ID_NONE, ""},
		{"Basic", ID_NONE, ""},
		{"Basic ", ID_NONE, ""},
		{"Basic YW xpY2U6", ID_NONE, ""},
		/* "\0bob:pw": a NUL would cut the user to "": the credential's fingerprint
		 * instead (printf %s AGJvYjpwdw== | sha256sum). Found by fuzz_identity. */
		{"Basic AGJvYjpwdw==", ID_BASIC, "sha256:d4e2634589309bf6"},
	};
	struct identity id;
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		identity_init(&id);
		offer(&id, "Authorization", cases[i].value);
		CHECK_EQ(id.kind, cases[i].kind);
		CHECK_STR(id.id, cases[i].id);
		CHECK(!holds(&id, "secret"));
		CHECK(!holds(&id, "pa:ss"));
		if (id.kind != cases[i].kind)
			fprintf(stderr, "  basic case %zu: \"%s\"\n", i, cases[i].value);
	}
}

static void test_basic_long_user(void)
{
	char user[400], plain[420], b64[600], hdr[620];
	struct identity id;

	memset(user, 'u', 300);
	user[300] = '\0';
	snprintf(plain, sizeof plain, "%s:pw", user);
	b64url(plain, strlen(plain), b64); /* no '-' or '_' in this text: also plain base64 */
	snprintf(hdr, sizeof hdr, "Basic %s", b64);
	identity_init(&id);
	offer(&id, "Authorization", hdr);
	CHECK_EQ(id.kind, ID_BASIC);
	CHECK_EQ(strlen(id.id), EV_ID_MAX - 1);
	CHECK(id.flags & ID_FLAG_TRUNCATED);
}

/* ---- JWT ---- */

static void test_jwt_every_claim(void)
{
	char hdr[4096], json[4096];
	struct identity id;

	identity_init(&id);
	offer(&id, "Authorization",
	      bearer_jwt(hdr, sizeof hdr, "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"k-2024\"}",
			 "{\"sub\":\"alice\",\"iss\":\"https://idp.example\",\"aud\":\"orders-api\","
			 "\"scope\":\"orders:read orders:write\",\"roles\":[\"admin\",\"Domain Users\"],"
			 "\"iat\":1764316400,\"exp\":1764320000,\"nbf\":1764316400,\"jti\":\"j-77\","
			 "\"email\":\"alice@example.com\"}",
			 "c2ln"));
	identity_finish(&id, 1764318000 * SEC, 90 * DAY);
	CHECK_EQ(id.kind, ID_JWT);
	CHECK_STR(id.id, "alice");
	CHECK(id.has_claims);
	CHECK_STR(id.claims.iss, "https://idp.example");
	CHECK_STR(id.claims.aud, "orders-api");
	CHECK_STR(id.claims.scope, "orders:read orders:write");
	CHECK_EQ(id.claims.n_roles, 2);
	CHECK_STR(id.claims.roles, "admin");
	CHECK_STR(id.claims.roles + 6, "Domain Users");
	CHECK_EQ(id.claims.iat, 1764316400);
	CHECK_EQ(id.claims.exp, 1764320000);
	CHECK_EQ(id.claims.nbf, 1764316400);
	CHECK_STR(id.claims.jti, "j-77");
	CHECK_STR(id.claims.alg, "RS256");
	CHECK_STR(id.claims.kid, "k-2024");
	CHECK_EQ(id.flags, 0);
	CHECK_STR(to_json(&id, json, sizeof json),
		  "{\"kind\":\"jwt\",\"id\":\"alice\",\"claims\":{\"iss\":\"https://idp.example\","
		  "\"aud\":\"orders-api\",\"scope\":\"orders:read orders:write\","
		  "\"roles\":[\"admin\",\"Domain Users\"],\"iat\":1764316400,\"exp\":1764320000,"
		  "\"nbf\":1764316400,\"jti\":\"j-77\",\"alg\":\"RS256\",\"kid\":\"k-2024\"}}");
	CHECK(strstr(json, "alice@example.com") == NULL);
}

static void test_jwt_claim_shapes(void)
{
	static const struct {
		const char *payload;
		const char *aud, *scope;
		unsigned n_roles;
		const char *role0, *role_last;
		uint16_t present;
	} cases[] = {
		{"{\"sub\":\"a\",\"aud\":[\"api-1\",\"api-2\"]}", "api-1 api-2", "", 0, NULL, NULL,
		 JWT_HAS_AUD},
		{"{\"sub\":\"a\",\"aud\":[]}", "", "", 0, NULL, NULL, JWT_HAS_AUD},
		{"{\"sub\":\"a\",\"aud\":[\"x\",7,null,\"y\"]}", "x y", "", 0, NULL, NULL, JWT_HAS_AUD},
		{"{\"sub\":\"a\",\"aud\":42}", "", "", 0, NULL, NULL, 0},
		{"{\"sub\":\"a\",\"scp\":[\"read\",\"write\"]}", "", "read write", 0, NULL, NULL,
		 JWT_HAS_SCOPE},
		{"{\"sub\":\"a\",\"scp\":\"read\"}", "", "read", 0, NULL, NULL, JWT_HAS_SCOPE},
		{"{\"sub\":\"a\",\"scope\":[\"s1\",\"s2\"],\"scp\":\"ignored\"}", "", "s1 s2", 0, NULL,
		 NULL, JWT_HAS_SCOPE},
		{"{\"sub\":\"a\",\"scope\":\"s1\",\"scp\":\"ignored\"}", "", "s1", 0, NULL, NULL,
		 JWT_HAS_SCOPE},
		{"{\"sub\":\"a\",\"groups\":[\"g1\",\"g2\"]}", "", "", 2, "g1", "g2", JWT_HAS_ROLES},
		{"{\"sub\":\"a\",\"roles\":[\"r1\"],\"groups\":[\"g1\"]}", "", "", 2, "r1", "g1",
		 JWT_HAS_ROLES},
		{"{\"sub\":\"a\",\"roles\":\"admin\"}", "", "", 1, "admin", "admin", JWT_HAS_ROLES},
		{"{\"sub\":\"a\",\"roles\":[]}", "", "", 0, NULL, NULL, JWT_HAS_ROLES},
		{"{\"sub\":\"a\",\"roles\":{\"a\":1}}", "", "", 0, NULL, NULL, 0},
	};
	char hdr[4096];
	struct identity id;
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		identity_init(&id);
		offer(&id, "Authorization", bearer_jwt(hdr, sizeof hdr, "{\"alg\":\"HS256\"}",
						       cases[i].payload, "c2ln"));
		CHECK_EQ(id.kind, ID_JWT);
		CHECK_STR(id.claims.aud, cases[i].aud);
		CHECK_STR(id.claims.scope, cases[i].scope);
		CHECK_EQ(id.claims.n_roles, cases[i].n_roles);
		CHECK_EQ(id.claims.present & ~JWT_HAS_ALG, cases[i].present);
		if (cases[i].role0 && id.claims.n_roles == cases[i].n_roles) {
			const char *r = id.claims.roles;
			CHECK_STR(r, cases[i].role0);
			for (unsigned k = 1; k < id.claims.n_roles; k++)
				r += strlen(r) + 1;
			CHECK_STR(r, cases[i].role_last);
		}
		if (id.claims.present != (cases[i].present | JWT_HAS_ALG))
			fprintf(stderr, "  shape case %zu\n", i);
	}

	/* NumericDate: integer, real (fraction dropped), negative, absurd. */
	identity_init(&id);
	offer(&id, "Authorization",
	      bearer_jwt(hdr, sizeof hdr, "{\"alg\":\"HS256\"}",
			 "{\"sub\":\"a\",\"iat\":1500000000.9,\"exp\":1e300,\"nbf\":-5}", "c2ln"));
	CHECK_EQ(id.claims.iat, 1500000000);
	CHECK_EQ(id.claims.exp, INT64_MAX);
	CHECK_EQ(id.claims.nbf, -5);
	identity_finish(&id, 1600000000 * SEC, 90 * DAY);
	CHECK_EQ(id.flags, ID_FLAG_STALE);
	/* A string date is not a date. */
	identity_init(&id);
	offer(&id, "Authorization",
	      bearer_jwt(hdr, sizeof hdr, "{\"alg\":\"HS256\"}", "{\"sub\":\"a\",\"exp\":\"1700000000\"}",
			 "c2ln"));
	CHECK(!(id.claims.present & JWT_HAS_EXP));
	identity_finish(&id, 0, 0);
	CHECK_EQ(id.flags, ID_FLAG_NO_EXP);
}

static int verify_calls;

static int count_verify(void *ctx, const char *alg, const char *kid, const uint8_t *in, size_t n,
			const uint8_t *sig, size_t siglen)
{
	(void)ctx, (void)alg, (void)kid, (void)in, (void)n, (void)sig, (void)siglen;
	verify_calls++;
	return 1;
}

static void test_alg_none(void)
{
	char hdr[4096], json[1024];
	struct identity id;
	static const char *const algs[] = {"none", "None", "NONE", "nOnE"};
	size_t i;

	for (i = 0; i < 4; i++) {
		char h[64];
		snprintf(h, sizeof h, "{\"alg\":\"%s\",\"typ\":\"JWT\"}", algs[i]);
		verify_calls = 0;
		identity_init(&id);
		bearer_jwt(hdr, sizeof hdr, h, "{\"sub\":\"mallory\",\"exp\":4102444800}", "");
		CHECK(hdr[strlen(hdr) - 1] == '.'); /* empty third part */
		identity_offer_header(&id, NULL, "Authorization", 13, hdr, strlen(hdr), count_verify,
				      NULL);
		identity_finish(&id, 1764318000 * SEC, 90 * DAY);
		CHECK_EQ(id.kind, ID_JWT);
		CHECK_STR(id.id, "mallory");
		CHECK_EQ(id.flags, ID_FLAG_ALG_NONE);
		CHECK_EQ(verify_calls, 0); /* never "verified" */
	}
	CHECK_STR(to_json(&id, json, sizeof json),
		  "{\"kind\":\"jwt\",\"id\":\"mallory\",\"claims\":{\"exp\":4102444800,\"alg\":\"nOnE\"},"
		  "\"flags\":[\"alg_none\"]}");
}

static void test_time_flags(void)
{
	static const struct {
		const char *payload;
		uint64_t now_us, max_age_us;
		uint16_t flags;
	} cases[] = {
		{"{\"sub\":\"a\",\"exp\":1000}", 999 * SEC, 90 * DAY, 0},
		{"{\"sub\":\"a\",\"exp\":1000}", 1000 * SEC - 1, 90 * DAY, 0},
		{"{\"sub\":\"a\",\"exp\":1000}", 1000 * SEC, 90 * DAY, ID_FLAG_EXPIRED},
		{"{\"sub\":\"a\",\"exp\":1000}", 5000 * SEC, 90 * DAY, ID_FLAG_EXPIRED},
		{"{\"sub\":\"a\",\"exp\":-1}", 0, 90 * DAY, ID_FLAG_EXPIRED},
		{"{\"sub\":\"a\",\"exp\":9223372036854775807}", UINT64_MAX - 1, 90 * DAY, 0},
		{"{\"sub\":\"a\",\"exp\":5000,\"nbf\":2000}", 1999 * SEC, 90 * DAY,
		 ID_FLAG_NOT_YET_VALID},
		{"{\"sub\":\"a\",\"exp\":5000,\"nbf\":2000}", 2000 * SEC, 90 * DAY, 0},
		{"{\"sub\":\"a\"}", 2000 * SEC, 90 * DAY, ID_FLAG_NO_EXP},
		{"{\"sub\":\"a\",\"exp\":null}", 2000 * SEC, 90 * DAY, ID_FLAG_NO_EXP},
		/* stale: iat older than key_max_age */
		{"{\"sub\":\"a\",\"exp\":99999999999,\"iat\":1000}", 1000 * SEC + 90 * DAY, 90 * DAY, 0},
		{"{\"sub\":\"a\",\"exp\":99999999999,\"iat\":1000}", 1000 * SEC + 90 * DAY + 1, 90 * DAY,
		 ID_FLAG_STALE},
		{"{\"sub\":\"a\",\"exp\":99999999999,\"iat\":1000}", 1000 * SEC + 900 * DAY, 0, 0},
		{"{\"sub\":\"a\",\"exp\":99999999999,\"iat\":99999}", 1000 * SEC, 3600 * SEC, 0},
		/* all at once */
		{"{\"sub\":\"a\",\"iat\":1,\"nbf\":99999999999}", 1000 * DAY, 90 * DAY,
		 ID_FLAG_NO_EXP | ID_FLAG_NOT_YET_VALID | ID_FLAG_STALE},
	};
	char hdr[4096];
	struct identity id;
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		identity_init(&id);
		offer(&id, "Authorization",
		      bearer_jwt(hdr, sizeof hdr, "{\"alg\":\"HS256\"}", cases[i].payload, "c2ln"));
		identity_finish(&id, cases[i].now_us, cases[i].max_age_us);
		CHECK_EQ(id.flags, cases[i].flags);
		if (id.flags != cases[i].flags)
			fprintf(stderr, "  time case %zu\n", i);
	}
	/* finish again with another time recomputes. */
	identity_init(&id);
	offer(&id, "Authorization",
	      bearer_jwt(hdr, sizeof hdr, "{\"alg\":\"HS256\"}", "{\"sub\":\"a\",\"exp\":1000}", "c2ln"));
	identity_finish(&id, 2000 * SEC, 0);
	CHECK_EQ(id.flags, ID_FLAG_EXPIRED);
	identity_finish(&id, 10 * SEC, 0);
	CHECK_EQ(id.flags, 0);
	/* Non-JWT identities get no time flags. */
	identity_init(&id);
	offer(&id, "X-API-Key", "abc");
	identity_finish(&id, 2000 * SEC, 1);
	CHECK_EQ(id.flags, 0);
}

static void test_jwt_without_sub(void)
{
	static const char *const payloads[] = {
		"{\"iss\":\"x\"}",          "{\"sub\":\"\"}",    "{\"sub\":42}",
		"{\"sub\":null}",           "{\"sub\":[\"a\"]}", "[1,2]",
		"\"just a string\"",        "not json",          "",
		"{\"sub\":\"a\",\"sub\":\"b\"}", /* duplicate member: ambiguous, rejected */
	};
	char hdr[4096], fp[IDENTITY_FP_SIZE];
	struct identity id;
	size_t i;

	for (i = 0; i < sizeof payloads / sizeof payloads[0]; i++) {
		identity_init(&id);
		bearer_jwt(hdr, sizeof hdr, "{\"alg\":\"ES256\",\"kid\":\"e1\"}", payloads[i], "c2ln");
		offer(&id, "Authorization", hdr);
		identity_finish(&id, 0, 0);
		identity_fingerprint(hdr + 7, strlen(hdr + 7), fp);
		CHECK_EQ(id.kind, ID_BEARER);
		CHECK_STR(id.id, fp);
		CHECK(id.has_claims);
		CHECK_STR(id.claims.alg, "ES256");
		CHECK_STR(id.claims.kid, "e1");
		CHECK(id.flags & ID_FLAG_NO_EXP);
		if (id.kind != ID_BEARER)
			fprintf(stderr, "  no-sub case %zu\n", i);
	}
}

static void test_not_a_jwt(void)
{
	static const char *const tokens[] = {
		"!!@@##",
		"abc",
		"abc.def",                                      /* two parts */
		"eyJhbGciOiJIUzI1NiJ9.e30.c2ln.c2ln",           /* four parts */
		"eyJhbGciOiJIUzI1NiJ9.e30.c2ln.c2ln.c2ln",      /* JWE-like, five */
		"eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiJhIn0.c2ln",      /* header without alg */
		"eyJhbGciOjF9.eyJzdWIiOiJhIn0.c2ln",            /* alg not a string */
		"WyJhbGciXQ.eyJzdWIiOiJhIn0.c2ln",              /* header an array */
		"bm90IGpzb24.eyJzdWIiOiJhIn0.c2ln",             /* header not JSON */
		".eyJzdWIiOiJhIn0.c2ln",                        /* empty header */
		"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2l+",    /* '+' is not base64url */
		"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0=.c2ln",   /* padding */
		"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c",       /* 1 char mod 4 */
		"eyJhbGciOiJIUzI1NiJ9 .eyJzdWIiOiJhIn0.c2ln",   /* a space inside */
		"eyJhbGciOiJIUzI1NiIsImFsZyI6IkhTMjU2In0.eyJzdWIiOiJhIn0.c2ln", /* duplicate alg */
	};
	char hdr[512], fp[IDENTITY_FP_SIZE];
	struct identity id;
	size_t i;

	for (i = 0; i < sizeof tokens / sizeof tokens[0]; i++) {
		snprintf(hdr, sizeof hdr, "Bearer %s", tokens[i]);
		identity_init(&id);
		offer(&id, "Authorization", hdr);
		identity_finish(&id, 0, 0);
		identity_fingerprint(tokens[i], strlen(tokens[i]), fp);
		CHECK_EQ(id.kind, ID_BEARER);
		CHECK_STR(id.id, fp);
		CHECK(!id.has_claims);
		CHECK_EQ(id.flags, 0);
		if (id.has_claims || strcmp(id.id, fp) != 0)
			fprintf(stderr, "  not-jwt case %zu: %s\n", i, tokens[i]);
	}
	identity_init(&id);
	offer(&id, "Authorization", "Bearer !!@@##");
	CHECK_STR(id.id, "sha256:ed2ffce5c0e03c3f");
	/* Leading and trailing spaces are not part of the token. */
	identity_init(&id);
	offer(&id, "Authorization", "  Bearer    abc   ");
	CHECK_STR(id.id, "sha256:ba7816bf8f01cfea");
	/* A scheme without a token is nothing. */
	static const char *const empties[] = {"Bearer", "Bearer ", "Bearer     ", "", "   "};
	for (i = 0; i < 5; i++) {
		identity_init(&id);
		offer(&id, "Authorization", empties[i]);
		CHECK_EQ(id.kind, ID_NONE);
	}
	/* Empty API key or all-space API key: nothing. */
	identity_init(&id);
	offer(&id, "X-API-Key", "   ");
	CHECK_EQ(id.kind, ID_NONE);
}

/* The verify callback gets alg, kid, the signing input as sent and the decoded signature. */
static struct {
	int rc, calls;
	char alg[64], kid[200];
	bool kid_null;
	char input[512];
	uint8_t sig[64];
	size_t siglen;
} seen;

static int record_verify(void *ctx, const char *alg, const char *kid, const uint8_t *in, size_t n,
			 const uint8_t *sig, size_t siglen)
{
	CHECK(ctx == &seen);
	seen.calls++;
	snprintf(seen.alg, sizeof seen.alg, "%s", alg);
	seen.kid_null = kid == NULL;
	snprintf(seen.kid, sizeof seen.kid, "%s", kid ? kid : "");
	snprintf(seen.input, sizeof seen.input, "%.*s", (int)n, (const char *)in);
	seen.siglen = siglen < sizeof seen.sig ? siglen : sizeof seen.sig;
	memcpy(seen.sig, sig, seen.siglen);
	return seen.rc;
}

static void test_verify_callback(void)
{
	static const int rcs[] = {1, 0, -1};
	static const uint16_t flags[] = {ID_FLAG_VERIFIED, ID_FLAG_BAD_SIGNATURE, 0};
	char hdr[1024], want[1024];
	struct identity id;
	size_t i;

	for (i = 0; i < 3; i++) {
		memset(&seen, 0, sizeof seen);
		seen.rc = rcs[i];
		bearer_jwt(hdr, sizeof hdr, "{\"alg\":\"RS256\",\"kid\":\"k1\"}",
			   "{\"sub\":\"a\",\"exp\":99999999999}", "c2lnbmF0dXJl");
		identity_init(&id);
		identity_offer_header(&id, NULL, "Authorization", 13, hdr, strlen(hdr), record_verify,
				      &seen);
		identity_finish(&id, 0, 0);
		CHECK_EQ(seen.calls, 1);
		CHECK_STR(seen.alg, "RS256");
		CHECK_STR(seen.kid, "k1");
		snprintf(want, sizeof want, "%s", hdr + 7);
		*strrchr(want, '.') = '\0';
		CHECK_STR(seen.input, want);
		CHECK_EQ(seen.siglen, 9);
		CHECK(memcmp(seen.sig, "signature", 9) == 0);
		CHECK_EQ(id.flags, flags[i]);
	}
	/* No kid: NULL. Empty signature: length 0. */
	memset(&seen, 0, sizeof seen);
	seen.rc = 0;
	bearer_jwt(hdr, sizeof hdr, "{\"alg\":\"HS256\"}", "{\"sub\":\"a\",\"exp\":99999999999}", "");
	identity_init(&id);
	identity_offer_header(&id, NULL, "Authorization", 13, hdr, strlen(hdr), record_verify, &seen);
	CHECK_EQ(seen.calls, 1);
	CHECK(seen.kid_null);
	CHECK_EQ(seen.siglen, 0);
	CHECK_EQ(id.flags, ID_FLAG_BAD_SIGNATURE);
	/* Not a JWT, or not Authorization: never called. */
	memset(&seen, 0, sizeof seen);
	identity_init(&id);
	identity_offer_header(&id, NULL, "Authorization", 13, "Bearer abc", 10, record_verify, &seen);
	identity_offer_header(&id, NULL, "X-API-Key", 9, hdr + 7, strlen(hdr + 7), record_verify, &seen);
	CHECK_EQ(seen.calls, 0);
	/* An over-long kid is not matched at all (no call: it could only be cut). */
	char kid[400], h[512];
	memset(kid, 'k', 300);
	kid[300] = '\0';
	snprintf(h, sizeof h, "{\"alg\":\"HS256\",\"kid\":\"%s\"}", kid);
	bearer_jwt(hdr, sizeof hdr, h, "{\"sub\":\"a\"}", "c2ln");
	identity_init(&id);
	identity_offer_header(&id, NULL, "Authorization", 13, hdr, strlen(hdr), record_verify, &seen);
	CHECK_EQ(seen.calls, 0);
	CHECK(id.flags & ID_FLAG_TRUNCATED);
	CHECK_EQ(strlen(id.claims.kid), JWT_KID_MAX - 1);
}

/* ---- caps ---- */

static void test_oversized(void)
{
	size_t big = 1u << 20, i;
	char *v = malloc(big + 64), fp[IDENTITY_FP_SIZE];
	struct identity id;

	if (!v) {
		CHECK(v != NULL);
		return;
	}
	/* 1 MiB Bearer token: fingerprint of its first IDENTITY_TOKEN_MAX bytes, flagged. */
	memcpy(v, "Bearer ", 7);
	memset(v + 7, 'A', big);
	identity_init(&id);
	identity_offer_header(&id, NULL, "Authorization", 13, v, big + 7, NULL, NULL);
	CHECK_EQ(id.kind, ID_BEARER);
	CHECK_STR(id.id, "sha256:1bd4db450abc8914"); /* head -c 16384 of 'A's | sha256sum */
	CHECK_EQ(id.flags, ID_FLAG_OVERSIZED);

	/* A JWT-looking 1 MiB token is not decoded. */
	memcpy(v + 7, "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0.", 36);
	identity_init(&id);
	identity_offer_header(&id, NULL, "Authorization", 13, v, big + 7, NULL, NULL);
	CHECK_EQ(id.kind, ID_BEARER);
	CHECK(!id.has_claims);

	/* Just under the cap is a normal token. */
	memset(v + 7, 'A', 36);
	identity_init(&id);
	identity_offer_header(&id, NULL, "Authorization", 13, v, 7 + IDENTITY_TOKEN_MAX, NULL, NULL);
	CHECK_EQ(id.flags, 0);
	identity_fingerprint(v + 7, IDENTITY_TOKEN_MAX, fp);
	CHECK_STR(id.id, fp);

	/* 1 MiB Basic: the user name is found in its first bytes. */
	memcpy(v, "Basic YWxpY2U6", 14); /* alice: */
	memset(v + 14, 'Q', big - 14);
	identity_init(&id);
	identity_offer_header(&id, NULL, "Authorization", 13, v, big, NULL, NULL);
	CHECK_EQ(id.kind, ID_BASIC);
	CHECK_STR(id.id, "alice");
	CHECK(id.flags & ID_FLAG_OVERSIZED);
	/* ... and a 1 MiB Basic without a colon early is nothing. */
	memset(v + 6, 'Q', big - 6);
	identity_init(&id);
	identity_offer_header(&id, NULL, "Authorization", 13, v, big, NULL, NULL);
	CHECK_EQ(id.kind, ID_NONE);

	/* 1 MiB of spaces, then a token: no credential within the window. */
	memcpy(v, "Bearer", 6);
	memset(v + 6, ' ', big);
	memcpy(v + big, "abc", 3);
	identity_init(&id);
	identity_offer_header(&id, NULL, "Authorization", 13, v, big + 3, NULL, NULL);
	CHECK_EQ(id.kind, ID_NONE);

	/* 1 MiB API key. */
	memset(v, 'A', big);
	identity_init(&id);
	identity_offer_header(&id, NULL, "X-API-Key", 9, v, big, NULL, NULL);
	CHECK_EQ(id.kind, ID_API_KEY);
	CHECK_STR(id.id, "sha256:1bd4db450abc8914");
	CHECK(id.flags & ID_FLAG_OVERSIZED);

	/* 1 MiB Cookie field: a session cookie early is found ... */
	memcpy(v, "session=abc; ", 13);
	for (i = 13; i + 8 < big; i += 8)
		memcpy(v + i, "x=yyyy; ", 8);
	identity_init(&id);
	identity_offer_header(&id, NULL, "Cookie", 6, v, big, NULL, NULL);
	CHECK_EQ(id.kind, ID_COOKIE);
	CHECK_STR(id.id, "sha256:ba7816bf8f01cfea");
	/* ... one past the scan window is not. */
	memcpy(v, "x=yyyy; x=yy", 12);
	memcpy(v + IDENTITY_COOKIE_SCAN_MAX + 4, "; session=abc; ", 15);
	identity_init(&id);
	identity_offer_header(&id, NULL, "Cookie", 6, v, big, NULL, NULL);
	CHECK_EQ(id.kind, ID_NONE);
	/* A cookie cut by the window is not fingerprinted half. */
	memset(v, ' ', big);
	memcpy(v, "x=1; session=", 13);
	memset(v + 13, 'A', big - 13);
	identity_init(&id);
	identity_offer_header(&id, NULL, "Cookie", 6, v, big, NULL, NULL);
	CHECK_EQ(id.kind, ID_NONE);
	/* A long session cookie inside the window: fingerprint of its first 16 KiB. */
	memcpy(v, "session=", 8);
	memset(v + 8, 'A', 20000);
	memcpy(v + 20008, "; x=1", 5);
	identity_init(&id);
	identity_offer_header(&id, NULL, "Cookie", 6, v, 20013, NULL, NULL);
	CHECK_EQ(id.kind, ID_COOKIE);
	CHECK_STR(id.id, "sha256:1bd4db450abc8914");
	CHECK(id.flags & ID_FLAG_OVERSIZED);
	free(v);
}

static void test_long_claims_are_cut(void)
{
	char payload[8192], hdr[16384], iss[1000], json[IDENTITY_JSON_MAX];
	struct identity id;
	size_t i;

	/* iss of 'a' then a 2-byte character straddling the cut. */
	memset(iss, 'a', JWT_ISS_MAX - 2);
	memcpy(iss + JWT_ISS_MAX - 2, "\xc3\xa9xyz", 6);
	snprintf(payload, sizeof payload, "{\"sub\":\"a\",\"iss\":\"%s\",\"aud\":[", iss);
	for (i = 0; i < 100; i++)
		strcat(payload, i ? ",\"audience-000\"" : "\"audience-000\"");
	strcat(payload, "],\"roles\":[");
	for (i = 0; i < 300; i++)
		strcat(payload, i ? ",\"r\"" : "\"r\"");
	strcat(payload, "]}");
	identity_init(&id);
	offer(&id, "Authorization", bearer_jwt(hdr, sizeof hdr, "{\"alg\":\"HS256\"}", payload, "c2ln"));
	CHECK_EQ(id.kind, ID_JWT);
	CHECK(id.flags & ID_FLAG_TRUNCATED);
	CHECK_EQ(strlen(id.claims.iss), JWT_ISS_MAX - 2); /* the é is dropped whole */
	CHECK_EQ(strlen(id.claims.aud), 19 * 13 - 1);     /* whole audiences only */
	CHECK_EQ(id.claims.n_roles, 255);
	/* The worst case fits IDENTITY_JSON_MAX. */
	memset(&id, 0x7f, sizeof id);
	id.kind = ID_JWT;
	id.has_claims = true;
	id.flags = 0x1ff;
	id.claims.present = 0x3ff;
	id.claims.n_roles = 255;
	id.id[EV_ID_MAX - 1] = id.claims.iss[JWT_ISS_MAX - 1] = id.claims.aud[JWT_AUD_MAX - 1] = 0;
	id.claims.scope[JWT_SCOPE_MAX - 1] = id.claims.jti[JWT_JTI_MAX - 1] = 0;
	id.claims.alg[JWT_ALG_MAX - 1] = id.claims.kid[JWT_KID_MAX - 1] = 0;
	for (i = 1; i < JWT_ROLES_MAX; i += 2)
		id.claims.roles[i] = 0;
	id.claims.iat = id.claims.exp = id.claims.nbf = INT64_MIN;
	CHECK(strcmp(to_json(&id, json, sizeof json), "(overflow)") != 0);
}

/* ---- output ---- */

static void test_json(void)
{
	char hdr[4096], json[4096];
	struct identity id;

	identity_init(&id);
	offer(&id, "Authorization", "Basic YWxpY2U6c2VjcmV0");
	identity_finish(&id, 0, 0);
	CHECK_STR(to_json(&id, json, sizeof json), "{\"kind\":\"basic\",\"id\":\"alice\"}");

	identity_init(&id);
	offer(&id, "Authorization", "Bearer abc");
	CHECK_STR(to_json(&id, json, sizeof json), "{\"kind\":\"bearer\",\"id\":\"sha256:ba7816bf8f01cfea\"}");

	identity_init(&id);
	offer(&id, "Cookie", "sid=abc");
	CHECK_STR(to_json(&id, json, sizeof json), "{\"kind\":\"cookie\",\"id\":\"sha256:ba7816bf8f01cfea\"}");

	/* A sub with quotes and control characters stays one valid JSON string. */
	identity_init(&id);
	offer(&id, "Authorization",
	      bearer_jwt(hdr, sizeof hdr, "{\"alg\":\"HS256\"}",
			 "{\"sub\":\"a\\\"b\\n\\u0001c\",\"exp\":1000}", "c2ln"));
	identity_finish(&id, 2000 * SEC, 0);
	CHECK_STR(to_json(&id, json, sizeof json),
		  "{\"kind\":\"jwt\",\"id\":\"a\\\"b\\n\\u0001c\",\"claims\":{\"exp\":1000,\"alg\":\"HS256\"},"
		  "\"flags\":[\"expired\"]}");

	/* The jsonw comma state carries on after the member. */
	struct jsonw w;
	jw_init(&w, json, sizeof json);
	jw_obj_open(&w);
	jw_key(&w, "identity");
	identity_json(&w, &id);
	jw_key(&w, "gap");
	jw_bool(&w, true);
	jw_obj_close(&w);
	CHECK(strstr(json, "\"flags\":[\"expired\"]},\"gap\":true}") != NULL);

	/* Every flag has a name, in order. */
	static const char *const names[] = {"alg_none", "expired", "not_yet_valid", "no_exp", "stale",
					    "verified", "bad_signature", "truncated", "oversized"};
	for (unsigned i = 0; i < ID_FLAG_COUNT; i++)
		CHECK_STR(identity_flag_name((uint16_t)(1u << i)), names[i]);
	CHECK(identity_flag_name(0x200) == NULL);
	CHECK_STR(identity_kind_name(ID_API_KEY), "api_key");
	CHECK_STR(identity_kind_name((enum ev_identity_kind)99), "none");
}

static void test_no_secret_is_held(void)
{
	char hdr[4096], json[4096];
	struct identity id;

	identity_init(&id);
	offer(&id, "Authorization", "Basic YWxpY2U6aHVudGVyMg=="); /* alice:hunter2 */
	CHECK_STR(id.id, "alice");
	CHECK(!holds(&id, "hunter2"));
	CHECK(strstr(to_json(&id, json, sizeof json), "hunter2") == NULL);

	identity_init(&id);
	offer(&id, "Authorization", "Bearer opaque-SECRET-token");
	CHECK(!holds(&id, "SECRET"));

	identity_init(&id);
	offer(&id, "X-API-Key", "key-SECRET-123");
	CHECK(!holds(&id, "SECRET"));

	identity_init(&id);
	offer(&id, "Cookie", "sid=cookie-SECRET-1; theme=dark");
	CHECK(!holds(&id, "SECRET"));

	identity_init(&id);
	bearer_jwt(hdr, sizeof hdr, "{\"alg\":\"HS256\"}", "{\"sub\":\"a\"}", "U0VDUkVU");
	offer(&id, "Authorization", hdr);
	CHECK(!holds(&id, hdr + 7));
	CHECK(!holds(&id, "U0VDUkVU"));
	CHECK(strstr(to_json(&id, json, sizeof json), "U0VDUkVU") == NULL);
}

int main(void)
{
	RUN(test_fingerprint_function);
	RUN(test_fingerprints_bit_for_bit);
	RUN(test_none);
	RUN(test_precedence);
	RUN(test_case_insensitive);
	RUN(test_configured_names);
	RUN(test_cookies);
	RUN(test_basic);
	RUN(test_basic_long_user);
	RUN(test_jwt_every_claim);
	RUN(test_jwt_claim_shapes);
	RUN(test_alg_none);
	RUN(test_time_flags);
	RUN(test_jwt_without_sub);
	RUN(test_not_a_jwt);
	RUN(test_verify_callback);
	RUN(test_oversized);
	RUN(test_long_claims_are_cut);
	RUN(test_json);
	RUN(test_no_secret_is_held);
	return unit_done("test_identity");
}
