#!/usr/bin/env bash
# Highest zero-drop rate of live capture: tcpreplay sends a capture across a
# veth pair between two network namespaces made here, at rising rates, to
# `sensor run` (AF_PACKET, fanout 2, full DPI and the shipped rules) in the
# other namespace; each rate's line says what the kernel and the sensor
# dropped. Needs root, ip and tcpreplay.
#   bench/live-veth.sh SENSOR_BIN CAPTURE [RATES_MBPS...]   (LOOPS=10: times the capture is sent)
set -euo pipefail
bin=$1 capture=$2
shift 2
rates=(100 200 400 800 1600 topspeed)
[ $# -gt 0 ] && rates=("$@")
loops=${LOOPS:-10}
nsA=ps-bench-a nsB=ps-bench-b ifA=psbencha ifB=psbenchb
out=$(mktemp -d)
cleanup() { ip netns del $nsA 2>/dev/null || true; ip netns del $nsB 2>/dev/null || true; rm -rf "$out"; }
trap cleanup EXIT
cleanup; out=$(mktemp -d)
ip netns add $nsA
ip netns add $nsB
for ns in $nsA $nsB; do
	ip netns exec $ns sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
ip link add $ifA netns $nsA mtu 9000 type veth peer name $ifB netns $nsB mtu 9000
ip -n $nsA link set lo up
ip -n $nsB link set lo up
ip -n $nsA link set $ifA up
ip -n $nsB link set $ifB up
packets=$(tcpdump -r "$capture" -nn 2>/dev/null | wc -l || echo 0)
for rate in "${rates[@]}"; do
	ip netns exec $nsB "$bin" run -i $ifB --engine afpacket --fanout 2 --out "$out/events.ndjson" --log-level warn 2>"$out/sensor.log" &
	pid=$!
	sleep 2
	speed=(--mbps "$rate")
	[ "$rate" = topspeed ] && speed=(--topspeed)
	sent=$(ip netns exec $nsA tcpreplay -i $ifA --loop "$loops" "${speed[@]}" "$capture" 2>&1 | awk '/Rated:/ && !done {print $2, $3, $6, $7; done=1}')
	sleep 2
	kill -INT $pid
	wait $pid || true
	drops=$(grep -iE "drop" "$out/sensor.log" | tr '\n' ' ' | cut -c1-200)
	echo "rate=$rate sent: $sent ($((packets * loops)) packets) | $drops"
	rm -f "$out/events.ndjson"
done
