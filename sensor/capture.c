/*
 * capture.c - libpcap glue (pcap(3PCAP), pcap_create(3PCAP)).
 *
 * Live capture is promiscuous (configurable), in immediate mode so packets
 * reach us as they arrive, with the kernel buffer the operator asked for.
 * The link type decides the decoder; one we do not decode is refused at open
 * rather than silently producing nothing.
 *
 * A file: libpcap opens it (its header checks and messages), then, when it is
 * a regular file in classic pcap format, pcapfile.c reads the records in place
 * from a mapping, and the BPF filter runs on them through pcap_offline_filter()
 * with the program compiled for the libpcap handle, as pcap_loop would run it.
 * Standard input, pcapng and the rare formats the mapped reader declines go
 * through pcap_loop; so does every file when the caller asks (libpcap_reader).
 */
#include "capture.h"
#include "pcapfile.h"

#include <errno.h>
#include <signal.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct capture {
	pcap_t *p;
	enum pkt_link link;
	bool live;
	FILE *fp;
	struct pcapfile *pf;      /* the mapped reader of a classic pcap file, or NULL */
	struct bpf_program prog;  /* with pf: the filter, run by run_mapped */
	bool has_prog;
	uint64_t file_size;
	capture_fn fn;
	void *ctx;
	volatile sig_atomic_t stopping; /* set by capture_stop, perhaps in a signal handler */
};

static int apply_filter(struct capture *c, const char *filter, char *err, size_t errlen)
{
	struct bpf_program prog;
	if (!filter || !*filter)
		return 0;
	if (pcap_compile(c->p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		snprintf(err, errlen, "-f: bad filter \"%s\": %s", filter, pcap_geterr(c->p));
		return 2;
	}
	int rc = pcap_setfilter(c->p, &prog);
	if (rc == 0 && c->pf) {
		c->prog = prog; /* kept for pcap_offline_filter; freed by capture_close */
		c->has_prog = true;
	} else {
		pcap_freecode(&prog);
	}
	if (rc != 0) {
		snprintf(err, errlen, "-f: cannot set filter: %s", pcap_geterr(c->p));
		return 1;
	}
	return 0;
}

static int open_file(struct capture *c, const struct capture_opts *o, char *err, size_t errlen)
{
	char perr[PCAP_ERRBUF_SIZE] = "";
	/* "-": standard input, e.g. a capture streamed from another tool. */
	if (strcmp(o->file, "-") == 0) {
		int fd = dup(STDIN_FILENO);
		c->fp = fd >= 0 ? fdopen(fd, "rb") : NULL;
	} else {
		c->fp = fopen(o->file, "rb");
	}
	if (!c->fp) {
		snprintf(err, errlen, "%s: cannot open: %s", o->file, strerror(errno));
		return 2;
	}
	struct stat st;
	bool regular = fstat(fileno(c->fp), &st) == 0 && S_ISREG(st.st_mode);
	if (regular)
		c->file_size = (uint64_t)st.st_size;
	/* 0: not classic pcap, -1: no mapping (address space): libpcap reads it. */
	if (regular && !o->libpcap_reader && strcmp(o->file, "-") != 0 &&
	    pcapfile_open(&c->pf, fileno(c->fp), c->file_size, o->file) != 1)
		c->pf = NULL;
	/* A large stdio buffer: replay reads sequentially, fewer syscalls. */
	if (!c->pf)
		setvbuf(c->fp, NULL, _IOFBF, 1 << 20);
	c->p = pcap_fopen_offline_with_tstamp_precision(c->fp, PCAP_TSTAMP_PRECISION_MICRO, perr);
	if (!c->p) {
		fclose(c->fp);
		c->fp = NULL;
		snprintf(err, errlen, "%s: not a pcap or pcapng file: %s", o->file, perr);
		return 2;
	}
	return 0;
}

static int open_live(struct capture *c, const struct capture_opts *o, char *err, size_t errlen)
{
	char perr[PCAP_ERRBUF_SIZE] = "";
	c->live = true;
	c->p = pcap_create(o->iface, perr);
	if (!c->p) {
		snprintf(err, errlen, "-i %s: %s", o->iface, perr);
		return 2;
	}
	pcap_set_snaplen(c->p, o->snaplen);
	pcap_set_promisc(c->p, o->promiscuous);
	pcap_set_immediate_mode(c->p, 1);
	pcap_set_timeout(c->p, 100);
	if (o->buffer_bytes)
		pcap_set_buffer_size(c->p, (int)(o->buffer_bytes > 0x7fffffff ? 0x7fffffff
									: o->buffer_bytes));
	pcap_set_tstamp_precision(c->p, PCAP_TSTAMP_PRECISION_MICRO);
	int rc = pcap_activate(c->p);
	if (rc < 0) {
		bool usage = rc == PCAP_ERROR_NO_SUCH_DEVICE || rc == PCAP_ERROR_PERM_DENIED;
		snprintf(err, errlen, "-i %s: %s", o->iface,
			 rc == PCAP_ERROR ? pcap_geterr(c->p) : pcap_statustostr(rc));
		return usage ? 2 : 1;
	}
	return 0;
}

/*
 * The mapped reader hands out the file's bytes as they are. libpcap rewrites
 * one thing for the link types tapir decodes: in a file of the other byte
 * order, the CAN ID behind a Linux cooked header (swap_pseudo_headers); such
 * files stay with libpcap. The snapshot lengths agree unless libpcap changed
 * its rule, in which case it is the one to follow.
 */
static bool mapped_reader_fits(const struct capture *c)
{
	if (pcapfile_swapped(c->pf) && (c->link == PKT_LINK_SLL || c->link == PKT_LINK_SLL2))
		return false;
	return pcapfile_snapshot(c->pf) == (uint32_t)pcap_snapshot(c->p);
}

int capture_open(struct capture **out, const struct capture_opts *o, char *err, size_t errlen)
{
	struct capture *c = calloc(1, sizeof *c);
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return 1;
	}
	int rc = o->file ? open_file(c, o, err, errlen) : open_live(c, o, err, errlen);
	if (rc)
		goto fail;
	int dlt = pcap_datalink(c->p);
	int link = pkt_link_from_dlt(dlt);
	if (link < 0) {
		const char *name = pcap_datalink_val_to_name(dlt);
		snprintf(err, errlen, "%s: link type %d (%s) is not supported "
			 "(Ethernet, Linux cooked SLL/SLL2, raw IP, BSD loopback are)",
			 o->file ? o->file : o->iface, dlt, name ? name : "unknown");
		rc = 2;
		goto fail;
	}
	c->link = (enum pkt_link)link;
	if (c->pf && !mapped_reader_fits(c)) {
		pcapfile_close(c->pf);
		c->pf = NULL;
	}
	rc = apply_filter(c, o->filter, err, errlen);
	if (rc)
		goto fail;
	*out = c;
	return 0;
fail:
	capture_close(c);
	return rc;
}

