# wanbond: `make demo` shows the bond at work in the lab; `make test` runs every test.
SHELL := /bin/bash
VERSION := $(shell node -p "require('./package.json').version")
export SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)

.PHONY: all deps build typecheck test test-unit ipk deb lab demo bench clean

all: build

deps:
	@scripts/deps.sh

build: deps
	@node scripts/build.mjs

typecheck: deps
	@npx tsc --noEmit -p tsconfig.json

# Every test the project has: unit, integration (mosquitto, browser) and the lab (real kernel).
test: build typecheck
	@node scripts/run-tests.mjs

test-unit: build
	@node scripts/run-tests.mjs unit

ipk: build
	@node scripts/ipk.mjs
	@node scripts/ipk-luci.mjs

deb: build
	@node scripts/deb.mjs

lab: build
	@node scripts/run-tests.mjs lab

demo: build
	@lab/demo.sh

bench: build
	@bench/run.sh $(PROFILE)

clean:
	rm -rf dist test/artifacts
