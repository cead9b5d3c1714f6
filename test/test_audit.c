/*
 * test_audit.c - the audit log (sensor/audit*.c): Merkle trees against the
 * RFC 6962/9162 reference vectors and a brute-force reference, append /
 * reopen / verify, one tamper test per attack (each proving verify fails and
 * names the place), a torn tail and its repair, a writer killed with SIGKILL,
 * search against a brute-force scan for every filter on a log of many small
 * segments, retention, proofs, keys.
 *
 * Also a driver for test/audit.sh while `tapir audit` is not wired:
 *   test_audit audit SUBCOMMAND ...     = tapir audit SUBCOMMAND ...
 *   test_audit write DIR N [KEY|-] [SEGMENT_BYTES] [BUFFER_BYTES] [PAD]
 *                                       append N generated records (0 = until killed);
 *                                       with BUFFER_BYTES, writes happen only when it fills
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <ftw.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "../sensor/audit.h"
#include "../sensor/audit_int.h"
#include "../sensor/audit_merkle.h"
#include "unit.h"

/* ---------------------------------------------------------------- helpers */

static char tmproot[256];

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(p);
}

static void rm_rf(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void tmpdir(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", tmproot, name);
	rm_rf(out);
}

static void copy_file(const char *from, const char *to)
{
	FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
	char buf[65536];
	size_t n;
	while (a && b && (n = fread(buf, 1, sizeof buf, a)) > 0)
		fwrite(buf, 1, n, b);
	if (a)
		fclose(a);
	if (b)
		fclose(b);
	struct stat st;
	if (stat(from, &st) == 0)
		chmod(to, st.st_mode & 0777);
}

static void copy_dir(const char *from, const char *to)
{
	rm_rf(to);
	mkdir(to, 0750);
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "cp -p %s/* %s/", from, to);
	if (system(cmd) != 0)
		fprintf(stderr, "copy_dir failed: %s\n", cmd);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	uint64_t x = rng_state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

#define T0 1795900000000000ull /* 2026-11-28T... */

static const char *const detectors[] = {"enumeration", "new_origin", "offhours_sensitive",
					"volume_spike", "token_misuse"};

/* One generated record: fields and its JSON line (the brute force reads only the JSON). */
struct gen {
	enum audit_type type;
	uint64_t ts;
	char identity[48];
	bool has_id;
	uint8_t ip[16];
	char path[96];
	const char *detector;
	char json[2048];
	size_t len;
};

static void gen_record(uint64_t i, size_t pad, struct gen *g)
{
	memset(g, 0, sizeof *g);
	g->type = rnd() % 7 == 0 ? AUDIT_ALERT : AUDIT_EVENT;
	g->ts = T0 + i * 1000 + rnd() % 5000;
	unsigned who = (unsigned)(rnd() % 60);
	g->has_id = who < 54;
	if (who < 50)
		snprintf(g->identity, sizeof g->identity, "user%u", who);
	else if (g->has_id)
		snprintf(g->identity, sizeof g->identity, "sha256:%016llx",
			 (unsigned long long)(0x1582469f9613626bull + who));
	if (rnd() % 5 == 0) {
		inet_pton(AF_INET6, "2001:db8::", g->ip);
		g->ip[15] = (uint8_t)(rnd() % 20);
	} else {
		g->ip[10] = g->ip[11] = 0xff;
		g->ip[12] = 10;
		g->ip[13] = (uint8_t)(rnd() % 3);
		g->ip[14] = (uint8_t)(rnd() % 4);
		g->ip[15] = (uint8_t)(rnd() % 30);
	}
	switch (rnd() % 9) {
	case 0: snprintf(g->path, sizeof g->path, "/v1/users/%u", (unsigned)(rnd() % 500)); break;
	case 1: snprintf(g->path, sizeof g->path, "/v1/users/%u/orders", (unsigned)(rnd() % 500)); break;
	case 2: snprintf(g->path, sizeof g->path, "/v1/users/%u/orders/%u", (unsigned)(rnd() % 50), (unsigned)(rnd() % 9)); break;
	case 3: snprintf(g->path, sizeof g->path, "/admin/export"); break;
	case 4: snprintf(g->path, sizeof g->path, "/admin/users/%u/delete", (unsigned)(rnd() % 40)); break;
	case 5: snprintf(g->path, sizeof g->path, "/v2/items/%u", (unsigned)(rnd() % 1000)); break;
	case 6: snprintf(g->path, sizeof g->path, "/"); break;
	case 7: snprintf(g->path, sizeof g->path, "/health"); break;
	default: snprintf(g->path, sizeof g->path, "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s/%u", (unsigned)(rnd() % 3)); break;
	}
	if (g->type == AUDIT_ALERT)
		g->detector = detectors[rnd() % 5];
	char ip[64], t[40], id[80];
	audit_format_ip(g->ip, ip, sizeof ip);
	audit_format_time(g->ts, t, sizeof t);
	if (g->has_id)
		snprintf(id, sizeof id, "{\"kind\":\"jwt\",\"id\":\"%s\"}", g->identity);
	else
		snprintf(id, sizeof id, "{\"kind\":\"none\",\"id\":null}");
	int n;
	if (g->type == AUDIT_ALERT)
		n = snprintf(g->json, sizeof g->json,
			     "{\"type\":\"alert\",\"ts\":\"%s\",\"ts_us\":%llu,\"detector\":\"%s\","
			     "\"severity\":\"high\",\"identity\":%s,\"client_ip\":\"%s\",\"method\":"
			     "\"GET\",\"path\":\"%s\",\"audit_record\":%llu,\"pad\":\"%*s\"}",
			     t, (unsigned long long)g->ts, g->detector, id, ip, g->path,
			     (unsigned long long)i, (int)pad, "");
	else
		n = snprintf(g->json, sizeof g->json,
			     "{\"type\":\"api\",\"ts\":\"%s\",\"ts_us\":%llu,\"proto\":\"HTTP/1.1\","
			     "\"client_ip\":\"%s\",\"method\":\"GET\",\"path\":\"%s\",\"status\":200,"
			     "\"identity\":%s,\"pad\":\"%*s\"}",
			     t, (unsigned long long)g->ts, ip, g->path, id, (int)pad, "");
	g->len = (size_t)n;
}

static int append_gen(struct audit *a, uint64_t i, size_t pad)
{
	struct gen g;
	gen_record(i, pad, &g);
	uint64_t no;
	int rc = audit_append(a, g.type, g.ts, g.has_id ? g.identity : NULL, g.ip, g.path,
			      g.detector, g.json, g.len, &no);
	if (rc == 0 && no != i)
		return -1;
	return rc;
}

static struct audit *open_log(const char *dir, const char *key, uint64_t seg, uint64_t sth_every)
{
	struct audit_options o;
	audit_options_default(&o);
	o.dir = dir;
	o.key_path = key;
	o.segment_bytes = seg;
	o.sth_every = sth_every;
	o.fsync = AUDIT_FSYNC_NEVER;
	char e[512];
	int st;
	struct audit *a = audit_open(&o, &st, e, sizeof e);
	if (!a)
		fprintf(stderr, "audit_open %s: %s (%d)\n", dir, e, st);
	return a;
}

/* Writes records [from, to) to the log in dir. */
static int write_log(const char *dir, const char *key, uint64_t from, uint64_t to, uint64_t seg,
		     uint64_t sth_every)
{
	struct audit *a = open_log(dir, key, seg, sth_every);
	if (!a)
		return -1;
	int rc = 0;
	for (uint64_t i = from; i < to && rc == 0; i++)
		rc = append_gen(a, i, 0);
	char e[256];
	if (audit_close(a, e, sizeof e) != 0) {
		fprintf(stderr, "close: %s\n", e);
		rc = -1;
	}
	return rc;
}

static int verify(const char *dir, const char *pub, const char *sth, char *msg, size_t n)
{
	struct audit_verify_options o = {.dir = dir, .pubkey_path = pub, .sth_path = sth};
	char note[512];
	int rc = audit_verify(&o, msg, n, note, sizeof note);
	return rc;
}

/* File offset, length and segment of record number rec. */
struct loc {
	uint64_t seq, offset;
	uint32_t len;
};

static int locate(const char *dir, uint64_t rec, struct loc *l)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	struct audit_seglist sl;
	int found = -1;
	if (dfd < 0 || audit_seglist_read(dfd, &sl) != 0)
		return -1;
	for (size_t i = 0; i < sl.n && found; i++) {
		char name[32];
		audit_seg_name(sl.seq[i], name, sizeof name);
		struct audit_reader r;
		if (audit_reader_open(&r, dfd, name) != AUDIT_HDR_OK)
			continue;
		struct audit_rec x;
		while (audit_reader_next(&r, &x) == AUDIT_READ_OK)
			if (x.number == rec) {
				l->seq = sl.seq[i];
				l->offset = x.offset;
				l->len = x.len;
				found = 0;
				break;
			}
		audit_reader_close(&r);
	}
	audit_seglist_free(&sl);
	close(dfd);
	return found;
}

static void seg_path(const char *dir, uint64_t seq, char *out, size_t n)
{
	char name[32];
	audit_seg_name(seq, name, sizeof name);
	snprintf(out, n, "%s/%s", dir, name);
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *b = malloc((size_t)n + 1);
	if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
		free(b);
		b = NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return b;
}

static void spit(const char *path, const uint8_t *b, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (f) {
		fwrite(b, 1, len, f);
		fclose(f);
	}
}

static void fix_crc(uint8_t *rec)
{
	uint32_t len = audit_get32(rec + 4);
	audit_put32(rec, audit_crc32c(0, rec + 4, 4 + (size_t)len));
}

static bool contains(const char *s, const char *sub)
{
	if (!strstr(s, sub)) {
		fprintf(stderr, "  message \"%s\" lacks \"%s\"\n", s, sub);
		return false;
	}
	return true;
}

/* ------------------------------------------------------- Merkle: vectors */

static void unhex32(const char *s, uint8_t out[32])
{
	audit_unhex(s, strlen(s), out, 32);
}

static const char *const ct_leaves[] = {"", "00", "10", "2021", "3031", "40414243",
					"5051525354555657", "606162636465666768696a6b6c6d6e6f"};
