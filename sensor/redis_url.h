/*
 * redis_url.h - where Redis is and how to log in, from output.redis.url:
 *
 *   redis://[[user]:password@]host[:port][/db]
 *   unix:/path/to/redis.sock[?db=N]            (also unix://[[user]:password@]/path[?db=N])
 *
 * User and password may be percent-encoded (%40 for '@'). The password never
 * leaves this struct: messages name the server with redis_target_where().
 */
#ifndef TAPIR_REDIS_URL_H
#define TAPIR_REDIS_URL_H

#include <stddef.h>

struct redis_target {
	char host[256];      /* "" for a unix socket */
	int port;            /* 6379 by default */
	char unix_path[108]; /* sun_path's size */
	char user[128];      /* "" = the default user (AUTH password only) */
	char password[512];  /* "" = no AUTH */
	int db;              /* SELECT db when not 0 */
};

/* Returns 0, or -1 with a one-line reason in err (never quoting the password). */
int redis_url_parse(const char *url, struct redis_target *t, char *err, size_t errlen);

/* "host:port" or the socket path: for messages. */
const char *redis_target_where(const struct redis_target *t, char *buf, size_t len);

#endif
