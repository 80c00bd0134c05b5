"""Names as reporters use them: the verifier on written (claim, source) pairs.

``tests/claims/aliases.jsonl`` holds 128 pairs written for this, over sixteen short news
stories (a title, the article's sentences before the cited one, the cited sentence, its
day): half faithful claims that name an actor another way ("Russia" for "the Kremlin",
"Vladimir Medinsky" for "Medinsky" named in full earlier), half with a changed number, date,
person or place. The ``development`` part (12 stories, 96 pairs) was written first and the
rules of ``verify`` were shaped on it; the ``held-out`` part (4 stories, 32 pairs) was
written after they were frozen and run once: it is the honest measure. Each claim is checked
as a generated sentence citing its source (``verify.check`` with the real embedding model
and the fitted ``support_floor``); the script prints, per part, how many faithful claims are
kept and changed ones removed, by kind, and every miss.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/verify_claims.py
"""

from __future__ import annotations

import collections
import json
from dataclasses import dataclass
from pathlib import Path

from assistant import verify
from assistant.embedding import make_embedder

PAIRS = Path(__file__).resolve().parents[1] / "tests" / "claims" / "aliases.jsonl"


@dataclass(frozen=True)
class Pair:
    part: str
    title: str
    published: str
    before: str
    sentence: str
    claim: str
    faithful: bool
    kind: str


def load(path: Path = PAIRS) -> list[Pair]:
    """The written pairs."""
    return [Pair(**json.loads(line)) for line in path.read_text().splitlines() if line.strip()]


def kept(pair: Pair, embed: verify.Embed, floor: float) -> bool:
    """Whether the verifier keeps the claim, citing its source, with its marker."""
    return verify.supports(
        pair.claim, pair.sentence, embed, floor, pair.title, pair.before, pair.published
    )


def share(outcomes: list[bool]) -> str:
    return f"{sum(outcomes)} of {len(outcomes)} ({sum(outcomes) / len(outcomes):.1%})"


def report(label: str, outcome: list[tuple[Pair, bool]]) -> None:
    """Print the share of faithful claims kept and changed ones removed, by kind, and misses."""
    faithful = [k for p, k in outcome if p.faithful]
    changed = [not k for p, k in outcome if not p.faithful]
    print(f"\n{label}: {len(outcome)} pairs")
    print(f"  faithful kept:   {share(faithful)}")
    print(f"  changed removed: {share(changed)}")
    by_kind: dict[tuple[bool, str], list[bool]] = collections.defaultdict(list)
    for p, k in outcome:
        by_kind[(p.faithful, p.kind)].append(k == p.faithful)
    for (good, kind), right in sorted(by_kind.items()):
        side = "faithful" if good else "changed"
        print(f"    {side:8s} {kind:8s} {sum(right)} of {len(right)} right")
    for p, k in outcome:
        if k != p.faithful:
            print(f"    MISS ({'kept' if k else 'removed'}): {p.claim}  <-  {p.sentence}")


def main() -> None:
    pairs = load()
    embedder = make_embedder()
    floor = verify.support_floor()
    print(f"support floor {floor}")
    outcome = [(p, kept(p, embedder.embed, floor)) for p in pairs]
    for part in ("held-out", "development"):
        report(part, [(p, k) for p, k in outcome if p.part == part])
    report("all", outcome)


if __name__ == "__main__":
    main()
