/*
 * jwt_keys.c - JWS signature checks with OpenSSL 3 (RFC 7515 5.2, RFC 7518 3,
 * RFC 8037 3.1), keys read from PEM, JWKS (RFC 7517, RFC 7518 6) and HMAC
 * secret files at start-up.
 *
 * Signatures as JWS carries them:
 *   HS*    the HMAC tag, 32/48/64 bytes; compared with CRYPTO_memcmp
 *   RS256  the RSASSA-PKCS1-v1_5 signature, modulus length
 *   ES256  R || S, each 32 bytes big-endian (RFC 7518 3.4) - OpenSSL wants the
 *          DER ECDSA-Sig-Value, so it is rebuilt:
 *            SEQUENCE { INTEGER r, INTEGER s }   (RFC 3279 2.2.3)
 *   EdDSA  the 64-byte Ed25519 signature (RFC 8032 5.1.6)
 * JWKS members are base64url of unsigned big-endian integers (RSA n, e) or of
 * fixed-size coordinates (EC x, y: 32 bytes for P-256; OKP x: 32 bytes).
 *
 * The set is filled once and then only read; every check builds its own
 * EVP_MD_CTX, so concurrent checks share nothing mutable.
 */
#include "jwt_keys.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "../config/readfile.h"
#include "../decoders/base64.h"
#include "../decoders/identity.h"

_Static_assert(_Generic(&jwt_keys_verify, identity_verify_fn: 1, default: 0),
	       "jwt_keys_verify must be an identity_verify_fn");

/* Algorithms, as bits of jwt_key.algs. */
#define A_HS256 0x01u
#define A_HS384 0x02u
#define A_HS512 0x04u
#define A_RS256 0x08u
#define A_ES256 0x10u
#define A_EDDSA 0x20u
#define A_HMAC (A_HS256 | A_HS384 | A_HS512)

/* The longest RSA modulus accepted (16384 bits): bounds the work of one check. */
#define RSA_MAX_BYTES 2048
/* Longest HMAC secret (a secret file is a few dozen bytes). */
#define SECRET_MAX 4096

enum key_type { KT_HMAC, KT_RSA, KT_EC, KT_ED25519 };

struct jwt_key {
	enum key_type type;
	unsigned algs;          /* A_* this key may verify */
	bool has_kid;
	char kid[JWT_KID_MAX];
	EVP_PKEY *pkey;         /* RSA, EC, Ed25519 */
	uint8_t *secret;        /* HMAC */
	size_t secret_len;
};

struct jwt_keys {
	struct jwt_key *keys;
	size_t n;
};

static const struct {
	const char *name;
	unsigned bit;
} alg_names[] = {
	{"HS256", A_HS256}, {"HS384", A_HS384}, {"HS512", A_HS512}, {"RS256", A_RS256},
	{"ES256", A_ES256}, {"EdDSA", A_EDDSA}, {"Ed25519", A_EDDSA}, /* RFC 9864 name */
};

/* JWS "alg" values are case-sensitive (RFC 7515 4.1.1). */
static unsigned alg_bit(const char *alg)
{
	size_t i;

	if (!alg)
		return 0;
	for (i = 0; i < sizeof alg_names / sizeof alg_names[0]; i++)
		if (strcmp(alg, alg_names[i].name) == 0)
			return alg_names[i].bit;
	return 0;
}

static unsigned type_algs(enum key_type t)
{
	switch (t) {
	case KT_HMAC:
		return A_HMAC;
	case KT_RSA:
		return A_RS256;
	case KT_EC:
		return A_ES256;
	case KT_ED25519:
		return A_EDDSA;
	}
	return 0;
}

static const char *type_name(enum key_type t)
{
	switch (t) {
	case KT_HMAC:
		return "an HMAC secret";
	case KT_RSA:
		return "an RSA key";
	case KT_EC:
		return "an EC P-256 key";
	case KT_ED25519:
		return "an Ed25519 key";
	}
	return "a key";
}

