# Two commands do everything on a fresh machine:
#   make demo   set up the environment if needed, then run the main job
#   make test   set up the environment if needed, then lint and run the tests
VENV ?= .venv
PY := $(VENV)/bin/python
LINT_DIRS := posewarper_mm tools tests configs demo
STAMP := $(VENV)/.posewarper_mm_ready

.PHONY: setup demo test lint

$(STAMP): tools/env/setup_env.sh tools/env/build_mmcv.sh setup.py \
		requirements/build.txt requirements/runtime.txt requirements/tests.txt \
		requirements/deploy.txt requirements/mminstall.txt
	bash tools/env/setup_env.sh $(VENV)
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(PY) -m tools.quickstart $(ARGS)

lint: $(STAMP)
	$(PY) -m flake8 $(LINT_DIRS)
	$(PY) -m isort --check-only --diff $(LINT_DIRS)

test: lint
	$(PY) -m pytest tests -ra --durations=15 $(ARGS)
