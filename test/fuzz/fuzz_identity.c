/*
 * fuzz_identity.c - credentials -> identity: decoders/identity.c (Basic,
 * Bearer, JWT header and claims, API keys, cookies) with JWT signatures
 * checked by sensor/jwt_keys.c against one key of every supported type, and
 * the forwarding headers of exchange.c; in a second mode the input is a key
 * file for jwt_keys_load (JWKS JSON, PEM).
 *
 * Input: byte 0 = mode
 *   0-5  header fields, each [u8 name][u16 length][value], through
 *        exchange_request_header then exchange_finish at a fuzzed time
 *   6    the rest is a JWKS file      7  the rest is a PEM file
 * The keys are public test keys made for this harness (and one HMAC secret
 * that guards nothing); they are written to temporary files once per process.
 * Checks: an opaque credential never becomes an id other than its fingerprint,
 * every id is NUL-terminated.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../decoders/forwarded.h"
#include "../../sensor/exchange.h"
#include "../../sensor/jwt_keys.h"
#include "fuzz_event.h"
#include "fuzz_input.h"

static const char ec_pem[] =
	"-----BEGIN PUBLIC KEY-----\n"
	"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEopXZySfNLY0SvSn4Gtcahtsi+50T\n"
	"5Inhyfnp4YiyrjRDTe/TEy88KcZSEpwcubf8AtKvKaqpUWSw7Ff3Bn+prw==\n"
	"-----END PUBLIC KEY-----\n";
static const char ed_pem[] =
	"-----BEGIN PUBLIC KEY-----\n"
	"MCowBQYDK2VwAyEAOLcFz2Ie8t7n3qpOvswsY6+VjrU4PEJsTRin0G8lKAU=\n"
	"-----END PUBLIC KEY-----\n";
static const char rsa_pem[] =
	"-----BEGIN PUBLIC KEY-----\n"
	"MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEApBik2EUGX9h74wrDXhJG\n"
	"cOkcS6e+YASFn3+Wc+Xsu/Y9fkI3bZ9vdbA4bxF911chjlLc2epBzTzAAMVvt2ne\n"
	"c0XlDWDRn+a8ee2Pr4kFDwTdxvWQbeq2BS+DoQvOT5iIh0KoN3vXshyfwSgyySN8\n"
	"SkbW0ZB0jt3ONMvNNmsZGQA40SVrw9dtblk7G8t02x8m4ZC1RyWHCohMN3fwdePi\n"
	"hRt86seJp0x6nVOUV0pXZd8tieAg/4zHYOt+lQgnFwb2vQZVy0DzpQWoYw7Th8ka\n"
	"0J+fHygfv/TUhnMOXQz933dLJ4k6jMYCq1c3dW9kaZLHsAdhFNjSU3AVaVUiLhib\n"
	"9QIDAQAB\n"
	"-----END PUBLIC KEY-----\n";
static const char hmac_secret[] = "fuzz-hmac-secret\n";

static const char *const names[] = {
	"Authorization", "authorization", "X-API-Key", "Api-Key", "Cookie", "cookie",
	"X-Forwarded-For", "Forwarded", "Host", "User-Agent", "Content-Type", "x-api-key",
};
#define N_NAMES (sizeof names / sizeof names[0])

static char tmp_path[64];

/* Writes bytes to this process's temporary file; returns its path or NULL. */
static const char *spill(const void *p, size_t n)
{
	if (!tmp_path[0]) {
		snprintf(tmp_path, sizeof tmp_path, "/tmp/tapir-fuzz-identity-XXXXXX");
		int fd = mkstemp(tmp_path);
		if (fd < 0) {
			tmp_path[0] = '\0';
			return NULL;
		}
		close(fd);
	}
	FILE *f = fopen(tmp_path, "wb");
	if (!f)
		return NULL;
	size_t w = fwrite(p, 1, n, f);
	if (fclose(f) != 0 || w != n)
		return NULL;
	return tmp_path;
}

static void cleanup(void)
{
	if (tmp_path[0])
		unlink(tmp_path);
}

