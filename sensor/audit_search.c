/*
 * audit_search.c - `tapir audit search`: the records that match every filter
 * given, in log order, as the JSON lines they were stored as (or a table).
 *
 * Each closed segment has a sidecar index (audit_index.c): its packet-time
 * range, counts per type and a Bloom filter over identities, client
 * addresses, detectors and paths with their prefixes. A segment whose index
 * proves it cannot match is skipped unread; a filter says "maybe", never "no"
 * for a key that is there, so results are exactly those of a full scan
 * (no_index, the reference the tests compare with). The filter fields are
 * stored beside each record, so matching reads no JSON. A missing or stale
 * index (the segment grew or was cut since) is rebuilt while the segment is
 * scanned, and written for next time when the segment is closed. The last
 * segment is always scanned: a writer may be appending to it.
 */
#include "audit_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

struct search {
	const struct audit_query *q;
	unsigned types;
	FILE *out;
	size_t glob_lit;  /* literal head of the path glob, for the filter */
	bool glob_whole;  /* the glob has no wildcard */
	bool path_key;    /* the filter can answer for the path */
	struct audit_search_stats st;
};

static bool rec_matches(const struct search *s, const struct audit_rec *r)
{
	const struct audit_query *q = s->q;
	if (!(s->types & (1u << r->type)))
		return false;
	if (q->has_since && r->ts_us < q->since_us)
		return false;
	if (q->has_until && r->ts_us >= q->until_us)
		return false;
	if (q->identity && (r->identity_len != strlen(q->identity) ||
			    memcmp(r->identity, q->identity, r->identity_len) != 0))
		return false;
	if (q->has_ip && (!r->has_ip || !audit_ip_in(r->ip, q->ip, q->ip_prefix)))
		return false;
	if (q->detector && (r->detector_len != strlen(q->detector) ||
			    memcmp(r->detector, q->detector, r->detector_len) != 0))
		return false;
	if (q->path_glob && !audit_glob_match(q->path_glob, r->path, r->path_len))
		return false;
	return true;
}

/* False when the index proves no record of the segment can match. */
static bool may_match(const struct search *s, const struct audit_index *ix)
{
	const struct audit_query *q = s->q;
	uint64_t typed = 0;
	for (unsigned t = AUDIT_EVENT; t <= AUDIT_INTERNAL; t++)
		if (s->types & (1u << t))
			typed += ix->n_type[t];
	if (typed == 0)
		return false;
	if (q->has_since && ix->max_ts < q->since_us)
		return false;
	if (q->has_until && ix->min_ts >= q->until_us)
		return false;
	if (q->identity && !audit_bloom_has(&ix->bloom, 'i', q->identity, strlen(q->identity)))
		return false;
	if (q->has_ip && q->ip_prefix == 128 && !audit_bloom_has(&ix->bloom, 'a', q->ip, 16))
		return false;
	if (q->detector && !audit_bloom_has(&ix->bloom, 'd', q->detector, strlen(q->detector)))
		return false;
	if (s->path_key && !audit_bloom_has(&ix->bloom, 'p', q->path_glob, s->glob_lit))
		return false;
	return true;
}

static const char *type_name(enum audit_type t)
{
	return t == AUDIT_EVENT ? "event" : t == AUDIT_ALERT ? "alert" : "audit";
}

static void table_header(FILE *out)
{
	fprintf(out, "%-9s %-27s %-5s %-24s %-15s %-7s %-40s %s\n", "RECORD", "TIME", "TYPE",
		"IDENTITY", "CLIENT", "METHOD", "PATH", "STATUS/DETECTOR");
}

static void table_row(FILE *out, const struct audit_rec *r)
{
	char t[40], ip[64] = "-", what[160] = "", method[16] = "-";
	audit_format_time(r->ts_us, t, sizeof t);
	if (r->has_ip)
		audit_format_ip(r->ip, ip, sizeof ip);
	json_t *o = json_loadb(r->json, r->json_len, 0, NULL);
	json_t *m = json_object_get(o, "method");
	if (json_is_string(m))
		snprintf(method, sizeof method, "%s", json_string_value(m));
	if (r->type == AUDIT_ALERT) {
		json_t *sev = json_object_get(o, "severity");
		snprintf(what, sizeof what, "%.*s %s", (int)r->detector_len, r->detector,
			 json_is_string(sev) ? json_string_value(sev) : "");
	} else if (r->type == AUDIT_EVENT) {
		json_t *st = json_object_get(o, "status");
		if (json_is_integer(st))
			snprintf(what, sizeof what, "%lld", (long long)json_integer_value(st));
		else
			snprintf(what, sizeof what, "-");
	} else {
		json_t *ty = json_object_get(o, "type");
		snprintf(what, sizeof what, "%s", json_is_string(ty) ? json_string_value(ty) : "");
	}
	json_decref(o);
	fprintf(out, "%-9llu %-27s %-5s %-24.*s %-15s %-7s %-40.*s %s\n",
		(unsigned long long)r->number, t, type_name(r->type),
		(int)(r->identity_len ? (r->identity_len > 24 ? 24 : r->identity_len) : 1),
		r->identity_len ? r->identity : "-", ip, method,
		(int)(r->path_len ? (r->path_len > 40 ? 40 : r->path_len) : 1),
		r->path_len ? r->path : "-", what);
}

