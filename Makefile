# The two commands: `make demo` and `make test`. CI runs `make test` through .ci/run.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8080
HOST ?= 127.0.0.1
PYTEST_WORKERS ?= 2
# The built operator console and what it is built from (see the console target).
CONSOLE_STAMP := src/sitcen/console/.built
CONSOLE_SOURCES := $(shell find frontend/src frontend/public -type f 2>/dev/null) frontend/index.html \
	frontend/package.json frontend/package-lock.json frontend/vite.config.ts frontend/tsconfig.json


.PHONY: demo demo-federation test system-deps console dist lint typecheck bench geography docs \
	clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Runtime install (the demo) and dev install (tests) are stamped separately.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

## demo: seed three years of synthetic activity into a fresh SQLite node and serve it
demo: $(VENV)/.installed $(CONSOLE_STAMP)
	$(BIN)/sitcen demo --host $(HOST) --port $(PORT)

# PostgreSQL server binaries for the throwaway test clusters, GDAL's ogrinfo/ogr2ogr as
# the OGC API Features client, Mosquitto for the sensor tests, libmagic for attachments, the
# Pango libraries WeasyPrint lays out reports with, and poppler-utils (pdftotext, pdftoppm,
# pdffonts) that the report tests read PDFs with, FFmpeg for the camera tests' RTSP stream,
# and nginx, the reverse proxy the
# deployment test runs deploy/nginx/sitcen.conf in (Debian packages when missing).
system-deps:
	@command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
	  { echo "installing PostgreSQL server binaries (apt-get)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; }
	@command -v ogrinfo >/dev/null 2>&1 || \
	  { echo "installing GDAL command-line tools (apt-get)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gdal-bin; }
	@command -v mosquitto >/dev/null 2>&1 || test -x /usr/sbin/mosquitto || \
	  { echo "installing the Mosquitto MQTT broker and clients (apt-get)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mosquitto \
	      mosquitto-clients; }
	@ldconfig -p | grep -q libpangoft2-1.0 || \
	  { echo "installing the Pango libraries WeasyPrint needs (apt-get)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0; }
	@command -v pdftotext >/dev/null 2>&1 || \
	  { echo "installing poppler-utils for the report tests (apt-get)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils; }
	@ldconfig -p | grep -q 'libmagic\.so\.1' || \
	  { echo "installing libmagic, which names the type of attached files (apt-get)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libmagic1; }
	@command -v ffmpeg >/dev/null 2>&1 || \
	  { echo "installing FFmpeg, the RTSP test camera's encoder (apt-get)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg; }
	@command -v nginx >/dev/null 2>&1 || test -x /usr/sbin/nginx || \
	  { echo "installing nginx for the reverse-proxy test (apt-get)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx; }
	@test -x /usr/bin/chromium || \
	  { echo "installing Chromium for the browser tests (apt-get)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

# The pinned Natural Earth package, so the suite can check the shipped geography rebuilds
# byte for byte.
scripts/geodata/node_modules/world-atlas/countries-10m.json: scripts/geodata/package-lock.json
	npm ci --prefix scripts/geodata --no-audit --no-fund --loglevel=error
	touch $@

# The operator console: built from frontend/ into the package (sitcen/console) when a
# source is newer than the last build.
$(CONSOLE_STAMP): $(CONSOLE_SOURCES)
	npm ci --prefix frontend --no-audit --no-fund --loglevel=error
	npm run build --prefix frontend
	touch $@

## console: build the operator console (npm)
console: $(CONSOLE_STAMP)

## dist: the wheel and the sdist into dist/, the built console in both (npm when it is stale)
# The build backend (build_backend/sitcen_build.py) decides about the console as the
# console target does; the wheel is built from the sdist, which proves the sdist complete.
dist: $(VENV)/.installed-dev
	rm -f dist/sitcen-*.whl dist/sitcen-*.tar.gz
	$(BIN)/python -m build --outdir dist

## test: lint (ruff, bandit's high findings), type-check and run the whole suite on SQLite
## and PostgreSQL
test: system-deps scripts/geodata/node_modules/world-atlas/countries-10m.json $(VENV)/.installed-dev \
		$(CONSOLE_STAMP)
	$(BIN)/ruff check src tests benchmarks scripts build_backend
	$(BIN)/mypy
	$(BIN)/bandit -q -r src/sitcen --severity-level high --confidence-level medium
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadgroup --durations=25

## demo-federation: twelve nodes of five countries on loopback, linked and sharing
demo-federation: $(VENV)/.installed
	$(BIN)/python scripts/demo_federation.py

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests benchmarks scripts build_backend
	$(BIN)/bandit -q -r src/sitcen --severity-level high --confidence-level medium

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

## bench: every measured claim (benchmarks/suite.py), its results into
## benchmarks/results/latest.json, then the docs' figures from them (make docs)
# A failed run is recorded as such in the results and the docs, and fails the target.
bench: $(VENV)/.installed-dev $(CONSOLE_STAMP) .venv-taky/bin/taky
	$(BIN)/python benchmarks/suite.py; status=$$?; $(MAKE) docs && exit $$status

# The peer TAK router benchmarks/cot.py measures sitcen against (taky, from PyPI), in a virtual
# environment of its own: it pins Flask 2, while the dev install needs Flask 3.
.venv-taky/bin/taky:
	$(PYTHON) -m venv .venv-taky
	.venv-taky/bin/pip install --quiet 'taky==0.10'


## geography: rebuild the shipped border geometry from Natural Earth (needs npm)
geography: $(VENV)/.installed
	$(BIN)/python scripts/build_geography.py

## docs: regenerate the generated parts of docs/ and the README (CLI help, settings, API,
## taxonomy, benchmark figures from benchmarks/results/latest.json)
docs: $(VENV)/.installed
	$(BIN)/python scripts/gen_docs.py

clean:
	rm -rf $(VENV) .demo .pytest_cache .mypy_cache .ruff_cache build dist
