# son1k — two commands on a fresh machine: `make run` and `make test`.
SWIFT ?= $(shell command -v swift 2>/dev/null || echo /opt/swift/usr/bin/swift)
CONFIG ?= plugins.json

.PHONY: run test bench build deps clean

## run: build the kernel and plugins, then serve on 127.0.0.1:8080 (SON1K_LISTEN overrides)
run: deps
	$(SWIFT) build
	.build/debug/son1k serve --config $(CONFIG)

## test: build everything and run every test; ends with the test runner's summary
test: deps
	scripts/test-venv.sh
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

## bench: release build; wrk against native, Swift-plugin, C-plugin and DB-write routes; queue throughput; render speed
bench:
	scripts/ensure-deps.sh --bench
	scripts/bench.sh

build: deps
	$(SWIFT) build

deps:
	@scripts/ensure-deps.sh

clean:
	rm -rf .build data
