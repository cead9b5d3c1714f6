/*
 * inventory.c - routes_walk() -> JSON lines (format in inventory.h), and
 * the file they go to, replaced atomically (write a temporary file in the
 * same directory, fsync, rename(2): POSIX rename is atomic within a file
 * system).
 */
#include "inventory.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../models/routes.h"
#include "jsonw.h"

static const char *const status_keys[RS__COUNT] = {"1xx", "2xx", "3xx", "4xx", "5xx", "null", "other"};

static void status_obj(struct jsonw *w, const uint64_t st[RS__COUNT])
{
	jw_obj_open(w);
	for (unsigned i = 0; i < RS__COUNT; i++) {
		if (i == RS_OTHER && st[i] == 0)
			continue;
		jw_key(w, status_keys[i]);
		jw_u64(w, st[i]);
	}
	jw_obj_close(w);
}

static void seen(struct jsonw *w, uint64_t first, uint64_t last)
{
	jw_key(w, "first_seen");
	jw_time(w, first);
	jw_key(w, "last_seen");
	jw_time(w, last);
}

size_t inventory_line(const struct routes_route *r, char *buf, size_t cap)
{
	struct jsonw w;

	jw_init(&w, buf, cap);
	jw_obj_open(&w);
	jw_key(&w, "type");
	jw_cstr(&w, "route");
	jw_key(&w, "host");
	jw_cstr(&w, r->host);
	jw_key(&w, "route");
	jw_cstr(&w, r->route);
	jw_key(&w, "source");
	jw_cstr(&w, r->from_spec ? "spec" : "learned");
	jw_key(&w, "methods");
	jw_arr_open(&w);
	for (size_t i = 0; i < r->n_ops; i++)
		jw_cstr(&w, r->ops[i].method);
	jw_arr_close(&w);
	seen(&w, r->first_us, r->last_us);
	jw_key(&w, "requests");
	jw_u64(&w, r->requests);
	jw_key(&w, "identities");
	jw_u64(&w, r->identities);
	jw_key(&w, "unauthenticated");
	jw_u64(&w, r->unauthenticated);
	jw_key(&w, "status");
	status_obj(&w, r->status);
	jw_key(&w, "verdict");
	jw_cstr(&w, routes_verdict_name(r->verdict));
	jw_key(&w, "operations");
	jw_arr_open(&w);
	for (size_t i = 0; i < r->n_ops; i++) {
		const struct routes_op *o = &r->ops[i];
		jw_obj_open(&w);
		jw_key(&w, "method");
		jw_cstr(&w, o->method);
		seen(&w, o->first_us, o->last_us);
		jw_key(&w, "requests");
		jw_u64(&w, o->requests);
		jw_key(&w, "identities");
		jw_u64(&w, o->identities);
		jw_key(&w, "unauthenticated");
		jw_u64(&w, o->unauthenticated);
		jw_key(&w, "status");
		status_obj(&w, o->status);
		jw_key(&w, "verdict");
		jw_cstr(&w, routes_verdict_name(o->verdict));
		jw_obj_close(&w);
	}
	jw_arr_close(&w);
	jw_obj_close(&w);
	jw_raw(&w, "\n", 1);
	return w.overflow ? 0 : w.len;
}

struct sink {
	FILE *out;
	char *line;
	int err;   /* errno of the first failure */
};

static int write_route(void *ctx, const struct routes_route *r)
{
	struct sink *s = ctx;
	size_t n = inventory_line(r, s->line, INVENTORY_LINE_MAX);

	if (n == 0)
		return 0; /* cannot happen within INVENTORY_LINE_MAX; skip rather than cut */
	if (fwrite(s->line, 1, n, s->out) != n) {
		s->err = errno ? errno : EIO;
		return 1;
	}
	return 0;
}

int inventory_write_stream(const struct routes *t, FILE *out)
{
	struct sink s = {out, malloc(INVENTORY_LINE_MAX), 0};
	int rc;

	if (!s.line) {
		errno = ENOMEM;
		return -1;
	}
	errno = 0;
	rc = routes_walk(t, write_route, &s);
	free(s.line);
	if (rc < 0) {
		errno = ENOMEM;
		return -1;
	}
	if (rc != 0) {
		errno = s.err;
		return -1;
	}
	return 0;
}

int inventory_write(const struct routes *t, const char *path, char *err, size_t errlen)
{
	char *tmp = NULL;
	FILE *f = NULL;
	const char *what = "cannot write";
	int e;

	if (strcmp(path, "-") == 0) {
		if (inventory_write_stream(t, stdout) != 0 || fflush(stdout) != 0)
			goto fail;
		return 0;
	}
	if (asprintf(&tmp, "%s.tmp.%ld", path, (long)getpid()) < 0) {
		tmp = NULL;
		errno = ENOMEM;
		goto fail;
	}
	if (!(f = fopen(tmp, "w"))) {
		what = "cannot create";
		goto fail;
	}
	if (inventory_write_stream(t, f) != 0 || fflush(f) != 0 || fsync(fileno(f)) != 0)
		goto fail;
	if (fclose(f) != 0) {
		f = NULL;
		goto fail;
	}
	f = NULL;
	if (rename(tmp, path) != 0) {
		what = "cannot replace";
		goto fail;
	}
	free(tmp);
	return 0;
fail:
	e = errno ? errno : EIO;
	if (f)
		fclose(f);
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
	if (err && errlen)
		snprintf(err, errlen, "--inventory %s: %s: %s", path, what, strerror(e));
	return -1;
}

void inventory_stats_json(const struct routes *t, FILE *out)
{
	struct routes_stats s;

	routes_get_stats(t, &s);
	fprintf(out,
		"\"routes\":{\"observed\":%llu,\"spec_matched\":%llu,\"learned\":%llu,"
		"\"unrouted\":%llu,\"nodes\":%llu,\"nodes_full\":%llu,\"entries\":%llu,"
		"\"entries_full\":%llu,\"params_made\":%llu,\"nodes_merged\":%llu,"
		"\"depth_folded\":%llu,\"literal_too_long\":%llu,\"hosts\":%llu,"
		"\"hosts_full\":%llu,\"methods_full\":%llu,\"spec_ops\":%llu,"
		"\"spec_steps_capped\":%llu,\"memory\":%llu}",
		(unsigned long long)s.observed, (unsigned long long)s.spec_matched,
		(unsigned long long)s.learned, (unsigned long long)s.unrouted,
		(unsigned long long)s.nodes, (unsigned long long)s.nodes_full,
		(unsigned long long)s.entries, (unsigned long long)s.entries_full,
		(unsigned long long)s.params_made, (unsigned long long)s.nodes_merged,
		(unsigned long long)s.depth_folded, (unsigned long long)s.literal_too_long,
		(unsigned long long)s.hosts, (unsigned long long)s.hosts_full,
		(unsigned long long)s.methods_full, (unsigned long long)s.spec_ops,
		(unsigned long long)s.spec_steps_capped, (unsigned long long)s.memory);
}
