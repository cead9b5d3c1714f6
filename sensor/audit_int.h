/*
 * audit_int.h - the audit log's on-disk format and the helpers its files share
 * (writer audit.c, audit_verify.c, audit_search.c, audit_prove.c, audit_cli.c).
 * Not for use outside sensor/audit*.c.
 *
 * A log is a directory:
 *
 *   seg-000000000000.log   segments: a header, then records, appended only
 *   seg-000000000000.idx   sidecar index of a closed segment (search only; rebuilt when missing)
 *   heads.sth              signed tree heads, 128 bytes each, appended only
 *   audit.pub              the public key of a signed log (PEM)
 *   lock                   held (flock) by the one writer
 *
 * All integers little-endian. Segment header (48 + 32 F + 4 bytes):
 *
 *    0        8       10      12      16              24              32
 *   +--------+-------+-------+-------+---------------+---------------+---------------+
 *   |"TAPIRAUD"|ver=1 | hlen  | flags | segment seq   | first record  | created (µs)  |
 *   +--------+-------+-------+-------+---------------+---------------+---------------+
 *    40      44      48                               48+32F
 *   +-------+-------+--------------- ... ------------+--------+
 *   |   F   |   0   | frontier: F x 32-byte hashes    | CRC32C |  of bytes [0, 48+32F)
 *   +-------+-------+--------------- ... ------------+--------+
 *   The frontier is the tree's state before the segment's first record (F =
 *   popcount(first record)): it chains segments, and lets a log whose oldest
 *   segments were removed by retention still be checked from there on.
 *
 * Record (8 + L bytes):
 *
 *    0        4        8       16      24              40   41   42     44     46   48
 *   +--------+--------+-------+-------+---------------+----+----+------+------+----+----
 *   | CRC32C |   L    |number | ts_us | client ip (16)|type|dlen| ilen | plen |flag| identity,
 *   +--------+--------+-------+-------+---------------+----+----+------+------+----+----
 *   (offsets from the record start; the body - the Merkle leaf - starts at 8)
 *   path, detector, then the JSON line (no newline) to the end of the body.
 *   CRC32C (Castagnoli) covers bytes [4, 8 + L): the length and the body.
 *   number is the record's index in the whole log, so a removed, inserted or
 *   reordered record is named even when its checksum is intact; type 1 event,
 *   2 alert, 3 the log's own (repair, retention); flag bit 0: has client ip.
 *   Leaf hash = SHA-256(0x00 || body).
 *
 * Signed tree head (heads.sth entry, 128 bytes):
 *
 *    0      4    5     6       8           16          24          56       64         128
 *   +------+----+-----+-------+-----------+-----------+-----------+--------+----------+
 *   |"TSTH"|ver |flags|reason | tree size | time (µs) | root hash | key id | signature|
 *   +------+----+-----+-------+-----------+-----------+-----------+--------+----------+
 *   signature = Ed25519("tapir-audit-sth-v1" || bytes [0, 64)); key id = the
 *   first 8 bytes of SHA-256 of the raw public key. Unsigned heads (flags bit 0
 *   clear) carry CRC32C of bytes [0, 64) in the first 4 signature bytes.
 *
 * Sidecar index (96 + 2^B/8 + 4 bytes): "TAPIRIDX", version, B, segment seq,
 * first record, record count, segment bytes covered, min and max packet time,
 * counts per type, k, then a blocked Bloom filter (512-bit blocks, k bits per
 * key in one block) over the keys 'i'+identity, 'a'+client ip (16 bytes),
 * 'd'+detector, 'p'+path and 'p'+each path prefix ending before a '/', then
 * CRC32C of all before it. Valid only while the segment's size equals
 * "bytes covered"; search scans segments without a valid index.
 */
#ifndef TAPIR_AUDIT_INT_H
#define TAPIR_AUDIT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "audit.h"
#include "audit_merkle.h"

