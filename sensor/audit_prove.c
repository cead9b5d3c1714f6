/*
 * audit_prove.c - `tapir audit prove` and `tapir audit check-proof`: RFC 9162
 * inclusion proofs (2.1.3: record N is in the tree of size S) and consistency
 * proofs (2.1.4: the tree of size M is a prefix of the tree of size S), made
 * from the log and checked by anyone with the proof (and the public key).
 *
 * A proof is a list of subtree hashes MTH(D[a:b]); audit_merkle.c says which
 * ranges, and they are all computed in one pass over the records. After
 * retention the oldest leaves are gone, but the first segment's header holds
 * the roots of the perfect subtrees that tiled them; they stand in for those
 * leaves, which is enough for any proof about records still present.
 *
 * Proof JSON (one object):
 *   {"type":"inclusion_proof","record":N,"tree_size":S,"leaf_hash":H,
 *    "root_hash":R,"path":[H...],"entry":HEX,"json":TEXT,"sth":{head}}
 *   {"type":"consistency_proof","first":M,"second":S,"first_root":R1,
 *    "second_root":R2,"path":[H...],"first_sth":{head},"second_sth":{head}}
 * entry is the record as hashed (the leaf data); sth the signed head of that
 * tree size when the log has one.
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

#include "jsonw.h"

#define MAX_CALCS (MERKLE_PROOF_MAX + 4)

struct heads {
	struct audit_head *h;
	size_t n;
};

static int read_heads(int dirfd, struct heads *hs)
{
	hs->h = NULL;
	hs->n = 0;
	int fd = openat(dirfd, AUDIT_HEADS_FILE, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	struct stat st;
	if (fstat(fd, &st) != 0) {
		close(fd);
		return -1;
	}
	size_t n = (size_t)st.st_size / AUDIT_HEAD_SIZE;
	hs->h = calloc(n + 1, sizeof *hs->h);
	if (!hs->h) {
		close(fd);
		return -1;
	}
	uint8_t b[AUDIT_HEAD_SIZE];
	for (size_t i = 0; i < n; i++)
		if (pread(fd, b, sizeof b, (off_t)(i * AUDIT_HEAD_SIZE)) == AUDIT_HEAD_SIZE &&
		    audit_head_decode(b, &hs->h[hs->n]) == 0)
			hs->n++;
	close(fd);
	return 0;
}

/* The last head of exactly this size, or NULL. */
static const struct audit_head *head_of_size(const struct heads *hs, uint64_t size)
{
	for (size_t i = hs->n; i-- > 0;)
		if (hs->h[i].size == size)
			return &hs->h[i];
	return NULL;
}

struct prover {
	int dirfd;
	const char *dir;
	struct merkle_hasher *h;
	struct merkle_calc *calc;
	size_t ncalc;
	uint64_t stop;    /* leaves needed: [0, stop) */
	uint64_t want;    /* record whose entry to keep (UINT64_MAX: none) */
	uint8_t *entry;
	uint32_t entry_len;
	uint64_t start;   /* first record present */
	char *err;
	size_t errlen;
};

static int offer_all(struct prover *p, uint64_t pos, unsigned level, const uint8_t hash[32])
{
	for (size_t i = 0; i < p->ncalc; i++)
		if (merkle_calc_offer(&p->calc[i], p->h, pos, level, hash) != 0)
			return -1;
	return 0;
}

