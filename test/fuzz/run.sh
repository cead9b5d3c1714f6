#!/bin/sh
# run.sh NAME... - behind `make fuzz`: runs each libFuzzer harness
# build/fuzz/fuzz_NAME for FUZZ_SECONDS (default 60) on one core, seeded from
# test/fuzz/corpus/NAME and test/fuzz/regressions/NAME. New interesting inputs
# go to build/fuzz/corpus/NAME (not the committed corpus: minimise and copy by
# hand what is worth keeping); a crash, leak or timeout lands in
# build/fuzz/crashes/NAME/ and becomes, once fixed, a file in
# test/fuzz/regressions/NAME/. Prints one ok/not ok line per harness.
cd "$(dirname "$0")/../.." || exit 2
secs=${FUZZ_SECONDS:-60}
failed=0
for name in "$@"; do
	work=build/fuzz/corpus/$name crashes=build/fuzz/crashes/$name
	mkdir -p "$work" "$crashes" "test/fuzz/regressions/$name"
	log=build/fuzz/$name.log
	dict=
	[ -f "test/fuzz/$name.dict" ] && dict=-dict=test/fuzz/$name.dict
	# shellcheck disable=SC2086 # $dict is one word or none
	build/fuzz/fuzz_"$name" $dict -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-max_len=65536 -print_final_stats=1 -artifact_prefix="$crashes/" \
		"$work" "test/fuzz/corpus/$name" "test/fuzz/regressions/$name" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
	if [ "$rc" -eq 0 ]; then
		echo "ok fuzz_$name: ${secs}s, ${execs:-?} runs, $cov"
	else
		echo "not ok fuzz_$name: exit $rc, see $log and $crashes/"
		failed=1
	fi
done
exit $failed
