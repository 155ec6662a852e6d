# Two commands do all the set-up on a fresh machine:
#   make demo   virtual environment + install + every topic for every demo clinic in output/
#   make test   the same set-up, then the linter and the test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint setup system-deps test-deps bench bench-small clean messages

setup: system-deps $(STAMP) test-deps

system-deps:
	@bash scripts/system-deps.sh

# axe-core from npm for the browser test, into .test-deps/ (scripts/test-deps.sh)
test-deps:
	@bash scripts/test-deps.sh

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,lint]'
	@touch $@

demo: setup
	@for clinic in $$($(BIN)/handouts clinics --json | $(BIN)/python -c 'import json,sys; print(" ".join(c["slug"] for c in json.load(sys.stdin)["clinics"]))'); do \
	  $(BIN)/handouts build --all --clinic $$clinic || exit $$?; \
	done
	@echo "demo leaflets are in output/"

test: lint
	@# Bytecode once: where PYTHONDONTWRITEBYTECODE is set, every `python -m handouts`
	@# a test starts would compile the package again.
	@$(BIN)/python -m compileall -q handouts > /dev/null
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .

bench: setup
	$(BIN)/python benchmarks/run.py

bench-small: setup
	$(BIN)/python benchmarks/run.py --small

clean:
	rm -rf output .pytest_cache .test-deps

# The templates' words: extract them into locale/handouts.pot and merge the new and
# changed ones into every language's .po (translate those, then commit both).
messages: setup
	$(BIN)/pybabel extract -F locale/babel.cfg -k _ -k N_ --no-location --sort-output \
	  --add-comments CLDR --project handouts --copyright-holder "handouts contributors" -o locale/handouts.pot .
	$(BIN)/pybabel update -i locale/handouts.pot -d locale -D handouts --no-wrap \
	  --ignore-obsolete
