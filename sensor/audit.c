/*
 * audit.c - the audit log's writer: append, rotate, sign, recover, retain.
 *
 * Records are encoded straight into a buffer (audit_int.h has the layout),
 * checksummed (CRC32C), hashed into the Merkle frontier (one leaf hash and on
 * average one node hash per record: audit_merkle.h) and counted into the
 * segment's search index; the buffer goes to the kernel when full, every
 * flush_interval_ms and before every head. A head is signed every
 * sth_interval_ms or sth_every records while records arrive, at rotation and
 * at close. A head never names records the disk may not hold: with fsync
 * interval, signed heads wait in memory and are written right after the
 * fdatasync of the data under them (one disk flush per interval, not one per
 * head); with always, each record is synced before anything else happens.
 *
 * Crash safety: records only ever go to the end of the last segment and
 * nothing written is rewritten, so a kill -9 can only leave an incomplete
 * last record (a "torn tail"). audit_open finds it by scanning the last
 * segment from its header's tree state; with `repair` it cuts it, records a
 * repair record (what was cut, its SHA-256, the records a crash left
 * unsigned) and signs a head. Anything else that does not check - a bad
 * checksum, a wrong record number, a head the data does not match - makes
 * audit_open refuse: that is for `tapir audit verify` to name.
 *
 * Retention removes a prefix of closed segments only after checking them
 * against the tree, and leaves a signed record naming each one, so verify can
 * tell deletion by policy from deletion by an intruder.
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

#include "jsonw.h"

#define DEFAULT_SEGMENT (64ull << 20)
#define MIN_SEGMENT 4096
#define DEFAULT_BUFFER (1u << 20)
#define TICK_EVERY 64 /* appends between clock reads */
#define RETAIN_PER_RECORD 256 /* removed segments named per retention record */
#define AUDIT_PENDING_MAX 64  /* heads held for the next fdatasync (then it comes early) */

struct audit {
	struct audit_options o;
	char *dir;
	int dirfd, lockfd, segfd, headsfd;
	struct audit_key *key;
	struct merkle_hasher *hasher;
	struct merkle_frontier fr; /* the tree after every appended record */

	uint64_t seg_seq, seg_first;
	uint64_t seg_size;    /* bytes of the segment, buffered ones included */
	uint32_t seg_hdr_len;
	uint8_t *buf;
	size_t buf_len, buf_cap;
	struct audit_segstat stat;

	bool have_head;
	uint64_t head_size, head_us, sync_us, flush_us;
	bool unsynced_data, unsynced_heads;
	struct audit_head pending[AUDIT_PENDING_MAX]; /* signed, waiting for their data's fdatasync */
	unsigned npending;
	unsigned tick;

	bool failed;
	char err[512];
	struct audit_stats st;
};

void audit_options_default(struct audit_options *o)
{
	memset(o, 0, sizeof *o);
	o->segment_bytes = DEFAULT_SEGMENT;
	o->fsync = AUDIT_FSYNC_INTERVAL;
	o->fsync_interval_ms = 1000;
	o->sth_interval_ms = 1000;
	o->sth_every = 65536;
	o->flush_interval_ms = 100;
	o->buffer_bytes = DEFAULT_BUFFER;
	o->repair = false;
}

static uint64_t now_us(const struct audit *a)
{
	return a->o.clock ? a->o.clock(a->o.clock_ctx) : audit_now_us();
}

static int fail(struct audit *a, const char *what)
{
	audit_msg(a->err, sizeof a->err, "%s: %s: %s", a->dir, what, strerror(errno));
	a->failed = true;
	return -1;
}

uint64_t audit_next_record(const struct audit *a)
{
	return a->fr.size;
}

const char *audit_error(const struct audit *a)
{
	return a->err;
}

void audit_get_stats(const struct audit *a, struct audit_stats *s)
{
	*s = a->st;
	s->records = a->fr.size;
	s->memory = sizeof *a + a->buf_cap + ((size_t)1 << (a->stat.log2_full - 3));
}

/* Hands the buffer to the kernel. On a short write the segment is cut back to
 * its last whole record, so a full disk leaves no torn tail behind. */
static int flush(struct audit *a)
{
	if (a->buf_len == 0)
		return 0;
	uint64_t at = a->seg_size - a->buf_len;
	if (audit_write_all(a->segfd, a->buf, a->buf_len) != 0) {
		int e = errno;
		if (ftruncate(a->segfd, (off_t)at) == 0)
			lseek(a->segfd, 0, SEEK_END);
		errno = e;
		return fail(a, "cannot write the segment");
	}
	a->st.bytes += a->buf_len;
	a->buf_len = 0;
	a->unsynced_data = true;
	return 0;
}

static int write_head(struct audit *a, const struct audit_head *h)
{
	uint8_t b[AUDIT_HEAD_SIZE];
	audit_head_encode(h, b);
	if (audit_write_all(a->headsfd, b, sizeof b) != 0)
		return fail(a, "cannot write " AUDIT_HEADS_FILE);
	a->unsynced_heads = true;
	if (a->o.on_head) {
		char j[512];
		size_t n = audit_head_json(h, j, sizeof j);
		if (n)
			a->o.on_head(a->o.on_head_ctx, j, n);
	}
	return 0;
}

