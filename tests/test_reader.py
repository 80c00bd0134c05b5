"""The answer reader: the shipped weights, their provenance, and what the trained model does."""

from __future__ import annotations

import json
from importlib import resources

import numpy as np
import pytest

from assistant.reader import CARD, WEIGHTS, OnnxReader, Reader, Scorer, default_reader

SHIPPED = resources.files("assistant").joinpath("reader")


def test_the_weights_ship_small_with_their_provenance() -> None:
    weights = SHIPPED.joinpath(WEIGHTS)
    assert weights.is_file()
    assert len(weights.read_bytes()) <= 30 * 1024 * 1024
    card = json.loads(SHIPPED.joinpath(CARD).read_text())
    assert "RealTime QA 2023 odd weeks" in card["data"]
    assert card["command"] == "make train-reader"
    assert 0.0 <= card["held_out"]["top1"] <= 1.0


def test_creating_a_reader_loads_nothing() -> None:
    reader = Reader()
    assert isinstance(reader, Scorer)
    assert reader._model is None
    assert reader.score("Who won?", []).shape == (0,)
    assert reader._model is None


@pytest.mark.slow
@pytest.mark.parametrize(("quantized", "tolerance"), [(False, 1e-4), (True, 0.03)])
def test_trained_scores_are_probabilities_independent_of_the_batch(
    quantized: bool, tolerance: float
) -> None:
    """Exactly so in float32; in int8 (the default on a CPU) each call's activations are
    quantised by their own range, so a score moves a little with its neighbours."""
    reader = OnnxReader(quantized=quantized)
    sentences = [
        "The council approved the bridge on Monday.",
        "Construction will start next spring.",
        "It rained.",
    ]
    together = reader.score("When will construction start?", sentences)
    assert together.shape == (3,)
    assert ((together >= 0) & (together <= 1)).all()
    alone = [reader.score("When will construction start?", [s])[0] for s in sentences]
    np.testing.assert_allclose(together, alone, atol=tolerance)


ARTICLE = [
    "The city council of Lyon voted on Tuesday to build a new tram line.",
    "The line will link the airport with the old town.",
    "Work is due to begin in March 2027 and take three years.",
    "The project will cost 420 million euros, the mayor's office said.",
    "Opposition councillors called the plan a waste of money.",
    "Trams will run every six minutes at peak hours.",
]
# Questions written for this test, mostly in other words than the sentence that answers.
ASKED = {
    "How much will the project cost?": 3,
    "What is the price tag of the scheme?": 3,
    "When does construction start?": 2,
    "Which places will the new line connect?": 1,
    "Who criticised the plan?": 4,
    "How often will trams run?": 5,
    "Which body approved the tram?": 0,
    "How long will the work take?": 2,
}


@pytest.mark.slow
def test_the_trained_reader_picks_the_answering_sentence_of_reworded_questions() -> None:
    reader = default_reader()
    picked = {q: int(np.argmax(reader.score(q, ARTICLE))) for q in ASKED}
    right = [q for q, n in picked.items() if n == ASKED[q]]
    assert len(right) >= 6, picked
    untrained = Reader.untrained()
    chance = [q for q in ASKED if int(np.argmax(untrained.score(q, ARTICLE))) == ASKED[q]]
    assert len(chance) < len(right)
