# micro-gw: `make run` and `make test` work on a fresh Debian 12 machine (as root, or with sudo).
SHELL := /bin/bash
BUILD      ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
JOBS       ?= $(shell nproc)
CONFIG     ?= conf/micro-gw.conf

BUILD_DEPS := g++ cmake make pkg-config libcpp-httplib-dev libssl-dev libtoml11-dev libsodium-dev \
              nlohmann-json3-dev libyaml-cpp-dev libsqlite3-dev libgtest-dev zlib1g-dev libbrotli-dev libboost1.81-dev \
              libhiredis-dev libnghttp2-dev libvalijson-dev rapidjson-dev libgoogle-perftools-dev
TEST_DEPS  := curl openssl python3 python3-jwt python3-cryptography clang-format prometheus chromium redis-server \
              nghttp2-client nghttp2-server python3-h2 python3-grpcio iproute2 chromium-driver python3-selenium \
              json-schema-test-suite
BENCH_DEPS := wrk nginx haproxy libbenchmark-dev linux-perf util-linux

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: format all deps test-deps bench-deps build build-asan build-run run test test-fast test-asan test-tsan \
        bench soak fuzz fuzz-campaign fuzz-corpus-update image image-test clean

all: build

# Installs only what is missing, so a second run is quick and offline.
define apt_install
	@missing=""; for p in $(1); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; fi
endef

deps:
	$(call apt_install,$(BUILD_DEPS))

# npm (for axe-core, tests/portal/package-lock.json) from Debian only when no npm is installed
# (a NodeSource nodejs brings its own, which Debian's npm package conflicts with).
test-deps: deps
	$(call apt_install,$(TEST_DEPS))
	@command -v npm >/dev/null || { echo "installing: nodejs npm"; $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null; }

bench-deps: deps
	$(call apt_install,$(BENCH_DEPS))

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD) -j$(JOBS)

build-asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DMGW_SANITIZE=ON -DMGW_UNITY=ON >/dev/null
	cmake --build $(ASAN_BUILD) -j$(JOBS)

# Only what `make run` runs (the tests and fuzz targets are built by `make test`).
build-run: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD) -j$(JOBS) --target micro-gw mgw-sample-backend

# Starts the sample backend (9080 production, 9081 sandbox) and micro-gw (9090 HTTP, 9095 HTTPS).
run: build-run
	@set -e; ./$(BUILD)/samples/backend/mgw-sample-backend --port 9080 --sandbox-port 9081 & backend=$$!; \
	trap 'kill $$backend 2>/dev/null; wait $$backend 2>/dev/null' EXIT; \
	echo "micro-gw: developer portal at https://localhost:9095/portal (sign in as admin; README, Portal)"; \
	./$(BUILD)/micro-gw --config $(CONFIG)

# Every test: the normal build, then the whole suite again under ASan+UBSan.
test: test-deps build build-asan
	cd $(BUILD) && ctest --output-on-failure -j2 --timeout 300
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j2 --timeout 600

test-fast: test-deps build
	cd $(BUILD) && ctest --output-on-failure -j2 --timeout 300