/* The key set every header input is verified against, loaded once. */
static struct jwt_keys *keys_once(void)
{
	static struct jwt_keys *keys;
	static const struct {
		const char *text, *kid, *alg;
		enum jwt_key_format fmt;
	} files[] = {
		{ec_pem, "ec1", NULL, JWT_KEY_PEM},
		{ed_pem, NULL, "EdDSA", JWT_KEY_PEM},
		{rsa_pem, "rsa1", "RS256", JWT_KEY_PEM},
		{hmac_secret, NULL, NULL, JWT_KEY_HMAC},
		{"{\"keys\":[{\"kty\":\"oct\",\"kid\":\"k2\",\"k\":\"c2VjcmV0LXR3bw\"}]}", NULL, NULL,
		 JWT_KEY_JWKS},
	};
	if (keys)
		return keys;
	keys = jwt_keys_new();
	FZ_CHECK(keys != NULL);
	atexit(cleanup);
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		char err[256];
		const char *path = spill(files[i].text, strlen(files[i].text));
		FZ_CHECK(path != NULL);
		struct jwt_key_file kf = {path, files[i].fmt, files[i].kid, files[i].alg};
		if (jwt_keys_load(keys, &kf, err, sizeof err) != 0) {
			fprintf(stderr, "fuzz_identity: test key %zu: %s\n", i, err);
			abort();
		}
	}
	return keys;
}

static void key_file(enum jwt_key_format fmt, const uint8_t *p, size_t n)
{
	struct jwt_keys *keys = jwt_keys_new();
	const char *path = spill(p, n);
	if (!keys || !path) {
		jwt_keys_free(keys);
		return;
	}
	char err[256];
	struct jwt_key_file kf = {path, fmt, NULL, NULL};
	if (jwt_keys_load(keys, &kf, err, sizeof err) == 0)
		FZ_CHECK(jwt_keys_count(keys) > 0);
	else
		FZ_CHECK(memchr(err, 0, sizeof err) != NULL && err[0]);
	jwt_keys_free(keys);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz in = {data, size};
	uint8_t mode = fz_u8(&in) & 7;
	if (mode >= 6) {
		size_t n;
		const uint8_t *p = fz_bytes(&in, fz_left(&in), &n);
		key_file(mode == 6 ? JWT_KEY_JWKS : JWT_KEY_PEM, p, n);
		return 0;
	}
	struct cidr proxies[2];
	FZ_CHECK(cidr_parse("10.0.0.0/8", &proxies[0]) == 0);
	FZ_CHECK(cidr_parse("2001:db8::/32", &proxies[1]) == 0);
	struct exchange_config xc = {
		.verify = mode & 1 ? NULL : jwt_keys_verify,
		.verify_ctx = keys_once(),
		.trusted_proxies = proxies,
		.n_trusted_proxies = 2,
		.key_max_age_us = (mode & 2) ? 3600ull * 1000000 : 0,
	};
	struct api_event ev;
	memset(&ev, 0, sizeof ev);
	ev.client_ip[10] = ev.client_ip[11] = 0xff;
	ev.client_ip[12] = 10;
	ev.client_ip[15] = 1;
	ev.grpc_status = -1;
	ev.ts_us = (uint64_t)fz_u32(&in) * 1000000;
	while (fz_left(&in)) {
		uint8_t sel = fz_u8(&in);
		size_t n;
		const uint8_t *src = fz_bytes(&in, fz_u16(&in), &n);
		char *value = malloc(n ? n : 1);
		FZ_CHECK(value != NULL);
		memcpy(value, src, n);
		const char *name = names[sel % N_NAMES];
		exchange_request_header(&ev, &xc, name, strlen(name), value, n);
		free(value);
	}
	exchange_finish(&ev, &xc);
	const struct identity *id = &ev.identity;
	FZ_TERMINATED(id->id);
	if (id->kind == ID_BEARER || id->kind == ID_API_KEY || id->kind == ID_COOKIE)
		FZ_CHECK(strncmp(id->id, "sha256:", 7) == 0 && strlen(id->id) == 23);
	if (id->kind == ID_BASIC) /* the user name only: never the password after ':' */
		FZ_CHECK(strchr(id->id, ':') == NULL);
	if (id->kind == ID_NONE)
		FZ_CHECK(id->id[0] == '\0');
	fz_check_event(NULL, &ev);
	return 0;
}
