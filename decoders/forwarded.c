/*
 * forwarded.c - X-Forwarded-For (de facto) and Forwarded (RFC 7239 4, 6)
 * walked right to left through trusted proxies.
 *
 *   X-Forwarded-For: client, proxy1, proxy2
 *   Forwarded: for=192.0.2.60;proto=http, for="[2001:db8:cafe::17]:4711"
 *
 * Entries that are not an address (RFC 7239 "unknown", obfuscated "_hidden")
 * end the walk: the hop that wrote them is the best we know.
 */
#include "forwarded.h"

#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#define MAX_HOPS 16   /* entries examined; a longer chain is cut, not trusted further */
#define MAX_ADDR 64   /* longest address text we parse */

bool cidr_contains(const struct cidr *c, const uint8_t a[16])
{
	unsigned full = c->prefix / 8, rest = c->prefix % 8;
	if (memcmp(c->addr, a, full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (c->addr[full] & mask) == (a[full] & mask);
}

/* Text address (IPv4 or IPv6) -> 16 bytes; returns 0 or -1. */
static int parse_addr(const char *s, size_t n, uint8_t out[16])
{
	char buf[MAX_ADDR];
	if (n == 0 || n >= sizeof buf)
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	uint8_t v4[4];
	if (inet_pton(AF_INET, buf, v4) == 1) {
		memset(out, 0, 10);
		out[10] = out[11] = 0xff;
		memcpy(out + 12, v4, 4);
		return 0;
	}
	return inet_pton(AF_INET6, buf, out) == 1 ? 0 : -1;
}

int cidr_parse(const char *s, struct cidr *out)
{
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	if (parse_addr(s, n, out->addr) != 0)
		return -1;
	bool v4 = memchr(s, ':', n) == NULL;
	unsigned max = v4 ? 32 : 128, len = max;
	if (slash) {
		const char *d = slash + 1;
		if (!*d || strlen(d) > 3)
			return -1;
		len = 0;
		for (; *d; d++) {
			if (*d < '0' || *d > '9')
				return -1;
			len = len * 10 + (unsigned)(*d - '0');
		}
		if (len > max)
			return -1;
	}
	out->prefix = (uint8_t)(v4 ? 96 + len : len);
	/* Clear host bits so contains() compares the network only. */
	for (unsigned bit = out->prefix; bit < 128; bit++)
		out->addr[bit / 8] &= (uint8_t)~(0x80 >> (bit % 8));
	return 0;
}

static bool trusted_addr(const uint8_t a[16], const struct cidr *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (cidr_contains(&t[i], a))
			return true;
	return false;
}

static const char *trim(const char *s, const char *e, const char **end)
{
	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	*end = e;
	return s;
}

/*
 * One list element -> address. XFF: "1.2.3.4", "1.2.3.4:80" (sometimes),
 * "[v6]:port" or "v6". Forwarded: the for= parameter of the element.
 */
static int element_addr(const char *s, const char *e, bool rfc7239, uint8_t out[16])
{
	if (rfc7239) {
		const char *p = s, *val = NULL, *vend = NULL;
		while (p < e) {
			const char *semi = memchr(p, ';', (size_t)(e - p));
			const char *pe = semi ? semi : e;
			const char *pend;
			const char *ps = trim(p, pe, &pend);
			if (pend - ps > 4 && strncasecmp(ps, "for=", 4) == 0) {
				val = ps + 4;
				vend = pend;
			}
			p = pe + 1;
		}
		if (!val)
			return -1;
		s = val;
		e = vend;
		if (e - s >= 2 && *s == '"' && e[-1] == '"') {
			s++;
			e--;
		}
	}
	if (s < e && *s == '[') {
		const char *close = memchr(s, ']', (size_t)(e - s));
		if (!close)
			return -1;
		return parse_addr(s + 1, (size_t)(close - s - 1), out);
	}
	/* "a.b.c.d:port": one colon means IPv4 with a port. */
	const char *colon = memchr(s, ':', (size_t)(e - s));
	if (colon && !memchr(colon + 1, ':', (size_t)(e - colon - 1)))
		e = colon;
	return parse_addr(s, (size_t)(e - s), out);
}

bool forwarded_resolve(const uint8_t peer[16], const struct cidr *trusted, size_t n_trusted,
		       const char *xff, size_t xff_len, const char *fwd, size_t fwd_len,
		       uint8_t out[16])
{
	const char *list = fwd ? fwd : xff;
	size_t len = fwd ? fwd_len : xff_len;
	bool rfc7239 = fwd != NULL;
	if (!list || !trusted_addr(peer, trusted, n_trusted))
		return false;
	uint8_t cur[16];
	memcpy(cur, peer, 16);
	const char *end = list + len;
	for (int hops = 0; hops < MAX_HOPS && end > list; hops++) {
		const char *comma = end;
		while (comma > list && comma[-1] != ',')
			comma--;
		const char *ee;
		const char *es = trim(comma, end, &ee);
		uint8_t a[16];
		if (es == ee || element_addr(es, ee, rfc7239, a) != 0)
			break;
		memcpy(cur, a, 16);
		if (!trusted_addr(cur, trusted, n_trusted))
			break;
		end = comma > list ? comma - 1 : list;
	}
	if (memcmp(cur, peer, 16) == 0)
		return false;
	memcpy(out, cur, 16);
	return true;
}
