"""A large benchmark corpus made on the fly from the SQuAD 2.0 paragraphs on disk.

The 411 paragraphs of ``squad2-dev-500`` give about 950 passages. To reach a corpus of a
given size without downloading anything, more articles are made by recombining their
sentences: each made-up article takes the sentences of a few randomly chosen paragraphs,
shuffles them (fixed seed) and keeps 8 to 16 of them, three to a paragraph. The text is
real Wikipedia prose but the articles are not coherent, so the corpus measures speed, never
answer quality. Nothing is copied into the repository: the articles are written as JSON
Lines files into a folder the caller chooses (a temporary one).
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from assistant.chunking import split_sentences
from assistant.ingest import normalise

SEED = 20240602
PARAGRAPHS_PER_ARTICLE = 4
SENTENCES = (8, 16)
SENTENCES_PER_PARAGRAPH = 3


@dataclass(frozen=True)
class Corpus:
    """What was written: the files, and how many articles and (estimated) passages."""

    files: tuple[Path, ...]
    originals: int
    recombined: int
    estimated_passages: int

    @property
    def articles(self) -> int:
        return self.originals + self.recombined

    def describe(self) -> str:
        return (
            f"{self.originals} SQuAD 2.0 dev paragraphs as they are + {self.recombined} "
            f"articles of {SENTENCES[0]}-{SENTENCES[1]} sentences recombined from "
            f"{PARAGRAPHS_PER_ARTICLE} random paragraphs each (seed {SEED}), "
            f"in {len(self.files)} .jsonl files"
        )


def estimate_passages(sentences: Sequence[str], max_chars: int) -> int:
    """How many passages the chunker makes of these sentences, joined by one character.

    It packs whole sentences greedily up to ``max_chars``, as ``assistant.chunking.chunk``
    does; the chunker re-splits the text itself, so this is an estimate, checked after
    ingesting.
    """
    passages, width = 0, 0
    for sentence in sentences:
        if passages and width + 1 + len(sentence) <= max_chars:
            width += 1 + len(sentence)
        else:
            passages, width = passages + 1, len(sentence)
    return passages


def _recombined(pool: list[list[str]], rng: random.Random) -> Iterator[list[str]]:
    while True:
        chosen = rng.sample(range(len(pool)), PARAGRAPHS_PER_ARTICLE)
        sentences = [s for i in chosen for s in pool[i]]
        rng.shuffle(sentences)
        yield sentences[: rng.randint(*SENTENCES)]


def _text(sentences: Sequence[str]) -> str:
    step = SENTENCES_PER_PARAGRAPH
    return "\n".join(" ".join(sentences[i : i + step]) for i in range(0, len(sentences), step))


def build(
    contexts: dict[str, str],
    folder: Path,
    passages: int,
    max_chars: int = 500,
    per_file: int = 100,
) -> Corpus:
    """Write at least about ``passages`` passages of articles into ``folder``.

    Args:
        contexts: SQuAD context id -> paragraph text.
        folder: where to write ``corpus-NNNN.jsonl`` (``per_file`` articles each).
        passages: the passage count to reach (estimated with ``estimate_passages``).
        max_chars: the assistant's passage size.
    """
    folder.mkdir(parents=True, exist_ok=True)
    records: list[dict[str, str]] = []
    seen: set[str] = set()
    pool: list[list[str]] = []
    total = 0
    for cid, raw in contexts.items():
        text = normalise(raw)
        sentences = [text[s.start : s.end] for s in split_sentences(text)]
        pool.append(sentences)
        seen.add(text)
        records.append({"title": f"SQuAD paragraph {cid}", "text": text, "source": "SQuAD 2.0"})
        total += estimate_passages(sentences, max_chars)
    originals = len(records)
    rng = random.Random(SEED)
    made = _recombined(pool, rng)
    while total < passages:
        sentences = next(made)
        text = _text(sentences)
        if text in seen:
            continue
        seen.add(text)
        number = len(records) - originals + 1
        records.append(
            {
                "title": f"Recombined article {number}",
                "text": text,
                "source": "SQuAD 2.0, recombined",
            }
        )
        total += estimate_passages(sentences, max_chars)
    files = []
    for n, lo in enumerate(range(0, len(records), per_file)):
        path = folder / f"corpus-{n:04d}.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in records[lo : lo + per_file]))
        files.append(path)
    return Corpus(tuple(files), originals, len(records) - originals, total)
