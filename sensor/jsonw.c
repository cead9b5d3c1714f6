/*
 * jsonw.c - JSON text for events and counters (RFC 8259 7: string escaping).
 */
#include "jsonw.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

void jw_init(struct jsonw *w, char *buf, size_t cap)
{
	w->buf = buf;
	w->cap = cap;
	w->len = 0;
	w->overflow = false;
	w->need_comma = false;
}

void jw_raw(struct jsonw *w, const char *s, size_t n)
{
	if (w->overflow || w->cap - w->len < n + 1) {
		w->overflow = true;
		return;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

void jw_value_raw(struct jsonw *w, const char *json, size_t n)
{
	if (w->need_comma)
		jw_raw(w, ",", 1);
	jw_raw(w, json, n);
	w->need_comma = true;
}

static void put(struct jsonw *w, const char *s)
{
	jw_raw(w, s, strlen(s));
}

/* One byte; the same as jw_raw(w, &c, 1) without the call. */
static void put1(struct jsonw *w, char c)
{
	if (w->overflow || w->cap - w->len < 2) {
		w->overflow = true;
		return;
	}
	w->buf[w->len++] = c;
	w->buf[w->len] = '\0';
}

/*
 * The number, time and address writers below format by hand: they run for
 * every field of every event, and snprintf's format parsing was a tenth of
 * the replay time. Their output is exactly what the printf formats in their
 * comments give (test/test_jsonw.c checks them against snprintf).
 */

/* Decimal digits of v, written backwards ending at `end`; returns where they start. */
static char *digits(char *end, uint64_t v)
{
	static const char pairs[] = "00010203040506070809101112131415161718192021222324"
				    "25262728293031323334353637383940414243444546474849"
				    "50515253545556575859606162636465666768697071727374"
				    "75767778798081828384858687888990919293949596979899";
	while (v >= 100) { /* two digits a division */
		end -= 2;
		memcpy(end, pairs + 2 * (v % 100), 2);
		v /= 100;
	}
	if (v >= 10) {
		end -= 2;
		memcpy(end, pairs + 2 * v, 2);
	} else {
		*--end = (char)('0' + v);
	}
	return end;
}

/* v as %0<width>u into p; returns the end. */
static char *put_padded(char *p, unsigned v, int width)
{
	for (int i = width - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + width;
}

/* In an array, values are separated by commas; after a key, need_comma is false. */
static void sep(struct jsonw *w)
{
	if (w->need_comma)
		put1(w, ',');
}

void jw_obj_open(struct jsonw *w)
{
	sep(w);
	put1(w, '{');
	w->need_comma = false;
}

void jw_obj_close(struct jsonw *w)
{
	put1(w, '}');
	w->need_comma = true;
}

void jw_arr_open(struct jsonw *w)
{
	sep(w);
	put1(w, '[');
	w->need_comma = false;
}

void jw_arr_close(struct jsonw *w)
{
	put1(w, ']');
	w->need_comma = true;
}

/* Length of the valid UTF-8 sequence at s (1-4), or 0 when invalid (RFC 3629 4). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	uint32_t cp;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

/* Eight bytes all plain: printable ASCII, no '"' or '\\' (the "has a byte
 * less than / equal to" word tricks; a false alarm only costs the slow way). */
static bool plain8(uint64_t v)
{
	const uint64_t ones = 0x0101010101010101ull, high = ones * 0x80;
	uint64_t q = v ^ (ones * '"'), b = v ^ (ones * '\\');
	return !((v | ((v - ones * 0x20) & ~v) | ((q - ones) & ~q) | ((b - ones) & ~b)) & high);
}

#ifdef __SSE2__
#include <emmintrin.h>

/* Sixteen bytes all plain, as plain8 decides it for each eight: one compare of each kind. */
static bool plain16(const unsigned char *p)
{
	__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
	/* signed: below 0x20, or 0x80 and up (negative) */
	__m128i bad = _mm_cmplt_epi8(v, _mm_set1_epi8(0x20));
	bad = _mm_or_si128(bad, _mm_cmpeq_epi8(v, _mm_set1_epi8('"')));
	bad = _mm_or_si128(bad, _mm_cmpeq_epi8(v, _mm_set1_epi8('\\')));
	return _mm_movemask_epi8(bad) == 0;
}
#endif

/* A byte JSON must escape, as its escape (at most 6 bytes); returns the length. */
static size_t escape_byte(char *o, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";
	const char *two = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\n' ? "\\n" :
			  c == '\r' ? "\\r" : c == '\t' ? "\\t" : NULL;
	if (two) {
		memcpy(o, two, 2);
		return 2;
	}
	memcpy(o, "\\u00", 4);
	o[4] = hex[c >> 4];
	o[5] = hex[c & 15];
	return 6;
}

/*
 * jw_str when the worst case (every byte as \u00XX) fits: written straight
 * into the buffer, one bounds check for the whole string. The same bytes as
 * the general loop in jw_str.
 */
static void str_fits(struct jsonw *w, const unsigned char *s, size_t n)
{
	char *o = w->buf + w->len;
	size_t i = 0;
	*o++ = '"';
	while (i < n) {
		uint64_t v;
#ifdef __SSE2__
		/* Sixteen at a time, and a tail of 9-15 as the string's last sixteen
		 * (the same reasoning as the eight-byte tail below). */
		if (n - i >= 16) {
			if (plain16(s + i)) {
				memcpy(o, s + i, 16);
				o += 16;
				i += 16;
				continue;
			}
		} else if (n >= 16 && n - i > 8 && plain16(s + n - 16)) {
			memcpy(o - (16 - (n - i)), s + n - 16, 16);
			o += n - i;
			i = n;
			continue;
		}
#endif
		/* Eight plain bytes at a time: the usual case. */
		if (n - i >= 8) {
			memcpy(&v, s + i, 8);
			if (plain8(v)) {
				memcpy(o, s + i, 8);
				o += 8;
				i += 8;
				continue;
			}
		} else if (n >= 8) {
			/* The tail as the string's last eight bytes. When all are
			 * plain, the ones before i were plain too and went out as
			 * they are, so rewriting them over themselves changes nothing. */
			memcpy(&v, s + n - 8, 8);
			if (plain8(v)) {
				memcpy(o - (8 - (n - i)), s + n - 8, 8);
				o += n - i;
				i = n;
				continue;
			}
		}
		unsigned char c = s[i];
		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
			*o++ = (char)c;
			i++;
			continue;
		}
		size_t u = c >= 0x80 ? utf8_len(s + i, n - i) : 0;
		if (u) {
			memcpy(o, s + i, u);
			o += u;
			i += u;
			continue;
		}
		o += escape_byte(o, c);
		i++;
	}
	*o++ = '"';
	*o = '\0';
	w->len = (size_t)(o - w->buf);
	w->need_comma = true;
}

void jw_str(struct jsonw *w, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	sep(w);
	if (!w->overflow && w->cap - w->len >= 3 && n <= (w->cap - w->len - 3) / 6) {
		str_fits(w, s, n);
		return;
	}
	put(w, "\"");
	size_t run = 0; /* start of bytes copied verbatim */
	size_t i = 0;
	while (i < n) {
		unsigned char c = s[i];
		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
			i++;
			continue;
		}
		size_t u = c >= 0x80 ? utf8_len(s + i, n - i) : 0;
		if (u) {
			i += u;
			continue;
		}
		jw_raw(w, str + run, i - run);
		char esc[6];
		jw_raw(w, esc, escape_byte(esc, c));
		i++;
		run = i;
	}
	jw_raw(w, str + run, n - run);
	put(w, "\"");
	w->need_comma = true;
}

void jw_cstr(struct jsonw *w, const char *s)
{
	if (!s)
		jw_null(w);
	else
		jw_str(w, s, strlen(s));
}

/*
 * A string known to need no escaping (digits and punctuation we formatted):
 * the same bytes as jw_str, without looking at each one.
 */
static void put_plain(struct jsonw *w, const char *s, size_t n)
{
	sep(w);
	if (w->overflow || w->cap - w->len < n + 3) {
		w->overflow = true;
		return;
	}
	char *o = w->buf + w->len;
	*o++ = '"';
	memcpy(o, s, n);
	o += n;
	*o++ = '"';
	*o = '\0';
	w->len = (size_t)(o - w->buf);
	w->need_comma = true;
}

/* %llu */
void jw_u64(struct jsonw *w, uint64_t v)
{
	char b[24], *p = digits(b + sizeof b, v);
	sep(w);
	jw_raw(w, p, (size_t)(b + sizeof b - p));
	w->need_comma = true;
}

/* %lld */
void jw_i64(struct jsonw *w, int64_t v)
{
	char b[24], *p = digits(b + sizeof b, v < 0 ? 0 - (uint64_t)v : (uint64_t)v);
	if (v < 0)
		*--p = '-';
	sep(w);
	jw_raw(w, p, (size_t)(b + sizeof b - p));
	w->need_comma = true;
}

void jw_null(struct jsonw *w)
{
	sep(w);
	put(w, "null");
	w->need_comma = true;
}

void jw_bool(struct jsonw *w, bool v)
{
	sep(w);
	put(w, v ? "true" : "false");
	w->need_comma = true;
}

/* "%llu.%0*llu" of value / 10^decimals and value % 10^decimals. */
void jw_fixed(struct jsonw *w, uint64_t value, int decimals)
{
	uint64_t div = 1;
	for (int i = 0; i < decimals; i++)
		div *= 10;
	char b[48], *end = b + sizeof b, *f = digits(end, value % div);
	/* %0*llu pads the fraction with zeros to `decimals` digits (a width of 0 still prints "0"). */
	while (end - f < decimals && f > b + 24)
		*--f = '0';
	*--f = '.';
	f = digits(f, value / div);
	sep(w);
	jw_raw(w, f, (size_t)(end - f));
	w->need_comma = true;
}

/*
 * Days since 1970-01-01 -> civil date, proleptic Gregorian (H. Hinnant's
 * civil_from_days, valid for every day from 1970 on).
 */
static void civil_from_days(uint64_t days, unsigned *y, unsigned *m, unsigned *d)
{
	uint64_t z = days + 719468, era = z / 146097, doe = z - era * 146097;
	uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = (unsigned)(yoe + era * 400 + (*m <= 2));
}

/* "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ" of gmtime_r(us / 10^6) and us % 10^6. */
void jw_time(struct jsonw *w, uint64_t us)
{
	jw_time_memo(w, us, NULL);
}

void jw_time_memo(struct jsonw *w, uint64_t us, struct jw_time_memo *m)
{
	uint64_t secs = us / 1000000;
	char b[96];
	if (secs > 253402300799u) {
		/* Past 9999-12-31: beyond 4 digits of year, as gmtime_r and printf write it. */
		time_t t = (time_t)secs;
		struct tm tm;
		gmtime_r(&t, &tm);
		snprintf(b, sizeof b, "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
			 (unsigned)(us % 1000000));
		jw_cstr(w, b);
		return;
	}
	char *p;
	if (m && m->set && m->secs == secs) {
		memcpy(b, m->text, sizeof m->text);
		p = b + sizeof m->text;
	} else {
		unsigned y, mo, d, sod = (unsigned)(secs % 86400);
		civil_from_days(secs / 86400, &y, &mo, &d);
		p = put_padded(b, y, 4);
		*p++ = '-';
		p = put_padded(p, mo, 2);
		*p++ = '-';
		p = put_padded(p, d, 2);
		*p++ = 'T';
		p = put_padded(p, sod / 3600, 2);
		*p++ = ':';
		p = put_padded(p, sod / 60 % 60, 2);
		*p++ = ':';
		p = put_padded(p, sod % 60, 2);
		if (m) {
			memcpy(m->text, b, sizeof m->text);
			m->secs = secs;
			m->set = true;
		}
	}
	*p++ = '.';
	p = put_padded(p, (unsigned)(us % 1000000), 6);
	*p++ = 'Z';
	put_plain(w, b, (size_t)(p - b));
}

/* inet_ntop's text: dotted quad for an IPv4-mapped address, RFC 5952 for IPv6. */
void jw_ip(struct jsonw *w, const uint8_t a[16])
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	char b[INET6_ADDRSTRLEN];
	if (memcmp(a, mapped, 12) == 0) {
		char *p = b;
		for (int i = 12; i < 16; i++) {
			unsigned v = a[i];
			if (v >= 100) {
				*p++ = (char)('0' + v / 100);
				v %= 100;
				*p++ = (char)('0' + v / 10);
			} else if (v >= 10) {
				*p++ = (char)('0' + v / 10);
			}
			*p++ = (char)('0' + v % 10);
			*p++ = '.';
		}
		put_plain(w, b, (size_t)(p - 1 - b));
		return;
	}
	inet_ntop(AF_INET6, a, b, sizeof b);
	jw_cstr(w, b);
}

void jw_ip_memo(struct jsonw *w, const uint8_t addr[16], struct jw_ip_memo *m)
{
	if (!m) {
		jw_ip(w, addr);
		return;
	}
	if (m->len && memcmp(m->addr, addr, 16) == 0) {
		sep(w);
		/* The whole text field in one fixed-size move (a short variable one
		 * becomes a slow rep movs); the bytes past len are overwritten next. */
		if (!w->overflow && w->cap - w->len > sizeof m->text) {
			memcpy(w->buf + w->len, m->text, sizeof m->text);
			w->len += m->len;
			w->buf[w->len] = '\0';
			w->need_comma = true;
			return;
		}
		jw_raw(w, m->text, m->len);
		w->need_comma = true;
		return;
	}
	size_t start = w->len;
	bool comma = w->need_comma;
	jw_ip(w, addr);
	if (w->overflow)
		return;
	/* The value as written, without the comma before it. */
	start += comma;
	size_t n = w->len - start;
	if (n > sizeof m->text || w->cap - start < sizeof m->text)
		return;
	memcpy(m->addr, addr, 16);
	memcpy(m->text, w->buf + start, sizeof m->text); /* fixed size, as above */
	m->len = (uint8_t)n;
}
