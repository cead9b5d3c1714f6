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

/* FNV-1a of what tells identities apart most cheaply: kind, flags, the id up to its NUL. */
static size_t memo_slot(const struct identity *id)
{
	uint64_t h = 0xcbf29ce484222325ull ^ ((uint64_t)id->kind << 16 | id->flags);
	for (size_t i = 0; i < sizeof id->id && id->id[i]; i++)
		h = (h ^ (unsigned char)id->id[i]) * 0x100000001b3ull;
	h ^= h >> 29;
	return (size_t)(h % IDENTITY_JSON_MEMO_SLOTS);
}

void identity_json_memo(struct jsonw *w, const struct identity *id, struct identity_json_memo *m)
{
	if (!m || id->kind == ID_NONE || w->need_comma || w->overflow) {
		identity_json(w, id); /* none is short; a comma or overflow: not the usual place */
		return;
	}
	struct identity_json_slot *s = &m->slot[memo_slot(id)];
	if (s->len && memcmp(&s->id, id, sizeof *id) == 0) {
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
