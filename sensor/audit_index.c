/*
 * audit_index.c - what search needs to skip a segment without reading it: the
 * packet-time range, counts per record type and a Bloom filter over each
 * record's identity, client address, detector and path (with every prefix of
 * the path that ends before a '/', so a glob's literal head can be looked up).
 *
 * The filter is "blocked" (Putze, Sanders, Singler 2007): each key sets
 * AUDIT_BLOOM_K bits inside one 512-bit block, one cache miss per key while
 * appending. It starts sized for a full segment (segment bytes / 16 bits) and
 * is folded in half - block i OR block i + n/2, valid because the block index
 * is the hash modulo a power of two - while the folded filter stays at most
 * 40% full, so a quiet segment gets a small filter. At 40% fill a lookup is a
 * false positive about 0.4% of the time; a false positive only costs a scan.
 * Keys are hashed with FNV-1a (incremental, so every path prefix comes from
 * one pass) and the splitmix64 finalizer. Layout: audit_int.h.
 */
#include "audit_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FNV_OFFSET UINT64_C(0xcbf29ce484222325)
#define FNV_PRIME UINT64_C(0x100000001b3)
#define BLOCK_BITS 512
#define BLOCK_LOG2 9
#define FOLD_MAX_FILL 0.40

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= UINT64_C(0xbf58476d1ce4e5b9);
	x ^= x >> 27;
	x *= UINT64_C(0x94d049bb133111eb);
	x ^= x >> 31;
	return x;
}

static uint64_t fnv_add(uint64_t h, const void *data, size_t len)
{
	const uint8_t *p = data;
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= FNV_PRIME;
	}
	return h;
}

static uint64_t fnv_tag(char tag)
{
	uint8_t t = (uint8_t)tag;
	return fnv_add(FNV_OFFSET, &t, 1);
}

static uint8_t *block_of(const struct audit_bloom *b, uint64_t h1)
{
	uint64_t nblocks = UINT64_C(1) << (b->log2 - BLOCK_LOG2);
	return b->bits + (h1 & (nblocks - 1)) * (BLOCK_BITS / 8);
}

static void bloom_set(struct audit_bloom *b, uint64_t state)
{
	uint64_t h1 = mix64(state), h2 = mix64(h1 ^ UINT64_C(0x9e3779b97f4a7c15));
	uint8_t *blk = block_of(b, h1);
	for (int i = 0; i < AUDIT_BLOOM_K; i++) {
		unsigned bit = (unsigned)(h2 >> (9 * i)) & (BLOCK_BITS - 1);
		blk[bit >> 3] |= (uint8_t)(1u << (bit & 7));
	}
}

static bool bloom_test(const struct audit_bloom *b, uint64_t state)
{
	uint64_t h1 = mix64(state), h2 = mix64(h1 ^ UINT64_C(0x9e3779b97f4a7c15));
	const uint8_t *blk = block_of(b, h1);
	for (int i = 0; i < AUDIT_BLOOM_K; i++) {
		unsigned bit = (unsigned)(h2 >> (9 * i)) & (BLOCK_BITS - 1);
		if (!(blk[bit >> 3] & (1u << (bit & 7))))
			return false;
	}
	return true;
}

bool audit_bloom_has(const struct audit_bloom *b, char tag, const void *data, size_t len)
{
	return bloom_test(b, fnv_add(fnv_tag(tag), data, len));
}

unsigned audit_bloom_log2_for(uint64_t bytes)
{
	uint64_t bits = bytes / 16;
	unsigned l = AUDIT_BLOOM_MIN_LOG2;
	while (l < AUDIT_BLOOM_MAX_LOG2 && (UINT64_C(1) << l) < bits)
		l++;
	return l;
}

int audit_segstat_init(struct audit_segstat *s, unsigned log2)
{
	memset(s, 0, sizeof *s);
	s->bloom.log2 = log2;
	s->log2_full = log2;
	s->bloom.bits = calloc(1, (size_t)1 << (log2 - 3));
	s->min_ts = UINT64_MAX;
	return s->bloom.bits ? 0 : -1;
}

