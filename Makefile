# The two commands: `make run` (the app with its demo patient) and `make test` (the whole suite).
# Each installs what it needs: Debian packages (apt-get, as root or through sudo) and a venv.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: run test setup system-packages lint bench clean-venv

run: setup
	$(VENV)/bin/stethoscan --demo

test: setup
	bash packaging/run_tests.sh

setup: system-packages $(STAMP)

system-packages:
	bash packaging/install_debian_packages.sh

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q --upgrade pip
	$(PY) -m pip install --disable-pip-version-check -q -e '.[dev]'
	touch $(STAMP)

lint: setup
	$(VENV)/bin/ruff check app tests
	$(VENV)/bin/lint-imports

bench: setup
	$(VENV)/bin/stethoscan bench dicom --json
	$(VENV)/bin/stethoscan bench audio --json
	$(VENV)/bin/stethoscan bench inference --json
	$(VENV)/bin/stethoscan bench analysis --json

clean-venv:
	rm -rf $(VENV)
