/*
 * audit.h - the tamper-evident audit log (`--audit DIR`, `tapir audit ...`).
 *
 * Every API event and every alert is appended, as the JSON line tapir writes,
 * to append-only segment files in DIR. The records form one Merkle tree
 * (RFC 9162 2.1: SHA-256, leaf = H(0x00 || record), node = H(0x01 || l || r))
 * across all segments; tree heads (size, root, time) are signed with Ed25519
 * at an interval, at segment rotation and at close, so anyone holding the
 * public key can check that no record was altered, removed, inserted or
 * reordered, and can be given short proofs that a record is in the log
 * (inclusion) and that the log only grew (consistency).
 *
 * The on-disk format is drawn in audit_int.h. The writer is single-threaded
 * (one struct audit per DIR; a lock file keeps out a second writer); readers
 * (verify, search, prove) may run while it writes.
 *
 * Ownership: audit_open copies what it needs from the options; the handle owns
 * its files, buffers and key and audit_close frees all of it.
 */
#ifndef TAPIR_AUDIT_H
#define TAPIR_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define AUDIT_WUR __attribute__((warn_unused_result))

enum audit_type {
	AUDIT_EVENT = 1,    /* an API event */
	AUDIT_ALERT = 2,    /* an alert */
	AUDIT_INTERNAL = 3, /* the log's own records: repair, retention (written by this module) */
};

enum audit_fsync {
	AUDIT_FSYNC_NEVER,    /* leave it to the kernel (a kill -9 still loses nothing written) */
	AUDIT_FSYNC_INTERVAL, /* fdatasync every fsync_interval_ms and before each signed head */
	AUDIT_FSYNC_ALWAYS,   /* write and fdatasync every record (slow: one disk flush each) */
};

struct audit_options {
	const char *dir;            /* created (0750) when missing */
	const char *key_path;       /* Ed25519 private key (PEM, mode 0600); NULL: unsigned heads */
	uint64_t segment_bytes;     /* rotate past this size; default 64 MiB, at least 4 KiB */
	enum audit_fsync fsync;     /* default AUDIT_FSYNC_INTERVAL */
	uint32_t fsync_interval_ms; /* default 1000 */
	uint32_t sth_interval_ms;   /* sign a head at least this often while records arrive; default 1000 */
	uint64_t sth_every;         /* and every this many records (0 = only by time); default 65536 */
	uint32_t flush_interval_ms; /* hand buffered records to the kernel this often; default 100 */
	size_t buffer_bytes;        /* records held before a write(); default 1 MiB */
	bool repair;                /* at open, cut a torn tail and sign what a crash left
	                             * unsigned, recording both in the log; false: refuse */
	/* Wall clock in µs since the epoch for head timestamps and intervals; NULL: CLOCK_REALTIME. */
	uint64_t (*clock)(void *ctx);
	void *clock_ctx;
	/* Called with each new signed head as one JSON line (without newline), e.g. to
	 * publish it to Redis so that an outside witness holds it. May be NULL. */
	void (*on_head)(void *ctx, const char *json, size_t len);
	void *on_head_ctx;
};

/* Defaults as documented above; dir and key_path NULL. */
void audit_options_default(struct audit_options *o);

struct audit_stats {
	uint64_t records;        /* records in the log (the tree size) */
	uint64_t appended;       /* records appended by this handle */
	uint64_t bytes;          /* bytes written by this handle */
	uint64_t heads;          /* heads signed by this handle */
	uint64_t segments;       /* segments created by this handle */
	uint64_t syncs;          /* fdatasync calls */
	uint64_t repaired_bytes; /* torn-tail bytes cut at open */
	uint64_t memory;         /* bytes of memory the handle holds */
};

struct audit;

/*
 * Opens (creating or continuing) the log in o->dir. Returns the handle, or
 * NULL with a one-line reason in err and *status set to the exit status it
 * deserves: 2 for bad configuration (a private key readable by group or
 * others, a key that does not match the log's, a signed log opened without
 * its key), 1 for runtime failures (I/O, another writer holds DIR, damage
 * found). status may be NULL.
 */
struct audit *audit_open(const struct audit_options *o, int *status, char *err,
			 size_t errlen) AUDIT_WUR;

/* The number the next appended record will get (so an alert can carry it). */
uint64_t audit_next_record(const struct audit *a);

