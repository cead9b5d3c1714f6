/*
 * progress.c - the replay status line: bytes, percent, rate, time left.
 *
 * The rate is the average since the start (bytes done / wall time), which
 * is steady enough on a sequential file read and needs no history. Sizes
 * are decimal megabytes, or gigabytes from 1 GB, as file managers show them.
 */
#include "progress.h"

#include <stdlib.h>
#include <time.h>

struct progress {
	FILE *tty;
	uint64_t total;
	uint64_t start_ms;
	uint64_t next_ms;  /* the wall time of the next redraw */
	uint32_t calls;
	bool drawn;
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

struct progress *progress_new(FILE *tty, uint64_t total)
{
	struct progress *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	p->tty = tty;
	p->total = total;
	p->start_ms = now_ms();
	p->next_ms = p->start_ms;
	return p;
}

bool progress_due(struct progress *p)
{
	if ((p->calls++ & 63) != 0)
		return false;
	return now_ms() >= p->next_ms;
}

/* In the unit of the total, so that both figures read alike. */
static void format_size(char *buf, size_t cap, uint64_t bytes, uint64_t total)
{
	if (total >= 1000000000ull)
		snprintf(buf, cap, "%.1f GB", (double)bytes / 1e9);
	else
		snprintf(buf, cap, "%.1f MB", (double)bytes / 1e6);
}

void progress_format(char *buf, size_t cap, uint64_t done, uint64_t total, double seconds)
{
	char d[32], t[32];
	if (done > total)
		done = total;
	format_size(d, sizeof d, done, total);
	format_size(t, sizeof t, total, total);
	unsigned pct = total ? (unsigned)(done * 100 / total) : 100;
	if (seconds < 0.001 || done == 0) {
		snprintf(buf, cap, "tapir: %s of %s  %u%%", d, t, pct);
		return;
	}
	double rate = (double)done / seconds;
	uint64_t left = (uint64_t)((double)(total - done) / rate + 0.5);
	snprintf(buf, cap, "tapir: %s of %s  %u%%  %.1f MB/s  %llu:%02llu left", d, t, pct,
		 rate / 1e6, (unsigned long long)(left / 60), (unsigned long long)(left % 60));
}

void progress_draw(struct progress *p, uint64_t done)
{
	char line[160];
	uint64_t now = now_ms();
	progress_format(line, sizeof line, done, p->total, (double)(now - p->start_ms) / 1000.0);
	fprintf(p->tty, "\r%s\033[K", line);
	fflush(p->tty);
	p->drawn = true;
	p->next_ms = now + PROGRESS_EVERY_MS;
}

void progress_end(struct progress *p)
{
	if (!p)
		return;
	if (p->drawn) {
		fputs("\r\033[K", p->tty);
		fflush(p->tty);
	}
	free(p);
}