#define AUDIT_SEG_MAGIC "TAPIRAUD"
#define AUDIT_IDX_MAGIC "TAPIRIDX"
#define AUDIT_HEAD_MAGIC "TSTH"
#define AUDIT_VERSION 1
#define AUDIT_SEG_HDR_FIXED 48
#define AUDIT_SEG_HDR_MAX (AUDIT_SEG_HDR_FIXED + MERKLE_LEVELS * MERKLE_HASH + 4)
#define AUDIT_REC_HDR 8
#define AUDIT_BODY_FIXED 40
#define AUDIT_JSON_MAX (4u << 20) /* far above any event or alert; bounds a reader's buffer */
#define AUDIT_BODY_MAX (AUDIT_BODY_FIXED + 2u * 65535u + 255u + AUDIT_JSON_MAX)
#define AUDIT_HEAD_SIZE 128
#define AUDIT_HEAD_CONTEXT "tapir-audit-sth-v1"
#define AUDIT_IDX_FIXED 96
#define AUDIT_BLOOM_K 6
#define AUDIT_BLOOM_MIN_LOG2 12 /* 4096 bits */
#define AUDIT_BLOOM_MAX_LOG2 26 /* 8 MiB */
#define AUDIT_PATH_PREFIXES 16  /* path prefixes put in the filter (deeper globs use the 16th) */
#define AUDIT_HEADS_FILE "heads.sth"
#define AUDIT_PUB_FILE "audit.pub"
#define AUDIT_LOCK_FILE "lock"

enum audit_head_reason {
	AUDIT_HEAD_INTERVAL = 1,
	AUDIT_HEAD_COUNT = 2,
	AUDIT_HEAD_ROTATION = 3,
	AUDIT_HEAD_CLOSE = 4,
	AUDIT_HEAD_REPAIR = 5,
	AUDIT_HEAD_RETENTION = 6,
	AUDIT_HEAD_REQUEST = 7,
};

/* ---- small helpers (audit_format.c) ---- */