/* One pass over the log feeding every range computation. Returns the exit status. */
static int stream(struct prover *p)
{
	struct audit_seglist l;
	if (audit_seglist_read(p->dirfd, &l) != 0 || l.n == 0) {
		audit_msg(p->err, p->errlen, "%s: no audit log here", p->dir);
		audit_seglist_free(&l);
		return 2;
	}
	int rc = 0;
	uint64_t next = 0;
	for (size_t i = 0; rc == 0 && i < l.n && next < p->stop; i++) {
		char name[32];
		audit_seg_name(l.seq[i], name, sizeof name);
		struct audit_reader r;
		int hs = audit_reader_open(&r, p->dirfd, name);
		if (hs != AUDIT_HDR_OK || r.hdr.seq != l.seq[i] ||
		    (i > 0 && (l.seq[i] != l.seq[i - 1] + 1 || r.hdr.first != next))) {
			if (hs >= 0)
				audit_reader_close(&r);
			audit_msg(p->err, p->errlen, "%s/%s: does not continue the log: run `tapir audit verify`",
				  p->dir, name);
			rc = 1;
			break;
		}
		if (i == 0) {
			/* The subtrees that stand for leaves retention removed. */
			struct merkle_frontier f;
			if (merkle_frontier_load(&f, r.hdr.first, &r.hdr.frontier[0][0],
						 r.hdr.nfrontier) != 0) {
				audit_reader_close(&r);
				audit_msg(p->err, p->errlen, "%s/%s: damaged header", p->dir, name);
				rc = 1;
				break;
			}
			for (unsigned k = 0; k < f.n; k++) {
				uint64_t pos;
				unsigned level;
				merkle_frontier_node_span(&f, k, &pos, &level);
				(void)!offer_all(p, pos, level, f.node[k]);
			}
			p->start = next = r.hdr.first;
		}
		struct audit_rec rec;
		enum audit_read rs = AUDIT_READ_END;
		while (next < p->stop && (rs = audit_reader_next(&r, &rec)) == AUDIT_READ_OK) {
			uint8_t leaf[MERKLE_HASH];
			if (rec.number != next || audit_rec_leaf(p->h, &rec, leaf) != 0) {
				rs = AUDIT_READ_BAD_BODY;
				break;
			}
			(void)!offer_all(p, next, 0, leaf);
			if (next == p->want) {
				p->entry = malloc(rec.len);
				if (p->entry) {
					memcpy(p->entry, rec.body, rec.len);
					p->entry_len = rec.len;
				}
			}
			next++;
		}
		if (next < p->stop && rs != AUDIT_READ_END && !(rs == AUDIT_READ_TORN && i + 1 == l.n)) {
			audit_msg(p->err, p->errlen,
				  "%s/%s: record %llu cannot be read: run `tapir audit verify`", p->dir,
				  name, (unsigned long long)next);
			rc = 1;
		}
		audit_reader_close(&r);
	}
	if (rc == 0 && next < p->stop) {
		audit_msg(p->err, p->errlen, "%s: the log holds %llu records, fewer than %llu", p->dir,
			  (unsigned long long)next, (unsigned long long)p->stop);
		rc = 1;
	}
	audit_seglist_free(&l);
	return rc;
}

static void put_hash(struct jsonw *w, const char *key, const uint8_t h[32])
{
	char hex[65];
	audit_hex(h, 32, hex);
	if (key)
		jw_key(w, key);
	jw_cstr(w, hex);
}

static void put_head(struct jsonw *w, const char *key, const struct audit_head *h)
{
	char j[512];
	size_t n = audit_head_json(h, j, sizeof j);
	if (!n)
		return;
	jw_key(w, key);
	jw_raw(w, j, n);
	w->need_comma = true;
}