void audit_segstat_reset(struct audit_segstat *s)
{
	s->bloom.log2 = s->log2_full;
	memset(s->bloom.bits, 0, (size_t)1 << (s->bloom.log2 - 3));
	s->count = 0;
	s->min_ts = UINT64_MAX;
	s->max_ts = 0;
	memset(s->n_type, 0, sizeof s->n_type);
}

void audit_segstat_free(struct audit_segstat *s)
{
	free(s->bloom.bits);
	s->bloom.bits = NULL;
}

/*
 * Calls fn for each key of a record: identity, address, detector, the path
 * and each of its first AUDIT_PATH_PREFIXES prefixes that end before a '/'.
 */
static bool rec_keys(struct audit_bloom *b, const struct audit_rec *r, bool set)
{
	uint64_t keys[4 + AUDIT_PATH_PREFIXES];
	size_t n = 0;
	if (r->identity_len)
		keys[n++] = fnv_add(fnv_tag('i'), r->identity, r->identity_len);
	if (r->has_ip)
		keys[n++] = fnv_add(fnv_tag('a'), r->ip, 16);
	if (r->detector_len)
		keys[n++] = fnv_add(fnv_tag('d'), r->detector, r->detector_len);
	uint64_t h = fnv_tag('p');
	unsigned prefixes = 0;
	for (size_t i = 0; i < r->path_len; i++) {
		if (i > 0 && r->path[i] == '/' && prefixes < AUDIT_PATH_PREFIXES) {
			keys[n++] = h;
			prefixes++;
		}
		h = (h ^ (uint8_t)r->path[i]) * FNV_PRIME;
	}
	keys[n++] = h;
	for (size_t i = 0; i < n; i++) {
		if (set)
			bloom_set(b, keys[i]);
		else if (!bloom_test(b, keys[i]))
			return false;
	}
	return true;
}

void audit_segstat_add(struct audit_segstat *s, const struct audit_rec *r)
{
	s->count++;
	if (r->ts_us < s->min_ts)
		s->min_ts = r->ts_us;
	if (r->ts_us > s->max_ts)
		s->max_ts = r->ts_us;
	s->n_type[r->type & 3]++;
	rec_keys(&s->bloom, r, true);
}

bool audit_bloom_holds_rec(const struct audit_bloom *b, const struct audit_rec *r)
{
	return rec_keys((struct audit_bloom *)b, r, false);
}

static uint64_t popcount_or(const uint8_t *a, const uint8_t *b, size_t n)
{
	uint64_t c = 0;
	for (size_t i = 0; i + 8 <= n; i += 8) {
		uint64_t x, y;
		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		c += (uint64_t)__builtin_popcountll(x | y);
	}
	return c;
}

void audit_bloom_fold(struct audit_bloom *b)
{
	while (b->log2 > AUDIT_BLOOM_MIN_LOG2) {
		size_t half = (size_t)1 << (b->log2 - 4);
		uint64_t set = popcount_or(b->bits, b->bits + half, half);
		if ((double)set > FOLD_MAX_FILL * (double)half * 8)
			break;
		for (size_t i = 0; i < half; i++)
			b->bits[i] |= b->bits[half + i];
		b->log2--;
	}
}

int audit_index_write(int dirfd, uint64_t seq, uint64_t first, uint64_t covered,
		      struct audit_segstat *s, bool sync)
{
	audit_bloom_fold(&s->bloom);
	size_t bloom_bytes = (size_t)1 << (s->bloom.log2 - 3);
	uint8_t h[AUDIT_IDX_FIXED];
	memcpy(h, AUDIT_IDX_MAGIC, 8);
	audit_put32(h + 8, AUDIT_VERSION);
	audit_put32(h + 12, s->bloom.log2);
	audit_put64(h + 16, seq);
	audit_put64(h + 24, first);
	audit_put64(h + 32, s->count);
	audit_put64(h + 40, covered);
	audit_put64(h + 48, s->count ? s->min_ts : 0);
	audit_put64(h + 56, s->max_ts);
	audit_put64(h + 64, s->n_type[AUDIT_EVENT]);
	audit_put64(h + 72, s->n_type[AUDIT_ALERT]);
	audit_put64(h + 80, s->n_type[AUDIT_INTERNAL]);
	audit_put32(h + 88, AUDIT_BLOOM_K);
	audit_put32(h + 92, 0);
	uint32_t crc = audit_crc32c(0, h, sizeof h);
	crc = audit_crc32c(crc, s->bloom.bits, bloom_bytes);
	uint8_t tail[4];
	audit_put32(tail, crc);

