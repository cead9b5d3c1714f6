/*
 * identity.h - who made a request: request header fields -> one identity,
 * exactly as ../shared/INTERFACE.md "Identity" says.
 *
 *   kind     from                                         id
 *   jwt      Authorization: Bearer holding a JWT          its "sub" claim
 *   basic    Authorization: Basic                         the user name
 *   bearer   Authorization: Bearer, opaque (or JWT        "sha256:" + first 16 hex digits
 *            without "sub")                               of SHA-256(token)
 *   api_key  an API-key header (X-API-Key, Api-Key)       same fingerprint of the key
 *   cookie   a session cookie (session, sid, ...)         same fingerprint of the value
 *   none     nothing of the above                         ""
 *
 * Precedence: Authorization, then an API-key header, then a session cookie,
 * whatever order the fields come in. The first Authorization field that holds
 * a usable credential wins; among API-key headers (and among cookies) the name
 * listed first in identity_names wins, then the first field seen. Header names
 * match case-insensitively (RFC 9110 5.1), so do auth schemes (RFC 9110 11.1)
 * and, deliberately, cookie names (RFC 6265 says they are case-sensitive, but
 * "SESSION" (Spring) is as much a session cookie as "session").
 *
 * Nothing secret is kept: a Basic password is never copied, a token, key or
 * cookie value only as its fingerprint. JWT claims are kept in fixed-size
 * fields (cut at their size, with ID_FLAG_TRUNCATED); the struct holds no
 * pointer and owns no memory. Pure functions of their input: no clock (time
 * is an argument of identity_finish), no I/O, no logging, no global state.
 *
 * event.h embeds struct identity in struct api_event and includes this header.
 */
#ifndef TAPIR_IDENTITY_H
#define TAPIR_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EV_ID_MAX 160

enum ev_identity_kind { ID_NONE, ID_JWT, ID_BASIC, ID_BEARER, ID_API_KEY, ID_COOKIE };

/*
 * Caps on what comes off the wire (why these sizes: identity.c). A credential
 * longer than IDENTITY_TOKEN_MAX is fingerprinted over its first
 * IDENTITY_TOKEN_MAX bytes and flagged ID_FLAG_OVERSIZED; it is not decoded.
 */
#define IDENTITY_TOKEN_MAX 16384       /* credential bytes looked at */
#define IDENTITY_COOKIE_SCAN_MAX 65536 /* bytes of one Cookie field searched */

/* Configurable names (identity.api_key_headers, identity.session_cookies). */
#define IDENTITY_NAMES_MAX 16
#define IDENTITY_NAME_MAX 64 /* bytes with the NUL */

struct identity_names {
	char api_key_headers[IDENTITY_NAMES_MAX][IDENTITY_NAME_MAX]; /* earlier = preferred */
	uint8_t n_api_key_headers;
	char session_cookies[IDENTITY_NAMES_MAX][IDENTITY_NAME_MAX];
	uint8_t n_session_cookies;
};

/* X-API-Key, Api-Key; session, sessionid, sid, JSESSIONID, PHPSESSID, connect.sid. */
void identity_names_default(struct identity_names *names);

/* Claim field sizes, with the NUL. */
#define JWT_ISS_MAX 256
#define JWT_AUD_MAX 256
#define JWT_SCOPE_MAX 512
#define JWT_ROLES_MAX 512
#define JWT_JTI_MAX 128
#define JWT_ALG_MAX 32
#define JWT_KID_MAX 128

/* Bits of jwt_claims.present. */
#define JWT_HAS_ISS 0x0001
#define JWT_HAS_AUD 0x0002
#define JWT_HAS_SCOPE 0x0004
#define JWT_HAS_ROLES 0x0008
#define JWT_HAS_IAT 0x0010
#define JWT_HAS_EXP 0x0020
#define JWT_HAS_NBF 0x0040
#define JWT_HAS_JTI 0x0080
#define JWT_HAS_ALG 0x0100
#define JWT_HAS_KID 0x0200

/* What a JWT says about itself (RFC 7519 4.1, RFC 7515 4.1). Plain data. */
struct jwt_claims {
	uint16_t present;           /* JWT_HAS_*: which members below were in the token */
	char iss[JWT_ISS_MAX];
	char aud[JWT_AUD_MAX];      /* a string, or an array's strings joined by one space */
	char scope[JWT_SCOPE_MAX];  /* "scope", else "scp"; a string, or an array space-joined */
	char roles[JWT_ROLES_MAX];  /* "roles" then "groups" array strings, each NUL-terminated */
	uint8_t n_roles;            /* how many names in roles */
	int64_t iat, exp, nbf;      /* seconds since the epoch (a fraction is dropped) */
	char jti[JWT_JTI_MAX];
	char alg[JWT_ALG_MAX];      /* from the JOSE header */
	char kid[JWT_KID_MAX];      /* from the JOSE header */
};

