/*
 * audit_format.c - the audit log's bytes: CRC32C (RFC 3720 B.4, Castagnoli),
 * records and segment headers (layouts drawn in audit_int.h), the segment
 * reader that tells a torn tail from damage, directory listing, and the small
 * parsers the subcommands share (RFC 3339 times, addresses, path globs).
 */
#include "audit_int.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

/* CRC32C, reflected polynomial 0x82F63B78. */
static const uint32_t crc32c_table[256] = {
	0x00000000, 0xf26b8303, 0xe13b70f7, 0x1350f3f4, 0xc79a971f, 0x35f1141c,
	0x26a1e7e8, 0xd4ca64eb, 0x8ad958cf, 0x78b2dbcc, 0x6be22838, 0x9989ab3b,
	0x4d43cfd0, 0xbf284cd3, 0xac78bf27, 0x5e133c24, 0x105ec76f, 0xe235446c,
	0xf165b798, 0x030e349b, 0xd7c45070, 0x25afd373, 0x36ff2087, 0xc494a384,
	0x9a879fa0, 0x68ec1ca3, 0x7bbcef57, 0x89d76c54, 0x5d1d08bf, 0xaf768bbc,
	0xbc267848, 0x4e4dfb4b, 0x20bd8ede, 0xd2d60ddd, 0xc186fe29, 0x33ed7d2a,
	0xe72719c1, 0x154c9ac2, 0x061c6936, 0xf477ea35, 0xaa64d611, 0x580f5512,
	0x4b5fa6e6, 0xb93425e5, 0x6dfe410e, 0x9f95c20d, 0x8cc531f9, 0x7eaeb2fa,
	0x30e349b1, 0xc288cab2, 0xd1d83946, 0x23b3ba45, 0xf779deae, 0x05125dad,
	0x1642ae59, 0xe4292d5a, 0xba3a117e, 0x4851927d, 0x5b016189, 0xa96ae28a,
	0x7da08661, 0x8fcb0562, 0x9c9bf696, 0x6ef07595, 0x417b1dbc, 0xb3109ebf,
	0xa0406d4b, 0x522bee48, 0x86e18aa3, 0x748a09a0, 0x67dafa54, 0x95b17957,
	0xcba24573, 0x39c9c670, 0x2a993584, 0xd8f2b687, 0x0c38d26c, 0xfe53516f,
	0xed03a29b, 0x1f682198, 0x5125dad3, 0xa34e59d0, 0xb01eaa24, 0x42752927,
	0x96bf4dcc, 0x64d4cecf, 0x77843d3b, 0x85efbe38, 0xdbfc821c, 0x2997011f,
	0x3ac7f2eb, 0xc8ac71e8, 0x1c661503, 0xee0d9600, 0xfd5d65f4, 0x0f36e6f7,
	0x61c69362, 0x93ad1061, 0x80fde395, 0x72966096, 0xa65c047d, 0x5437877e,
	0x4767748a, 0xb50cf789, 0xeb1fcbad, 0x197448ae, 0x0a24bb5a, 0xf84f3859,
	0x2c855cb2, 0xdeeedfb1, 0xcdbe2c45, 0x3fd5af46, 0x7198540d, 0x83f3d70e,
	0x90a324fa, 0x62c8a7f9, 0xb602c312, 0x44694011, 0x5739b3e5, 0xa55230e6,
	0xfb410cc2, 0x092a8fc1, 0x1a7a7c35, 0xe811ff36, 0x3cdb9bdd, 0xceb018de,
	0xdde0eb2a, 0x2f8b6829, 0x82f63b78, 0x709db87b, 0x63cd4b8f, 0x91a6c88c,
	0x456cac67, 0xb7072f64, 0xa457dc90, 0x563c5f93, 0x082f63b7, 0xfa44e0b4,
	0xe9141340, 0x1b7f9043, 0xcfb5f4a8, 0x3dde77ab, 0x2e8e845f, 0xdce5075c,
	0x92a8fc17, 0x60c37f14, 0x73938ce0, 0x81f80fe3, 0x55326b08, 0xa759e80b,
	0xb4091bff, 0x466298fc, 0x1871a4d8, 0xea1a27db, 0xf94ad42f, 0x0b21572c,
	0xdfeb33c7, 0x2d80b0c4, 0x3ed04330, 0xccbbc033, 0xa24bb5a6, 0x502036a5,
	0x4370c551, 0xb11b4652, 0x65d122b9, 0x97baa1ba, 0x84ea524e, 0x7681d14d,
	0x2892ed69, 0xdaf96e6a, 0xc9a99d9e, 0x3bc21e9d, 0xef087a76, 0x1d63f975,
	0x0e330a81, 0xfc588982, 0xb21572c9, 0x407ef1ca, 0x532e023e, 0xa145813d,
	0x758fe5d6, 0x87e466d5, 0x94b49521, 0x66df1622, 0x38cc2a06, 0xcaa7a905,
	0xd9f75af1, 0x2b9cd9f2, 0xff56bd19, 0x0d3d3e1a, 0x1e6dcdee, 0xec064eed,
	0xc38d26c4, 0x31e6a5c7, 0x22b65633, 0xd0ddd530, 0x0417b1db, 0xf67c32d8,
	0xe52cc12c, 0x1747422f, 0x49547e0b, 0xbb3ffd08, 0xa86f0efc, 0x5a048dff,
	0x8ecee914, 0x7ca56a17, 0x6ff599e3, 0x9d9e1ae0, 0xd3d3e1ab, 0x21b862a8,
	0x32e8915c, 0xc083125f, 0x144976b4, 0xe622f5b7, 0xf5720643, 0x07198540,
	0x590ab964, 0xab613a67, 0xb831c993, 0x4a5a4a90, 0x9e902e7b, 0x6cfbad78,
	0x7fab5e8c, 0x8dc0dd8f, 0xe330a81a, 0x115b2b19, 0x020bd8ed, 0xf0605bee,
	0x24aa3f05, 0xd6c1bc06, 0xc5914ff2, 0x37faccf1, 0x69e9f0d5, 0x9b8273d6,
	0x88d28022, 0x7ab90321, 0xae7367ca, 0x5c18e4c9, 0x4f48173d, 0xbd23943e,
	0xf36e6f75, 0x0105ec76, 0x12551f82, 0xe03e9c81, 0x34f4f86a, 0xc69f7b69,
	0xd5cf889d, 0x27a40b9e, 0x79b737ba, 0x8bdcb4b9, 0x988c474d, 0x6ae7c44e,
	0xbe2da0a5, 0x4c4623a6, 0x5f16d052, 0xad7d5351,
};

