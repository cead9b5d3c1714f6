#!/bin/sh
# redis-tsan.sh - test/redis.sh again with the ThreadSanitizer build: the
# delivery thread, its producers and the --workers pipeline together.
cd "$(dirname "$0")/.." || exit 2
if [ ! -x build/tsan/tapir-tsan ]; then
	echo "not ok redis-tsan: build/tsan/tapir-tsan is not built (make check builds it)"
	exit 0
fi
TAPIR=build/tsan/tapir-tsan REDIS_TEST_NAME=redis-tsan exec sh test/redis.sh
