/*
 * test_jwt_keys.c - JWT signature checks against real tokens: keys are made
 * and tokens signed at test time by the `openssl` command, in a fresh
 * temporary directory, for every algorithm (HS256/384/512, RS256, ES256,
 * EdDSA), with keys loaded from PEM, JWKS and secret files. Each token must
 * verify with its key and fail with another key, with a flipped signature
 * byte and with a changed payload; kid selection, algorithm confusion and
 * every load error are checked too. Without the openssl binary the tests
 * print "skip" and pass.
 */
#include "unit.h"

#include <ftw.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "../decoders/identity.h"
#include "../sensor/jwt_keys.h"

static char dir[64];
static bool have_openssl;

/* ---- helpers ---- */

/* Runs a shell command in dir, output discarded; true when it exited 0. */
__attribute__((format(printf, 1, 2)))
static bool sh(const char *fmt, ...)
{
	char cmd[2048];
	int n;
	va_list ap;

	n = snprintf(cmd, sizeof cmd, "cd '%s' && (", dir);
	va_start(ap, fmt);
	n += vsnprintf(cmd + n, sizeof cmd - (size_t)n, fmt, ap);
	va_end(ap);
	snprintf(cmd + n, sizeof cmd - (size_t)n, ") >/dev/null 2>&1");
	return system(cmd) == 0;
}

static char *path_of(const char *name, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s/%s", dir, name);
	return buf;
}

/* Whole file dir/name into buf[cap]; its length, or -1. */
static long slurp(const char *name, uint8_t *buf, size_t cap)
{
	char path[256];
	FILE *f = fopen(path_of(name, path, sizeof path), "rb");
	size_t n;

	if (!f)
		return -1;
	n = fread(buf, 1, cap, f);
	fclose(f);
	return (long)n;
}

