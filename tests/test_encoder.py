import pytest

from matcher.errors import ModelNotReadyError, UnknownModelError
from matcher.nlp.encoder import DEFAULT_MODEL, ENGLISH_MODEL, Encoder, resolve_model


def test_unknown_model_names_the_choices(tmp_path):
    with pytest.raises(UnknownModelError, match="multilingual-e5-small.*all-MiniLM-L6-v2"):
        resolve_model("gpt-7", tmp_path)


def test_default_model_not_imported_says_how_to_import(tmp_path):
    with pytest.raises(ModelNotReadyError, match="matcher models import"):
        resolve_model(DEFAULT_MODEL, tmp_path)


def test_mlflow_uris_are_accepted_as_sources(tmp_path):
    assert resolve_model("models:/matcher-encoder@champion", tmp_path).uri is not None


@pytest.mark.slow
def test_english_model_loads_from_its_package_and_ranks_sensibly(tmp_path):
    encoder = Encoder.load(ENGLISH_MODEL, tmp_path)
    assert encoder.prompts == {"query": "", "passage": ""}
    query, near, far = encoder.encode(["nurse", "registered nurse in a hospital", "welder"])
    assert float(query @ near) > float(query @ far)


@pytest.mark.slow
def test_any_sentence_transformers_folder_is_a_model(settings):
    folder = settings.models_dir / DEFAULT_MODEL
    encoder = Encoder.load(str(folder), settings.models_dir)
    assert encoder.prompts["query"] == "query: " and encoder.dimension == 384


TEACHER_CV = (
    "Tôi là nguyên giáo viên tiểu học tại một trường công lập ở Nghệ An, mười hai năm dạy toán "
    "và tiếng Việt, chủ nhiệm lớp, soạn giáo án, đánh giá học sinh, tổ chức hoạt động ngoại khóa, "
    "trao đổi với phụ huynh, quản lý hồ sơ học sinh, sử dụng máy tính, Word, Excel và PowerPoint, "
    "tham gia bồi dưỡng chuyên môn cho giáo viên trẻ và làm báo cáo định kỳ cho phòng giáo dục. "
) * 2
NURSE_CV = (
    "Registered nurse with nine years on a medical ward of a provincial hospital: administering "
    "medication, wound care, monitoring vital signs, caring for elderly patients after surgery, "
    "keeping patient records, training junior nurses and talking with families; preparing for "
    "German B1 to work in elderly care in Germany. "
) * 2


@pytest.mark.slow
def test_int8_query_path_matches_fp32_and_keeps_the_ranking(service, tmp_path):
    """Long queries take the int8 runtime and keep their nearest neighbour; short ones stay
    exact; the graph is built once and an unreadable one is rebuilt."""

    def encoder(runtime: str) -> Encoder:
        return Encoder(service.encoder.model, service.encoder.name, query_runtime=runtime,
                       graph_dir=tmp_path, max_seq_length=256)  # fmt: skip

    fast, reference = encoder("onnx-int8"), encoder("torch")
    queries = [TEACHER_CV, NURSE_CV]
    passages = ["Tuyển giáo viên dạy tiểu học tại Hà Nội",
                "Pflegefachkraft: nurse caring for elderly residents",
                "Thợ hàn công trình xây dựng"]  # fmt: skip
    stored = reference.encode(passages, kind="passage")
    fast_vectors = fast.encode(queries, kind="query")
    reference_vectors = reference.encode(queries, kind="query")
    [graph] = tmp_path.glob("*-int8.onnx")  # the long queries built the graph
    assert 0.97 < (fast_vectors * reference_vectors).sum(axis=1).min() < 0.9999
    assert (fast_vectors @ stored.T).argmax(axis=1).tolist() == [0, 1]
    short = fast.encode(["giáo viên tiểu học", TEACHER_CV], kind="query")  # mixed batch
    exact = reference.encode(["giáo viên tiểu học"], kind="query")
    # (int8 activations are scaled per batch, so the same text in another batch differs a little)
    assert float(short[0] @ exact[0]) > 0.9999 and float(short[1] @ fast_vectors[0]) > 0.99
    precise = fast.encode(queries, kind="query", precise=True)
    assert (precise * reference_vectors).sum(axis=1).min() > 0.9999

    built = graph.stat().st_mtime_ns
    encoder("onnx-int8").encode([NURSE_CV], kind="query")  # a new process reuses the graph
    assert graph.stat().st_mtime_ns == built
    graph.write_bytes(b"not an onnx graph")
    vector = encoder("onnx-int8").encode([TEACHER_CV], kind="query")
    assert float(vector[0] @ fast_vectors[0]) > 0.99


def test_unknown_query_runtime_is_refused():
    with pytest.raises(UnknownModelError, match="onnx-int8"):
        Encoder(None, "m", query_runtime="tensorrt")  # the runtime is checked first
