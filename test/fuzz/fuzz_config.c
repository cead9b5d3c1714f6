/*
 * fuzz_config.c - the configuration loader (config/config.c over libyaml) on
 * arbitrary file contents: the input is written to this process's temporary
 * file and loaded over the defaults, then freed.
 *
 * Checks the loader's contract (config.h): 0 with the settings filled, or -1
 * with one line of error that names the file, and the defaults left unchanged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../config/config.h"
#include "fuzz_input.h"

static char path[64];

static void cleanup(void)
{
	if (path[0])
		unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!path[0]) {
		snprintf(path, sizeof path, "/tmp/tapir-fuzz-config-XXXXXX");
		int fd = mkstemp(path);
		FZ_CHECK(fd >= 0);
		close(fd);
		atexit(cleanup);
	}
	FILE *f = fopen(path, "wb");
	FZ_CHECK(f != NULL);
	FZ_CHECK(fwrite(data, 1, size, f) == size);
	FZ_CHECK(fclose(f) == 0);

	/* The structs are large (paths of 4 KiB): keep them off the stack. */
	struct tapir_config *c = malloc(sizeof *c), *defaults = malloc(sizeof *defaults);
	FZ_CHECK(c && defaults);
	memset(c, 0, sizeof *c);
	memset(defaults, 0, sizeof *defaults);
	config_defaults(c);
	config_defaults(defaults);
	char err[512];
	err[0] = '\0';
	if (config_load(c, path, err, sizeof err) == 0) {
		FZ_CHECK(c->api.n_sensitive == 0 || c->api.sensitive[0].glob != NULL);
	} else {
		FZ_CHECK(strncmp(err, path, strlen(path)) == 0);
		FZ_CHECK(strchr(err, '\n') == NULL);
		FZ_CHECK(memcmp(c, defaults, sizeof *c) == 0);
	}
	config_free(c);
	free(c);
	free(defaults);
	return 0;
}
