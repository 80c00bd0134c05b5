"""spaCy's shared pipeline: loaded once, without torch, and the same entities either way."""

from __future__ import annotations

import pytest

from assistant.entities import NER_ONLY
from assistant.nlp import _NoTorchForThinc, english, parse


def test_only_thincs_own_imports_of_torch_are_refused() -> None:
    finder = _NoTorchForThinc()
    assert finder.find_spec("torch", None) is None  # this test's own import would go ahead
    assert finder.find_spec("numpy", None) is None
    as_thinc = {"__name__": "thinc.compat", "finder": finder}
    for name in ("torch", "torch.utils.dlpack"):
        with pytest.raises(ImportError, match="not used"):
            exec(f"finder.find_spec({name!r}, None)", as_thinc)
    exec("found = finder.find_spec('cupy', None)", as_thinc)
    assert as_thinc["found"] is None


@pytest.mark.slow
def test_one_pipeline_gives_the_entities_of_an_entity_only_pipeline() -> None:
    assert english() is english()
    texts = [
        "Peskov said on Monday that the talks in Istanbul would resume in June.",
        "The Kremlin offered a truce of two to three days, according to Vladimir Medinsky.",
    ]
    full = [[(e.text, e.label_) for e in doc.ents] for doc in parse(texts)]
    fewer = [[(e.text, e.label_) for e in doc.ents] for doc in parse(texts, disable=NER_ONLY)]
    assert full == fewer
    assert ("Istanbul", "GPE") in full[0]
    alone = parse(texts, disable=NER_ONLY)[0]
    assert not alone.has_annotation("DEP") and not alone.has_annotation("TAG")
    assert alone.tensor.size == 0  # the shared token vectors were not computed
