/*
 * detect_time.c - detectors about when.
 *
 * offhours: a sensitive route (api.sensitive) called outside business hours
 *   and outside the identity's own hour-of-week profile (no active hour at
 *   that hour of the week nor within two hours of it, and fewer than three
 *   at those hours of the day on the other days of the week). Needs two active
 *   days of the identity's own history after its learning period; before
 *   that, its peers decide: less than 0.5% of their active hours fall there
 *   (and the identity's own partial profile is empty there too).
 *   p = 0.1 / (active days + 2).
 * dormant: the first event after a silence of at least max(3.5 days, 1.5 x
 *   the longest silence seen before, min(14 days, 4 x the span it had been
 *   in use)), for an identity with at least 3 events of history (also kept
 *   in cold records). p = Pareto(4) of the
 *   silence against the usual longest (at least a day).
 */
#include "engine_int.h"

#include <stdio.h>

#define DORMANT_MIN_S (84u * 3600u)
#define DORMANT_X 1.5
#define DORMANT_HISTORY 3
#define DORMANT_SPAN_X 4.0
#define DORMANT_LONG_S (14u * 86400u)
#define OFFH_OWN_DAYS 2
#define OFFH_ALIKE 3
#define OFFH_NEAR 2
#define OFFH_PEER_SHARE 0.005
#define OFFH_PEER_MIN_HOURS 100

static const char *const wday_names[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};

void det_dormant(struct ectx *x)
{
	struct ident *id = x->id;
	if (id->n_events < DORMANT_HISTORY)
		return;
	double gap = (double)x->gap_s;
	double thr = DORMANT_X * id->max_gap_s;
	if (thr < DORMANT_MIN_S)
		thr = DORMANT_MIN_S;
	/* relative to how long it had been in use: a few days off after a few days of use is not dormancy */
	double span = (double)((id->last_us - id->first_seen_us) / 1000000);
	double rel = DORMANT_SPAN_X * span < DORMANT_LONG_S ? DORMANT_SPAN_X * span : DORMANT_LONG_S;
	if (thr < rel)
		thr = rel;
	if (gap < thr)
		return;
	struct alert *a = alert_begin(x, DET_DORMANT, 0);
	if (!a)
		return;
	double usual = id->max_gap_s > 86400 ? id->max_gap_s : 86400;
	snprintf(a->summary, sizeof a->summary,
		 "%s was silent for %.1f days and is active again; its longest silence before was "
		 "%.1f days",
		 ectx_who(x), gap / 86400.0, id->max_gap_s / 86400.0);
	snprintf(a->evidence, sizeof a->evidence,
		 "{\"silent_s\":%.0f,\"usual_max_silence_s\":%u,\"threshold_s\":%.0f,\"events_before\":%u,"
		 "\"from_cold\":%s}",
		 gap, id->max_gap_s, thr, id->n_events, x->promoted ? "true" : "false");
	alert_emit(x, DET_DORMANT, pareto_p(gap, usual, 4));
}

/* Earliest and latest active hour of day in the profile (-1 when empty). */
static void usual_hours(const struct ident *id, int *lo, int *hi)
{
	*lo = *hi = -1;
	for (int h = 0; h < 24; h++) {
		int n = 0;
		for (int d = 0; d < 7; d++)
			n += prof_how(id, d * 24 + h);
		if (n) {
			if (*lo < 0)
				*lo = h;
			*hi = h;
		}
	}
}

void det_offhours(struct ectx *x)
{
	struct engine *e = x->e;
	struct ident *id = x->id;
	if (x->lt.business || !e->n_sens)
		return;
	if (!glob_sensitive(e, x->ev->method, x->ev->path))
		return;
	int own = 0;
	for (int d = -OFFH_NEAR; d <= OFFH_NEAR; d++)
		own += prof_how(id, x->lt.how + d);
	if (own > 0)
		return;
	/* The same time of day on other days: with a week or less of history not
	 * every hour of the week has been seen, and someone who works at 05:00
	 * on weekdays is not out of profile at 05:00 on a Saturday. */
	int alike = 0;
	for (int d = 0; d < 7; d++)
		for (int k = -OFFH_NEAR; d != x->lt.wday && k <= OFFH_NEAR; k++)
			alike += prof_how(id, d * 24 + x->lt.hour + k);
	if (alike >= OFFH_ALIKE)
		return;
	bool own_base = !x->learning && id->active_days >= OFFH_OWN_DAYS;
	struct group *g = NULL;
	double share = -1;
	if (!own_base) {
		g = peers_pick(e, id, 5);
		if (!g || g->member_hours < OFFH_PEER_MIN_HOURS)
			return;
		share = peers_how_share(g, x->lt.how);
		if (share >= OFFH_PEER_SHARE)
			return;
	}
	struct alert *a = alert_begin(x, DET_OFFHOURS, x->route_h);
	if (!a)
		return;
	int lo, hi;
	usual_hours(id, &lo, &hi);
	char usual[64];
	if (lo >= 0)
		snprintf(usual, sizeof usual, "%02d:00-%02d:00", lo, hi + 1);
	else
		snprintf(usual, sizeof usual, "none yet");
	int bs = e->cfg.business_start_min, be = e->cfg.business_end_min;
	if (own_base)
		snprintf(a->summary, sizeof a->summary,
			 "%s called sensitive %s %s at %02d:%02d local time (%s), outside business "
			 "hours %02d:%02d-%02d:%02d and outside its usual hours %s",
			 ectx_who(x), x->ev->method, x->route, x->lt.minute / 60, x->lt.minute % 60,
			 wday_names[x->lt.wday], bs / 60, bs % 60, be / 60, be % 60, usual);
	else
		snprintf(a->summary, sizeof a->summary,
			 "%s called sensitive %s %s at %02d:%02d local time (%s), outside business "
			 "hours %02d:%02d-%02d:%02d, when its peers (%s) are almost never active "
			 "(%.2f%% of their hours)",
			 ectx_who(x), x->ev->method, x->route, x->lt.minute / 60, x->lt.minute % 60,
			 wday_names[x->lt.wday], bs / 60, bs % 60, be / 60, be % 60, g->label,
			 share * 100);
	snprintf(a->evidence, sizeof a->evidence,
		 "{\"local_time\":\"%s %02d:%02d\",\"utc_offset_min\":%d,\"business_hours\":\"%02d:%02d-%02d:%02d\","
		 "\"own_active_hours_near\":%d,\"own_active_days\":%u,\"usual_hours\":\"%s\","
		 "\"peer_share\":%.5f,\"learning\":%s}",
		 wday_names[x->lt.wday], x->lt.minute / 60, x->lt.minute % 60, x->lt.offset_min,
		 bs / 60, bs % 60, be / 60, be % 60, own, id->active_days, usual, share,
		 x->learning ? "true" : "false");
	double p = own_base ? 0.1 / (id->active_days + 2.0) : (share + 1e-4) * 0.1;
	alert_emit(x, DET_OFFHOURS, p);
}