/* User text for a message: printable ASCII, at most 40 bytes, quoted. */
static const char *quote(char *dst, size_t cap, const char *s)
{
	size_t n = 0, i;

	dst[n++] = '"';
	for (i = 0; s[i] && i < 40 && n + 5 < cap; i++)
		dst[n++] = (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"') ? s[i] : '?';
	if (s[i] && n + 5 < cap) {
		memcpy(dst + n, "...", 3);
		n += 3;
	}
	dst[n++] = '"';
	dst[n] = '\0';
	return dst;
}

/* ---- the set ---- */

struct jwt_keys *jwt_keys_new(void)
{
	return calloc(1, sizeof(struct jwt_keys));
}

size_t jwt_keys_count(const struct jwt_keys *keys)
{
	return keys ? keys->n : 0;
}

static void key_clear(struct jwt_key *k)
{
	EVP_PKEY_free(k->pkey);
	if (k->secret) {
		OPENSSL_cleanse(k->secret, k->secret_len);
		free(k->secret);
	}
	memset(k, 0, sizeof *k);
}

void jwt_keys_free(struct jwt_keys *keys)
{
	size_t i;

	if (!keys)
		return;
	for (i = 0; i < keys->n; i++)
		key_clear(&keys->keys[i]);
	free(keys->keys);
	free(keys);
}

/* ---- reading files ---- */

static void free_file(char *buf, size_t len)
{
	if (buf) {
		OPENSSL_cleanse(buf, len); /* may be a secret */
		free(buf);
	}
}

/* ---- building keys ---- */

/* Appends a key (taking pkey or secret); -1 when the set is full. */
static int add_key(struct jwt_keys *keys, const struct jwt_key *k, const char *path, char *err,
		   size_t errlen)
{
	struct jwt_key *grown;

	if (keys->n >= JWT_KEYS_MAX) {
		snprintf(err, errlen, "%s: more than %d keys in all", path, JWT_KEYS_MAX);
		return -1;
	}
	grown = realloc(keys->keys, (keys->n + 1) * sizeof keys->keys[0]);
	if (!grown) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	keys->keys = grown;
	keys->keys[keys->n++] = *k;
	return 0;
}

static enum key_type pkey_type(EVP_PKEY *pkey, bool *ok)
{
	char group[64];

	*ok = true;
	switch (EVP_PKEY_get_base_id(pkey)) {
	case EVP_PKEY_RSA:
		return KT_RSA;
	case EVP_PKEY_ED25519:
		return KT_ED25519;
	case EVP_PKEY_EC:
		if (EVP_PKEY_get_group_name(pkey, group, sizeof group, NULL) &&
		    (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0))
			return KT_EC;
		break;
	default:
		break;
	}
	*ok = false;
	return KT_HMAC;
}

/* kid and alg restriction from the configuration onto k; -1 when they do not fit. */
static int apply_file_options(struct jwt_key *k, const struct jwt_key_file *f, char *err,
			      size_t errlen)
{
	char q[64];

	k->algs = type_algs(k->type);
	if (f->alg) {
		unsigned bit = alg_bit(f->alg);
		if (!bit) {
			snprintf(err, errlen, "%s: unknown alg %s (use HS256, HS384, HS512, RS256, "
					      "ES256 or EdDSA)",
				 f->path, quote(q, sizeof q, f->alg));
			return -1;
		}
		if (!(bit & k->algs)) {
			snprintf(err, errlen, "%s: %s cannot verify %s", f->path, type_name(k->type),
				 f->alg);
			return -1;
		}
		k->algs = bit;
	}
	if (f->kid) {
		if (strlen(f->kid) >= sizeof k->kid || !f->kid[0]) {
			snprintf(err, errlen, "%s: kid must be 1-%zu bytes", f->path, sizeof k->kid - 1);
			return -1;
		}
		snprintf(k->kid, sizeof k->kid, "%s", f->kid);
		k->has_kid = true;
	}
	return 0;
}

static int load_pem(struct jwt_keys *keys, const struct jwt_key_file *f, const char *text,
		    size_t len, char *err, size_t errlen)
{
	struct jwt_key k = {0};
	EVP_PKEY *pkey = NULL;
	X509 *cert = NULL;
	BIO *bio;
	bool ok;

	/* A private key on a passive sensor is a secret that need not be there. */
	if (strstr(text, "PRIVATE KEY-----")) {
		snprintf(err, errlen, "%s: holds a private key; give the public key "
				      "(openssl pkey -in KEY -pubout)",
			 f->path);
		return -1;
	}
	bio = BIO_new_mem_buf(text, (int)len);
	if (!bio) {
		snprintf(err, errlen, "%s: out of memory", f->path);
		return -1;
	}
	pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	if (!pkey) {
		(void)BIO_reset(bio);
		cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
		if (cert)
			pkey = X509_get_pubkey(cert);
		X509_free(cert);
	}
	BIO_free(bio);
	if (!pkey) {
		snprintf(err, errlen, "%s: not a PEM public key or certificate "
				      "(\"-----BEGIN PUBLIC KEY-----\")",
			 f->path);
		return -1;
	}
	k.type = pkey_type(pkey, &ok);
	if (!ok) {
		snprintf(err, errlen, "%s: unsupported key type (use RSA, EC P-256 or Ed25519)",
			 f->path);
		EVP_PKEY_free(pkey);
		return -1;
	}
	if (k.type == KT_RSA && EVP_PKEY_get_size(pkey) > RSA_MAX_BYTES) {
		snprintf(err, errlen, "%s: RSA key larger than %d bits", f->path, RSA_MAX_BYTES * 8);
		EVP_PKEY_free(pkey);
		return -1;
	}
	k.pkey = pkey;
	if (apply_file_options(&k, f, err, errlen) != 0 || add_key(keys, &k, f->path, err, errlen) != 0) {
		EVP_PKEY_free(pkey);
		return -1;
	}
	return 0;
}

static int load_hmac(struct jwt_keys *keys, const struct jwt_key_file *f, const char *text,
		     size_t len, char *err, size_t errlen)
{
	struct jwt_key k = {.type = KT_HMAC};

	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		len--;
	if (len == 0) {
		snprintf(err, errlen, "%s: empty HMAC secret", f->path);
		return -1;
	}
	if (len > SECRET_MAX) {
		snprintf(err, errlen, "%s: HMAC secret longer than %d bytes", f->path, SECRET_MAX);
		return -1;
	}
	if (apply_file_options(&k, f, err, errlen) != 0)
		return -1;
	k.secret = malloc(len);
	if (!k.secret) {
		snprintf(err, errlen, "%s: out of memory", f->path);
		return -1;
	}
	memcpy(k.secret, text, len);
	k.secret_len = len;
	if (add_key(keys, &k, f->path, err, errlen) != 0) {
		key_clear(&k);
		return -1;
	}
	return 0;
}

/* ---- JWKS ---- */

/* Context of one JWK, for messages. */
struct jwk_ctx {
	const char *path;
	size_t index; /* 1-based */
	const char *kid;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 2, 3)))
