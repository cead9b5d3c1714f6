/*
 * test_output.c - the events buffer (output_events_buffer): the file gets
 * the same bytes as one fwrite a line, whatever the block size, written when
 * a block fills and on output_flush_events; a failed write is counted and
 * reported to the end.
 */
#include "unit.h"

#include <stdlib.h>

#include "../sensor/output.h"

static void some_event(struct api_event *ev, unsigned i)
{
	memset(ev, 0, sizeof *ev);
	ev->ts_us = 1795824000ull * 1000000 + i * 1234567ull;
	ev->proto = (enum ev_proto)(i % 3);
	ev->client_ip[10] = ev->client_ip[11] = 0xff;
	ev->client_ip[15] = (uint8_t)i;
	ev->server_ip[10] = ev->server_ip[11] = 0xff;
	ev->client_port = (uint16_t)(40000 + i);
	ev->server_port = 443;
	snprintf(ev->method, sizeof ev->method, "%s", i % 4 ? "GET" : "POST");
	/* lines of very different lengths */
	int n = snprintf(ev->path, sizeof ev->path, "/v1/items/%u/", i);
	size_t extra = i * 37 % 1500;
	for (size_t k = 0; k < extra; k++)
		ev->path[(size_t)n + k] = (char)('a' + k % 26);
	ev->path[(size_t)n + extra] = '\0';
	ev->status = 200;
	ev->identity.kind = ID_NONE;
}

/* The events file's bytes after n events, through a buffer of `block` bytes (0: none). */
static char *run(unsigned n, size_t block, size_t *len)
{
	struct output o = {.sensor_name = "test", .events = tmpfile()};
	static struct api_event ev;
	CHECK(o.events != NULL);
	if (block)
		CHECK(output_events_buffer(&o, block) == 0);
	long at_half = -1;
	for (unsigned i = 0; i < n; i++) {
		some_event(&ev, i);
		output_event(&o, &ev);
		if (i == n / 2) {
			fflush(o.events);
			at_half = ftell(o.events);
		}
	}
	/* Before the last flush the file holds whole blocks only (none when one never filled). */
	if (block)
		CHECK(at_half == 0 || at_half >= (long)block);
	CHECK(output_flush_events(&o) == 0);
	CHECK(fflush(o.events) == 0);
	CHECK_EQ(o.write_errors, 0);
	*len = (size_t)ftell(o.events);
	char *text = malloc(*len + 1);
	rewind(o.events);
	CHECK(fread(text, 1, *len, o.events) == *len);
	text[*len] = '\0';
	fclose(o.events);
	output_events_buffer_free(&o);
	return text;
}

static void test_same_bytes(void)
{
	size_t want_len, len;
	char *want = run(500, 0, &want_len);
	CHECK(want_len > 500 * 300);
	size_t blocks[] = {1, 100, 4096, 65536, 1 << 20};
	for (size_t i = 0; i < sizeof blocks / sizeof blocks[0]; i++) {
		char *got = run(500, blocks[i], &len);
		CHECK_EQ(len, want_len);
		CHECK(len == want_len && memcmp(got, want, len) == 0);
		free(got);
	}
	free(want);
}

static void test_write_failure(void)
{
	FILE *full = fopen("/dev/full", "w");
	if (!full) {
		fprintf(stderr, "skip: no /dev/full\n");
		return;
	}
	struct output o = {.sensor_name = "test", .events = full};
	static struct api_event ev;
	CHECK(output_events_buffer(&o, 1000) == 0);
	for (unsigned i = 0; i < 10; i++) {
		some_event(&ev, i);
		output_event(&o, &ev);
	}
	CHECK(o.write_errors > 0);
	CHECK(output_flush_events(&o) == -1);
	/* Nothing left to write, and still the failure is reported. */
	CHECK(output_flush_events(&o) == -1);
	CHECK_EQ(o.write_errors, 10);
	fclose(full);
	output_events_buffer_free(&o);
}

int main(void)
{
	RUN(test_same_bytes);
	RUN(test_write_failure);
	return unit_done("test_output");
}