test-tsan: test-deps
	cmake -S . -B $(TSAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DMGW_TSAN=ON -DMGW_UNITY=ON >/dev/null
	# Only what the integration tests start (the unit tests run in the other two trees).
	cmake --build $(TSAN_BUILD) -j$(JOBS) --target micro-gw mgw-sample-backend
	cd $(TSAN_BUILD) && TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 ctest -L integration --output-on-failure -j2 --timeout 600

# libFuzzer, clang from Debian: each target for FUZZ_SECONDS on its seed corpus (read only; new
# inputs go to $(FUZZ_BUILD)/fuzz-corpus/<target>). Crash inputs are kept in
# $(FUZZ_BUILD)/fuzz-crashes/<target>/; the run fails at the end when any target crashed.
FUZZ_BUILD   ?= build-fuzz
FUZZ_SECONDS ?= 60
# target:max_len (bytes per input)
FUZZ_TARGETS ?= jws:9000 basic_auth:4200 sts_request:4096 key_extractor:4096 ip_matcher:1024 \
                referer_matcher:1024 config_loader:8192 openapi_loader:16384 http_wire:8192 \
                chunked:4096 trace_context:1024 selection_rule:4200 schema:8192 pattern_dfa:1024

fuzz: deps
	$(call apt_install,clang libclang-rt-14-dev)
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMGW_FUZZ=ON >/dev/null
	cmake --build $(FUZZ_BUILD) -j$(JOBS) --target fuzz_targets
	@failed=""; for spec in $(FUZZ_TARGETS); do t=$${spec%%:*}; len=$${spec##*:}; \
	  mkdir -p $(FUZZ_BUILD)/fuzz-corpus/$$t $(FUZZ_BUILD)/fuzz-crashes/$$t; \
	  echo "== fuzz_$$t for $(FUZZ_SECONDS)s (max_len $$len)"; \
	  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ./$(FUZZ_BUILD)/tests/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -max_len=$$len -timeout=10 -rss_limit_mb=2048 \
	    -print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD)/fuzz-crashes/$$t/ \
	    $(FUZZ_BUILD)/fuzz-corpus/$$t tests/fuzz/corpus/$$t 2>&1 | tee $(FUZZ_BUILD)/fuzz-$$t.log | grep -E "^(#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units|==[0-9]+==ERROR|SUMMARY)" ; \
	  if [ "$${PIPESTATUS[0]}" != 0 ]; then failed="$$failed $$t"; fi; done; \
	if [ -n "$$failed" ]; then echo "fuzz: crashes in:$$failed (inputs in $(FUZZ_BUILD)/fuzz-crashes/, logs in $(FUZZ_BUILD)/fuzz-*.log)"; exit 1; fi; \
	echo "fuzz: no crash"

# Fuzzing as a habit: every target of FUZZ_TARGETS, one at a time, for FUZZ_SECONDS each (600
# unless given), at the lowest CPU priority (the machine may be shared). Each starts from the
# committed corpus and what earlier campaigns kept; afterwards the inputs that add coverage are
# merged (libFuzzer -merge=1) into $(FUZZ_BUILD)/fuzz-kept/<target>, which later campaigns reuse.
# Executions and new coverage per target: $(FUZZ_BUILD)/fuzz-campaign.txt; crash inputs:
# $(FUZZ_BUILD)/fuzz-crashes/<target>/ (the campaign fails at the end when any target crashed).
# FUZZ_RUNS=N stops a target after N executions instead (e.g. FUZZ_RUNS=10000000).
# Then `make fuzz-corpus-update` adds to tests/fuzz/corpus/<target>/ only the kept inputs that
# cover something the committed corpus does not (-merge=1 minimises); review and commit them.
CAMPAIGN_SECONDS = $(if $(filter command line environment,$(origin FUZZ_SECONDS)),$(FUZZ_SECONDS),600)
fuzz-campaign: deps
	$(call apt_install,clang libclang-rt-14-dev)
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMGW_FUZZ=ON >/dev/null
	cmake --build $(FUZZ_BUILD) -j$(JOBS) --target fuzz_targets
	@failed=""; report=$(FUZZ_BUILD)/fuzz-campaign.txt; echo "# $$(date -u +%FT%TZ) $(CAMPAIGN_SECONDS)s per target" >> $$report; \
	for spec in $(FUZZ_TARGETS); do t=$${spec%%:*}; len=$${spec##*:}; \
	  bin=./$(FUZZ_BUILD)/tests/fuzz/fuzz_$$t; work=$(FUZZ_BUILD)/fuzz-corpus/$$t; kept=$(FUZZ_BUILD)/fuzz-kept/$$t; \
	  mkdir -p $$work $$kept $(FUZZ_BUILD)/fuzz-crashes/$$t; \
	  echo "== fuzz_$$t for $(CAMPAIGN_SECONDS)s (max_len $$len)"; \
	  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  nice -n 19 $$bin -max_total_time=$(CAMPAIGN_SECONDS) $(if $(FUZZ_RUNS),-runs=$(FUZZ_RUNS)) -max_len=$$len \
	    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD)/fuzz-crashes/$$t/ \
	    $$work $$kept tests/fuzz/corpus/$$t > $(FUZZ_BUILD)/fuzz-$$t.log 2>&1; rc=$$?; \
	  nice -n 19 $$bin -merge=1 -max_len=$$len $$kept $$work >> $(FUZZ_BUILD)/fuzz-$$t.log 2>&1; \
	  execs=$$(sed -n 's/^stat::number_of_executed_units: *//p' $(FUZZ_BUILD)/fuzz-$$t.log | tail -1); \
	  cov=$$(grep -oE 'cov: [0-9]+' $(FUZZ_BUILD)/fuzz-$$t.log | tail -1); \
	  line="$$t: $${execs:-0} executions, $$cov, kept $$(ls $$kept | wc -l) inputs, exit $$rc"; \
	  echo "$$line" | tee -a $$report; \
	  if [ $$rc != 0 ]; then failed="$$failed $$t"; grep -E "^==[0-9]+==ERROR|^SUMMARY" $(FUZZ_BUILD)/fuzz-$$t.log; fi; done; \
	if [ -n "$$failed" ]; then echo "fuzz-campaign: crashes in:$$failed (inputs in $(FUZZ_BUILD)/fuzz-crashes/)"; exit 1; fi; \
	echo "fuzz-campaign: no crash ($$report)"

# The kept inputs that cover what tests/fuzz/corpus/<target>/ does not, added to it (named by
# their SHA-1, as libFuzzer names them): `git add tests/fuzz/corpus` after a look.
fuzz-corpus-update:
	@for spec in $(FUZZ_TARGETS); do t=$${spec%%:*}; len=$${spec##*:}; kept=$(FUZZ_BUILD)/fuzz-kept/$$t; \
	  [ -d $$kept ] || continue; before=$$(ls tests/fuzz/corpus/$$t | wc -l); \
	  ./$(FUZZ_BUILD)/tests/fuzz/fuzz_$$t -merge=1 -max_len=$$len tests/fuzz/corpus/$$t $$kept >/dev/null 2>&1; \
	  echo "$$t: $$(( $$(ls tests/fuzz/corpus/$$t | wc -l) - before )) inputs added"; done

# The container image (Dockerfile). Docker when an engine answers, else podman: on a machine without
# a registry the debian:12 / debian:12-slim bases are made with debootstrap from apt's mirror
# (tests/container/base_image.sh), and podman builds with chroot isolation on the host network.
IMAGE  ?= micro-gw:latest
ENGINE ?= $(shell docker info >/dev/null 2>&1 && echo docker || echo podman)
CONTAINER_DEPS := podman buildah debootstrap procps

image:
	$(if $(filter podman,$(ENGINE)),$(call apt_install,$(CONTAINER_DEPS)))
	@set -e; if [ "$(ENGINE)" = podman ]; then ENGINE=podman tests/container/base_image.sh; fi; \
	start=$$(date +%s); \
	if [ "$(ENGINE)" = podman ]; then \
	  podman build --format docker --isolation chroot --network host --build-arg JOBS=$(JOBS) -t $(IMAGE) . ; \
	else docker build --build-arg JOBS=$(JOBS) -t $(IMAGE) . ; fi; \
	echo "image: $(IMAGE) built by $(ENGINE) in $$(( $$(date +%s) - start )) s"; \
	$(ENGINE) image inspect --format '{{.Size}}' $(IMAGE) | awk '{ printf "image: %.1f MB\n", $$1 / 1e6 }'

# Runs the image as shipped and checks it from outside (tests/container/image_test.sh). The sample
# backend runs on the host, where the container's proxied calls reach it.
image-test: test-deps
	$(if $(filter podman,$(ENGINE)),$(call apt_install,$(CONTAINER_DEPS)))
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD) -j$(JOBS) --target mgw-sample-backend
	ENGINE=$(ENGINE) IMAGE=$(IMAGE) BACKEND=$(BUILD)/samples/backend/mgw-sample-backend tests/container/image_test.sh

bench: bench-deps
	bench/run.sh

# SOAK_SECONDS (default 600) of mixed valid, invalid and revoked keys; fails on any unexpected status or crash.
soak: bench-deps
	bench/soak.sh

# Applies .clang-format to every C++ file (make test checks it).
format:
	find src tests samples bench \( -name '*.cc' -o -name '*.h' \) -print0 | xargs -0 clang-format -i

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD)
