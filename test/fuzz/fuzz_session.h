/*
 * fuzz_session.h - a session_env with the sensor's default limits (or tiny
 * ones that put every cap within a fuzzer's reach), for the harnesses that
 * enter at the HTTP layer. Header-only.
 */
#ifndef TAPIR_FUZZ_SESSION_H
#define TAPIR_FUZZ_SESSION_H

#include <stdbool.h>
#include <string.h>

#include "../../sensor/sensor.h"
#include "fuzz_event.h"

static inline void fz_session_env(struct session_env *env, bool tiny)
{
	struct sensor_limits lim;
	sensor_limits_default(&lim);
	memset(env, 0, sizeof *env);
	env->lim = lim.session;
	env->emit = fz_check_event;
	if (!tiny)
		return;
	env->lim.h1 = (struct h1_limits){.max_head_bytes = 512, .max_line_bytes = 64,
					 .max_resync_bytes = 1024};
	env->lim.max_pending = 2;
	env->lim.memcap = 1u << 16;
	env->lim.h2.max_frame_size = 1024;
	env->lim.h2.max_block_bytes = 256;
	env->lim.h2.max_header_list = 512;
	env->lim.h2.max_continuations = 2;
	env->lim.h2.max_table_size = 256;
	env->lim.h2.max_memory = 16384;
	env->lim.h2.max_resync_bytes = 1024;
	env->lim.h2.max_streams = 2;
}

/* Every byte a session held is given back once it ended (the owner's accounting). */
static inline void fz_session_check_freed(const struct session_env *env)
{
	FZ_CHECK(env->memory == 0);
	FZ_CHECK(env->stats.h2.v[H2_STAT_MEMORY] == 0);
}

#endif
