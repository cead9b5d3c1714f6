# capture-lib.sh - sourced by test/make-pcaps*.sh: record one capture of the
# traffic between the two test namespaces (test/netns.sh) with tcpdump on the
# client's end. Needs $CLI (ip netns exec tapir-cli) and $work (a temp dir).

cap() { # cap NAME: start tcpdump writing $work/NAME.pcap
	$CLI tcpdump -i tapir-c0 -s 0 -U -w "$work/$1.pcap" 'tcp' 2>/dev/null &
	echo $! >"$work/tcpdump.pid"
	sleep 0.7
}

endcap() { # endcap NAME: stop it and keep it as pcaps/NAME.pcap
	sleep 0.5
	kill "$(cat "$work/tcpdump.pid")"
	wait "$(cat "$work/tcpdump.pid")" 2>/dev/null || true
	cp "$work/$1.pcap" "pcaps/$1.pcap"
	echo "pcaps/$1.pcap: $(stat -c %s "pcaps/$1.pcap") bytes"
}