static int jwk_fail(const struct jwk_ctx *c, const char *fmt, ...)
{
	char msg[256], q[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (c->kid)
		snprintf(c->err, c->errlen, "%s: key %zu (kid %s): %s", c->path, c->index,
			 quote(q, sizeof q, c->kid), msg);
	else
		snprintf(c->err, c->errlen, "%s: key %zu: %s", c->path, c->index, msg);
	return -1;
}

/* Member `name` as base64url bytes (RFC 7518 6): exactly `want` bytes (0 = 1..cap). */
static long jwk_bytes(const struct jwk_ctx *c, json_t *jwk, const char *name, uint8_t *out,
		      size_t cap, size_t want)
{
	json_t *v = json_object_get(jwk, name);
	const char *s;
	size_t n;
	long len;

	if (!json_is_string(v))
		return jwk_fail(c, "no \"%s\"", name);
	s = json_string_value(v);
	n = json_string_length(v);
	while (n > 0 && s[n - 1] == '=')
		n--; /* JWK members are unpadded (RFC 7518 6): any trailing '=' are dropped */
	len = base64_decode(s, n, true, out, cap);
	if (want && len != (long)want)
		return jwk_fail(c, "bad \"%s\": not %zu bytes of base64url", name, want);
	if (len <= 0)
		return jwk_fail(c, "bad \"%s\": not base64url (at most %zu bytes)", name, cap);
	return len;
}

static EVP_PKEY *from_params(const char *type, OSSL_PARAM_BLD *bld)
{
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	EVP_PKEY *pkey = NULL;

	if (params && ctx && EVP_PKEY_fromdata_init(ctx) == 1 &&
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
		pkey = NULL;
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return pkey;
}

static EVP_PKEY *jwk_rsa(const struct jwk_ctx *c, json_t *jwk)
{
	uint8_t n[RSA_MAX_BYTES], e[16];
	long nlen, elen;
	BIGNUM *bn_n = NULL, *bn_e = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	EVP_PKEY *pkey = NULL;

	nlen = jwk_bytes(c, jwk, "n", n, sizeof n, 0);
	if (nlen < 0)
		return NULL;
	elen = jwk_bytes(c, jwk, "e", e, sizeof e, 0);
	if (elen < 0)
		return NULL;
	bn_n = BN_bin2bn(n, (int)nlen, NULL);
	bn_e = BN_bin2bn(e, (int)elen, NULL);
	bld = OSSL_PARAM_BLD_new();
	if (bn_n && bn_e && bld && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e))
		pkey = from_params("RSA", bld);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn_n);
	BN_free(bn_e);
	if (!pkey)
		jwk_fail(c, "not a valid RSA public key");
	return pkey;
}

