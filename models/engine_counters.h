/*
 * engine_counters.h - the anomaly engine's caps and what it left out, beyond
 * struct engine_stats (engine.h): for --stats. Each cap of the engine has
 * its counter here; the figures are cumulative since engine_new (a state
 * file carries them over).
 */
#ifndef TAPIR_ENGINE_COUNTERS_H
#define TAPIR_ENGINE_COUNTERS_H

#include <stdint.h>

struct engine;

struct engine_counters {
	uint64_t anonymous;          /* events without an identity (kind none) */
	uint64_t not_admitted;       /* unknown credentials whose first event was a 401: no record */
	uint64_t cold;               /* cold records now (demoted identities) */
	uint64_t cold_evicted;       /* cold records dropped at the cold cap (4 x max_identities) */
	uint64_t promoted;           /* demoted identities back to a hot record */
	uint64_t groups_full;        /* identities put in their kind's group: group table full */
	uint64_t pitems_evicted;     /* (group, item) member counts dropped at the table cap */
	uint64_t routes_full;        /* routes not tracked: route table full (65,536) */
	uint64_t supp_evicted;       /* suppression entries dropped before they expired */
	uint64_t out_of_order;       /* events older than their identity's latest (counted at its time) */
};

void engine_get_counters(const struct engine *e, struct engine_counters *c);

#endif
