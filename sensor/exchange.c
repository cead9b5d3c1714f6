/*
 * exchange.c - api_event fields from request and response parts.
 */
#include "exchange.h"

#include <stddef.h>
#include <string.h>

#include "../decoders/ascii.h"

/*
 * Zeroes the bytes from the end of text member `prev` through the first byte
 * of text member `next`. Constant sizes: the compiler writes the stores
 * inline (a loop over a table made fifteen memset calls, as slow as one
 * memset of the whole event).
 */
#define EV_OFF(m) offsetof(struct api_event, m)
#define EV_END(m) (EV_OFF(m) + sizeof(((struct api_event *)0)->m))
#define ZERO_BETWEEN(b, prev, next)                                                        \
	do {                                                                               \
		_Static_assert(EV_OFF(next) >= EV_END(prev), #next " follows " #prev);    \
		memset((b) + EV_END(prev), 0, EV_OFF(next) + 1 - EV_END(prev));            \
	} while (0)

void exchange_reset(struct api_event *ev)
{
	/* The text members in increasing offset order (see exchange.h); a text
	 * member missing here is zeroed whole, which is only slower. */
	uint8_t *b = (uint8_t *)ev;
	memset(b, 0, EV_OFF(method) + 1);
	ZERO_BETWEEN(b, method, host);
	ZERO_BETWEEN(b, host, path);
	ZERO_BETWEEN(b, path, query_keys);
	ZERO_BETWEEN(b, query_keys, user_agent);
	ZERO_BETWEEN(b, user_agent, content_type);
	ZERO_BETWEEN(b, content_type, identity.id);
	ZERO_BETWEEN(b, identity.id, identity.claims.iss);
	ZERO_BETWEEN(b, identity.claims.iss, identity.claims.aud);
	ZERO_BETWEEN(b, identity.claims.aud, identity.claims.scope);
	ZERO_BETWEEN(b, identity.claims.scope, identity.claims.roles);
	ZERO_BETWEEN(b, identity.claims.roles, identity.claims.jti);
	ZERO_BETWEEN(b, identity.claims.jti, identity.claims.alg);
	ZERO_BETWEEN(b, identity.claims.alg, identity.claims.kid);
	ZERO_BETWEEN(b, identity.claims.kid, grpc_message);
	memset(b + EV_END(grpc_message), 0, sizeof *ev - EV_END(grpc_message));
}

static void copy_field(char *dst, size_t cap, const char *src, size_t len, uint8_t *trunc,
		       uint8_t bit)
{
	if (len >= cap) {
		len = cap - 1;
		*trunc |= bit;
	}
	memcpy(dst, src, len);
	dst[len] = '\0';
}

void exchange_set_method(struct api_event *ev, const char *method, size_t len)
{
	copy_field(ev->method, sizeof ev->method, method, len, &ev->truncated, EV_TRUNC_METHOD);
}

void exchange_set_host(struct api_event *ev, const char *host, size_t len)
{
	/* "user:password@host" (RFC 9110 4.2.4 forbids it; it still appears): never keep the secret. */
	const char *at = memchr(host, '@', len);
	if (at) {
		len -= (size_t)(at + 1 - host);
		host = at + 1;
	}
	copy_field(ev->host, sizeof ev->host, host, len, &ev->truncated, EV_TRUNC_HOST);
	ev->has_host = true;
}

/*
 * Absolute-form ("http://host/p?q", RFC 9112 3.2.2) keeps only the path;
 * authority-form (CONNECT) and asterisk-form are kept as they are.
 */
void exchange_set_target(struct api_event *ev, const char *t, size_t len)
{
	const char *end = t + len;
	const char *q = memchr(t, '?', len);
	const char *path_end = q ? q : end;
	const char *p = t;
	if (len > 7 && (ascii_ieq_lit(t, "http://", 7) || ascii_ieq_lit(t, "https://", 8))) {
		const char *s = (const char *)memchr(t, ':', len) + 3;
		const char *slash = s < path_end ? memchr(s, '/', (size_t)(path_end - s)) : NULL;
		p = slash ? slash : path_end;
	}
	copy_field(ev->path, sizeof ev->path, p, (size_t)(path_end - p), &ev->truncated,
		   EV_TRUNC_PATH);
	/* A second target (a repeated :path) replaces the names too: appending its
	 * names from the start while counting on would count bytes no one wrote,
	 * stale bytes of an earlier exchange in a reused record. */
	ev->n_query_keys = 0;
	ev->truncated &= (uint8_t)~EV_TRUNC_QKEYS;
	if (!q)
		return;
	size_t used = 0;
	for (const char *k = q + 1; k < end;) {
		const char *amp = memchr(k, '&', (size_t)(end - k));
		const char *stop = amp ? amp : end;
		const char *eq = memchr(k, '=', (size_t)(stop - k));
		size_t klen = (size_t)((eq ? eq : stop) - k);
		if (klen > 0) {
			if (ev->n_query_keys >= EV_QKEYS_COUNT || used + klen + 1 > EV_QKEYS_MAX) {
				ev->truncated |= EV_TRUNC_QKEYS;
				break;
			}
			memcpy(ev->query_keys + used, k, klen);
			ev->query_keys[used + klen] = '\0';
			used += klen + 1;
			ev->n_query_keys++;
		}
		k = stop + 1;
	}
}

/* X-Forwarded-For or Forwarded from a trusted proxy: the client behind it. */
static void forwarded_header(struct api_event *ev, const struct exchange_config *xc, bool rfc7239,
			     const char *value, size_t vlen)
{
	if (!xc || !xc->n_trusted_proxies || (ev->has_origin && !rfc7239))
		return; /* Forwarded wins over X-Forwarded-For */
	uint8_t origin[16];
	if (forwarded_resolve(ev->client_ip, xc->trusted_proxies, xc->n_trusted_proxies,
			      rfc7239 ? NULL : value, rfc7239 ? 0 : vlen, rfc7239 ? value : NULL,
			      rfc7239 ? vlen : 0, origin)) {
		memcpy(ev->origin_ip, origin, 16);
		ev->has_origin = true;
	}
}

/*
 * Authorization through the worker's cache. Decoding a JWT (base64, two JSON
 * documents, a signature check) was a third of the time per request, and
 * clients send the same token again and again. What the uncached path does
 * with the field depends only on its bytes and on xc->verify: leave the
 * identity alone, or replace all of it (identity.c's take()). So the result
 * of offering the value to an empty identity is cached, and applied the same
 * way: byte-identical to decoding it every time.
 */
static void offer_authorization_cached(struct identity *id, const struct exchange_config *xc,
				       const char *name, size_t nlen, const char *value,
				       size_t vlen)
{
	const struct identity *hit;
	struct identity fresh;

	if (id->source >= IDSRC_AUTHORIZATION)
		return; /* the first usable Authorization field won already */
	hit = idcache_find(xc->idcache, value, vlen);
	if (!hit) {
		identity_init(&fresh);
		identity_offer_header(&fresh, xc->names, name, nlen, value, vlen, xc->verify,
				      xc->verify_ctx);
		idcache_store(xc->idcache, value, vlen, &fresh);
		hit = &fresh;
	}
	if (hit->source == IDSRC_AUTHORIZATION)
		*id = *hit;
}

void exchange_request_header(struct api_event *ev, const struct exchange_config *xc,
			     const char *name, size_t nlen, const char *value, size_t vlen)
{
	if (xc && xc->idcache && ASCII_NAME_IS(name, nlen, "authorization")) {
		offer_authorization_cached(&ev->identity, xc, name, nlen, value, vlen);
		return; /* none of the fields below */
	}
	identity_offer_header(&ev->identity, xc ? xc->names : NULL, name, nlen, value, vlen,
			      xc ? xc->verify : NULL, xc ? xc->verify_ctx : NULL);
	if (ASCII_NAME_IS(name, nlen, "x-forwarded-for")) {
		forwarded_header(ev, xc, false, value, vlen);
	} else if (ASCII_NAME_IS(name, nlen, "forwarded")) {
		forwarded_header(ev, xc, true, value, vlen);
	} else if (!ev->has_host && ASCII_NAME_IS(name, nlen, "host")) {
		exchange_set_host(ev, value, vlen);
	} else if (!ev->has_user_agent && ASCII_NAME_IS(name, nlen, "user-agent")) {
		copy_field(ev->user_agent, sizeof ev->user_agent, value, vlen, &ev->truncated,
			   EV_TRUNC_UA);
		ev->has_user_agent = true;
	} else if (!ev->has_content_type && ASCII_NAME_IS(name, nlen, "content-type")) {
		copy_field(ev->content_type, sizeof ev->content_type, value, vlen, &ev->truncated,
			   EV_TRUNC_CTYPE);
		ev->has_content_type = true;
	}
}

void exchange_response_header(struct api_event *ev, const char *name, size_t nlen,
			      const char *value, size_t vlen)
{
	/* The response's content type describes what was returned: it wins over the request's. */
	if (ASCII_NAME_IS(name, nlen, "content-type") && !ev->resp_content_type) {
		ev->truncated &= (uint8_t)~EV_TRUNC_CTYPE;
		copy_field(ev->content_type, sizeof ev->content_type, value, vlen, &ev->truncated,
			   EV_TRUNC_CTYPE);
		ev->has_content_type = true;
		ev->resp_content_type = true;
	}
}

void exchange_set_endpoints(struct api_event *ev, const struct flow *f, int client)
{
	memcpy(ev->client_ip, f->key.addr[client], 16);
	memcpy(ev->server_ip, f->key.addr[!client], 16);
	ev->client_port = f->key.port[client];
	ev->server_port = f->key.port[!client];
	ev->vlan = f->vlan[client][0];
}

void exchange_finish(struct api_event *ev, const struct exchange_config *xc)
{
	identity_finish(&ev->identity, ev->ts_us, xc ? xc->key_max_age_us : 0);
}
