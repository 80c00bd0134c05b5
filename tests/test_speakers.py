"""Who said it: speakers of news sentences, with the real spaCy pipeline.

The articles below are written as a news reader meets them: each sentence is paired with the
speaker its claim is attributed to, or ``None`` when it attributes nothing. Sentences whose
subject is a pronoun name the speaker in an earlier sentence of the same article.
"""

from __future__ import annotations

import pytest

from assistant.speakers import asked_speaker, asks_who_said, same_speaker, speaker, speakers

Sentence = tuple[str, str | None]

ARTICLES: list[list[Sentence]] = [
    [
        (
            "Russian and Ukrainian delegations met in Istanbul on Friday for their first "
            "direct talks in three years.",
            None,
        ),
        (
            "Kremlin spokesman Dmitry Peskov said the talks had been useful but that no date "
            "had been set for a second round.",
            "Dmitry Peskov",
        ),
        ("He added that Moscow would hand over its memorandum within days.", "Dmitry Peskov"),
        ("The talks lasted less than two hours.", None),
        (
            '"We did not expect a breakthrough," a senior Ukrainian official told Reuters on '
            "condition of anonymity.",
            "a senior Ukrainian official",
        ),
        (
            "According to Ukraine's defence minister Rustem Umerov, the sides agreed to "
            "exchange 1,000 prisoners each.",
            "Rustem Umerov",
        ),
        ("Russia proposed a ceasefire of two to three days.", None),
    ],
    [
        ("The European Central Bank left interest rates unchanged on Thursday.", None),
        (
            "Inflation is moving back towards our target, ECB President Christine Lagarde told "
            "a news conference in Frankfurt.",
            "Christine Lagarde",
        ),
        (
            "She warned that new US tariffs could weigh on growth later in the year.",
            "Christine Lagarde",
        ),
        ("Markets had priced in a pause, analysts said.", "analysts"),
        ("The euro rose 0.3 percent against the dollar after the decision.", None),
        ("The bank's next policy meeting is scheduled for July.", None),
        (
            "Germany's finance ministry said in a statement that it welcomed the decision.",
            "Germany's finance ministry",
        ),
    ],
    [
        (
            "Shares of Volvo Cars fell 6 percent on Tuesday after the carmaker cut its sales "
            "forecast.",
            None,
        ),
        (
            "Demand for electric cars in Europe has been weaker than we expected, Chief "
            "Executive Hakan Samuelsson said on a call with analysts.",
            "Hakan Samuelsson",
        ),
        (
            "Samuelsson said the company would cut 3,000 jobs, most of them in Sweden.",
            "Samuelsson",
        ),
        (
            "The company said it expected the savings to reach 18 billion crowns a year.",
            "The company",
        ),
        ("Unions described the cuts as a betrayal.", "Unions"),
        ("They said they had not been consulted.", "Unions"),
        ("Volvo Cars is majority-owned by China's Geely.", None),
        (
            "Two people familiar with the matter said Geely was considering raising its stake.",
            "Two people familiar with the matter",
        ),
    ],
    [
        (
            "Police in Lagos arrested 40 people during protests over fuel prices on Monday, "
            "officials said.",
            "officials",
        ),
        (
            "A police spokesman, Benjamin Hundeyin, said officers had come under attack from "
            "stones and bottles.",
            "Benjamin Hundeyin",
        ),
        ("Several shops were looted in the city centre.", None),
        (
            "The Nigeria Labour Congress said it would call a general strike if the price "
            "increase was not reversed.",
            "Nigeria Labour Congress",
        ),
        (
            '"Nigerians cannot bear this burden any longer," the union\'s president, Joe '
            "Ajaero, said in a statement.",
            "Joe Ajaero",
        ),
        (
            "The government says the subsidy cost more than $10 billion last year.",
            "The government",
        ),
        ("It insisted the reform would not be reversed.", "The government"),
    ],
    [
        (
            "Elon Musk wrote on X that the company would open-source its algorithm next week.",
            "Elon Musk",
        ),
        (
            "Tesla's chief executive tweeted on Sunday that the Cybertruck had sold out for 2024.",
            "Tesla's chief executive",
        ),
        ("The company did not respond to a request for comment.", None),
        (
            "Critics argued that the move would do little to restore trust among advertisers.",
            "Critics",
        ),
    ],
    [
        ("Cases of mpox have been reported in 13 African countries this year.", None),
        (
            "The virus is spreading faster than in previous outbreaks, WHO Director-General "
            "Tedros Adhanom Ghebreyesus told reporters in Geneva.",
            "Tedros Adhanom Ghebreyesus",
        ),
        (
            "He noted that vaccines were available but in short supply.",
            "Tedros Adhanom Ghebreyesus",
        ),
        (
            "Health experts acknowledged that testing remained limited in rural areas.",
            "Health experts",
        ),
        (
            "The Africa CDC announced on Tuesday that it would buy 200,000 doses.",
            "Africa CDC",
        ),
        (
            '"We need to act now," said Jean Kaseya, the agency\'s director general.',
            "Jean Kaseya",
        ),
        (
            "According to the ministry of health, 450 people have died since January.",
            "the ministry of health",
        ),
    ],
    [
        (
            "Manchester City beat Arsenal 2-1 on Sunday to go top of the Premier League.",
            None,
        ),
        (
            'Pep Guardiola said after the match: "We suffered a lot, but the players never '
            'gave up."',
            "Pep Guardiola",
        ),
        (
            "The City manager explained that Kevin De Bruyne had been rested as a precaution.",
            "The City manager",
        ),
        (
            "Arsenal's Mikel Arteta claimed his side should have had a penalty in the first half.",
            "Mikel Arteta",
        ),
        ('"It was a clear foul," he insisted.', "Mikel Arteta"),
        (
            "The referee, Michael Oliver, denied that he had missed the incident.",
            "Michael Oliver",
        ),
    ],
    [
        (
            "China's foreign ministry spokeswoman Mao Ning stated on Monday that Beijing "
            "opposed any unilateral sanctions.",
            "Mao Ning",
        ),
        ("She says Beijing remains committed to dialogue.", "Mao Ning"),
        ("Washington imposed the sanctions on Friday on five Chinese companies.", None),
        ("US officials said the firms had supplied drone parts to Russia.", "US officials"),
        (
            "The State Department's spokesman, Matthew Miller, told reporters the measures "
            "were aimed at cutting off supply routes.",
            "Matthew Miller",
        ),
        (
            "Analysts at Eurasia Group wrote in a note to clients that further escalation was "
            "likely.",
            "Analysts at Eurasia Group",
        ),
        ("It is not clear whether the sanctions will have much effect.", None),
        ("The measures were announced after weeks of negotiations.", None),
    ],
    [
        (
            "At least 12 people were killed when floods swept through villages in northern "
            "Italy, according to the civil protection agency.",
            "the civil protection agency",
        ),
        ("Rescue workers were still searching for three missing people on Saturday.", None),
        ("Regional governor Luca Zaia described the damage as unprecedented.", "Luca Zaia"),
        ("This is the worst flood we have seen in a century, he said.", "Luca Zaia"),
        (
            "Meteorologists have warned that more heavy rain is expected next week.",
            "Meteorologists",
        ),
        ("Residents say they were given no warning.", "Residents"),
    ],
    [
        (
            "A federal judge in New York on Tuesday denied a request by the former executive "
            "to delay his trial.",
            None,
        ),
        (
            "Prosecutors said the defendant had moved $8 million through shell companies.",
            "Prosecutors",
        ),
        (
            "His lawyer, Marc Agnifilo, argued in court filings that the evidence had been "
            "obtained illegally.",
            "Marc Agnifilo",
        ),
        ("The trial is expected to last six weeks.", None),
        ("Agnifilo declined to comment after the hearing.", None),
    ],
]


