"""What sharing costs: one assistant behind a lock against one assistant per core.

The chat page answers every browser session on a thread of one process. This asks the same
RealTime QA questions (``page_scale.questions_for``) from ``--threads`` threads on a library
of ``page_libraries.py`` (built once under ``build/page-N``), arranged three ways:

- one ``Assistant`` behind one lock (what the page did before it kept several);
- ``--assistants`` of them, each lent to one thread at a time (what the page does:
  ``app.Assistants``);
- one ``Assistant`` shared with no lock at all (for reference; nothing promises it is safe);

and prints asks per second, the p50 / p95 time a question waits and runs, the errors, and the
process's peak memory after each arrangement is set up. Each first asks as many other
questions, unreported, to warm every assistant.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/page_assistants.py [--size 7500]
        [--threads 4] [--assistants 2] [--questions 48]
"""

from __future__ import annotations

import argparse
import contextlib
import queue
import resource
import statistics
import threading
import time
from collections.abc import Callable, Iterator

import page_libraries
import page_scale

from assistant import Assistant

Borrow = Callable[[], contextlib.AbstractContextManager[Assistant]]


def lender(bots: list[Assistant], locked: bool) -> Borrow:
    """How a thread gets an assistant: from a pool of ``bots`` (one each at a time), or the
    first of them, behind one lock or none."""
    free: queue.Queue[Assistant] = queue.Queue()
    for bot in bots:
        free.put(bot)
    lock = threading.Lock() if locked else contextlib.nullcontext()

    @contextlib.contextmanager
    def borrow() -> Iterator[Assistant]:
        if len(bots) == 1:
            with lock:
                yield bots[0]
            return
        bot = free.get()
        try:
            yield bot
        finally:
            free.put(bot)

    return borrow


def run(borrow: Borrow, questions: list[str], threads: int) -> str:
    times: list[float] = []
    errors: list[str] = []

    def worker(mine: list[str]) -> None:
        for question in mine:
            started = time.perf_counter()
            try:
                with borrow() as bot:
                    list(bot.stream(question))
            except Exception as error:  # reported, not raised: the point is to count them
                errors.append(repr(error))
            times.append(time.perf_counter() - started)

    each = len(questions) // threads
    workers = [
        threading.Thread(target=worker, args=(questions[n * each : (n + 1) * each],))
        for n in range(threads)
    ]
    started = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    wall = time.perf_counter() - started
    times.sort()
    return (
        f"{len(times)} asks in {wall:.1f} s ({len(times) / wall:.2f} asks/s), wait and run "
        f"p50 {statistics.median(times):.2f} s, p95 {page_scale.percentile(times, 0.95):.2f} s, "
        f"{len(errors)} errors{(': ' + errors[0]) if errors else ''}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=7500, help="library size, in articles")
    parser.add_argument("--threads", type=int, default=4, help="sessions asking at once")
    parser.add_argument("--assistants", type=int, default=2, help="assistants in the pool")
    parser.add_argument("--questions", type=int, default=48, help="questions per pass")
    args = parser.parse_args()
    index_dir = page_libraries.build(args.size)
    both = page_scale.questions_for(args.size, 2 * args.questions)
    warming, questions = both[: args.questions], both[args.questions :]
    bots = [Assistant(index_dir=index_dir, preload=True)]
    bots[0].warm_up()
    arrangements: tuple[tuple[str, Callable[[], Borrow]], ...] = (
        ("one assistant, one lock", lambda: lender(bots[:1], locked=True)),
        (f"{args.assistants} assistants, one each", lambda: lender(bots, locked=True)),
        ("one assistant, no lock", lambda: lender(bots[:1], locked=False)),
    )
    print(f"{args.size} articles, {args.threads} threads, {len(questions)} questions a pass")
    for label, make in arrangements:
        while len(bots) < args.assistants and "one each" in label:
            bots.append(Assistant(index_dir=index_dir, preload=True))
            bots[-1].warm_up()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        borrow = make()
        run(borrow, warming, args.threads)
        print(f"  {label:28s} {run(borrow, questions, args.threads)}; peak {peak:.0f} MB")


if __name__ == "__main__":
    main()
