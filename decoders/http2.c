/*
 * http2.c - passive HTTP/2 decoder: frames of RFC 9113, header blocks through
 * the HPACK inflater of libnghttp2 (RFC 7541). The only user of libnghttp2 in
 * tapir, and only of its HPACK inflater: nghttp2_session is an endpoint (it
 * answers, enforces flow control, closes on errors); an observer must follow
 * whatever both peers did, so frames are parsed here.
 *
 * Frame layout (RFC 9113 4.1), read through the cursor, never cast:
 *
 *   +-----------------------------------------------+
 *   |                 Length (24)                   |
 *   +---------------+---------------+---------------+
 *   |   Type (8)    |   Flags (8)   |
 *   +-+-------------+---------------+-------------------------------+
 *   |R|                 Stream Identifier (31)                      |
 *   +=+=============================================================+
 *   |                   Frame Payload (0...)                      ...
 *
 * A payload is read as prefix | body | padding:
 *   DATA          [Pad Length(8)]            data            [Padding]  (6.1)
 *   HEADERS       [Pad Length(8)] [E+Dep(32) Weight(8)] fragment [Padding] (6.2)
 *   PUSH_PROMISE  [Pad Length(8)] R+Promised Stream ID(32) fragment [Padding] (6.6)
 *   CONTINUATION  fragment (6.10)       SETTINGS  (Id(16) Value(32))* (6.5.1)
 *   RST_STREAM    Error Code(32) (6.4)  GOAWAY    R+Last-Stream-ID(32) Error(32) debug (6.8)
 *   PRIORITY, PING, WINDOW_UPDATE and unknown types (5.5) are counted and skipped.
 *
 * Per direction the parser is a state machine:
 *   WAIT_PREFACE (client, RFC 9113 3.4) -> WAIT_HEADER -> WAIT_PAYLOAD -> WAIT_HEADER ...
 *   damage (midstream start, a gap not inside a payload, a bad preface) -> WAIT_SYNC
 *   --plausible header (and the next one, when the bytes reach it)--> WAIT_HEADER;
 *   no boundary within max_resync_bytes -> FAILED (sticky, counted).
 * A frame longer than the receiver's SETTINGS_MAX_FRAME_SIZE would be refused
 * by the receiver; the observer counts it and follows its length (a search
 * for a boundary believes only frames up to that size). Midstream, the owner
 * only guesses which side is the client, so the search accepts the stream ids
 * of either side and blocks are classified by their pseudo-headers.
 * Only a frame header cut by the piece boundary (at most 8 bytes) and header
 * block fragments (up to max_block_bytes) are copied; DATA is counted, never
 * copied. A HEADERS frame with END_HEADERS that lies whole in the piece is
 * decoded in place.
 *
 * HPACK. One inflater per direction for the connection's life, allocating
 * through a counting nghttp2_mem (memory is reported and capped per
 * connection). SETTINGS_HEADER_TABLE_SIZE sent by one side bounds the table
 * the *other* side's encoder may use (RFC 9113 6.5.2), so it is applied to the
 * inflater of the opposite direction, capped at max_table_size, and applied
 * when the SETTINGS frame is seen, but only when it raises the bound: raising
 * what the inflater accepts is harmless even before the encoder has
 * acknowledged, while lowering it early would make the inflater demand a
 * table size update in blocks the encoder legally sent before its ACK. What
 * the table really is follows the encoder's own in-band dynamic table size
 * updates (RFC 7541 6.3), which arrive in order with the blocks they govern.
 * An update above every SETTINGS seen means those SETTINGS were not seen (a
 * server's SETTINGS often precede the client preface; h2c carries the
 * client's in HTTP2-Settings): it is accepted up to the cap, and counted.
 *
 * Lost context. After damage in a direction, its dynamic table is lost; the
 * direction gets a fresh inflater and stays in "lost" mode. Entries inserted
 * after the damage are still the newest ones, at the same indices as in the
 * encoder's table, so whatever the fresh inflater can resolve is right. In
 * lost mode every representation of a block is first read here (RFC 7541 6:
 * only its type, index and string lengths; nghttp2 does the decoding) and
 * checked against the table before the inflater sees it: an indexed field or
 * a literal whose name index lies beyond the table is dropped and counted;
 * a literal with incremental indexing whose name is lost is given to the
 * inflater with a placeholder name, so that its entry still takes its slot
 * and later indices stay aligned; any field that comes out with the
 * placeholder name is dropped. Such blocks are delivered `partial`. Nothing
 * is ever guessed.
 *
 * Literal memo. Requests repeat literals that leave the dynamic table alone
 * (RFC 7541 6.2.2, 6.2.3): nghttp2, curl, Go and others send `authorization`
 * never indexed and :path without indexing, so every request carries the same
 * Huffman-coded JWT. In a whole client block whose table is in sync, such a
 * literal whose name is a static index or a string is looked up by its exact
 * bytes in a small memo (hpack_memo.c): found, its remembered field is
 * collected and the inflater never sees it; not found, it goes to the
 * inflater alone and what comes out is remembered (inflate_memo). The memo
 * (memo_bytes per connection) is counted in the connection's memory, takes
 * memory only where it fits under max_memory, and is shed before any other
 * allocation would be refused: it never makes one fail. A hit spares the
 * inflater's transient string buffers, so at the very edge of max_memory a
 * connection may go on decoding headers where it would have stopped.
 *
 * Caps and their degrade, per connection, each counted in h2_stats:
 *   - a header block longer than max_block_bytes, or with more than
 *     max_continuations CONTINUATION frames (the 2024 CONTINUATION flood):
 *     the block is cut, what was decodable is delivered partial, the rest of
 *     the block is skipped unbuffered, and the direction's HPACK context is
 *     lost (the skipped part could have inserted entries);
 *   - decoded fields beyond max_header_list: not kept (partial) but still
 *     inflated, so the table stays in sync;
 *   - SETTINGS_HEADER_TABLE_SIZE above max_table_size: capped; an encoder
 *     that goes beyond it fails HPACK and the direction's context is lost;
 *   - an allocation beyond max_memory: header decoding stops for the
 *     connection (inflaters and buffers freed); frames, DATA counts and
 *     stream ends go on, and blocks are delivered empty and partial.
 */
#include "http2.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <nghttp2/nghttp2.h>

#include "cursor.h"
#include "hpack_memo.h"

#define H2_HDR_LEN 9
static const uint8_t h2_preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
#define H2_PREFACE_LEN 24

#define H2_FLAG_END_STREAM 0x01
#define H2_FLAG_ACK 0x01
#define H2_FLAG_END_HEADERS 0x04
#define H2_FLAG_PADDED 0x08
#define H2_FLAG_PRIORITY 0x20

#define H2_SETTINGS_HEADER_TABLE_SIZE 0x1
#define H2_SETTINGS_MAX_FRAME_SIZE 0x5

#define H2_INITIAL_FRAME_SIZE 16384u   /* RFC 9113 6.5.2 */
#define H2_MAX_FRAME_SIZE 16777215u    /* 2^24-1, RFC 9113 6.5.2 */
#define H2_INITIAL_TABLE_SIZE 4096u    /* RFC 7541 4.2, RFC 9113 6.5.2 */
#define H2_FIELD_OVERHEAD 32u          /* RFC 9113 6.5.2 / RFC 7541 4.1 */

/* A field arena this big or smaller stays allocated between blocks. */
#define H2_ARENA_KEEP 4096u
/* Strings in an HPACK representation longer than this are malformed: the
 * inflater itself refuses fields above 64 KiB (NGHTTP2_HD_MAX_NV). */
#define H2_HPACK_MAX_INT (1u << 24)
/* Entries of the static table (RFC 7541 Appendix A); higher indices are dynamic. */
#define H2_STATIC_ENTRIES 61u
/* Literal values encoded shorter than this are quick to inflate: not memoised. */
#define H2_MEMO_MIN_VALUE 8u

/* Name given to a literal whose real name was in the lost part of the table.
 * It cannot come off the wire as a valid field name (RFC 9113 8.2.1). */
static const uint8_t lost_name[] = {0x01, 'l', 'o', 's', 't'};