/*
 * Appends one record. json is the line tapir writes (a trailing newline is
 * dropped); identity (identity id, NULL or "" for none), ip (the client, 16
 * bytes, IPv4 mapped; NULL for none), path (NULL for none) and detector (alerts;
 * NULL for none) are the fields search filters on; ts_us is the packet time.
 * Returns 0 and stores the record's number in *record_no (may be NULL), or -1
 * (audit_error says why; the handle then refuses further appends).
 * Caps: identity and path 65535 bytes, detector 255, json 4 MiB.
 */
int audit_append(struct audit *a, enum audit_type t, uint64_t ts_us, const char *identity,
		 const uint8_t ip[16], const char *path, const char *detector, const char *json,
		 size_t len, uint64_t *record_no) AUDIT_WUR;

/* Time-driven work when no records arrive: flush, fdatasync, sign a head when due. */
int audit_tick(struct audit *a) AUDIT_WUR;

/* Flushes and signs a head now (if the tree grew since the last one). */
int audit_sign(struct audit *a) AUDIT_WUR;

/*
 * Retention: removes the oldest closed segments - those whose records are all
 * older than before_us (packet time), or all but the newest `keep` segments
 * when keep > 0 (the retention record may then start one more) - after
 * checking them against the tree and appending a signed
 * retention record that names each (file, SHA-256, records, tree size and root
 * at its end), so verify tells deletion by policy from tampering. The active
 * segment is never removed. *removed gets the number of segments removed.
 */
int audit_retain(struct audit *a, uint64_t before_us, uint64_t keep, uint64_t *removed) AUDIT_WUR;

/* Why the last call failed. */
const char *audit_error(const struct audit *a);

void audit_get_stats(const struct audit *a, struct audit_stats *s);

/* Flushes, writes the active segment's index, signs the final head, closes and
 * frees. Returns 0, or -1 when something could not be written (err, may be NULL). */
int audit_close(struct audit *a, char *err, size_t errlen);

/*
 * Writes a new Ed25519 key pair: path (private, PKCS#8 PEM, mode 0600, never
 * overwritten) and path.pub (SubjectPublicKeyInfo PEM). Returns 0, or the exit
 * status (1, 2) with a one-line reason in err.
 */
int audit_keygen(const char *path, char *err, size_t errlen);

/*
 * Search (see `tapir audit search`). Fields left zero/NULL do not filter.
 */
struct audit_query {
	const char *identity;       /* exact identity id */
	bool has_ip;
	uint8_t ip[16];             /* client address, IPv4 mapped */
	unsigned ip_prefix;         /* CIDR prefix length over the 16 bytes (128 = exact) */
	const char *path_glob;      /* "*" matches within a segment, a "**" segment any number */
	const char *detector;       /* exact detector name (alerts) */
	bool has_since, has_until;
	uint64_t since_us;          /* packet time >= since */
	uint64_t until_us;          /* packet time < until */
	unsigned types;             /* bit (1 << audit_type); 0 = events and alerts */
	bool table;                 /* a table for people instead of JSON lines */
	bool no_index;              /* scan every segment (the brute-force reference) */
};

struct audit_search_stats {
	uint64_t segments, segments_skipped, segments_indexed, records_scanned, matches;
	uint64_t damaged; /* records that could not be read (search went on past nothing) */
};

/*
 * Writes matching records to out in log order. Returns 0, 1 on a runtime
 * failure or damaged records (results may be incomplete; err says which),
 * 2 for a bad query. st may be NULL.
 */
int audit_search(const char *dir, const struct audit_query *q, FILE *out,
		 struct audit_search_stats *st, char *err, size_t errlen);

/*
 * Verification (see `tapir audit verify`). Returns the exit status: 0 when
 * every record, segment and head checks, 1 when tampering or damage is found
 * (msg names the first bad place: segment file and record number), 2 for bad
 * usage. On 0, msg holds a one-line summary; note (may be empty) a remark
 * such as records not yet covered by a head of a log being written.
 */
struct audit_verify_options {
	const char *dir;
	const char *pubkey_path; /* NULL: DIR/audit.pub when present */
	const char *sth_path;    /* a head held elsewhere (JSON as `tapir audit head` prints, or 128 bytes) */
};

int audit_verify(const struct audit_verify_options *o, char *msg, size_t msglen, char *note,
		 size_t notelen);

/*
 * `tapir audit SUBCOMMAND ...`: keygen, verify, search, repair, prove,
 * check-proof, retain, head. Call it as audit_main(argc - 1, argv + 1) when
 * argv[1] is "audit" (argv[0] "audit"); audit_main(argc, argv) with argv[1]
 * "audit" works too. Returns the exit status.
 */
int audit_main(int argc, char **argv);

#endif