int audit_prove(const char *dir, bool inclusion, uint64_t n, uint64_t size, FILE *out, char *err,
		size_t errlen)
{
	struct prover p = {.dir = dir, .err = err, .errlen = errlen, .want = UINT64_MAX};
	struct heads hs = {0};
	int rc = 1;
	char *buf = NULL;
	p.dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (p.dirfd < 0) {
		audit_msg(err, errlen, "%s: cannot open: %s", dir, strerror(errno));
		return 2;
	}
	p.h = merkle_hasher_new();
	p.calc = calloc(MAX_CALCS, sizeof *p.calc);
	if (!p.h || !p.calc || read_heads(p.dirfd, &hs) != 0) {
		audit_msg(err, errlen, "%s: cannot read the heads: %s", dir, strerror(errno));
		goto out;
	}
	if (size == 0) {
		if (hs.n == 0) {
			audit_msg(err, errlen, "%s: no signed head yet: give --size", dir);
			goto out;
		}
		size = hs.h[hs.n - 1].size;
	}
	if (inclusion && n >= size) {
		audit_msg(err, errlen,
			  "record %llu is not in the tree of size %llu (the latest head%s): try after "
			  "the next head",
			  (unsigned long long)n, (unsigned long long)size,
			  hs.n ? "" : ", none yet");
		goto out;
	}
	if (!inclusion && (n == 0 || n > size)) {
		audit_msg(err, errlen, "--from %llu: must be from 1 to the tree size %llu",
			  (unsigned long long)n, (unsigned long long)size);
		rc = 2;
		goto out;
	}
	struct merkle_range ranges[MERKLE_PROOF_MAX];
	size_t nr = inclusion ? merkle_inclusion_ranges(n, size, ranges)
			      : merkle_consistency_ranges(n, size, ranges);
	for (size_t i = 0; i < nr; i++)
		merkle_calc_init(&p.calc[p.ncalc++], ranges[i].a, ranges[i].b);
	size_t leaf_i = p.ncalc, root_i, root1_i = 0;
	if (inclusion) {
		merkle_calc_init(&p.calc[p.ncalc++], n, n + 1);
		p.want = n;
	} else {
		root1_i = p.ncalc;
		merkle_calc_init(&p.calc[p.ncalc++], 0, n);
	}
	root_i = p.ncalc;
	merkle_calc_init(&p.calc[p.ncalc++], 0, size);
	p.stop = size;
	rc = stream(&p);
	if (rc)
		goto out;
	if (inclusion && n < p.start) {
		audit_msg(err, errlen, "record %llu was removed by retention (the log starts at record %llu)",
			  (unsigned long long)n, (unsigned long long)p.start);
		rc = 1;
		goto out;
	}
	uint8_t path[MERKLE_PROOF_MAX][MERKLE_HASH], root[MERKLE_HASH], other[MERKLE_HASH];
	for (size_t i = 0; i < p.ncalc; i++) {
		if (merkle_calc_done(&p.calc[i]))
			continue;
		audit_msg(err, errlen,
			  "%s: the proof needs records before %llu, removed by retention",
			  dir, (unsigned long long)p.start);
		rc = 1;
		goto out;
	}
	rc = 1;
	for (size_t i = 0; i < nr; i++)
		if (merkle_calc_root(&p.calc[i], p.h, path[i]) != 0)
			goto out;
	if (merkle_calc_root(&p.calc[root_i], p.h, root) != 0 ||
	    merkle_calc_root(&p.calc[inclusion ? leaf_i : root1_i], p.h, other) != 0)
		goto out;
	const struct audit_head *sth = head_of_size(&hs, size);
	const struct audit_head *sth1 = inclusion ? NULL : head_of_size(&hs, n);
	if ((sth && memcmp(sth->root, root, MERKLE_HASH) != 0) ||
	    (sth1 && memcmp(sth1->root, other, MERKLE_HASH) != 0)) {
		audit_msg(err, errlen,
			  "%s: the records do not match the signed head of tree size %llu: run "
			  "`tapir audit verify`",
			  dir, (unsigned long long)(sth && memcmp(sth->root, root, 32) ? size : n));
		goto out;
	}
	size_t cap = 8192 + (size_t)MERKLE_PROOF_MAX * 70 + 8 * (size_t)p.entry_len;
	buf = malloc(cap);
	if (!buf || (inclusion && !p.entry)) {
		audit_msg(err, errlen, "out of memory");
		goto out;
	}
	struct jsonw w;
	jw_init(&w, buf, cap);
	jw_obj_open(&w);
	jw_key(&w, "type");
	if (inclusion) {
		jw_cstr(&w, "inclusion_proof");
		jw_key(&w, "record");
		jw_u64(&w, n);
		jw_key(&w, "tree_size");
		jw_u64(&w, size);
		put_hash(&w, "leaf_hash", other);
		put_hash(&w, "root_hash", root);
	} else {
		jw_cstr(&w, "consistency_proof");
		jw_key(&w, "first");
		jw_u64(&w, n);
		jw_key(&w, "second");
		jw_u64(&w, size);
		put_hash(&w, "first_root", other);
		put_hash(&w, "second_root", root);
	}
	jw_key(&w, "path");
	jw_arr_open(&w);
	for (size_t i = 0; i < nr; i++)
		put_hash(&w, NULL, path[i]);
	jw_arr_close(&w);
	if (inclusion) {
		char *hex = malloc(2 * (size_t)p.entry_len + 1);
		if (!hex) {
			audit_msg(err, errlen, "out of memory");
			goto out;
		}
		audit_hex(p.entry, p.entry_len, hex);
		jw_key(&w, "entry");
		jw_cstr(&w, hex);
		free(hex);
		struct audit_rec rec;
		if (audit_rec_decode(p.entry, p.entry_len, &rec) == 0) {
			jw_key(&w, "json");
			jw_str(&w, rec.json, rec.json_len);
		}
		if (sth)
			put_head(&w, "sth", sth);
	} else {
		if (sth1)
			put_head(&w, "first_sth", sth1);
		if (sth)
			put_head(&w, "second_sth", sth);
	}
	jw_obj_close(&w);
	if (w.overflow) {
		audit_msg(err, errlen, "proof too large");
		goto out;
	}
	fwrite(buf, 1, w.len, out);
	fputc('\n', out);
	fflush(out);
	rc = 0;
out:
	free(buf);
	free(p.entry);
	free(p.calc);
	free(hs.h);
	merkle_hasher_free(p.h);
	close(p.dirfd);
	return rc;
}