uint32_t audit_crc32c(uint32_t crc, const void *data, size_t len);
void audit_put16(uint8_t *p, uint16_t v);
void audit_put32(uint8_t *p, uint32_t v);
void audit_put64(uint8_t *p, uint64_t v);
uint16_t audit_get16(const uint8_t *p);
uint32_t audit_get32(const uint8_t *p);
uint64_t audit_get64(const uint8_t *p);
void audit_hex(const uint8_t *in, size_t n, char *out); /* writes 2n chars and a NUL */
int audit_unhex(const char *s, size_t slen, uint8_t *out, size_t n);
/* snprintf into a caller's buffer, never failing */
void audit_msg(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* RFC 3339 ("2026-11-28T09:00:00Z", fractions, offsets, or a bare date) -> µs since the epoch. */
int audit_parse_time(const char *s, uint64_t *us);
/* "2026-11-28T09:00:00.123456Z"; buf of at least 32 bytes. */
void audit_format_time(uint64_t us, char *buf, size_t n);
/* "10.1.2.3", "2001:db8::1", optionally "/prefix" -> 16 bytes (IPv4 mapped) and prefix length. */
int audit_parse_ip(const char *s, uint8_t ip[16], unsigned *prefix);
void audit_format_ip(const uint8_t ip[16], char *buf, size_t n);
bool audit_ip_in(const uint8_t ip[16], const uint8_t net[16], unsigned prefix);

/* Path globs: '*' matches within one '/'-separated segment; a "**" segment, any number. */
bool audit_glob_match(const char *glob, const char *path, size_t pathlen);
/* Length of the glob's literal prefix that a matching path shares and that ends
 * before a '/' (at most AUDIT_PATH_PREFIXES deep); *whole when the glob has no '*'. */
size_t audit_glob_prefix(const char *glob, bool *whole);

/* ---- records ---- */

struct audit_rec {
	uint64_t offset; /* in the segment file */
	uint32_t len;    /* body length */
	const uint8_t *body;
	uint64_t number, ts_us;
	uint8_t ip[16];
	bool has_ip;
	enum audit_type type;
	const char *identity, *path, *detector, *json;
	size_t identity_len, path_len, detector_len, json_len;
};

/* Bytes a record needs (header and body); 0 when a field is over its cap. */
size_t audit_rec_size(size_t identity_len, size_t path_len, size_t detector_len, size_t json_len);
/* Encodes a record at dst (audit_rec_size bytes); returns its size. */
size_t audit_rec_encode(uint8_t *dst, uint64_t number, uint64_t ts_us, const uint8_t ip[16],
			enum audit_type t, const char *identity, size_t identity_len,
			const char *path, size_t path_len, const char *detector,
			size_t detector_len, const char *json, size_t json_len);
/* Decodes a body whose length and checksum were checked; -1 when its fields do not fit. */
int audit_rec_decode(const uint8_t *body, uint32_t len, struct audit_rec *r);

/*
 * The record's Merkle leaf hash, SHA-256(0x00 || body), in one pass over the
 * bytes as read: the byte before a body is the high byte of its little-endian
 * length, which is 0 for every valid record (AUDIT_BODY_MAX < 2^24). Only for
 * records from audit_reader_next (the body must follow its header).
 */
int audit_rec_leaf(struct merkle_hasher *h, const struct audit_rec *r, uint8_t out[MERKLE_HASH])
	__attribute__((warn_unused_result));

/* ---- segment files ---- */

struct audit_seg_hdr {
	uint64_t seq, first, created_us;
	uint32_t len; /* header bytes */
	unsigned nfrontier;
	uint8_t frontier[MERKLE_LEVELS][MERKLE_HASH];
};

void audit_seg_name(uint64_t seq, char *buf, size_t n);   /* seg-000000000042.log */
void audit_idx_name(uint64_t seq, char *buf, size_t n);   /* seg-000000000042.idx */
/* Encodes a header for a segment starting at tree state f. Returns its length. */
size_t audit_seg_hdr_encode(uint8_t *dst, uint64_t seq, uint64_t created_us,
			    const struct merkle_frontier *f);

enum audit_hdr_status { AUDIT_HDR_OK, AUDIT_HDR_SHORT, AUDIT_HDR_BAD };
enum audit_hdr_status audit_seg_hdr_decode(const uint8_t *p, size_t avail, struct audit_seg_hdr *h);

/* Sorted sequence numbers of the seg-*.log files in a directory. */
struct audit_seglist {
	uint64_t *seq;
	size_t n;
};
int audit_seglist_read(int dirfd, struct audit_seglist *l);
void audit_seglist_free(struct audit_seglist *l);

/* A forward reader over one segment's records. */
enum audit_read {
	AUDIT_READ_OK,
	AUDIT_READ_END,      /* clean end of file */
	AUDIT_READ_TORN,     /* an incomplete record runs to the end of the file (or zeros do) */
	AUDIT_READ_BAD_CRC,  /* a complete record whose checksum fails */
	AUDIT_READ_BAD_LEN,  /* a length that cannot be */
	AUDIT_READ_BAD_BODY, /* checksum fine, fields do not fit */
	AUDIT_READ_IO,
};

struct audit_reader {
	int fd;
	uint8_t *buf;
	size_t cap, pos, end; /* unread bytes are buf[pos, end) */
	uint64_t buf_off;     /* file offset of buf[0] */
	bool eof;
	uint64_t next;        /* offset of the next record */
	struct audit_seg_hdr hdr;
};

/*
 * Opens a segment and reads its header. Returns AUDIT_HDR_OK, AUDIT_HDR_SHORT
 * (the file ends inside the header), AUDIT_HDR_BAD, or -1 with errno for I/O.
 */
int audit_reader_open(struct audit_reader *r, int dirfd, const char *name);
enum audit_read audit_reader_next(struct audit_reader *r, struct audit_rec *rec);
void audit_reader_close(struct audit_reader *r);

/* ---- tree heads ---- */

struct audit_head {
	uint8_t version, flags;
	uint16_t reason;
	uint64_t size, time_us;
	uint8_t root[MERKLE_HASH];
	uint8_t key_id[8];
	uint8_t sig[64];
};

#define AUDIT_HEAD_SIGNED 0x01

void audit_head_encode(const struct audit_head *h, uint8_t out[AUDIT_HEAD_SIZE]);
int audit_head_decode(const uint8_t in[AUDIT_HEAD_SIZE], struct audit_head *h);
/* The signed message: context || the first 64 bytes. Returns its length (<= 96). */
size_t audit_head_message(const struct audit_head *h, uint8_t msg[96]);
/* One JSON object (no newline) into buf; returns its length, 0 when it does not fit. */
size_t audit_head_json(const struct audit_head *h, char *buf, size_t n);
/* Parses what audit_head_json wrote (or 128 raw bytes). */
int audit_head_parse(const uint8_t *text, size_t len, struct audit_head *h, char *err,
		     size_t errlen);
const char *audit_head_reason_name(unsigned reason);

/* ---- keys (audit_key.c: the audit log's only user of OpenSSL's signatures) ---- */

struct audit_key;

/* A private key from PEM; refuses one readable by group or others (*status 2). */
struct audit_key *audit_key_load_private(const char *path, int *status, char *err, size_t errlen);
/* A public key from PEM (SubjectPublicKeyInfo, or a private key's public half). */
struct audit_key *audit_key_load_public(const char *path, char *err, size_t errlen);
struct audit_key *audit_key_load_public_at(int dirfd, const char *name, char *err, size_t errlen);
void audit_key_free(struct audit_key *k);
void audit_key_id(const struct audit_key *k, uint8_t id[8]);
/* True when both hold the same public key. */
bool audit_key_same(const struct audit_key *a, const struct audit_key *b);
/* Writes the public key as PEM to dirfd/name (atomically, mode 0644). */
int audit_key_write_public_at(const struct audit_key *k, int dirfd, const char *name, char *err,
			      size_t errlen);
int audit_key_sign(const struct audit_key *k, const uint8_t *msg, size_t n, uint8_t sig[64]);
bool audit_key_verify(const struct audit_key *k, const uint8_t *msg, size_t n,
		      const uint8_t sig[64]);

/* Fills key_id and sig (or the CRC of an unsigned head when k is NULL). */
int audit_head_sign(struct audit_head *h, const struct audit_key *k);
/* With k: the key id and signature check. Without: an unsigned head's CRC. */
bool audit_head_check(const struct audit_head *h, const struct audit_key *k);

/* ---- segment statistics and the sidecar index ---- */

struct audit_bloom {
	uint8_t *bits;
	unsigned log2; /* 2^log2 bits */
};

struct audit_segstat {
	uint64_t count, min_ts, max_ts;
	uint64_t n_type[4];
	struct audit_bloom bloom;
	unsigned log2_full; /* the filter's size before folding */
};

/* Bloom size for a segment of up to `bytes` bytes. */
unsigned audit_bloom_log2_for(uint64_t bytes);
int audit_segstat_init(struct audit_segstat *s, unsigned log2);
void audit_segstat_reset(struct audit_segstat *s);
void audit_segstat_free(struct audit_segstat *s);
void audit_segstat_add(struct audit_segstat *s, const struct audit_rec *r);
/* The keys of a record in a filter (false: the filter lacks one: it would make search miss it). */
bool audit_bloom_holds_rec(const struct audit_bloom *b, const struct audit_rec *r);
bool audit_bloom_has(const struct audit_bloom *b, char tag, const void *data, size_t len);
/* Halves the filter while the result stays sparse enough; done before writing. */
void audit_bloom_fold(struct audit_bloom *b);

struct audit_index {
	uint64_t seq, first, count, covered, min_ts, max_ts;
	uint64_t n_type[4];
	struct audit_bloom bloom; /* owned */
};

/* Writes seg-SEQ.idx atomically (temporary file, rename); folds s's filter. */
int audit_index_write(int dirfd, uint64_t seq, uint64_t first, uint64_t covered,
		      struct audit_segstat *s, bool sync);
/* Reads and checks (magic, CRC) an index. Returns 0, or -1 when missing or bad. */
int audit_index_read(int dirfd, uint64_t seq, struct audit_index *ix);
void audit_index_free(struct audit_index *ix);

/* ---- proofs (audit_prove.c) ---- */

/*
 * Writes an inclusion proof for record `n` (inclusion) or a consistency proof
 * from tree size `n` (not inclusion), to the tree size `size` (0: the latest
 * signed head), as one JSON object. Returns the exit status, err set on failure.
 */
int audit_prove(const char *dir, bool inclusion, uint64_t n, uint64_t size, FILE *out, char *err,
		size_t errlen);
/* Checks a proof `audit_prove` wrote; returns the exit status and a one-line msg. */
int audit_check_proof(const char *text, size_t len, const char *pubkey_path, const char *sth_path,
		      char *msg, size_t msglen);

/* ---- shared odds and ends ---- */

/* Wall clock in µs (CLOCK_REALTIME). */
uint64_t audit_now_us(void);

/* Writes buf fully at fd's position; -1 with errno. */
int audit_write_all(int fd, const void *buf, size_t n);

#endif