const char *const h2_stat_names[H2_STAT__COUNT] = {
	[H2_STAT_FRAMES] = "frames",
	[H2_STAT_FRAME_DATA] = "frames_data",
	[H2_STAT_FRAME_HEADERS] = "frames_headers",
	[H2_STAT_FRAME_PRIORITY] = "frames_priority",
	[H2_STAT_FRAME_RST_STREAM] = "frames_rst_stream",
	[H2_STAT_FRAME_SETTINGS] = "frames_settings",
	[H2_STAT_FRAME_PUSH_PROMISE] = "frames_push_promise",
	[H2_STAT_FRAME_PING] = "frames_ping",
	[H2_STAT_FRAME_GOAWAY] = "frames_goaway",
	[H2_STAT_FRAME_WINDOW_UPDATE] = "frames_window_update",
	[H2_STAT_FRAME_CONTINUATION] = "frames_continuation",
	[H2_STAT_FRAME_UNKNOWN] = "frames_unknown",
	[H2_STAT_BAD_FRAMES] = "bad_frames",
	[H2_STAT_OVERSIZE_FRAMES] = "oversize_frames",
	[H2_STAT_BAD_PREFACE] = "bad_preface",
	[H2_STAT_HEADER_BLOCKS] = "header_blocks",
	[H2_STAT_HPACK_ERRORS] = "hpack_errors",
	[H2_STAT_HPACK_LOST] = "hpack_lost",
	[H2_STAT_FIELDS_DROPPED] = "fields_dropped",
	[H2_STAT_PARTIAL_BLOCKS] = "partial_blocks",
	[H2_STAT_TABLE_SIZE_CAPPED] = "table_size_capped",
	[H2_STAT_TABLE_SIZE_UNANNOUNCED] = "table_size_unannounced",
	[H2_STAT_MEMO_HITS] = "memo_hits",
	[H2_STAT_GAPS] = "gaps",
	[H2_STAT_GAPS_BRIDGED] = "gaps_bridged",
	[H2_STAT_RESYNCS] = "resyncs",
	[H2_STAT_BYTES_SKIPPED] = "bytes_skipped",
	[H2_STAT_GAVE_UP] = "gave_up",
	[H2_STAT_CONTINUATION_FLOOD] = "continuation_flood",
	[H2_STAT_BLOCK_TOO_BIG] = "block_too_big",
	[H2_STAT_HEADER_LIST_TOO_BIG] = "header_list_too_big",
	[H2_STAT_MEMORY_CAP] = "memory_cap",
	[H2_STAT_HEADERS_OFF] = "headers_off",
	[H2_STAT_MEMORY] = "memory",
	[H2_STAT_MEMORY_PEAK] = "memory_peak",
	[H2_STAT_CONNECTIONS] = "connections",
	[H2_STAT_UPGRADES] = "upgrades",
	[H2_STAT_MIDSTREAM] = "midstream",
	[H2_STAT_ROLES_SWAPPED] = "roles_swapped",
	[H2_STAT_STREAMS] = "streams",
	[H2_STAT_EVENTS] = "events",
	[H2_STAT_NO_RESPONSE] = "no_response",
	[H2_STAT_RESETS] = "resets",
	[H2_STAT_GOAWAY_REFUSED] = "goaway_refused",
	[H2_STAT_PUSHES] = "pushes",
	[H2_STAT_PARTIAL] = "partial",
	[H2_STAT_STREAMS_EVICTED] = "streams_evicted",
	[H2_STAT_ORPHANS] = "orphans",
};

void h2_limits_default(struct h2_limits *lim)
{
	*lim = (struct h2_limits){
		/* The initial SETTINGS_MAX_FRAME_SIZE: what a frame found by
		 * searching may be believed to be when no SETTINGS raised it. */
		.max_frame_size = H2_INITIAL_FRAME_SIZE,
		/* nghttp2, nginx and Go refuse header lists above 64 KiB or far
		 * less; the compressed block is never larger than the list. */
		.max_block_bytes = 65536,
		.max_header_list = 65536,
		/* 64 KiB of list in default 16 KiB frames needs 4; browsers send 0.
		 * The CONTINUATION flood sends thousands. */
		.max_continuations = 32,
		/* Chrome and Firefox advertise 64 KiB, servers 4 KiB. */
		.max_table_size = 65536,
		/* Two tables at the cap, two cut blocks and a full list fit. */
		.max_memory = 512 * 1024,
		/* Past this much without a frame boundary the bytes are not HTTP/2. */
		.max_resync_bytes = 1u << 20,
		/* SETTINGS_MAX_CONCURRENT_STREAMS is 100 in nginx, nghttpd, Go. */
		.max_streams = 128,
		/* A JWT (0.3-2 KiB encoded plus decoded), a cookie and a few paths. */
		.memo_bytes = 4096,
	};
}

/* ---------------------------------------------------------------- memory */

/* Every allocation carries its size, so that free can count it back. */
union mem_hdr {
	size_t n;
	max_align_t align;
};

struct h2_mem {
	size_t used;
	size_t cap;
	struct h2_stats *stats;
	bool refused;
	/* Gives back memory held only to go faster (the literal memos) before
	 * an allocation is refused; true when it freed some. */
	bool (*shed)(void *ud);
	void *shed_ud;
};

static void mem_count(struct h2_mem *m, size_t n, bool add)
{
	uint64_t *g = &m->stats->v[H2_STAT_MEMORY];
	if (add) {
		m->used += n;
		*g += n;
		if (*g > m->stats->v[H2_STAT_MEMORY_PEAK])
			m->stats->v[H2_STAT_MEMORY_PEAK] = *g;
	} else {
		m->used -= n;
		*g -= n;
	}
}

static bool mem_fits(const struct h2_mem *m, size_t n)
{
	return n <= m->cap && m->used <= m->cap - n;
}

static bool mem_allow(struct h2_mem *m, size_t n)
{
	if (!mem_fits(m, n) && !(m->shed && m->shed(m->shed_ud) && mem_fits(m, n))) {
		m->refused = true;
		m->stats->v[H2_STAT_MEMORY_CAP]++;
		return false;
	}
	return true;
}

static void *mem_alloc(struct h2_mem *m, size_t n)
{
	if (n > SIZE_MAX - sizeof(union mem_hdr) || !mem_allow(m, n + sizeof(union mem_hdr)))
		return NULL;
	union mem_hdr *h = malloc(sizeof *h + n);
	if (!h)
		return NULL;
	h->n = n;
	mem_count(m, n + sizeof *h, true);
	return h + 1;
}

static void mem_free(struct h2_mem *m, void *p)
{
	if (!p)
		return;
	union mem_hdr *h = (union mem_hdr *)p - 1;
	mem_count(m, h->n + sizeof *h, false);
	free(h);
}

static void *mem_realloc(struct h2_mem *m, void *p, size_t n)
{
	if (!p)
		return mem_alloc(m, n);
	if (n == 0) {
		mem_free(m, p);
		return NULL;
	}
	union mem_hdr *h = (union mem_hdr *)p - 1;
	size_t old = h->n;
	if (n > old && (n > SIZE_MAX - sizeof *h || !mem_allow(m, n - old)))
		return NULL;
	union mem_hdr *nh = realloc(h, sizeof *nh + n);
	if (!nh)
		return NULL;
	nh->n = n;
	mem_count(m, old, false);
	mem_count(m, n, true);
	return nh + 1;
}

static void *ng_malloc(size_t size, void *ud)
{
	return mem_alloc(ud, size);
}

static void ng_free(void *ptr, void *ud)
{
	mem_free(ud, ptr);
}

static void *ng_calloc(size_t nmemb, size_t size, void *ud)
{
	if (size && nmemb > SIZE_MAX / size)
		return NULL;
	void *p = mem_alloc(ud, nmemb * size);
	if (p)
		memset(p, 0, nmemb * size);
	return p;
}

static void *ng_realloc(void *ptr, size_t size, void *ud)
{
	return mem_realloc(ud, ptr, size);
}

/* Grows *buf (capacity *cap) to hold `need` bytes, doubling; false if refused. */
static bool mem_reserve(struct h2_mem *m, void **buf, size_t *cap, size_t need, size_t first)
{
	/* Also allocate for need == 0: callers compute buf + len even for an empty
	 * field, and NULL + 0 is undefined behaviour in C (found by fuzz_http2). */
	if (need <= *cap && *buf)
		return true;
	size_t n = *cap ? *cap : first;
	while (n < need)
		n *= 2;
	void *nb = mem_realloc(m, *buf, n);
	if (!nb)
		return false;
	*buf = nb;
	*cap = n;
	return true;
}