/* Data to disk, then the heads that waited for it, then those to disk. */
static int sync_data(struct audit *a)
{
	if (flush(a) != 0)
		return -1;
	if (a->unsynced_data) {
		if (fdatasync(a->segfd) != 0)
			return fail(a, "fdatasync");
		a->st.syncs++;
		a->unsynced_data = false;
	}
	for (unsigned i = 0; i < a->npending; i++)
		if (write_head(a, &a->pending[i]) != 0)
			return -1;
	a->npending = 0;
	if (a->unsynced_heads) {
		if (fdatasync(a->headsfd) != 0)
			return fail(a, "fdatasync heads");
		a->st.syncs++;
		a->unsynced_heads = false;
	}
	return 0;
}

/*
 * Signs a head over the whole tree as it stands. A head must never name
 * records the disk may not hold: with fsync never it is written at once (the
 * kernel keeps a dead process's writes in order); otherwise it waits in
 * memory until the data under it has been fdatasync'd - at the next interval,
 * or now for fsync always.
 */
static int sign_head(struct audit *a, enum audit_head_reason reason)
{
	if (flush(a) != 0)
		return -1;
	struct audit_head h = {.version = AUDIT_VERSION, .reason = (uint16_t)reason,
			       .size = a->fr.size, .time_us = now_us(a)};
	if (merkle_frontier_root(&a->fr, a->hasher, h.root) != 0 ||
	    audit_head_sign(&h, a->key) != 0) {
		errno = EIO;
		return fail(a, "cannot sign the tree head");
	}
	a->have_head = true;
	a->head_size = h.size;
	a->head_us = h.time_us;
	a->st.heads++;
	if (a->o.fsync == AUDIT_FSYNC_NEVER)
		return write_head(a, &h);
	a->pending[a->npending++] = h;
	if (a->o.fsync == AUDIT_FSYNC_ALWAYS || a->npending == AUDIT_PENDING_MAX)
		return sync_data(a);
	return 0;
}

static int sync_dir(struct audit *a)
{
	if (a->o.fsync != AUDIT_FSYNC_NEVER && fsync(a->dirfd) != 0)
		return fail(a, "fsync of the directory");
	return 0;
}

/* Creates segment seq starting at the current tree state; it becomes the active one. */
static int new_segment(struct audit *a, uint64_t seq)
{
	char name[32];
	uint8_t hdr[AUDIT_SEG_HDR_MAX];
	audit_seg_name(seq, name, sizeof name);
	size_t len = audit_seg_hdr_encode(hdr, seq, now_us(a), &a->fr);
	int fd = openat(a->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0640);
	if (fd < 0)
		return fail(a, "cannot create a segment");
	if (audit_write_all(fd, hdr, len) != 0) {
		int e = errno;
		close(fd);
		unlinkat(a->dirfd, name, 0);
		errno = e;
		return fail(a, "cannot write a segment header");
	}
	if (a->segfd >= 0)
		close(a->segfd);
	a->segfd = fd;
	a->seg_seq = seq;
	a->seg_first = a->fr.size;
	a->seg_size = len;
	a->seg_hdr_len = (uint32_t)len;
	a->unsynced_data = true;
	a->st.segments++;
	a->st.bytes += len;
	audit_segstat_reset(&a->stat);
	return sync_dir(a);
}

static int write_index(struct audit *a)
{
	if (audit_index_write(a->dirfd, a->seg_seq, a->seg_first, a->seg_size, &a->stat,
			      a->o.fsync != AUDIT_FSYNC_NEVER) != 0)
		return fail(a, "cannot write a segment index");
	return 0;
}

static int rotate(struct audit *a)
{
	if (flush(a) != 0 || write_index(a) != 0)
		return -1;
	if ((!a->have_head || a->head_size != a->fr.size) && sign_head(a, AUDIT_HEAD_ROTATION) != 0)
		return -1;
	return new_segment(a, a->seg_seq + 1);
}

static int due_work(struct audit *a)
{
	uint64_t now = now_us(a);
	if (a->buf_len && now - a->flush_us >= (uint64_t)a->o.flush_interval_ms * 1000) {
		a->flush_us = now;
		if (flush(a) != 0)
			return -1;
	}
	if (a->o.fsync == AUDIT_FSYNC_INTERVAL &&
	    now - a->sync_us >= (uint64_t)a->o.fsync_interval_ms * 1000) {
		a->sync_us = now;
		if (sync_data(a) != 0)
			return -1;
	}
	if (a->head_size != a->fr.size &&
	    now - a->head_us >= (uint64_t)a->o.sth_interval_ms * 1000)
		return sign_head(a, AUDIT_HEAD_INTERVAL);
	return 0;
}

