/*
 * suppress.c - repeats of an alert per (identity, detector, route or item)
 * are suppressed for a span of packet time. A fixed table (2 x
 * max_identities entries, at least 4096), probed in windows of EN_PROBE;
 * when a window is full the entry that expires first is replaced (counted):
 * at worst an alert repeats early.
 */
#include "engine_int.h"

/* True when key is suppressed at now; otherwise arms it for span and returns false. */
bool supp_check(struct engine *e, uint64_t key, uint64_t now, uint64_t span)
{
	uint32_t m = e->supp_mask, h = (uint32_t)eh_mix(key) & m;
	struct supp *slot = NULL;
	for (uint32_t i = 0; i < EN_PROBE; i++) {
		struct supp *s = &e->supp[(h + i) & m];
		if (s->key == key) {
			if (s->until_us > now)
				return true;
			slot = s;
			break;
		}
		if (!slot || s->until_us < slot->until_us)
			slot = s;
	}
	if (slot->key && slot->key != key && slot->until_us > now)
		e->ct.supp_evicted++;
	slot->key = key;
	slot->until_us = now + span;
	return false;
}