static void emit(struct search *s, const struct audit_rec *r)
{
	s->st.matches++;
	if (s->q->table) {
		table_row(s->out, r);
	} else {
		fwrite(r->json, 1, r->json_len, s->out);
		fputc('\n', s->out);
	}
}

/*
 * Scans one segment; with `stat` also rebuilds its index. Returns 0, or 1
 * after noting damage in err (the first only).
 */
static int scan(struct search *s, int dirfd, const char *dir, uint64_t seq, bool last,
		struct audit_segstat *stat, bool *clean, char *err, size_t errlen)
{
	char name[32];
	audit_seg_name(seq, name, sizeof name);
	struct audit_reader r;
	int hs = audit_reader_open(&r, dirfd, name);
	*clean = false;
	if (hs != AUDIT_HDR_OK) {
		if (hs >= 0)
			audit_reader_close(&r);
		if (last && hs == AUDIT_HDR_SHORT)
			return 0; /* being created */
		if (s->st.damaged++ == 0)
			audit_msg(err, errlen, "%s/%s: cannot read its header: run `tapir audit verify`",
				  dir, name);
		return 1;
	}
	struct audit_rec rec;
	enum audit_read rs;
	while ((rs = audit_reader_next(&r, &rec)) == AUDIT_READ_OK) {
		s->st.records_scanned++;
		if (stat)
			audit_segstat_add(stat, &rec);
		if (rec_matches(s, &rec))
			emit(s, &rec);
	}
	audit_reader_close(&r);
	if (rs == AUDIT_READ_END) {
		*clean = true;
		return 0;
	}
	if (rs == AUDIT_READ_TORN && last)
		return 0; /* a writer mid-record, or a crash: verify and repair say which */
	if (s->st.damaged++ == 0)
		audit_msg(err, errlen,
			  "%s/%s: unreadable after offset %llu: results may be incomplete; run "
			  "`tapir audit verify`",
			  dir, name, (unsigned long long)r.next);
	return 1;
}

int audit_search(const char *dir, const struct audit_query *q, FILE *out,
		 struct audit_search_stats *st, char *err, size_t errlen)
{
	struct search s = {.q = q, .out = out};
	s.types = q->types ? q->types : (1u << AUDIT_EVENT) | (1u << AUDIT_ALERT);
	if (q->path_glob) {
		s.glob_lit = audit_glob_prefix(q->path_glob, &s.glob_whole);
		s.path_key = s.glob_whole || s.glob_lit > 0;
	}
	if ((q->identity && !*q->identity) || (q->detector && !*q->detector) ||
	    (q->has_ip && q->ip_prefix > 128)) {
		audit_msg(err, errlen, "an empty filter value");
		return 2;
	}
	int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		audit_msg(err, errlen, "%s: cannot open: %s", dir, strerror(errno));
		return errno == ENOENT || errno == ENOTDIR ? 2 : 1;
	}
	struct audit_seglist l;
	if (audit_seglist_read(dirfd, &l) != 0) {
		audit_msg(err, errlen, "%s: cannot list: %s", dir, strerror(errno));
		close(dirfd);
		return 1;
	}
	if (l.n == 0) {
		audit_msg(err, errlen, "%s: no audit log here (no seg-*.log)", dir);
		audit_seglist_free(&l);
		close(dirfd);
		return 2;
	}
	if (q->table)
		table_header(out);
	int rc = 0;
	for (size_t i = 0; i < l.n; i++) {
		uint64_t seq = l.seq[i];
		bool last = i + 1 == l.n;
		char name[32];
		struct stat fst;
		audit_seg_name(seq, name, sizeof name);
		s.st.segments++;
		bool rebuild = false;
		if (!q->no_index && !last) {
			struct audit_index ix;
			rebuild = true;
			if (audit_index_read(dirfd, seq, &ix) == 0) {
				bool valid = fstatat(dirfd, name, &fst, 0) == 0 &&
					     (uint64_t)fst.st_size == ix.covered;
				bool skip = valid && !may_match(&s, &ix);
				audit_index_free(&ix);
				if (valid) {
					rebuild = false;
					s.st.segments_indexed++;
					if (skip) {
						s.st.segments_skipped++;
						continue;
					}
				}
			}
		}
		struct audit_segstat stat;
		if (rebuild && audit_segstat_init(&stat, audit_bloom_log2_for(
							  fstatat(dirfd, name, &fst, 0) == 0
								  ? (uint64_t)fst.st_size
								  : 0)) != 0) {
			audit_segstat_free(&stat);
			rebuild = false;
		}
		bool clean;
		if (scan(&s, dirfd, dir, seq, last, rebuild ? &stat : NULL, &clean, err, errlen) != 0)
			rc = 1;
		if (!rebuild)
			continue;
		/* Written for next time; a read-only directory just goes without. */
		struct audit_reader r;
		if (clean && audit_reader_open(&r, dirfd, name) == AUDIT_HDR_OK && fstat(r.fd, &fst) == 0)
			(void)!audit_index_write(dirfd, seq, r.hdr.first, (uint64_t)fst.st_size, &stat,
						 false);
		if (clean)
			audit_reader_close(&r);
		audit_segstat_free(&stat);
	}
	fflush(out);
	if (st)
		*st = s.st;
	audit_seglist_free(&l);
	close(dirfd);
	return rc;
}