def _layout(sentences: list[Sentence]) -> tuple[str, list[tuple[int, int]]]:
    """The article text (sentences joined by spaces) and each sentence's span in it."""
    spans, start = [], 0
    for sentence, _ in sentences:
        spans.append((start, start + len(sentence)))
        start += len(sentence) + 1
    return " ".join(s for s, _ in sentences), spans


def _results() -> list[tuple[str, str | None, str | None]]:
    """``(sentence, expected, found)`` for every sentence of every article."""
    rows = []
    for article in ARTICLES:
        text, spans = _layout(article)
        found = speakers(text, spans)
        rows += [(s, want, got) for (s, want), got in zip(article, found, strict=True)]
    return rows


def _hit(expected: str | None, found: str | None) -> bool:
    if expected is None or found is None:
        return expected is found
    return same_speaker(found, expected)


def test_the_set_is_the_size_it_claims() -> None:
    rows = _results()
    assert sum(want is not None for _, want, _ in rows) >= 40
    assert sum(want is None for _, want, _ in rows) >= 10


def test_attributed_sentences_get_their_speaker() -> None:
    rows = [r for r in _results() if r[1] is not None]
    misses = [r for r in rows if not _hit(r[1], r[2])]
    share = 1 - len(misses) / len(rows)
    print(f"attributed: {len(rows) - len(misses)}/{len(rows)}")
    assert share >= 0.90, "\n".join(f"{s!r}: want {w!r}, got {g!r}" for s, w, g in misses)