enum pkt_link capture_link(const struct capture *c)
{
	return c->link;
}

bool capture_stable_frames(const struct capture *c)
{
	return c->pf != NULL;
}

void capture_set_hold(struct capture *c, capture_hold_fn fn, void *ctx)
{
	if (c->pf)
		pcapfile_set_hold(c->pf, fn, ctx);
}

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct capture *c = (struct capture *)user;
	uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
	c->fn(c->ctx, ts, bytes, h->caplen);
}

/* pcap_loop over the mapping: the same stop, filter and error as libpcap's offline loop. */
static int run_mapped(struct capture *c, char *err, size_t errlen)
{
	struct pcapfile_rec rec;
	char msg[PCAP_ERRBUF_SIZE];
	while (!c->stopping) {
		switch (pcapfile_next(c->pf, &rec, msg, sizeof msg)) {
		case PCAPFILE_END:
			return 0;
		case PCAPFILE_BAD:
			snprintf(err, errlen, "capture: %s", msg);
			return 1;
		case PCAPFILE_RECORD:
			break;
		}
		if (c->has_prog) {
			/* BPF reads the two lengths, not the time stamp. */
			struct pcap_pkthdr h = {.caplen = rec.caplen, .len = rec.len};
			if (!pcap_offline_filter(&c->prog, &h, rec.data))
				continue;
		}
		c->fn(c->ctx, rec.ts_us, rec.data, rec.caplen);
	}
	return 0;
}

int capture_run(struct capture *c, capture_fn fn, capture_idle_fn idle, void *ctx, char *err,
		size_t errlen)
{
	c->fn = fn;
	c->ctx = ctx;
	int rc;
	if (c->pf) {
		return run_mapped(c, err, errlen);
	} else if (!c->live) {
		rc = pcap_loop(c->p, -1, on_packet, (u_char *)c);
	} else {
		/* Batches: returns after the read timeout (100 ms) or a pcap_breakloop. */
		do {
			rc = pcap_dispatch(c->p, -1, on_packet, (u_char *)c);
			if (rc >= 0 || rc == PCAP_ERROR_BREAK) {
				if (!c->stopping && idle)
					idle(ctx);
				rc = 0;
			}
		} while (rc == 0 && !c->stopping);
	}
	if (rc == PCAP_ERROR) {
		snprintf(err, errlen, "capture: %s", pcap_geterr(c->p));
		return 1;
	}
	return 0;
}

void capture_stop(struct capture *c)
{
	c->stopping = 1;
	pcap_breakloop(c->p);
}

void capture_wake(struct capture *c)
{
	if (c->live)
		pcap_breakloop(c->p);
}

void capture_get_stats(struct capture *c, struct capture_stats *st)
{
	memset(st, 0, sizeof *st);
	st->live = c->live;
	if (c->live) {
		struct pcap_stat ps;
		if (pcap_stats(c->p, &ps) == 0) {
			st->received = ps.ps_recv;
			st->dropped = ps.ps_drop;
			st->if_dropped = ps.ps_ifdrop;
		}
	} else if (c->pf) {
		st->file_bytes = pcapfile_offset(c->pf);
		st->file_size = c->file_size;
	} else if (c->fp) {
		long pos = ftell(c->fp);
		st->file_bytes = pos > 0 ? (uint64_t)pos : 0;
		st->file_size = c->file_size;
	}
}

void capture_close(struct capture *c)
{
	if (!c)
		return;
	pcapfile_close(c->pf);
	if (c->has_prog)
		pcap_freecode(&c->prog);
	if (c->p)
		pcap_close(c->p); /* also closes c->fp for an offline capture */
	else if (c->fp)
		fclose(c->fp);
	free(c);
}
