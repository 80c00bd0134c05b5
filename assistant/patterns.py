"""What a question asks for (a number, a date, a person, ...) and patterns for such things."""

from __future__ import annotations

import re
import unicodedata

_NUMBER = (
    r"\b\d[\d,.]*\b|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
    r"fifteen|twenty|thirty|forty|fifty|hundred|thousand|million|billion|dozens?|"
    r"half)\b"
)
_UNIT = r"(?:second|minute|hour|day|night|week|month|year|decade|centur(?:y|ie))s?"
ANSWER_PATTERNS: dict[str, re.Pattern[str]] = {
    # The kinds that named entities do not cover, or cover only in part (see entities.py).
    "number": re.compile(_NUMBER, re.I),
    "duration": re.compile(rf"(?:{_NUMBER})(?:\s+(?:to|or|-)\s+(?:{_NUMBER}))?\s+{_UNIT}", re.I),
    "reason": re.compile(
        r"\b(?:because|due to|in order to|so that|as a result|since|to (?:\w+ ){0,2}\w+)\b", re.I
    ),
}
_WHICH = (
    r"\b(?:what|which)\s+"
    r"(?:(?!(?:of|is|are|was|were|will|would|can|could|did|does|do|has|have|had)\b)"
    r"[\w.’'-]+\s+){0,2}?"
)
""""which" and up to two words before the noun ("which top-rated host"), not a verb ("which
city will host")."""
_PERSON_NOUN = (
    r"(?:person|man|woman|player|actor|actress|singer|rapper|president|leader|official|"
    r"senator|minister|ceo|founder|author|artist|judge|candidate|governor|lawmaker|star|"
    r"coach|pope|king|queen|prince|princess|director|chief|negotiator|spokes(?:man|woman)|"
    r"host|anchor|presenter|journalist|reporter|writer|musician|comedian|celebrity|athlete|"
    r"veteran|politician|activist|executive|billionaire|entrepreneur|businessman|"
    r"businesswoman|lawyer|prosecutor|scientist|chef|quarterback|pitcher|manager)s?"
)
_COUNTRY_NOUN = r"(?:country|countries|nation|nations)"
_STATE_NOUN = r"(?:state|states|province|provinces|county|counties)"
_CITY_NOUN = r"(?:city|cities|town|towns|capital|capitals)"
_PLACE_NOUN = r"(?:place|region|island|continent|venue|location|site)s?"
_ORG_NOUN = (
    r"(?:company|companies|team|organi[sz]ation|group|party|agency|network|brand|firm|bank|"
    r"airline|retailer|chain|university|school|band|league|club|outlet|newspaper|automaker|"
    r"carrier|giant|maker|startup|government|department|court)s?"
)
_WHICH_WIDE = (
    r"\b(?:what|which)\s+"
    r"(?:(?!(?:is|are|was|were|will|would|can|could|did|does|do|has|have|had|"
    r"of|from|to|in|on|at|for|with|by|about|into|after|before|over|than|that|all|and|or)\b)"
    r"[\w.’'-]+\s+){0,3}?"
)
"""``_WHICH`` with up to three words before the noun ("which prominent Fox News host"), none
of them a preposition ("which app from all government ...")."""
_MORE_PERSON_NOUNS = (
    r"(?:figure|personality|entertainer|designer|astronaut|mayor|nominee|challenger|rival|"
    r"suspect|owner|heir|economist|commander|boxer|golfer|swimmer|runner|driver|dancer|"
    r"filmmaker|producer|novelist|poet|composer|guitarist|drummer|influencer|youtuber)s?"
)
_MORE_ORG_NOUNS = (
    r"(?:union|restaurant|store|publisher|studio|channel|magazine|charity|institution|"
    r"college|hospital|museum|franchise|label|service|broadcaster|insurer|lender|"
    r"manufacturer)s?"
)
_WORK_NOUN = (
    r"(?:film|movie|show|series|sitcom|song|album|book|novel|play|musical|game|painting|"
    r"single|documentary|podcast|poem|opera|strip|comic|programme|program|sequel|anthem|"
    r"ballad|track)s?"
)
_EVENT_NOUN = (
    r"(?:race|tournament|championship|competition|festival|event|marathon|cup|contest|"
    r"summit|conference|war|battle|award|prize|ceremony)s?"
)
_PRODUCT_NOUN = (
    r"(?:app|platform|phone|smartphone|device|car|vehicle|drug|medication|software|"
    r"website|chatbot|console|gadget|headset|browser|aircraft|plane|jet|rocket|spacecraft|"
    r"satellite|weapon|missile|tank)s?"
)
QUESTION_TYPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "duration",
        re.compile(
            rf"\bhow long\b|\bhow many {_UNIT}\b|\blength\b|\bduration\b|\blasting\b|\blast\s*\?",
            re.I,
        ),
    ),
    (
        "number",
        re.compile(
            r"\bhow (?:many|much|old|far|big|large|high|tall)\b|\bby how much\b|"
            r"\b(?:what|which) (?:number|percentage|percent|share|amount|age|price|cost|sum)\b",
            re.I,
        ),
    ),
    (
        "date",
        # "when" asks at the start, after a comma or at the end ("..., and when?"); elsewhere
        # it joins clauses ("... this week when it announced ...").
        re.compile(
            r"^(?:(?:and|so|but|then)\s+)?when\b|,\s*(?:and\s+)?when\b|\bwhen\s*\?|"
            r"\b(?:what|which) (?:year|date|day|month|time)\b",
            re.I,
        ),
    ),
    ("person", re.compile(rf"{_WHICH}{_PERSON_NOUN}\b", re.I)),
    ("agent", re.compile(r"\bwho(?:m|se)?\b", re.I)),
    ("country", re.compile(rf"{_WHICH}{_COUNTRY_NOUN}\b", re.I)),
    ("state", re.compile(rf"{_WHICH}{_STATE_NOUN}\b", re.I)),
    ("city", re.compile(rf"{_WHICH}{_CITY_NOUN}\b", re.I)),
    ("place", re.compile(rf"\bwhere\b|{_WHICH}{_PLACE_NOUN}\b", re.I)),
    ("organisation", re.compile(rf"{_WHICH}{_ORG_NOUN}\b", re.I)),
    ("reason", re.compile(r"\bwhy\b", re.I)),
)
SHORT_TYPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("person", re.compile(rf"{_WHICH_WIDE}(?:{_PERSON_NOUN}|{_MORE_PERSON_NOUNS})\b", re.I)),
    ("organisation", re.compile(rf"{_WHICH_WIDE}(?:{_ORG_NOUN}|{_MORE_ORG_NOUNS})\b", re.I)),
    ("work", re.compile(rf"{_WHICH_WIDE}{_WORK_NOUN}\b", re.I)),
    ("event", re.compile(rf"{_WHICH_WIDE}{_EVENT_NOUN}\b", re.I)),
    ("product", re.compile(rf"{_WHICH_WIDE}{_PRODUCT_NOUN}\b", re.I)),
)
"""More kinds, asked in more words, for the short answer alone (``short_type``): a title, an
event or a product ("which sitcom", "which race", "which app"), and people and organisations
by more nouns ("which public figure", "which labor union"). The answerer's features keep to
``QUESTION_TYPES``: there a kind that spaCy often misses (a title it does not know as one)
would count against the sentence that answers (fitted with these kinds, the odd weeks'
accuracy fell from 44.0% to 41.5%)."""