/* Bits of identity.flags, in the order identity_json writes them. */
#define ID_FLAG_ALG_NONE 0x0001      /* header "alg" is "none" (any case) */
#define ID_FLAG_EXPIRED 0x0002       /* exp <= packet time (RFC 7519 4.1.4) */
#define ID_FLAG_NOT_YET_VALID 0x0004 /* nbf > packet time (RFC 7519 4.1.5) */
#define ID_FLAG_NO_EXP 0x0008        /* a JWT without a numeric exp */
#define ID_FLAG_STALE 0x0010         /* iat older than policy.key_max_age */
#define ID_FLAG_VERIFIED 0x0020      /* signature checked good with a configured key */
#define ID_FLAG_BAD_SIGNATURE 0x0040 /* keys for it were configured, none verified it */
#define ID_FLAG_TRUNCATED 0x0080     /* id or a claim was cut to its field size */
#define ID_FLAG_OVERSIZED 0x0100     /* credential > IDENTITY_TOKEN_MAX: first bytes only */
#define ID_FLAG_COUNT 9

/*
 * Signature check supplied by the owner (sensor/jwt_keys.c provides one), so
 * that this decoder holds no key and touches no key store. `alg` is the
 * header's "alg" as sent, `kid` its "kid" or NULL; signing_input is
 * BASE64URL(header) "." BASE64URL(payload) as sent; sig the decoded third part.
 * Returns 1 verified, 0 bad signature (a key for this alg/kid exists and none
 * verified), -1 no key for it (then neither flag is set).
 */
typedef int (*identity_verify_fn)(void *ctx, const char *alg, const char *kid,
				  const uint8_t *signing_input, size_t n, const uint8_t *sig,
				  size_t siglen);

/* Which kind of field the held credential came from; higher wins. */
enum identity_source { IDSRC_NONE, IDSRC_COOKIE, IDSRC_API_KEY, IDSRC_AUTHORIZATION };

/*
 * One request's identity. Plain data; all zero bytes is a valid empty
 * identity (ID_NONE). `source` and `rank` are identity_offer_header's
 * bookkeeping (where the held credential came from, the position of its name
 * in identity_names); readers need only kind, id, claims and flags.
 */
struct identity {
	enum ev_identity_kind kind;
	char id[EV_ID_MAX];          /* NUL-terminated; "" for ID_NONE */
	bool has_claims;             /* the credential was a JWT (kind jwt, or bearer without sub) */
	struct jwt_claims claims;    /* valid when has_claims */
	uint16_t flags;              /* ID_FLAG_* */
	uint8_t source;              /* enum identity_source */
	uint8_t rank;
};

/* Empties *id (kind none). */
void identity_init(struct identity *id);

/*
 * Offers one request header field. Called for every field of a request, in
 * order, with the bytes as they were on the wire (name without ':' for HTTP/1;
 * HTTP/2 pseudo-headers are ignored, split "cookie" fields are fine). Keeps
 * the field if it beats what *id holds (see the precedence above); otherwise
 * does nothing. Reads at most IDENTITY_TOKEN_MAX bytes of a credential
 * (IDENTITY_COOKIE_SCAN_MAX of a Cookie field), whatever vlen is. A Bearer JWT
 * is decoded here and, when `verify` is not NULL and alg is not none, checked
 * with verify(vctx, ...) (called at most once per field). Copies what it
 * keeps: no pointer into name or value survives the call. names NULL = the
 * defaults.
 */
void identity_offer_header(struct identity *id, const struct identity_names *names,
			   const char *name, size_t nlen, const char *value, size_t vlen,
			   identity_verify_fn verify, void *vctx);

/*
 * After the last header field: sets the time flags of a JWT against `now_us`,
 * the packet time of the request (µs since the epoch): expired, not_yet_valid,
 * no_exp, and stale when key_max_age_us > 0 and iat is older than that. May be
 * called again with another time (the time flags are recomputed).
 */
void identity_finish(struct identity *id, uint64_t now_us, uint64_t key_max_age_us);

/* "none", "jwt", "basic", "bearer", "api_key", "cookie". */
const char *identity_kind_name(enum ev_identity_kind kind);

/* The name of one ID_FLAG_* bit ("alg_none", "expired", ...), NULL if unknown. */
const char *identity_flag_name(uint16_t bit);

/*
 * "sha256:" + the first 16 hex digits of SHA-256(data) into out (24 bytes with
 * the NUL). The fingerprint INTERFACE.md gives opaque credentials.
 */
#define IDENTITY_FP_SIZE 24
void identity_fingerprint(const void *data, size_t len, char out[IDENTITY_FP_SIZE]);

#endif
