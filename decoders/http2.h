/*
 * http2.h - passive HTTP/2 decoder of one connection (RFC 9113 frames, RFC 7541
 * HPACK through libnghttp2's inflater), one frame parser per direction.
 *
 * The owner feeds each direction's reassembled bytes in pieces of any size and
 * gets callbacks per decoded header block, per run of DATA bytes, per
 * END_STREAM, RST_STREAM and GOAWAY. The decoder knows frames, not streams: it
 * keeps no per-stream state (the owner does), so its memory does not grow with
 * the number of streams.
 *
 * Damage. A direction that starts mid-connection, or loses bytes to a gap
 * outside a DATA payload, first looks for a frame boundary again. Its HPACK
 * dynamic table is then lost for good: later header blocks go to a fresh
 * inflater, every field that refers to an entry inserted before the damage is
 * dropped (never guessed), and the block is delivered with `partial` set.
 *
 * Hostile input. The compressed header block, the decoded header list, the
 * CONTINUATION frames per block, the HPACK table size and all memory (inflater
 * included, through a counting nghttp2_mem) are capped per connection; each
 * violation is counted in h2_stats and degrades as documented in http2.c.
 */
#ifndef TAPIR_HTTP2_H
#define TAPIR_HTTP2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Frame types (RFC 9113 6). */
enum h2_frame_type {
	H2_DATA = 0x0,
	H2_HEADERS = 0x1,
	H2_PRIORITY = 0x2,
	H2_RST_STREAM = 0x3,
	H2_SETTINGS = 0x4,
	H2_PUSH_PROMISE = 0x5,
	H2_PING = 0x6,
	H2_GOAWAY = 0x7,
	H2_WINDOW_UPDATE = 0x8,
	H2_CONTINUATION = 0x9,
};

struct h2_limits {
	uint32_t max_frame_size;    /* frame length believed while resynchronising (16384) */
	uint32_t max_block_bytes;   /* compressed header block buffered per direction (64 KiB) */
	uint32_t max_header_list;   /* decoded fields kept per block, name+value+32 each (64 KiB) */
	uint32_t max_continuations; /* CONTINUATION frames in one header block (32) */
	uint32_t max_table_size;    /* HPACK dynamic table size an encoder may use (64 KiB) */
	uint32_t max_memory;        /* bytes per connection, HPACK tables included (512 KiB) */
	uint32_t max_resync_bytes;  /* bytes searched for a frame boundary before giving up (1 MiB) */
	uint32_t max_streams;       /* streams tracked per connection, by h2session (128) */
	uint32_t memo_bytes;        /* decoded request literals remembered, 0 = off (4 KiB) */
};

/* The defaults, each with its reason in http2.c. */
void h2_limits_default(struct h2_limits *lim);

enum h2_stat {
	/* frames */
	H2_STAT_FRAMES,
	H2_STAT_FRAME_DATA,
	H2_STAT_FRAME_HEADERS,
	H2_STAT_FRAME_PRIORITY,
	H2_STAT_FRAME_RST_STREAM,
	H2_STAT_FRAME_SETTINGS,
	H2_STAT_FRAME_PUSH_PROMISE,
	H2_STAT_FRAME_PING,
	H2_STAT_FRAME_GOAWAY,
	H2_STAT_FRAME_WINDOW_UPDATE,
	H2_STAT_FRAME_CONTINUATION,
	H2_STAT_FRAME_UNKNOWN,      /* unknown types, skipped (RFC 9113 5.5) */
	H2_STAT_BAD_FRAMES,         /* malformed: bad padding or length, CONTINUATION out of place */
	H2_STAT_OVERSIZE_FRAMES,    /* longer than the peer's SETTINGS_MAX_FRAME_SIZE (still followed) */
	H2_STAT_BAD_PREFACE,        /* client bytes that did not start with the connection preface */
	/* header blocks and HPACK */
	H2_STAT_HEADER_BLOCKS,      /* blocks delivered */
	H2_STAT_HPACK_ERRORS,       /* blocks the inflater rejected */
	H2_STAT_HPACK_LOST,         /* times a direction lost its dynamic table (start, gap, error, cap) */
	H2_STAT_FIELDS_DROPPED,     /* fields not decodable: they named a lost table entry */
	H2_STAT_PARTIAL_BLOCKS,     /* blocks delivered with fields missing */
	H2_STAT_TABLE_SIZE_CAPPED,  /* SETTINGS_HEADER_TABLE_SIZE above max_table_size */
	H2_STAT_TABLE_SIZE_UNANNOUNCED, /* table size updates above any SETTINGS seen (accepted) */
	H2_STAT_MEMO_HITS,          /* literals taken from the memo, not inflated again */
	/* damage */
	H2_STAT_GAPS,               /* gaps reported */
	H2_STAT_GAPS_BRIDGED,       /* ... that fell inside a payload: frame sync kept */
	H2_STAT_RESYNCS,            /* frame boundaries found again */
	H2_STAT_BYTES_SKIPPED,      /* bytes passed over while looking for a boundary */
	H2_STAT_GAVE_UP,            /* directions abandoned: no boundary within max_resync_bytes */
	/* caps */
	H2_STAT_CONTINUATION_FLOOD, /* blocks cut at max_continuations */
	H2_STAT_BLOCK_TOO_BIG,      /* blocks cut at max_block_bytes */
	H2_STAT_HEADER_LIST_TOO_BIG,/* blocks whose fields were cut at max_header_list */
	H2_STAT_MEMORY_CAP,         /* allocations refused at max_memory */
	H2_STAT_HEADERS_OFF,        /* connections whose header decoding stopped (memory) */
	H2_STAT_MEMORY,             /* bytes held now by all decoders (a gauge) */
	H2_STAT_MEMORY_PEAK,        /* most ever held at once */
	/* exchanges (counted by h2session) */
	H2_STAT_CONNECTIONS,
	H2_STAT_UPGRADES,           /* h2c: HTTP/1.1 Upgrade answered 101 */
	H2_STAT_MIDSTREAM,          /* connections taken up without their start */
	H2_STAT_ROLES_SWAPPED,      /* ... whose client turned out to be the other side */
	H2_STAT_STREAMS,            /* streams tracked */
	H2_STAT_EVENTS,             /* events emitted */
	H2_STAT_NO_RESPONSE,        /* ... of which with status null */
	H2_STAT_RESETS,             /* streams ended by RST_STREAM */
	H2_STAT_GOAWAY_REFUSED,     /* streams ended by GOAWAY (above its last-stream-id) */
	H2_STAT_PUSHES,             /* pushed streams (PUSH_PROMISE) */
	H2_STAT_PARTIAL,            /* events marked partial */
	H2_STAT_STREAMS_EVICTED,    /* emitted early: more than max_streams open */
	H2_STAT_ORPHANS,            /* header blocks or trailers for a stream with no request */
	H2_STAT__COUNT
};

