# Flatback: `make demo` runs the product on emulated hardware, `make test` runs every test.
# Both create .venv and install what they need on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT   ?= 8080
# Test workers: many tests wait on emulated real time (kills, brokers, browsers), so two run
# well even on one CPU; more than four would starve the emulated daemons' threads.
TEST_JOBS ?= $(shell n=$$(nproc 2>/dev/null || echo 2); [ $$n -lt 2 ] && n=2; [ $$n -gt 4 ] && n=4; echo $$n)

.PHONY: demo test install browser broker bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# Browser tests drive Debian's chromium (Playwright's own browser download is not used).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "note: chromium missing and not root: browser tests will be skipped (sudo apt-get install chromium)"; fi; }

# MQTT tests run Debian's mosquitto on loopback (started by the tests, not as a service).
broker:
	@test -x /usr/sbin/mosquitto || command -v mosquitto >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mosquitto >/dev/null; \
	  else echo "note: mosquitto missing and not root: MQTT tests will be skipped (sudo apt-get install mosquitto)"; fi; }

demo: $(STAMP)
	$(BIN)/mat demo --port $(PORT)

test: $(STAMP) browser broker
	$(BIN)/python -m pytest -q -n $(TEST_JOBS)

bench: $(STAMP)
	$(BIN)/mat bench

clean:
	rm -rf $(VENV) build *.egg-info test-artifacts