_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“])")


def question_type(question: str) -> str | None:
    """The kind of thing the question asks for (number, date, person, ...), if any.

    Only the question's last sentence is read (a quiz question often sets the scene first),
    and the earliest question phrase in it decides: in "Which state is represented by X,
    whose bid ...", "which state" asks, "whose" does not.
    """
    return _earliest(question, QUESTION_TYPES)


def short_type(question: str) -> str | None:
    """The kind of thing a short answer to ``question`` is: its ``question_type``, or else a
    kind of ``SHORT_TYPES``, read the same way."""
    return question_type(question) or _earliest(question, SHORT_TYPES)


def _earliest(question: str, kinds: tuple[tuple[str, re.Pattern[str]], ...]) -> str | None:
    """The kind of ``kinds`` whose phrase comes first in the sentence of ``question`` that
    asks (its last with a question mark, or its last); the earlier kind on a tie."""
    parts = _SENTENCE_BREAK.split(question.strip())
    asked = next((p for p in reversed(parts) if "?" in p), parts[-1])
    found = [(m.start(), n) for n, (_, p) in enumerate(kinds) if (m := p.search(asked))]
    return kinds[min(found)[1]][0] if found else None


_COUNTED = re.compile(
    r"\bhow many\s+(?:(?:more|fewer|other|new)\s+)?((?:[a-z][\w’'-]*\s*){1,2})", re.I
)
_NOT_COUNTED = frozenset(
    (
        *("of", "in", "on", "at", "to", "for", "from", "by", "the", "a", "an"),
        *("is", "are", "was", "were", "will", "would", "can", "could"),
        *("did", "does", "do", "has", "have", "had"),
    )
)
"""Words that end what a "how many" question counts: verbs and prepositions."""