static int append(struct audit *a, enum audit_type t, uint64_t ts_us, const char *identity,
		  const uint8_t ip[16], const char *path, const char *detector, const char *json,
		  size_t len, uint64_t *record_no)
{
	if (a->failed)
		return -1;
	while (len > 0 && (json[len - 1] == '\n' || json[len - 1] == '\r'))
		len--;
	size_t il = identity ? strlen(identity) : 0, pl = path ? strlen(path) : 0;
	size_t dl = detector ? strlen(detector) : 0;
	size_t need = audit_rec_size(il, pl, dl, len);
	if (need == 0) {
		audit_msg(a->err, sizeof a->err,
			  "%s: record %llu not appended: a field is over its size cap", a->dir,
			  (unsigned long long)a->fr.size);
		return -1;
	}
	if (a->seg_size > a->seg_hdr_len && a->seg_size + need > a->o.segment_bytes &&
	    rotate(a) != 0)
		return -1;
	if (a->buf_len + need > a->buf_cap) {
		if (flush(a) != 0)
			return -1;
		if (need > a->buf_cap) {
			uint8_t *b = realloc(a->buf, need);
			if (!b) {
				errno = ENOMEM;
				return fail(a, "record buffer");
			}
			a->buf = b;
			a->buf_cap = need;
		}
	}
	uint8_t *rec = a->buf + a->buf_len;
	uint64_t number = a->fr.size;
	audit_rec_encode(rec, number, ts_us, ip, t, identity, il, path, pl, detector, dl, json,
			 len);
	/* SHA-256(0x00 || body) in one pass: the byte before the body is the high
	 * byte of its little-endian length, always 0 (AUDIT_BODY_MAX < 2^24). */
	_Static_assert(AUDIT_BODY_MAX < (1u << 24), "the length's high byte doubles as 0x00");
	uint8_t leaf[MERKLE_HASH];
	if (merkle_sha256(a->hasher, rec + AUDIT_REC_HDR - 1, need - AUDIT_REC_HDR + 1, leaf) != 0 ||
	    merkle_frontier_add(&a->fr, a->hasher, leaf) != 0) {
		errno = EIO;
		return fail(a, "SHA-256");
	}
	struct audit_rec r = {.ts_us = ts_us, .has_ip = ip != NULL, .type = t,
			      .identity = identity, .identity_len = il, .path = path,
			      .path_len = pl, .detector = detector, .detector_len = dl};
	if (ip)
		memcpy(r.ip, ip, 16);
	audit_segstat_add(&a->stat, &r);
	a->buf_len += need;
	a->seg_size += need;
	a->st.appended++;
	if (record_no)
		*record_no = number;
	if (a->o.fsync == AUDIT_FSYNC_ALWAYS && sync_data(a) != 0)
		return -1;
	if (a->o.sth_every && a->fr.size - a->head_size >= a->o.sth_every &&
	    sign_head(a, AUDIT_HEAD_COUNT) != 0)
		return -1;
	if (++a->tick % TICK_EVERY == 0)
		return due_work(a);
	return 0;
}

int audit_append(struct audit *a, enum audit_type t, uint64_t ts_us, const char *identity,
		 const uint8_t ip[16], const char *path, const char *detector, const char *json,
		 size_t len, uint64_t *record_no)
{
	if (t != AUDIT_EVENT && t != AUDIT_ALERT) {
		audit_msg(a->err, sizeof a->err, "%s: record type %d is not an event or an alert",
			  a->dir, (int)t);
		return -1;
	}
	return append(a, t, ts_us, identity, ip, path, detector, json, len, record_no);
}

int audit_tick(struct audit *a)
{
	return a->failed ? -1 : due_work(a);
}

int audit_sign(struct audit *a)
{
	if (a->failed)
		return -1;
	if ((!a->have_head || a->head_size != a->fr.size) && sign_head(a, AUDIT_HEAD_REQUEST) != 0)
		return -1;
	return a->o.fsync == AUDIT_FSYNC_NEVER ? flush(a) : sync_data(a);
}

/* Appends one of the log's own records (repair, retention) and signs a head over it. */
static int append_internal(struct audit *a, const char *json, size_t len,
			   enum audit_head_reason reason)
{
	uint64_t now = now_us(a);
	if (append(a, AUDIT_INTERNAL, now, NULL, NULL, NULL, NULL, json, len, NULL) != 0)
		return -1;
	return sign_head(a, reason);
}

/* ---- open and recovery ---- */

struct recovery {
	uint64_t torn_at, torn_bytes; /* cut from the last segment */
	uint8_t torn_sha[MERKLE_HASH];
	uint64_t heads_cut;           /* bytes of an incomplete head */
	bool header_cut;              /* a segment file that ended inside its header */
	uint64_t header_cut_seq;
	uint64_t unsigned_from;       /* records [unsigned_from, size) under no head */
};

static int read_last_head(struct audit *a, struct recovery *rc, struct audit_head *last,
			  int *status)
{
	struct stat st;
	if (fstat(a->headsfd, &st) != 0)
		return fail(a, "cannot read " AUDIT_HEADS_FILE);
	uint64_t whole = (uint64_t)st.st_size / AUDIT_HEAD_SIZE * AUDIT_HEAD_SIZE;
	rc->heads_cut = (uint64_t)st.st_size - whole;
	if (whole == 0)
		return 0;
	uint8_t b[AUDIT_HEAD_SIZE];
	if (pread(a->headsfd, b, sizeof b, (off_t)(whole - AUDIT_HEAD_SIZE)) != AUDIT_HEAD_SIZE)
		return fail(a, "cannot read " AUDIT_HEADS_FILE);
	if (audit_head_decode(b, last) == 0 && !a->key && (last->flags & AUDIT_HEAD_SIGNED)) {
		*status = 2;
		audit_msg(a->err, sizeof a->err,
			  "%s: the log's heads are signed but %s/" AUDIT_PUB_FILE
			  " is missing: give the log's key (--audit-key)",
			  a->dir, a->dir);
		return -1;
	}
	if (audit_head_decode(b, last) != 0 || !audit_head_check(last, a->key)) {
		*status = 1;
		audit_msg(a->err, sizeof a->err,
			  "%s/" AUDIT_HEADS_FILE ": the last tree head does not check (%s): "
			  "run `tapir audit verify %s`",
			  a->dir, a->key ? "bad signature or another key" : "bad checksum", a->dir);
		return -1;
	}
	a->have_head = true;
	a->head_size = last->size;
	return 0;
}

