# tapir - passive API sensor. See README.md.
#
#   make          build/tapir (optimised)
#   make check    ASan+UBSan build, unit tests, pcap golden and oracle tests, live test
#   make demo     replay the bundled demo capture and show what tapir found
#   make bench    throughput against the libpcap null loop and tshark, module benchmarks
#   make install  the binary, the systemd unit, a sample /etc/tapir/tapir.yaml
#                 (PREFIX=/usr/local, SYSCONFDIR=/etc, DESTDIR honoured)
#   make fuzz     libFuzzer harnesses (clang), FUZZ_SECONDS (60) each from test/fuzz/corpus
#   make clean

CC      ?= cc
CSTD     = -std=c11 -D_GNU_SOURCE
WARN     = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Werror
OPT      = -O2 -g
LIBS     = -lpcap -lyaml -lnghttp2 -ljansson -lhiredis -lssl -lcrypto -lm -pthread
DEPS_PKGS = build-essential libpcap-dev

LIB_SRC  = $(filter-out sensor/main.c,$(wildcard decoders/*.c sensor/*.c models/*.c config/*.c))
TEST_SRC = $(wildcard test/test_*.c)

REL_OBJ  = $(LIB_SRC:%.c=build/rel/%.o)
SAN_OBJ  = $(LIB_SRC:%.c=build/san/%.o)
SAN_FLAGS = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
TESTS    = $(TEST_SRC:test/%.c=build/san/%)
# ThreadSanitizer: the threaded paths (--workers, the rings), run by test/workers.sh.
TSAN_OBJ = $(LIB_SRC:%.c=build/tsan/%.o)
TSAN_FLAGS = -O1 -g -fsanitize=thread -fno-omit-frame-pointer
TSAN_BINS = build/tsan/tapir-tsan build/tsan/test_ring build/tsan/test_pipeline

PREFIX     ?= /usr/local
SYSCONFDIR ?= /etc
UNITDIR    ?= $(PREFIX)/lib/systemd/system

.PHONY: all check demo bench eval fuzz clean deps install

all: deps build/tapir

# Installs the Debian packages the build needs when they are missing (as root),
# or says exactly what to install.
deps:
	@sh test/ensure-deps.sh build

build/tapir: build/rel/sensor/main.o $(REL_OBJ)
	$(CC) $(OPT) -o $@ $^ $(LIBS)

build/tapir-san: build/san/sensor/main.o $(SAN_OBJ)
	$(CC) $(SAN_FLAGS) -o $@ $^ $(LIBS)

build/rel/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(OPT) -MMD -MP -c -o $@ $<

build/tsan/tapir-tsan: build/tsan/sensor/main.o $(TSAN_OBJ)
	$(CC) $(TSAN_FLAGS) -o $@ $^ $(LIBS)

build/tsan/test_%: build/tsan/test/test_%.o $(TSAN_OBJ)
	$(CC) $(TSAN_FLAGS) -o $@ $^ $(LIBS)

build/tsan/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(TSAN_FLAGS) -MMD -MP -c -o $@ $<

build/san/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(SAN_FLAGS) -MMD -MP -c -o $@ $<

build/san/test_%: build/san/test/test_%.o $(SAN_OBJ)
	$(CC) $(SAN_FLAGS) -o $@ $^ $(LIBS)

# Fuzz harnesses (test/fuzz/fuzz_NAME.c). `make check` builds each with gcc as a
# replay program (test/fuzz/replay_main.c) and runs the corpus and regressions
# through it; `make fuzz` builds them with clang's libFuzzer and fuzzes.
FUZZ_NAMES   = packet tcp http1 http2 identity config
FUZZ_REPLAY  = $(FUZZ_NAMES:%=build/san/fuzz/replay_%)
FUZZ_CC     ?= clang
FUZZ_SAN     = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
FUZZ_OBJ     = $(LIB_SRC:%.c=build/fuzz/obj/%.o)
.SECONDARY: $(FUZZ_OBJ) # kept between runs of make fuzz
FUZZ_SECONDS ?= 60
# clang 14 also flags `a() | b()` written on purpose to evaluate both sides.
FUZZ_WARN    = $(WARN) -Wno-bitwise-instead-of-logical

.SECONDARY: $(FUZZ_NAMES:%=build/san/test/fuzz/fuzz_%.o) build/san/test/fuzz/replay_main.o \
	    $(FUZZ_NAMES:%=build/fuzz/obj/test/fuzz/fuzz_%.o)

build/san/fuzz/replay_%: build/san/test/fuzz/fuzz_%.o build/san/test/fuzz/replay_main.o $(SAN_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(SAN_FLAGS) -o $@ $^ $(LIBS)

build/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CSTD) $(FUZZ_WARN) $(FUZZ_SAN) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

build/fuzz/fuzz_%: build/fuzz/obj/test/fuzz/fuzz_%.o $(FUZZ_OBJ)
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(LIBS)

fuzz:
	@sh test/ensure-deps.sh fuzz
	@$(MAKE) --no-print-directory $(FUZZ_NAMES:%=build/fuzz/fuzz_%)
	@FUZZ_SECONDS=$(FUZZ_SECONDS) sh test/fuzz/run.sh $(FUZZ_NAMES)

check: 
	@sh test/ensure-deps.sh check
	@$(MAKE) --no-print-directory build/tapir build/tapir-san $(TESTS) $(TSAN_BINS) $(FUZZ_REPLAY)
	@sh test/run.sh

demo:
	@sh test/ensure-deps.sh demo
	@$(MAKE) --no-print-directory build/tapir
	@sh test/demo.sh

bench:
	@sh test/ensure-deps.sh bench
	@$(MAKE) --no-print-directory build/tapir
	@sh test/bench.sh

# The scenario test bench: the traffic simulator (test/sim/) and its scoring.
build/tapir-sim: $(wildcard test/sim/*.c test/sim/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(OPT) -o $@ $(filter %.c,$^) -lpcap -lnghttp2 -lssl -lcrypto -lm

eval:
	@sh test/ensure-deps.sh demo
	@$(MAKE) --no-print-directory build/tapir build/tapir-sim
	@python3 test/eval.py

# An existing /etc/tapir/tapir.yaml is kept; the unit names the installed binary.
install: build/tapir
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/tapir \
		$(DESTDIR)$(PREFIX)/share/doc/tapir
	install -m 0755 build/tapir $(DESTDIR)$(PREFIX)/bin/tapir
	sed -e 's|/usr/local/bin/tapir|$(PREFIX)/bin/tapir|' \
		-e 's|/usr/local/share/doc/tapir|$(PREFIX)/share/doc/tapir|' \
		-e 's|/etc/tapir/|$(SYSCONFDIR)/tapir/|g' config/tapir.service >build/tapir.service
	install -m 0644 build/tapir.service $(DESTDIR)$(UNITDIR)/tapir.service
	[ -e $(DESTDIR)$(SYSCONFDIR)/tapir/tapir.yaml ] || \
		install -m 0640 config/tapir-daemon.yaml $(DESTDIR)$(SYSCONFDIR)/tapir/tapir.yaml
	install -m 0644 README.md config/tapir.yaml config/tapir-daemon.yaml \
		$(DESTDIR)$(PREFIX)/share/doc/tapir/

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