static void spit(const char *name, const void *data, size_t len)
{
	char path[256];
	FILE *f = fopen(path_of(name, path, sizeof path), "wb");

	CHECK(f != NULL);
	if (!f)
		return;
	CHECK_EQ(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void spits(const char *name, const char *text)
{
	spit(name, text, strlen(text));
}

static void b64url(const uint8_t *in, size_t n, char *out)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t i, o = 0;

	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = a[v >> 18];
		out[o++] = a[(v >> 12) & 63];
		out[o++] = a[(v >> 6) & 63];
		out[o++] = a[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;
		out[o++] = a[v >> 18];
		out[o++] = a[(v >> 12) & 63];
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = a[v >> 18];
		out[o++] = a[(v >> 12) & 63];
		out[o++] = a[(v >> 6) & 63];
	}
	out[o] = '\0';
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
				     : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/*
 * DER ECDSA-Sig-Value (SEQUENCE { INTEGER r, INTEGER s }, as `openssl dgst
 * -sign` writes it) -> JWS R || S, 32 bytes each. Parsed by hand so the test
 * does not share the conversion code it checks. Returns 0 or -1.
 */
static int der_to_raw(const uint8_t *der, size_t len, uint8_t out[64])
{
	size_t off = 2, k;

	if (len < 8 || der[0] != 0x30 || der[1] != len - 2)
		return -1;
	memset(out, 0, 64);
	for (k = 0; k < 2; k++) {
		size_t ilen;
		if (off + 2 > len || der[off] != 0x02)
			return -1;
		ilen = der[off + 1];
		off += 2;
		if (off + ilen > len)
			return -1;
		const uint8_t *p = der + off;
		size_t n = ilen;
		while (n > 32 && *p == 0) {
			p++;
			n--;
		}
		if (n > 32)
			return -1;
		memcpy(out + 32 * k + (32 - n), p, n);
		off += ilen;
	}
	return off == len ? 0 : -1;
}

/* Signs the bytes in dir/"input" with `alg` and key file `key`; raw JWS signature into sig. */
static long sign(const char *alg, const char *key, uint8_t *sig, size_t cap)
{
	uint8_t der[256];
	long n;
	bool ok;

	unlink(path_of("sig", (char[256]){0}, 256));
	if (strncmp(alg, "HS", 2) == 0) {
		/* key is the secret file; openssl gets it as hex, so any byte works. */
		uint8_t secret[512];
		char hex[1100];
		long sl = slurp(key, secret, sizeof secret);
		while (sl > 0 && (secret[sl - 1] == '\n' || secret[sl - 1] == '\r'))
			sl--;
		for (long i = 0; i < sl; i++)
			snprintf(hex + 2 * i, 3, "%02x", secret[i]);
		ok = sh("openssl dgst -sha%s -mac HMAC -macopt hexkey:%s -binary -out sig input", alg + 2,
			hex);
	} else if (strcmp(alg, "EdDSA") == 0) {
		ok = sh("openssl pkeyutl -sign -inkey %s -rawin -in input -out sig", key);
	} else {
		ok = sh("openssl dgst -sha256 -sign %s -out sig input", key);
	}
	CHECK(ok);
	if (!ok)
		return -1;
	if (strcmp(alg, "ES256") == 0) {
		n = slurp("sig", der, sizeof der);
		if (cap < 64 || der_to_raw(der, (size_t)n, sig) != 0) {
			CHECK(!"DER signature");
			return -1;
		}
		return 64;
	}
	return slurp("sig", sig, cap);
}

struct token {
	char text[4096];
	size_t input_len; /* bytes of the signing input (header.payload) */
	uint8_t sig[1024];
	size_t siglen;
};

/* A JWT with header {"alg":alg[,"kid":kid],"typ":"JWT"} and `payload`, signed by `key`. */
static bool make_token(struct token *t, const char *alg, const char *kid, const char *payload,
		       const char *key)
{
	char header[256], h64[512], p64[2048];
	long n;

	if (kid)
		snprintf(header, sizeof header, "{\"alg\":\"%s\",\"kid\":\"%s\",\"typ\":\"JWT\"}", alg,
			 kid);
	else
		snprintf(header, sizeof header, "{\"alg\":\"%s\",\"typ\":\"JWT\"}", alg);
	b64url((const uint8_t *)header, strlen(header), h64);
	b64url((const uint8_t *)payload, strlen(payload), p64);
	snprintf(t->text, sizeof t->text, "%s.%s", h64, p64);
	t->input_len = strlen(t->text);
	spit("input", t->text, t->input_len);
	n = sign(strcmp(alg, "Ed25519") == 0 ? "EdDSA" : alg, key, t->sig, sizeof t->sig);
	if (n <= 0)
		return false;
	t->siglen = (size_t)n;
	strcat(t->text, ".");
	b64url(t->sig, t->siglen, t->text + strlen(t->text));
	return true;
}

static int verify(struct jwt_keys *k, const char *alg, const char *kid, const struct token *t)
{
	return jwt_keys_verify(k, alg, kid, (const uint8_t *)t->text, t->input_len, t->sig, t->siglen);
}

/* The flags identity_offer_header sets for "Bearer <token>" with these keys. */
static uint16_t sig_flags(struct jwt_keys *k, const char *token)
{
	char hdr[4200];
	struct identity id;

	snprintf(hdr, sizeof hdr, "Bearer %s", token);
	identity_init(&id);
	identity_offer_header(&id, NULL, "Authorization", 13, hdr, strlen(hdr), jwt_keys_verify, k);
	identity_finish(&id, 1764318000ull * 1000000, 0);
	CHECK_EQ(id.kind, ID_JWT);
	CHECK_STR(id.id, "alice");
	return id.flags & (ID_FLAG_VERIFIED | ID_FLAG_BAD_SIGNATURE);
}

static struct jwt_keys *keys_of(const char *file, enum jwt_key_format fmt, const char *kid,
				const char *alg)
{
	struct jwt_keys *k = jwt_keys_new();
	struct jwt_key_file f = {.format = fmt, .kid = kid, .alg = alg};
	char path[256], err[512] = "";

	CHECK(k != NULL);
	f.path = path_of(file, path, sizeof path);
	if (jwt_keys_load(k, &f, err, sizeof err) != 0) {
		fprintf(stderr, "  load %s: %s\n", file, err);
		CHECK(!"key file loads");
	}
	return k;
}

/* Loads a file that must fail; returns the message with the directory cut off. */
static const char *load_error(const char *file, enum jwt_key_format fmt, const char *kid,
			      const char *alg, char *err, size_t errlen)
{
	struct jwt_keys *k = jwt_keys_new();
	struct jwt_key_file f = {.format = fmt, .kid = kid, .alg = alg};
	char path[256];
	size_t dl = strlen(dir) + 1;

	f.path = path_of(file, path, sizeof path);
	err[0] = '\0';
	CHECK_EQ(jwt_keys_load(k, &f, err, errlen), -1);
	CHECK_EQ(jwt_keys_count(k), 0);
	CHECK(strchr(err, '\n') == NULL);
	jwt_keys_free(k);
	if (strncmp(err, path, dl) == 0)
		return err + dl;
	return err;
}

/* ---- key material (made once) ---- */

static void make_keys(void)
{
	CHECK(sh("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa1.key"));
	CHECK(sh("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa2.key"));
	CHECK(sh("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec1.key"));
	CHECK(sh("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec2.key"));
	CHECK(sh("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out p384.key"));
	CHECK(sh("openssl genpkey -algorithm ED25519 -out ed1.key"));
	CHECK(sh("openssl genpkey -algorithm ED25519 -out ed2.key"));
	for (int i = 0; i < 7; i++) {
		static const char *const names[] = {"rsa1", "rsa2", "ec1", "ec2", "p384", "ed1", "ed2"};
		CHECK(sh("openssl pkey -in %s.key -pubout -out %s.pub", names[i], names[i]));
		CHECK(sh("openssl pkey -pubin -in %s.pub -outform DER -out %s.der", names[i], names[i]));
	}
	CHECK(sh("openssl req -x509 -new -key rsa1.key -subj /CN=idp -days 2 -out rsa1.crt"));
	spits("hs1.secret", "correct horse battery staple\n"); /* trailing newline: not the secret */
	spits("hs2.secret", "another secret entirely");
}

/* The JWK of a public key made above, with kid (NULL: none). */
static void jwk_of(const char *name, const char *kid, char *out, size_t cap)
{
	char kidm[160] = "", x[64], y[64];
	uint8_t der[600];
	long n = slurp(strcat(strcpy((char[64]){0}, name), ".der"), der, sizeof der);

	if (kid)
		snprintf(kidm, sizeof kidm, "\"kid\":\"%s\",", kid);
	if (strncmp(name, "rsa", 3) == 0) {
		/* Modulus from `openssl rsa -modulus`; the exponent genpkey uses is 65537 ("AQAB"). */
		char cmd[512], line[1200], *hex;
		uint8_t mod[512];
		size_t mlen = 0;
		char n64[800];
		snprintf(cmd, sizeof cmd, "openssl rsa -pubin -in '%s/%s.pub' -modulus -noout", dir, name);
		FILE *p = popen(cmd, "r");
		CHECK(p != NULL);
		if (!p || !fgets(line, sizeof line, p))
			line[0] = '\0';
		if (p)
			pclose(p);
		hex = strchr(line, '=');
		for (hex = hex ? hex + 1 : line; hexval(hex[0]) >= 0 && hexval(hex[1]) >= 0; hex += 2)
			mod[mlen++] = (uint8_t)(hexval(hex[0]) << 4 | hexval(hex[1]));
		CHECK_EQ(mlen, 256);
		b64url(mod, mlen, n64);
		snprintf(out, cap, "{\"kty\":\"RSA\",%s\"use\":\"sig\",\"n\":\"%s\",\"e\":\"AQAB\"}", kidm,
			 n64);
	} else if (strncmp(name, "ec", 2) == 0) {
		/* SubjectPublicKeyInfo ends with the point 04 || x || y. */
		CHECK(n > 65 && der[n - 65] == 4);
		b64url(der + n - 64, 32, x);
		b64url(der + n - 32, 32, y);
		snprintf(out, cap, "{\"kty\":\"EC\",%s\"crv\":\"P-256\",\"alg\":\"ES256\",\"x\":\"%s\",\"y\":\"%s\"}",
			 kidm, x, y);
	} else {
		/* Ed25519 SubjectPublicKeyInfo is 44 bytes ending with the 32-byte key. */
		CHECK_EQ(n, 44);
		b64url(der + n - 32, 32, x);
		snprintf(out, cap, "{\"kty\":\"OKP\",%s\"crv\":\"Ed25519\",\"x\":\"%s\"}", kidm, x);
	}
}

static void write_jwks(const char *file, const char *const *jwks, size_t n)
{
	char text[16384];
	size_t i;

	snprintf(text, sizeof text, "{\"keys\":[");
	for (i = 0; i < n; i++) {
		if (i)
			strcat(text, ",");
		strcat(text, jwks[i]);
	}
	strcat(text, "]}\n");
	spit(file, text, strlen(text));
}

/* ---- tests ---- */

static const char payload[] = "{\"sub\":\"alice\",\"iss\":\"https://idp.example\",\"exp\":4102444800}";

/* For each alg: right key verifies, wrong key / flipped byte / changed payload do not. */
static void test_every_alg(void)
{
	static const struct {
		const char *alg, *key1, *key2;   /* key files: signer and another */
		const char *pub1, *pub2;         /* what is loaded */
		enum jwt_key_format fmt;
	} algs[] = {
		{"HS256", "hs1.secret", "hs2.secret", "hs1.secret", "hs2.secret", JWT_KEY_HMAC},
		{"HS384", "hs1.secret", "hs2.secret", "hs1.secret", "hs2.secret", JWT_KEY_HMAC},
		{"HS512", "hs1.secret", "hs2.secret", "hs1.secret", "hs2.secret", JWT_KEY_HMAC},
		{"RS256", "rsa1.key", "rsa2.key", "rsa1.pub", "rsa2.pub", JWT_KEY_PEM},
		{"ES256", "ec1.key", "ec2.key", "ec1.pub", "ec2.pub", JWT_KEY_PEM},
		{"EdDSA", "ed1.key", "ed2.key", "ed1.pub", "ed2.pub", JWT_KEY_PEM},
		{"Ed25519", "ed1.key", "ed2.key", "ed1.pub", "ed2.pub", JWT_KEY_PEM},
	};
	struct token t, t2;
	size_t i;

	if (!have_openssl)
		return;
	for (i = 0; i < sizeof algs / sizeof algs[0]; i++) {
		struct jwt_keys *right = keys_of(algs[i].pub1, algs[i].fmt, NULL, NULL);
		struct jwt_keys *wrong = keys_of(algs[i].pub2, algs[i].fmt, NULL, NULL);
		struct jwt_keys *none = jwt_keys_new();
		int before = unit_failed_checks;

		if (!make_token(&t, algs[i].alg, NULL, payload, algs[i].key1))
			goto next;
		CHECK_EQ(verify(right, algs[i].alg, NULL, &t), 1);
		CHECK_EQ(verify(wrong, algs[i].alg, NULL, &t), 0);
		CHECK_EQ(verify(none, algs[i].alg, NULL, &t), -1);
		CHECK_EQ(sig_flags(right, t.text), ID_FLAG_VERIFIED);
		CHECK_EQ(sig_flags(wrong, t.text), ID_FLAG_BAD_SIGNATURE);
		CHECK_EQ(sig_flags(none, t.text), 0);
		CHECK_EQ(sig_flags(NULL, t.text), 0);

		/* A flipped signature byte (first, middle, last). */
		t2 = t;
		t2.sig[0] ^= 1;
		CHECK_EQ(verify(right, algs[i].alg, NULL, &t2), 0);
		t2 = t;
		t2.sig[t.siglen / 2] ^= 0x80;
		CHECK_EQ(verify(right, algs[i].alg, NULL, &t2), 0);
		t2 = t;
		t2.sig[t.siglen - 1] ^= 0x01;
		CHECK_EQ(verify(right, algs[i].alg, NULL, &t2), 0);
		/* ... through the token text as well. */
		t2 = t;
		char *last = strrchr(t2.text, '.') + 1;
		last[0] = last[0] == 'A' ? 'B' : 'A';
		CHECK_EQ(sig_flags(right, t2.text), ID_FLAG_BAD_SIGNATURE);
		/* A changed payload byte. */
		t2 = t;
		t2.text[t2.input_len - 2] ^= 1;
		CHECK_EQ(verify(right, algs[i].alg, NULL, &t2), 0);
		/* Truncated and over-long signatures. */
		t2 = t;
		t2.siglen--;
		CHECK_EQ(verify(right, algs[i].alg, NULL, &t2), 0);
		t2 = t;
		t2.sig[t2.siglen++] = 0;
		CHECK_EQ(verify(right, algs[i].alg, NULL, &t2), 0);
		t2 = t;
		t2.siglen = 0;
		CHECK_EQ(verify(right, algs[i].alg, NULL, &t2), 0);
	next:
		if (unit_failed_checks != before)
			fprintf(stderr, "  alg %s\n", algs[i].alg);
		jwt_keys_free(right);
		jwt_keys_free(wrong);
		jwt_keys_free(none);
	}
}

/* The same public keys from a JWKS file built from their n/e, x/y, x. */
static void test_jwks(void)
{
	char jwk[4][2048], k64[64];
	struct jwt_keys *k;
	struct token t;

	if (!have_openssl)
		return;
	jwk_of("rsa1", "r1", jwk[0], sizeof jwk[0]);
	jwk_of("ec1", "e1", jwk[1], sizeof jwk[1]);
	jwk_of("ed1", "d1", jwk[2], sizeof jwk[2]);
	/* An HMAC key as a JWK "oct" key: k is base64url of the secret. */
	b64url((const uint8_t *)"correct horse battery staple", 28, k64);
	snprintf(jwk[3], sizeof jwk[3], "{\"kty\":\"oct\",\"kid\":\"h1\",\"alg\":\"HS256\",\"k\":\"%s\"}",
		 k64);
	const char *const list[] = {jwk[0], jwk[1], jwk[2], jwk[3]};
	write_jwks("jwks.json", list, 4);
	k = keys_of("jwks.json", JWT_KEY_JWKS, NULL, NULL);
	CHECK_EQ(jwt_keys_count(k), 4);

	static const struct {
		const char *alg, *kid, *signer;
	} cases[] = {
		{"RS256", "r1", "rsa1.key"}, {"ES256", "e1", "ec1.key"}, {"EdDSA", "d1", "ed1.key"},
		{"HS256", "h1", "hs1.secret"},
	};
	for (size_t i = 0; i < 4; i++) {
		if (!make_token(&t, cases[i].alg, cases[i].kid, payload, cases[i].signer))
			continue;
		CHECK_EQ(verify(k, cases[i].alg, cases[i].kid, &t), 1);
		CHECK_EQ(sig_flags(k, t.text), ID_FLAG_VERIFIED);
		/* no kid in the token: every key of the type is tried */
		CHECK_EQ(verify(k, cases[i].alg, NULL, &t), 1);
		/* a kid no key has: no key */
		CHECK_EQ(verify(k, cases[i].alg, "nope", &t), -1);
		t.sig[3] ^= 4;
		CHECK_EQ(verify(k, cases[i].alg, cases[i].kid, &t), 0);
	}
	/* The JWK alg restricts: the oct key is HS256 only. */
	if (make_token(&t, "HS384", "h1", payload, "hs1.secret"))
		CHECK_EQ(verify(k, "HS384", "h1", &t), -1);
	jwt_keys_free(k);

	/* A single JWK (no "keys") is a JWKS of one. */
	spit("one.json", jwk[2], strlen(jwk[2]));
	k = keys_of("one.json", JWT_KEY_JWKS, NULL, NULL);
	CHECK_EQ(jwt_keys_count(k), 1);
	jwt_keys_free(k);
}

/* kid picks the key: the same alg with two keys. */
static void test_kid_selection(void)
{
	char a[2048], b[2048];
	struct jwt_keys *k;
	struct token t;

	if (!have_openssl)
		return;
	jwk_of("ec2", "old", a, sizeof a);
	jwk_of("ec1", "new", b, sizeof b);
	const char *const list[] = {a, b};
	write_jwks("rotate.json", list, 2);
	k = keys_of("rotate.json", JWT_KEY_JWKS, NULL, NULL);
	if (make_token(&t, "ES256", "new", payload, "ec1.key")) {
		CHECK_EQ(verify(k, "ES256", "new", &t), 1);
		CHECK_EQ(verify(k, "ES256", "old", &t), 0);  /* the key named "old" does not verify it */
		CHECK_EQ(verify(k, "ES256", "other", &t), -1);
		CHECK_EQ(verify(k, "ES256", NULL, &t), 1);
	}
	jwt_keys_free(k);

	/* A PEM key with an explicit kid, and one without (fits any kid). */
	k = keys_of("ec1.pub", JWT_KEY_PEM, "pem-k", NULL);
	if (make_token(&t, "ES256", "pem-k", payload, "ec1.key")) {
		CHECK_EQ(verify(k, "ES256", "pem-k", &t), 1);
		CHECK_EQ(verify(k, "ES256", "x", &t), -1);
		CHECK_EQ(verify(k, "ES256", NULL, &t), 1);
	}
	jwt_keys_free(k);
	k = keys_of("ec1.pub", JWT_KEY_PEM, NULL, NULL);
	CHECK_EQ(verify(k, "ES256", "anything", &t), 1);
	jwt_keys_free(k);
}

/* ES256 carries R || S; the DER form openssl writes must not verify as it is. */
static void test_es256_raw_signatures(void)
{
	struct jwt_keys *k;
	struct token t;
	uint8_t der[128];
	int i;

	if (!have_openssl)
		return;
	k = keys_of("ec1.pub", JWT_KEY_PEM, NULL, NULL);
	/* Several signatures: R and S with high bits and leading zeros come up. */
	for (i = 0; i < 8; i++) {
		char p[128];
		snprintf(p, sizeof p, "{\"sub\":\"alice\",\"n\":%d}", i);
		if (!make_token(&t, "ES256", NULL, p, "ec1.key"))
			continue;
		CHECK_EQ(verify(k, "ES256", NULL, &t), 1);
		long n = slurp("sig", der, sizeof der);
		CHECK(n > 64);
		CHECK_EQ(jwt_keys_verify(k, "ES256", NULL, (const uint8_t *)t.text, t.input_len, der,
					 (size_t)n),
			 0);
		/* S replaced by N - S (the other valid-looking form) or zero: no. */
		memset(t.sig + 32, 0, 32);
		CHECK_EQ(verify(k, "ES256", NULL, &t), 0);
	}
	jwt_keys_free(k);
}

/* A key verifies only its own algorithms (RFC 8725 2.1). */
static void test_no_algorithm_confusion(void)
{
	struct jwt_keys *k;
	struct token t;
	char path[256];

	if (!have_openssl)
		return;
	/* HS256 "signed" with the RSA public key's PEM text as the secret. */
	k = keys_of("rsa1.pub", JWT_KEY_PEM, NULL, NULL);
	if (make_token(&t, "HS256", NULL, payload, "rsa1.pub")) {
		CHECK_EQ(verify(k, "HS256", NULL, &t), -1);
		CHECK_EQ(sig_flags(k, t.text), 0);
	}
	/* An RS256 token against an Ed25519 key, and unknown algs. */
	if (make_token(&t, "RS256", NULL, payload, "rsa1.key")) {
		CHECK_EQ(verify(k, "RS384", NULL, &t), -1);
		CHECK_EQ(verify(k, "PS256", NULL, &t), -1);
		CHECK_EQ(verify(k, "rs256", NULL, &t), -1); /* alg is case-sensitive */
		CHECK_EQ(verify(k, "none", NULL, &t), -1);
		CHECK_EQ(verify(k, "", NULL, &t), -1);
	}
	jwt_keys_free(k);
	k = keys_of("ed1.pub", JWT_KEY_PEM, NULL, NULL);
	CHECK_EQ(verify(k, "RS256", NULL, &t), -1);
	jwt_keys_free(k);

	/* An HMAC file restricted to HS384 does not check HS256. */
	k = keys_of("hs1.secret", JWT_KEY_HMAC, NULL, "HS384");
	if (make_token(&t, "HS256", NULL, payload, "hs1.secret"))
		CHECK_EQ(verify(k, "HS256", NULL, &t), -1);
	if (make_token(&t, "HS384", NULL, payload, "hs1.secret"))
		CHECK_EQ(verify(k, "HS384", NULL, &t), 1);
	jwt_keys_free(k);

	/* A certificate gives its public key. */
	k = keys_of("rsa1.crt", JWT_KEY_PEM, NULL, "RS256");
	if (make_token(&t, "RS256", NULL, payload, "rsa1.key"))
		CHECK_EQ(verify(k, "RS256", NULL, &t), 1);
	jwt_keys_free(k);
	(void)path;
}

/* alg "none" is never sent for checking, whatever keys there are. */
static void test_alg_none_with_keys(void)
{
	struct jwt_keys *k;
	struct identity id;
	char hdr[512];

	if (!have_openssl)
		return;
	k = keys_of("hs1.secret", JWT_KEY_HMAC, NULL, NULL);
	/* {"alg":"none"} . {"sub":"alice"} . (empty) */
	snprintf(hdr, sizeof hdr, "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9.");
	identity_init(&id);
	identity_offer_header(&id, NULL, "Authorization", 13, hdr, strlen(hdr), jwt_keys_verify, k);
	CHECK_EQ(id.kind, ID_JWT);
	CHECK_EQ(id.flags, ID_FLAG_ALG_NONE);
	jwt_keys_free(k);
}

/* Loading several files adds up; each kind of bad file fails with one line naming it. */
static void test_load_errors(void)
{
	char err[512], a[2048];
	struct jwt_keys *k;

	if (!have_openssl)
		return;
	k = jwt_keys_new();
	{
		struct jwt_key_file files[] = {
			{.path = "", .format = JWT_KEY_PEM},
			{.path = "", .format = JWT_KEY_HMAC},
			{.path = "", .format = JWT_KEY_PEM, .kid = "k9", .alg = "EdDSA"},
		};
		char p[3][256];
		files[0].path = path_of("rsa1.pub", p[0], 256);
		files[1].path = path_of("hs1.secret", p[1], 256);
		files[2].path = path_of("ed1.pub", p[2], 256);
		for (int i = 0; i < 3; i++)
			CHECK_EQ(jwt_keys_load(k, &files[i], err, sizeof err), 0);
		CHECK_EQ(jwt_keys_count(k), 3);
	}
	jwt_keys_free(k);
	jwt_keys_free(NULL);

	CHECK_STR(load_error("missing.pem", JWT_KEY_PEM, NULL, NULL, err, sizeof err),
		  "missing.pem: cannot read: No such file or directory");
	CHECK_STR(load_error("rsa1.key", JWT_KEY_PEM, NULL, NULL, err, sizeof err),
		  "rsa1.key: holds a private key; give the public key (openssl pkey -in KEY -pubout)");
	spits("garbage.pem", "hello\n");
	CHECK_STR(load_error("garbage.pem", JWT_KEY_PEM, NULL, NULL, err, sizeof err),
		  "garbage.pem: not a PEM public key or certificate (\"-----BEGIN PUBLIC KEY-----\")");
	CHECK_STR(load_error("p384.pub", JWT_KEY_PEM, NULL, NULL, err, sizeof err),
		  "p384.pub: unsupported key type (use RSA, EC P-256 or Ed25519)");
	CHECK_STR(load_error("rsa1.pub", JWT_KEY_PEM, NULL, "ES256", err, sizeof err),
		  "rsa1.pub: an RSA key cannot verify ES256");
	CHECK_STR(load_error("rsa1.pub", JWT_KEY_PEM, NULL, "RS512", err, sizeof err),
		  "rsa1.pub: unknown alg \"RS512\" (use HS256, HS384, HS512, RS256, ES256 or EdDSA)");
	CHECK_STR(load_error("hs1.secret", JWT_KEY_HMAC, NULL, "RS256", err, sizeof err),
		  "hs1.secret: an HMAC secret cannot verify RS256");
	spits("empty.secret", "\r\n");
	CHECK_STR(load_error("empty.secret", JWT_KEY_HMAC, NULL, NULL, err, sizeof err),
		  "empty.secret: empty HMAC secret");
	CHECK_STR(load_error(".", JWT_KEY_HMAC, NULL, NULL, err, sizeof err),
		  ".: cannot read: Is a directory");

	/* JWKS */
	spits("bad.json", "{\"keys\": [");
	/* jansson's own words follow the position. */
	CHECK(strncmp(load_error("bad.json", JWT_KEY_JWKS, NULL, NULL, err, sizeof err),
		      "bad.json:1:10: not JSON: ", 25) == 0);
	spits("notjwks.json", "{\"issuer\":\"x\"}");
	CHECK_STR(load_error("notjwks.json", JWT_KEY_JWKS, NULL, NULL, err, sizeof err),
		  "notjwks.json: not a JWKS (expected {\"keys\": [...]} or one JWK)");
	spits("enc.json", "{\"keys\":[{\"kty\":\"RSA\",\"use\":\"enc\",\"n\":\"AQAB\",\"e\":\"AQAB\"},"
	     "{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"\",\"y\":\"\"},{\"kty\":\"RSA\",\"alg\":\"PS256\"}]}");
	CHECK_STR(load_error("enc.json", JWT_KEY_JWKS, NULL, NULL, err, sizeof err),
		  "enc.json: no usable key (supported: RSA RS256, EC P-256 ES256, OKP Ed25519 EdDSA, "
		  "oct HS256/HS384/HS512)");
	spits("short.json", "{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"kid\":\"k\\\"1\",\"x\":\"AAAA\"}]}");
	CHECK_STR(load_error("short.json", JWT_KEY_JWKS, NULL, NULL, err, sizeof err),
		  "short.json: key 1 (kid \"k?1\"): bad \"x\": not 32 bytes of base64url");
	spits("nokty.json", "{\"keys\":[{\"n\":\"AQAB\"}]}");
	CHECK_STR(load_error("nokty.json", JWT_KEY_JWKS, NULL, NULL, err, sizeof err),
		  "nokty.json: key 1: no \"kty\"");
	spits("noe.json", "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\"},{\"kty\":\"RSA\",\"n\":\"AQAB\"}]}");
	CHECK_STR(load_error("noe.json", JWT_KEY_JWKS, NULL, NULL, err, sizeof err),
		  "noe.json: key 1: no \"x\"");
	/* A point not on the curve. */
	jwk_of("ec1", NULL, a, sizeof a);
	char *y = strstr(a, "\"y\":\"") + 5;
	y[5] = y[5] == 'A' ? 'B' : 'A';
	spit("offcurve.json", a, strlen(a));
	CHECK_STR(load_error("offcurve.json", JWT_KEY_JWKS, NULL, NULL, err, sizeof err),
		  "offcurve.json: key 1: not a valid P-256 public key");
	jwk_of("ed1", NULL, a, sizeof a);
	spit("ed.json", a, strlen(a));
	CHECK_STR(load_error("ed.json", JWT_KEY_JWKS, "k", NULL, err, sizeof err),
		  "ed.json: kid and alg come from the JWKS file itself");
	/* A failing file in the middle of a JWKS adds nothing. */
	char good[2048];
	jwk_of("ed1", "g", good, sizeof good);
	const char *const list[] = {good, "{\"kty\":\"oct\",\"k\":\"!\"}"};
	write_jwks("half.json", list, 2);
	CHECK_STR(load_error("half.json", JWT_KEY_JWKS, NULL, NULL, err, sizeof err),
		  "half.json: key 2: bad \"k\": not base64url (at most 4096 bytes)");
	/* Too large. */
	CHECK(sh("head -c 1100000 /dev/zero > big.pem"));
	CHECK_STR(load_error("big.pem", JWT_KEY_PEM, NULL, NULL, err, sizeof err),
		  "big.pem: larger than 1024 KiB, not a key file");
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

/* Without an openssl binary there is nothing to sign with. */
static void setup(void)
{
	snprintf(dir, sizeof dir, "/tmp/test_jwt_keys_XXXXXX");
	if (!mkdtemp(dir)) {
		CHECK(!"mkdtemp");
		return;
	}
	have_openssl = system("openssl version >/dev/null 2>&1") == 0;
	if (!have_openssl) {
		printf("skip test_jwt_keys: no openssl binary\n");
		return;
	}
	make_keys();
}

int main(void)
{
	RUN(setup);
	RUN(test_every_alg);
	RUN(test_jwks);
	RUN(test_kid_selection);
	RUN(test_es256_raw_signatures);
	RUN(test_no_algorithm_confusion);
	RUN(test_alg_none_with_keys);
	RUN(test_load_errors);
	if (strncmp(dir, "/tmp/test_jwt_keys_", 19) == 0 &&
	    nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return unit_done("test_jwt_keys");
}
