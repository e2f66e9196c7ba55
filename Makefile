# son1k — two commands on a fresh machine: `make run` and `make test`.
SWIFT ?= $(shell command -v swift 2>/dev/null || echo /opt/swift/usr/bin/swift)
CONFIG ?= plugins.json

.PHONY: run test bench build deps clean

## run: build the kernel and plugins, then serve on 127.0.0.1:8080 (SON1K_LISTEN overrides)
run: deps
	$(SWIFT) build
	.build/debug/son1k serve --config $(CONFIG)

# The end-to-end suites whose promises hold on PostgreSQL too: the kernel's, and the plugins'
# that depend on storage semantics (exact limits, claims, idempotency, the queue). The rest run
# on SQLite only; docs/DECISIONS.md says why. The PostgreSQL-only suites (several processes on
# one database, a kill -9 under load; the database stopped and restarted) run last, alone:
# beside the other suites, two cores cannot keep up with their timings.
POSTGRES_ONLY = Son1kKernelTests\.(InstancesTests|DatabaseOutageTests)
POSTGRES_SUITES = Son1kKernelTests\.(AuthMatrix|BillingTests|BlobAndStream|CLITests|CORSTests|MediaURLTests|OriginalClientTests|ProfileTests|CPlugin|ContractTests|DocumentedPlugin|EventBus|GenerationTests|HTTPConvention|JobQueue|PluginLoading|PoolTests|ShutdownTests|StealthTests|StreamingTests|TiersTests|TypedRoute)

## test: build everything, run every test on SQLite, then the suites above on a PostgreSQL 15
## the tests start themselves, then the several-instance suite; ends with the test runner's summary
test: deps
	scripts/test-venv.sh
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --skip '$(POSTGRES_ONLY)'
	SON1K_TEST_DATABASE=postgres $(SWIFT) test --skip-build --filter '$(POSTGRES_SUITES)'
	$(SWIFT) test --skip-build --filter '$(POSTGRES_ONLY)'

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
