/*
 * spool.h - where alerts wait on disk while Redis cannot take them.
 *
 * One append-only file, DIR/alerts.spool, of records
 *
 *   magic "TSP1" | length u32 | CRC32C u32 (of kind and payload) | kind u8 | payload
 *
 * (little-endian), and DIR/alerts.spool.head, the offset up to which records
 * have been delivered (with its own CRC). Records are read back in the order
 * they were written. The head moves only after Redis confirmed delivery, so a
 * crash between delivery and the head's update delivers again: at least once.
 * When everything is delivered the file is emptied. A torn record at the end
 * (a crash in the middle of a write) is cut at open; a damaged record inside
 * is skipped and counted. The file never grows past max_bytes: what does not
 * fit is refused and counted. An flock keeps a second tapir out of DIR.
 *
 * dir NULL: an anonymous in-memory file (memfd), the same queue without
 * surviving a restart.
 */
#ifndef TAPIR_SPOOL_H
#define TAPIR_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#define SPOOL_RECORD_MAX (4u << 20) /* far above the largest alert line */

enum spool_kind {
	SPOOL_ALERT = 1,
	SPOOL_HEAD = 2, /* a signed audit tree head */
};

struct spool_stats {
	uint64_t records;    /* waiting now */
	uint64_t bytes;      /* waiting now */
	uint64_t file_bytes; /* the file's size */
	uint64_t max_bytes;
	uint64_t appended;
	uint64_t delivered;
	uint64_t refused;    /* did not fit under max_bytes */
	uint64_t damaged;    /* records skipped for a bad checksum or length */
	uint64_t torn_bytes; /* cut from the end at open */
};

struct spool;

/* Opens or creates. Returns NULL with a one-line err. */
struct spool *spool_open(const char *dir, uint64_t max_bytes, char *err, size_t errlen);

void spool_close(struct spool *s);

/* Appends one record: 0, 1 when it does not fit (refused, counted), -1 on an I/O error. */
int spool_append(struct spool *s, enum spool_kind kind, const void *data, size_t len);

/* Hands what was appended to the disk (fdatasync). 0 or -1. */
int spool_sync(struct spool *s);

/* Records waiting. */
uint64_t spool_pending(const struct spool *s);

/*
 * Reads the record at *pos (start with spool_read_start) and moves *pos past
 * it. The payload stays valid until the next call. Returns 1 with a record, 0
 * at the end, -1 on an I/O error.
 */
uint64_t spool_read_start(const struct spool *s);
int spool_read(struct spool *s, uint64_t *pos, enum spool_kind *kind, const char **data,
	       size_t *len);

/* Everything before pos is delivered: the head moves there (and the file empties when all is). */
int spool_commit(struct spool *s, uint64_t pos, uint64_t records);

void spool_get_stats(const struct spool *s, struct spool_stats *st);

/* Last error (for messages). */
const char *spool_error(const struct spool *s);

#endif