def test_unattributed_sentences_get_no_speaker() -> None:
    rows = [r for r in _results() if r[1] is None]
    misses = [r for r in rows if r[2] is not None]
    print(f"unattributed: {len(rows) - len(misses)}/{len(rows)}")
    assert len(misses) <= 1, "\n".join(f"{s!r}: got {g!r}" for s, _, g in misses)


def test_speaker_agrees_with_speakers() -> None:
    for article in ARTICLES[:4]:
        text, spans = _layout(article)
        assert [speaker(text, a, b) for a, b in spans] == speakers(text, spans)


def test_a_pronoun_with_nobody_before_it_has_no_speaker() -> None:
    text = "He said the talks would resume on Monday."
    assert speakers(text, [(0, len(text))]) == [None]


def test_no_spans_no_speakers() -> None:
    assert speakers("Peskov said so.", []) == []


def test_an_earlier_mention_outside_the_spans_resolves_a_pronoun() -> None:
    text = "Ukraine's foreign minister Andrii Sybiha met his Turkish counterpart. " + (
        "He said Kyiv was ready for a ceasefire."
    )
    start = text.index("He said")
    assert speaker(text, start, len(text)) == "Andrii Sybiha"


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What did Peskov say about the memorandum?", "Peskov"),
        ("What has the Kremlin said on the talks?", "the Kremlin"),
        ("According to Zelensky, what was agreed in Istanbul?", "Zelensky"),
        ("How did Ukraine's foreign ministry describe the proposal?", "Ukraine's foreign ministry"),
        ("What did Christine Lagarde tell reporters about tariffs?", "Christine Lagarde"),
        ("What was Guardiola's reaction to the result?", "Guardiola"),
        ("Did the union say it would strike?", "the union"),
        ("How did the Kremlin react to the proposal?", "the Kremlin"),
        ("What did they say about the talks?", None),
        ("Who said the talks were constructive?", None),
        ("Which official said the talks were useful?", None),
        ("Where were the talks held?", None),
        ("What did Russia propose?", None),
        ("When did the talks start?", None),
    ],
)
def test_asked_speaker(question: str, expected: str | None) -> None:
    found = asked_speaker(question)
    if expected is None:
        assert found is None
    else:
        assert found is not None
        assert same_speaker(found, expected)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Who said the talks were constructive?", True),
        ("Who called the proposal a stunt?", True),
        ("Who described the damage as unprecedented?", True),
        ("Who warned that tariffs could weigh on growth?", True),
        ("Which official said the talks were useful?", True),
        ("Who has claimed the vote was rigged?", True),
        ("According to whom were 450 people killed?", True),
        ("Who won the election?", False),
        ("Who proposed the ceasefire?", False),
        ("What did Peskov say about the memorandum?", False),
        ("Where were the talks held?", False),
    ],
)
def test_asks_who_said(question: str, expected: bool) -> None:
    assert asks_who_said(question) is expected


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("Peskov", "Dmitry Peskov", True),
        ("Dmitry Peskov", "peskov", True),
        ("the Kremlin", "Kremlin", True),
        ("a Kremlin spokesman", "Kremlin spokesman", True),
        ("Mr Peskov", "Dmitry Peskov", True),
        ("Peskov's", "Peskov", True),
        ("Peskov", "Zelensky", False),
        ("Dmitry", "Dmitry Peskov", False),
        ("the ministry", "", False),
    ],
)
def test_same_speaker(a: str, b: str, expected: bool) -> None:
    assert same_speaker(a, b) is expected
    assert same_speaker(b, a) is expected
