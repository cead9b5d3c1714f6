/*
 * event_wire.c - api_event <-> bytes (event_wire.h). The struct in order;
 * each text field of the table below becomes a 16-bit length and its bytes
 * up to its NUL (a name list: up to the NUL of its last name, by its count),
 * everything between those fields is copied as it is, and the claims are
 * encoded the same way inside, or left out (has_claims false, read before):
 *
 *   +-----+-------+-------------+-----+-------+-------------+-----+
 *   | raw | len16 | text, len B | raw | len16 | text, len B | ... |
 *   +-----+-------+-------------+-----+-------+-------------+-----+
 *
 * The table only saves bytes: a member missing from it is copied whole, so a
 * field added to the event crosses unchanged.
 */
#include "event_wire.h"

#include <string.h>

enum kind { F_TEXT, F_LIST, F_CLAIMS };

struct field {
	uint16_t off, size;
	uint16_t count_off; /* F_LIST: the uint8_t count of its names */
	uint8_t kind;
};

#define MSIZE(type, m) sizeof(((type *)0)->m)
#define TEXT(type, m) {offsetof(type, m), MSIZE(type, m), 0, F_TEXT}
#define LIST(type, m, n) {offsetof(type, m), MSIZE(type, m), offsetof(type, n), F_LIST}

/* In increasing offset order, not overlapping. */
static const struct field ev_fields[] = {
	TEXT(struct api_event, method),
	TEXT(struct api_event, host),
	TEXT(struct api_event, path),
	LIST(struct api_event, query_keys, n_query_keys),
	TEXT(struct api_event, user_agent),
	TEXT(struct api_event, content_type),
	TEXT(struct api_event, identity.id),
	{offsetof(struct api_event, identity.claims), MSIZE(struct api_event, identity.claims), 0,
	 F_CLAIMS},
	TEXT(struct api_event, grpc_message),
};

static const struct field claim_fields[] = {
	TEXT(struct jwt_claims, iss),
	TEXT(struct jwt_claims, aud),
	TEXT(struct jwt_claims, scope),
	LIST(struct jwt_claims, roles, n_roles),
	TEXT(struct jwt_claims, jti),
	TEXT(struct jwt_claims, alg),
	TEXT(struct jwt_claims, kid),
};

#define N(a) (sizeof(a) / sizeof(a)[0])

_Static_assert(offsetof(struct api_event, identity.has_claims) <
		       offsetof(struct api_event, identity.claims),
	       "has_claims is read before the claims");
_Static_assert(sizeof(struct api_event) < 65536, "offsets fit 16 bits");

/* Bytes of field f of `base` that matter: its text up to the NUL, its names up to the last. */
static size_t used(const uint8_t *base, const struct field *f)
{
	const char *s = (const char *)base + f->off;
	if (f->kind == F_TEXT)
		return strnlen(s, f->size);
	size_t at = 0;
	for (unsigned i = 0; i < base[f->count_off] && at < f->size; i++)
		at += strnlen(s + at, f->size - at) + 1;
	return at < f->size ? at : f->size;
}

static size_t put_fields(const uint8_t *src, size_t size, const struct field *t, size_t n,
			 uint8_t *dst, bool claims);

static size_t put_field(const uint8_t *src, const struct field *f, uint8_t *dst, bool claims)
{
	if (f->kind == F_CLAIMS)
		return claims ? put_fields(src + f->off, f->size, claim_fields, N(claim_fields), dst,
					   false)
			      : 0;
	uint16_t len = (uint16_t)used(src, f);
	memcpy(dst, &len, sizeof len);
	memcpy(dst + sizeof len, src + f->off, len);
	return sizeof len + len;
}

static size_t put_fields(const uint8_t *src, size_t size, const struct field *t, size_t n,
			 uint8_t *dst, bool claims)
{
	size_t pos = 0, o = 0;
	for (size_t i = 0; i < n; i++) {
		memcpy(dst + o, src + pos, t[i].off - pos);
		o += t[i].off - pos;
		o += put_field(src, &t[i], dst + o, claims);
		pos = t[i].off + t[i].size;
	}
	memcpy(dst + o, src + pos, size - pos);
	return o + size - pos;
}

size_t event_wire_put(const struct api_event *ev, uint8_t *dst)
{
	return put_fields((const uint8_t *)ev, sizeof *ev, ev_fields, N(ev_fields), dst,
			  ev->identity.has_claims);
}

struct reader {
	const uint8_t *p, *end;
};

static bool take(struct reader *r, void *out, size_t n)
{
	if ((size_t)(r->end - r->p) < n)
		return false;
	memcpy(out, r->p, n);
	r->p += n;
	return true;
}

static bool get_fields(uint8_t *dst, size_t size, const struct field *t, size_t n,
		       struct reader *r, const uint8_t *ev_base);

static bool get_field(uint8_t *dst, const struct field *f, struct reader *r,
		      const uint8_t *ev_base)
{
	if (f->kind == F_CLAIMS) {
		const struct api_event *ev = (const struct api_event *)ev_base;
		if (ev->identity.has_claims)
			return get_fields(dst + f->off, f->size, claim_fields, N(claim_fields), r,
					  NULL);
		memset(dst + f->off, 0, f->size);
		return true;
	}
	uint16_t len;
	if (!take(r, &len, sizeof len) || len > f->size || !take(r, dst + f->off, len))
		return false;
	if (len < f->size)
		dst[f->off + len] = '\0';
	return true;
}

static bool get_fields(uint8_t *dst, size_t size, const struct field *t, size_t n,
		       struct reader *r, const uint8_t *ev_base)
{
	size_t pos = 0;
	for (size_t i = 0; i < n; i++) {
		if (!take(r, dst + pos, t[i].off - pos) || !get_field(dst, &t[i], r, ev_base))
			return false;
		pos = t[i].off + t[i].size;
	}
	return take(r, dst + pos, size - pos);
}

int event_wire_get(struct api_event *ev, const uint8_t *src, size_t len)
{
	struct reader r = {src, src + len};
	uint8_t *dst = (uint8_t *)ev;
	if (!get_fields(dst, sizeof *ev, ev_fields, N(ev_fields), &r, dst) || r.p != r.end)
		return -1;
	return 0;
}