	char name[32], tmp[64];
	audit_idx_name(seq, name, sizeof name);
	snprintf(tmp, sizeof tmp, "%s.%d.tmp", name, (int)getpid()); /* writer and search may race */
	int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		return -1;
	if (audit_write_all(fd, h, sizeof h) != 0 ||
	    audit_write_all(fd, s->bloom.bits, bloom_bytes) != 0 ||
	    audit_write_all(fd, tail, 4) != 0 || (sync && fdatasync(fd) != 0)) {
		int e = errno;
		close(fd);
		unlinkat(dirfd, tmp, 0);
		errno = e;
		return -1;
	}
	if (close(fd) != 0 || renameat(dirfd, tmp, dirfd, name) != 0) {
		int e = errno;
		unlinkat(dirfd, tmp, 0);
		errno = e;
		return -1;
	}
	return 0;
}

int audit_index_read(int dirfd, uint64_t seq, struct audit_index *ix)
{
	memset(ix, 0, sizeof *ix);
	char name[32];
	audit_idx_name(seq, name, sizeof name);
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct stat st;
	uint8_t h[AUDIT_IDX_FIXED];
	if (fstat(fd, &st) != 0 || st.st_size < AUDIT_IDX_FIXED + 4 ||
	    pread(fd, h, sizeof h, 0) != (ssize_t)sizeof h || memcmp(h, AUDIT_IDX_MAGIC, 8) != 0 ||
	    audit_get32(h + 8) != AUDIT_VERSION || audit_get32(h + 12) < AUDIT_BLOOM_MIN_LOG2 ||
	    audit_get32(h + 12) > AUDIT_BLOOM_MAX_LOG2 || audit_get32(h + 88) != AUDIT_BLOOM_K) {
		close(fd);
		return -1;
	}
	unsigned log2 = audit_get32(h + 12);
	size_t bloom_bytes = (size_t)1 << (log2 - 3);
	uint8_t tail[4];
	if ((uint64_t)st.st_size != AUDIT_IDX_FIXED + bloom_bytes + 4 ||
	    !(ix->bloom.bits = malloc(bloom_bytes)) ||
	    pread(fd, ix->bloom.bits, bloom_bytes, AUDIT_IDX_FIXED) != (ssize_t)bloom_bytes ||
	    pread(fd, tail, 4, (off_t)(AUDIT_IDX_FIXED + bloom_bytes)) != 4) {
		close(fd);
		audit_index_free(ix);
		return -1;
	}
	close(fd);
	uint32_t crc = audit_crc32c(audit_crc32c(0, h, sizeof h), ix->bloom.bits, bloom_bytes);
	if (crc != audit_get32(tail)) {
		audit_index_free(ix);
		return -1;
	}
	ix->bloom.log2 = log2;
	ix->seq = audit_get64(h + 16);
	ix->first = audit_get64(h + 24);
	ix->count = audit_get64(h + 32);
	ix->covered = audit_get64(h + 40);
	ix->min_ts = audit_get64(h + 48);
	ix->max_ts = audit_get64(h + 56);
	ix->n_type[AUDIT_EVENT] = audit_get64(h + 64);
	ix->n_type[AUDIT_ALERT] = audit_get64(h + 72);
	ix->n_type[AUDIT_INTERNAL] = audit_get64(h + 80);
	if (ix->seq != seq) {
		audit_index_free(ix);
		return -1;
	}
	return 0;
}

void audit_index_free(struct audit_index *ix)
{
	free(ix->bloom.bits);
	ix->bloom.bits = NULL;
}