/* SHA-256 of the segment's bytes from offset `from` to its end. */
static int hash_tail(struct audit *a, int fd, uint64_t from, uint8_t out[MERKLE_HASH])
{
	uint8_t b[65536];
	if (merkle_sha256_begin(a->hasher) != 0)
		return -1;
	for (off_t off = (off_t)from;;) {
		ssize_t n = pread(fd, b, sizeof b, off);
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		if (merkle_sha256_update(a->hasher, b, (size_t)n) != 0)
			return -1;
		off += n;
	}
	return merkle_sha256_end(a->hasher, out);
}

/*
 * Scans the last segment from its header's tree state: rebuilds the frontier
 * and the segment's index, checks the last head when it falls in this
 * segment, finds a torn tail. Leaves the segment open for appending.
 */
static int recover_last(struct audit *a, struct audit_seglist *segs, struct recovery *rc,
			const struct audit_head *last, int *status)
{
	char name[32];
	struct audit_reader r;
	for (;;) {
		uint64_t seq = segs->seq[segs->n - 1];
		audit_seg_name(seq, name, sizeof name);
		int hs = audit_reader_open(&r, a->dirfd, name);
		if (hs < 0)
			return fail(a, "cannot read the last segment");
		if (hs == AUDIT_HDR_OK && r.hdr.seq == seq)
			break;
		audit_reader_close(&r);
		*status = 1;
		if (hs != AUDIT_HDR_SHORT || segs->n == 1 || !a->o.repair) {
			audit_msg(a->err, sizeof a->err,
				  hs == AUDIT_HDR_SHORT
					  ? "%s/%s: the file ends inside its header (torn by a crash): "
					    "run `tapir audit repair %s`"
					  : "%s/%s: damaged segment header: run `tapir audit verify %s`",
				  a->dir, name, a->dir);
			return -1;
		}
		/* A segment cut while being created holds no record: drop it. */
		if (unlinkat(a->dirfd, name, 0) != 0)
			return fail(a, "cannot remove a torn segment");
		rc->header_cut = true;
		rc->header_cut_seq = seq;
		segs->n--;
	}
	if (merkle_frontier_load(&a->fr, r.hdr.first, &r.hdr.frontier[0][0], r.hdr.nfrontier) != 0) {
		audit_reader_close(&r);
		*status = 1;
		audit_msg(a->err, sizeof a->err, "%s/%s: damaged segment header", a->dir, name);
		return -1;
	}
	bool check_head = a->have_head && last->size >= r.hdr.first;
	uint8_t root[MERKLE_HASH];
	bool head_ok = !check_head;
	if (check_head && last->size == a->fr.size) {
		if (merkle_frontier_root(&a->fr, a->hasher, root) != 0)
			goto hash_fail;
		head_ok = memcmp(root, last->root, MERKLE_HASH) == 0;
	}
	struct audit_rec rec;
	enum audit_read st;
	while ((st = audit_reader_next(&r, &rec)) == AUDIT_READ_OK) {
		if (rec.number != a->fr.size) {
			*status = 1;
			audit_msg(a->err, sizeof a->err,
				  "%s/%s: record at offset %llu is numbered %llu, expected %llu: "
				  "run `tapir audit verify %s`",
				  a->dir, name, (unsigned long long)rec.offset,
				  (unsigned long long)rec.number, (unsigned long long)a->fr.size,
				  a->dir);
			audit_reader_close(&r);
			return -1;
		}
		uint8_t leaf[MERKLE_HASH];
		if (audit_rec_leaf(a->hasher, &rec, leaf) != 0 ||
		    merkle_frontier_add(&a->fr, a->hasher, leaf) != 0)
			goto hash_fail;
		audit_segstat_add(&a->stat, &rec);
		if (check_head && last->size == a->fr.size) {
			if (merkle_frontier_root(&a->fr, a->hasher, root) != 0)
				goto hash_fail;
			head_ok = memcmp(root, last->root, MERKLE_HASH) == 0;
		}
	}
	uint64_t good_end = r.next;
	a->seg_seq = r.hdr.seq;
	a->seg_first = r.hdr.first;
	a->seg_hdr_len = r.hdr.len;
	audit_reader_close(&r);
	if (st != AUDIT_READ_END && st != AUDIT_READ_TORN) {
		*status = 1;
		if (st == AUDIT_READ_IO)
			return fail(a, "cannot read the last segment");
		audit_msg(a->err, sizeof a->err,
			  "%s/%s: record %llu (offset %llu) is damaged: run `tapir audit verify %s`",
			  a->dir, name, (unsigned long long)a->fr.size,
			  (unsigned long long)good_end, a->dir);
		return -1;
	}
	if (a->have_head && last->size > a->fr.size) {
		*status = 1;
		audit_msg(a->err, sizeof a->err,
			  "%s: the last signed head covers %llu records but the log holds %llu: "
			  "run `tapir audit verify %s`",
			  a->dir, (unsigned long long)last->size, (unsigned long long)a->fr.size,
			  a->dir);
		return -1;
	}
	if (!head_ok) {
		*status = 1;
		audit_msg(a->err, sizeof a->err,
			  "%s/%s: the records do not match the last signed head (tree size %llu): "
			  "run `tapir audit verify %s`",
			  a->dir, name, (unsigned long long)last->size, a->dir);
		return -1;
	}
	a->segfd = openat(a->dirfd, name, O_RDWR | O_APPEND | O_CLOEXEC);
	if (a->segfd < 0)
		return fail(a, "cannot open the last segment");
	struct stat sst;
	if (fstat(a->segfd, &sst) != 0)
		return fail(a, "cannot open the last segment");
	if (st == AUDIT_READ_TORN || (uint64_t)sst.st_size > good_end) {
		rc->torn_at = good_end;
		rc->torn_bytes = (uint64_t)sst.st_size - good_end;
		if (hash_tail(a, a->segfd, good_end, rc->torn_sha) != 0)
			goto hash_fail;
	}
	a->seg_size = good_end;
	rc->unsigned_from = a->have_head ? a->head_size : 0;
	/* The index of the segment now active goes stale with the next append. */
	char idx[32];
	audit_idx_name(a->seg_seq, idx, sizeof idx);
	unlinkat(a->dirfd, idx, 0);
	return 0;
hash_fail:
	audit_reader_close(&r);
	errno = EIO;
	return fail(a, "SHA-256");
}