/* -------------------------------------------------------------- structure */

enum dir_state {
	WAIT_PREFACE, /* client: the 24-byte connection preface */
	WAIT_HEADER,  /* a 9-byte frame header (hdr holds what arrived of it) */
	WAIT_PAYLOAD, /* the rest of the current frame's payload */
	WAIT_SYNC,    /* damage: searching for a frame boundary (hdr holds the carry) */
	FAILED,       /* no boundary found within max_resync_bytes: ignore the rest */
};

struct h2_dir {
	enum dir_state st;
	bool from_client;

	/* the frame being read */
	uint8_t hdr[H2_HDR_LEN];
	uint8_t hdr_len;
	uint8_t type, flags;
	uint32_t len, stream;
	uint32_t off;         /* payload bytes consumed */
	uint32_t pre;         /* payload prefix: pad length, priority, promised id, fixed fields */
	uint32_t body_end;    /* where the padding starts (len until the pad length is known) */
	uint8_t fix[8];       /* prefix, or one SETTINGS entry, being gathered */
	uint8_t fix_len;
	bool skip;            /* the rest of this payload means nothing (malformed, gap) */
	uint32_t preface_got;

	/* the header block being gathered (HEADERS or PUSH_PROMISE + CONTINUATION) */
	bool in_block;        /* END_HEADERS not yet seen */
	bool block_cut;       /* a cap or a gap cut it: fragments are skipped to END_HEADERS */
	uint8_t block_type;
	bool block_end_stream;
	uint32_t block_stream, block_promised;
	uint32_t n_cont;
	uint8_t *block;
	size_t block_len, block_cap;
	const uint8_t *direct; /* the whole fragment inside the piece being fed */
	size_t direct_len;

	/* HPACK */
	nghttp2_hd_inflater *inf;
	struct hpack_memo memo; /* literals that leave the table alone, decoded */
	bool lost;            /* the dynamic table's past is unknown (see the top) */
	uint32_t table_allowed; /* largest table size update the inflater accepts */
	uint32_t max_frame;   /* the receiver's SETTINGS_MAX_FRAME_SIZE, for this direction */
	bool max_frame_known;

	/* search */
	bool sync_loses_hpack; /* bytes skipped while searching lose the table */
	uint64_t sync_scanned;
};

struct fref {
	uint32_t name, namelen, value, valuelen;
};

struct h2_conn {
	struct h2_limits lim;
	struct h2_stats *stats;
	struct h2_mem mem;
	/* Midstream, which side is the client is the owner's guess: frame
	 * checks accept either, and blocks are classified by what they hold. */
	bool roles_known;
	/* The inflaters keep a pointer to it (whatever nghttp2.h says): it
	 * lives here, as long as they do. */
	nghttp2_mem ng_mem;
	bool headers_off;
	struct h2_dir dir[2]; /* [from_client] */
	struct hpack_memo_alloc memo_alloc;
	/* A remembered field is being copied: memo memory shed meanwhile is
	 * counted back at once and freed after the copy. */
	bool memo_busy;
	void *memo_late[2 * HPACK_MEMO_SLOTS];
	unsigned n_memo_late;

	/* fields of the block being decoded: bytes, offsets, and the view handed out */
	char *arena;
	size_t arena_len, arena_cap;
	struct fref *refs;
	size_t refs_cap;
	struct h2_field *fields;
	size_t fields_cap;
	uint32_t n_fields;
	uint64_t list_size;
	bool list_full;
	bool blk_partial;
	bool saw_request_pseudo, saw_status;
};

struct feed_ctx {
	struct h2_conn *c;
	struct h2_dir *d;
	const struct h2_callbacks *cb;
	void *ctx;
};

static void stat_inc(struct h2_conn *c, enum h2_stat s)
{
	c->stats->v[s]++;
}

/* ------------------------------------------------------------ literal memo */

/* The memos take memory only where it fits under the cap without a refusal,
 * and are shed before any other allocation would be refused (mem_allow), so
 * they never make one fail. */
static void *memo_alloc(void *ud, size_t n)
{
	struct h2_conn *c = ud;
	if (c->headers_off || n > SIZE_MAX - sizeof(union mem_hdr) ||
	    !mem_fits(&c->mem, n + sizeof(union mem_hdr)))
		return NULL;
	union mem_hdr *h = malloc(sizeof *h + n);
	if (!h)
		return NULL;
	h->n = n;
	mem_count(&c->mem, n + sizeof *h, true);
	return h + 1;
}

/* A memo entry may hold a credential: wiped before its memory goes back. */
static void memo_release(union mem_hdr *h)
{
	explicit_bzero(h + 1, h->n);
	free(h);
}

/*
 * While a remembered field is being copied (memo_busy), the copy itself may
 * make room by shedding the memo: the entries it drops are released, wiped
 * included, only once the copy is done (memo_unbusy). At most every slot of
 * both directions is dropped at once, which memo_late holds.
 */
static void memo_free(void *ud, void *p)
{
	struct h2_conn *c = ud;
	union mem_hdr *h = (union mem_hdr *)p - 1;
	mem_count(&c->mem, h->n + sizeof *h, false);
	if (c->memo_busy && c->n_memo_late < sizeof c->memo_late / sizeof c->memo_late[0])
		c->memo_late[c->n_memo_late++] = h;
	else
		memo_release(h);
}

static bool memo_shed(void *ud)
{
	struct h2_conn *c = ud;
	size_t before = c->mem.used;
	for (int i = 0; i < 2; i++)
		hpack_memo_clear(&c->dir[i].memo, &c->memo_alloc);
	return c->mem.used < before;
}

static void memo_unbusy(struct h2_conn *c)
{
	c->memo_busy = false;
	while (c->n_memo_late > 0)
		memo_release(c->memo_late[--c->n_memo_late]);
}

/* ------------------------------------------------------------ frame checks */

/* A 32-bit field of the gathered prefix (d->fix), read through the cursor. */
static uint32_t fix32(const uint8_t *fix, size_t at)
{
	struct cursor cur;
	cur_init(&cur, fix, 8);
	cur_skip(&cur, at);
	return cur_be32(&cur);
}

/* Flags each frame type defines (RFC 9113 6). */
static const uint8_t type_flags[10] = {
	[H2_DATA] = H2_FLAG_END_STREAM | H2_FLAG_PADDED,
	[H2_HEADERS] = H2_FLAG_END_STREAM | H2_FLAG_END_HEADERS | H2_FLAG_PADDED | H2_FLAG_PRIORITY,
	[H2_PRIORITY] = 0,
	[H2_RST_STREAM] = 0,
	[H2_SETTINGS] = H2_FLAG_ACK,
	[H2_PUSH_PROMISE] = H2_FLAG_END_HEADERS | H2_FLAG_PADDED,
	[H2_PING] = H2_FLAG_ACK,
	[H2_GOAWAY] = 0,
	[H2_WINDOW_UPDATE] = 0,
	[H2_CONTINUATION] = H2_FLAG_END_HEADERS,
};

enum sender { FROM_SERVER = 0, FROM_CLIENT = 1, FROM_EITHER = 2 };

/*
 * Could these 9 bytes be a frame header sent by `who`? Known type, only the
 * flags that type defines, reserved bit clear, a length the type allows and
 * no longer than max_len, a stream id the type and the sender allow (clients
 * open odd streams; only servers push, on odd streams, and send on even ones).
 */