static uint32_t crc32c_sw(uint32_t crc, const uint8_t *p, size_t n)
{
	while (n--)
		crc = crc32c_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t crc32c_hw(uint32_t crc, const uint8_t *p,
							    size_t n)
{
	uint64_t c = crc;
	while (n >= 8) {
		uint64_t v;
		memcpy(&v, p, 8);
		c = _mm_crc32_u64(c, v);
		p += 8;
		n -= 8;
	}
	uint32_t c32 = (uint32_t)c;
	while (n--)
		c32 = _mm_crc32_u8(c32, *p++);
	return c32;
}
#endif

uint32_t audit_crc32c(uint32_t crc, const void *data, size_t len)
{
	crc = ~crc;
#if defined(__x86_64__)
	if (__builtin_cpu_supports("sse4.2"))
		return ~crc32c_hw(crc, data, len);
#endif
	return ~crc32c_sw(crc, data, len);
}

void audit_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

void audit_put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

void audit_put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

uint16_t audit_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

uint32_t audit_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint64_t audit_get64(const uint8_t *p)
{
	return (uint64_t)audit_get32(p) | (uint64_t)audit_get32(p + 4) << 32;
}

void audit_hex(const uint8_t *in, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = d[in[i] >> 4];
		out[2 * i + 1] = d[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int audit_unhex(const char *s, size_t slen, uint8_t *out, size_t n)
{
	if (slen != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

void audit_msg(char *buf, size_t n, const char *fmt, ...)
{
	if (!buf || n == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, n, fmt, ap);
	va_end(ap);
}

uint64_t audit_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int audit_write_all(int fd, const void *buf, size_t n)
{
	const uint8_t *p = buf;
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (w == 0) {
			errno = EIO;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* ---- RFC 3339 ---- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int digits(const char **s, int n, unsigned *out)
{
	unsigned v = 0;
	for (int i = 0; i < n; i++) {
		if ((*s)[i] < '0' || (*s)[i] > '9')
			return -1;
		v = v * 10 + (unsigned)((*s)[i] - '0');
	}
	*s += n;
	*out = v;
	return 0;
}

int audit_parse_time(const char *s, uint64_t *us)
{
	unsigned y, mo, d, h = 0, mi = 0, sec = 0, frac_us = 0;
	int64_t off_s = 0;
	if (digits(&s, 4, &y) || *s++ != '-' || digits(&s, 2, &mo) || *s++ != '-' ||
	    digits(&s, 2, &d))
		return -1;
	static const unsigned mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    (mo == 2 && d == 29 && !leap))
		return -1;
	if (*s) {
		if (*s != 'T' && *s != 't' && *s != ' ')
			return -1;
		s++;
		if (digits(&s, 2, &h) || *s++ != ':' || digits(&s, 2, &mi) || *s++ != ':' ||
		    digits(&s, 2, &sec) || h > 23 || mi > 59 || sec > 60)
			return -1;
		if (*s == '.') {
			s++;
			int n = 0;
			if (*s < '0' || *s > '9')
				return -1;
			for (; *s >= '0' && *s <= '9'; s++, n++)
				if (n < 6)
					frac_us = frac_us * 10 + (unsigned)(*s - '0');
			for (; n < 6; n++)
				frac_us *= 10;
		}
		if (*s == 'Z' || *s == 'z') {
			s++;
		} else if (*s == '+' || *s == '-') {
			int sign = *s++ == '-' ? -1 : 1;
			unsigned oh, om;
			if (digits(&s, 2, &oh) || *s++ != ':' || digits(&s, 2, &om) || oh > 23 ||
			    om > 59)
				return -1;
			off_s = sign * (int64_t)(oh * 3600 + om * 60);
		} else {
			return -1; /* RFC 3339 requires the offset */
		}
		if (*s)
			return -1;
	}
	int64_t t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off_s;
	if (t < 0)
		return -1;
	*us = (uint64_t)t * 1000000u + frac_us;
	return 0;
}

void audit_format_time(uint64_t us, char *buf, size_t n)
{
	time_t secs = (time_t)(us / 1000000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(us % 1000000));
}

/* ---- addresses ---- */

int audit_parse_ip(const char *s, uint8_t ip[16], unsigned *prefix)
{
	char b[64];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	if (n == 0 || n >= sizeof b)
		return -1;
	memcpy(b, s, n);
	b[n] = '\0';
	unsigned max = 128, base = 0;
	uint8_t v4[4];
	if (inet_pton(AF_INET, b, v4) == 1) {
		memset(ip, 0, 10);
		ip[10] = ip[11] = 0xff;
		memcpy(ip + 12, v4, 4);
		max = 32;
		base = 96;
	} else if (inet_pton(AF_INET6, b, ip) != 1) {
		return -1;
	}
	unsigned p = max;
	if (slash) {
		const char *q = slash + 1;
		if (!*q || strlen(q) > 3)
			return -1;
		p = 0;
		for (; *q; q++) {
			if (*q < '0' || *q > '9')
				return -1;
			p = p * 10 + (unsigned)(*q - '0');
		}
		if (p > max)
			return -1;
	}
	*prefix = base + p;
	return 0;
}

void audit_format_ip(const uint8_t a[16], char *buf, size_t n)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	char b[INET6_ADDRSTRLEN];
	if (memcmp(a, mapped, 12) == 0)
		inet_ntop(AF_INET, a + 12, b, sizeof b);
	else
		inet_ntop(AF_INET6, a, b, sizeof b);
	snprintf(buf, n, "%s", b);
}

bool audit_ip_in(const uint8_t ip[16], const uint8_t net[16], unsigned prefix)
{
	unsigned full = prefix / 8, rest = prefix % 8;
	if (memcmp(ip, net, full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (ip[full] & mask) == (net[full] & mask);
}

/* ---- path globs ---- */

/* One segment against a segment pattern where '*' matches any run of bytes. */
static bool seg_match(const char *g, size_t gl, const char *s, size_t sl)
{
	size_t gi = 0, si = 0, star = (size_t)-1, mark = 0;
	while (si < sl) {
		if (gi < gl && g[gi] == '*') {
			star = gi++;
			mark = si;
		} else if (gi < gl && g[gi] == s[si]) {
			gi++;
			si++;
		} else if (star != (size_t)-1) {
			gi = star + 1;
			si = ++mark;
		} else {
			return false;
		}
	}
	while (gi < gl && g[gi] == '*')
		gi++;
	return gi == gl;
}

/* Splits s[0, n) at every '/' into at most max segments; returns the count, or max + 1. */
static size_t split_segs(const char *s, size_t n, size_t (*seg)[2], size_t max)
{
	size_t count = 0, start = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != '/')
			continue;
		if (count == max)
			return max + 1;
		seg[count][0] = start;
		seg[count][1] = i - start;
		count++;
		start = i + 1;
	}
	return count;
}

static bool is_globstar(const char *g, const size_t seg[2])
{
	return seg[1] == 2 && g[seg[0]] == '*' && g[seg[0] + 1] == '*';
}

#define GLOB_SEGS 64 /* a glob's segments; a longer glob matches nothing */

/*
 * The classic linear wildcard match, lifted from bytes to segments: a "**"
 * segment is the star (any run of segments), any other segment pattern is a
 * predicate on one segment. Remembering only the last star is enough.
 */
bool audit_glob_match(const char *glob, const char *path, size_t pathlen)
{
	size_t gseg[GLOB_SEGS][2], local[256][2];
	size_t gn = split_segs(glob, strlen(glob), gseg, GLOB_SEGS);
	if (gn > GLOB_SEGS)
		return false;
	size_t (*pseg)[2] = local;
	size_t pn = split_segs(path, pathlen, local, 256);
	if (pn > 256) {
		pseg = malloc((pathlen + 1) * sizeof *pseg);
		if (!pseg)
			return false;
		pn = split_segs(path, pathlen, pseg, pathlen + 1);
	}
	size_t gi = 0, pi = 0, star = (size_t)-1, mark = 0;
	bool ok = true;
	while (pi < pn) {
		if (gi < gn && is_globstar(glob, gseg[gi])) {
			star = gi++;
			mark = pi;
		} else if (gi < gn && seg_match(glob + gseg[gi][0], gseg[gi][1], path + pseg[pi][0],
					      pseg[pi][1])) {
			gi++;
			pi++;
		} else if (star != (size_t)-1) {
			gi = star + 1;
			pi = ++mark;
		} else {
			ok = false;
			break;
		}
	}
	while (ok && gi < gn && is_globstar(glob, gseg[gi]))
		gi++;
	if (pseg != local)
		free(pseg);
	return ok && gi == gn;
}

size_t audit_glob_prefix(const char *glob, bool *whole)
{
	const char *star = strchr(glob, '*');
	*whole = star == NULL;
	if (!star)
		return strlen(glob);
	/* The last '/' before the first '*' (not the leading one) ends the literal part. */
	size_t lit = 0;
	unsigned slashes = 0;
	for (size_t i = 1; glob + i < star; i++) {
		if (glob[i] == '/') {
			if (slashes++ == AUDIT_PATH_PREFIXES)
				break;
			lit = i;
		}
	}
	return lit;
}

/* ---- records ---- */

size_t audit_rec_size(size_t identity_len, size_t path_len, size_t detector_len, size_t json_len)
{
	if (identity_len > 65535 || path_len > 65535 || detector_len > 255 ||
	    json_len > AUDIT_JSON_MAX)
		return 0;
	return AUDIT_REC_HDR + AUDIT_BODY_FIXED + identity_len + path_len + detector_len + json_len;
}

size_t audit_rec_encode(uint8_t *dst, uint64_t number, uint64_t ts_us, const uint8_t ip[16],
			enum audit_type t, const char *identity, size_t identity_len,
			const char *path, size_t path_len, const char *detector,
			size_t detector_len, const char *json, size_t json_len)
{
	size_t body = AUDIT_BODY_FIXED + identity_len + path_len + detector_len + json_len;
	uint8_t *b = dst + AUDIT_REC_HDR;
	audit_put32(dst + 4, (uint32_t)body);
	audit_put64(b, number);
	audit_put64(b + 8, ts_us);
	if (ip)
		memcpy(b + 16, ip, 16);
	else
		memset(b + 16, 0, 16);
	b[32] = (uint8_t)t;
	b[33] = (uint8_t)detector_len;
	audit_put16(b + 34, (uint16_t)identity_len);
	audit_put16(b + 36, (uint16_t)path_len);
	audit_put16(b + 38, ip ? 1 : 0);
	uint8_t *p = b + AUDIT_BODY_FIXED;
	if (identity_len)
		memcpy(p, identity, identity_len);
	p += identity_len;
	if (path_len)
		memcpy(p, path, path_len);
	p += path_len;
	if (detector_len)
		memcpy(p, detector, detector_len);
	p += detector_len;
	if (json_len)
		memcpy(p, json, json_len);
	audit_put32(dst, audit_crc32c(0, dst + 4, 4 + body));
	return AUDIT_REC_HDR + body;
}

int audit_rec_decode(const uint8_t *body, uint32_t len, struct audit_rec *r)
{
	if (len < AUDIT_BODY_FIXED)
		return -1;
	r->len = len;
	r->body = body;
	r->number = audit_get64(body);
	r->ts_us = audit_get64(body + 8);
	memcpy(r->ip, body + 16, 16);
	if (body[32] < AUDIT_EVENT || body[32] > AUDIT_INTERNAL)
		return -1;
	r->type = (enum audit_type)body[32];
	r->detector_len = body[33];
	r->identity_len = audit_get16(body + 34);
	r->path_len = audit_get16(body + 36);
	uint16_t flags = audit_get16(body + 38);
	if (flags & ~1u)
		return -1;
	r->has_ip = flags & 1;
	size_t fields = r->identity_len + r->path_len + r->detector_len;
	if (fields > len - AUDIT_BODY_FIXED)
		return -1;
	const char *p = (const char *)body + AUDIT_BODY_FIXED;
	r->identity = p;
	r->path = p + r->identity_len;
	r->detector = r->path + r->path_len;
	r->json = r->detector + r->detector_len;
	r->json_len = len - AUDIT_BODY_FIXED - fields;
	return 0;
}

_Static_assert(AUDIT_BODY_MAX < (1u << 24), "the length's high byte doubles as the 0x00 prefix");

int audit_rec_leaf(struct merkle_hasher *h, const struct audit_rec *r, uint8_t out[MERKLE_HASH])
{
	return merkle_sha256(h, r->body - 1, (size_t)r->len + 1, out);
}

/* ---- segments ---- */

void audit_seg_name(uint64_t seq, char *buf, size_t n)
{
	snprintf(buf, n, "seg-%012llu.log", (unsigned long long)seq);
}

void audit_idx_name(uint64_t seq, char *buf, size_t n)
{
	snprintf(buf, n, "seg-%012llu.idx", (unsigned long long)seq);
}

size_t audit_seg_hdr_encode(uint8_t *dst, uint64_t seq, uint64_t created_us,
			    const struct merkle_frontier *f)
{
	size_t len = AUDIT_SEG_HDR_FIXED + (size_t)f->n * MERKLE_HASH + 4;
	memcpy(dst, AUDIT_SEG_MAGIC, 8);
	audit_put16(dst + 8, AUDIT_VERSION);
	audit_put16(dst + 10, (uint16_t)len);
	audit_put32(dst + 12, 0);
	audit_put64(dst + 16, seq);
	audit_put64(dst + 24, f->size);
	audit_put64(dst + 32, created_us);
	audit_put32(dst + 40, f->n);
	audit_put32(dst + 44, 0);
	memcpy(dst + AUDIT_SEG_HDR_FIXED, f->node, (size_t)f->n * MERKLE_HASH);
	audit_put32(dst + len - 4, audit_crc32c(0, dst, len - 4));
	return len;
}

enum audit_hdr_status audit_seg_hdr_decode(const uint8_t *p, size_t avail, struct audit_seg_hdr *h)
{
	if (avail < AUDIT_SEG_HDR_FIXED)
		return avail < 8 || memcmp(p, AUDIT_SEG_MAGIC, avail < 8 ? avail : 8) == 0
			       ? AUDIT_HDR_SHORT
			       : AUDIT_HDR_BAD;
	if (memcmp(p, AUDIT_SEG_MAGIC, 8) != 0 || audit_get16(p + 8) != AUDIT_VERSION)
		return AUDIT_HDR_BAD;
	uint32_t n = audit_get32(p + 40);
	size_t len = audit_get16(p + 10);
	if (n > MERKLE_LEVELS || len != AUDIT_SEG_HDR_FIXED + (size_t)n * MERKLE_HASH + 4)
		return AUDIT_HDR_BAD;
	if (avail < len)
		return AUDIT_HDR_SHORT;
	if (audit_get32(p + len - 4) != audit_crc32c(0, p, len - 4))
		return AUDIT_HDR_BAD;
	h->seq = audit_get64(p + 16);
	h->first = audit_get64(p + 24);
	h->created_us = audit_get64(p + 32);
	h->nfrontier = n;
	h->len = (uint32_t)len;
	if (n != (unsigned)__builtin_popcountll(h->first))
		return AUDIT_HDR_BAD;
	memcpy(h->frontier, p + AUDIT_SEG_HDR_FIXED, (size_t)n * MERKLE_HASH);
	return AUDIT_HDR_OK;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int audit_seglist_read(int dirfd, struct audit_seglist *l)
{
	l->seq = NULL;
	l->n = 0;
	int fd = dup(dirfd);
	if (fd < 0)
		return -1;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -1;
	}
	rewinddir(d);
	size_t cap = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		const char *s = e->d_name;
		if (strlen(s) != 20 || memcmp(s, "seg-", 4) != 0 || strcmp(s + 16, ".log") != 0)
			continue;
		uint64_t v = 0;
		bool ok = true;
		for (int i = 4; i < 16; i++) {
			if (s[i] < '0' || s[i] > '9')
				ok = false;
			v = v * 10 + (uint64_t)(s[i] - '0');
		}
		if (!ok)
			continue;
		if (l->n == cap) {
			cap = cap ? cap * 2 : 64;
			uint64_t *m = realloc(l->seq, cap * sizeof *m);
			if (!m) {
				closedir(d);
				audit_seglist_free(l);
				errno = ENOMEM;
				return -1;
			}
			l->seq = m;
		}
		l->seq[l->n++] = v;
	}
	closedir(d);
	if (l->n)
		qsort(l->seq, l->n, sizeof *l->seq, cmp_u64);
	return 0;
}

void audit_seglist_free(struct audit_seglist *l)
{
	free(l->seq);
	l->seq = NULL;
	l->n = 0;
}

/* ---- the reader ---- */

#define READER_CHUNK (1u << 20)

/* Makes at least `need` unread bytes available unless the file ends first. */
static int fill(struct audit_reader *r, size_t need)
{
	if (r->end - r->pos >= need)
		return 0;
	if (r->pos > 0) {
		memmove(r->buf, r->buf + r->pos, r->end - r->pos);
		r->buf_off += r->pos;
		r->end -= r->pos;
		r->pos = 0;
	}
	if (need > r->cap) {
		size_t cap = need + READER_CHUNK;
		uint8_t *b = realloc(r->buf, cap);
		if (!b)
			return -1;
		r->buf = b;
		r->cap = cap;
	}
	while (r->end < need && !r->eof) {
		ssize_t n = read(r->fd, r->buf + r->end, r->cap - r->end);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			r->eof = true;
		r->end += (size_t)n;
	}
	return 0;
}

int audit_reader_open(struct audit_reader *r, int dirfd, const char *name)
{
	memset(r, 0, sizeof *r);
	r->fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0)
		return -1;
	r->cap = READER_CHUNK;
	r->buf = malloc(r->cap);
	if (!r->buf || fill(r, AUDIT_SEG_HDR_FIXED) != 0) {
		int e = r->buf ? errno : ENOMEM;
		audit_reader_close(r);
		errno = e;
		return -1;
	}
	enum audit_hdr_status st = audit_seg_hdr_decode(r->buf, r->end, &r->hdr);
	if (st == AUDIT_HDR_SHORT && !r->eof) {
		if (fill(r, AUDIT_SEG_HDR_MAX) != 0) {
			int e = errno;
			audit_reader_close(r);
			errno = e;
			return -1;
		}
		st = audit_seg_hdr_decode(r->buf, r->end, &r->hdr);
	}
	if (st == AUDIT_HDR_OK) {
		r->pos = r->hdr.len;
		r->next = r->hdr.len;
	}
	return (int)st;
}

/* True when the file holds nothing but zero bytes from the reader's position on. */
static bool rest_is_zero(struct audit_reader *r)
{
	for (;;) {
		for (size_t i = r->pos; i < r->end; i++)
			if (r->buf[i])
				return false;
		if (r->eof)
			return true;
		r->pos = r->end;
		if (fill(r, r->cap) != 0)
			return false;
		if (r->end == r->pos && r->eof)
			return true;
	}
}

enum audit_read audit_reader_next(struct audit_reader *r, struct audit_rec *rec)
{
	if (fill(r, AUDIT_REC_HDR) != 0)
		return AUDIT_READ_IO;
	size_t avail = r->end - r->pos;
	if (avail == 0)
		return AUDIT_READ_END;
	if (avail < AUDIT_REC_HDR)
		return AUDIT_READ_TORN;
	const uint8_t *p = r->buf + r->pos;
	uint32_t len = audit_get32(p + 4);
	if (len < AUDIT_BODY_FIXED || len > AUDIT_BODY_MAX) {
		if (rest_is_zero(r))
			return AUDIT_READ_TORN;
		return AUDIT_READ_BAD_LEN;
	}
	if (fill(r, AUDIT_REC_HDR + (size_t)len) != 0)
		return AUDIT_READ_IO;
	if (r->end - r->pos < AUDIT_REC_HDR + (size_t)len)
		return AUDIT_READ_TORN;
	p = r->buf + r->pos;
	if (audit_get32(p) != audit_crc32c(0, p + 4, 4 + (size_t)len))
		return AUDIT_READ_BAD_CRC;
	if (audit_rec_decode(p + AUDIT_REC_HDR, len, rec) != 0)
		return AUDIT_READ_BAD_BODY;
	rec->offset = r->buf_off + r->pos;
	r->pos += AUDIT_REC_HDR + (size_t)len;
	r->next = r->buf_off + r->pos;
	return AUDIT_READ_OK;
}

void audit_reader_close(struct audit_reader *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	free(r->buf);
	r->buf = NULL;
}
