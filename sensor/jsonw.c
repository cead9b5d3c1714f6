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

static void put(struct jsonw *w, const char *s)
{
	jw_raw(w, s, strlen(s));
}

/* In an array, values are separated by commas; after a key, need_comma is false. */
static void sep(struct jsonw *w)
{
	if (w->need_comma)
		put(w, ",");
}

void jw_obj_open(struct jsonw *w)
{
	sep(w);
	put(w, "{");
	w->need_comma = false;
}

void jw_obj_close(struct jsonw *w)
{
	put(w, "}");
	w->need_comma = true;
}

void jw_arr_open(struct jsonw *w)
{
	sep(w);
	put(w, "[");
	w->need_comma = false;
}

void jw_arr_close(struct jsonw *w)
{
	put(w, "]");
	w->need_comma = true;
}

void jw_key(struct jsonw *w, const char *key)
{
	if (w->need_comma)
		put(w, ",");
	put(w, "\"");
	put(w, key);
	put(w, "\":");
	w->need_comma = false;
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

void jw_str(struct jsonw *w, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	sep(w);
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
		char esc[8];
		switch (c) {
		case '"': put(w, "\\\""); break;
		case '\\': put(w, "\\\\"); break;
		case '\n': put(w, "\\n"); break;
		case '\r': put(w, "\\r"); break;
		case '\t': put(w, "\\t"); break;
		default:
			snprintf(esc, sizeof esc, "\\u%04x", c);
			put(w, esc);
		}
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

void jw_u64(struct jsonw *w, uint64_t v)
{
	char b[24];
	sep(w);
	int n = snprintf(b, sizeof b, "%llu", (unsigned long long)v);
	jw_raw(w, b, (size_t)n);
	w->need_comma = true;
}

void jw_i64(struct jsonw *w, int64_t v)
{
	char b[24];
	sep(w);
	int n = snprintf(b, sizeof b, "%lld", (long long)v);
	jw_raw(w, b, (size_t)n);
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

void jw_fixed(struct jsonw *w, uint64_t value, int decimals)
{
	uint64_t div = 1;
	for (int i = 0; i < decimals; i++)
		div *= 10;
	char b[48];
	sep(w);
	int n = snprintf(b, sizeof b, "%llu.%0*llu", (unsigned long long)(value / div), decimals,
			 (unsigned long long)(value % div));
	jw_raw(w, b, (size_t)n);
	w->need_comma = true;
}

void jw_time(struct jsonw *w, uint64_t us)
{
	time_t secs = (time_t)(us / 1000000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	char b[96];
	snprintf(b, sizeof b, "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (unsigned)(us % 1000000));
	jw_cstr(w, b);
}

void jw_ip(struct jsonw *w, const uint8_t a[16])
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	char b[INET6_ADDRSTRLEN];
	if (memcmp(a, mapped, 12) == 0)
		inet_ntop(AF_INET, a + 12, b, sizeof b);
	else
		inet_ntop(AF_INET6, a, b, sizeof b);
	jw_cstr(w, b);
}
