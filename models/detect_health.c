/*
 * detect_health.c - blind_spot: the sensor says when it could have missed
 * something rather than staying silent. Health deltas (engine_health, every
 * few seconds of packet time) and events flagged "gap" are gathered in a
 * window of up to 5 minutes; a verdict is given at each call: any kernel
 * drop, >= 4 KiB of reassembly gaps (room for a whole request), any memory
 * cap reached (flows evicted, HTTP state dropped) or two exchanges with
 * missing bytes raises an alert and starts a new window. Sensor-wide (no identity), once per suppression span.
 * p from the amount missed: 10^-(2 + log10(1 + missing / 4 KiB)), a dropped
 * packet counted as 1,500 bytes.
 */
#include "engine_int.h"

#include <stdio.h>

#define BS_WINDOW_US (300ull * 1000000)
#define BS_GAP_BYTES 4096u
#define BS_EV_GAPS 2

static void reset(struct engine *e, uint64_t now)
{
	memset(&e->h_acc, 0, sizeof e->h_acc);
	e->h_ev_gaps = 0;
	e->h_start_us = now;
}

static void verdict(struct engine *e, uint64_t now, bool flush, engine_alert_fn fn, void *ctx)
{
	const struct engine_health *h = &e->h_acc;
	bool bad = h->kernel_drops > 0 || h->gap_bytes >= BS_GAP_BYTES || h->cap_hits > 0 ||
		   e->h_ev_gaps >= BS_EV_GAPS;
	if (!bad) {
		if (flush || now >= e->h_start_us + BS_WINDOW_US)
			reset(e, now);
		return;
	}
	uint64_t key = eh_nz(eh_pair(0, (uint64_t)DET_BLIND_SPOT + 1));
	uint64_t span_s = (now - e->h_start_us) / 1000000;
	if (supp_check(e, key, now, e->cfg.suppress_us)) {
		e->st.suppressed++;
		reset(e, now);
		return;
	}
	struct alert *a = &e->a;
	memset(a, 0, sizeof *a);
	a->ts_us = now;
	a->id_kind = ID_NONE;
	/* Name only what happened. */
	char what[256] = "";
	size_t o = 0;
	if (h->kernel_drops)
		o += (size_t)snprintf(what + o, sizeof what - o, "%sthe kernel dropped %llu packets",
				      o ? ", " : "", (unsigned long long)h->kernel_drops);
	if (h->gaps || h->gap_bytes)
		o += (size_t)snprintf(what + o, sizeof what - o, "%sreassembly skipped %llu gaps (%llu bytes)",
				      o ? ", " : "", (unsigned long long)h->gaps,
				      (unsigned long long)h->gap_bytes);
	if (h->cap_hits && o < sizeof what)
		o += (size_t)snprintf(what + o, sizeof what - o, "%smemory caps were reached %llu times",
				      o ? ", " : "", (unsigned long long)h->cap_hits);
	if (e->h_ev_gaps && o < sizeof what)
		o += (size_t)snprintf(what + o, sizeof what - o, "%s%llu exchanges had bytes missing",
				      o ? ", " : "", (unsigned long long)e->h_ev_gaps);
	snprintf(a->summary, sizeof a->summary,
		 "the sensor could not see all traffic in the last %llu s (%s): requests in that span "
		 "may be missing from the analysis",
		 (unsigned long long)span_s, what);
	snprintf(a->evidence, sizeof a->evidence,
		 "{\"span_s\":%llu,\"kernel_drops\":%llu,\"gaps\":%llu,\"gap_bytes\":%llu,"
		 "\"cap_hits\":%llu,\"events_with_gaps\":%llu}",
		 (unsigned long long)span_s, (unsigned long long)h->kernel_drops,
		 (unsigned long long)h->gaps, (unsigned long long)h->gap_bytes,
		 (unsigned long long)h->cap_hits, (unsigned long long)e->h_ev_gaps);
	double missing = (double)h->gap_bytes + 1500.0 * (double)h->kernel_drops +
			 4096.0 * (double)h->cap_hits;
	double p = pow(10.0, -(2.0 + log10(1.0 + missing / 4096.0)));
	reset(e, now);
	alert_emit_health(e, DET_BLIND_SPOT, p, fn, ctx);
}

/* Adds the health since the last call to the window and gives a verdict. */
static void observe(struct engine *e, uint64_t now, const struct engine_health *h, bool flush,
		    engine_alert_fn fn, void *ctx)
{
	if (!e->h_start_us)
		e->h_start_us = now;
	if (now < e->h_start_us)
		now = e->h_start_us;
	e->h_acc.kernel_drops += h->kernel_drops;
	e->h_acc.gap_bytes += h->gap_bytes;
	e->h_acc.gaps += h->gaps;
	e->h_acc.cap_hits += h->cap_hits;
	verdict(e, now, flush, fn, ctx);
}

void det_blind_spot(struct engine *e, uint64_t now, const struct engine_health *h,
		    engine_alert_fn fn, void *ctx)
{
	observe(e, now, h, false, fn, ctx);
}

void det_blind_spot_flush(struct engine *e, uint64_t now, const struct engine_health *h,
			  engine_alert_fn fn, void *ctx)
{
	observe(e, now, h, true, fn, ctx);
}
