/*
 * identity.c - credentials in request header fields -> struct identity
 * (../shared/INTERFACE.md "Identity").
 *
 * What is read, and the RFCs it follows:
 *   Authorization: <scheme> SP <credentials>          RFC 9110 11.6.2, scheme
 *                                                     case-insensitive (11.1)
 *     Basic base64(user-id ":" password)              RFC 7617 2; the password
 *                                                     is decoded, never kept
 *     Bearer <token68>                                RFC 6750 2.1
 *   a JWT in a Bearer token (JWS compact form, RFC 7515 7.1, RFC 7519 3):
 *
 *     BASE64URL(header) "." BASE64URL(payload) "." BASE64URL(signature)
 *     \_______ signing input (what the signature covers) _______/
 *
 *     header  = JSON object with "alg" (and maybe "kid")     RFC 7515 4.1.1, 4.1.4
 *     payload = JSON object of claims: sub iss aud iat exp   RFC 7519 4.1
 *               nbf jti, scope/scp (RFC 8693 4.2), roles/groups (RFC 9068 2.2.3.1)
 *     signature may be empty when alg is "none"             RFC 7518 3.6
 *   Cookie: name=value; name2="value2"                 RFC 6265 4.2.1, 5.4;
 *     quotes around a value are not part of it (as Go, Python and Node read it)
 *   an API-key header: its whole value, OWS trimmed.
 *
 * JSON is decoded by jansson (duplicate member names rejected, RFC 7515 5.2
 * allows either rejecting or last-wins; rejecting cannot be tricked into
 * believing the wrong "sub"). base64 is decoded by base64.c, into bounded
 * stack buffers.
 *
 * Caps, and why these sizes:
 *   IDENTITY_TOKEN_MAX 16 KiB   credential bytes hashed or decoded. Real JWTs
 *                               are 0.3-4 KiB (8 KiB with an x5c chain), cookies
 *                               at most 4 KiB (RFC 6265 6.1); a longer one is
 *                               hashed over its first 16 KiB only (flagged
 *                               oversized), so a 1 MiB header costs no more
 *                               than a 16 KiB one.
 *   IDENTITY_COOKIE_SCAN_MAX 64 KiB  bytes of one Cookie field split into
 *                               pairs; pairs past it are not seen (a pair cut by
 *                               the cap is dropped, not fingerprinted half).
 *   SIG_MAX 1 KiB               decoded JWS signature (RSA-8192 is 1024 bytes).
 *   JSON decoded from at most 12 KiB (3/4 of the token cap); jansson's nesting
 *   limit (2048) bounds its recursion.
 */
#include "identity.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "ascii.h"
#include "base64.h"

#define SIG_MAX 1024
#define B64_DECODED_MAX(n) ((n) / 4 * 3 + 3)
#define PART_MAX B64_DECODED_MAX(IDENTITY_TOKEN_MAX)

/* ---- names ---- */

static const struct identity_names default_names = {
	.api_key_headers = {"X-API-Key", "Api-Key"},
	.n_api_key_headers = 2,
	.session_cookies = {"session", "sessionid", "sid", "JSESSIONID", "PHPSESSID", "connect.sid"},
	.n_session_cookies = 6,
};

void identity_names_default(struct identity_names *names)
{
	*names = default_names;
}

static const char *const kind_names[] = {"none", "jwt", "basic", "bearer", "api_key", "cookie"};

const char *identity_kind_name(enum ev_identity_kind kind)
{
	if ((unsigned)kind >= sizeof kind_names / sizeof kind_names[0])
		return "none";
	return kind_names[kind];
}

static const char *const flag_names[ID_FLAG_COUNT] = {
	"alg_none", "expired", "not_yet_valid", "no_exp", "stale",
	"verified", "bad_signature", "truncated", "oversized",
};

const char *identity_flag_name(uint16_t bit)
{
	unsigned i;

	for (i = 0; i < ID_FLAG_COUNT; i++)
		if (bit == (1u << i))
			return flag_names[i];
	return NULL;
}

/* ---- small helpers ---- */

