/*
 * detect_token.c - token_misuse: rules on the credential itself, no baseline
 * and no learning period, on every identity (also unknown ones answered
 * 401):
 *   alg none             an unsigned JWT; p = 1e-10 when answered 2xx/3xx
 *                        (the server accepted it), 1e-4 when refused
 *   bad signature + 2xx  a JWT our keys reject was accepted; p = 1e-10
 *   expired + 2xx        exp more than 2 min (clock leeway) before the
 *                        request, accepted; p = 1e-7
 *   not yet valid + 2xx  nbf more than 2 min after the request; p = 1e-7
 *   stale                JWT iat older than policy.key_max_age; p = 1e-2
 *   key age              an API key, opaque bearer token or session cookie
 *                        first seen longer than key_max_age ago; p = 1e-2
 * Each is its own item for suppression; the two rotation reminders repeat
 * at most once a day.
 *
 * "Accepted" only means something on a route that checks credentials: a
 * route seen answering 2xx to requests without any credential is public
 * (a health check answers an expired token too) and never counts; a route
 * seen answering 401/403 does; any other counts once the engine is past
 * its own learning period (before that, the route may simply not have
 * shown which it is yet).
 */
#include "engine_int.h"

#include <inttypes.h>
#include <stdio.h>

static void misuse(struct ectx *x, uint64_t item, double p, const char *what, const char *ev_json)
{
	struct alert *a = alert_begin(x, DET_TOKEN_MISUSE, item);
	if (!a)
		return;
	snprintf(a->summary, sizeof a->summary, "%s %s", ectx_who(x), what);
	snprintf(a->evidence, sizeof a->evidence, "%s", ev_json);
	alert_emit(x, DET_TOKEN_MISUSE, p);
}

static bool route_checks(const struct ectx *x)
{
	const struct engine *e = x->e;
	const struct rseen *r = route_entry((struct engine *)e, x->route_h, false);
	if (r && (r->flags & RS_PUBLIC))
		return false;
	if (r && (r->flags & RS_CHECKS))
		return true;
	return e->first_us && x->now >= e->first_us + e->cfg.learning_period_us;
}

void det_token_misuse(struct ectx *x)
{
	const struct api_event *ev = x->ev;
	const struct identity *idn = &ev->identity;
	uint16_t f = idn->flags;
	if (!f && !(x->id && x->e->cfg.key_max_age_us))
		return;
	bool ok = ev->status >= 200 && ev->status < 400;
	if (ok && (f & (ID_FLAG_ALG_NONE | ID_FLAG_BAD_SIGNATURE | ID_FLAG_EXPIRED |
			ID_FLAG_NOT_YET_VALID)) &&
	    !route_checks(x))
		ok = false;
	int64_t ts = (int64_t)(ev->ts_us / 1000000);
	char what[256], evj[512];

	if (f & ID_FLAG_ALG_NONE) {
		snprintf(what, sizeof what,
			 "presented an unsigned JWT (alg none) and the server answered %d%s", ev->status,
			 ok ? ": the unsigned token was accepted" : "");
		snprintf(evj, sizeof evj, "{\"alg\":\"none\",\"status\":%d,\"accepted\":%s}", ev->status,
			 ok ? "true" : "false");
		misuse(x, 1, ok ? 1e-10 : 1e-4, what, evj);
	}
	if ((f & ID_FLAG_BAD_SIGNATURE) && ok) {
		snprintf(what, sizeof what,
			 "presented a JWT whose signature none of the configured keys verify, and the "
			 "server accepted it (%d)",
			 ev->status);
		snprintf(evj, sizeof evj, "{\"bad_signature\":true,\"status\":%d}", ev->status);
		misuse(x, 2, 1e-10, what, evj);
	}
	if ((f & ID_FLAG_EXPIRED) && ok && (idn->claims.present & JWT_HAS_EXP) &&
	    idn->claims.exp + 120 < ts) {
		int64_t age = ts - idn->claims.exp;
		snprintf(what, sizeof what,
			 "used a token that expired %" PRId64 " s before the request and the server "
			 "accepted it (%d); usual: expired tokens are refused",
			 age, ev->status);
		snprintf(evj, sizeof evj,
			 "{\"exp\":%" PRId64 ",\"expired_for_s\":%" PRId64 ",\"status\":%d}",
			 idn->claims.exp, age, ev->status);
		misuse(x, 3, 1e-7, what, evj);
	}
	if ((f & ID_FLAG_NOT_YET_VALID) && ok && (idn->claims.present & JWT_HAS_NBF) &&
	    idn->claims.nbf > ts + 120) {
		int64_t early = idn->claims.nbf - ts;
		snprintf(what, sizeof what,
			 "used a token valid only %" PRId64 " s later (nbf) and the server accepted "
			 "it (%d)",
			 early, ev->status);
		snprintf(evj, sizeof evj, "{\"nbf\":%" PRId64 ",\"early_by_s\":%" PRId64 ",\"status\":%d}",
			 idn->claims.nbf, early, ev->status);
		misuse(x, 4, 1e-7, what, evj);
	}
	uint64_t maxage_d = x->e->cfg.key_max_age_us / (86400ull * 1000000);
	if ((f & ID_FLAG_STALE) && (idn->claims.present & JWT_HAS_IAT)) {
		int64_t days = (ts - idn->claims.iat) / 86400;
		snprintf(what, sizeof what,
			 "used a token issued %" PRId64 " days ago, older than the %" PRIu64
			 "-day rotation policy",
			 days, maxage_d);
		snprintf(evj, sizeof evj,
			 "{\"iat\":%" PRId64 ",\"age_days\":%" PRId64 ",\"max_age_days\":%" PRIu64 "}",
			 idn->claims.iat, days, maxage_d);
		misuse(x, 5, 1e-2, what, evj);
	}
	struct ident *id = x->id;
	if (id && x->e->cfg.key_max_age_us &&
	    (idn->kind == ID_API_KEY || idn->kind == ID_BEARER || idn->kind == ID_COOKIE) &&
	    ev->ts_us > id->first_seen_us &&
	    ev->ts_us - id->first_seen_us > x->e->cfg.key_max_age_us) {
		uint64_t days = (ev->ts_us - id->first_seen_us) / (86400ull * 1000000);
		snprintf(what, sizeof what,
			 "is a credential in use for %" PRIu64 " days since first seen, longer than the %" PRIu64
			 "-day rotation policy",
			 days, maxage_d);
		snprintf(evj, sizeof evj,
			 "{\"first_seen_us\":%" PRIu64 ",\"age_days\":%" PRIu64 ",\"max_age_days\":%" PRIu64 "}",
			 id->first_seen_us, days, maxage_d);
		misuse(x, 6, 1e-2, what, evj);
	}
}
