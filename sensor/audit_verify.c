/*
 * audit_verify.c - `tapir audit verify`: recompute the whole log and hold it
 * against every signed tree head (RFC 9162 2.1: a head's root commits to
 * every record before it, in order).
 *
 * One pass, oldest segment first. What each check catches, and how the first
 * bad place is named:
 *   - a record's CRC32C: a changed byte (segment file, record number, offset);
 *   - a record's own number against its position: a removed, inserted,
 *     duplicated or reordered record whose checksum was left intact;
 *   - segment names, header sequence numbers, first record numbers and the
 *     tree state in each header against the records before it: a removed,
 *     inserted, swapped or renamed segment;
 *   - every head's signature (Ed25519, with --pubkey or DIR/audit.pub): a
 *     forged or altered head; and the root recomputed at every head's tree
 *     size: anything an attacker re-checksummed and renumbered - named as the
 *     records between the last head that matched and the first that does not;
 *   - heads larger than the log (including one held elsewhere, --sth): a
 *     truncated tail;
 *   - a log that starts after record 0: only with a signed retention record
 *     naming the segment before the first one left, with the tree size and
 *     root at the cut (the first header's tree state must fold to that root);
 *   - an incomplete last record: a torn tail (a writer killed mid-write),
 *     reported as such, distinct from tampering;
 *   - records under no head while no writer holds the log: appended later;
 *   - each sidecar index against its segment (time range, counts, and every
 *     record's keys in its filter): an index doctored to hide records.
 */
#include "audit_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

struct vhead {
	struct audit_head h;
	long index; /* in heads.sth; -1: the one given with --sth */
};

struct retained {
	uint64_t seq, tree_size;
	uint8_t root[MERKLE_HASH];
};

struct segpos {
	uint64_t seq, first;
};

struct verify {
	const struct audit_verify_options *o;
	int dirfd;
	char *msg, *note;
	size_t msglen, notelen;
	struct audit_key *key;
	bool dir_key;
	struct merkle_hasher *h;
	struct merkle_frontier fr;
	struct vhead *heads;
	size_t nheads, next_head, log_heads;
	uint64_t ok_size; /* the largest tree size a head matched (or the start) */
	uint64_t start;   /* first record present */
	uint64_t last_log_head; /* largest tree size among heads.sth */
	bool have_log_head;
	uint64_t predating;
	struct retained *ret;
	size_t nret, capret;
	struct segpos *segs;
	size_t nsegs;
};