static EVP_PKEY *jwk_ec(const struct jwk_ctx *c, json_t *jwk)
{
	uint8_t pt[65];
	OSSL_PARAM_BLD *bld;
	EVP_PKEY *pkey = NULL;
	EVP_PKEY_CTX *chk;

	/* Uncompressed point (SEC 1 2.3.3): 0x04 || x || y. */
	pt[0] = 4;
	if (jwk_bytes(c, jwk, "x", pt + 1, 32, 32) < 0 || jwk_bytes(c, jwk, "y", pt + 33, 32, 32) < 0)
		return NULL;
	bld = OSSL_PARAM_BLD_new();
	if (bld && OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) &&
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof pt))
		pkey = from_params("EC", bld);
	OSSL_PARAM_BLD_free(bld);
	/* The point must be on the curve. */
	chk = pkey ? EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL) : NULL;
	if (pkey && (!chk || EVP_PKEY_public_check(chk) != 1)) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
	EVP_PKEY_CTX_free(chk);
	if (!pkey)
		jwk_fail(c, "not a valid P-256 public key");
	return pkey;
}

static EVP_PKEY *jwk_ed25519(const struct jwk_ctx *c, json_t *jwk)
{
	uint8_t x[32];
	EVP_PKEY *pkey;

	if (jwk_bytes(c, jwk, "x", x, sizeof x, sizeof x) < 0)
		return NULL;
	pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x, sizeof x);
	if (!pkey)
		jwk_fail(c, "not a valid Ed25519 public key");
	return pkey;
}