static bool plausible(const uint8_t h[H2_HDR_LEN], enum sender who, uint32_t max_len,
		      uint32_t *len_out)
{
	struct cursor cur;
	cur_init(&cur, h, H2_HDR_LEN);
	uint32_t len = (uint32_t)cur_u8(&cur) << 16;
	len |= cur_be16(&cur);
	uint8_t type = cur_u8(&cur);
	uint8_t flags = cur_u8(&cur);
	uint32_t sid = cur_be32(&cur);
	if (cur.overrun || type > H2_CONTINUATION || (flags & ~type_flags[type]) ||
	    (sid & 0x80000000u) || len > max_len)
		return false;
	bool odd = sid & 1;
	bool client = who == FROM_CLIENT;
	switch (type) {
	case H2_DATA:
	case H2_HEADERS:
	case H2_CONTINUATION:
		if (sid == 0 || (client && !odd))
			return false;
		if ((flags & H2_FLAG_PADDED) && len < 1)
			return false;
		break;
	case H2_PRIORITY:
		if (sid == 0 || len != 5)
			return false;
		break;
	case H2_RST_STREAM:
		if (sid == 0 || len != 4)
			return false;
		break;
	case H2_SETTINGS:
		if (sid != 0 || len % 6 || ((flags & H2_FLAG_ACK) && len))
			return false;
		break;
	case H2_PUSH_PROMISE:
		if (client || sid == 0 || !odd || len < 4)
			return false;
		break;
	case H2_PING:
		if (sid != 0 || len != 8)
			return false;
		break;
	case H2_GOAWAY:
		if (sid != 0 || len < 8)
			return false;
		break;
	case H2_WINDOW_UPDATE:
		if (len != 4)
			return false;
		break;
	}
	*len_out = len;
	return true;
}

bool h2_looks_like_frames(const uint8_t *p, size_t len)
{
	if (len >= H2_PREFACE_LEN && memcmp(p, h2_preface, H2_PREFACE_LEN) == 0)
		return true;
	size_t off = 0;
	int seen = 0;
	while (off + H2_HDR_LEN <= len) {
		uint32_t flen;
		if (!plausible(p + off, FROM_EITHER, H2_INITIAL_FRAME_SIZE, &flen))
			return false;
		seen++;
		off += H2_HDR_LEN + flen;
	}
	return seen > 0;
}

/* ------------------------------------------------------------------ HPACK */

static ptrdiff_t inflate_step(nghttp2_hd_inflater *inf, nghttp2_nv *nv, int *flags,
			      const uint8_t *in, size_t len, bool final)
{
/* 1.60 added the nghttp2_ssize API and deprecated the ssize_t one. */
#if defined(NGHTTP2_VERSION_NUM) && NGHTTP2_VERSION_NUM >= 0x013c00
	return (ptrdiff_t)nghttp2_hd_inflate_hd3(inf, nv, flags, in, len, final);
#else
	return (ptrdiff_t)nghttp2_hd_inflate_hd2(inf, nv, flags, in, len, final);
#endif
}

/* Creates the direction's inflater: sized as the protocol starts, or, when
 * the context is lost, accepting and using any table up to the cap. */
static bool inflater_make(struct h2_conn *c, struct h2_dir *d)
{
	if (d->inf) {
		nghttp2_hd_inflate_del(d->inf);
		d->inf = NULL;
	}
	if (c->headers_off)
		return false;
	if (nghttp2_hd_inflate_new2(&d->inf, &c->ng_mem) != 0) {
		d->inf = NULL;
		return false;
	}
	uint32_t allowed = d->lost ? c->lim.max_table_size : d->table_allowed;
	if (allowed > H2_INITIAL_TABLE_SIZE &&
	    nghttp2_hd_inflate_change_table_size(d->inf, allowed) != 0)
		goto fail;
	if (d->lost && allowed > H2_INITIAL_TABLE_SIZE) {
		/* A dynamic table size update (RFC 7541 6.3) to the cap: the fresh
		 * table then keeps at least what the encoder's table keeps. */
		uint8_t upd[8];
		size_t n = 0;
		uint32_t v = allowed - 31;
		upd[n++] = 0x20 | 31;
		while (v >= 128) {
			upd[n++] = (uint8_t)(v % 128 + 128);
			v /= 128;
		}
		upd[n++] = (uint8_t)v;
		nghttp2_nv nv;
		int fl = 0;
		if (inflate_step(d->inf, &nv, &fl, upd, n, true) < 0 ||
		    !(fl & NGHTTP2_HD_INFLATE_FINAL))
			goto fail;
		nghttp2_hd_inflate_end_headers(d->inf);
	}
	return true;
fail:
	nghttp2_hd_inflate_del(d->inf);
	d->inf = NULL;
	return false;
}

/* Memory ran out: no more header decoding on this connection. */
static void headers_off(struct h2_conn *c)
{
	if (c->headers_off)
		return;
	c->headers_off = true;
	stat_inc(c, H2_STAT_HEADERS_OFF);
	for (int i = 0; i < 2; i++) {
		struct h2_dir *d = &c->dir[i];
		if (d->inf)
			nghttp2_hd_inflate_del(d->inf);
		d->inf = NULL;
		mem_free(&c->mem, d->block);
		d->block = NULL;
		d->block_len = d->block_cap = 0;
		hpack_memo_clear(&d->memo, &c->memo_alloc);
	}
}

/* The direction's dynamic table can no longer be trusted. */
static void hpack_lose(struct h2_conn *c, struct h2_dir *d)
{
	stat_inc(c, H2_STAT_HPACK_LOST);
	d->lost = true;
	if (d->inf) {
		nghttp2_hd_inflate_del(d->inf);
		d->inf = NULL; /* made again, fresh, for the next block */
	}
}

/* One field the inflater emitted (or the memo remembered): keep a copy for
 * the block's callback. */
static void collect(struct h2_conn *c, const nghttp2_nv *nv)
{
	if (nv->namelen == sizeof lost_name && memcmp(nv->name, lost_name, sizeof lost_name) == 0) {
		stat_inc(c, H2_STAT_FIELDS_DROPPED);
		c->blk_partial = true;
		return;
	}
	if (nv->namelen > 0 && nv->name[0] == ':') {
		if (nv->namelen == 7 && memcmp(nv->name, ":status", 7) == 0)
			c->saw_status = true;
		else
			c->saw_request_pseudo = true;
	}
	if (c->list_full)
		return;
	uint64_t size = (uint64_t)nv->namelen + nv->valuelen + H2_FIELD_OVERHEAD;
	if (c->list_size + size > c->lim.max_header_list) {
		c->list_full = true;
		c->blk_partial = true;
		stat_inc(c, H2_STAT_HEADER_LIST_TOO_BIG);
		return;
	}
	c->list_size += size;
	size_t need = c->arena_len + nv->namelen + nv->valuelen;
	if (!mem_reserve(&c->mem, (void **)&c->arena, &c->arena_cap, need, 512) ||
	    !mem_reserve(&c->mem, (void **)&c->refs, &c->refs_cap,
			 (c->n_fields + 1) * sizeof *c->refs, 16 * sizeof *c->refs)) {
		c->list_full = true;
		c->blk_partial = true;
		return;
	}
	struct fref *r = &c->refs[c->n_fields++];
	r->name = (uint32_t)c->arena_len;
	r->namelen = (uint32_t)nv->namelen;
	memcpy(c->arena + c->arena_len, nv->name, nv->namelen);
	c->arena_len += nv->namelen;
	r->value = (uint32_t)c->arena_len;
	r->valuelen = (uint32_t)nv->valuelen;
	memcpy(c->arena + c->arena_len, nv->value, nv->valuelen);
	c->arena_len += nv->valuelen;
}

/*
 * Gives [in, in+len) to the inflater, collecting what it emits. With `final`
 * the block ends here. `memo`: the bytes are one representation for the
 * direction's memo, whose field is remembered under them. Returns 0, or the
 * inflater's negative error.
 */
static int inflate_run(struct h2_conn *c, struct h2_dir *d, const uint8_t *in, size_t len,
		       bool final, bool memo)
{
	const uint8_t *key = in;
	size_t keylen = len;
	for (;;) {
		nghttp2_nv nv;
		int flags = 0;
		ptrdiff_t rv = inflate_step(d->inf, &nv, &flags, in, len, final);
		if (rv < 0)
			return (int)rv;
		in += rv;
		len -= (size_t)rv;
		if (flags & NGHTTP2_HD_INFLATE_EMIT) {
			collect(c, &nv);
			if (memo && len == 0) /* the field of the whole representation */
				hpack_memo_put(&d->memo, &c->memo_alloc, key, keylen, nv.name,
					       nv.namelen, nv.value, nv.valuelen);
		}
		if (flags & NGHTTP2_HD_INFLATE_FINAL) {
			nghttp2_hd_inflate_end_headers(d->inf);
			return 0;
		}
		if (!(flags & NGHTTP2_HD_INFLATE_EMIT) && len == 0)
			return 0;
	}
}

