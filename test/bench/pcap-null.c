/*
 * pcap-null.c - the reference reader for `make bench`: pcap_loop over a file
 * with a callback that only adds up the captured bytes, opened the same way
 * tapir opens a file (1 MiB stdio buffer). tapir's replay throughput is
 * reported as a ratio to this.
 */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>

static void count(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	uint64_t *n = (uint64_t *)user;
	n[0]++;
	n[1] += h->caplen;
	n[2] += bytes[h->caplen / 2]; /* touch the frame, as a decoder would */
}

int main(int argc, char **argv)
{
	char err[PCAP_ERRBUF_SIZE];
	if (argc != 2) {
		fprintf(stderr, "usage: pcap-null CAPTURE\n");
		return 2;
	}
	FILE *f = fopen(argv[1], "rb");
	if (!f) {
		perror(argv[1]);
		return 2;
	}
	setvbuf(f, NULL, _IOFBF, 1 << 20);
	pcap_t *p = pcap_fopen_offline(f, err);
	if (!p) {
		fprintf(stderr, "pcap-null: %s\n", err);
		return 2;
	}
	uint64_t n[3] = {0};
	pcap_loop(p, -1, count, (u_char *)n);
	printf("%llu packets %llu bytes (%llu)\n", (unsigned long long)n[0],
	       (unsigned long long)n[1], (unsigned long long)(n[2] & 1));
	pcap_close(p);
	return 0;
}
