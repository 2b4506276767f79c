#!/usr/bin/env bash
# make demo-fleet: the whole fleet chain on loopback. Three sensors with
# their own names replay different captures into Kafka, one collector
# writes them to PostgreSQL, then `sensor serve` shows them all (the
# Sensors page, every list filterable by sensor) on 127.0.0.1.
#
# Kafka and PostgreSQL come from the project's shared services
# (../shared/services, started here), or from PS_TEST_KAFKA and PS_TEST_PG
# when they are set. Everything it writes is under out/demo-fleet and in
# the PostgreSQL schema packetsleuth_demo (recreated on each run).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=./bin/sensor
out=out/demo-fleet
svc=../shared/services
listen=${PS_DEMO_LISTEN:-127.0.0.1:8089}

if [ -z "${PS_TEST_KAFKA:-}" ] || [ -z "${PS_TEST_PG:-}" ]; then
	if [ ! -x "$svc/start-all.sh" ]; then
		echo "demo-fleet needs Kafka and PostgreSQL: set PS_TEST_KAFKA (host:port) and PS_TEST_PG (a postgres:// DSN)," >&2
		echo "or keep the project's shared services at ../shared/services (start-kafka.sh, start-postgres.sh)." >&2
		exit 1
	fi
	echo "starting Kafka and PostgreSQL from $svc" >&2
	eval "$("$svc/start-all.sh" kafka postgres)"
fi
command -v psql >/dev/null || { echo "demo-fleet needs psql (Debian postgresql-client)" >&2; exit 1; }

rm -rf "$out" && mkdir -p "$out"
psql -q "$PS_TEST_PG" -c 'SET client_min_messages = warning; DROP SCHEMA IF EXISTS packetsleuth_demo CASCADE; CREATE SCHEMA packetsleuth_demo' >/dev/null
sep='?'; case "$PS_TEST_PG" in *\?*) sep='&';; esac
dsn="$PS_TEST_PG${sep}search_path=packetsleuth_demo"
# psql takes the schema from PGOPTIONS (search_path is no libpq URI key)
sql() { PGOPTIONS="-c search_path=packetsleuth_demo" psql -q "$PS_TEST_PG" "$@"; }
run=$(date +%s)
topic=packetsleuth-demo-$run

cat >"$out/collector.yaml" <<EOT
kafka:
  brokers: ["$PS_TEST_KAFKA"]
  group_id: packetsleuth-demo-$run
  topics: [$topic]
  session_timeout: 6s
batch: {max_records: 2000, max_wait: 200ms}
dead_letter: $out/dead-letter.ndjson
outputs:
  - type: store
    driver: postgres
    dsn: "$dsn"
EOT

# three sensors, different captures: the public ones when ../shared is
# here, else the project's own
pub=../shared/pcaps
if [ -f "$pub/portscan-masscan-tcp.pcap" ]; then
	caps=("$pub/portscan-masscan-tcp.pcap" "$pub/http1-browsing.pcap" "$pub/tls-handshakes-many.pcapng")
else
	caps=("testdata/pcaps/http-ethernet.pcap" "testdata/pcaps/tunnel-vxlan.pcap" "testdata/pcaps/tcp-states.pcap")
fi

"$bin" collect --config "$out/collector.yaml" 2>"$out/collector.log" &
collector=$!
trap 'kill $collector 2>/dev/null || true' EXIT

i=0
for site in paris lyon nantes; do
	name=edge-$site
	cat >"$out/$name.yaml" <<EOT
sensor:
  name: $name
  site: $site
  id_file: $out/$name.id
outputs:
  - type: kafka
    brokers: ["$PS_TEST_KAFKA"]
    topic: $topic
EOT
	echo "== $name replays $(basename "${caps[$i]}")"
	"$bin" replay --config "$out/$name.yaml" --stats-report "${caps[$i]}" 2>&1 | sed -n '1p;/outputs\|kafka/p'
	i=$((i + 1))
done

# wait until the store stops growing
prev=-1
for _ in $(seq 1 60); do
	n=$(sql -tA -c 'SELECT (SELECT count(*) FROM flows) + (SELECT count(*) FROM alerts) + (SELECT count(*) FROM events)' 2>/dev/null || echo 0)
	[ "$n" = "$prev" ] && [ "$n" != 0 ] && break
	prev=$n
	sleep 1
done
kill "$collector" && wait "$collector" || true
trap - EXIT
echo "== the collector stored $n events; by sensor:"
sql -c 'SELECT name, site, packets, events FROM sensors ORDER BY name'

echo "== the central UI: http://$listen/ (Sensors page; Ctrl-C stops it)"
exec "$bin" serve --dsn "$dsn" --listen "$listen" --no-auth