/* RFC 7541 5.1 integer with an n-bit prefix; false when cut or absurd. */
static bool hp_uint(struct cursor *cur, int prefix, uint32_t *v)
{
	uint32_t max = (1u << prefix) - 1;
	uint32_t x = cur_u8(cur) & max;
	if (x == max) {
		int shift = 0;
		uint8_t b;
		do {
			b = cur_u8(cur);
			if (shift > 21)
				return false;
			x += (uint32_t)(b & 0x7f) << shift;
			shift += 7;
		} while ((b & 0x80) && !cur->overrun);
	}
	*v = x;
	return !cur->overrun && x <= H2_HPACK_MAX_INT;
}

/* RFC 7541 5.2 string literal: skipped, not decoded. */
static bool hp_skip_string(struct cursor *cur)
{
	uint32_t n;
	if (!hp_uint(cur, 7, &n))
		return false;
	cur_skip(cur, n);
	return !cur->overrun;
}

enum rep_kind { REP_INDEXED, REP_INCREMENTAL, REP_LITERAL, REP_SIZE };

struct rep {
	enum rep_kind kind;
	uint32_t index;  /* the field's or the name's index; 0 = literal name */
	size_t value;    /* offset of the value string (literals) */
	size_t end;      /* offset after the representation */
};

/* Reads the representation at cur (RFC 7541 6); false when cut or malformed. */
static bool hp_rep(struct cursor *cur, struct rep *r)
{
	if (!cur_has(cur, 1))
		return false;
	uint8_t b = cur->p[cur->off];
	int prefix;
	if (b & 0x80) {
		r->kind = REP_INDEXED;
		prefix = 7;
	} else if (b & 0x40) {
		r->kind = REP_INCREMENTAL;
		prefix = 6;
	} else if (b & 0x20) {
		r->kind = REP_SIZE;
		prefix = 5;
	} else {
		r->kind = REP_LITERAL; /* without indexing (0000) or never indexed (0001) */
		prefix = 4;
	}
	if (!hp_uint(cur, prefix, &r->index))
		return false;
	if (r->kind == REP_INCREMENTAL || r->kind == REP_LITERAL) {
		if (r->index == 0 && !hp_skip_string(cur))
			return false;
		r->value = cur->off;
		if (!hp_skip_string(cur))
			return false;
	}
	r->end = cur->off;
	return true;
}

/*
 * Lost mode: each representation is checked against the fresh table before
 * the inflater sees it (see the top of the file). Returns 0 or an inflater
 * error; a cut block (!complete) stops at its last whole representation.
 */
static int inflate_lost(struct h2_conn *c, struct h2_dir *d, const uint8_t *p, size_t n,
			bool complete)
{
	struct cursor cur;
	cur_init(&cur, p, n);
	while (cur.off < n) {
		size_t start = cur.off;
		struct rep r;
		if (!hp_rep(&cur, &r))
			return complete ? NGHTTP2_ERR_HEADER_COMP : 0;
		size_t entries = nghttp2_hd_inflate_get_num_table_entries(d->inf);
		int rv = 0;
		if (r.kind == REP_SIZE || r.index <= entries) {
			rv = inflate_run(c, d, p + start, r.end - start, false, false);
		} else if (r.kind != REP_INCREMENTAL) {
			stat_inc(c, H2_STAT_FIELDS_DROPPED);
			c->blk_partial = true;
		} else {
			/* Keep the slot: same value, placeholder name (collect()
			 * drops and counts the field it comes out as). */
			uint8_t head[2 + sizeof lost_name] = {0x40, sizeof lost_name};
			memcpy(head + 2, lost_name, sizeof lost_name);
			rv = inflate_run(c, d, head, sizeof head, false, false);
			if (rv == 0)
				rv = inflate_run(c, d, p + r.value, r.end - r.value, false, false);
		}
		if (rv != 0)
			return rv;
	}
	static const uint8_t none[1];
	return complete ? inflate_run(c, d, none, 0, true, false) : 0;
}

/*
 * A whole block, table in sync, memo on. A literal that leaves the dynamic
 * table alone (without indexing, never indexed: RFC 7541 6.2.2, 6.2.3) and
 * names its field by a static index or a string decodes the same whatever
 * the table holds, so it is taken out of what the inflater sees: found in
 * the memo, the remembered field is collected; not found, the representation
 * goes to the inflater alone (a whole one is valid input by itself) and its
 * field is remembered. All else goes to the inflater in wire order, so the
 * fields come out in the same order and the table changes as it would. The
 * block's first field always goes to the inflater, so that a table size
 * update after it fails there as it would in one piece (RFC 7541 4.2); bytes
 * that do not parse go to it as they are, to fail there too.
 */
static int inflate_memo(struct h2_conn *c, struct h2_dir *d, const uint8_t *p, size_t n)
{
	struct cursor cur;
	cur_init(&cur, p, n);
	size_t run = 0;     /* the bytes from here on are not yet given to the inflater */
	bool field = false; /* a field went to the inflater, or is in the run */
	while (cur.off < n) {
		size_t start = cur.off;
		struct rep r;
		if (!hp_rep(&cur, &r))
			break;
		if (r.kind != REP_LITERAL || r.index > H2_STATIC_ENTRIES || !field ||
		    r.end - r.value < H2_MEMO_MIN_VALUE) {
			field = field || r.kind != REP_SIZE;
			continue;
		}
		int rv = start > run ? inflate_run(c, d, p + run, start - run, false, false) : 0;
		if (rv != 0)
			return rv;
		run = r.end;
		struct hpack_memo_field m;
		if (!hpack_memo_find(&d->memo, p + start, r.end - start, &m)) {
			rv = inflate_run(c, d, p + start, r.end - start, false, true);
			if (rv != 0)
				return rv;
			continue;
		}
		stat_inc(c, H2_STAT_MEMO_HITS);
		nghttp2_nv nv = {
			.name = (uint8_t *)m.name, /* only read */
			.value = (uint8_t *)m.value,
			.namelen = m.namelen,
			.valuelen = m.valuelen,
		};
		c->memo_busy = true;
		collect(c, &nv);
		memo_unbusy(c);
	}
	return inflate_run(c, d, p + run, n - run, true, false);
}

/*
 * The dynamic table size updates a block starts with (RFC 7541 4.2, 6.3).
 * One above what the SETTINGS seen allow means the SETTINGS that allowed it
 * were not seen (sent before the capture or the hand-over, or in h2c's
 * HTTP2-Settings): the encoder's own update is the evidence, so it is
 * accepted up to the cap, and counted.
 */
static void peek_size_updates(struct h2_conn *c, struct h2_dir *d, const uint8_t *p, size_t n)
{
	struct cursor cur;
	cur_init(&cur, p, n);
	uint32_t most = 0;
	while (cur.off < n && (p[cur.off] & 0xe0) == 0x20) {
		uint32_t v;
		if (!hp_uint(&cur, 5, &v))
			return;
		if (v > most)
			most = v;
	}
	if (most > d->table_allowed && most <= c->lim.max_table_size &&
	    nghttp2_hd_inflate_change_table_size(d->inf, most) == 0) {
		d->table_allowed = most;
		stat_inc(c, H2_STAT_TABLE_SIZE_UNANNOUNCED);
	}
}