def counted(question: str) -> tuple[str, ...]:
    """The words of what a "how many" question counts ("How many dead soldiers will ...":
    "dead", "soldiers"), up to the first verb or preposition; none for other questions."""
    if question_type(question) != "number":
        return ()
    found = _COUNTED.search(question)
    if not found:
        return ()
    words = []
    for word in found.group(1).split():
        if word.lower() in _NOT_COUNTED:
            break
        words.append(word.rstrip("’'").lower())
    return tuple(words)


def answer_kind_phrase(question: str) -> str:
    """The words of ``question`` that ask for a kind of answer ("which city", "how long",
    "last?")."""
    return " ".join(m.group() for _, p in QUESTION_TYPES for m in p.finditer(question))


def has_answer_type(sentence: str, kind: str, question: str) -> bool:
    """Whether ``sentence`` holds a thing of ``kind`` that the question does not name."""
    asked = question.lower()
    return any(m.group().lower() not in asked for m in ANSWER_PATTERNS[kind].finditer(sentence))


WORD = re.compile(r"[\w’'-]+")
"""A word as written, apostrophes and hyphens kept ("Biden’s", "right-to-work")."""
_NOT_WORD = re.compile(r"[^\w]+")
_INITIAL_DOT = re.compile(r"(?<=\b\w)\.(?=\w\b)")
"""The dots of initials ("U.S."), which "US" leaves out."""
_ARTICLE = re.compile(r"^(?:the|a|an) ")


def fold(text: str) -> str:
    """``text`` lower-cased with punctuation as single spaces (initials closed up: "U.S." and
    "US" fold alike), for comparing phrases."""
    return " ".join(_NOT_WORD.sub(" ", _INITIAL_DOT.sub("", text).casefold()).split())


def unaccented(text: str) -> str:
    """``text`` folded (see ``fold``) without accents: "Türkiye" -> "turkiye"."""
    decomposed = unicodedata.normalize("NFKD", fold(text))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def bare(text: str) -> str:
    """``text`` folded (see ``fold``) without a leading article: "the U.S." -> "us"."""
    return _ARTICLE.sub("", fold(text))


def names(phrase: str, question: str) -> bool:
    """Whether ``question`` already names ``phrase`` (whole words, case and punctuation folded,
    a leading article left out)."""
    folded = bare(phrase)
    return not folded or f" {folded} " in f" {fold(question)} "


_DAYS = (
    r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|January|February|March|April"
    r"|May|June|July|August|September|October|November|December|Christmas|New|Then|Now|Late"
    r"|Early|The|This|That|Last|Next)\b"
)
_FURNITURE = re.compile(
    r"^\W*(?:"
    r"(?:More|Related|Read more|Read|Watch|Video|Photo|Photos|Listen|Opinion|See also|"
    r"Also read|Also|Editor's note|Editor’s note|Correction)\s*:"
    r"|Sign up\b|Subscribe\b|Share this\b|Story continues\b|Click here\b|Download the\b"
    r"|Follow (?:@|us\b|him\b|her\b|them\b|the\b|[A-Z]\w+ on\b)"
    r"|Contact\b[^.]{0,80}(?:@|\bat \(?\d)"
    r"|©|Copyright\b"
    r"|\(?(?:AP |Getty |Reuters |AFP )?Photos? (?:by|courtesy)\b"
    rf"|By (?!{_DAYS})[A-Z][\w.'’-]+(?:(?: and| [A-Z][\w.'’-]+)){{0,4}}\s*(?:,[^.]{{0,60}})?$"
    r")",
    re.IGNORECASE,
)
_ASKS = re.compile(r"\?[\"'”’»)\]]*\s*$")


def is_furniture(sentence: str) -> bool:
    """Whether ``sentence`` is page furniture scraped with an article ("More: ...", "Read
    more", "Related:", "Sign up ...", a byline, a photo credit, a copyright line): never an
    answer."""
    return bool(_FURNITURE.match(sentence.strip()))


def asks(sentence: str) -> bool:
    """Whether ``sentence`` is itself a question (it ends with "?"): never an answer."""
    return bool(_ASKS.search(sentence))