struct h2_stats {
	uint64_t v[H2_STAT__COUNT];
};

extern const char *const h2_stat_names[H2_STAT__COUNT];

/* One decoded header field; points into decoder memory valid during the call. */
struct h2_field {
	const char *name;
	size_t namelen;
	const char *value;
	size_t valuelen;
};

enum h2_block_kind {
	H2_BLOCK_REQUEST,  /* client fields with pseudo-headers, or a PUSH_PROMISE's request */
	H2_BLOCK_RESPONSE, /* server fields with :status (interim 1xx included) */
	H2_BLOCK_TRAILERS, /* a complete block without pseudo-headers (RFC 9113 8.1) */
	H2_BLOCK_UNKNOWN,  /* a partial block whose pseudo-headers did not survive */
};

struct h2_block {
	uint32_t stream_id;   /* the stream the HEADERS or PUSH_PROMISE came on */
	uint32_t promised_id; /* PUSH_PROMISE: the promised stream; else 0 */
	enum h2_block_kind kind;
	bool partial;         /* fields were dropped: lost HPACK context, a cap, an error */
	uint32_t n_fields;
	const struct h2_field *fields; /* in wire order, pseudo-headers first */
};

struct h2_callbacks {
	/* A complete header block (HEADERS or PUSH_PROMISE plus CONTINUATIONs). */
	void (*on_headers)(void *ctx, bool from_client, const struct h2_block *b);
	/* n DATA bytes of stream_id (padding excluded); `missing`: lost to a gap. */
	void (*on_data)(void *ctx, bool from_client, uint32_t stream_id, uint64_t n,
			bool missing);
	/* END_STREAM from this direction (after its block's on_headers). */
	void (*on_end_stream)(void *ctx, bool from_client, uint32_t stream_id);
	void (*on_rst_stream)(void *ctx, bool from_client, uint32_t stream_id, uint32_t error);
	void (*on_goaway)(void *ctx, bool from_client, uint32_t last_stream_id, uint32_t error);
	/* Frames of this direction may be lost (a gap outside a payload): any
	 * stream still open in it may have lost HEADERS, DATA or END_STREAM. */
	void (*on_lost)(void *ctx, bool from_client);
};

struct h2_conn; /* opaque */

/*
 * Creates the decoder of one connection. `midstream`: the start was not seen,
 * so both directions begin by looking for a frame boundary with a lost HPACK
 * context, and which one is the client's is only the owner's guess (frame
 * checks accept either; blocks are classified by their pseudo-headers);
 * otherwise the client direction begins with the 24-byte preface and the
 * server's with a frame. `stats` is shared and must outlive the decoder.
 * Returns NULL when out of memory.
 */
struct h2_conn *h2_conn_new(const struct h2_limits *lim, struct h2_stats *stats, bool midstream);
void h2_conn_free(struct h2_conn *c);

/* Bytes of one direction, in stream order; callbacks run during the call. */
void h2_feed(struct h2_conn *c, bool from_client, const uint8_t *p, size_t len,
	     const struct h2_callbacks *cb, void *ctx);

/* `len` bytes of one direction are missing at this point. */
void h2_gap(struct h2_conn *c, bool from_client, uint64_t len, const struct h2_callbacks *cb,
	    void *ctx);

/*
 * h2c (RFC 7540 3.2): the client's settings travelled in its HTTP2-Settings
 * header, which the decoder did not see, so the server's encoder may use any
 * HPACK table size up to max_table_size.
 */
void h2_conn_upgraded(struct h2_conn *c);

/* Bytes of memory the decoder holds now (for the owner's accounting). */
size_t h2_memory(const struct h2_conn *c);

/*
 * Do these bytes begin with plausible HTTP/2 frames (known type, flags the
 * type defines, reserved bit clear, length and stream id fit the type, the
 * next header plausible too when the bytes reach it)? Or with the preface?
 */
bool h2_looks_like_frames(const uint8_t *p, size_t len);

#endif
