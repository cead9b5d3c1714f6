/*
 * redis_conn.c - hiredis (0.14 API: blocking context, SO_RCVTIMEO/SO_SNDTIMEO
 * timeouts, pipelining with redisAppendCommandArgv + redisGetReply).
 */
#include "redis_conn.h"

#include <hiredis/hiredis.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct rconn {
	redisContext *ctx;
};

static struct timeval tv_ms(unsigned ms)
{
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (long)(ms % 1000) * 1000};
	return tv;
}

/* The first line of a reply's error text, without the password (Redis never echoes it). */
static void reply_error(const redisReply *r, char *err, size_t errlen, const char *what)
{
	int n = (int)strcspn(r->str ? r->str : "", "\r\n");
	snprintf(err, errlen, "%s: %.*s", what, n > 200 ? 200 : n, r->str ? r->str : "");
}

/* A login or a database Redis refused: the configuration is wrong, retrying will not help. */
static bool is_refusal(const redisReply *r)
{
	static const char *const prefixes[] = {"WRONGPASS", "NOAUTH", "NOPERM",
					       "ERR invalid password", "ERR AUTH",
					       "ERR Client sent AUTH", "ERR DB index",
					       "ERR invalid DB index"};
	for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
		if (r->str && strncasecmp(r->str, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	return false;
}

/* One command during the login: 0, or -1 with *why set. */
static int login_step(redisContext *ctx, int argc, const char **argv, const char *what,
		      enum rconn_fail *why, char *err, size_t errlen)
{
	redisReply *r = redisCommandArgv(ctx, argc, argv, NULL);
	if (!r) {
		snprintf(err, errlen, "%s: %s", what, ctx->errstr[0] ? ctx->errstr : "no reply");
		*why = RCONN_DOWN;
		return -1;
	}
	int rc = 0;
	if (r->type == REDIS_REPLY_ERROR) {
		reply_error(r, err, errlen, what);
		/* LOADING (a restart replaying its data) and the like pass: try again later. */
		*why = is_refusal(r) ? RCONN_REFUSED : RCONN_DOWN;
		rc = -1;
	}
	freeReplyObject(r);
	return rc;
}

struct rconn *rconn_open(const struct redis_target *t, unsigned connect_ms, unsigned command_ms,
			 enum rconn_fail *why, char *err, size_t errlen)
{
	redisContext *ctx = t->unix_path[0]
				    ? redisConnectUnixWithTimeout(t->unix_path, tv_ms(connect_ms))
				    : redisConnectWithTimeout(t->host, t->port, tv_ms(connect_ms));
	*why = RCONN_DOWN;
	if (!ctx) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (ctx->err) {
		snprintf(err, errlen, "cannot connect: %s", ctx->errstr);
		redisFree(ctx);
		return NULL;
	}
	if (redisSetTimeout(ctx, tv_ms(command_ms)) != REDIS_OK) {
		snprintf(err, errlen, "cannot set the command timeout: %s", ctx->errstr);
		redisFree(ctx);
		return NULL;
	}
	if (!t->unix_path[0])
		(void)redisEnableKeepAlive(ctx); /* a dead peer is noticed even when idle */
	if (t->password[0]) {
		const char *auth_user[] = {"AUTH", t->user, t->password};
		const char *auth_pass[] = {"AUTH", t->password};
		int rc = t->user[0] ? login_step(ctx, 3, auth_user, "AUTH", why, err, errlen)
				    : login_step(ctx, 2, auth_pass, "AUTH", why, err, errlen);
		if (rc != 0) {
			redisFree(ctx);
			return NULL;
		}
	}
	if (t->db) {
		char db[16];
		snprintf(db, sizeof db, "%d", t->db);
		const char *sel[] = {"SELECT", db};
		if (login_step(ctx, 2, sel, "SELECT", why, err, errlen) != 0) {
			redisFree(ctx);
			return NULL;
		}
	}
	const char *ping[] = {"PING"};
	if (login_step(ctx, 1, ping, "PING", why, err, errlen) != 0) {
		redisFree(ctx);
		return NULL;
	}
	struct rconn *c = malloc(sizeof *c);
	if (!c) {
		redisFree(ctx);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->ctx = ctx;
	*why = RCONN_OK;
	return c;
}

void rconn_close(struct rconn *c)
{
	if (!c)
		return;
	redisFree(c->ctx);
	free(c);
}

int rconn_pipeline(struct rconn *c, const struct rcmd *cmds, size_t n, bool *ok, char *err,
		   size_t errlen)
{
	size_t i;
	for (i = 0; i < n; i++) {
		ok[i] = false;
		/* hiredis 0.14 takes a non-const argv it does not write to. */
		const char **argv = (const char **)(uintptr_t)cmds[i].argv;
		if (redisAppendCommandArgv(c->ctx, cmds[i].argc, argv, cmds[i].len) != REDIS_OK) {
			snprintf(err, errlen, "%s", c->ctx->errstr[0] ? c->ctx->errstr : "out of memory");
			return -1;
		}
	}
	bool first_error = true;
	for (i = 0; i < n; i++) {
		redisReply *r = NULL;
		if (redisGetReply(c->ctx, (void **)&r) != REDIS_OK || !r) {
			snprintf(err, errlen, "%s",
				 c->ctx->errstr[0] ? c->ctx->errstr : "connection lost");
			if (r)
				freeReplyObject(r);
			return -1;
		}
		ok[i] = r->type != REDIS_REPLY_ERROR;
		if (!ok[i] && first_error) {
			reply_error(r, err, errlen, cmds[i].argv[0]);
			first_error = false;
		}
		freeReplyObject(r);
	}
	return 0;
}
