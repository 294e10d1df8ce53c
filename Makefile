# Qiaoliang — the two commands a new developer needs: `make demo` and `make test`.
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed-$(shell cat requirements.lock | md5sum | cut -c1-12)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install demo serve test test-fast lint format bench messages clean

$(STAMP): requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements.lock
	rm -f $(VENV)/.installed-*; touch $(STAMP)

install: $(STAMP)

var:
	mkdir -p var

demo: install var ## set up, migrate, load demo data and serve http://127.0.0.1:8000 on SQLite
	if command -v msgfmt >/dev/null; then $(PY) manage.py compilemessages --ignore=.venv -v 0; fi
	$(PY) manage.py migrate --no-input -v 0
	$(PY) manage.py seed_demo
	$(PY) manage.py import_listings qiaoliang/exchange/data/demo_listings.xlsx
	$(PY) manage.py seed_activity
	$(PY) manage.py seed_exchange_activity
	$(PY) manage.py seed_events
	$(PY) manage.py seed_appeals
	$(PY) manage.py seed_policies
	$(PY) manage.py runserver $(HOST):$(PORT)

test: install var ## the whole suite (SQLite by default; DATABASE_URL=postgres://... for PostgreSQL)
	if command -v msgfmt >/dev/null; then $(PY) manage.py compilemessages --ignore=.venv -v 0; fi
	$(PY) -m pytest -n 2 --dist loadfile -q -m 'not transactional' $(PYTEST_ARGS)
	SQLITE_TEST_NAME=$${SQLITE_TEST_NAME:-var/test-transactional.sqlite3} $(PY) -m pytest -q -m transactional $(PYTEST_ARGS)

lint: install var ## ruff, format, mypy, import contracts, Django checks, migrations, translations
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy qiaoliang
	$(VENV)/bin/lint-imports
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) scripts/check_translations.py

format: install
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

messages: install ## refresh the zh-hans catalogue after changing strings
	$(PY) manage.py makemessages -l zh_Hans --ignore=.venv --ignore=var --ignore=bench --no-obsolete
	if command -v msgfmt >/dev/null; then $(PY) manage.py compilemessages --ignore=.venv -v 0; fi

BENCH ?= all
bench: install var ## benchmarks (BENCH=directory|events|scheduler|matching|appeals|policies|all); tables printed and written to bench/results/
	case "$(BENCH)" in all|directory) $(PY) bench/run.py $(BENCH_ARGS);; esac
	case "$(BENCH)" in all|events) $(PY) bench/bench_events.py $(BENCH_ARGS);; esac
	case "$(BENCH)" in all|scheduler) $(PY) bench/bench_scheduler.py $(BENCH_ARGS);; esac
	case "$(BENCH)" in all|matching) $(PY) bench/bench_matching.py --quick $(BENCH_ARGS);; esac
	case "$(BENCH)" in all|appeals) $(PY) bench/bench_appeals.py $(BENCH_ARGS);; esac
	case "$(BENCH)" in all|policies) $(PY) bench/bench_policies.py $(BENCH_ARGS);; esac

clean:
	rm -rf $(VENV) var
