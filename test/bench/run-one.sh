#!/bin/sh
# run-one.sh FILE.c [ARGS] - builds one module benchmark against the release objects and runs it with ARGS.
cd "$(dirname "$0")/../.." || exit 2
name=$(basename "$1" .c)
make -s build/tapir >/dev/null || exit 1
mkdir -p build/bench
objs=$(find build/rel -name '*.o' ! -path '*/sensor/main.o' ! -path '*/test/*')
cc -std=c11 -D_GNU_SOURCE -O2 -o "build/bench/$name" "$1" $objs \
	$(sed -n 's/^LIBS *= *//p' Makefile) || exit 1
shift
"build/bench/$name" "$@"
