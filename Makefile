# The two commands a fresh machine needs: `make run` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
MODEL := models/multilingual-e5-small/modules.json

# No model hub at run time: every model comes from an installed package or models/.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export HF_HUB_DISABLE_TELEMETRY := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: run test test-fast lint fuzz soak bench-inference bench-filters bench-compressed bench-pgvector bench-batch install prepare demo-data cli-demo evaluate train train-quick mlflow-ui clean

# The whole product on http://127.0.0.1:8000 (API docs at /docs), with the demo data loaded.
# One process: the first start embeds the ESCO labels and the demo data (minutes, logged);
# later starts reuse them.
run: $(STAMP) $(MODEL)
	$(BIN)/matcher serve --host 127.0.0.1 --port 8000 --demo

test: prepare
	$(BIN)/pytest -q

# The fast tier: every use case, the layering rules and the metrics, with a deterministic fake
# encoder on a slice of ESCO (no model, under a minute). `make test` runs it too.
test-fast: $(STAMP)
	$(BIN)/pytest -q tests/fast

# Lint, format and types on the library and the API (run by .ci/run).
lint: $(STAMP)
	$(BIN)/ruff check src api tests bench training
	$(BIN)/ruff format --check src api
	$(BIN)/mypy src api

# Longer runs on demand (CI runs their bounded versions inside `make test`).
fuzz: prepare
	MATCHER_FUZZ_EXAMPLES=100 $(BIN)/pytest -q tests/api/test_fuzz.py

soak: prepare
	MATCHER_SOAK_SECONDS=600 $(BIN)/pytest -q -s tests/api/test_load.py -k soak

bench-inference: prepare
	$(BIN)/python bench/bench_inference.py --rounds 3

# Filtered vector search, memory and saves at a million rows (issue 18; ~6 minutes).
bench-filters: prepare
	$(BIN)/python bench/bench_filters.py --rows 1000000 --rounds 3

# Compressed FAISS structures for the <= 0.6 GiB option, at a million rows (~3 minutes;
# needs the embedded postings of bench/embed_postings.py, ~35 minutes once).
bench-compressed: prepare
	$(BIN)/python bench/bench_compressed.py --rows 1000000 --rounds 3

# PostgreSQL + pgvector beside FAISS: which plan PostgreSQL runs, latency, recall (issue 19;
# 20,000 embedded postings, ~3 minutes).
bench-pgvector: prepare
	$(BIN)/python bench/bench_pgvector.py --rows 20000 --rounds 3

# Bulk import and re-embedding on one process and on Ray Data (issue 19; 2,000 demo
# postings, 3 rounds, ~20 minutes).
bench-batch: prepare
	$(BIN)/python bench/bench_batch.py --rows 2000 --rounds 3

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q -e '.[test]'
	touch $@

$(MODEL): $(STAMP)
	$(BIN)/matcher models import

# Parses ESCO and embeds the label indexes the first time (minutes); later runs reuse them.
prepare: $(STAMP) $(MODEL)
	$(BIN)/matcher prepare

demo-data: prepare
	$(BIN)/matcher demo load

cli-demo:
	@echo "== occupations for 'giáo viên tiểu học' (Vietnamese) =="
	$(BIN)/matcher occupations "giáo viên tiểu học" -k 3
	@echo "== occupations for 'accountant' (English) =="
	$(BIN)/matcher occupations "accountant" -k 3
	@echo "== skills in a short Vietnamese CV =="
	$(BIN)/matcher skills "Kế toán 8 năm tại UBND xã: lập báo cáo tài chính, sử dụng Excel, soạn thảo văn bản hành chính và giao tiếp với người dân." -k 8

evaluate: prepare
	$(BIN)/matcher evaluate

# Fine-tune the encoder (≤ 30 min on 2 cores), then learn the ranker on it; each is promoted to
# champion only if it wins. A running service switches with POST /v1/admin/reload.
train: prepare
	$(BIN)/matcher train encoder
	$(BIN)/matcher train ranker

train-quick: prepare
	$(BIN)/matcher train encoder --quick
	$(BIN)/matcher train ranker --quick

# The MLflow UI on http://127.0.0.1:5000 (runs, metrics, registered models and aliases).
mlflow-ui: $(STAMP)
	$(BIN)/mlflow ui --backend-store-uri sqlite:///$(CURDIR)/.state/mlflow.db --host 127.0.0.1 --port 5000

clean:
	rm -rf $(VENV) .state
