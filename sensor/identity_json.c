/*
 * identity_json.c - struct identity -> JSON (see identity_json.h for the shape).
 */
#include "identity_json.h"

#include <string.h>

static void claims_json(struct jsonw *w, const struct jwt_claims *c)
{
	const char *r = c->roles;
	unsigned i;

	jw_obj_open(w);
	if (c->present & JWT_HAS_ISS) {
		jw_key(w, "iss");
		jw_cstr(w, c->iss);
	}
	if (c->present & JWT_HAS_AUD) {
		jw_key(w, "aud");
		jw_cstr(w, c->aud);
	}
	if (c->present & JWT_HAS_SCOPE) {
		jw_key(w, "scope");
		jw_cstr(w, c->scope);
	}
	if (c->present & JWT_HAS_ROLES) {
		jw_key(w, "roles");
		jw_arr_open(w);
		for (i = 0; i < c->n_roles && r < c->roles + sizeof c->roles; i++) {
			size_t len = strnlen(r, (size_t)(c->roles + sizeof c->roles - r));
			jw_str(w, r, len);
			r += len + 1;
		}
		jw_arr_close(w);
	}
	if (c->present & JWT_HAS_IAT) {
		jw_key(w, "iat");
		jw_i64(w, c->iat);
	}
	if (c->present & JWT_HAS_EXP) {
		jw_key(w, "exp");
		jw_i64(w, c->exp);
	}
	if (c->present & JWT_HAS_NBF) {
		jw_key(w, "nbf");
		jw_i64(w, c->nbf);
	}
	if (c->present & JWT_HAS_JTI) {
		jw_key(w, "jti");
		jw_cstr(w, c->jti);
	}
	if (c->present & JWT_HAS_ALG) {
		jw_key(w, "alg");
		jw_cstr(w, c->alg);
	}
	if (c->present & JWT_HAS_KID) {
		jw_key(w, "kid");
		jw_cstr(w, c->kid);
	}
	jw_obj_close(w);
}

/*
 * The slot of an identity: kind, flags and the id's first 24 bytes (ids
 * differ early: names, "sha256:" and 16 hex digits). Bytes after the id's NUL
 * may differ between two identities with the same JSON: that only makes a
 * miss, as same_text decides.
 */
static size_t memo_slot(const struct identity *id)
{
	uint64_t a, b, c;
	memcpy(&a, id->id, 8);
	memcpy(&b, id->id + 8, 8);
	memcpy(&c, id->id + 16, 8);
	uint64_t h = (a * 0x9E3779B97F4A7C15ull) ^ (b * 0xC2B2AE3D27D4EB4Full) ^
		     (c * 0x165667B19E3779F9ull) ^ ((uint64_t)id->kind << 16 | id->flags);
	h ^= h >> 32;
	h *= 0xff51afd7ed558ccdull;
	return (size_t)(h >> 40) % IDENTITY_JSON_MEMO_SLOTS; /* the best-mixed bits */
}

/* The bytes of roles[] that claims_json reads for n_roles names. */
static size_t roles_read(const struct jwt_claims *c)
{
	const char *r = c->roles, *end = c->roles + sizeof c->roles;
	for (unsigned i = 0; i < c->n_roles && r < end; i++)
		r += strnlen(r, (size_t)(end - r)) + 1;
	return r < end ? (size_t)(r - c->roles) : sizeof c->roles;
}

/*
 * True when identity_json writes the same text for a and b: every byte it
 * reads (for kind other than none) is equal. Reads what identity_json and
 * claims_json read, field by field: keep the three together.
 */
static bool same_text(const struct identity *a, const struct identity *b)
{
	if (a->kind != b->kind || a->flags != b->flags || a->has_claims != b->has_claims ||
	    strncmp(a->id, b->id, sizeof a->id) != 0)
		return false;
	if (!a->has_claims)
		return true;
	const struct jwt_claims *x = &a->claims, *y = &b->claims;
	uint16_t p = x->present;
	if (p != y->present)
		return false;
	if (((p & JWT_HAS_ISS) && strcmp(x->iss, y->iss) != 0) ||
	    ((p & JWT_HAS_AUD) && strcmp(x->aud, y->aud) != 0) ||
	    ((p & JWT_HAS_SCOPE) && strcmp(x->scope, y->scope) != 0) ||
	    ((p & JWT_HAS_IAT) && x->iat != y->iat) || ((p & JWT_HAS_EXP) && x->exp != y->exp) ||
	    ((p & JWT_HAS_NBF) && x->nbf != y->nbf) ||
	    ((p & JWT_HAS_JTI) && strcmp(x->jti, y->jti) != 0) ||
	    ((p & JWT_HAS_ALG) && strcmp(x->alg, y->alg) != 0) ||
	    ((p & JWT_HAS_KID) && strcmp(x->kid, y->kid) != 0))
		return false;
	if (p & JWT_HAS_ROLES) {
		if (x->n_roles != y->n_roles || memcmp(x->roles, y->roles, roles_read(x)) != 0)
			return false;
	}
	return true;
}

void identity_json_memo(struct jsonw *w, const struct identity *id, struct identity_json_memo *m)
{
	if (!m || id->kind == ID_NONE || w->need_comma || w->overflow) {
		identity_json(w, id); /* none is short; a comma or overflow: not the usual place */
		return;
	}
	struct identity_json_slot *s = &m->slot[memo_slot(id)];
	if (s->len && same_text(&s->id, id)) {
		jw_raw(w, s->text, s->len);
		w->need_comma = true; /* as after identity_json's closing brace */
		return;
	}
	size_t start = w->len;
	identity_json(w, id);
	size_t n = w->len - start;
	if (w->overflow || n > sizeof s->text)
		return;
	memcpy(&s->id, id, sizeof *id);
	memcpy(s->text, w->buf + start, n);
	s->len = (uint32_t)n;
}

void identity_json(struct jsonw *w, const struct identity *id)
{
	unsigned i;

	jw_obj_open(w);
	jw_key(w, "kind");
	jw_cstr(w, identity_kind_name(id->kind));
	jw_key(w, "id");
	if (id->kind == ID_NONE)
		jw_null(w);
	else
		jw_str(w, id->id, strnlen(id->id, sizeof id->id));
	if (id->kind != ID_NONE && id->has_claims) {
		jw_key(w, "claims");
		claims_json(w, &id->claims);
	}
	if (id->kind != ID_NONE && id->flags) {
		jw_key(w, "flags");
		jw_arr_open(w);
		for (i = 0; i < ID_FLAG_COUNT; i++)
			if (id->flags & (1u << i))
				jw_cstr(w, identity_flag_name((uint16_t)(1u << i)));
		jw_arr_close(w);
	}
	jw_obj_close(w);
}
