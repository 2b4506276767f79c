# PacketSleuth — build, test, benchmark.
GO      ?= go
PKGS    := ./...
BENCHCAP ?= $(or $(TMPDIR),/tmp)/packetsleuth-bench-1GB.pcap
# The realistic capture and the Suricata config of ../shared/bench (README there).
BENCH_LARGE ?= $(or $(TMPDIR),/tmp)/packetsleuth-bench/bench-large.pcap
SURICATA_CONF ?= ../shared/bench/suricata.yaml

.PHONY: deps build demo demo-fleet test lint fuzz bench testdata generate clean bench-live

# Install what the build and the tests need on a fresh Debian/Ubuntu: libpcap
# (BPF, live capture), python3-yaml (the ECS field check), tcpreplay and
# iproute2 (live capture across veth pairs), tmux (sensor top's tests).
DEB_PKGS := libpcap-dev python3-yaml tcpreplay iproute2 tmux
deps:
	@missing=$$(for p in $(DEB_PKGS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing $$missing"; \
		apt-get install -y -q $$missing >/dev/null 2>&1 || \
		{ apt-get update -q >/dev/null && apt-get install -y -q $$missing >/dev/null; }; \
	fi

build: deps
	$(GO) build -o bin/sensor ./cmd/sensor

# The main job on the shipped captures: replay them into NDJSON and an SQLite
# history, print the replay summary, then the traffic report of that history.
demo: build
	rm -f out/demo.db
	./bin/sensor replay --out out/demo.ndjson --store out/demo.db testdata/pcaps
	./bin/sensor report --store out/demo.db --top 5

# The fleet on loopback: three sensors replay different captures into
# Kafka, a collector writes them to PostgreSQL, then the central UI
# (sensor serve) shows them on 127.0.0.1:8089. Kafka and PostgreSQL come
# from ../shared/services (started by the script) or PS_TEST_KAFKA and
# PS_TEST_PG; without either it says so and stops.
demo-fleet: build
	./deploy/demo-fleet.sh

# Tests that stop the shared Kafka server run after the others, one at a
# time: beside them, they take the broker away from another package's test.
SOLO_TESTS := TestBrokerRestart|TestFleetBrokerDown10s
test: deps
	$(GO) test -race -count=1 -timeout 30m -skip '^($(SOLO_TESTS))$$' $(PKGS)
	$(GO) test -race -count=1 -timeout 10m -p 1 -run '^($(SOLO_TESTS))$$' ./outputs/kafka ./cmd/sensor

# gofmt, go.mod tidy, go vet and staticcheck (SA1019 off: the certificate
# parser reads legacy DSA keys on purpose). Stale generated files fail
# `make test` (schemas/internal/gen's TestGeneratedFilesAreCurrent).
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	@$(GO) mod tidy -diff || { echo "go.mod/go.sum are not tidy: run go mod tidy"; exit 1; }
	$(GO) vet $(PKGS)
	$(GO) run $(STATICCHECK) -checks 'inherit,-SA1019' $(PKGS)

# Each fuzz target for a short, bounded time.
FUZZTIME ?= 20s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
		for t in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
			echo "fuzz $$pkg $$t"; $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

# What follows from the event structs of schemas/: the encoder, the field
# table, the Elasticsearch mappings and docs/fields.md.
generate:
	$(GO) generate ./schemas

# Regenerate the project's own captures (and then the golden files).
testdata:
	$(GO) run ./cmd/pcapgen -testdata testdata/pcaps
	$(GO) test ./sensor/pipeline -run TestGolden -update

# Benchmarks on a generated 1 GB capture: packets/s, Gbit/s, allocs/packet, peak RSS.
# Then, when Suricata and bench-large are there, the CPU ratio of `sensor
# replay` (1 and 2 workers) to Suricata over alternating runs, and the CPU
# of one replay per stage (cmd/benchvs).
bench: build
	@test -f $(BENCHCAP) || $(GO) run ./cmd/pcapgen -mix $(BENCHCAP) -size 1GB
	PS_BENCH_PCAP=$(BENCHCAP) $(GO) test -run '^$$' -bench . -benchmem -benchtime 3x ./sensor/pipeline
	$(GO) test -run '^$$' -bench . -benchmem ./sensor/decode ./sensor/flow ./parsers/... ./enrich/... ./rules/... ./outputs/... 2>/dev/null | grep -E '^(Benchmark|ok|PASS)' || true
	@if command -v suricata >/dev/null && test -f $(BENCH_LARGE) && test -f $(SURICATA_CONF); then \
		$(GO) run ./cmd/benchvs -pcap $(BENCH_LARGE) -sensor bin/sensor -suricata-config $(SURICATA_CONF); \
	else \
		echo "no comparison with Suricata: it needs suricata, $(BENCH_LARGE) and $(SURICATA_CONF) (../shared/bench/README.md)"; \
	fi

# Live capture at rising rates across a veth pair (root, ip, tcpreplay):
# make bench-live LIVE_PCAP=capture [RATES="400 800 topspeed"] [LOOPS=10]
LIVE_PCAP ?= ../shared/pcaps/http1-browsing.pcap
RATES ?= 400 800 1600 topspeed
bench-live: build
	./bench/live-veth.sh bin/sensor $(LIVE_PCAP) $(RATES)

clean:
	rm -rf bin out
