/*
 * util.c - tapir-sim's small helpers: a seeded PRNG (xoshiro256**, seeded
 * through splitmix64, so every stream is a pure function of seed and stream
 * number), the time formats of RFC 3339 and RFC 9110 5.6.7 (IMF-fixdate),
 * base64 (RFC 4648 4 and 5), tapir's credential fingerprint, JSON strings.
 */
#include "sim.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

uint64_t mix64(uint64_t x)
{
	x += 0x9E3779B97F4A7C15ULL;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
	return x ^ (x >> 31);
}

void rng_seed(struct rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t x = mix64(seed * 0x9E3779B97F4A7C15ULL + mix64(stream + 0x51ED270B27F0E1A5ULL));
	for (int i = 0; i < 4; i++) {
		x = mix64(x + (uint64_t)i);
		r->s[i] = x;
	}
	if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3]))
		r->s[0] = 1;
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t out = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

uint32_t rng_below(struct rng *r, uint32_t n)
{
	return n ? (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32) : 0;
}

int64_t rng_range(struct rng *r, int64_t lo, int64_t hi)
{
	if (hi <= lo)
		return lo;
	return lo + (int64_t)(rng_next(r) % (uint64_t)(hi - lo + 1));
}

double rng_unit(struct rng *r)
{
	return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

double rng_normal(struct rng *r)
{
	double u = rng_unit(r), v = rng_unit(r);
	if (u < 1e-300)
		u = 1e-300;
	return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

double rng_exp(struct rng *r, double mean)
{
	double u = rng_unit(r);
	return -mean * log(1.0 - u);
}

double rng_lognormal(struct rng *r, double median, double sigma)
{
	return median * exp(sigma * rng_normal(r));
}

uint32_t rng_poisson(struct rng *r, double lambda)
{
	if (lambda <= 0)
		return 0;
	if (lambda > 60) {
		double x = lambda + sqrt(lambda) * rng_normal(r);
		return x < 0 ? 0 : (uint32_t)(x + 0.5);
	}
	double l = exp(-lambda), p = 1.0;
	uint32_t k = 0;
	do {
		k++;
		p *= rng_unit(r);
	} while (p > l);
	return k - 1;
}

bool rng_chance(struct rng *r, double p)
{
	return rng_unit(r) < p;
}

int rng_weighted(struct rng *r, const double *w, int n)
{
	double sum = 0;
	for (int i = 0; i < n; i++)
		sum += w[i];
	double x = rng_unit(r) * sum;
	for (int i = 0; i < n; i++) {
		if (x < w[i])
			return i;
		x -= w[i];
	}
	return n - 1;
}

static void tm_of(uint64_t us, struct tm *tm)
{
	time_t t = (time_t)(us / US_PER_S);
	gmtime_r(&t, tm);
}

void fmt_rfc3339(char *out, size_t n, uint64_t us)
{
	struct tm tm;
	tm_of(us, &tm);
	snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(us % US_PER_S));
}

void fmt_rfc3339_s(char *out, size_t n, uint64_t us)
{
	struct tm tm;
	tm_of(us, &tm);
	snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

void fmt_http_date(char *out, size_t n, uint64_t us)
{
	static const char *const wd[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const mo[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	struct tm tm;
	tm_of(us, &tm);
	snprintf(out, n, "%s, %02d %s %04d %02d:%02d:%02d GMT", wd[tm.tm_wday], tm.tm_mday,
		 mo[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

size_t b64_encode(char *out, const void *in, size_t n, bool url)
{
	static const char std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	static const char urls[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	const char *t = url ? urls : std;
	const uint8_t *p = in;
	size_t o = 0, i = 0;
	for (; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		out[o++] = t[v >> 18];
		out[o++] = t[(v >> 12) & 63];
		out[o++] = t[(v >> 6) & 63];
		out[o++] = t[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);
		out[o++] = t[v >> 18];
		out[o++] = t[(v >> 12) & 63];
		if (i + 1 < n)
			out[o++] = t[(v >> 6) & 63];
		else if (!url)
			out[o++] = '=';
		if (!url)
			out[o++] = '=';
	}
	out[o] = 0;
	return o;
}

void fingerprint(const char *s, char out[24])
{
	uint8_t md[SHA256_DIGEST_LENGTH];
	SHA256((const unsigned char *)s, strlen(s), md);
	memcpy(out, "sha256:", 7);
	for (int i = 0; i < 8; i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
}

bool hmac_sha256(const char *key, const char *msg, uint8_t out[32], unsigned *len)
{
	return HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)msg, strlen(msg), out,
		    len) != NULL;
}

void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

void die(const char *fmt, ...)
{
	va_list ap;
	fputs("tapir-sim: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		die("out of memory (%zu bytes)", n);
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		die("out of memory");
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		die("out of memory (%zu bytes)", n);
	return p;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);
	if (!p)
		die("out of memory");
	return p;
}

/* ---- addresses ---- */

void addr_fmt(const struct addr *a, char *out, size_t n)
{
	if (!a->v6) {
		snprintf(out, n, "%u.%u.%u.%u", a->b[0], a->b[1], a->b[2], a->b[3]);
		return;
	}
	/* RFC 5952: lower case, longest run of zero groups as "::". */
	uint16_t g[8];
	for (int i = 0; i < 8; i++)
		g[i] = (uint16_t)(a->b[2 * i] << 8 | a->b[2 * i + 1]);
	int best = -1, bestlen = 1;
	for (int i = 0; i < 8;) {
		if (g[i]) {
			i++;
			continue;
		}
		int j = i;
		while (j < 8 && !g[j])
			j++;
		if (j - i > bestlen) {
			best = i;
			bestlen = j - i;
		}
		i = j;
	}
	size_t o = 0;
	out[0] = 0;
	for (int i = 0; i < 8 && o < n; i++) {
		if (i == best) {
			o += (size_t)snprintf(out + o, n - o, "::");
			i += bestlen - 1;
			continue;
		}
		o += (size_t)snprintf(out + o, n - o, "%s%x", (o && out[o - 1] != ':') ? ":" : "", g[i]);
	}
}

void prefix_fmt(const struct prefix *p, char *out, size_t n)
{
	char a[64];
	addr_fmt(&p->base, a, sizeof a);
	snprintf(out, n, "%s/%u", a, p->len);
}

void prefix_host(const struct prefix *p, uint64_t host, struct addr *out)
{
	*out = p->base;
	if (!p->base.v6) {
		/* a /24: hosts 2..254 */
		out->b[3] = (uint8_t)(2 + host % 253);
		return;
	}
	/* a /64: SLAAC-like interface identifier */
	uint64_t iid = mix64(host + 0x1234567ULL);
	for (int i = 0; i < 8; i++)
		out->b[8 + i] = (uint8_t)(iid >> (56 - 8 * i));
}

bool addr_eq(const struct addr *a, const struct addr *b)
{
	return a->v6 == b->v6 && !memcmp(a->b, b->b, a->v6 ? 16 : 4);
}
