# ipc-pairs: every target works on a fresh clone with only the Rust toolchain.
# `make` alone lists the targets.

CARGO ?= cargo
MECHANISMS := pipe fifo msgq sem shm socket
# Where the demos find the programs (cargo honours CARGO_TARGET_DIR, so do we).
export IPC_BIN ?= $(or $(CARGO_TARGET_DIR),$(CURDIR)/target)/debug

.DEFAULT_GOAL := help
.PHONY: help build test lint demo $(addprefix demo-,$(MECHANISMS)) bench soak c textbook clean-ipc

help: ## List the targets
	@echo "ipc-pairs: Linux IPC in Rust, one sender/receiver pair per mechanism"
	@echo
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z-]+):.*## (.*)/  make \1\t\2/' | expand -t 20
	@echo "  make demo-MECH     One mechanism: $(MECHANISMS)"

build: ## Build every program and every example (target/debug)
	$(CARGO) build --workspace --bins --examples --locked

test: build ## Run every test: real processes, real kernel objects
	$(CARGO) test --workspace --locked
	@scripts/check-leaks.sh

lint: ## cargo fmt --check and clippy with warnings as errors
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

demo: build ## Every mechanism in turn, both ends labelled
	@for m in $(MECHANISMS); do scripts/demo-$$m.sh || exit 1; done

$(addprefix demo-,$(MECHANISMS)): demo-%: build
	@scripts/demo-$*.sh

bench: ## ipc-bench quick mode
	$(CARGO) run --release --locked -p ipc-bench -- --quick

# SOAK_SECS, SOAK_SEED, SOAK_ROUND, SOAK_MECHS reach ipc-soak from the environment or the make
# command line (`make soak SOAK_SECS=60`); see tools/soak/README.md.
soak: ## Fault-injection soak (SOAK_SECS, default 120; SOAK_SEED; SOAK_ROUND replays one round)
	$(CARGO) build --release --workspace --bins --locked
	$(or $(CARGO_TARGET_DIR),target)/release/ipc-soak

c: ## Build the tutorial's C programs in c/ (our fixed versions)
	$(MAKE) -C c

textbook: ## Build the textbook's C programs in c/textbook/, as printed
	$(MAKE) -C c/textbook

clean-ipc: ## Remove the IPC objects our programs recorded and left behind; never an object without a record
	@$(CARGO) run -q --locked -p ipc-doctor -- --clean
