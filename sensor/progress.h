/*
 * progress.h - one status line on a terminal during long replays (-r).
 *
 *   tapir: 1.2 GB of 4.0 GB  30%  210.4 MB/s  0:13 left
 *
 * Redrawn in place ("\r", erase to end of line) at most PROGRESS_EVERY_MS
 * apart by the wall clock, erased when the replay ends. The caller decides
 * whether there is a terminal to draw on (isatty(2)): progress_new() is
 * only called then, so a replay into a pipe or a file prints nothing.
 */
#ifndef TAPIR_PROGRESS_H
#define TAPIR_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define PROGRESS_EVERY_MS 250

struct progress;

/* A progress line on `tty` for a file of `total` bytes; NULL when out of memory. */
struct progress *progress_new(FILE *tty, uint64_t total);

/*
 * Cheap, once per packet: true when a redraw is due (the clock is read every
 * 64 calls, and the first call is always due, so a short replay shows a line).
 */
bool progress_due(struct progress *p);

/* Draws the line for `done` bytes of the total. */
void progress_draw(struct progress *p, uint64_t done);

/* Erases the line and frees p. NULL is fine. */
void progress_end(struct progress *p);

/* The text of the line, without the "\r" and the erase (for tests). */
void progress_format(char *buf, size_t cap, uint64_t done, uint64_t total, double seconds);

#endif