/* Decodes a header block (whole, or cut: !complete) and delivers it. */
static void block_deliver(struct feed_ctx *f, const uint8_t *p, size_t n, bool complete)
{
	static const uint8_t none[1];
	if (!p)
		p = none;
	struct h2_conn *c = f->c;
	struct h2_dir *d = f->d;
	c->n_fields = 0;
	c->arena_len = 0;
	c->list_size = 0;
	c->list_full = false;
	c->blk_partial = !complete;
	c->saw_request_pseudo = c->saw_status = false;

	if (!c->headers_off && !d->inf && !inflater_make(c, d)) {
		if (c->mem.refused)
			headers_off(c);
		else
			hpack_lose(c, d); /* this block's changes to the table are lost */
	}
	if (c->headers_off || !d->inf) {
		c->blk_partial = true;
	} else {
		if (!d->lost)
			peek_size_updates(c, d, p, n);
		int rv;
		if (d->lost)
			rv = inflate_lost(c, d, p, n, complete);
		else if (complete && d->memo.budget)
			rv = inflate_memo(c, d, p, n);
		else
			rv = inflate_run(c, d, p, n, complete, false);
		if (rv == NGHTTP2_ERR_NOMEM || c->mem.refused) {
			headers_off(c);
			c->blk_partial = true;
		} else if (rv != 0) {
			stat_inc(c, H2_STAT_HPACK_ERRORS);
			c->blk_partial = true;
			hpack_lose(c, d);
		} else if (!complete) {
			hpack_lose(c, d); /* what followed the cut may have changed the table */
		}
	}
	if (!mem_reserve(&c->mem, (void **)&c->fields, &c->fields_cap,
			 c->n_fields * sizeof *c->fields, 16 * sizeof *c->fields)) {
		c->n_fields = 0;
		c->blk_partial = true;
	}
	for (uint32_t i = 0; i < c->n_fields; i++) {
		c->fields[i].name = c->arena + c->refs[i].name;
		c->fields[i].namelen = c->refs[i].namelen;
		c->fields[i].value = c->arena + c->refs[i].value;
		c->fields[i].valuelen = c->refs[i].valuelen;
	}

	struct h2_block b = {
		.stream_id = d->block_stream,
		.promised_id = d->block_type == H2_PUSH_PROMISE ? d->block_promised : 0,
		.partial = c->blk_partial,
		.n_fields = c->n_fields,
		.fields = c->fields,
	};
	bool client_side = d->from_client || !c->roles_known;
	bool server_side = !d->from_client || !c->roles_known;
	if (d->block_type == H2_PUSH_PROMISE || (client_side && c->saw_request_pseudo))
		b.kind = c->saw_request_pseudo || !b.partial ? H2_BLOCK_REQUEST : H2_BLOCK_UNKNOWN;
	else if (server_side && c->saw_status)
		b.kind = H2_BLOCK_RESPONSE;
	else
		b.kind = b.partial ? H2_BLOCK_UNKNOWN : H2_BLOCK_TRAILERS;
	stat_inc(c, H2_STAT_HEADER_BLOCKS);
	if (b.partial)
		stat_inc(c, H2_STAT_PARTIAL_BLOCKS);
	if (f->cb->on_headers)
		f->cb->on_headers(f->ctx, d->from_client, &b);

	if (c->arena_cap > H2_ARENA_KEEP) {
		mem_free(&c->mem, c->arena);
		c->arena = NULL;
		c->arena_cap = 0;
	}
}

/* A cap or a gap cuts the block being gathered: deliver what it had. */
static void block_cut(struct feed_ctx *f)
{
	struct h2_dir *d = f->d;
	if (d->block_cut)
		return;
	d->block_cut = true;
	block_deliver(f, d->block, d->block_len, false);
	d->block_len = 0;
}

/*
 * The block will never see END_HEADERS (protocol error, malformed frame,
 * damage): deliver what it had; an END_STREAM its HEADERS carried still
 * ends the stream, since the frame header was seen.
 */
static void block_abandon(struct feed_ctx *f)
{
	struct h2_dir *d = f->d;
	block_cut(f);
	d->in_block = false;
	d->direct = NULL;
	if (d->block_type == H2_HEADERS && d->block_end_stream && f->cb->on_end_stream)
		f->cb->on_end_stream(f->ctx, d->from_client, d->block_stream);
}

static void block_append(struct feed_ctx *f, const uint8_t *p, size_t n)
{
	struct h2_conn *c = f->c;
	struct h2_dir *d = f->d;
	if (d->block_cut || n == 0)
		return;
	/* Up to the cap, then cut: what fits is still decoded. */
	size_t take = n;
	if (d->block_len + take > c->lim.max_block_bytes)
		take = c->lim.max_block_bytes - d->block_len;
	if (c->headers_off ||
	    !mem_reserve(&c->mem, (void **)&d->block, &d->block_cap, d->block_len + take, 256)) {
		block_cut(f);
		return;
	}
	memcpy(d->block + d->block_len, p, take);
	d->block_len += take;
	if (take < n) {
		stat_inc(c, H2_STAT_BLOCK_TOO_BIG);
		block_cut(f);
	}
}

/* END_HEADERS: the block is whole. */
static void block_end(struct feed_ctx *f)
{
	struct h2_dir *d = f->d;
	d->in_block = false;
	if (!d->block_cut) {
		if (d->direct)
			block_deliver(f, d->direct, d->direct_len, true);
		else
			block_deliver(f, d->block, d->block_len, true);
	}
	d->block_len = 0;
	d->direct = NULL;
	if (d->block_type == H2_HEADERS && d->block_end_stream && f->cb->on_end_stream)
		f->cb->on_end_stream(f->ctx, d->from_client, d->block_stream);
	/* a block buffer grown past the usual stays only while in use */
	if (d->block_cap > 4096) {
		mem_free(&f->c->mem, d->block);
		d->block = NULL;
		d->block_cap = 0;
	}
}

/* ----------------------------------------------------------------- frames */

static void apply_setting(struct feed_ctx *f, uint16_t id, uint32_t v)
{
	struct h2_conn *c = f->c;
	struct h2_dir *other = &c->dir[!f->d->from_client];
	if (id == H2_SETTINGS_HEADER_TABLE_SIZE) {
		if (v > c->lim.max_table_size) {
			stat_inc(c, H2_STAT_TABLE_SIZE_CAPPED);
			v = c->lim.max_table_size;
		}
		if (v > other->table_allowed) {
			other->table_allowed = v;
			if (other->inf && !other->lost)
				(void)nghttp2_hd_inflate_change_table_size(other->inf, v);
		}
	} else if (id == H2_SETTINGS_MAX_FRAME_SIZE) {
		if (v >= H2_INITIAL_FRAME_SIZE && v <= H2_MAX_FRAME_SIZE) {
			other->max_frame = v;
			other->max_frame_known = true;
		}
	}
}

static void frame_done(struct h2_dir *d)
{
	d->st = WAIT_HEADER;
	d->hdr_len = 0;
	d->off = 0;
	d->fix_len = 0;
	d->skip = false;
}

static void bad_frame(struct feed_ctx *f)
{
	stat_inc(f->c, H2_STAT_BAD_FRAMES);
	f->d->skip = true;
}

/* The payload is complete. */
static void frame_end(struct feed_ctx *f)
{
	struct h2_dir *d = f->d;
	const struct h2_callbacks *cb = f->cb;
	switch (d->type) {
	case H2_DATA:
		if ((d->flags & H2_FLAG_END_STREAM) && cb->on_end_stream)
			cb->on_end_stream(f->ctx, d->from_client, d->stream);
		break;
	case H2_HEADERS:
	case H2_PUSH_PROMISE:
	case H2_CONTINUATION:
		if (d->in_block && d->block_stream == d->stream && (d->flags & H2_FLAG_END_HEADERS))
			block_end(f);
		break;
	case H2_RST_STREAM:
		if (!d->skip && cb->on_rst_stream)
			cb->on_rst_stream(f->ctx, d->from_client, d->stream, fix32(d->fix, 0));
		break;
	case H2_GOAWAY:
		if (!d->skip && cb->on_goaway)
			cb->on_goaway(f->ctx, d->from_client, fix32(d->fix, 0) & 0x7fffffffu,
				      fix32(d->fix, 4));
		break;
	default:
		break;
	}
	d->direct = NULL;
	frame_done(d);
}

