# callguard — the two commands a newcomer needs are `make run` and `make test`.
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: run test build lint deps deps-build clean

## run: build and start the desktop app on its embedded defaults
run: deps-build build
	./bin/callguard

## test: install what is missing, lint, and run every test against the real rig
test:
	scripts/test.sh

## build: the desktop app and the central server into bin/
build: deps-build
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/callguard .
	CGO_ENABLED=0 $(GO) build -ldflags "-X main.version=$(VERSION)" -o bin/callguard-server ./cmd/callguard-server

## lint: gofmt, go vet, staticcheck
lint:
	scripts/lint.sh

## deps: the Debian packages for building, the test rig and the installers
deps:
	scripts/deps.sh all

deps-build:
	@scripts/deps.sh build

clean:
	rm -rf bin dist
