# Set-up and main jobs. `make demo` and `make test` work on a fresh clone (Python 3.10+, pip).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip

.PHONY: setup demo test lint clean setup-video test-video

# Video extraction (longaqa extract / score) needs torchvision, which imports only beside torch 2.14.1
# here: a second venv with the 'video' extra and its own pins (docs/video.md).
VIDEO_VENV ?= .venv-video

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -c constraints.txt -e '.[dev]'
	touch $@

setup: $(VENV)/.installed

$(VIDEO_VENV)/.installed: pyproject.toml constraints-video.txt
	$(PYTHON) -m venv $(VIDEO_VENV)
	$(VIDEO_VENV)/bin/pip install -q --upgrade pip
	$(VIDEO_VENV)/bin/pip install -q -c constraints-video.txt -e '.[dev,video]'
	touch $@

setup-video: $(VIDEO_VENV)/.installed

test-video: setup-video
	$(VIDEO_VENV)/bin/python -m pytest -q tests/test_video*.py

demo: setup
	$(VENV)/bin/longaqa demo --out demo_out --force

test: setup
	$(PY) -m pytest -q
	$(MAKE) test-video

lint: setup
	$(VENV)/bin/ruff check src tests bench

clean:
	rm -rf $(VENV) $(VIDEO_VENV) demo_out .pytest_cache