/* ---- checking ---- */

static int get_hash(json_t *o, const char *key, uint8_t out[32])
{
	json_t *v = json_object_get(o, key);
	return json_is_string(v) &&
			       audit_unhex(json_string_value(v), json_string_length(v), out, 32) == 0
		       ? 0
		       : -1;
}

static int get_u64(json_t *o, const char *key, uint64_t *out)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return -1;
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

/*
 * Checks an embedded or outside head against (size, root). Returns 0 when it
 * matches (and its signature checks, given a key), 1 otherwise.
 */
static int check_head(json_t *sth, const struct audit_head *outside, uint64_t size,
		      const uint8_t root[32], const struct audit_key *key, const char *what,
		      char *msg, size_t msglen, int *signatures)
{
	struct audit_head h;
	char e[256];
	if (outside) {
		h = *outside;
	} else {
		char *text = json_dumps(sth, JSON_COMPACT);
		if (!text)
			snprintf(e, sizeof e, "unreadable");
		int bad = !text || audit_head_parse((const uint8_t *)text, strlen(text), &h, e,
						    sizeof e) != 0;
		free(text);
		if (bad) {
			audit_msg(msg, msglen, "%s: %s", what, e);
			return 1;
		}
	}
	if (h.size != size || memcmp(h.root, root, 32) != 0) {
		audit_msg(msg, msglen, "%s (tree size %llu) does not match the proof's tree size %llu "
			  "and root",
			  what, (unsigned long long)h.size, (unsigned long long)size);
		return 1;
	}
	if (key) {
		if (!audit_head_check(&h, key)) {
			audit_msg(msg, msglen, "%s: bad signature: forged, altered, or another key",
				  what);
			return 1;
		}
		(*signatures)++;
	}
	return 0;
}

