# infrashare — the two commands are `make run` and `make test`.

GO           ?= go
BIN          ?= bin/infrashare
VERSION      ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
TEST_TIMEOUT ?= 15m
LDFLAGS      := -s -w -X main.version=$(VERSION)

# Packages whose tests race goroutines against each other: they run under
# the race detector wherever cgo and a C compiler are present.
RACE_PKGS := infrashare/database infrashare/migrations infrashare/auth infrashare/registry infrashare/notify
CAN_RACE  := $(shell [ "$$($(GO) env CGO_ENABLED)" = 1 ] && command -v "$$($(GO) env CC)" >/dev/null 2>&1 && echo yes)

# make run: the demo on the embedded SQLite database, unless told otherwise.
export INFRASHARE_DEMO ?= true

.PHONY: run build test lint bench load clean

run: build
	./$(BIN) serve

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/infrashare

test:
ifeq ($(CAN_RACE),yes)
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) -race $(RACE_PKGS)
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) $(filter-out $(RACE_PKGS),$(shell $(GO) list ./...))
else
	@echo "note: no cgo C compiler here, so the race detector is off"
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./...
endif

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem -timeout 60m ./...

# make load: build bin/infrashare-load and drive a running server with the
# mix of signed-in reads and writes (docs/load.md). It signs in with the demo
# accounts, so the server needs them and INFRASHARE_DEMO_PASSWORD must hold
# their password. Variables:
#   INFRASHARE_LOAD_URL  the server under test (default http://127.0.0.1:8080)
#   LOAD_DURATION        how long to send (default 30s)
#   LOAD_RATE            requests per second on a fixed open-loop schedule (default 2000)
#   LOAD_READS           share of reads, the rest writes (default 0.9)
#   LOAD_FLAGS           more flags, e.g. -json, -area vietnam, -only nearby,
#                        -rate 0 -concurrency 8 (see bin/infrashare-load -help)
INFRASHARE_LOAD_URL ?= http://127.0.0.1:8080
LOAD_DURATION       ?= 30s
LOAD_RATE           ?= 2000
LOAD_READS          ?= 0.9
LOAD_FLAGS          ?=

load:
	$(GO) build -trimpath -o bin/infrashare-load ./cmd/infrashare-load
	./bin/infrashare-load -url '$(INFRASHARE_LOAD_URL)' -duration $(LOAD_DURATION) -rate $(LOAD_RATE) -reads $(LOAD_READS) $(LOAD_FLAGS)

clean:
	rm -rf bin