static const char *member(json_t *jwk, const char *name)
{
	json_t *v = json_object_get(jwk, name);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/*
 * One JWK. Returns 1 added, 0 skipped (a type or use this module does not
 * verify), -1 error.
 */
static int load_jwk(struct jwt_keys *keys, struct jwk_ctx *c, json_t *jwk)
{
	const char *kty, *crv, *alg, *use;
	struct jwt_key k = {0};
	json_t *kidv;

	if (!json_is_object(jwk))
		return jwk_fail(c, "not a JSON object");
	kidv = json_object_get(jwk, "kid");
	if (kidv && !json_is_string(kidv))
		return jwk_fail(c, "\"kid\" is not a string");
	c->kid = member(jwk, "kid");
	kty = member(jwk, "kty");
	crv = member(jwk, "crv");
	alg = member(jwk, "alg");
	use = member(jwk, "use");
	if (!kty)
		return jwk_fail(c, "no \"kty\"");
	if (use && strcmp(use, "sig") != 0)
		return 0;
	if (strcmp(kty, "RSA") == 0)
		k.type = KT_RSA;
	else if (strcmp(kty, "EC") == 0 && crv && strcmp(crv, "P-256") == 0)
		k.type = KT_EC;
	else if (strcmp(kty, "OKP") == 0 && crv && strcmp(crv, "Ed25519") == 0)
		k.type = KT_ED25519;
	else if (strcmp(kty, "oct") == 0)
		k.type = KT_HMAC;
	else
		return 0;
	k.algs = type_algs(k.type);
	if (alg) {
		unsigned bit = alg_bit(alg);
		if (!(bit & k.algs))
			return 0; /* e.g. RS512, PS256, or an alg that does not fit the kty */
		k.algs = bit;
	}
	if (c->kid) {
		if (json_string_length(kidv) == 0 || json_string_length(kidv) >= sizeof k.kid)
			return jwk_fail(c, "\"kid\" must be 1-%zu bytes", sizeof k.kid - 1);
		memcpy(k.kid, c->kid, json_string_length(kidv) + 1);
		k.has_kid = true;
	}
	switch (k.type) {
	case KT_RSA:
		k.pkey = jwk_rsa(c, jwk);
		break;
	case KT_EC:
		k.pkey = jwk_ec(c, jwk);
		break;
	case KT_ED25519:
		k.pkey = jwk_ed25519(c, jwk);
		break;
	case KT_HMAC: {
		uint8_t secret[SECRET_MAX];
		long len = jwk_bytes(c, jwk, "k", secret, sizeof secret, 0);
		if (len < 0)
			return -1;
		k.secret = malloc((size_t)len);
		if (k.secret) {
			memcpy(k.secret, secret, (size_t)len);
			k.secret_len = (size_t)len;
		}
		OPENSSL_cleanse(secret, sizeof secret);
		if (!k.secret)
			return jwk_fail(c, "out of memory");
		break;
	}
	}
	if (!k.pkey && !k.secret)
		return -1;
	if (add_key(keys, &k, c->path, c->err, c->errlen) != 0) {
		key_clear(&k);
		return -1;
	}
	return 1;
}

static int load_jwks(struct jwt_keys *keys, const struct jwt_key_file *f, const char *text,
		     size_t len, char *err, size_t errlen)
{
	struct jwk_ctx c = {.path = f->path, .err = err, .errlen = errlen};
	size_t before = keys->n, i, used = 0;
	json_error_t jerr;
	json_t *root, *list, *jwk;
	int rc = -1;

	if (f->kid || f->alg) {
		snprintf(err, errlen, "%s: kid and alg come from the JWKS file itself", f->path);
		return -1;
	}
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		snprintf(err, errlen, "%s:%d:%d: not JSON: %s", f->path, jerr.line, jerr.column,
			 jerr.text);
		return -1;
	}
	list = json_object_get(root, "keys");
	if (!json_is_object(root) || (!json_is_array(list) && !json_object_get(root, "kty"))) {
		snprintf(err, errlen, "%s: not a JWKS (expected {\"keys\": [...]} or one JWK)",
			 f->path);
		goto out;
	}
	if (json_is_array(list)) {
		json_array_foreach(list, i, jwk) {
			c.index = i + 1;
			c.kid = NULL;
			int r = load_jwk(keys, &c, jwk);
			if (r < 0)
				goto out;
			used += (size_t)r;
		}
	} else {
		c.index = 1;
		int r = load_jwk(keys, &c, root);
		if (r < 0)
			goto out;
		used += (size_t)r;
	}
	if (used == 0) {
		snprintf(err, errlen, "%s: no usable key (supported: RSA RS256, EC P-256 ES256, "
				      "OKP Ed25519 EdDSA, oct HS256/HS384/HS512)",
			 f->path);
		goto out;
	}
	rc = 0;
out:
	if (rc != 0)
		while (keys->n > before)
			key_clear(&keys->keys[--keys->n]);
	json_decref(root);
	return rc;
}

int jwt_keys_load(struct jwt_keys *keys, const struct jwt_key_file *f, char *err, size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	rc = readfile_whole(f->path, JWT_KEY_FILE_MAX, &text, &len, err, errlen);
	if (rc == 1)
		snprintf(err, errlen, "%s: larger than %u KiB, not a key file", f->path,
			 JWT_KEY_FILE_MAX / 1024);
	if (rc != 0)
		return -1;
	switch (f->format) {
	case JWT_KEY_PEM:
		rc = load_pem(keys, f, text, len, err, errlen);
		break;
	case JWT_KEY_JWKS:
		rc = load_jwks(keys, f, text, len, err, errlen);
		break;
	case JWT_KEY_HMAC:
		rc = load_hmac(keys, f, text, len, err, errlen);
		break;
	default:
		snprintf(err, errlen, "%s: unknown key file format", f->path);
		rc = -1;
		break;
	}
	free_file(text, len);
	return rc;
}

