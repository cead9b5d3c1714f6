/*
 * setup.c - configuration -> module settings.
 */
#include "setup.h"

#include "localtime.h"

#include <stdlib.h>
#include <string.h>

static void copy_names(char dst[IDENTITY_NAMES_MAX][IDENTITY_NAME_MAX], uint8_t *n,
		       const struct config_names *src)
{
	*n = 0;
	for (uint8_t i = 0; i < src->n && i < IDENTITY_NAMES_MAX; i++) {
		snprintf(dst[i], IDENTITY_NAME_MAX, "%s", src->name[i]);
		(*n)++;
	}
}

static void limits_from_config(struct sensor_limits *lim, const struct tapir_config *cfg)
{
	sensor_limits_default(lim);
	lim->flow.max_flows = cfg->flows.max;
	lim->flow.idle_us = cfg->flows.idle_timeout_us;
	lim->flow.closed_us = cfg->flows.closed_timeout_us;
	lim->reasm_memcap = cfg->reassembly.memcap;
	lim->reasm.max_held_bytes = (uint32_t)cfg->reassembly.max_held_per_direction;
	lim->reasm.max_held_segs = cfg->reassembly.max_held_segments;
	lim->frag.max_bytes = cfg->ip_fragments.memcap;
	lim->frag.max_datagrams = cfg->ip_fragments.max_datagrams;
	lim->frag.timeout_us = cfg->ip_fragments.timeout_us;
	lim->session.h1.max_head_bytes = (uint32_t)cfg->http.max_head;
	lim->session.h1.max_line_bytes = (uint32_t)cfg->http.max_line;
	lim->session.h1.max_resync_bytes = (uint32_t)cfg->http.max_resync;
	lim->session.max_pending = cfg->http.max_pending;
	lim->session.memcap = cfg->http.memcap;
	lim->session.h2.max_header_list = (uint32_t)cfg->http2.max_header_list;
	lim->session.h2.max_continuations = cfg->http2.max_continuations;
	lim->session.h2.max_table_size = (uint32_t)cfg->http2.max_table_size;
	lim->session.h2.max_memory = (uint32_t)cfg->http2.max_memory;
	lim->session.h2.max_streams = cfg->http2.max_streams;
}

/* The anomaly engine's settings: policy, detection and the sensitive routes. */
static int engine_from_config(struct setup *s, const struct tapir_config *cfg, char *err,
			      size_t errlen)
{
	struct engine_config *e = &s->engine;
	memset(e, 0, sizeof *e);
	snprintf(e->sensor_name, sizeof e->sensor_name, "%s", cfg->sensor.name);
	e->learning_period_us = cfg->detection.learning_period_us;
	e->business_days = cfg->policy.business_hours.days;
	e->business_start_min = cfg->policy.business_hours.start_min;
	e->business_end_min = cfg->policy.business_hours.end_min;
	e->utc_offset = localtime_offset;
	e->key_max_age_us = cfg->policy.key_max_age_us;
	e->suppress_us = cfg->detection.suppress_us;
	e->max_identities = cfg->detection.max_identities;
	e->seed = 0x7461706972ull; /* fixed: the same capture gives the same alerts */
	if (cfg->api.n_sensitive) {
		s->sensitive = calloc(cfg->api.n_sensitive, sizeof *s->sensitive);
		if (!s->sensitive) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		e->sensitive = s->sensitive;
		e->n_sensitive = cfg->api.n_sensitive;
		for (size_t i = 0; i < cfg->api.n_sensitive; i++) {
			memcpy(s->sensitive[i].method, cfg->api.sensitive[i].method,
			       sizeof s->sensitive[i].method);
			/* Owned here: a reload frees the configuration it came from. */
			s->sensitive[i].glob = strdup(cfg->api.sensitive[i].glob);
			if (!s->sensitive[i].glob) {
				snprintf(err, errlen, "out of memory");
				return -1;
			}
		}
	}
	return 0;
}

int setup_build(struct setup *s, const struct tapir_config *cfg, char *err, size_t errlen)
{
	memset(s, 0, sizeof *s);
	limits_from_config(&s->limits, cfg);

	identity_names_default(&s->names);
	copy_names(s->names.api_key_headers, &s->names.n_api_key_headers,
		   &cfg->identity.api_key_headers);
	copy_names(s->names.session_cookies, &s->names.n_session_cookies,
		   &cfg->identity.session_cookies);

	s->keys = jwt_keys_new();
	if (!s->keys) {
		snprintf(err, errlen, "out of memory loading JWT keys");
		return -1;
	}
	for (size_t i = 0; i < cfg->identity.n_jwt_keys; i++) {
		const struct config_jwt_key *k = &cfg->identity.jwt_keys[i];
		struct jwt_key_file f = {
			.path = k->file,
			.format = (enum jwt_key_format)k->format,
			.kid = k->kid[0] ? k->kid : NULL,
			.alg = k->alg[0] ? k->alg : NULL,
		};
		if (jwt_keys_load(s->keys, &f, err, errlen) != 0)
			return -1;
	}

	if (cfg->identity.n_trusted_proxies) {
		s->trusted = calloc(cfg->identity.n_trusted_proxies, sizeof *s->trusted);
		if (!s->trusted) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		for (size_t i = 0; i < cfg->identity.n_trusted_proxies; i++) {
			memcpy(s->trusted[i].addr, cfg->identity.trusted_proxies[i].addr, 16);
			s->trusted[i].prefix = cfg->identity.trusted_proxies[i].prefix;
		}
		s->n_trusted = cfg->identity.n_trusted_proxies;
	}

	if (engine_from_config(s, cfg, err, errlen) != 0)
		return -1;

	s->limits.session.exchange = (struct exchange_config){
		.names = &s->names,
		.verify = jwt_keys_count(s->keys) ? jwt_keys_verify : NULL,
		.verify_ctx = s->keys,
		.trusted_proxies = s->trusted,
		.n_trusted_proxies = s->n_trusted,
		.key_max_age_us = cfg->policy.key_max_age_us,
	};
	return 0;
}

void setup_free(struct setup *s)
{
	jwt_keys_free(s->keys);
	free(s->trusted);
	for (size_t i = 0; s->sensitive && i < s->engine.n_sensitive; i++)
		free((char *)s->sensitive[i].glob);
	free(s->sensitive);
	memset(s, 0, sizeof *s);
}