/* Writes the repair record (what recovery cut and what a crash left unsigned). */
static int record_repair(struct audit *a, const struct recovery *rc)
{
	char buf[1024], t[40], name[32], sha[65];
	struct jsonw w;
	jw_init(&w, buf, sizeof buf);
	jw_obj_open(&w);
	jw_key(&w, "type");
	jw_cstr(&w, "audit_repair");
	jw_key(&w, "ts");
	audit_format_time(now_us(a), t, sizeof t);
	jw_cstr(&w, t);
	if (rc->torn_bytes) {
		audit_seg_name(a->seg_seq, name, sizeof name);
		audit_hex(rc->torn_sha, MERKLE_HASH, sha);
		jw_key(&w, "torn_tail");
		jw_obj_open(&w);
		jw_key(&w, "segment");
		jw_cstr(&w, name);
		jw_key(&w, "offset");
		jw_u64(&w, rc->torn_at);
		jw_key(&w, "bytes");
		jw_u64(&w, rc->torn_bytes);
		jw_key(&w, "sha256");
		jw_cstr(&w, sha);
		jw_obj_close(&w);
	}
	if (rc->header_cut) {
		audit_seg_name(rc->header_cut_seq, name, sizeof name);
		jw_key(&w, "removed_empty_segment");
		jw_cstr(&w, name);
	}
	if (rc->heads_cut) {
		jw_key(&w, "heads_bytes_cut");
		jw_u64(&w, rc->heads_cut);
	}
	jw_key(&w, "unsigned_records");
	jw_arr_open(&w);
	jw_u64(&w, rc->unsigned_from);
	jw_u64(&w, a->fr.size);
	jw_arr_close(&w);
	jw_key(&w, "records");
	jw_u64(&w, a->fr.size);
	jw_obj_close(&w);
	if (w.overflow) {
		errno = EOVERFLOW;
		return fail(a, "repair record");
	}
	return append_internal(a, buf, w.len, AUDIT_HEAD_REPAIR);
}

static int apply_repair(struct audit *a, const struct recovery *rc)
{
	if (rc->torn_bytes) {
		if (ftruncate(a->segfd, (off_t)rc->torn_at) != 0 || fsync(a->segfd) != 0)
			return fail(a, "cannot cut the torn tail");
		a->st.repaired_bytes = rc->torn_bytes;
	}
	if (rc->heads_cut) {
		struct stat st;
		if (fstat(a->headsfd, &st) != 0 ||
		    ftruncate(a->headsfd, st.st_size - (off_t)rc->heads_cut) != 0)
			return fail(a, "cannot cut a torn head");
	}
	return record_repair(a, rc);
}

static int open_key(struct audit *a, bool empty, int *status)
{
	char e[512];
	struct audit_key *pub = NULL;
	int fd = openat(a->dirfd, AUDIT_PUB_FILE, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		pub = audit_key_load_public_at(a->dirfd, AUDIT_PUB_FILE, e, sizeof e);
		if (!pub) {
			*status = 1;
			audit_msg(a->err, sizeof a->err, "%s/%s", a->dir, e);
			return -1;
		}
	}
	if (a->o.key_path) {
		a->key = audit_key_load_private(a->o.key_path, status, e, sizeof e);
		if (!a->key) {
			audit_key_free(pub);
			audit_msg(a->err, sizeof a->err, "%s", e);
			return -1;
		}
	}
	*status = 2;
	if (pub && !a->key) {
		audit_key_free(pub);
		audit_msg(a->err, sizeof a->err,
			  "%s: the log is signed (%s/" AUDIT_PUB_FILE "): give its private key "
			  "(--audit-key)",
			  a->dir, a->dir);
		return -1;
	}
	if (pub && !audit_key_same(pub, a->key)) {
		audit_key_free(pub);
		audit_msg(a->err, sizeof a->err,
			  "%s: does not match the key this log is signed with (%s/" AUDIT_PUB_FILE
			  ")",
			  a->o.key_path, a->dir);
		return -1;
	}
	audit_key_free(pub);
	if (a->key && !pub) {
		if (!empty) {
			audit_msg(a->err, sizeof a->err,
				  "%s: holds a log without " AUDIT_PUB_FILE ": an unsigned log cannot "
				  "be signed from the middle (start a new directory)",
				  a->dir);
			return -1;
		}
		if (audit_key_write_public_at(a->key, a->dirfd, AUDIT_PUB_FILE, e, sizeof e) != 0) {
			*status = 1;
			audit_msg(a->err, sizeof a->err, "%s/%s", a->dir, e);
			return -1;
		}
	}
	return 0;
}