int audit_check_proof(const char *text, size_t len, const char *pubkey_path, const char *sth_path,
		      char *msg, size_t msglen)
{
	char e[512];
	struct audit_key *key = NULL;
	struct merkle_hasher *h = merkle_hasher_new();
	json_t *o = NULL;
	struct audit_head outside;
	bool have_outside = false;
	int rc = 2, sigs = 0;
	if (!h) {
		audit_msg(msg, msglen, "SHA-256 is not available");
		return 1;
	}
	if (pubkey_path && !(key = audit_key_load_public(pubkey_path, e, sizeof e))) {
		audit_msg(msg, msglen, "%s", e);
		goto out;
	}
	if (sth_path) {
		FILE *f = fopen(sth_path, "re");
		char b[4096];
		size_t n = f ? fread(b, 1, sizeof b, f) : 0;
		if (f)
			fclose(f);
		if (!f || audit_head_parse((const uint8_t *)b, n, &outside, e, sizeof e) != 0) {
			audit_msg(msg, msglen, "%s: %s", sth_path, f ? e : strerror(errno));
			goto out;
		}
		have_outside = true;
	}
	json_error_t je;
	o = json_loadb(text, len, JSON_DISABLE_EOF_CHECK, &je);
	json_t *type = json_object_get(o, "type"), *path = json_object_get(o, "path");
	if (!json_is_string(type) || !json_is_array(path) ||
	    json_array_size(path) >= MERKLE_PROOF_MAX) {
		audit_msg(msg, msglen, "not a proof (%s)", o ? "no type or path" : je.text);
		goto out;
	}
	uint8_t hashes[MERKLE_PROOF_MAX][32];
	size_t np = json_array_size(path);
	for (size_t i = 0; i < np; i++) {
		json_t *v = json_array_get(path, i);
		if (!json_is_string(v) ||
		    audit_unhex(json_string_value(v), json_string_length(v), hashes[i], 32) != 0) {
			audit_msg(msg, msglen, "path[%zu] is not a 32-byte hex hash", i);
			goto out;
		}
	}
	rc = 1;
	if (strcmp(json_string_value(type), "inclusion_proof") == 0) {
		uint64_t rec, size;
		uint8_t leaf[32], root[32];
		if (get_u64(o, "record", &rec) || get_u64(o, "tree_size", &size) ||
		    get_hash(o, "leaf_hash", leaf) || get_hash(o, "root_hash", root)) {
			rc = 2;
			audit_msg(msg, msglen, "an inclusion proof needs record, tree_size, leaf_hash, root_hash");
			goto out;
		}
		json_t *entry = json_object_get(o, "entry");
		if (json_is_string(entry)) {
			size_t hl = json_string_length(entry);
			uint8_t *b = malloc(hl / 2 + 1), lh[32];
			struct audit_rec r;
			bool ok = b && hl % 2 == 0 &&
				  audit_unhex(json_string_value(entry), hl, b, hl / 2) == 0 &&
				  merkle_leaf(h, b, hl / 2, lh) == 0 && memcmp(lh, leaf, 32) == 0 &&
				  audit_rec_decode(b, (uint32_t)(hl / 2), &r) == 0 && r.number == rec;
			json_t *js = json_object_get(o, "json");
			if (ok && json_is_string(js))
				ok = json_string_length(js) == r.json_len &&
				     memcmp(json_string_value(js), r.json, r.json_len) == 0;
			free(b);
			if (!ok) {
				audit_msg(msg, msglen,
					  "the entry (or its JSON) does not hash to leaf_hash or is not "
					  "record %llu",
					  (unsigned long long)rec);
				goto out;
			}
		}
		if (!merkle_verify_inclusion(h, rec, size, leaf, (const uint8_t(*)[32])hashes, np,
					     root)) {
			audit_msg(msg, msglen,
				  "inclusion proof fails: record %llu is not shown to be in the tree of "
				  "size %llu",
				  (unsigned long long)rec, (unsigned long long)size);
			goto out;
		}
		json_t *sth = json_object_get(o, "sth");
		if (json_is_object(sth) && check_head(sth, NULL, size, root, key, "the proof's head",
						      msg, msglen, &sigs) != 0)
			goto out;
		if (have_outside && check_head(NULL, &outside, size, root, key, sth_path, msg,
					       msglen, &sigs) != 0)
			goto out;
		char hex[65];
		audit_hex(root, 32, hex);
		audit_msg(msg, msglen, "ok: record %llu is in the tree of size %llu (root %s)%s",
			  (unsigned long long)rec, (unsigned long long)size, hex,
			  sigs ? ", whose signed head checks"
			       : (json_is_object(sth) || have_outside)
					 ? "; the head's signature was not checked (give --pubkey)"
					 : "; no signed head in the proof");
		rc = 0;
	} else if (strcmp(json_string_value(type), "consistency_proof") == 0) {
		uint64_t m, n;
		uint8_t r1[32], r2[32];
		if (get_u64(o, "first", &m) || get_u64(o, "second", &n) ||
		    get_hash(o, "first_root", r1) || get_hash(o, "second_root", r2)) {
			rc = 2;
			audit_msg(msg, msglen,
				  "a consistency proof needs first, second, first_root, second_root");
			goto out;
		}
		if (!merkle_verify_consistency(h, m, n, r1, r2, (const uint8_t(*)[32])hashes, np)) {
			audit_msg(msg, msglen,
				  "consistency proof fails: the tree of size %llu is not shown to be a "
				  "prefix of the tree of size %llu",
				  (unsigned long long)m, (unsigned long long)n);
			goto out;
		}
		json_t *s1 = json_object_get(o, "first_sth"), *s2 = json_object_get(o, "second_sth");
		if (json_is_object(s1) &&
		    check_head(s1, NULL, m, r1, key, "first_sth", msg, msglen, &sigs) != 0)
			goto out;
		if (json_is_object(s2) &&
		    check_head(s2, NULL, n, r2, key, "second_sth", msg, msglen, &sigs) != 0)
			goto out;
		if (have_outside) {
			bool first = outside.size == m;
			if (check_head(NULL, &outside, first ? m : n, first ? r1 : r2, key, sth_path,
				       msg, msglen, &sigs) != 0)
				goto out;
		}
		audit_msg(msg, msglen, "ok: the tree of size %llu is a prefix of the tree of size %llu%s",
			  (unsigned long long)m, (unsigned long long)n,
			  sigs ? "; the signed heads check"
			       : (json_is_object(s1) || json_is_object(s2) || have_outside)
					 ? "; the heads' signatures were not checked (give --pubkey)"
					 : "");
		rc = 0;
	} else {
		rc = 2;
		audit_msg(msg, msglen, "unknown proof type \"%s\"", json_string_value(type));
	}
out:
	json_decref(o);
	audit_key_free(key);
	merkle_hasher_free(h);
	return rc;
}