static const char *const ct_roots[] = {
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
	"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
	"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
	"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
	"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
	"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

/* Proof hashes for ranges, computed from leaf hashes by streaming (the code under test). */
static size_t stream_proof(struct merkle_hasher *h, const uint8_t (*leaves)[32], uint64_t n,
			   const struct merkle_range *r, size_t nr, uint8_t (*out)[32],
			   const struct merkle_frontier *cut)
{
	struct merkle_calc *c = calloc(nr ? nr : 1, sizeof *c);
	for (size_t i = 0; i < nr; i++)
		merkle_calc_init(&c[i], r[i].a, r[i].b);
	uint64_t start = 0;
	if (cut) {
		for (unsigned k = 0; k < cut->n; k++) {
			uint64_t pos;
			unsigned level;
			merkle_frontier_node_span(cut, k, &pos, &level);
			for (size_t i = 0; i < nr; i++)
				(void)!merkle_calc_offer(&c[i], h, pos, level, cut->node[k]);
		}
		start = cut->size;
	}
	for (uint64_t j = start; j < n; j++)
		for (size_t i = 0; i < nr; i++)
			(void)!merkle_calc_offer(&c[i], h, j, 0, leaves[j]);
	size_t done = 0;
	for (size_t i = 0; i < nr; i++)
		if (merkle_calc_root(&c[i], h, out[i]) == 0)
			done++;
	free(c);
	return done;
}

static void test_crc32c(void)
{
	CHECK_EQ(audit_crc32c(0, "123456789", 9), 0xE3069283u);
	CHECK_EQ(audit_crc32c(0, "", 0), 0);
	/* the split does not matter */
	CHECK_EQ(audit_crc32c(audit_crc32c(0, "1234", 4), "56789", 5), 0xE3069283u);
}

static void test_rfc6962_vectors(void)
{
	struct merkle_hasher *h = merkle_hasher_new();
	uint8_t leaves[8][32], want[32], got[32];
	struct merkle_frontier f;
	merkle_frontier_init(&f);
	CHECK(merkle_frontier_root(&f, h, got) == 0);
	unhex32(ct_roots[0], want);
	CHECK(memcmp(got, want, 32) == 0);
	for (int i = 0; i < 8; i++) {
		uint8_t d[16];
		size_t n = strlen(ct_leaves[i]) / 2;
		audit_unhex(ct_leaves[i], 2 * n, d, n);
		CHECK(merkle_leaf(h, d, n, leaves[i]) == 0);
		CHECK(merkle_frontier_add(&f, h, leaves[i]) == 0);
		CHECK(merkle_frontier_root(&f, h, got) == 0);
		unhex32(ct_roots[i + 1], want);
		CHECK(memcmp(got, want, 32) == 0);
	}
	static const struct {
		uint64_t m, n;
		const char *p[3];
		bool inclusion;
	} proofs[] = {
		{0, 8, {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
			"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
			"6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}, true},
		{5, 8, {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
			"ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
			"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}, true},
		{2, 8, {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
			"6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4", NULL}, false},
		{6, 8, {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
			"ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
			"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}, false},
	};
	for (size_t k = 0; k < sizeof proofs / sizeof proofs[0]; k++) {
		struct merkle_range r[MERKLE_PROOF_MAX];
		uint8_t p[MERKLE_PROOF_MAX][32], w[3][32], root[32], root1[32];
		size_t nr = proofs[k].inclusion ? merkle_inclusion_ranges(proofs[k].m, proofs[k].n, r)
						: merkle_consistency_ranges(proofs[k].m, proofs[k].n, r);
		size_t nw = proofs[k].p[2] ? 3 : 2;
		CHECK_EQ(nr, nw);
		CHECK_EQ(stream_proof(h, (const uint8_t(*)[32])leaves, 8, r, nr, p, NULL), nr);
		for (size_t i = 0; i < nw && i < nr; i++) {
			unhex32(proofs[k].p[i], w[i]);
			CHECK(memcmp(p[i], w[i], 32) == 0);
		}
		unhex32(ct_roots[proofs[k].n], root);
		unhex32(ct_roots[proofs[k].m], root1);
		if (proofs[k].inclusion)
			CHECK(merkle_verify_inclusion(h, proofs[k].m, proofs[k].n, leaves[proofs[k].m],
						      (const uint8_t(*)[32])w, nw, root));
		else
			CHECK(merkle_verify_consistency(h, proofs[k].m, proofs[k].n, root1, root,
							(const uint8_t(*)[32])w, nw));
	}
	merkle_hasher_free(h);
}

/* ------------------------------------------- Merkle: brute-force reference */

static void ref_mth(struct merkle_hasher *h, const uint8_t (*l)[32], uint64_t a, uint64_t b,
		    uint8_t out[32])
{
	if (b == a) {
		merkle_empty_root(out);
		return;
	}
	if (b - a == 1) {
		memcpy(out, l[a], 32);
		return;
	}
	uint64_t k = 1;
	while (k * 2 < b - a)
		k *= 2;
	uint8_t x[32], y[32];
	ref_mth(h, l, a, a + k, x);
	ref_mth(h, l, a + k, b, y);
	(void)!merkle_node(h, x, y, out);
}

/* RFC 9162 2.1.3.1 PATH, literally. */
static void ref_path(struct merkle_hasher *h, const uint8_t (*l)[32], uint64_t m, uint64_t a,
		     uint64_t b, uint8_t (*out)[32], size_t *n)
{
	if (b - a <= 1)
		return;
	uint64_t k = 1;
	while (k * 2 < b - a)
		k *= 2;
	if (m < k) {
		ref_path(h, l, m, a, a + k, out, n);
		ref_mth(h, l, a + k, b, out[(*n)++]);
	} else {
		ref_path(h, l, m - k, a + k, b, out, n);
		ref_mth(h, l, a, a + k, out[(*n)++]);
	}
}

/* RFC 9162 2.1.4.1 SUBPROOF, literally. */
static void ref_sub(struct merkle_hasher *h, const uint8_t (*l)[32], uint64_t m, uint64_t a,
		    uint64_t b, bool whole, uint8_t (*out)[32], size_t *n)
{
	if (m == b - a) {
		if (!whole)
			ref_mth(h, l, a, b, out[(*n)++]);
		return;
	}
	uint64_t k = 1;
	while (k * 2 < b - a)
		k *= 2;
	if (m <= k) {
		ref_sub(h, l, m, a, a + k, whole, out, n);
		ref_mth(h, l, a + k, b, out[(*n)++]);
	} else {
		ref_sub(h, l, m - k, a + k, b, false, out, n);
		ref_mth(h, l, a, a + k, out[(*n)++]);
	}
}

#define BF_N 70

static void test_merkle_bruteforce(void)
{
	struct merkle_hasher *h = merkle_hasher_new();
	static uint8_t leaves[BF_N][32], roots[BF_N + 1][32];
	for (uint64_t i = 0; i < BF_N; i++) {
		uint8_t d[2] = {(uint8_t)i, (uint8_t)(i * 7)};
		(void)!merkle_leaf(h, d, sizeof d, leaves[i]);
	}
	struct merkle_frontier f;
	merkle_frontier_init(&f);
	for (uint64_t n = 0; n <= BF_N; n++) {
		uint8_t got[32];
		ref_mth(h, (const uint8_t(*)[32])leaves, 0, n, roots[n]);
		CHECK(merkle_frontier_root(&f, h, got) == 0 && memcmp(got, roots[n], 32) == 0);
		if (n < BF_N)
			(void)!merkle_frontier_add(&f, h, leaves[n]);
	}
	int bad_incl = 0, bad_cons = 0, accepted_mangled = 0, bad_cut = 0;
	for (uint64_t n = 1; n <= BF_N; n++) {
		for (uint64_t m = 0; m < n; m++) {
			uint8_t want[MERKLE_PROOF_MAX][32], got[MERKLE_PROOF_MAX][32];
			size_t nw = 0;
			struct merkle_range r[MERKLE_PROOF_MAX];
			ref_path(h, (const uint8_t(*)[32])leaves, m, 0, n, want, &nw);
			size_t nr = merkle_inclusion_ranges(m, n, r);
			if (nr != nw || stream_proof(h, (const uint8_t(*)[32])leaves, n, r, nr, got,
						     NULL) != nr ||
			    memcmp(got, want, nr * 32) != 0 ||
			    !merkle_verify_inclusion(h, m, n, leaves[m], (const uint8_t(*)[32])got, nr,
						     roots[n]))
				bad_incl++;
			/* Stand-ins for removed leaves: any cut at or below m gives the same proof. */
			for (uint64_t cut = 1; cut <= m; cut += 1 + cut / 3) {
				struct merkle_frontier cf;
				merkle_frontier_init(&cf);
				for (uint64_t j = 0; j < cut; j++)
					(void)!merkle_frontier_add(&cf, h, leaves[j]);
				uint8_t g2[MERKLE_PROOF_MAX][32];
				if (stream_proof(h, (const uint8_t(*)[32])leaves, n, r, nr, g2, &cf) !=
					    nr ||
				    memcmp(g2, want, nr * 32) != 0)
					bad_cut++;
			}
			/* Mangled: a flipped bit, a wrong index, a short path. */
			if (nr > 0) {
				got[nr - 1][5] ^= 1;
				accepted_mangled += merkle_verify_inclusion(
					h, m, n, leaves[m], (const uint8_t(*)[32])got, nr, roots[n]);
				got[nr - 1][5] ^= 1;
				accepted_mangled += merkle_verify_inclusion(
					h, m, n, leaves[m], (const uint8_t(*)[32])got, nr - 1, roots[n]);
				accepted_mangled += m + 1 < n && memcmp(leaves[m], leaves[m + 1], 32) &&
						    merkle_verify_inclusion(h, m + 1, n, leaves[m],
									    (const uint8_t(*)[32])got,
									    nr, roots[n]);
			}
			accepted_mangled += merkle_verify_inclusion(h, n, n, leaves[m],
								    (const uint8_t(*)[32])got, nr,
								    roots[n]);
		}
		for (uint64_t m = 1; m <= n; m++) {
			uint8_t want[MERKLE_PROOF_MAX][32], got[MERKLE_PROOF_MAX][32];
			size_t nw = 0;
			struct merkle_range r[MERKLE_PROOF_MAX];
			if (m < n)
				ref_sub(h, (const uint8_t(*)[32])leaves, m, 0, n, true, want, &nw);
			size_t nr = merkle_consistency_ranges(m, n, r);
			if (nr != nw || stream_proof(h, (const uint8_t(*)[32])leaves, n, r, nr, got,
						     NULL) != nr ||
			    memcmp(got, want, nr * 32) != 0 ||
			    !merkle_verify_consistency(h, m, n, roots[m], roots[n],
						       (const uint8_t(*)[32])got, nr))
				bad_cons++;
			for (uint64_t cut = 1; cut <= m; cut += 1 + cut / 3) {
				struct merkle_frontier cf;
				merkle_frontier_init(&cf);
				for (uint64_t j = 0; j < cut; j++)
					(void)!merkle_frontier_add(&cf, h, leaves[j]);
				uint8_t g2[MERKLE_PROOF_MAX][32];
				if (stream_proof(h, (const uint8_t(*)[32])leaves, n, r, nr, g2, &cf) !=
					    nr ||
				    memcmp(g2, want, nr * 32) != 0)
					bad_cut++;
			}
			if (nr > 0) {
				got[0][3] ^= 0x80;
				accepted_mangled += merkle_verify_consistency(
					h, m, n, roots[m], roots[n], (const uint8_t(*)[32])got, nr);
				got[0][3] ^= 0x80;
				accepted_mangled += merkle_verify_consistency(
					h, m, n, roots[m], roots[n], (const uint8_t(*)[32])got, nr - 1);
				accepted_mangled += m > 1 && merkle_verify_consistency(
								     h, m, n, roots[m - 1], roots[n],
								     (const uint8_t(*)[32])got, nr);
			}
		}
	}
	CHECK_EQ(bad_incl, 0);
	CHECK_EQ(bad_cons, 0);
	CHECK_EQ(bad_cut, 0);
	CHECK_EQ(accepted_mangled, 0);
	/* The degenerate cases of 2.1.4.2. */
	CHECK(merkle_verify_consistency(h, 4, 4, roots[4], roots[4], NULL, 0));
	CHECK(!merkle_verify_consistency(h, 4, 4, roots[4], roots[5], NULL, 0));
	CHECK(merkle_verify_consistency(h, 0, 8, roots[0], roots[8], NULL, 0));
	CHECK(!merkle_verify_consistency(h, 6, 4, roots[6], roots[4], NULL, 0));
	merkle_hasher_free(h);
}

/* ------------------------------------------------------------ small parsers */

/* Reference glob: segment by segment, fnmatch for one segment, "**" recursively. */
static bool ref_glob_segs(char **g, int ng, char **p, int np)
{
	if (ng == 0)
		return np == 0;
	if (strcmp(g[0], "**") == 0) {
		for (int k = 0; k <= np; k++)
			if (ref_glob_segs(g + 1, ng - 1, p + k, np - k))
				return true;
		return false;
	}
	return np > 0 && fnmatch(g[0], p[0], 0) == 0 && ref_glob_segs(g + 1, ng - 1, p + 1, np - 1);
}

static int split(char *s, char **out, int max)
{
	int n = 0;
	for (char *p = s;; p++) {
		char *slash = strchr(p, '/');
		if (n < max)
			out[n++] = p;
		if (!slash)
			break;
		*slash = '\0';
		p = slash;
	}
	return n;
}

static bool ref_glob(const char *glob, const char *path)
{
	char g[256], p[256];
	char *gs[64] = {0}, *ps[64] = {0};
	snprintf(g, sizeof g, "%s", glob);
	snprintf(p, sizeof p, "%s", path);
	int ng = split(g, gs, 64), np = split(p, ps, 64);
	return ref_glob_segs(gs, ng, ps, np);
}

static void test_glob(void)
{
	static const struct {
		const char *glob, *path;
		bool match;
	} t[] = {
		{"/admin/**", "/admin", true},
		{"/admin/**", "/admin/", true},
		{"/admin/**", "/admin/export", true},
		{"/admin/**", "/admin/users/4/delete", true},
		{"/admin/**", "/administrator", false},
		{"/v1/users/*", "/v1/users/42", true},
		{"/v1/users/*", "/v1/users/42/orders", false},
		{"/v1/users/*", "/v1/users", false},
		{"/v1/*/orders", "/v1/users/orders", true},
		{"/v1/**/orders", "/v1/orders", true},
		{"/v1/**/orders", "/v1/users/4/orders", true},
		{"/v1/**/orders", "/v1/users/4/orders/5", false},
		{"/**/delete", "/admin/users/4/delete", true},
		{"/**", "/", true},
		{"/**", "/x/y", true},
		{"/v1/users/4*", "/v1/users/42", true},
		{"/v1/users/4*", "/v1/users/52", false},
		{"/v1/users/*2", "/v1/users/42", true},
		{"/health", "/health", true},
		{"/health", "/healthz", false},
		{"*", "*", true},
		{"/**/**/x", "/a/b/x", true},
		{"/a/**/b/**/c", "/a/q/b/r/s/c", true},
		{"/a/**/b/**/c", "/a/q/c/r/s/b", false},
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		bool got = audit_glob_match(t[i].glob, t[i].path, strlen(t[i].path));
		if (got != t[i].match)
			fprintf(stderr, "  glob %s vs %s: got %d\n", t[i].glob, t[i].path, got);
		CHECK(got == t[i].match);
		CHECK(ref_glob(t[i].glob, t[i].path) == t[i].match);
	}
	bool whole;
	CHECK_EQ(audit_glob_prefix("/admin/**", &whole), 6);
	CHECK(!whole);
	CHECK_EQ(audit_glob_prefix("/v1/users/*/orders", &whole), 9);
	CHECK_EQ(audit_glob_prefix("/**", &whole), 0);
	CHECK_EQ(audit_glob_prefix("/health", &whole), 7);
	CHECK(whole);
}

static void test_time_and_ip(void)
{
	uint64_t us;
	CHECK(audit_parse_time("2026-11-28T09:00:00Z", &us) == 0);
	CHECK_EQ(us, 1795856400000000ull);
	CHECK(audit_parse_time("2026-11-28T10:00:00+01:00", &us) == 0);
	CHECK_EQ(us, 1795856400000000ull);
	CHECK(audit_parse_time("2026-11-28T09:00:00.5Z", &us) == 0);
	CHECK_EQ(us, 1795856400500000ull);
	CHECK(audit_parse_time("2026-11-28", &us) == 0);
	CHECK_EQ(us, 1795824000000000ull);
	CHECK(audit_parse_time("2024-02-29T00:00:00Z", &us) == 0);
	CHECK(audit_parse_time("2026-02-29T00:00:00Z", &us) != 0);
	CHECK(audit_parse_time("2026-11-28T09:00:00", &us) != 0);
	CHECK(audit_parse_time("2026-13-01T00:00:00Z", &us) != 0);
	CHECK(audit_parse_time("yesterday", &us) != 0);
	char t[40];
	audit_format_time(1795856400123456ull, t, sizeof t);
	CHECK_STR(t, "2026-11-28T09:00:00.123456Z");
	uint8_t ip[16], net[16];
	unsigned p;
	CHECK(audit_parse_ip("10.1.2.3", ip, &p) == 0 && p == 128 && ip[10] == 0xff && ip[15] == 3);
	CHECK(audit_parse_ip("10.1.0.0/16", net, &p) == 0 && p == 112);
	CHECK(audit_ip_in(ip, net, p));
	CHECK(audit_parse_ip("10.2.0.0/16", net, &p) == 0 && !audit_ip_in(ip, net, p));
	CHECK(audit_parse_ip("2001:db8::/32", net, &p) == 0 && p == 32);
	CHECK(audit_parse_ip("10.1.2.3/33", net, &p) != 0);
	CHECK(audit_parse_ip("banana", net, &p) != 0);
}

static void test_bloom(void)
{
	struct audit_segstat s;
	CHECK(audit_segstat_init(&s, 20) == 0);
	struct audit_rec r = {0};
	char id[32];
	for (int i = 0; i < 2000; i++) {
		snprintf(id, sizeof id, "id%d", i);
		r.identity = id;
		r.identity_len = strlen(id);
		r.path = "/v1/x";
		r.path_len = 5;
		r.type = AUDIT_EVENT;
		audit_segstat_add(&s, &r);
	}
	audit_bloom_fold(&s.bloom);
	CHECK(s.bloom.log2 < 20);
	int missing = 0, fp = 0;
	for (int i = 0; i < 2000; i++) {
		snprintf(id, sizeof id, "id%d", i);
		missing += !audit_bloom_has(&s.bloom, 'i', id, strlen(id));
	}
	for (int i = 0; i < 20000; i++) {
		snprintf(id, sizeof id, "other%d", i);
		fp += audit_bloom_has(&s.bloom, 'i', id, strlen(id));
	}
	CHECK_EQ(missing, 0);
	CHECK(fp < 20000 / 50); /* under 2% */
	CHECK(audit_bloom_has(&s.bloom, 'p', "/v1", 3));
	CHECK(audit_bloom_has(&s.bloom, 'p', "/v1/x", 5));
	audit_segstat_free(&s);
}

/* ------------------------------------------------------ writer and keys */

static char key[300], pub[300], key2[300], pub2[300];

static void test_keys(void)
{
	char e[512];
	snprintf(key, sizeof key, "%s/k", tmproot);
	snprintf(pub, sizeof pub, "%s/k.pub", tmproot);
	snprintf(key2, sizeof key2, "%s/other", tmproot);
	snprintf(pub2, sizeof pub2, "%s/other.pub", tmproot);
	CHECK_EQ(audit_keygen(key, e, sizeof e), 0);
	CHECK_EQ(audit_keygen(key2, e, sizeof e), 0);
	struct stat st;
	CHECK(stat(key, &st) == 0 && (st.st_mode & 0777) == 0600);
	CHECK(stat(pub, &st) == 0);
	CHECK_EQ(audit_keygen(key, e, sizeof e), 2); /* never overwritten */
	CHECK(contains(e, "exists"));

	/* A private key others can read is refused, with exit status 2. */
	char loose[320], dir[300];
	snprintf(loose, sizeof loose, "%s/loose", tmproot);
	copy_file(key, loose);
	chmod(loose, 0644);
	tmpdir(dir, sizeof dir, "perm");
	struct audit_options o;
	audit_options_default(&o);
	o.dir = dir;
	o.key_path = loose;
	int status = 0;
	struct audit *a = audit_open(&o, &status, e, sizeof e);
	CHECK(a == NULL);
	CHECK_EQ(status, 2);
	CHECK(contains(e, "group or others"));
	CHECK(strchr(e, '\n') == NULL);
	chmod(loose, 0640);
	CHECK(audit_open(&o, &status, e, sizeof e) == NULL && status == 2);

	/* A signed log: its key only. */
	o.key_path = key;
	a = audit_open(&o, &status, e, sizeof e);
	CHECK(a != NULL);
	if (a)
		CHECK(audit_close(a, e, sizeof e) == 0);
	o.key_path = key2;
	CHECK(audit_open(&o, &status, e, sizeof e) == NULL && status == 2);
	CHECK(contains(e, "does not match"));
	o.key_path = NULL;
	CHECK(audit_open(&o, &status, e, sizeof e) == NULL && status == 2);
	CHECK(contains(e, "signed"));

	/* Head JSON round trip, and a signature that checks only with its key. */
	struct audit_key *k = audit_key_load_public(pub, e, sizeof e);
	struct audit_key *k2 = audit_key_load_public(pub2, e, sizeof e);
	struct audit_key *priv = audit_key_load_private(key, &status, e, sizeof e);
	CHECK(k && k2 && priv);
	if (k && k2 && priv) {
		struct audit_head h = {.version = 1, .reason = AUDIT_HEAD_CLOSE, .size = 42,
				       .time_us = T0}, back;
		memset(h.root, 0xab, 32);
		CHECK(audit_head_sign(&h, priv) == 0);
		CHECK(audit_head_check(&h, k));
		CHECK(!audit_head_check(&h, k2));
		char j[512];
		size_t n = audit_head_json(&h, j, sizeof j);
		CHECK(n > 0);
		CHECK(audit_head_parse((const uint8_t *)j, n, &back, e, sizeof e) == 0);
		CHECK(audit_head_check(&back, k));
		back.size++;
		CHECK(!audit_head_check(&back, k));
	}
	audit_key_free(k);
	audit_key_free(k2);
	audit_key_free(priv);
}

static uint64_t fake_now;

static uint64_t fake_clock(void *ctx)
{
	(void)ctx;
	return fake_now;
}

static int heads_seen;

static void on_head(void *ctx, const char *json, size_t len)
{
	(void)ctx;
	heads_seen += len > 0 && strstr(json, "\"tree_size\"") != NULL;
}

static void test_append_reopen_verify(void)
{
	char dir[300], msg[2048], e[512];
	tmpdir(dir, sizeof dir, "basic");
	CHECK(write_log(dir, key, 0, 3000, 16384, 0) == 0);
	CHECK_EQ(verify(dir, pub, NULL, msg, sizeof msg), 0);
	CHECK(contains(msg, "ok: records 0..2999"));
	CHECK(write_log(dir, key, 3000, 5000, 16384, 0) == 0);
	CHECK_EQ(verify(dir, pub, NULL, msg, sizeof msg), 0);
	CHECK(contains(msg, "ok: records 0..4999"));
	CHECK_EQ(verify(dir, NULL, NULL, msg, sizeof msg), 0); /* DIR/audit.pub */
	CHECK_EQ(verify(dir, pub2, NULL, msg, sizeof msg), 1); /* another key */
	CHECK(contains(msg, "forged"));

	/* Heads at the interval of an injected clock, handed to on_head. */
	char dir2[300];
	tmpdir(dir2, sizeof dir2, "clock");
	struct audit_options o;
	audit_options_default(&o);
	o.dir = dir2;
	o.clock = fake_clock;
	o.on_head = on_head;
	o.sth_every = 0;
	o.fsync = AUDIT_FSYNC_INTERVAL;
	fake_now = T0;
	heads_seen = 0;
	int st;
	struct audit *a = audit_open(&o, &st, e, sizeof e);
	CHECK(a != NULL);
	if (!a)
		return;
	CHECK_EQ(audit_next_record(a), 0);
	for (uint64_t i = 0; i < 1000; i++) {
		fake_now += 10000; /* 10 ms per record: a head each second = 100 records */
		CHECK(append_gen(a, i, 0) == 0);
	}
	CHECK_EQ(audit_next_record(a), 1000);
	if (heads_seen < 6 || heads_seen > 11)
		fprintf(stderr, "  heads_seen %d\n", heads_seen);
	CHECK(heads_seen >= 6 && heads_seen <= 11);
	/* A field over its cap is refused without breaking the handle. */
	static char huge[70000];
	memset(huge, 'x', sizeof huge - 1);
	CHECK(audit_append(a, AUDIT_EVENT, T0, huge, NULL, "/", NULL, "{}", 2, NULL) != 0);
	CHECK(audit_append(a, AUDIT_EVENT, T0, "ok", NULL, "/", NULL, "{}\n", 3, NULL) == 0);
	CHECK(audit_append(a, AUDIT_INTERNAL, T0, "ok", NULL, "/", NULL, "{}", 2, NULL) != 0);
	struct audit_stats s;
	audit_get_stats(a, &s);
	CHECK_EQ(s.records, 1001);
	CHECK(s.syncs > 0);
	CHECK(audit_close(a, e, sizeof e) == 0);
	CHECK_EQ(verify(dir2, NULL, NULL, msg, sizeof msg), 0);
	CHECK(contains(msg, "unsigned"));
	/* An unsigned log cannot turn signed. */
	o.key_path = key;
	CHECK(audit_open(&o, &st, e, sizeof e) == NULL && st == 2);
	/* fsync always: every record on disk before audit_append returns. */
	char dir3[300];
	tmpdir(dir3, sizeof dir3, "always");
	struct audit_options oa;
	audit_options_default(&oa);
	oa.dir = dir3;
	oa.key_path = key;
	oa.fsync = AUDIT_FSYNC_ALWAYS;
	struct audit *w = audit_open(&oa, &st, e, sizeof e);
	CHECK(w != NULL);
	if (w) {
		for (uint64_t i = 0; i < 20; i++)
			CHECK(append_gen(w, i, 0) == 0);
		audit_get_stats(w, &s);
		CHECK(s.syncs >= 20);
		CHECK(audit_sign(w) == 0);
		CHECK(audit_tick(w) == 0);
		CHECK(audit_close(w, e, sizeof e) == 0);
		CHECK_EQ(verify(dir3, pub, NULL, msg, sizeof msg), 0);
	}
	/* A second writer is kept out. */
	o.key_path = NULL;
	a = audit_open(&o, &st, e, sizeof e);
	CHECK(a != NULL);
	struct audit *b = audit_open(&o, &st, e, sizeof e);
	CHECK(b == NULL && st == 1);
	CHECK(contains(e, "another writer"));
	if (a)
		CHECK(audit_close(a, e, sizeof e) == 0);
}

/* ------------------------------------------------------------ tamper suite */

static char pristine[300];

/* The log every tamper test starts from: signed, many segments, a head every 128 records. */
static void make_pristine(void)
{
	tmpdir(pristine, sizeof pristine, "pristine");
	CHECK(write_log(pristine, key, 0, 4000, 16384, 128) == 0);
}

static int tamper_copy(char *dir, size_t n, const char *name)
{
	tmpdir(dir, n, name);
	copy_dir(pristine, dir);
	return 0;
}

/* Rewrites byte `at` of record rec (from the record start), optionally fixing its CRC. */
static void poke(const char *dir, uint64_t rec, size_t at, bool fix)
{
	struct loc l;
	CHECK(locate(dir, rec, &l) == 0);
	char p[400];
	seg_path(dir, l.seq, p, sizeof p);
	size_t len;
	uint8_t *b = slurp(p, &len);
	if (!b)
		return;
	b[l.offset + at] ^= 0x20;
	if (fix)
		fix_crc(b + l.offset);
	spit(p, b, len);
	free(b);
}

/* The tree sizes of the heads around record rec: lo <= rec < hi. */
static void head_bounds(const char *dir, uint64_t rec, uint64_t *lo, uint64_t *hi)
{
	char hp[400];
	snprintf(hp, sizeof hp, "%s/" AUDIT_HEADS_FILE, dir);
	size_t len;
	uint8_t *b = slurp(hp, &len);
	*lo = 0;
	*hi = UINT64_MAX;
	for (size_t off = 0; b && off + AUDIT_HEAD_SIZE <= len; off += AUDIT_HEAD_SIZE) {
		struct audit_head h;
		if (audit_head_decode(b + off, &h) != 0)
			continue;
		if (h.size <= rec && h.size > *lo)
			*lo = h.size;
		if (h.size > rec && h.size < *hi)
			*hi = h.size;
	}
	free(b);
}

/* A head size near want (the largest at or below it). */
static uint64_t head_near(const char *dir, uint64_t want)
{
	uint64_t lo, hi;
	head_bounds(dir, want, &lo, &hi);
	return lo;
}

static void test_untouched(void)
{
	char msg[2048];
	CHECK_EQ(verify(pristine, pub, NULL, msg, sizeof msg), 0);
	CHECK(contains(msg, "ok"));
}

static void test_tamper_changed_byte(void)
{
	char dir[300], msg[2048], want[64];
	tamper_copy(dir, sizeof dir, "t-byte");
	poke(dir, 1717, 8 + 40 + 12, false); /* in the identity/path/JSON */
	CHECK_EQ(verify(dir, pub, NULL, msg, sizeof msg), 1);
	struct loc l;
	locate(pristine, 1717, &l);
	audit_seg_name(l.seq, want, sizeof want);
	CHECK(contains(msg, want));
	CHECK(contains(msg, "record 1717"));
	CHECK(contains(msg, "checksum"));
}

static void test_tamper_changed_byte_crc_fixed(void)
{
	char dir[300], msg[2048];
	tamper_copy(dir, sizeof dir, "t-bytefix");
	poke(dir, 1717, 8 + 60, true);
	CHECK_EQ(verify(dir, pub, NULL, msg, sizeof msg), 1);
	/* named as the records between the last head that matched and the first that does not */
	uint64_t lo, hi;
	head_bounds(pristine, 1717, &lo, &hi);
	CHECK(hi - lo <= 128);
	char want[64];
	snprintf(want, sizeof want, "records %llu..%llu", (unsigned long long)lo,
		 (unsigned long long)(hi - 1));
	CHECK(contains(msg, want));
	CHECK(contains(msg, "do not match"));
	snprintf(want, sizeof want, "record %llu)", (unsigned long long)lo);
	CHECK(contains(msg, want));
}

/* Splices bytes of a segment: cut [from, to) and insert ins. */
static void splice_bytes(const char *path, uint64_t from, uint64_t to, const uint8_t *ins, size_t n)
{
	size_t len;
	uint8_t *b = slurp(path, &len);
	if (!b)
		return;
	uint8_t *o = malloc(len - (to - from) + n);
	memcpy(o, b, from);
	if (n)
		memcpy(o + from, ins, n);
	memcpy(o + from + n, b + to, len - to);
	spit(path, o, len - (to - from) + n);
	free(o);
	free(b);
}

static void test_tamper_removed_record(void)
{
	char dir[300], msg[2048], p[400];
	tamper_copy(dir, sizeof dir, "t-removed");
	struct loc l;
	CHECK(locate(dir, 2222, &l) == 0);
	seg_path(dir, l.seq, p, sizeof p);
	splice_bytes(p, l.offset, l.offset + 8 + l.len, NULL, 0);
	CHECK_EQ(verify(dir, pub, NULL, msg, sizeof msg), 1);
	CHECK(contains(msg, "record 2222"));
	CHECK(contains(msg, "missing"));
}

static void test_tamper_inserted_record(void)
{
	char dir[300], msg[2048], p[400];
	tamper_copy(dir, sizeof dir, "t-inserted");
	struct loc l;
	CHECK(locate(dir, 2222, &l) == 0);
	seg_path(dir, l.seq, p, sizeof p);
	size_t len;
	uint8_t *b = slurp(p, &len);
	if (!b)
		return;
	/* A copy of record 2222 right after it. */
	uint8_t *copy = malloc(8 + l.len);
	memcpy(copy, b + l.offset, 8 + l.len);
	free(b);
	splice_bytes(p, l.offset + 8 + l.len, l.offset + 8 + l.len, copy, 8 + l.len);
	free(copy);
	CHECK_EQ(verify(dir, pub, NULL, msg, sizeof msg), 1);
	CHECK(contains(msg, "record 2223"));
	CHECK(contains(msg, "inserted or reordered"));
}

static void test_tamper_reordered(void)
{
	char dir[300], msg[2048], p[400];
	tamper_copy(dir, sizeof dir, "t-reorder");
	struct loc a, b;
	uint64_t r0 = 3001;
	while (locate(dir, r0, &a) == 0 && locate(dir, r0 + 1, &b) == 0 && a.seq != b.seq)
		r0++;
	CHECK(a.seq == b.seq);
	seg_path(dir, a.seq, p, sizeof p);
	size_t len;
	uint8_t *d = slurp(p, &len);
	if (!d)
		return;
	uint8_t *o = malloc(len);
	memcpy(o, d, len);
	size_t la = 8 + a.len, lb = 8 + b.len;
	memcpy(o + a.offset, d + b.offset, lb);
	memcpy(o + a.offset + lb, d + a.offset, la);
	spit(p, o, len);
	/* The same swap, renumbered and re-checksummed: only the heads can tell. */
	char dir2[300];
	tamper_copy(dir2, sizeof dir2, "t-reorder-fixed");
	audit_put64(o + a.offset + 8, r0);
	fix_crc(o + a.offset);
	audit_put64(o + a.offset + lb + 8, r0 + 1);
	fix_crc(o + a.offset + lb);
	seg_path(dir2, a.seq, p, sizeof p);
	spit(p, o, len);
	free(o);
	free(d);
	char want[96];
	CHECK_EQ(verify(dir, pub, NULL, msg, sizeof msg), 1);
	snprintf(want, sizeof want, "record %llu (", (unsigned long long)r0);
	CHECK(contains(msg, want));
	snprintf(want, sizeof want, "holds record number %llu", (unsigned long long)r0 + 1);
	CHECK(contains(msg, want));
	CHECK_EQ(verify(dir2, pub, NULL, msg, sizeof msg), 1);
	uint64_t lo, hi;
	head_bounds(pristine, r0, &lo, &hi);
	snprintf(want, sizeof want, "records %llu..%llu", (unsigned long long)lo,
		 (unsigned long long)(hi - 1));
	CHECK(contains(msg, want));
}

static uint64_t last_seq(const char *dir)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	struct audit_seglist sl;
	uint64_t s = 0;
	if (dfd >= 0 && audit_seglist_read(dfd, &sl) == 0) {
		if (sl.n)
			s = sl.seq[sl.n - 1];
		audit_seglist_free(&sl);
	}
	if (dfd >= 0)
		close(dfd);
	return s;
}

static void test_tamper_truncated(void)
{
	char dir[300], msg[2048], p[400];
	tamper_copy(dir, sizeof dir, "t-trunc");
	struct loc l;
	CHECK(locate(dir, 3990, &l) == 0);
	seg_path(dir, l.seq, p, sizeof p);
	CHECK(truncate(p, (off_t)l.offset) == 0); /* records 3990.. cut at a boundary */
	CHECK_EQ(verify(dir, pub, NULL, msg, sizeof msg), 1);
	CHECK(contains(msg, "truncated"));
	CHECK(contains(msg, "record 3989"));
	CHECK(contains(msg, "3990..3999"));

	/* The attacker cuts the heads too: only a head held elsewhere shows it. */
	char sth[320], j[512];
	snprintf(sth, sizeof sth, "%s/held.sth", tmproot);
	{
		char hp[400];
		snprintf(hp, sizeof hp, "%s/" AUDIT_HEADS_FILE, pristine);
		size_t len;
		uint8_t *b = slurp(hp, &len);
		struct audit_head h;
		CHECK(b && len >= AUDIT_HEAD_SIZE &&
		      audit_head_decode(b + len - AUDIT_HEAD_SIZE, &h) == 0);
		size_t n = b ? audit_head_json(&h, j, sizeof j) : 0;
		spit(sth, (const uint8_t *)j, n);
		free(b);
	}
	char dir2[300], hp[400];
	tamper_copy(dir2, sizeof dir2, "t-trunc-heads");
	uint64_t cut = head_near(pristine, 3850);
	CHECK(cut > 3700);
	CHECK(locate(dir2, cut, &l) == 0);
	seg_path(dir2, l.seq, p, sizeof p);
	CHECK(truncate(p, (off_t)l.offset) == 0);
	for (uint64_t s = l.seq + 1; s <= last_seq(pristine); s++) {
		seg_path(dir2, s, p, sizeof p);
		unlink(p);
	}
	snprintf(hp, sizeof hp, "%s/" AUDIT_HEADS_FILE, dir2);
	struct stat st;
	stat(hp, &st);
	/* keep the heads up to tree size 3840 */
	size_t len;
	uint8_t *b = slurp(hp, &len);
	size_t keep = 0;
	for (size_t off = 0; b && off + AUDIT_HEAD_SIZE <= len; off += AUDIT_HEAD_SIZE) {
		struct audit_head h;
		if (audit_head_decode(b + off, &h) == 0 && h.size <= cut)
			keep = off + AUDIT_HEAD_SIZE;
	}
	free(b);
	CHECK(truncate(hp, (off_t)keep) == 0);
	char idx[400];
	snprintf(idx, sizeof idx, "%s/seg-%012llu.idx", dir2, (unsigned long long)l.seq);
	unlink(idx);
	CHECK_EQ(verify(dir2, pub, NULL, msg, sizeof msg), 0); /* consistent on its own */
	CHECK_EQ(verify(dir2, pub, sth, msg, sizeof msg), 1);
	CHECK(contains(msg, "truncated"));
	CHECK(contains(msg, "--sth"));
	CHECK_EQ(verify(pristine, pub, sth, msg, sizeof msg), 0);
	CHECK(contains(msg, "--sth checks"));
}

static void test_tamper_segments(void)
{
	char dir[300], msg[2048], p[400], q[400], want[64];
	uint64_t last = last_seq(pristine);
	CHECK(last >= 8);
	/* A removed segment in the middle. */
	tamper_copy(dir, sizeof dir, "t-segmid");
	seg_path(dir, 4, p, sizeof p);
	unlink(p);
	CHECK_EQ(verify(dir, pub, NULL, msg, sizeof msg), 1);
	audit_seg_name(4, want, sizeof want);
	CHECK(contains(msg, want));
	CHECK(contains(msg, "missing"));
	/* The first segment, without a retention record. */
	tamper_copy(dir, sizeof dir, "t-segfirst");
	seg_path(dir, 0, p, sizeof p);
	unlink(p);
	CHECK_EQ(verify(dir, pub, NULL, msg, sizeof msg), 1);
	CHECK(contains(msg, "no signed retention record"));
	/* The last one. */
	tamper_copy(dir, sizeof dir, "t-seglast");
	seg_path(dir, last, p, sizeof p);
	unlink(p);
	CHECK_EQ(verify(dir, pub, NULL, msg, sizeof msg), 1);
	CHECK(contains(msg, "truncated"));
	/* Two swapped. */
	tamper_copy(dir, sizeof dir, "t-segswap");
	seg_path(dir, 2, p, sizeof p);
	seg_path(dir, 3, q, sizeof q);
	char tmp[420];
	snprintf(tmp, sizeof tmp, "%s.x", p);
	rename(p, tmp);
	rename(q, p);
	rename(tmp, q);
	CHECK_EQ(verify(dir, pub, NULL, msg, sizeof msg), 1);
	audit_seg_name(2, want, sizeof want);
	CHECK(contains(msg, want));
	CHECK(contains(msg, "swapped"));
	/* A damaged header. */
	tamper_copy(dir, sizeof dir, "t-seghdr");
	seg_path(dir, 5, p, sizeof p);
	size_t len;
	uint8_t *b = slurp(p, &len);
	if (b) {
		b[20] ^= 1;
		spit(p, b, len);
		free(b);
	}
	CHECK_EQ(verify(dir, pub, NULL, msg, sizeof msg), 1);
	audit_seg_name(5, want, sizeof want);
	CHECK(contains(msg, want));
	CHECK(contains(msg, "header"));
}

static void test_tamper_forged_head(void)
{
	char dir[300], msg[2048], hp[400];
	tamper_copy(dir, sizeof dir, "t-head");
	snprintf(hp, sizeof hp, "%s/" AUDIT_HEADS_FILE, dir);
	size_t len;
	uint8_t *b = slurp(hp, &len);
	if (!b)
		return;
	b[5 * AUDIT_HEAD_SIZE + 30] ^= 1; /* head #5's root */
	spit(hp, b, len);
	CHECK_EQ(verify(dir, pub, NULL, msg, sizeof msg), 1);
	CHECK(contains(msg, "head #5"));
	CHECK(contains(msg, "forged"));
	/* Every head re-signed with the attacker's key and audit.pub replaced:
	 * passes against DIR/audit.pub, fails against the key held elsewhere. */
	b[5 * AUDIT_HEAD_SIZE + 30] ^= 1;
	int st;
	char e[512];
	struct audit_key *k2 = audit_key_load_private(key2, &st, e, sizeof e);
	CHECK(k2 != NULL);
	for (size_t off = 0; k2 && off + AUDIT_HEAD_SIZE <= len; off += AUDIT_HEAD_SIZE) {
		struct audit_head h;
		audit_head_decode(b + off, &h);
		audit_head_sign(&h, k2);
		audit_head_encode(&h, b + off);
	}
	audit_key_free(k2);
	spit(hp, b, len);
	free(b);
	char pp[400];
	snprintf(pp, sizeof pp, "%s/" AUDIT_PUB_FILE, dir);
	copy_file(pub2, pp);
	CHECK_EQ(verify(dir, NULL, NULL, msg, sizeof msg), 0);
	CHECK_EQ(verify(dir, pub, NULL, msg, sizeof msg), 1);
	CHECK(contains(msg, "forged"));
	/* Heads out of order. */
	tamper_copy(dir, sizeof dir, "t-headorder");
	snprintf(hp, sizeof hp, "%s/" AUDIT_HEADS_FILE, dir);
	b = slurp(hp, &len);
	if (!b)
		return;
	uint8_t t[AUDIT_HEAD_SIZE];
	memcpy(t, b + 3 * AUDIT_HEAD_SIZE, AUDIT_HEAD_SIZE);
	memcpy(b + 3 * AUDIT_HEAD_SIZE, b + 4 * AUDIT_HEAD_SIZE, AUDIT_HEAD_SIZE);
	memcpy(b + 4 * AUDIT_HEAD_SIZE, t, AUDIT_HEAD_SIZE);
	spit(hp, b, len);
	free(b);
	CHECK_EQ(verify(dir, pub, NULL, msg, sizeof msg), 1);
	CHECK(contains(msg, "head #4"));
}

static void test_tamper_appended(void)
{
	char dir[300], msg[2048], p[400];
	tamper_copy(dir, sizeof dir, "t-append");
	/* A well-formed record 4000, never signed. */
	uint8_t rec[256];
	const char *json = "{\"type\":\"api\",\"path\":\"/forged\"}";
	size_t n = audit_rec_encode(rec, 4000, T0, NULL, AUDIT_EVENT, "mallory", 7, "/forged", 7,
				    NULL, 0, json, strlen(json));
	seg_path(dir, last_seq(dir), p, sizeof p);
	FILE *f = fopen(p, "ab");
	if (f) {
		fwrite(rec, 1, n, f);
		fclose(f);
	}
	CHECK_EQ(verify(dir, pub, NULL, msg, sizeof msg), 1);
	CHECK(contains(msg, "records 4000..4000"));
	CHECK(contains(msg, "no signed head"));
}

static void test_tamper_index(void)
{
	char dir[300], msg[2048], p[400];
	tamper_copy(dir, sizeof dir, "t-index");
	snprintf(p, sizeof p, "%s/seg-%012llu.idx", dir, 3ull);
	size_t len;
	uint8_t *b = slurp(p, &len);
	if (!b)
		return;
	memset(b + AUDIT_IDX_FIXED, 0, len - AUDIT_IDX_FIXED - 4);
	audit_put32(b + len - 4, audit_crc32c(0, b, len - 4));
	spit(p, b, len);
	free(b);
	CHECK_EQ(verify(dir, pub, NULL, msg, sizeof msg), 1);
	CHECK(contains(msg, "seg-000000000003.idx"));
	/* A deleted index is no tampering: search rebuilds it. */
	unlink(p);
	CHECK_EQ(verify(dir, pub, NULL, msg, sizeof msg), 0);
}

/* A crash's leftovers: the records after the last head, the last one cut short. */
static void test_torn_tail_and_repair(void)
{
	char dir[300], msg[2048], p[400], hp[400], e[512];
	tamper_copy(dir, sizeof dir, "t-torn");
	snprintf(hp, sizeof hp, "%s/" AUDIT_HEADS_FILE, dir);
	size_t len;
	uint8_t *b = slurp(hp, &len);
	size_t keep = 0;
	for (size_t off = 0; b && off + AUDIT_HEAD_SIZE <= len; off += AUDIT_HEAD_SIZE) {
		struct audit_head h;
		if (audit_head_decode(b + off, &h) == 0 && h.size <= 3968)
			keep = off + AUDIT_HEAD_SIZE;
	}
	free(b);
	CHECK(truncate(hp, (off_t)keep) == 0);
	struct loc l;
	CHECK(locate(dir, 3999, &l) == 0);
	seg_path(dir, l.seq, p, sizeof p);
	CHECK(truncate(p, (off_t)(l.offset + 8 + l.len / 2)) == 0);
	char idx[400];
	snprintf(idx, sizeof idx, "%s/seg-%012llu.idx", dir, (unsigned long long)l.seq);
	unlink(idx);
	CHECK_EQ(verify(dir, pub, NULL, msg, sizeof msg), 1);
	CHECK(contains(msg, "torn tail"));
	CHECK(contains(msg, "after record 3998"));
	CHECK(!strstr(msg, "altered"));
	/* A writer without repair refuses; with it cuts, records and signs. */
	struct audit_options o;
	audit_options_default(&o);
	o.dir = dir;
	o.key_path = key;
	int st;
	CHECK(audit_open(&o, &st, e, sizeof e) == NULL && st == 1);
	CHECK(contains(e, "torn tail"));
	o.repair = true;
	struct audit *a = audit_open(&o, &st, e, sizeof e);
	CHECK(a != NULL);
	if (!a)
		return;
	struct audit_stats s;
	audit_get_stats(a, &s);
	CHECK_EQ(s.records, 4000); /* 3999 kept + the repair record */
	CHECK(s.repaired_bytes > 0);
	CHECK(audit_close(a, e, sizeof e) == 0);
	CHECK_EQ(verify(dir, pub, NULL, msg, sizeof msg), 0);
	/* The repair record says what was cut. */
	char out[320];
	snprintf(out, sizeof out, "%s/repair.out", tmproot);
	FILE *f = fopen(out, "w+");
	struct audit_query q = {.types = 1u << AUDIT_INTERNAL};
	CHECK(audit_search(dir, &q, f, NULL, e, sizeof e) == 0);
	rewind(f);
	char line[2048] = "";
	CHECK(fgets(line, sizeof line, f) != NULL);
	fclose(f);
	CHECK(contains(line, "\"type\":\"audit_repair\""));
	CHECK(contains(line, "\"torn_tail\""));
	char want[64];
	snprintf(want, sizeof want, "\"unsigned_records\":[%llu,3999]",
		 (unsigned long long)head_near(pristine, 3968));
	CHECK(contains(line, want));
}

/*
 * A writer killed with SIGKILL while appending. Records reach the file only
 * in whole buffers, so the kill has to land inside a write() to tear one: the
 * writer uses a 96 MiB buffer (a write() that takes tens of milliseconds) and
 * is killed the moment its segment starts to grow. verify must report a torn
 * tail - never tampering - and after repair the log must verify; the records
 * before the tear are intact (their heads still check).
 */
static int crash_writer(const char *dir, const char *keyp, uint64_t buffer)
{
	struct audit_options o;
	audit_options_default(&o);
	o.dir = dir;
	o.key_path = keyp;
	o.segment_bytes = 1ull << 30;
	o.buffer_bytes = buffer;
	o.fsync = AUDIT_FSYNC_NEVER;
	o.sth_every = 0;
	o.sth_interval_ms = 3600000;
	o.flush_interval_ms = 3600000;
	o.repair = true;
	char e[512];
	int st;
	struct audit *a = audit_open(&o, &st, e, sizeof e);
	if (!a) {
		fprintf(stderr, "%s\n", e);
		return st;
	}
	for (uint64_t i = audit_next_record(a);; i++)
		if (append_gen(a, i, 900) != 0)
			return 1;
}

static uint64_t file_size(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 ? (uint64_t)st.st_size : 0;
}

static void test_crash_kill9(void)
{
	char dir[300], msg[2048], e[512], seg[400];
	tmpdir(dir, sizeof dir, "crash");
	int torn = 0;
	for (int round = 0; round < 2; round++) {
		seg_path(dir, round == 0 ? 0 : last_seq(dir), seg, sizeof seg);
		uint64_t before = round == 0 ? 0 : file_size(seg);
		pid_t pid = fork();
		if (pid == 0)
			_exit(crash_writer(dir, key, 96u << 20));
		/* Kill as soon as the segment grows by more than a header: mid-write. */
		for (int i = 0; i < 60000 && file_size(seg) < before + 65536; i++) {
			struct timespec ts = {0, 200000};
			nanosleep(&ts, NULL);
		}
		kill(pid, SIGKILL);
		int status;
		waitpid(pid, &status, 0);
		CHECK(WIFSIGNALED(status));
		int rc = verify(dir, pub, NULL, msg, sizeof msg);
		CHECK_EQ(rc, 1);
		if (!strstr(msg, "torn tail"))
			fprintf(stderr, "  after kill -9: %s\n", msg);
		torn += strstr(msg, "torn tail") != NULL;
		CHECK(!strstr(msg, "altered") && !strstr(msg, "forged") && !strstr(msg, "truncated"));
		struct audit_options o;
		audit_options_default(&o);
		o.dir = dir;
		o.key_path = key;
		o.repair = true;
		int st;
		struct audit *a = audit_open(&o, &st, e, sizeof e);
		CHECK(a != NULL);
		if (a)
			CHECK(audit_close(a, e, sizeof e) == 0);
		CHECK_EQ(verify(dir, pub, NULL, msg, sizeof msg), 0);
	}
	CHECK_EQ(torn, 2);
	/* And with small buffers, killed at an arbitrary moment: nothing but a crash shows. */
	for (int round = 0; round < 2; round++) {
		pid_t pid = fork();
		if (pid == 0)
			_exit(crash_writer(dir, key, 65536));
		struct timespec ts = {0, (long)(100 + 70 * round) * 1000000L};
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
		int status;
		waitpid(pid, &status, 0);
		int rc = verify(dir, pub, NULL, msg, sizeof msg);
		bool crash_only = rc == 0 || strstr(msg, "torn tail") || strstr(msg, "under no signed head");
		if (!crash_only)
			fprintf(stderr, "  after kill -9: %s\n", msg);
		CHECK(crash_only);
		struct audit_options o;
		audit_options_default(&o);
		o.dir = dir;
		o.key_path = key;
		o.repair = true;
		int st;
		struct audit *a = audit_open(&o, &st, e, sizeof e);
		CHECK(a != NULL);
		if (a)
			CHECK(audit_close(a, e, sizeof e) == 0);
		CHECK_EQ(verify(dir, pub, NULL, msg, sizeof msg), 0);
	}
}

/* ----------------------------------------------------- search vs brute force */

struct bf_rec {
	enum audit_type type;
	uint64_t ts;
	char *identity;
	bool has_ip;
	uint8_t ip[16];
	char *path, *detector, *line;
};

static struct bf_rec *bf;
static size_t nbf;

/* Everything the brute force knows comes from parsing each stored JSON line. */
static void bf_load(const char *dir)
{
	bool free_only = dir == NULL;
	for (size_t i = 0; i < nbf; i++) {
		free(bf[i].identity);
		free(bf[i].path);
		free(bf[i].detector);
		free(bf[i].line);
	}
	free(bf);
	bf = NULL;
	nbf = 0;
	if (free_only)
		return;
	char out[320], e[512];
	snprintf(out, sizeof out, "%s/all.jsonl", tmproot);
	FILE *f = fopen(out, "w+");
	struct audit_query all = {.types = 1u << AUDIT_EVENT | 1u << AUDIT_ALERT, .no_index = true};
	CHECK(audit_search(dir, &all, f, NULL, e, sizeof e) == 0);
	rewind(f);
	char line[4096];
	size_t cap = 0;
	while (fgets(line, sizeof line, f)) {
		if (nbf == cap) {
			cap = cap ? cap * 2 : 1024;
			bf = realloc(bf, cap * sizeof *bf);
		}
		struct bf_rec *r = &bf[nbf++];
		memset(r, 0, sizeof *r);
		r->line = strdup(line);
		json_t *o = json_loads(line, 0, NULL);
		const char *type = json_string_value(json_object_get(o, "type"));
		r->type = type && strcmp(type, "alert") == 0 ? AUDIT_ALERT : AUDIT_EVENT;
		r->ts = (uint64_t)json_integer_value(json_object_get(o, "ts_us"));
		const char *id = json_string_value(json_object_get(json_object_get(o, "identity"), "id"));
		r->identity = id ? strdup(id) : NULL;
		const char *ip = json_string_value(json_object_get(o, "client_ip"));
		uint8_t v4[4];
		if (ip && inet_pton(AF_INET, ip, v4) == 1) {
			r->ip[10] = r->ip[11] = 0xff;
			memcpy(r->ip + 12, v4, 4);
			r->has_ip = true;
		} else if (ip && inet_pton(AF_INET6, ip, r->ip) == 1) {
			r->has_ip = true;
		}
		const char *path = json_string_value(json_object_get(o, "path"));
		r->path = strdup(path ? path : "");
		const char *det = json_string_value(json_object_get(o, "detector"));
		r->detector = det ? strdup(det) : NULL;
		json_decref(o);
	}
	fclose(f);
}

static bool bf_in(const uint8_t *ip, const uint8_t *net, unsigned prefix)
{
	for (unsigned b = 0; b < prefix; b++) {
		unsigned bit = 7 - b % 8;
		if (((ip[b / 8] >> bit) & 1) != ((net[b / 8] >> bit) & 1))
			return false;
	}
	return true;
}

static bool bf_match(const struct bf_rec *r, const struct audit_query *q)
{
	unsigned types = q->types ? q->types : 1u << AUDIT_EVENT | 1u << AUDIT_ALERT;
	return (types & (1u << r->type)) && (!q->has_since || r->ts >= q->since_us) &&
	       (!q->has_until || r->ts < q->until_us) &&
	       (!q->identity || (r->identity && strcmp(r->identity, q->identity) == 0)) &&
	       (!q->has_ip || (r->has_ip && bf_in(r->ip, q->ip, q->ip_prefix))) &&
	       (!q->detector || (r->detector && strcmp(r->detector, q->detector) == 0)) &&
	       (!q->path_glob || ref_glob(q->path_glob, r->path));
}

/* Runs a query through audit_search and compares with the brute force; returns matches. */
static uint64_t compare(const char *dir, const char *name, struct audit_query q,
			uint64_t *skipped)
{
	char out[320], e[512];
	snprintf(out, sizeof out, "%s/q.jsonl", tmproot);
	FILE *f = fopen(out, "w+");
	struct audit_search_stats st;
	int rc = audit_search(dir, &q, f, &st, e, sizeof e);
	CHECK_EQ(rc, 0);
	rewind(f);
	char line[4096];
	size_t i = 0, mismatches = 0, expected = 0;
	for (size_t k = 0; k < nbf; k++)
		expected += bf_match(&bf[k], &q);
	while (fgets(line, sizeof line, f)) {
		while (i < nbf && !bf_match(&bf[i], &q))
			i++;
		if (i == nbf || strcmp(line, bf[i].line) != 0)
			mismatches++;
		i++;
	}
	fclose(f);
	if (mismatches || st.matches != expected)
		fprintf(stderr, "  query %s: %llu results, brute force %zu, %zu differ\n", name,
			(unsigned long long)st.matches, expected, mismatches);
	CHECK_EQ(mismatches, 0);
	CHECK_EQ(st.matches, expected);
	if (skipped)
		*skipped = st.segments_skipped;
	return st.matches;
}

static void test_search_vs_bruteforce(void)
{
	char dir[300];
	tmpdir(dir, sizeof dir, "search");
	rng_state = 12345;
	CHECK(write_log(dir, key, 0, 6000, 8192, 0) == 0);
	/* Most segments cover one stretch of packet time, and a few identities live in one. */
	struct audit *a = open_log(dir, key, 8192, 0);
	CHECK(a != NULL);
	if (!a)
		return;
	uint8_t ip[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 7};
	for (int i = 0; i < 40; i++) {
		char json[256];
		int n = snprintf(json, sizeof json,
				 "{\"type\":\"alert\",\"ts_us\":%llu,\"detector\":\"rare_detector\","
				 "\"identity\":{\"kind\":\"basic\",\"id\":\"rare-user\"},\"client_ip\":"
				 "\"192.0.2.7\",\"path\":\"/rare/path/x\",\"n\":%d}",
				 T0 + 9000000000ull + (uint64_t)i, i);
		CHECK(audit_append(a, AUDIT_ALERT, T0 + 9000000000ull + (uint64_t)i, "rare-user", ip,
				   "/rare/path/x", "rare_detector", json, (size_t)n, NULL) == 0);
	}
	char e[256];
	CHECK(audit_close(a, e, sizeof e) == 0);
	CHECK(write_log(dir, key, 6040, 7000, 8192, 0) == 0);
	bf_load(dir);
	CHECK_EQ(nbf, 7000);
	char msg[2048];
	CHECK_EQ(verify(dir, pub, NULL, msg, sizeof msg), 0);

	uint64_t skipped, total = 0;
	struct {
		const char *name;
		struct audit_query q;
		bool selective;
	} qs[] = {
		{"all", {0}, false},
		{"identity user7", {.identity = "user7"}, false},
		{"identity rare", {.identity = "rare-user"}, true},
		{"identity absent", {.identity = "nobody"}, true},
		{"identity fingerprint", {.identity = "sha256:1582469f9613629e"}, false},
		{"detector", {.detector = "new_origin"}, false},
		{"detector rare", {.detector = "rare_detector"}, true},
		{"type alert", {.types = 1u << AUDIT_ALERT}, false},
		{"type event", {.types = 1u << AUDIT_EVENT}, false},
		{"path literal", {.path_glob = "/admin/export"}, false},
		{"path literal absent", {.path_glob = "/nope"}, true},
		{"path star", {.path_glob = "/v1/users/*"}, false},
		{"path star mid", {.path_glob = "/v1/users/*/orders"}, false},
		{"path globstar", {.path_glob = "/admin/**"}, false},
		{"path globstar lead", {.path_glob = "/**/delete"}, false},
		{"path partial segment", {.path_glob = "/v2/items/9*"}, false},
		{"path deep", {.path_glob = "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s/1"}, false},
		{"path deep star", {.path_glob = "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/*"}, false},
		{"path rare", {.path_glob = "/rare/**"}, true},
		{"since", {.has_since = true, .since_us = T0 + 5000000ull}, true},
		{"until", {.has_until = true, .until_us = T0 + 700000ull}, true},
		{"window", {.has_since = true, .since_us = T0 + 2000000ull, .has_until = true,
			    .until_us = T0 + 2300000ull}, true},
		{"combo", {.identity = "user3", .path_glob = "/v1/**", .types = 1u << AUDIT_EVENT},
		 false},
		{"combo alert", {.identity = "user9", .types = 1u << AUDIT_ALERT,
				 .detector = "enumeration"}, false},
	};
	for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
		total += compare(dir, qs[i].name, qs[i].q, &skipped);
		if (qs[i].selective && skipped == 0)
			fprintf(stderr, "  query %s skipped no segment\n", qs[i].name);
		if (qs[i].selective)
			CHECK(skipped > 0);
		struct audit_query full = qs[i].q;
		full.no_index = true;
		compare(dir, qs[i].name, full, NULL);
	}
	/* Addresses: exact v4, v4 network, exact v6, v6 network, the rare one. */
	const char *ips[] = {"10.0.1.7", "10.1.0.0/16", "2001:db8::3", "2001:db8::/64", "192.0.2.7",
			     "10.9.9.9"};
	for (size_t i = 0; i < sizeof ips / sizeof ips[0]; i++) {
		struct audit_query q = {.has_ip = true};
		CHECK(audit_parse_ip(ips[i], q.ip, &q.ip_prefix) == 0);
		total += compare(dir, ips[i], q, &skipped);
		if (i >= 4)
			CHECK(skipped > 0);
	}
	CHECK(total > 0);
	/* Without some indexes: rebuilt by scanning, same results, and written back. */
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	for (uint64_t s = 0; s < 40; s += 3) {
		char name[32];
		audit_idx_name(s, name, sizeof name);
		unlinkat(dfd, name, 0);
	}
	compare(dir, "identity rare, indexes rebuilt", (struct audit_query){.identity = "rare-user"},
		NULL);
	struct stat st;
	CHECK(fstatat(dfd, "seg-000000000003.idx", &st, 0) == 0);
	close(dfd);
	compare(dir, "identity rare, again", (struct audit_query){.identity = "rare-user"}, &skipped);
	CHECK(skipped > 0);
	/* The table for people: a header and one row per match. */
	char out[320];
	snprintf(out, sizeof out, "%s/table.txt", tmproot);
	FILE *f = fopen(out, "w+");
	struct audit_query tq = {.identity = "rare-user", .table = true};
	struct audit_search_stats sst;
	CHECK(audit_search(dir, &tq, f, &sst, e, sizeof e) == 0);
	rewind(f);
	char line[512];
	int lines = 0;
	while (fgets(line, sizeof line, f))
		lines++;
	fclose(f);
	CHECK_EQ(lines, 41);
}

/* ------------------------------------------------------- retention, proofs */

static int run_proof(const char *dir, bool inclusion, uint64_t n, uint64_t size, char *proof,
		     size_t cap)
{
	char out[320], e[512];
	snprintf(out, sizeof out, "%s/proof.json", tmproot);
	FILE *f = fopen(out, "w+");
	int rc = audit_prove(dir, inclusion, n, size, f, e, sizeof e);
	if (rc)
		fprintf(stderr, "  prove: %s\n", e);
	rewind(f);
	size_t len = fread(proof, 1, cap - 1, f);
	proof[len] = '\0';
	fclose(f);
	return rc;
}

static void test_proofs(void)
{
	char proof[65536], msg[1024];
	uint64_t recs[] = {0, 1, 127, 128, 1717, 3999};
	for (size_t i = 0; i < sizeof recs / sizeof recs[0]; i++) {
		CHECK_EQ(run_proof(pristine, true, recs[i], 0, proof, sizeof proof), 0);
		CHECK_EQ(audit_check_proof(proof, strlen(proof), pub, NULL, msg, sizeof msg), 0);
		CHECK(contains(msg, "signed head checks"));
	}
	CHECK_EQ(audit_check_proof(proof, strlen(proof), pub2, NULL, msg, sizeof msg), 1);
	CHECK_EQ(audit_check_proof(proof, strlen(proof), NULL, NULL, msg, sizeof msg), 0);
	CHECK(contains(msg, "not checked"));
	/* A proof to a smaller tree. */
	CHECK_EQ(run_proof(pristine, true, 100, 1000, proof, sizeof proof), 0);
	CHECK_EQ(audit_check_proof(proof, strlen(proof), pub, NULL, msg, sizeof msg), 0);
	/* Tampered proof: one path hash. */
	CHECK_EQ(run_proof(pristine, true, 1717, 0, proof, sizeof proof), 0);
	char *path = strstr(proof, "\"path\":[\"");
	if (path) {
		path[10] = path[10] == '0' ? '1' : '0';
		CHECK_EQ(audit_check_proof(proof, strlen(proof), pub, NULL, msg, sizeof msg), 1);
		CHECK(contains(msg, "fails"));
	}
	/* Tampered entry: the JSON no longer hashes to the leaf. */
	CHECK_EQ(run_proof(pristine, true, 1717, 0, proof, sizeof proof), 0);
	char *entry = strstr(proof, "\"entry\":\"");
	if (entry) {
		entry[9 + 100] = entry[9 + 100] == 'a' ? 'b' : 'a';
		CHECK_EQ(audit_check_proof(proof, strlen(proof), pub, NULL, msg, sizeof msg), 1);
	}
	/* Consistency between heads, and from any size. */
	uint64_t froms[] = {1, 128, 1000, 2048, 3999, 4000};
	for (size_t i = 0; i < sizeof froms / sizeof froms[0]; i++) {
		CHECK_EQ(run_proof(pristine, false, froms[i], 0, proof, sizeof proof), 0);
		CHECK_EQ(audit_check_proof(proof, strlen(proof), pub, NULL, msg, sizeof msg), 0);
		CHECK(contains(msg, "prefix"));
	}
	CHECK_EQ(run_proof(pristine, false, head_near(pristine, 1280), 0, proof, sizeof proof), 0);
	CHECK(strstr(proof, "\"first_sth\"") != NULL);
	CHECK_EQ(audit_check_proof(proof, strlen(proof), pub, NULL, msg, sizeof msg), 0);
	CHECK(contains(msg, "signed heads check"));
	CHECK(run_proof(pristine, true, 4000, 0, proof, sizeof proof) != 0);
	CHECK_EQ(audit_check_proof("{}", 2, NULL, NULL, msg, sizeof msg), 2);
}

static void test_retention(void)
{
	char dir[300], msg[2048], e[512];
	tmpdir(dir, sizeof dir, "retain");
	rng_state = 777;
	CHECK(write_log(dir, key, 0, 3000, 8192, 0) == 0);
	uint64_t before_n = last_seq(dir);
	struct audit *a = open_log(dir, key, 8192, 0);
	CHECK(a != NULL);
	if (!a)
		return;
	uint64_t removed = 0;
	/* Records are ~1 ms apart: the segments wholly before +1.5 s go. */
	CHECK(audit_retain(a, T0 + 1500000ull, 0, &removed) == 0);
	CHECK(removed > 3);
	CHECK(audit_close(a, e, sizeof e) == 0);
	CHECK_EQ(verify(dir, pub, NULL, msg, sizeof msg), 0);
	CHECK(contains(msg, "removed by signed retention"));
	CHECK(last_seq(dir) >= before_n);
	/* Search sees what is left, proofs work from the cut on. */
	bf_load(dir);
	compare(dir, "after retention", (struct audit_query){.identity = "user5"}, NULL);
	char proof[65536];
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	struct audit_seglist sl;
	audit_seglist_read(dfd, &sl);
	struct audit_reader r;
	char name[32];
	audit_seg_name(sl.seq[0], name, sizeof name);
	CHECK(audit_reader_open(&r, dfd, name) == AUDIT_HDR_OK);
	uint64_t start = r.hdr.first;
	audit_reader_close(&r);
	audit_seglist_free(&sl);
	close(dfd);
	CHECK(start > 0);
	CHECK_EQ(run_proof(dir, true, start + 5, 0, proof, sizeof proof), 0);
	CHECK_EQ(audit_check_proof(proof, strlen(proof), pub, NULL, msg, sizeof msg), 0);
	CHECK_EQ(run_proof(dir, false, start + 1, 0, proof, sizeof proof), 0);
	CHECK_EQ(audit_check_proof(proof, strlen(proof), pub, NULL, msg, sizeof msg), 0);
	CHECK(run_proof(dir, true, start - 1, 0, proof, sizeof proof) != 0);
	/* The retention record names what went. */
	char out[320];
	snprintf(out, sizeof out, "%s/ret.out", tmproot);
	FILE *f = fopen(out, "w+");
	struct audit_query q = {.types = 1u << AUDIT_INTERNAL};
	CHECK(audit_search(dir, &q, f, NULL, e, sizeof e) == 0);
	rewind(f);
	char line[8192] = "";
	CHECK(fgets(line, sizeof line, f) != NULL);
	fclose(f);
	CHECK(contains(line, "\"type\":\"audit_retention\""));
	CHECK(contains(line, "\"segment\":\"seg-000000000000.log\""));
	CHECK(contains(line, "\"sha256\""));
	/* More written after it still verifies; then keep 3. */
	CHECK(write_log(dir, key, 3001, 4000, 8192, 0) == 0);
	CHECK_EQ(verify(dir, pub, NULL, msg, sizeof msg), 0);
	a = open_log(dir, key, 8192, 0);
	CHECK(a != NULL);
	if (!a)
		return;
	CHECK(audit_retain(a, 0, 3, &removed) == 0);
	CHECK(removed > 0);
	CHECK(audit_close(a, e, sizeof e) == 0);
	CHECK_EQ(verify(dir, pub, NULL, msg, sizeof msg), 0);
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	audit_seglist_read(dfd, &sl);
	CHECK(sl.n >= 3 && sl.n <= 4); /* the retention record may start one more */
	/* One more segment removed by hand is tampering, retention or not. */
	audit_seg_name(sl.seq[0], name, sizeof name);
	unlinkat(dfd, name, 0);
	audit_seglist_free(&sl);
	close(dfd);
	CHECK_EQ(verify(dir, pub, NULL, msg, sizeof msg), 1);
	CHECK(contains(msg, "no signed retention record"));
}

/* --------------------------------------------------------------- driver */

static int writer_main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: test_audit write DIR N [KEY|-] [SEGMENT] [BUFFER] [PAD]\n");
		return 2;
	}
	struct audit_options o;
	audit_options_default(&o);
	o.dir = argv[2];
	o.key_path = argc > 4 && strcmp(argv[4], "-") != 0 ? argv[4] : NULL;
	if (argc > 5)
		o.segment_bytes = strtoull(argv[5], NULL, 10);
	if (argc > 6) {
		/* Given a buffer: it goes to the kernel only when full (crash tests). */
		o.buffer_bytes = strtoull(argv[6], NULL, 10);
		o.flush_interval_ms = 3600000;
		o.sth_interval_ms = 3600000;
		o.sth_every = 0;
	}
	size_t pad = argc > 7 ? strtoull(argv[7], NULL, 10) : 0;
	if (pad > 900)
		pad = 900;
	o.repair = true;
	o.fsync = AUDIT_FSYNC_NEVER;
	uint64_t n = strtoull(argv[3], NULL, 10);
	char e[512];
	int st;
	struct audit *a = audit_open(&o, &st, e, sizeof e);
	if (!a) {
		fprintf(stderr, "test_audit write: %s\n", e);
		return st;
	}
	rng_state = 4242 + audit_next_record(a);
	for (uint64_t i = audit_next_record(a), end = n ? i + n : UINT64_MAX; i < end; i++)
		if (append_gen(a, i, pad) != 0) {
			fprintf(stderr, "test_audit write: %s\n", audit_error(a));
			return 1;
		}
	if (audit_close(a, e, sizeof e) != 0) {
		fprintf(stderr, "test_audit write: %s\n", e);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "audit") == 0)
		return audit_main(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "write") == 0)
		return writer_main(argc, argv);
	snprintf(tmproot, sizeof tmproot, "/tmp/test_audit.XXXXXX");
	if (!mkdtemp(tmproot)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_crc32c);
	RUN(test_rfc6962_vectors);
	RUN(test_merkle_bruteforce);
	RUN(test_glob);
	RUN(test_time_and_ip);
	RUN(test_bloom);
	RUN(test_keys);
	RUN(test_append_reopen_verify);
	RUN(make_pristine);
	RUN(test_untouched);
	RUN(test_tamper_changed_byte);
	RUN(test_tamper_changed_byte_crc_fixed);
	RUN(test_tamper_removed_record);
	RUN(test_tamper_inserted_record);
	RUN(test_tamper_reordered);
	RUN(test_tamper_truncated);
	RUN(test_tamper_segments);
	RUN(test_tamper_forged_head);
	RUN(test_tamper_appended);
	RUN(test_tamper_index);
	RUN(test_torn_tail_and_repair);
	RUN(test_crash_kill9);
	RUN(test_proofs);
	RUN(test_search_vs_bruteforce);
	RUN(test_retention);
	bf_load(NULL); /* frees */
	rm_rf(tmproot);
	return unit_done("test_audit");
}
