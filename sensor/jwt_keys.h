/*
 * jwt_keys.h - the keys JWT signatures are checked with (identity.jwt_keys),
 * and the check itself (OpenSSL), for identity_offer_header's verify callback.
 *
 * Algorithms (RFC 7518 3, RFC 8037 3.1):
 *   HS256 HS384 HS512  HMAC with a shared secret (a secret file, or a JWKS "oct" key)
 *   RS256              RSASSA-PKCS1-v1_5 with SHA-256 (PEM public key or JWKS "RSA" n/e)
 *   ES256              ECDSA P-256 with SHA-256 (PEM or JWKS "EC" P-256 x/y)
 *   EdDSA (Ed25519)    Ed25519 (PEM or JWKS "OKP" Ed25519 x)
 * A key verifies only the algorithms of its own type (an RSA public key is
 * never used as an HMAC secret: RFC 8725 2.1 algorithm confusion).
 *
 * Lifetime: built at start-up by jwt_keys_new + jwt_keys_load per file, then
 * read-only: jwt_keys_verify may be called from several threads at once.
 */
#ifndef TAPIR_JWT_KEYS_H
#define TAPIR_JWT_KEYS_H

#include <stddef.h>
#include <stdint.h>

#define JWT_KEYS_MUST_CHECK __attribute__((warn_unused_result))

#define JWT_KEYS_MAX 256          /* keys held, all files together */
#define JWT_KEY_FILE_MAX (1u << 20) /* a key file larger than this is not one */

enum jwt_key_format {
	JWT_KEY_PEM,  /* one "PUBLIC KEY" or "CERTIFICATE" PEM block: RSA, EC P-256, Ed25519 */
	JWT_KEY_JWKS, /* RFC 7517 JSON: {"keys": [...]} or one JWK; kid and alg from each key */
	JWT_KEY_HMAC, /* the file's bytes are the secret; trailing CR/LF are not part of it */
};

/* One configured key file. Strings are only read during jwt_keys_load. */
struct jwt_key_file {
	const char *path;
	enum jwt_key_format format;
	const char *kid; /* PEM, HMAC: the "kid" tokens name this key by; NULL = any kid */
	const char *alg; /* PEM, HMAC: the one alg it may verify; NULL = all its type fits */
};

struct jwt_keys; /* opaque */

/* An empty key set, or NULL without memory. */
struct jwt_keys *jwt_keys_new(void);

/*
 * Adds the key(s) in one file. Returns 0, or -1 with nothing added and a
 * one-line message naming the file in err:
 *   "keys/api.pem: not a PEM public key or certificate"
 *   "keys/jwks.json: key 2 (kid \"k2\"): bad \"x\": not 32 bytes of base64url"
 * A JWKS key of a type or alg not listed above, or with "use": "enc", is
 * skipped; a JWKS file with no usable key is an error. kid and alg must be
 * NULL for a JWKS file.
 */
int jwt_keys_load(struct jwt_keys *keys, const struct jwt_key_file *file, char *err,
		  size_t errlen) JWT_KEYS_MUST_CHECK;

/* Keys held. */
size_t jwt_keys_count(const struct jwt_keys *keys);

void jwt_keys_free(struct jwt_keys *keys);

/*
 * An identity_verify_fn (ctx is the struct jwt_keys). Tries every key that
 * fits `alg` and whose kid equals `kid` (a key without a kid fits any token, a
 * token without a kid fits any key). Returns 1 when one verifies the
 * signature over signing_input, 0 when some fit and none verifies, -1 when no
 * key fits (unknown alg included). HMAC tags are compared in constant time.
 */
int jwt_keys_verify(void *keys, const char *alg, const char *kid, const uint8_t *signing_input,
		    size_t n, const uint8_t *sig, size_t siglen);

#endif
