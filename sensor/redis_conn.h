/*
 * redis_conn.h - one blocking connection to Redis with timeouts: connect,
 * log in, select the database, then pipelines of commands. The only file that
 * touches hiredis.
 *
 * Every call is bounded by the connect or command timeout, so a stopped or
 * slow server costs the caller (the delivery thread) at most that long. A
 * connection that saw an I/O error or a timeout is broken: close it and open
 * another.
 */
#ifndef TAPIR_REDIS_CONN_H
#define TAPIR_REDIS_CONN_H

#include <stdbool.h>
#include <stddef.h>

#include "redis_url.h"

enum rconn_fail {
	RCONN_OK,
	RCONN_DOWN,    /* unreachable, timed out, closed, or an error reply: try again later */
	RCONN_REFUSED, /* the server refused the login or the database: the URL is wrong */
};

struct rconn;

/*
 * Connects, sends AUTH and SELECT when the target asks for them, and PING.
 * Returns the connection, or NULL with *why and a one-line err (never quoting
 * the password).
 */
struct rconn *rconn_open(const struct redis_target *t, unsigned connect_ms, unsigned command_ms,
			 enum rconn_fail *why, char *err, size_t errlen);

void rconn_close(struct rconn *c);

/* One command: argv[0..argc) with lengths. */
#define RCMD_ARGS_MAX 32
struct rcmd {
	int argc;
	const char *argv[RCMD_ARGS_MAX];
	size_t len[RCMD_ARGS_MAX];
};

/*
 * Sends n commands in one pipeline and reads every reply. ok[i] tells whether
 * command i got a non-error reply. Returns 0 when the connection is still good
 * (error replies included: they are in ok[] and err), -1 when it broke (I/O
 * error or timeout: replies not read count as failed).
 */
int rconn_pipeline(struct rconn *c, const struct rcmd *cmds, size_t n, bool *ok, char *err,
		   size_t errlen);

#endif