static void free_handle(struct audit *a)
{
	if (a->segfd >= 0)
		close(a->segfd);
	if (a->headsfd >= 0)
		close(a->headsfd);
	if (a->lockfd >= 0)
		close(a->lockfd);
	if (a->dirfd >= 0)
		close(a->dirfd);
	audit_key_free(a->key);
	merkle_hasher_free(a->hasher);
	audit_segstat_free(&a->stat);
	free(a->buf);
	free(a->dir);
	free(a);
}

struct audit *audit_open(const struct audit_options *o, int *status, char *err, size_t errlen)
{
	int dummy;
	if (!status)
		status = &dummy;
	*status = 2;
	if (!o->dir || !*o->dir) {
		audit_msg(err, errlen, "audit: no directory given");
		return NULL;
	}
	struct audit *a = calloc(1, sizeof *a);
	if (!a) {
		*status = 1;
		audit_msg(err, errlen, "%s: out of memory", o->dir);
		return NULL;
	}
	a->o = *o;
	a->dirfd = a->lockfd = a->segfd = a->headsfd = -1;
	if (a->o.segment_bytes == 0)
		a->o.segment_bytes = DEFAULT_SEGMENT;
	if (a->o.segment_bytes < MIN_SEGMENT)
		a->o.segment_bytes = MIN_SEGMENT;
	if (a->o.buffer_bytes < 4096)
		a->o.buffer_bytes = DEFAULT_BUFFER;
	a->dir = strdup(o->dir);
	a->buf_cap = a->o.buffer_bytes;
	a->buf = malloc(a->buf_cap);
	a->hasher = merkle_hasher_new();
	struct audit_seglist segs = {0};
	if (!a->dir || !a->buf || !a->hasher ||
	    audit_segstat_init(&a->stat, audit_bloom_log2_for(a->o.segment_bytes)) != 0) {
		*status = 1;
		audit_msg(err, errlen, "%s: out of memory", o->dir);
		free_handle(a);
		return NULL;
	}
	*status = 1;
	if (mkdir(a->dir, 0750) != 0 && errno != EEXIST) {
		audit_msg(err, errlen, "%s: cannot create: %s", a->dir, strerror(errno));
		free_handle(a);
		return NULL;
	}
	a->dirfd = open(a->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (a->dirfd < 0) {
		audit_msg(err, errlen, "%s: cannot open: %s", a->dir, strerror(errno));
		free_handle(a);
		return NULL;
	}
	a->lockfd = openat(a->dirfd, AUDIT_LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	/* A reader (verify) may hold it shared for an instant: try for 100 ms. */
	int locked = -1;
	for (int i = 0; a->lockfd >= 0 && i < 20; i++) {
		if ((locked = flock(a->lockfd, LOCK_EX | LOCK_NB)) == 0 || errno != EWOULDBLOCK)
			break;
		usleep(5000);
	}
	if (a->lockfd < 0 || locked != 0) {
		audit_msg(err, errlen, "%s: %s", a->dir,
			  a->lockfd >= 0 && errno == EWOULDBLOCK
				  ? "in use by another writer (its lock file is held)"
				  : strerror(errno));
		free_handle(a);
		return NULL;
	}
	if (audit_seglist_read(a->dirfd, &segs) != 0) {
		audit_msg(err, errlen, "%s: cannot list: %s", a->dir, strerror(errno));
		free_handle(a);
		return NULL;
	}
	struct stat hst;
	bool heads_exist = fstatat(a->dirfd, AUDIT_HEADS_FILE, &hst, 0) == 0 && hst.st_size > 0;
	if (open_key(a, segs.n == 0 && !heads_exist, status) != 0)
		goto fail;
	*status = 1;
	a->headsfd = openat(a->dirfd, AUDIT_HEADS_FILE,
			    O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (a->headsfd < 0) {
		fail(a, "cannot open " AUDIT_HEADS_FILE);
		goto fail;
	}
	struct recovery rc = {0};
	struct audit_head last;
	merkle_frontier_init(&a->fr);
	if (read_last_head(a, &rc, &last, status) != 0)
		goto fail;
	if (segs.n == 0) {
		if (a->have_head) {
			audit_msg(a->err, sizeof a->err,
				  "%s: no segment, but signed heads: the log's files were removed",
				  a->dir);
			goto fail;
		}
		if (new_segment(a, 0) != 0)
			goto fail;
	} else if (recover_last(a, &segs, &rc, &last, status) != 0) {
		goto fail;
	}
	a->head_us = a->sync_us = a->flush_us = now_us(a);
	bool damaged = rc.torn_bytes || rc.heads_cut || rc.header_cut;
	bool unsigned_tail = rc.unsigned_from < a->fr.size;
	if (damaged || unsigned_tail) {
		if (!a->o.repair) {
			*status = 1;
			audit_msg(a->err, sizeof a->err,
				  rc.torn_bytes
					  ? "%s: torn tail (a record cut by a crash): run `tapir audit "
					    "repair %s`"
					  : "%s: records left unsigned by a crash: run `tapir audit "
					    "repair %s`",
				  a->dir, a->dir);
			goto fail;
		}
		if (apply_repair(a, &rc) != 0)
			goto fail;
	}
	audit_seglist_free(&segs);
	*status = 0;
	return a;
fail:
	audit_seglist_free(&segs);
	audit_msg(err, errlen, "%s", a->err);
	free_handle(a);
	return NULL;
}

int audit_close(struct audit *a, char *err, size_t errlen)
{
	if (!a)
		return 0;
	int rc = 0;
	if (!a->failed) {
		if (flush(a) != 0 || write_index(a) != 0 ||
		    ((!a->have_head || a->head_size != a->fr.size) &&
		     sign_head(a, AUDIT_HEAD_CLOSE) != 0) ||
		    (a->o.fsync != AUDIT_FSYNC_NEVER && (sync_data(a) != 0 || sync_dir(a) != 0)))
			rc = -1;
	} else {
		rc = -1;
	}
	if (rc != 0)
		audit_msg(err, errlen, "%s", a->err);
	free_handle(a);
	return rc;
}

/* ---- retention ---- */

struct removed {
	uint64_t seq, first, records, bytes, min_ts, max_ts;
	uint8_t sha[MERKLE_HASH], root[MERKLE_HASH];
};

/*
 * Checks segment seq against the tree (records numbered in order, checksums,
 * and its records carried from its header's state to the next header's) and
 * fills what the retention record says about it.
 */
static int check_removed(struct audit *a, uint64_t seq, struct removed *out)
{
	char name[32], next[32];
	audit_seg_name(seq, name, sizeof name);
	audit_seg_name(seq + 1, next, sizeof next);
	struct audit_reader r, n;
	struct merkle_frontier f;
	int hs = audit_reader_open(&r, a->dirfd, name);
	if (hs != AUDIT_HDR_OK || r.hdr.seq != seq) {
		if (hs >= 0)
			audit_reader_close(&r);
		audit_msg(a->err, sizeof a->err, "%s/%s: cannot read its header: run `tapir audit verify`",
			  a->dir, name);
		return -1;
	}
	int hn = audit_reader_open(&n, a->dirfd, next);
	if (hn >= 0)
		audit_reader_close(&n);
	if (hn != AUDIT_HDR_OK || n.hdr.seq != seq + 1 ||
	    merkle_frontier_load(&f, r.hdr.first, &r.hdr.frontier[0][0], r.hdr.nfrontier) != 0) {
		audit_reader_close(&r);
		audit_msg(a->err, sizeof a->err,
			  "%s/%s: the segment after it is missing or damaged: run `tapir audit verify`",
			  a->dir, next);
		return -1;
	}
	memset(out, 0, sizeof *out);
	out->seq = seq;
	out->first = r.hdr.first;
	out->min_ts = UINT64_MAX;
	struct audit_rec rec;
	enum audit_read st;
	while ((st = audit_reader_next(&r, &rec)) == AUDIT_READ_OK) {
		uint8_t leaf[MERKLE_HASH];
		if (rec.number != f.size || audit_rec_leaf(a->hasher, &rec, leaf) != 0 ||
		    merkle_frontier_add(&f, a->hasher, leaf) != 0)
			break;
		out->records++;
		if (rec.ts_us < out->min_ts)
			out->min_ts = rec.ts_us;
		if (rec.ts_us > out->max_ts)
			out->max_ts = rec.ts_us;
	}
	out->bytes = r.next;
	audit_reader_close(&r);
	if (st != AUDIT_READ_END || f.size != n.hdr.first || f.n != n.hdr.nfrontier ||
	    memcmp(f.node, n.hdr.frontier, (size_t)f.n * MERKLE_HASH) != 0) {
		audit_msg(a->err, sizeof a->err,
			  "%s/%s: does not check against the tree (record %llu): not removed; run "
			  "`tapir audit verify`",
			  a->dir, name, (unsigned long long)f.size);
		return -1;
	}
	if (out->records == 0)
		out->min_ts = 0;
	int fd = openat(a->dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || hash_tail(a, fd, 0, out->sha) != 0 ||
	    merkle_frontier_root(&f, a->hasher, out->root) != 0) {
		if (fd >= 0)
			close(fd);
		return fail(a, "cannot hash a segment");
	}
	close(fd);
	return 0;
}

/* Packet-time range of a closed segment: from its index, else by scanning. */
static int segment_max_ts(struct audit *a, uint64_t seq, uint64_t *max_ts, uint64_t *count)
{
	struct audit_index ix;
	char name[32];
	audit_seg_name(seq, name, sizeof name);
	struct stat st;
	if (audit_index_read(a->dirfd, seq, &ix) == 0) {
		bool ok = fstatat(a->dirfd, name, &st, 0) == 0 && (uint64_t)st.st_size == ix.covered;
		*max_ts = ix.max_ts;
		*count = ix.count;
		audit_index_free(&ix);
		if (ok)
			return 0;
	}
	struct audit_reader r;
	if (audit_reader_open(&r, a->dirfd, name) != AUDIT_HDR_OK)
		return -1;
	struct audit_rec rec;
	*max_ts = 0;
	*count = 0;
	while (audit_reader_next(&r, &rec) == AUDIT_READ_OK) {
		(*count)++;
		if (rec.ts_us > *max_ts)
			*max_ts = rec.ts_us;
	}
	audit_reader_close(&r);
	return 0;
}

static int write_retention(struct audit *a, const char *policy, const struct removed *rm,
			   size_t n, size_t part, size_t parts)
{
	size_t cap = 1024 + n * 512;
	char *buf = malloc(cap), t[40], name[32], hex[65];
	if (!buf) {
		errno = ENOMEM;
		return fail(a, "retention record");
	}
	struct jsonw w;
	jw_init(&w, buf, cap);
	jw_obj_open(&w);
	jw_key(&w, "type");
	jw_cstr(&w, "audit_retention");
	jw_key(&w, "ts");
	audit_format_time(now_us(a), t, sizeof t);
	jw_cstr(&w, t);
	jw_key(&w, "policy");
	jw_cstr(&w, policy);
	if (parts > 1) {
		jw_key(&w, "part");
		jw_u64(&w, part + 1);
		jw_key(&w, "parts");
		jw_u64(&w, parts);
	}
	jw_key(&w, "removed");
	jw_arr_open(&w);
	for (size_t i = 0; i < n; i++) {
		jw_obj_open(&w);
		jw_key(&w, "segment");
		audit_seg_name(rm[i].seq, name, sizeof name);
		jw_cstr(&w, name);
		jw_key(&w, "seq");
		jw_u64(&w, rm[i].seq);
		jw_key(&w, "first_record");
		jw_u64(&w, rm[i].first);
		jw_key(&w, "records");
		jw_u64(&w, rm[i].records);
		jw_key(&w, "bytes");
		jw_u64(&w, rm[i].bytes);
		jw_key(&w, "sha256");
		audit_hex(rm[i].sha, MERKLE_HASH, hex);
		jw_cstr(&w, hex);
		jw_key(&w, "min_ts");
		audit_format_time(rm[i].min_ts, t, sizeof t);
		jw_cstr(&w, t);
		jw_key(&w, "max_ts");
		audit_format_time(rm[i].max_ts, t, sizeof t);
		jw_cstr(&w, t);
		jw_key(&w, "tree_size");
		jw_u64(&w, rm[i].first + rm[i].records);
		jw_key(&w, "root_hash");
		audit_hex(rm[i].root, MERKLE_HASH, hex);
		jw_cstr(&w, hex);
		jw_obj_close(&w);
	}
	jw_arr_close(&w);
	if (part + 1 == parts && n > 0) {
		jw_key(&w, "log_starts_at");
		jw_obj_open(&w);
		jw_key(&w, "segment");
		audit_seg_name(rm[n - 1].seq + 1, name, sizeof name);
		jw_cstr(&w, name);
		jw_key(&w, "record");
		jw_u64(&w, rm[n - 1].first + rm[n - 1].records);
		jw_obj_close(&w);
	}
	jw_obj_close(&w);
	int rc = w.overflow ? (errno = EOVERFLOW, fail(a, "retention record"))
			    : append_internal(a, buf, w.len, AUDIT_HEAD_RETENTION);
	free(buf);
	return rc;
}

int audit_retain(struct audit *a, uint64_t before_us, uint64_t keep, uint64_t *removed)
{
	*removed = 0;
	if (a->failed)
		return -1;
	struct audit_seglist segs;
	if (audit_seglist_read(a->dirfd, &segs) != 0)
		return fail(a, "cannot list");
	/* Candidates: the closed segments, oldest first, up to the first gap. */
	size_t cand = 0;
	while (cand < segs.n && segs.seq[cand] < a->seg_seq &&
	       (cand == 0 || segs.seq[cand] == segs.seq[cand - 1] + 1))
		cand++;
	if (cand < segs.n && segs.seq[cand] < a->seg_seq) {
		audit_msg(a->err, sizeof a->err,
			  "%s: a segment is missing after seg-%012llu: run `tapir audit verify`",
			  a->dir, (unsigned long long)segs.seq[cand - 1]);
		audit_seglist_free(&segs);
		return -1;
	}
	size_t n = 0;
	if (keep > 0) {
		uint64_t total = cand + 1; /* with the active one */
		n = total > keep ? (size_t)(total - keep) : 0;
		if (n > cand)
			n = cand;
	} else {
		for (; n < cand; n++) {
			uint64_t max_ts, count;
			if (segment_max_ts(a, segs.seq[n], &max_ts, &count) != 0)
				break;
			if (count > 0 && max_ts >= before_us)
				break;
		}
	}
	struct removed *rm = n ? calloc(n, sizeof *rm) : NULL;
	int rc = 0;
	if (n && !rm) {
		errno = ENOMEM;
		rc = fail(a, "retention");
	}
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = check_removed(a, segs.seq[i], &rm[i]);
	char policy[64], t[40];
	if (keep > 0) {
		snprintf(policy, sizeof policy, "keep %llu", (unsigned long long)keep);
	} else {
		audit_format_time(before_us, t, sizeof t);
		snprintf(policy, sizeof policy, "before %s", t);
	}
	size_t parts = (n + RETAIN_PER_RECORD - 1) / RETAIN_PER_RECORD;
	for (size_t p = 0; rc == 0 && p < parts; p++) {
		size_t from = p * RETAIN_PER_RECORD;
		size_t cnt = n - from < RETAIN_PER_RECORD ? n - from : RETAIN_PER_RECORD;
		rc = write_retention(a, policy, rm + from, cnt, p, parts);
	}
	/* The records naming them are on disk and signed before anything is removed. */
	if (rc == 0 && n > 0) {
		enum audit_fsync saved = a->o.fsync;
		a->o.fsync = AUDIT_FSYNC_ALWAYS;
		rc = sync_data(a);
		a->o.fsync = saved;
	}
	for (size_t i = 0; rc == 0 && i < n; i++) {
		char name[32];
		audit_idx_name(segs.seq[i], name, sizeof name);
		unlinkat(a->dirfd, name, 0);
		audit_seg_name(segs.seq[i], name, sizeof name);
		if (unlinkat(a->dirfd, name, 0) != 0)
			rc = fail(a, "cannot remove a segment");
		else
			(*removed)++;
	}
	if (rc == 0 && n > 0 && fsync(a->dirfd) != 0)
		rc = fail(a, "fsync of the directory");
	free(rm);
	audit_seglist_free(&segs);
	return rc;
}
