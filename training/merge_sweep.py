"""How much of a fine-tuned encoder to keep: average its weights with the base model's at
several ratios (WiSE-FT) and measure ViSki val (all of it) and title normalisation (the first
``--titles`` dev titles against the English preferred labels) for each. Prints a table.

    .venv/bin/python training/merge_sweep.py DIR [--ratios 0,0.3,0.5,0.6,1] [--titles 3000]

DIR is a fine-tuned model directory, e.g. a registered version's
``.state/mlartifacts/models/<id>/artifacts/model.sentence_transformer``. This is how the
default ``merge_ratio`` (0.5) was chosen; see docs/evaluation.md.
"""

from __future__ import annotations

import argparse
import copy
import tempfile
from pathlib import Path

from matcher.settings import Settings
from matcher.training.assessment import evaluation_service
from matcher.training.evaluation import evaluate_synonyms, evaluate_titles
from matcher.training.finetune import merge
from matcher.training.pipelines import DEFAULT_MODEL, Encoder, resolve_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model_dir", type=Path)
    parser.add_argument("--ratios", default="0,0.3,0.4,0.5,0.6,1")
    parser.add_argument("--titles", type=int, default=3000)
    args = parser.parse_args()

    from sentence_transformers import SentenceTransformer

    settings = Settings()
    base = SentenceTransformer(str(resolve_model(DEFAULT_MODEL, settings.models_dir).path),
                               device="cpu", local_files_only=True)  # fmt: skip
    tuned = SentenceTransformer(str(args.model_dir), device="cpu", local_files_only=True)
    print("| merge ratio | ViSki val top-1 | ViSki val MRR@10 | titles top-1 | titles MRR@10 |")
    print("|---|---|---|---|---|")
    for ratio in (float(r) for r in args.ratios.split(",")):
        model = copy.deepcopy(base)
        start = [p.detach().clone() for p in model.parameters()]
        params = list(model.parameters())
        for parameter, trained in zip(params, tuned.parameters()):
            parameter.data.copy_(trained.data)
        merge(params, start, ratio)
        model.eval()
        encoder = Encoder(model, f"merged-{ratio}", batch_size=settings.encode_batch_size,
                          max_chars=settings.max_text_chars,
                          max_seq_length=settings.max_seq_length)  # fmt: skip
        with tempfile.TemporaryDirectory() as workdir:
            service = evaluation_service(settings, DEFAULT_MODEL, Path(workdir), quick=True,
                                         encoder=encoder)  # fmt: skip
            dev = settings.dev_eval_dir
            viski = evaluate_synonyms(encoder, dev / "viski_val_synonymSet.json").metrics
            titles = evaluate_titles(service.occupation_matcher, dev / "jobbert_titles_dev.csv",
                                     args.titles).metrics  # fmt: skip
            service.close()
        print(f"| {ratio:g} | {viski['top1']:.4f} | {viski['mrr@10']:.4f} | "
              f"{titles['top1']:.4f} | {titles['mrr@10']:.4f} |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
