# Cartridge: the two set-up commands of the README are `make demo` and `make test`.
# Both install what they need (Debian 12 packages via apt-get; Swift packages from the mirror).

SWIFT ?= swift
APT_PACKAGES := pkg-config libusb-1.0-0-dev libusbgx-dev libconfig-dev qemu-system-x86 busybox-static kmod cpio python3-pip \
	curl nginx-light gdb
BIN := .build/release

.PHONY: deps python-deps build release test unit-test vm-test demo clean

deps:
	@./scripts/install-deps.sh $(APT_PACKAGES)

## Python reference packages and real clients the tests use (numpy, gguf, tokenizers, jinja2, openai),
## and the two default models (cached), so the tests that compare against them run instead of skipping.
python-deps:
	@./scripts/install-python-deps.sh
	@./scripts/fetch-chat-model.sh >/dev/null
	@./scripts/fetch-default-model.sh >/dev/null

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

## Every test: unit and end-to-end tests (swift test), then real USB in a VM. The VM run here
## uses the debug binaries the tests just built (no second, release build in CI's budget);
## `make vm-test` runs it on release binaries, as the FIGURE lines in docs/PERFORMANCE.md were.
test: deps python-deps
	$(SWIFT) build --build-tests
	SWIFT=$(SWIFT) ./scripts/swift-test-watchdog.sh --no-parallel
	CARTRIDGE_VM_CONFIGURATION=$${CARTRIDGE_VM_CONFIGURATION:-debug} ./scripts/vm/run-usb-tests.sh

unit-test: deps python-deps
	SWIFT=$(SWIFT) ./scripts/swift-test-watchdog.sh --no-parallel

vm-test: deps
	./scripts/vm/run-usb-tests.sh

## The main job: burn the default embedding cartridge, serve it, run semantic search
## (`make demo USB=1`: serve it as a real USB gadget in the VM and query it over libusb).
demo: release
	./scripts/demo.sh $(if $(USB),--usb)

clean:
	rm -rf .build .build-* var
