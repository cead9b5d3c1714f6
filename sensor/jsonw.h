/*
 * jsonw.h - a small JSON writer into a caller's fixed buffer (RFC 8259).
 *
 * Strings are escaped; bytes that are not valid UTF-8 are written as the
 * code point of the same value (\u00XX), so any input gives valid JSON. When
 * the buffer fills, `overflow` is set and the output is to be discarded.
 */
#ifndef TAPIR_JSONW_H
#define TAPIR_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct jsonw {
	char *buf;
	size_t cap;
	size_t len;
	bool overflow;
	bool need_comma;
};

void jw_init(struct jsonw *w, char *buf, size_t cap);
void jw_raw(struct jsonw *w, const char *s, size_t n);
/* A value already in JSON form (our own literal, never wire bytes), as a value call writes it. */
void jw_value_raw(struct jsonw *w, const char *json, size_t n);
void jw_obj_open(struct jsonw *w);
void jw_obj_close(struct jsonw *w);
void jw_arr_open(struct jsonw *w);
void jw_arr_close(struct jsonw *w);
/*
 * A member name (written as is: member names are ours, never escaped); the
 * value call that follows writes its value. Inline, because it runs for every
 * member of every event: a literal name's length and copy are then settled at
 * compile time.
 */
static inline void jw_key(struct jsonw *w, const char *key)
{
	size_t k = strlen(key), need = (w->need_comma ? 1 : 0) + k + 3;
	if (w->overflow || w->cap - w->len < need + 1) {
		w->overflow = true;
		return;
	}
	char *o = w->buf + w->len; /* [,]"key": in one go */
	if (w->need_comma)
		*o++ = ',';
	*o++ = '"';
	memcpy(o, key, k);
	o += k;
	*o++ = '"';
	*o++ = ':';
	*o = '\0';
	w->len += need;
	w->need_comma = false;
}
void jw_str(struct jsonw *w, const char *s, size_t n);
void jw_cstr(struct jsonw *w, const char *s); /* NULL writes null */
void jw_u64(struct jsonw *w, uint64_t v);
void jw_i64(struct jsonw *w, int64_t v);
void jw_null(struct jsonw *w);
void jw_bool(struct jsonw *w, bool v);
/* Fixed-point number with `decimals` places: value / 10^decimals. */
void jw_fixed(struct jsonw *w, uint64_t value, int decimals);
/* RFC 3339 UTC time with microseconds. */
void jw_time(struct jsonw *w, uint64_t us);
/*
 * The text of the last whole second jw_time_memo wrote: events come in time
 * order, so the date and clock change once a second, not once an event. A
 * zeroed struct is empty. One owner, one thread.
 */
struct jw_time_memo {
	uint64_t secs;
	bool set;
	char text[19]; /* YYYY-MM-DDTHH:MM:SS */
};
/* jw_time, reusing m's text when `us` falls in the same second. */
void jw_time_memo(struct jsonw *w, uint64_t us, struct jw_time_memo *m);
/* An address kept as 16 bytes (IPv4-mapped for IPv4). */
void jw_ip(struct jsonw *w, const uint8_t addr[16]);

/* The last address jw_ip_memo wrote and its JSON text. A zeroed struct is empty. */
struct jw_ip_memo {
	uint8_t addr[16];
	uint8_t len;          /* 0: empty */
	char text[48];        /* quoted, INET6_ADDRSTRLEN + 2 fits */
};
/* jw_ip, reusing m's text when addr is the address it holds. */
void jw_ip_memo(struct jsonw *w, const uint8_t addr[16], struct jw_ip_memo *m);

#endif