static int cmp_head(const void *a, const void *b)
{
	const struct vhead *x = a, *y = b;
	if (x->h.size != y->h.size)
		return x->h.size < y->h.size ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

static void head_desc(const struct vhead *v, char *buf, size_t n)
{
	char t[40];
	audit_format_time(v->h.time_us, t, sizeof t);
	if (v->index < 0)
		snprintf(buf, n, "the head given with --sth (tree size %llu, %s)",
			 (unsigned long long)v->h.size, t);
	else
		snprintf(buf, n, "the signed head #%ld of %s (tree size %llu)", v->index, t,
			 (unsigned long long)v->h.size);
}

/* Segment holding record number rec, as "seg-....log record N". */
static void where(const struct verify *v, uint64_t rec, char *buf, size_t n)
{
	char name[32];
	for (size_t i = v->nsegs; i-- > 0;) {
		if (v->segs[i].first <= rec) {
			audit_seg_name(v->segs[i].seq, name, sizeof name);
			snprintf(buf, n, "%s record %llu", name, (unsigned long long)rec);
			return;
		}
	}
	snprintf(buf, n, "record %llu", (unsigned long long)rec);
}

static int load_heads(struct verify *v)
{
	int fd = openat(v->dirfd, AUDIT_HEADS_FILE, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0) {
		if (errno == ENOENT) {
			v->heads = calloc(1, sizeof *v->heads);
			if (v->heads)
				return 0;
			errno = ENOMEM;
		}
		audit_msg(v->msg, v->msglen, "%s/" AUDIT_HEADS_FILE ": %s", v->o->dir,
			  strerror(errno));
		return 1;
	}
	if (fstat(fd, &st) != 0) {
		close(fd);
		audit_msg(v->msg, v->msglen, "%s/" AUDIT_HEADS_FILE ": %s", v->o->dir,
			  strerror(errno));
		return 1;
	}
	size_t n = (size_t)st.st_size / AUDIT_HEAD_SIZE;
	v->heads = calloc(n + 1, sizeof *v->heads);
	if (!v->heads) {
		close(fd);
		audit_msg(v->msg, v->msglen, "out of memory");
		return 1;
	}
	uint8_t b[AUDIT_HEAD_SIZE];
	uint64_t prev = 0;
	for (size_t i = 0; i < n; i++) {
		struct vhead *h = &v->heads[i];
		if (pread(fd, b, sizeof b, (off_t)(i * AUDIT_HEAD_SIZE)) != AUDIT_HEAD_SIZE) {
			close(fd);
			audit_msg(v->msg, v->msglen, "%s/" AUDIT_HEADS_FILE ": cannot read",
				  v->o->dir);
			return 1;
		}
		h->index = (long)i;
		if (audit_head_decode(b, &h->h) != 0) {
			close(fd);
			audit_msg(v->msg, v->msglen,
				  "%s/" AUDIT_HEADS_FILE ": head #%zu (offset %zu) is not a tree "
				  "head: altered",
				  v->o->dir, i, i * AUDIT_HEAD_SIZE);
			return 1;
		}
		if (!v->key && (h->h.flags & AUDIT_HEAD_SIGNED)) {
			close(fd);
			audit_msg(v->msg, v->msglen,
				  "%s: the heads are signed but there is no public key "
				  "(%s/" AUDIT_PUB_FILE " is missing): give --pubkey FILE",
				  v->o->dir, v->o->dir);
			return 2;
		}
		if (!audit_head_check(&h->h, v->key)) {
			char d[128];
			close(fd);
			head_desc(h, d, sizeof d);
			audit_msg(v->msg, v->msglen,
				  v->key ? "%s/" AUDIT_HEADS_FILE ": %s: %s: a forged or altered head"
					 : "%s/" AUDIT_HEADS_FILE ": %s: %s: altered",
				  v->o->dir, d,
				  v->key ? ((h->h.flags & AUDIT_HEAD_SIGNED) ? "bad signature"
									      : "not signed")
					 : "checksum mismatch");
			return 1;
		}
		if (i > 0 && h->h.size < prev) {
			char d[128];
			close(fd);
			head_desc(h, d, sizeof d);
			audit_msg(v->msg, v->msglen,
				  "%s/" AUDIT_HEADS_FILE ": %s is smaller than the head before it "
				  "(%llu): heads reordered or replayed",
				  v->o->dir, d, (unsigned long long)prev);
			return 1;
		}
		prev = h->h.size;
		v->last_log_head = h->h.size;
		v->have_log_head = true;
	}
	close(fd);
	v->nheads = v->log_heads = n;
	if ((uint64_t)st.st_size % AUDIT_HEAD_SIZE)
		audit_msg(v->note, v->notelen,
			  "%s/" AUDIT_HEADS_FILE " ends with %llu bytes of an incomplete head",
			  v->o->dir, (unsigned long long)((uint64_t)st.st_size % AUDIT_HEAD_SIZE));
	return 0;
}

static int load_external_head(struct verify *v)
{
	const char *path = v->o->sth_path;
	FILE *f = fopen(path, "re");
	if (!f) {
		audit_msg(v->msg, v->msglen, "%s: cannot open: %s", path, strerror(errno));
		return 2;
	}
	char buf[4096];
	size_t n = fread(buf, 1, sizeof buf, f);
	fclose(f);
	char e[256];
	struct vhead *h = &v->heads[v->nheads];
	if (audit_head_parse((const uint8_t *)buf, n, &h->h, e, sizeof e) != 0) {
		audit_msg(v->msg, v->msglen, "%s: %s", path, e);
		return 2;
	}
	h->index = -1;
	if (!v->key && (h->h.flags & AUDIT_HEAD_SIGNED)) {
		audit_msg(v->msg, v->msglen, "%s: the head is signed: give --pubkey FILE", path);
		return 2;
	}
	if (!audit_head_check(&h->h, v->key)) {
		audit_msg(v->msg, v->msglen, "%s: %s: a forged or altered head", path,
			  v->key ? "bad signature (or another key)" : "checksum mismatch");
		return 1;
	}
	v->nheads++;
	return 0;
}

/* Compares the root at the current size with every head of that size. */
static int check_heads(struct verify *v)
{
	while (v->next_head < v->nheads && v->heads[v->next_head].h.size < v->fr.size) {
		/* Sizes below the first record still here predate retention. */
		v->predating++;
		v->next_head++;
	}
	if (v->next_head >= v->nheads || v->heads[v->next_head].h.size != v->fr.size)
		return 0;
	uint8_t root[MERKLE_HASH];
	if (merkle_frontier_root(&v->fr, v->h, root) != 0) {
		audit_msg(v->msg, v->msglen, "SHA-256 failed");
		return 1;
	}
	for (; v->next_head < v->nheads && v->heads[v->next_head].h.size == v->fr.size;
	     v->next_head++) {
		const struct vhead *hd = &v->heads[v->next_head];
		if (memcmp(root, hd->h.root, MERKLE_HASH) == 0)
			continue;
		char d[128], w[64];
		head_desc(hd, d, sizeof d);
		if (v->fr.size == v->start) {
			audit_msg(v->msg, v->msglen,
				  "%s: the tree state at the start of the log does not match %s: "
				  "records removed before it, or its header altered",
				  v->o->dir, d);
			return 1;
		}
		where(v, v->ok_size, w, sizeof w);
		audit_msg(v->msg, v->msglen,
			  "%s: records %llu..%llu (from %s) do not match %s: a record among them "
			  "was altered, inserted, removed or reordered",
			  v->o->dir, (unsigned long long)v->ok_size,
			  (unsigned long long)(v->fr.size - 1), w, d);
		return 1;
	}
	v->ok_size = v->fr.size;
	return 0;
}

static void note_retention(struct verify *v, const struct audit_rec *r)
{
	json_t *o = json_loadb(r->json, r->json_len, 0, NULL);
	json_t *type = json_object_get(o, "type"), *rm = json_object_get(o, "removed");
	if (!json_is_string(type) || strcmp(json_string_value(type), "audit_retention") != 0 ||
	    !json_is_array(rm)) {
		json_decref(o);
		return;
	}
	size_t i;
	json_t *e;
	json_array_foreach(rm, i, e)
	{
		json_t *seq = json_object_get(e, "seq"), *ts = json_object_get(e, "tree_size");
		json_t *root = json_object_get(e, "root_hash");
		struct retained x;
		if (!json_is_integer(seq) || !json_is_integer(ts) || !json_is_string(root) ||
		    audit_unhex(json_string_value(root), json_string_length(root), x.root,
				MERKLE_HASH) != 0)
			continue;
		x.seq = (uint64_t)json_integer_value(seq);
		x.tree_size = (uint64_t)json_integer_value(ts);
		if (v->nret == v->capret) {
			size_t cap = v->capret ? v->capret * 2 : 64;
			struct retained *m = realloc(v->ret, cap * sizeof *m);
			if (!m)
				break;
			v->ret = m;
			v->capret = cap;
		}
		v->ret[v->nret++] = x;
	}
	json_decref(o);
}

static bool index_mismatch(const struct audit_index *ix, const struct audit_seg_hdr *hdr,
			   uint64_t count, uint64_t min_ts, uint64_t max_ts, const uint64_t types[4])
{
	return ix->first != hdr->first || ix->count != count ||
	       (count && (ix->min_ts != min_ts || ix->max_ts != max_ts)) ||
	       ix->n_type[1] != types[1] || ix->n_type[2] != types[2] || ix->n_type[3] != types[3];
}

static const char *read_problem(enum audit_read st)
{
	switch (st) {
	case AUDIT_READ_BAD_CRC:
		return "checksum mismatch: the record was altered";
	case AUDIT_READ_BAD_LEN:
		return "impossible length: the record was altered";
	case AUDIT_READ_BAD_BODY:
		return "malformed fields behind a good checksum: altered";
	default:
		return "cannot be read";
	}
}

struct torn {
	bool torn;
	char seg[32];
	uint64_t offset, bytes, after;
};

/* Scans segment i of the list. Returns 0, or the exit status with v->msg set. */
static int scan_segment(struct verify *v, const struct audit_seglist *l, size_t i,
			struct torn *torn)
{
	char name[32];
	uint64_t seq = l->seq[i];
	audit_seg_name(seq, name, sizeof name);
	bool last = i + 1 == l->n;
	if (i > 0 && seq != l->seq[i - 1] + 1) {
		char prev[32], miss[32];
		audit_seg_name(l->seq[i - 1], prev, sizeof prev);
		audit_seg_name(l->seq[i - 1] + 1, miss, sizeof miss);
		audit_msg(v->msg, v->msglen,
			  "%s/%s: missing: removed after %s (the log resumes with %s); records from "
			  "%llu on are gone",
			  v->o->dir, miss, prev, name, (unsigned long long)v->fr.size);
		return 1;
	}
	struct audit_reader r;
	int hs = audit_reader_open(&r, v->dirfd, name);
	if (hs < 0) {
		audit_msg(v->msg, v->msglen, "%s/%s: cannot read: %s", v->o->dir, name,
			  strerror(errno));
		return 1;
	}
	if (hs == AUDIT_HDR_SHORT && last) {
		struct stat st;
		fstat(r.fd, &st);
		audit_reader_close(&r);
		torn->torn = true;
		snprintf(torn->seg, sizeof torn->seg, "%s", name);
		torn->offset = 0;
		torn->bytes = (uint64_t)st.st_size;
		torn->after = v->fr.size;
		return 0;
	}
	if (hs != AUDIT_HDR_OK) {
		audit_reader_close(&r);
		audit_msg(v->msg, v->msglen, "%s/%s: damaged segment header: altered", v->o->dir,
			  name);
		return 1;
	}
	if (r.hdr.seq != seq) {
		audit_reader_close(&r);
		audit_msg(v->msg, v->msglen,
			  "%s/%s: its header says it is segment %llu: segments swapped or renamed",
			  v->o->dir, name, (unsigned long long)r.hdr.seq);
		return 1;
	}
	if (i == 0) {
		if (merkle_frontier_load(&v->fr, r.hdr.first, &r.hdr.frontier[0][0],
					 r.hdr.nfrontier) != 0) {
			audit_reader_close(&r);
			audit_msg(v->msg, v->msglen, "%s/%s: damaged segment header", v->o->dir, name);
			return 1;
		}
		v->start = v->ok_size = r.hdr.first;
	} else if (r.hdr.first != v->fr.size) {
		audit_reader_close(&r);
		char prev[32];
		audit_seg_name(l->seq[i - 1], prev, sizeof prev);
		audit_msg(v->msg, v->msglen,
			  "%s/%s: starts at record %llu but %s ends at record %llu: records %s "
			  "between the segments (or segments swapped)",
			  v->o->dir, name, (unsigned long long)r.hdr.first, prev,
			  (unsigned long long)(v->fr.size ? v->fr.size - 1 : 0),
			  r.hdr.first > v->fr.size ? "removed" : "inserted");
		return 1;
	} else if (r.hdr.nfrontier != v->fr.n ||
		   memcmp(r.hdr.frontier, v->fr.node, (size_t)v->fr.n * MERKLE_HASH) != 0) {
		audit_reader_close(&r);
		audit_msg(v->msg, v->msglen,
			  "%s/%s: its header's tree state does not match the records before it: "
			  "segment swapped or altered",
			  v->o->dir, name);
		return 1;
	}
	v->segs[v->nsegs++] = (struct segpos){seq, r.hdr.first};
	if (i == 0) {
		int rc = check_heads(v);
		if (rc) {
			audit_reader_close(&r);
			return rc;
		}
	}
	/* The sidecar index, when it claims to describe this file as it is. */
	struct audit_index ix;
	struct stat st;
	bool have_ix = audit_index_read(v->dirfd, seq, &ix) == 0;
	if (have_ix && (fstat(r.fd, &st) != 0 || ix.covered != (uint64_t)st.st_size)) {
		audit_index_free(&ix);
		have_ix = false;
	}
	uint64_t count = 0, min_ts = UINT64_MAX, max_ts = 0, types[4] = {0};
	struct audit_rec rec;
	enum audit_read rs;
	int rc = 0;
	char ixname[32];
	audit_idx_name(seq, ixname, sizeof ixname);
	while ((rs = audit_reader_next(&r, &rec)) == AUDIT_READ_OK) {
		if (rec.number != v->fr.size) {
			audit_msg(v->msg, v->msglen,
				  rec.number < v->fr.size
					  ? "%s/%s record %llu (offset %llu): holds record number %llu: "
					    "a record repeated or out of order (inserted or reordered)"
					  : "%s/%s record %llu (offset %llu): holds record number %llu: "
					    "the records before it are missing (removed)",
				  v->o->dir, name, (unsigned long long)v->fr.size,
				  (unsigned long long)rec.offset, (unsigned long long)rec.number);
			rc = 1;
			break;
		}
		uint8_t leaf[MERKLE_HASH];
		if (audit_rec_leaf(v->h, &rec, leaf) != 0 ||
		    merkle_frontier_add(&v->fr, v->h, leaf) != 0) {
			audit_msg(v->msg, v->msglen, "SHA-256 failed");
			rc = 1;
			break;
		}
		if (rec.type == AUDIT_INTERNAL)
			note_retention(v, &rec);
		if (have_ix && !audit_bloom_holds_rec(&ix.bloom, &rec)) {
			audit_msg(v->msg, v->msglen,
				  "%s/%s: does not match %s (record %llu is missing from its filter): "
				  "an index that hides records from search; delete it to rebuild",
				  v->o->dir, ixname, name, (unsigned long long)rec.number);
			rc = 1;
			break;
		}
		count++;
		if (rec.ts_us < min_ts)
			min_ts = rec.ts_us;
		if (rec.ts_us > max_ts)
			max_ts = rec.ts_us;
		types[rec.type]++;
		if ((rc = check_heads(v)) != 0)
			break;
	}
	if (rc == 0 && rs != AUDIT_READ_END) {
		if (rs == AUDIT_READ_TORN && last) {
			struct stat fst;
			fstat(r.fd, &fst);
			torn->torn = true;
			snprintf(torn->seg, sizeof torn->seg, "%s", name);
			torn->offset = r.next;
			torn->bytes = (uint64_t)fst.st_size - r.next;
			torn->after = v->fr.size;
		} else if (rs == AUDIT_READ_TORN) {
			audit_msg(v->msg, v->msglen,
				  "%s/%s record %llu (offset %llu): the file ends inside it but later "
				  "segments exist: cut or altered",
				  v->o->dir, name, (unsigned long long)v->fr.size,
				  (unsigned long long)r.next);
			rc = 1;
		} else {
			audit_msg(v->msg, v->msglen, "%s/%s record %llu (offset %llu): %s", v->o->dir,
				  name, (unsigned long long)v->fr.size, (unsigned long long)r.next,
				  read_problem(rs));
			rc = 1;
		}
	}
	if (rc == 0 && have_ix && index_mismatch(&ix, &r.hdr, count, min_ts, max_ts, types)) {
		audit_msg(v->msg, v->msglen,
			  "%s/%s: does not match %s (time range or counts): an index that could "
			  "hide records from search; delete it to rebuild",
			  v->o->dir, ixname, name);
		rc = 1;
	}
	if (have_ix)
		audit_index_free(&ix);
	audit_reader_close(&r);
	return rc;
}

/* The log starts after record 0: every segment before it must be named by a
 * retention record, with the root at the cut equal to the first header's state. */
static int check_start(struct verify *v, const struct audit_seglist *l)
{
	uint64_t first_seq = l->seq[0];
	if (first_seq == 0 && v->start == 0)
		return 0;
	char name[32];
	audit_seg_name(first_seq, name, sizeof name);
	struct merkle_frontier f;
	struct audit_reader r;
	uint8_t root[MERKLE_HASH];
	int hs = audit_reader_open(&r, v->dirfd, name);
	bool ok = hs == AUDIT_HDR_OK &&
		  merkle_frontier_load(&f, r.hdr.first, &r.hdr.frontier[0][0], r.hdr.nfrontier) ==
			  0 &&
		  merkle_frontier_root(&f, v->h, root) == 0;
	if (hs >= 0)
		audit_reader_close(&r);
	/* Retention removes prefixes only, so a signed record naming the segment just
	 * before the first one left (with the tree size and root at its end) accounts
	 * for all before it: earlier retention records may themselves be gone. */
	bool named_cut = false;
	for (size_t i = 0; ok && i < v->nret; i++)
		if (v->ret[i].seq + 1 == first_seq && v->ret[i].tree_size == v->start &&
		    memcmp(v->ret[i].root, root, MERKLE_HASH) == 0)
			named_cut = true;
	if (!ok || !named_cut) {
		audit_msg(v->msg, v->msglen,
			  "%s/%s: the log starts at record %llu (segment %llu) but no signed "
			  "retention record accounts for the segments before it (0..%llu): removed",
			  v->o->dir, name, (unsigned long long)v->start, (unsigned long long)first_seq,
			  (unsigned long long)(first_seq ? first_seq - 1 : 0));
		return 1;
	}
	return 0;
}

static bool writer_active(int dirfd)
{
	int fd = openat(dirfd, AUDIT_LOCK_FILE, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	bool busy = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
	close(fd);
	return busy;
}

static void append_note(struct verify *v, const char *s)
{
	size_t used = strlen(v->note);
	if (used + 3 < v->notelen)
		snprintf(v->note + used, v->notelen - used, "%s%s", used ? "; " : "", s);
}

static int run(struct verify *v)
{
	const struct audit_verify_options *o = v->o;
	char e[512];
	v->dirfd = open(o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (v->dirfd < 0) {
		audit_msg(v->msg, v->msglen, "%s: cannot open: %s", o->dir, strerror(errno));
		return 2;
	}
	if (o->pubkey_path) {
		v->key = audit_key_load_public(o->pubkey_path, e, sizeof e);
		if (!v->key) {
			audit_msg(v->msg, v->msglen, "%s", e);
			return 2;
		}
	} else if (faccessat(v->dirfd, AUDIT_PUB_FILE, F_OK, 0) == 0) {
		v->key = audit_key_load_public_at(v->dirfd, AUDIT_PUB_FILE, e, sizeof e);
		if (!v->key) {
			audit_msg(v->msg, v->msglen, "%s/%s", o->dir, e);
			return 1;
		}
		v->dir_key = true;
	}
	v->h = merkle_hasher_new();
	if (!v->h) {
		audit_msg(v->msg, v->msglen, "SHA-256 is not available");
		return 1;
	}
	int rc = load_heads(v);
	if (rc)
		return rc;
	if (o->sth_path && (rc = load_external_head(v)) != 0)
		return rc;
	qsort(v->heads, v->nheads, sizeof *v->heads, cmp_head);
	struct audit_seglist l;
	if (audit_seglist_read(v->dirfd, &l) != 0) {
		audit_msg(v->msg, v->msglen, "%s: cannot list: %s", o->dir, strerror(errno));
		return 1;
	}
	if (l.n == 0) {
		audit_seglist_free(&l);
		audit_msg(v->msg, v->msglen,
			  v->nheads ? "%s: no segment, but tree heads: the log's records were removed"
				    : "%s: no audit log here (no seg-*.log)",
			  o->dir);
		return v->nheads ? 1 : 2;
	}
	v->segs = calloc(l.n, sizeof *v->segs);
	if (!v->segs) {
		audit_seglist_free(&l);
		audit_msg(v->msg, v->msglen, "out of memory");
		return 1;
	}
	merkle_frontier_init(&v->fr);
	struct torn torn = {0};
	for (size_t i = 0; rc == 0 && i < l.n && !torn.torn; i++)
		rc = scan_segment(v, &l, i, &torn);
	uint64_t total = v->fr.size;
	/* A head beyond the end: records were cut off. */
	for (size_t i = 0; rc == 0 && i < v->nheads; i++) {
		const struct vhead *hd = &v->heads[i];
		if (hd->h.size <= total)
			continue;
		char d[128], w[64];
		head_desc(hd, d, sizeof d);
		where(v, total ? total - 1 : 0, w, sizeof w);
		audit_msg(v->msg, v->msglen,
			  "%s: truncated: the log ends at %s (%llu records) but %s covers records "
			  "%llu..%llu",
			  o->dir, total ? w : "its start", (unsigned long long)total, d,
			  (unsigned long long)total, (unsigned long long)(hd->h.size - 1));
		rc = 1;
	}
	if (rc == 0)
		rc = check_start(v, &l);
	if (rc == 0 && torn.torn) {
		audit_msg(v->msg, v->msglen,
			  "%s/%s: torn tail: %llu bytes of an incomplete record after record %lld "
			  "(offset %llu): the writer stopped mid-write (a crash, kill -9); every "
			  "record before it checks; `tapir audit repair %s` cuts it",
			  o->dir, torn.seg, (unsigned long long)torn.bytes,
			  (long long)torn.after - 1, (unsigned long long)torn.offset, o->dir);
		rc = 1;
	}
	uint64_t covered = v->have_log_head ? v->last_log_head : 0;
	bool active = writer_active(v->dirfd);
	if (rc == 0 && covered < total) {
		char w[64];
		where(v, covered < v->start ? v->start : covered, w, sizeof w);
		if (!active) {
			audit_msg(v->msg, v->msglen,
				  "%s: records %llu..%llu (from %s) are under no signed head and no "
				  "writer holds the log: appended afterwards, or left by a crash "
				  "(`tapir audit repair` signs them, recording that it did)",
				  o->dir, (unsigned long long)covered, (unsigned long long)(total - 1),
				  w);
			rc = 1;
		} else {
			char s[160];
			snprintf(s, sizeof s,
				 "records %llu..%llu are not yet under a head (a writer is running)",
				 (unsigned long long)covered, (unsigned long long)(total - 1));
			append_note(v, s);
		}
	}
	if (rc == 0) {
		char first[32], lastn[32], t[40], id[17], cut[160] = "";
		audit_seg_name(l.seq[0], first, sizeof first);
		audit_seg_name(l.seq[l.n - 1], lastn, sizeof lastn);
		const struct vhead *lh = NULL;
		for (size_t i = 0; i < v->nheads; i++)
			if (v->heads[i].index >= 0)
				lh = &v->heads[i];
		if (v->start > 0)
			snprintf(cut, sizeof cut,
				 "; records 0..%llu (segments 0..%llu) removed by signed retention",
				 (unsigned long long)(v->start - 1), (unsigned long long)(l.seq[0] - 1));
		char signer[64] = "unsigned (checksums only)";
		if (lh) {
			audit_format_time(lh->h.time_us, t, sizeof t);
			audit_hex(lh->h.key_id, 8, id);
			if (v->key)
				snprintf(signer, sizeof signer, "signed by key %s", id);
		}
		char range[64];
		if (total > v->start)
			snprintf(range, sizeof range, "records %llu..%llu", (unsigned long long)v->start,
				 (unsigned long long)(total - 1));
		else
			snprintf(range, sizeof range, "no records");
		audit_msg(v->msg, v->msglen,
			  "%s: ok: %s in %zu segments (%s..%s), %zu heads %s, the "
			  "last at tree size %llu (%s)%s%s",
			  o->dir, range, l.n, first,
			  lastn, v->log_heads, signer,
			  (unsigned long long)(lh ? lh->h.size : 0), lh ? t : "none", cut,
			  o->sth_path ? "; the head given with --sth checks" : "");
		if (v->predating) {
			char s[128];
			snprintf(s, sizeof s, "%llu heads predate retention (their records are gone)",
				 (unsigned long long)v->predating);
			append_note(v, s);
		}
		if (v->dir_key) {
			char s[512];
			snprintf(s, sizeof s,
				 "heads checked against %s/" AUDIT_PUB_FILE ": give --pubkey with a "
				 "copy kept elsewhere to rule out a replaced key",
				 o->dir);
			append_note(v, s);
		}
		else if (!v->key)
			append_note(v, "an unsigned log: only a head held elsewhere (--sth) makes "
				       "tampering evident");
	}
	audit_seglist_free(&l);
	return rc;
}

int audit_verify(const struct audit_verify_options *o, char *msg, size_t msglen, char *note,
		 size_t notelen)
{
	char dummy[8];
	if (!note || notelen == 0) {
		note = dummy;
		notelen = sizeof dummy;
	}
	note[0] = '\0';
	if (msg && msglen)
		msg[0] = '\0';
	struct verify v = {.o = o, .dirfd = -1, .msg = msg, .msglen = msglen, .note = note,
			   .notelen = notelen};
	int rc = run(&v);
	if (v.dirfd >= 0)
		close(v.dirfd);
	audit_key_free(v.key);
	merkle_hasher_free(v.h);
	free(v.heads);
	free(v.ret);
	free(v.segs);
	return rc;
}