/* The 9-byte header is in d->hdr: set the frame up. */
static void frame_begin(struct feed_ctx *f)
{
	struct h2_conn *c = f->c;
	struct h2_dir *d = f->d;
	struct cursor cur;
	cur_init(&cur, d->hdr, H2_HDR_LEN);
	d->len = (uint32_t)cur_u8(&cur) << 16;
	d->len |= cur_be16(&cur);
	d->type = cur_u8(&cur);
	d->flags = cur_u8(&cur);
	d->stream = cur_be32(&cur) & 0x7fffffffu; /* R is ignored on receipt (4.1) */
	d->off = 0;
	d->fix_len = 0;
	d->skip = false;
	d->pre = 0;
	d->st = WAIT_PAYLOAD;

	stat_inc(c, H2_STAT_FRAMES);
	stat_inc(c, d->type <= H2_CONTINUATION ? H2_STAT_FRAME_DATA + d->type
					       : H2_STAT_FRAME_UNKNOWN);
	if (d->len > d->max_frame)
		stat_inc(c, H2_STAT_OVERSIZE_FRAMES); /* a receiver would refuse; follow anyway */

	/* CONTINUATION must follow its block's frames directly (RFC 9113 6.10). */
	if (d->in_block && (d->type != H2_CONTINUATION || d->stream != d->block_stream)) {
		stat_inc(c, H2_STAT_BAD_FRAMES);
		block_abandon(f);
	}

	bool padded = (d->flags & H2_FLAG_PADDED) != 0;
	switch (d->type) {
	case H2_DATA:
		d->pre = padded;
		break;
	case H2_HEADERS:
	case H2_PUSH_PROMISE:
		d->pre = padded + (d->type == H2_PUSH_PROMISE ? 4u
				   : (d->flags & H2_FLAG_PRIORITY) ? 5u : 0u);
		d->in_block = true;
		d->block_cut = false;
		d->block_type = d->type;
		d->block_stream = d->stream;
		d->block_promised = 0;
		d->block_end_stream = d->type == H2_HEADERS && (d->flags & H2_FLAG_END_STREAM);
		d->block_len = 0;
		d->n_cont = 0;
		d->direct = NULL;
		break;
	case H2_CONTINUATION:
		if (!d->in_block) {
			bad_frame(f); /* no block to continue (or a midstream start) */
			break;
		}
		if (++d->n_cont > c->lim.max_continuations && !d->block_cut) {
			stat_inc(c, H2_STAT_CONTINUATION_FLOOD);
			block_cut(f);
		}
		break;
	case H2_RST_STREAM:
		d->pre = 4;
		if (d->len != 4)
			bad_frame(f);
		break;
	case H2_GOAWAY:
		d->pre = 8;
		if (d->len < 8)
			bad_frame(f);
		break;
	case H2_SETTINGS:
		if (d->len % 6 || ((d->flags & H2_FLAG_ACK) && d->len))
			bad_frame(f);
		break;
	default:
		break;
	}
	if (d->pre > d->len) {
		if (!d->skip)
			bad_frame(f);
		d->pre = 0;
		if (d->in_block && d->block_stream == d->stream && d->type != H2_CONTINUATION)
			block_abandon(f);
	}
	d->body_end = d->len;
	if (d->len == 0)
		frame_end(f);
}

/* The payload prefix is complete: padding and promised stream are known. */
static void prefix_done(struct feed_ctx *f)
{
	struct h2_dir *d = f->d;
	if (d->skip)
		return;
	uint32_t pad = 0;
	if ((d->type == H2_DATA || d->type == H2_HEADERS || d->type == H2_PUSH_PROMISE) &&
	    (d->flags & H2_FLAG_PADDED))
		pad = d->fix[0];
	if (pad > d->len - d->pre) {
		/* Padding longer than the payload: PROTOCOL_ERROR (6.1, 6.2). */
		bad_frame(f);
		if (d->in_block && d->type != H2_CONTINUATION)
			block_abandon(f);
		return;
	}
	d->body_end = d->len - pad;
	if (d->type == H2_PUSH_PROMISE) {
		size_t at = (d->flags & H2_FLAG_PADDED) ? 1 : 0;
		d->block_promised = fix32(d->fix, at) & 0x7fffffffu;
	}
}

/* Body bytes of the current frame: [p, p+n), `whole`: the rest of the frame is here too. */
static void frame_body(struct feed_ctx *f, const uint8_t *p, size_t n, bool whole)
{
	struct h2_dir *d = f->d;
	if (d->skip)
		return;
	switch (d->type) {
	case H2_DATA:
		if (f->cb->on_data && n)
			f->cb->on_data(f->ctx, d->from_client, d->stream, n, false);
		break;
	case H2_HEADERS:
	case H2_PUSH_PROMISE:
	case H2_CONTINUATION:
		if (!d->in_block || d->block_stream != d->stream)
			break;
		/* Decoded in place: a whole single-frame block inside this piece. */
		if (whole && d->type != H2_CONTINUATION && (d->flags & H2_FLAG_END_HEADERS) &&
		    d->off == d->pre && d->off + n == d->body_end && d->block_len == 0 &&
		    n <= f->c->lim.max_block_bytes) {
			d->direct = p;
			d->direct_len = n;
			break;
		}
		block_append(f, p, n);
		break;
	case H2_SETTINGS:
		for (size_t i = 0; i < n; i++) {
			d->fix[d->fix_len++] = p[i];
			if (d->fix_len == 6) {
				struct cursor cur;
				cur_init(&cur, d->fix, 6);
				uint16_t id = cur_be16(&cur);
				apply_setting(f, id, cur_be32(&cur));
				d->fix_len = 0;
			}
		}
		break;
	default:
		break;
	}
}

/* Consumes payload bytes; returns how many. */
static size_t frame_payload(struct feed_ctx *f, const uint8_t *p, size_t n)
{
	struct h2_dir *d = f->d;
	size_t used = 0;
	if (d->off < d->pre) {
		size_t take = d->pre - d->off;
		if (take > n)
			take = n;
		if (!d->skip)
			memcpy(d->fix + d->fix_len, p, take);
		d->fix_len = (uint8_t)(d->fix_len + take);
		d->off += (uint32_t)take;
		used += take;
		if (d->off < d->pre)
			return used;
		prefix_done(f);
	}
	if (d->off < d->body_end && used < n) {
		size_t take = d->body_end - d->off;
		bool whole = n - used >= (size_t)(d->len - d->off);
		if (take > n - used)
			take = n - used;
		frame_body(f, p + used, take, whole);
		d->off += (uint32_t)take;
		used += take;
	}
	if (d->off >= d->body_end && d->off < d->len && used < n) {
		size_t take = d->len - d->off;
		if (take > n - used)
			take = n - used;
		d->off += (uint32_t)take;
		used += take;
	}
	if (d->off == d->len)
		frame_end(f);
	return used;
}

/* ------------------------------------------------------- damage and search */

/* Enter the search for a frame boundary. */
static void sync_start(struct feed_ctx *f, bool loses_hpack)
{
	struct h2_dir *d = f->d;
	if (d->in_block)
		block_abandon(f);
	d->st = WAIT_SYNC;
	d->hdr_len = 0;
	d->sync_scanned = 0;
	d->sync_loses_hpack = loses_hpack;
	d->direct = NULL;
	if (loses_hpack && !d->lost)
		hpack_lose(f->c, d);
}

/* The byte at position i of carry (hdr) + p. */
static uint8_t vbyte(const struct h2_dir *d, const uint8_t *p, size_t i)
{
	return i < d->hdr_len ? d->hdr[i] : p[i - d->hdr_len];
}

static uint32_t sync_max_len(const struct h2_conn *c, const struct h2_dir *d)
{
	return d->max_frame_known ? d->max_frame : c->lim.max_frame_size;
}

