/*
 * identity_state.c - the bounded identity table: hot records (struct ident,
 * <= 1 KiB each) in a fixed array with an open-addressing index, and a
 * larger table of small cold records for identities demoted at the cap.
 *
 * Hot: slots are filled in order up to cfg.max_identities; after that a new
 * identity takes the slot of the least recently seen of the next 16 slots
 * under a clock hand (sampled LRU: no per-event list surgery, deterministic).
 * The demoted identity keeps a cold record (first seen, last seen, longest
 * silence, events, group), which is what dormancy and credential age need;
 * when it comes back it is promoted with those and relearns its baselines.
 *
 * Cold: 4 x max_identities records, probed in windows of EN_PROBE slots; at
 * the cap the record seen least recently in the window is dropped (counted).
 */
#include "engine_int.h"

#include <stdlib.h>

int ids_init(struct engine *e)
{
	uint32_t cap = e->cfg.max_identities;
	e->ids = emem_calloc64(e, cap, sizeof *e->ids);
	if (!e->ids)
		return -1;
	e->cap_ids = cap;
	uint32_t n = 64;
	while (n < cap * 2u)
		n <<= 1;
	e->idx = emem_calloc(e, n, sizeof *e->idx);
	if (!e->idx)
		return -1;
	e->idx_mask = n - 1;
	uint32_t c = 1024;
	while (c < cap * 4u && c < (1u << 26))
		c <<= 1;
	e->cold = emem_calloc(e, c, sizeof *e->cold);
	if (!e->cold)
		return -1;
	e->cold_mask = c - 1;
	return 0;
}

void ids_free(struct engine *e)
{
	emem_free64(e->ids, e->cap_ids, sizeof *e->ids);
	free(e->idx);
	free(e->cold);
}

void ids_prefetch_slot(const struct engine *e, uint64_t key)
{
	__builtin_prefetch(&e->idx[(uint32_t)key & e->idx_mask]);
}

struct ident *ids_find(struct engine *e, uint64_t key)
{
	uint32_t i = (uint32_t)key & e->idx_mask;
	for (;;) {
		uint32_t s = e->idx[i];
		if (!s)
			return NULL;
		if (e->ids[s - 1].key == key)
			return &e->ids[s - 1];
		i = (i + 1) & e->idx_mask;
	}
}

static void idx_insert(struct engine *e, uint64_t key, uint32_t slot)
{
	uint32_t i = (uint32_t)key & e->idx_mask;
	while (e->idx[i])
		i = (i + 1) & e->idx_mask;
	e->idx[i] = slot + 1;
}

/* Linear probing deletion by backward shift: no tombstones. */
static void idx_remove(struct engine *e, uint64_t key)
{
	uint32_t m = e->idx_mask, i = (uint32_t)key & m;
	while (e->idx[i] && e->ids[e->idx[i] - 1].key != key)
		i = (i + 1) & m;
	if (!e->idx[i])
		return;
	uint32_t j = i;
	for (;;) {
		e->idx[i] = 0;
		for (;;) {
			j = (j + 1) & m;
			if (!e->idx[j])
				return;
			uint32_t home = (uint32_t)e->ids[e->idx[j] - 1].key & m;
			/* Can the entry at j move to i? Only if home is not in (i, j]. */
			bool stays = (i <= j) ? (i < home && home <= j) : (i < home || home <= j);
			if (!stays)
				break;
		}
		e->idx[i] = e->idx[j];
		i = j;
	}
}

void ids_reindex(struct engine *e)
{
	memset(e->idx, 0, (size_t)(e->idx_mask + 1) * sizeof *e->idx);
	for (uint32_t s = 0; s < e->n_ids; s++)
		idx_insert(e, e->ids[s].key, s);
}

struct cold *cold_slot(struct engine *e, uint64_t key, bool create)
{
	uint32_t m = e->cold_mask, h = (uint32_t)eh_mix(key) & m;
	struct cold *empty = NULL, *oldest = NULL;
	for (uint32_t k = 0; k < EN_PROBE; k++) {
		struct cold *c = &e->cold[(h + k) & m];
		if (c->key == key)
			return c;
		if (!c->key) {
			if (!empty)
				empty = c;
		} else if (!oldest || c->last_us < oldest->last_us) {
			oldest = c;
		}
	}
	if (!create)
		return NULL;
	if (!empty) {
		empty = oldest;
		e->ct.cold_evicted++;
		e->ct.cold--;
	}
	memset(empty, 0, sizeof *empty);
	empty->key = key;
	e->ct.cold++;
	return empty;
}

/* Demotes the least recently seen of the next EN_PROBE slots; returns its slot. */
static uint32_t demote_one(struct engine *e)
{
	uint32_t best = e->hand % e->cap_ids;
	for (uint32_t k = 0; k < EN_PROBE; k++) {
		uint32_t s = (e->hand + k) % e->cap_ids;
		if (e->ids[s].last_us < e->ids[best].last_us)
			best = s;
	}
	e->hand = (e->hand + EN_PROBE) % e->cap_ids;
	struct ident *id = &e->ids[best];
	struct cold *c = cold_slot(e, id->key, true);
	c->first_seen_us = id->first_seen_us;
	c->last_us = id->last_us;
	c->max_gap_s = id->max_gap_s;
	c->n_events = id->n_events;
	c->group = id->group;
	c->kind = id->kind;
	c->active_days = id->active_days;
	idx_remove(e, id->key);
	e->st.identities_evicted++;
	return best;
}

struct ident *ids_create(struct engine *e, uint64_t key, uint64_t now, struct cold *was,
			 bool *promoted)
{
	(void)now;
	*promoted = false;
	struct cold *c = cold_slot(e, key, false);
	if (c) {
		*was = *c;
		*promoted = true;
		c->key = 0;
		e->ct.cold--;
	}
	uint32_t s = e->n_ids < e->cap_ids ? e->n_ids++ : demote_one(e);
	struct ident *id = &e->ids[s];
	memset(id, 0, sizeof *id);
	id->key = key;
	for (int i = 0; i < EN_TRACKERS; i++)
		id->tr[i].last_id = id->tr[i].head_id = -1;
	idx_insert(e, key, s);
	return id;
}
