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

## build: the desktop app, the central server and the collector into bin/
build: deps-build
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/callguard .
	CGO_ENABLED=0 $(GO) build -ldflags "-X main.version=$(VERSION)" -o bin/callguard-server ./cmd/callguard-server
	CGO_ENABLED=0 $(GO) build -ldflags "-X main.version=$(VERSION)" -o bin/callguard-collector ./cmd/callguard-collector

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

# ---- Installers (docs/deploy.md). Everything lands in $(DIST). ----------------
# PKG_VERSION is the numeric X.Y.Z the installers carry (packaging/version.sh).
# Signing: SIGN_PKCS12=cert.pfx SIGN_PASSWORD_FILE=pass.txt (or SIGN_CERT and
# SIGN_KEY, PEM) for Windows; MACOS_SIGN_IDENTITY for macOS.
DIST        ?= dist
PKG_VERSION ?= $(shell packaging/version.sh)
FYNE        ?= $(CURDIR)/.tools/fyne
RELEASE_LDFLAGS := -s -w $(LDFLAGS)

.PHONY: icons windows msi linux deb linux-tarball dmg-layout dmg

## icons: redraw assets/icons (app icon as PNG, SVG, .ico, .icns; tray icons)
icons:
	$(GO) run ./packaging/iconsgen -dir assets/icons

## windows: cross-compile $(DIST)/windows/callguard.exe (mingw-w64, PortAudio for Windows)
windows:
	packaging/windows/build-exe.sh $(DIST)/windows/callguard.exe $(VERSION) $(PKG_VERSION)

## msi: the Windows installer $(DIST)/callguard-<version>-x64.msi, signed if a certificate is set
msi: windows
	packaging/windows/build-msi.sh $(DIST)/windows/callguard.exe $(PKG_VERSION) $(DIST)/callguard-$(PKG_VERSION)-x64.msi

## linux: $(DIST)/linux/callguard, the desktop app as the Linux packages ship it
linux: deps-build
	$(GO) build -trimpath -ldflags "$(RELEASE_LDFLAGS)" -o $(DIST)/linux/callguard .

## deb: the Debian/Ubuntu package $(DIST)/callguard_<version>_amd64.deb
deb: linux
	packaging/linux/build-deb.sh $(DIST)/linux/callguard $(PKG_VERSION) $(DIST)/callguard_$(PKG_VERSION)_amd64.deb

## linux-tarball: $(DIST)/callguard-<version>-linux-amd64.tar.xz made by `fyne package -os linux`
linux-tarball: linux $(FYNE)
	packaging/linux/build-tarball.sh $(FYNE) $(DIST)/linux/callguard $(PKG_VERSION) $(DIST)/callguard-$(PKG_VERSION)-linux-amd64.tar.xz

$(FYNE):
	GOBIN=$(CURDIR)/.tools $(GO) install fyne.io/tools/cmd/fyne@v1.7.4

## dmg-layout: $(DIST)/macos/callguard.app around MACOS_BINARY (any OS; signed and self-contained on macOS)
dmg-layout:
	packaging/macos/build-app.sh $(MACOS_BINARY) $(VERSION) $(PKG_VERSION) $(DIST)/macos/callguard.app

## dmg: on a Mac, build the app and make $(DIST)/callguard-<version>-macos-<arch>.dmg
dmg:
	$(GO) build -trimpath -ldflags "$(RELEASE_LDFLAGS)" -o $(DIST)/macos/callguard-bin .
	$(MAKE) dmg-layout MACOS_BINARY=$(DIST)/macos/callguard-bin
	packaging/macos/build-dmg.sh $(DIST)/macos/callguard.app $(PKG_VERSION) $(DIST)/callguard-$(PKG_VERSION)-macos-$(shell uname -m).dmg