/* ---- checking ---- */

static int verify_hmac(const struct jwt_key *k, unsigned alg, const uint8_t *in, size_t n,
		       const uint8_t *sig, size_t siglen)
{
	const EVP_MD *md = alg == A_HS256 ? EVP_sha256() : alg == A_HS384 ? EVP_sha384() : EVP_sha512();
	unsigned char tag[EVP_MAX_MD_SIZE];
	unsigned int taglen = 0;
	int ok;

	if (!HMAC(md, k->secret, (int)k->secret_len, in, n, tag, &taglen))
		return 0;
	/* The length is public (it follows from alg); the bytes are compared in constant time. */
	ok = siglen == taglen && CRYPTO_memcmp(tag, sig, taglen) == 0;
	OPENSSL_cleanse(tag, sizeof tag);
	return ok;
}

/* R || S (32 + 32 bytes) -> DER ECDSA-Sig-Value into der[cap]; its length, or 0. */
static size_t es256_der(const uint8_t *sig, uint8_t *der, size_t cap)
{
	ECDSA_SIG *es = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(sig, 32, NULL), *s = BN_bin2bn(sig + 32, 32, NULL);
	unsigned char *p = der;
	int len = 0;

	if (es && r && s && ECDSA_SIG_set0(es, r, s) == 1) {
		r = s = NULL; /* owned by es now */
		if (i2d_ECDSA_SIG(es, NULL) <= (int)cap)
			len = i2d_ECDSA_SIG(es, &p);
	}
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(es);
	return len > 0 ? (size_t)len : 0;
}

static int verify_pkey(const struct jwt_key *k, const uint8_t *in, size_t n, const uint8_t *sig,
		       size_t siglen)
{
	uint8_t der[80]; /* 2 + 2 * (2 + 33) */
	EVP_MD_CTX *ctx;
	const EVP_MD *md = NULL;
	int ok = 0;

	switch (k->type) {
	case KT_RSA:
		md = EVP_sha256();
		if (siglen != (size_t)EVP_PKEY_get_size(k->pkey))
			return 0;
		break;
	case KT_EC:
		md = EVP_sha256();
		if (siglen != 64)
			return 0; /* JWS ES256 is exactly R || S, never DER (RFC 7518 3.4) */
		siglen = es256_der(sig, der, sizeof der);
		if (siglen == 0)
			return 0;
		sig = der;
		break;
	case KT_ED25519:
		if (siglen != 64)
			return 0;
		break; /* Ed25519 hashes internally: no digest */
	case KT_HMAC:
		return 0;
	}
	ctx = EVP_MD_CTX_new();
	if (ctx && EVP_DigestVerifyInit(ctx, NULL, md, NULL, k->pkey) == 1)
		ok = EVP_DigestVerify(ctx, sig, siglen, in, n) == 1;
	EVP_MD_CTX_free(ctx);
	return ok;
}

int jwt_keys_verify(void *ctx, const char *alg, const char *kid, const uint8_t *in, size_t n,
		    const uint8_t *sig, size_t siglen)
{
	const struct jwt_keys *keys = ctx;
	unsigned bit = alg_bit(alg);
	bool fitted = false;
	size_t i;

	if (!keys || !bit)
		return -1;
	for (i = 0; i < keys->n; i++) {
		const struct jwt_key *k = &keys->keys[i];
		if (!(k->algs & bit))
			continue;
		if (kid && k->has_kid && strcmp(kid, k->kid) != 0)
			continue;
		fitted = true;
		if (k->type == KT_HMAC ? verify_hmac(k, bit, in, n, sig, siglen)
				       : verify_pkey(k, in, n, sig, siglen))
			return 1;
	}
	return fitted ? 0 : -1;
}