/* Searches carry + p for a frame header; returns bytes of p consumed. */
static size_t sync_scan(struct feed_ctx *f, const uint8_t *p, size_t n)
{
	struct h2_conn *c = f->c;
	struct h2_dir *d = f->d;
	size_t total = d->hdr_len + n;
	enum sender who = !c->roles_known ? FROM_EITHER : d->from_client ? FROM_CLIENT : FROM_SERVER;
	uint32_t max_len = sync_max_len(c, d);
	for (size_t i = 0; i + H2_HDR_LEN <= total; i++) {
		uint8_t h[H2_HDR_LEN];
		for (size_t k = 0; k < H2_HDR_LEN; k++)
			h[k] = vbyte(d, p, i + k);
		uint32_t flen;
		if (!plausible(h, who, max_len, &flen))
			continue;
		size_t next = i + H2_HDR_LEN + flen;
		if (next + H2_HDR_LEN <= total) {
			uint8_t h2[H2_HDR_LEN];
			uint32_t l2;
			for (size_t k = 0; k < H2_HDR_LEN; k++)
				h2[k] = vbyte(d, p, next + k);
			if (!plausible(h2, who, max_len, &l2))
				continue;
		} else if (h[3] == H2_CONTINUATION) {
			continue; /* unconfirmed, and it could not be used anyway */
		}
		/* Found: bytes before i are skipped. */
		c->stats->v[H2_STAT_BYTES_SKIPPED] += i;
		stat_inc(c, H2_STAT_RESYNCS);
		if ((i > 0 || d->sync_loses_hpack) && !d->lost)
			hpack_lose(c, d);
		d->st = WAIT_HEADER;
		if (i < d->hdr_len) {
			uint8_t keep = (uint8_t)(d->hdr_len - i);
			memmove(d->hdr, d->hdr + i, keep);
			d->hdr_len = keep;
			return 0;
		}
		size_t used = i - d->hdr_len;
		d->hdr_len = 0;
		return used;
	}
	/* Not found: keep the last 8 bytes, a header may start among them. */
	size_t keep = total < H2_HDR_LEN - 1 ? total : H2_HDR_LEN - 1;
	size_t drop = total - keep;
	uint8_t tail[H2_HDR_LEN - 1];
	for (size_t k = 0; k < keep; k++)
		tail[k] = vbyte(d, p, drop + k);
	memcpy(d->hdr, tail, keep);
	d->hdr_len = (uint8_t)keep;
	c->stats->v[H2_STAT_BYTES_SKIPPED] += drop;
	d->sync_scanned += drop;
	if (drop > 0 && !d->lost)
		hpack_lose(c, d);
	if (d->sync_scanned > c->lim.max_resync_bytes) {
		stat_inc(c, H2_STAT_GAVE_UP);
		d->st = FAILED;
	}
	return n;
}

static size_t preface(struct feed_ctx *f, const uint8_t *p, size_t n)
{
	struct h2_dir *d = f->d;
	size_t i = 0;
	while (i < n && d->preface_got < H2_PREFACE_LEN) {
		if (p[i] != h2_preface[d->preface_got]) {
			/* Not the preface: look for frames from the first byte on
			 * (nothing was missed, so HPACK stays in sync if they start here). */
			stat_inc(f->c, H2_STAT_BAD_PREFACE);
			sync_start(f, d->preface_got > 0);
			if (d->preface_got > 0)
				f->c->stats->v[H2_STAT_BYTES_SKIPPED] += d->preface_got;
			return i;
		}
		d->preface_got++;
		i++;
	}
	if (d->preface_got == H2_PREFACE_LEN)
		frame_done(d);
	return i;
}

/* ---------------------------------------------------------------- the API */

struct h2_conn *h2_conn_new(const struct h2_limits *lim, struct h2_stats *stats, bool midstream)
{
	struct h2_conn *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->lim = *lim;
	c->stats = stats;
	c->mem.cap = lim->max_memory;
	c->roles_known = !midstream;
	c->mem.stats = stats;
	c->ng_mem = (nghttp2_mem){&c->mem, ng_malloc, ng_free, ng_calloc, ng_realloc};
	c->memo_alloc = (struct hpack_memo_alloc){memo_alloc, memo_free, c};
	c->mem.shed = memo_shed;
	c->mem.shed_ud = c;
	mem_count(&c->mem, sizeof *c, true);
	for (int i = 0; i < 2; i++) {
		struct h2_dir *d = &c->dir[i];
		d->from_client = i == 1;
		d->table_allowed = H2_INITIAL_TABLE_SIZE;
		d->max_frame = H2_INITIAL_FRAME_SIZE;
		/* Requests repeat such literals (credentials, paths); responses'
		 * are mostly unique (request ids, etags) and would only churn. */
		hpack_memo_init(&d->memo, d->from_client ? lim->memo_bytes : 0);
		if (midstream) {
			d->lost = true;
			stat_inc(c, H2_STAT_HPACK_LOST);
			d->st = WAIT_SYNC;
			d->sync_loses_hpack = true;
		} else {
			d->st = d->from_client ? WAIT_PREFACE : WAIT_HEADER;
		}
	}
	return c;
}

void h2_conn_free(struct h2_conn *c)
{
	if (!c)
		return;
	for (int i = 0; i < 2; i++) {
		if (c->dir[i].inf)
			nghttp2_hd_inflate_del(c->dir[i].inf);
		mem_free(&c->mem, c->dir[i].block);
		hpack_memo_clear(&c->dir[i].memo, &c->memo_alloc);
	}
	mem_free(&c->mem, c->arena);
	mem_free(&c->mem, c->refs);
	mem_free(&c->mem, c->fields);
	mem_count(&c->mem, sizeof *c, false);
	free(c);
}

void h2_conn_upgraded(struct h2_conn *c)
{
	struct h2_dir *d = &c->dir[0];
	d->table_allowed = c->lim.max_table_size;
	if (d->inf && !d->lost)
		(void)nghttp2_hd_inflate_change_table_size(d->inf, d->table_allowed);
}

size_t h2_memory(const struct h2_conn *c)
{
	return c->mem.used;
}

void h2_feed(struct h2_conn *c, bool from_client, const uint8_t *p, size_t len,
	     const struct h2_callbacks *cb, void *ctx)
{
	struct h2_dir *d = &c->dir[from_client];
	struct feed_ctx f = {c, d, cb, ctx};
	size_t i = 0;
	while (i < len) {
		switch (d->st) {
		case WAIT_PREFACE:
			i += preface(&f, p + i, len - i);
			break;
		case WAIT_HEADER: {
			size_t take = H2_HDR_LEN - d->hdr_len;
			if (take > len - i)
				take = len - i;
			if (take == H2_HDR_LEN) /* the usual whole header: a copy of fixed size, inline */
				memcpy(d->hdr, p + i, H2_HDR_LEN);
			else
				memcpy(d->hdr + d->hdr_len, p + i, take);
			d->hdr_len = (uint8_t)(d->hdr_len + take);
			i += take;
			if (d->hdr_len == H2_HDR_LEN)
				frame_begin(&f);
			break;
		}
		case WAIT_PAYLOAD:
			i += frame_payload(&f, p + i, len - i);
			break;
		case WAIT_SYNC:
			i += sync_scan(&f, p + i, len - i);
			break;
		case FAILED:
			return;
		}
	}
}

/* A gap inside the current payload: the frame stays in step. */
static void gap_in_payload(struct feed_ctx *f, uint32_t n)
{
	struct h2_dir *d = f->d;
	if (d->off < d->pre) {
		/* Pad length, priority, promised stream or fixed fields lost. */
		uint32_t k = d->pre - d->off < n ? d->pre - d->off : n;
		d->off += k;
		n -= k;
		if (d->type == H2_DATA) {
			d->body_end = d->len; /* padding unknown: count it all as data */
		} else {
			d->skip = true;
			if (d->in_block && d->block_stream == d->stream)
				block_cut(f);
		}
	}
	if (n && d->off < d->body_end) {
		uint32_t k = d->body_end - d->off < n ? d->body_end - d->off : n;
		if (!d->skip) {
			if (d->type == H2_DATA && f->cb->on_data)
				f->cb->on_data(f->ctx, d->from_client, d->stream, k, true);
			else if (d->type == H2_SETTINGS)
				d->skip = true; /* entries lost; the rest would be misaligned */
			else if (d->in_block && d->block_stream == d->stream &&
				 (d->type == H2_HEADERS || d->type == H2_PUSH_PROMISE ||
				  d->type == H2_CONTINUATION))
				block_cut(f);
		}
		d->off += k;
		n -= k;
	}
	d->off += n; /* padding */
	if (d->off == d->len)
		frame_end(f);
}

void h2_gap(struct h2_conn *c, bool from_client, uint64_t len, const struct h2_callbacks *cb,
	    void *ctx)
{
	struct h2_dir *d = &c->dir[from_client];
	struct feed_ctx f = {c, d, cb, ctx};
	stat_inc(c, H2_STAT_GAPS);
	if (d->st == FAILED || len == 0)
		return;
	if (d->st == WAIT_PAYLOAD && len <= (uint64_t)(d->len - d->off)) {
		stat_inc(c, H2_STAT_GAPS_BRIDGED);
		d->direct = NULL;
		gap_in_payload(&f, (uint32_t)len);
		return;
	}
	sync_start(&f, true);
	if (cb->on_lost)
		cb->on_lost(ctx, from_client);
}
