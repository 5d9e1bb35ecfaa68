import pytest

from matcher.encoder import DEFAULT_MODEL, ENGLISH_MODEL, Encoder, resolve_model
from matcher.errors import ModelNotReadyError, UnknownModelError


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
