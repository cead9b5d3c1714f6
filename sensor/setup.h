/*
 * setup.h - the configuration turned into what the modules take: limits,
 * identity header names, JWT keys, trusted proxies. Everything here is built
 * once at start-up (and again on reload) and owned by struct setup.
 */
#ifndef TAPIR_SETUP_H
#define TAPIR_SETUP_H

#include <stddef.h>

#include "../config/config.h"
#include "../decoders/forwarded.h"
#include "../decoders/identity.h"
#include "../models/engine.h"
#include "jwt_keys.h"
#include "sensor.h"

struct setup {
	struct sensor_limits limits;   /* limits.session.exchange points into this struct */
	struct identity_names names;
	struct jwt_keys *keys;
	struct cidr *trusted;
	size_t n_trusted;
	struct engine_config engine;   /* engine.sensitive points into this struct */
	struct engine_sensitive *sensitive;
};

/*
 * Builds the setup from a loaded configuration. Returns 0, or -1 with a
 * one-line message in err (a key file that cannot be used). The setup must
 * not move after this call (limits point into it).
 */
int setup_build(struct setup *s, const struct tapir_config *cfg, char *err, size_t errlen);

void setup_free(struct setup *s);

#endif