void identity_fingerprint(const void *data, size_t len, char out[IDENTITY_FP_SIZE])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t i;

	memcpy(out, "sha256:", 7);
	if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) || mdlen < 8)
		memset(md, 0, 8); /* only without memory for a digest context */
	for (i = 0; i < 8; i++) {
		out[7 + 2 * i] = hex[md[i] >> 4];
		out[8 + 2 * i] = hex[md[i] & 15];
	}
	out[23] = '\0';
}

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static void trim(const char **s, size_t *n)
{
	while (*n > 0 && is_ows(**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && is_ows((*s)[*n - 1]))
		(*n)--;
}

/*
 * A field name against a configured name (NUL-terminated in its IDENTITY_NAME_MAX
 * array), without its strlen: a name whose length differs fails on b[alen]
 * or on a NUL inside. Runs for every request field against every name.
 */
static bool name_eq_listed(const char *a, size_t alen, const char b[IDENTITY_NAME_MAX])
{
	if (alen >= IDENTITY_NAME_MAX || b[alen] != '\0')
		return false;
	for (size_t i = 0; i < alen; i++)
		if (b[i] == '\0' || ascii_lower((unsigned char)a[i]) != ascii_lower((unsigned char)b[i]))
			return false;
	return true;
}

/*
 * Copies len bytes of src as a C string into dst[cap], cut on a UTF-8
 * character boundary when too long. Returns true when cut.
 */
static bool copy_str(char *dst, size_t cap, const char *src, size_t len)
{
	bool cut = false;

	if (len >= cap) {
		len = cap - 1;
		while (len > 0 && ((unsigned char)src[len] & 0xC0) == 0x80)
			len--;
		cut = true;
	}
	memcpy(dst, src, len);
	dst[len] = '\0';
	return cut;
}

/* Appends `sep` (if dst is not empty) and s to the string in dst[cap], whole or not at all. */
static bool append_item(char *dst, size_t cap, char sep, const char *s, size_t len)
{
	size_t used = strlen(dst), need = len + (used ? 1 : 0);

	if (used + need >= cap)
		return false;
	if (used)
		dst[used++] = sep;
	memcpy(dst + used, s, len);
	dst[used + len] = '\0';
	return true;
}

/* ---- base64 ---- */

/* True when s[0..n) is base64url text, with no padding (RFC 7515 2). */
static bool is_b64url(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (base64_value((unsigned char)s[i], true) < 0)
			return false;
	return n % 4 != 1;
}

/* ---- taking a credential ---- */

/* Empties *id and marks it as held from `source`/`rank`. */
static void take(struct identity *id, enum ev_identity_kind kind, enum identity_source source,
		 unsigned rank)
{
	memset(id, 0, sizeof *id);
	id->kind = kind;
	id->source = (uint8_t)source;
	id->rank = (uint8_t)rank;
}

/* kind with the fingerprint of value[0..len) (its first IDENTITY_TOKEN_MAX bytes) as id. */
static void take_fingerprint(struct identity *id, enum ev_identity_kind kind,
			     enum identity_source source, unsigned rank, const char *value, size_t len)
{
	take(id, kind, source, rank);
	if (len > IDENTITY_TOKEN_MAX) {
		len = IDENTITY_TOKEN_MAX;
		id->flags |= ID_FLAG_OVERSIZED;
	}
	identity_fingerprint(value, len, id->id);
}

/* ---- JWT ---- */

static void claim_str(json_t *obj, const char *name, char *dst, size_t cap, uint16_t bit,
		      struct identity *id)
{
	json_t *v = json_object_get(obj, name);

	if (!json_is_string(v))
		return;
	if (copy_str(dst, cap, json_string_value(v), json_string_length(v)))
		id->flags |= ID_FLAG_TRUNCATED;
	id->claims.present |= bit;
}

/* A string, or an array's strings joined by `sep`; other element types are skipped. */
static bool claim_list(json_t *v, char *dst, size_t cap, char sep, uint8_t *count,
		       struct identity *id)
{
	size_t i, used = 0;
	json_t *e;

	if (json_is_string(v) && !count) {
		if (copy_str(dst, cap, json_string_value(v), json_string_length(v)))
			id->flags |= ID_FLAG_TRUNCATED;
		return true;
	}
	if (!json_is_array(v) && !json_is_string(v))
		return false;
	if (count)
		for (i = 0; i < *count; i++)
			used += strlen(dst + used) + 1;
	/* A single string (roles: "admin") is one name; an array's strings each one. */
	for (i = 0; i < (json_is_string(v) ? 1 : json_array_size(v)); i++) {
		e = json_is_string(v) ? v : json_array_get(v, i);
		if (!json_is_string(e))
			continue;
		if (count) {
			/* NUL-separated names, each whole. */
			if (*count == UINT8_MAX || used + json_string_length(e) + 1 > cap) {
				id->flags |= ID_FLAG_TRUNCATED;
				break;
			}
			memcpy(dst + used, json_string_value(e), json_string_length(e) + 1);
			used += json_string_length(e) + 1;
			(*count)++;
		} else if (!append_item(dst, cap, sep, json_string_value(e), json_string_length(e))) {
			id->flags |= ID_FLAG_TRUNCATED;
			break;
		}
	}
	return true;
}

/* A NumericDate (RFC 7519 2): integer or real seconds; a fraction is dropped. */
static bool claim_time(json_t *obj, const char *name, int64_t *out)
{
	json_t *v = json_object_get(obj, name);

	if (json_is_integer(v)) {
		*out = (int64_t)json_integer_value(v);
		return true;
	}
	if (json_is_real(v)) {
		double d = json_real_value(v);
		/* Clamp before the cast: converting an out-of-range double is undefined. */
		*out = d >= 9.2e18 ? INT64_MAX : d <= -9.2e18 ? INT64_MIN : (int64_t)d;
		return true;
	}
	return false;
}

static json_t *decode_object(const char *b64, size_t n, uint8_t *buf, size_t cap)
{
	long len = base64_decode(b64, n, true, buf, cap);
	json_error_t jerr;
	json_t *j;

	if (len <= 0)
		return NULL;
	j = json_loadb((const char *)buf, (size_t)len, JSON_REJECT_DUPLICATES, &jerr);
	if (j && !json_is_object(j)) {
		json_decref(j);
		return NULL;
	}
	return j;
}

/* Claims of the payload into id->claims; returns whether "sub" was a non-empty string. */
static bool read_claims(struct identity *id, json_t *p, const char **sub, size_t *sublen)
{
	struct jwt_claims *c = &id->claims;
	json_t *v;

	claim_str(p, "iss", c->iss, sizeof c->iss, JWT_HAS_ISS, id);
	claim_str(p, "jti", c->jti, sizeof c->jti, JWT_HAS_JTI, id);
	if (claim_list(json_object_get(p, "aud"), c->aud, sizeof c->aud, ' ', NULL, id))
		c->present |= JWT_HAS_AUD;
	if (claim_list(json_object_get(p, "scope"), c->scope, sizeof c->scope, ' ', NULL, id) ||
	    claim_list(json_object_get(p, "scp"), c->scope, sizeof c->scope, ' ', NULL, id))
		c->present |= JWT_HAS_SCOPE;
	if (claim_list(json_object_get(p, "roles"), c->roles, sizeof c->roles, 0, &c->n_roles, id) |
	    claim_list(json_object_get(p, "groups"), c->roles, sizeof c->roles, 0, &c->n_roles, id))
		c->present |= JWT_HAS_ROLES;
	if (claim_time(p, "iat", &c->iat))
		c->present |= JWT_HAS_IAT;
	if (claim_time(p, "exp", &c->exp))
		c->present |= JWT_HAS_EXP;
	if (claim_time(p, "nbf", &c->nbf))
		c->present |= JWT_HAS_NBF;
	v = json_object_get(p, "sub");
	if (!json_is_string(v) || json_string_length(v) == 0)
		return false;
	*sub = json_string_value(v);
	*sublen = json_string_length(v);
	return true;
}

/*
 * Takes tok[0..n) as a JWT if it is one (returns true), as kind jwt when it
 * has a "sub", else as bearer with its claims. n <= IDENTITY_TOKEN_MAX.
 */
static bool take_jwt(struct identity *id, const char *tok, size_t n, identity_verify_fn verify,
		     void *vctx)
{
	static uint8_t const empty_sig[1];
	const char *d1 = memchr(tok, '.', n), *d2, *sub = NULL;
	uint8_t part[PART_MAX], sig[SIG_MAX];
	size_t sublen = 0, siglen_text;
	long siglen = -1;
	json_t *hdr, *pay, *alg, *kid;
	bool has_sub = false;
	char fp[IDENTITY_FP_SIZE];

	if (!d1)
		return false;
	d2 = memchr(d1 + 1, '.', (size_t)(tok + n - d1 - 1));
	if (!d2 || memchr(d2 + 1, '.', (size_t)(tok + n - d2 - 1)))
		return false;
	siglen_text = (size_t)(tok + n - d2 - 1);
	if (!is_b64url(tok, (size_t)(d1 - tok)) || !is_b64url(d1 + 1, (size_t)(d2 - d1 - 1)) ||
	    !is_b64url(d2 + 1, siglen_text))
		return false;
	hdr = decode_object(tok, (size_t)(d1 - tok), part, sizeof part);
	if (!hdr)
		return false;
	alg = json_object_get(hdr, "alg");
	if (!json_is_string(alg)) {
		json_decref(hdr);
		return false;
	}

	/* It is a JWT. Claims first, kind and id once "sub" is known. */
	take(id, ID_BEARER, IDSRC_AUTHORIZATION, 0);
	id->has_claims = true;
	if (copy_str(id->claims.alg, sizeof id->claims.alg, json_string_value(alg),
		     json_string_length(alg)))
		id->flags |= ID_FLAG_TRUNCATED;
	id->claims.present |= JWT_HAS_ALG;
	kid = json_object_get(hdr, "kid");
	if (json_is_string(kid)) {
		if (copy_str(id->claims.kid, sizeof id->claims.kid, json_string_value(kid),
			     json_string_length(kid)))
			id->flags |= ID_FLAG_TRUNCATED;
		id->claims.present |= JWT_HAS_KID;
	}
	bool alg_cut = json_string_length(alg) >= sizeof id->claims.alg;
	bool kid_cut = json_is_string(kid) && json_string_length(kid) >= sizeof id->claims.kid;
	json_decref(hdr);

	pay = decode_object(d1 + 1, (size_t)(d2 - d1 - 1), part, sizeof part);
	if (pay) {
		has_sub = read_claims(id, pay, &sub, &sublen);
		if (has_sub) {
			id->kind = ID_JWT;
			if (copy_str(id->id, sizeof id->id, sub, sublen))
				id->flags |= ID_FLAG_TRUNCATED;
		}
		json_decref(pay);
	}
	OPENSSL_cleanse(part, sizeof part);
	if (!has_sub) {
		identity_fingerprint(tok, n, fp);
		memcpy(id->id, fp, sizeof fp);
	}

	if (strcasecmp(id->claims.alg, "none") == 0) {
		id->flags |= ID_FLAG_ALG_NONE;
		return true;
	}
	if (!verify || alg_cut || kid_cut)
		return true;
	siglen = base64_decode(d2 + 1, siglen_text, true, sig, sizeof sig);
	/* An undecodable (over-long) signature is checked as an empty one: it cannot verify. */
	int rc = verify(vctx, id->claims.alg, (id->claims.present & JWT_HAS_KID) ? id->claims.kid : NULL,
			(const uint8_t *)tok, (size_t)(d2 - tok), siglen > 0 ? sig : empty_sig,
			siglen > 0 ? (size_t)siglen : 0);
	if (rc == 1)
		id->flags |= ID_FLAG_VERIFIED;
	else if (rc == 0)
		id->flags |= ID_FLAG_BAD_SIGNATURE;
	return true;
}

/* ---- Authorization ---- */

/* Basic: true when the credentials held "user:password" with a non-empty user. */
static bool take_basic(struct identity *id, const char *cred, size_t n)
{
	uint8_t buf[B64_DECODED_MAX(IDENTITY_TOKEN_MAX)];
	bool oversized = false;
	const uint8_t *colon;
	long len;

	if (n > IDENTITY_TOKEN_MAX) {
		/* Only the user name is wanted: decode whole quanta of the first bytes. */
		n = IDENTITY_TOKEN_MAX / 4 * 4;
		oversized = true;
	}
	len = base64_decode(cred, n, false, buf, sizeof buf);
	if (len <= 0)
		return false;
	colon = memchr(buf, ':', (size_t)len);
	if (!colon || colon == buf) {
		OPENSSL_cleanse(buf, sizeof buf);
		return false;
	}
	if (memchr(buf, '\0', (size_t)(colon - buf))) {
		/* A NUL in the user name would cut it short (to "" at worst): name the
		 * credential by its fingerprint instead, still one identity per value. */
		OPENSSL_cleanse(buf, sizeof buf);
		take_fingerprint(id, ID_BASIC, IDSRC_AUTHORIZATION, 0, cred, n);
		if (oversized)
			id->flags |= ID_FLAG_OVERSIZED;
		return true;
	}
	take(id, ID_BASIC, IDSRC_AUTHORIZATION, 0);
	if (copy_str(id->id, sizeof id->id, (const char *)buf, (size_t)(colon - buf)))
		id->flags |= ID_FLAG_TRUNCATED;
	if (oversized)
		id->flags |= ID_FLAG_OVERSIZED;
	OPENSSL_cleanse(buf, sizeof buf); /* the password was in it */
	return true;
}

static void offer_authorization(struct identity *id, const char *v, size_t n,
				identity_verify_fn verify, void *vctx)
{
	const char *sp;
	size_t slen;

	/* Bounded work: no more than a capped credential and its scheme is looked at. */
	if (n > IDENTITY_TOKEN_MAX + 64)
		n = IDENTITY_TOKEN_MAX + 64;
	while (n > 0 && is_ows(*v)) {
		v++;
		n--;
	}
	sp = memchr(v, ' ', n);
	if (!sp)
		return; /* a scheme alone carries no credential */
	slen = (size_t)(sp - v);
	const char *cred = sp;
	size_t clen = n - slen;
	trim(&cred, &clen);
	if (clen == 0)
		return;
	if (ASCII_NAME_IS(v, slen, "basic")) {
		take_basic(id, cred, clen);
	} else if (ASCII_NAME_IS(v, slen, "bearer")) {
		if (clen > IDENTITY_TOKEN_MAX || !take_jwt(id, cred, clen, verify, vctx))
			take_fingerprint(id, ID_BEARER, IDSRC_AUTHORIZATION, 0, cred, clen);
	}
	/* Other schemes (Digest, AWS4-HMAC-SHA256, ...) are not identities here. */
}

/* ---- Cookie ---- */

static int rank_of(const char *name, size_t nlen, const char (*list)[IDENTITY_NAME_MAX],
		   unsigned count)
{
	unsigned i;

	for (i = 0; i < count; i++)
		if (name_eq_listed(name, nlen, list[i]))
			return (int)i;
	return -1;
}

static void offer_cookie(struct identity *id, const struct identity_names *names, const char *v,
			 size_t n)
{
	const char *best = NULL, *end, *p = v;
	size_t best_len = 0;
	int best_rank = -1;

	if (n > IDENTITY_COOKIE_SCAN_MAX) {
		/* Keep whole pairs only: cut at the last ';' inside the window. */
		const char *semi = memrchr(v, ';', IDENTITY_COOKIE_SCAN_MAX);
		n = semi ? (size_t)(semi - v) : 0;
	}
	end = v + n;
	while (p < end) {
		const char *semi = memchr(p, ';', (size_t)(end - p));
		const char *stop = semi ? semi : end;
		const char *eq = memchr(p, '=', (size_t)(stop - p));
		const char *name = p, *val;
		size_t nlen, vlen;
		int r;

		p = stop + 1;
		if (!eq)
			continue;
		nlen = (size_t)(eq - name);
		trim(&name, &nlen);
		r = rank_of(name, nlen, names->session_cookies, names->n_session_cookies);
		if (r < 0 || (best_rank >= 0 && r >= best_rank))
			continue;
		val = eq + 1;
		vlen = (size_t)(stop - val);
		trim(&val, &vlen);
		if (vlen >= 2 && val[0] == '"' && val[vlen - 1] == '"') {
			val++;
			vlen -= 2;
		}
		if (vlen == 0)
			continue; /* "sid=" clears a cookie; it is no session */
		best = val;
		best_len = vlen;
		best_rank = r;
	}
	if (best_rank < 0)
		return;
	if (id->source == IDSRC_COOKIE && id->rank <= (unsigned)best_rank)
		return;
	take_fingerprint(id, ID_COOKIE, IDSRC_COOKIE, (unsigned)best_rank, best, best_len);
}

/* ---- the entry points ---- */

void identity_init(struct identity *id)
{
	memset(id, 0, sizeof *id);
	id->kind = ID_NONE;
}

void identity_offer_header(struct identity *id, const struct identity_names *names,
			   const char *name, size_t nlen, const char *value, size_t vlen,
			   identity_verify_fn verify, void *vctx)
{
	int r;

	if (nlen == 0 || name[0] == ':')
		return;
	if (ASCII_NAME_IS(name, nlen, "authorization")) {
		if (id->source < IDSRC_AUTHORIZATION)
			offer_authorization(id, value, vlen, verify, vctx);
		return;
	}
	if (id->source == IDSRC_AUTHORIZATION)
		return;
	if (!names)
		names = &default_names;
	if (ASCII_NAME_IS(name, nlen, "cookie")) {
		if (id->source < IDSRC_API_KEY)
			offer_cookie(id, names, value, vlen);
		return;
	}
	r = rank_of(name, nlen, names->api_key_headers, names->n_api_key_headers);
	if (r < 0)
		return;
	if (id->source == IDSRC_API_KEY && id->rank <= (unsigned)r)
		return;
	if (vlen > IDENTITY_TOKEN_MAX + 64)
		vlen = IDENTITY_TOKEN_MAX + 64; /* bounded trim; the key is cut below anyway */
	trim(&value, &vlen);
	if (vlen == 0)
		return;
	take_fingerprint(id, ID_API_KEY, IDSRC_API_KEY, (unsigned)r, value, vlen);
}

/* Seconds -> µs, saturating: before 1970 is 0, past year 294247 is "never". */
static uint64_t sec_to_us(int64_t s)
{
	if (s <= 0)
		return 0;
	if ((uint64_t)s > UINT64_MAX / 1000000u)
		return UINT64_MAX;
	return (uint64_t)s * 1000000u;
}

void identity_finish(struct identity *id, uint64_t now_us, uint64_t key_max_age_us)
{
	const struct jwt_claims *c = &id->claims;

	id->flags &= (uint16_t)~(ID_FLAG_EXPIRED | ID_FLAG_NOT_YET_VALID | ID_FLAG_NO_EXP |
				 ID_FLAG_STALE);
	if (!id->has_claims)
		return;
	if (!(c->present & JWT_HAS_EXP))
		id->flags |= ID_FLAG_NO_EXP;
	else if (now_us >= sec_to_us(c->exp))
		id->flags |= ID_FLAG_EXPIRED;
	if ((c->present & JWT_HAS_NBF) && now_us < sec_to_us(c->nbf))
		id->flags |= ID_FLAG_NOT_YET_VALID;
	if ((c->present & JWT_HAS_IAT) && key_max_age_us > 0) {
		uint64_t iat = sec_to_us(c->iat);
		if (now_us > iat && now_us - iat > key_max_age_us)
			id->flags |= ID_FLAG_STALE;
	}
}
