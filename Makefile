# Baluarte — set-up, demo, tests and lint. Every target creates .venv when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Debian packages the tests need: the real-host tests (debootstrap image, netns hosts, sshd, local
# apt repo), PDF pages (poppler) and the dashboard's browser tests (Debian's chromium).
TEST_DEBS := debootstrap openssh-client openssh-server iproute2 apt-utils util-linux dpkg-dev mawk systemd-container poppler-utils libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core chromium

.PHONY: demo test lint setup system-deps clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

system-deps:
	@missing=""; for p in $(TEST_DEBS); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then echo "need root to install:$$missing" >&2; exit 1; fi; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	fi

demo: $(STAMP)
	$(BIN)/baluarte demo

test: $(STAMP) system-deps
	$(BIN)/python -m baluarte.lab.prepare
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy baluarte checks deploys reports

clean:
	rm -rf $(VENV) build *.egg-info
