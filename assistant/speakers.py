"""Who said it: the speaker a news sentence attributes its claim to.

A sentence attributes a claim when a verb of saying ("said", "told", "warned", ...) reports a
clause, a quotation or a characterisation ("described the cuts as a betrayal"), or when it
says "according to" someone. The speaker is that verb's subject (or the object of "according
to"), read off spaCy's dependency parse: a proper name when there is one, else the noun
phrase. A pronoun subject is resolved to the nearest fitting name earlier in the article,
preferring whoever spoke in the sentences just before. Parses are kept per sentence and per
article, since the same texts come back question after question. The question-side helpers
(:func:`asked_speaker`, :func:`asks_who_said`) work by pattern.
"""

from __future__ import annotations

import bisect
import re
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from threading import Lock
from typing import Any

from assistant.nlp import parse


def _words_of(text: str) -> frozenset[str]:
    return frozenset(text.split())


SAY_VERBS = _words_of(
    """say tell add note warn state announce claim insist argue write tweet post explain
    acknowledge deny describe call admit assert contend stress emphasise emphasize confirm reply
    remark suggest predict caution concede declare allege complain reiterate repeat accuse
    testify report vow pledge promise express indicate believe"""
)
"""Lemmas of the verbs that attribute a claim to their subject."""
PRONOUNS: dict[str, frozenset[str]] = {
    "he": frozenset({"person"}),
    "she": frozenset({"person"}),
    "they": frozenset({"person", "org", "group", "plural"}),
    "it": frozenset({"org", "place", "noun"}),
}
"""The kinds of earlier mention each subject pronoun may stand for."""
ENTITY_KINDS = {"PERSON": "person", "ORG": "org", "NORP": "group", "GPE": "place"}
TITLES = frozenset({"spokesman", "spokeswoman", "spokesperson"})
NOT_SOURCES = _words_of(
    """plan schedule law rule agreement deal treaty constitution tradition terms proposal
    timetable script custom"""
)
"""What "according to" may be followed by without naming anyone ("according to the plan")."""
DOCUMENTS = _words_of(
    """statement report data figure document survey estimate poll study filing transcript
    readout post memo letter note analysis tally record calculation release"""
)
"""Things that speak for whoever wrote them ("according to a statement from the ministry")."""
SPEAKER_REACH = 2
"""How many sentences back an earlier speaker is preferred to a nearer mention."""
CACHE_SIZE = 20_000
ARTICLE_CACHE_SIZE = 500


@dataclass(frozen=True)
class _Found:
    """A speaker as one sentence names it: a name, noun phrase or pronoun, and its kind."""

    name: str
    offset: int
    kind: str


@dataclass(frozen=True)
class _Mention:
    """Someone named in an article, where, and whether they spoke there."""

    name: str
    position: int
    kind: str
    sentence: int
    speaker: bool


@dataclass(frozen=True)
class _Article:
    """The mentions of an article, in order, and where each of its sentences starts."""

    mentions: tuple[_Mention, ...]
    starts: tuple[int, ...]


_sentences: OrderedDict[str, _Found | None] = OrderedDict()
_articles: OrderedDict[str, _Article] = OrderedDict()
_lock = Lock()


def _put(cache: OrderedDict[str, Any], key: str, value: Any, size: int) -> None:
    cache[key] = value
    while len(cache) > size:
        cache.popitem(last=False)


def _phrase(tokens: Sequence[Any], sent: Any) -> _Found | None:
    """The words ``tokens`` (in order) as written, with a leading title dropped."""
    if len(tokens) > 1 and tokens[0].lower_ in TITLES:
        tokens = tokens[1:]
    while tokens and (tokens[0].is_punct or tokens[0].is_quote):
        tokens = tokens[1:]
    while tokens and (tokens[-1].is_punct or tokens[-1].is_quote or tokens[-1].tag_ == "POS"):
        tokens = tokens[:-1]
    if not tokens:
        return None
    start, end = tokens[0].idx, tokens[-1].idx + len(tokens[-1])
    head = min(tokens, key=lambda t: sum(1 for _ in t.ancestors))
    kind = ENTITY_KINDS.get(head.ent_type_, "")
    if not kind:
        proper = head.pos_ == "PROPN"
        kind = "person" if proper else "plural" if head.tag_ == "NNS" else "noun"
    text = sent.doc.text
    return _Found(text[start:end], start - sent.start_char, kind)


def _proper_name(head: Any, sent: Any) -> _Found | None:
    """The proper name ``head`` ends, or one set beside it ("a spokesman, Jane Doe,")."""
    if head.pos_ == "PROPN" and head.text[:1].isupper():
        name, label = [head], ""
        for ent in sent.ents:
            if ent.start <= head.i < ent.end and ent.label_ in ENTITY_KINDS:
                name, label = list(ent), ent.label_
        while label != "PERSON" and name[0].i > sent.start and _compound_of(name[0].nbor(-1), head):
            name.insert(0, name[0].nbor(-1))
        owner = [t.i for t in name if t.tag_ == "POS"]
        return _phrase([t for t in name if t.i > max(owner, default=-1)], sent)
    for child in head.children:
        if child.dep_ == "appos" and child.pos_ == "PROPN":
            return _proper_name(child, sent)
    return None


def _compound_of(token: Any, head: Any) -> bool:
    return bool(token.pos_ == "PROPN" and token.dep_ == "compound" and head in token.ancestors)


def _noun_phrase(head: Any, sent: Any) -> _Found | None:
    """``head`` with its modifiers, less appositions, clauses and anything after a comma."""
    dropped = {"appos", "relcl", "acl", "punct", "parataxis", "advcl"}
    kept = {head.i}
    for child in head.children:
        if child.dep_ not in dropped:
            kept |= {t.i for t in child.subtree}
    left = head.i
    while left - 1 in kept and not sent.doc[left - 1].is_punct:
        left -= 1
    right = head.i
    while right + 1 in kept and not sent.doc[right + 1].is_punct:
        right += 1
    return _phrase(list(sent.doc[left : right + 1]), sent)


def _named(head: Any, sent: Any) -> _Found | None:
    """Who the noun (or pronoun) ``head`` names, in the shortest useful form."""
    if head.pos_ == "PRON":
        if head.lower_ in PRONOUNS:
            return _Found(head.text, head.idx - sent.start_char, "pronoun")
        return None
    if head.lemma_.lower() in DOCUMENTS:
        author = _author(head)
        if author is not None:
            return _named(author, sent)
    if any(c.dep_ == "conj" for c in head.children):
        return _noun_phrase(head, sent)
    return _proper_name(head, sent) or _noun_phrase(head, sent)


def _author(document: Any) -> Any | None:
    """Who wrote ``document``: "the ministry's statement", "a report by the UN"."""
    for child in document.children:
        if child.dep_ == "poss":
            return child
        if child.lower_ in ("from", "by", "of"):
            return next((g for g in child.children if g.dep_ == "pobj"), None)
    return None


def _subject(verb: Any) -> Any | None:
    """The active subject of ``verb``, shared through "and"/"but" and "quoted as saying"."""
    for child in verb.children:
        if child.dep_ == "nsubj":
            if child.lower_ in ("who", "that", "which") and verb.dep_ == "relcl":
                return verb.head
            return child
    if verb.dep_ == "conj" or (verb.dep_ == "advcl" and verb.tag_ == "VBG"):
        return _subject(verb.head)
    if verb.dep_ == "pcomp" and verb.head.lower_ == "as" and verb.head.head.lemma_ == "quote":
        return next((c for c in verb.head.head.children if c.dep_ == "nsubjpass"), None)
    return None


def _reports(verb: Any) -> bool:
    """Whether ``verb`` reports a claim, not a bare act ("denied a request")."""
    deps = {child.dep_ for child in verb.children}
    if verb.lemma_ == "describe":
        return any(c.dep_ == "prep" and c.lower_ == "as" for c in verb.children)
    if verb.lemma_ == "call":
        return bool(deps & {"oprd", "ccomp"})
    if verb.lemma_ in ("warn", "accuse") and any(c.lower_ == "of" for c in verb.children):
        return True
    if deps & {"ccomp", "parataxis"} or verb.dep_ == "parataxis":
        return True
    if any(_misread_that_clause(c) for c in verb.children if c.dep_ == "dobj"):
        return True
    quoted = any(t.is_quote for t in verb.sent)
    return quoted and verb.lemma_ == "say" and verb.dep_ == "ROOT"


def _misread_that_clause(listener: Any) -> bool:
    """Whether "told reporters that ..." was parsed as a relative clause on "reporters"."""
    return any(
        c.dep_ == "relcl" and any(m.dep_ == "mark" and m.lower_ == "that" for m in c.children)
        for c in listener.children
    )


def _according_to(token: Any, sent: Any) -> _Found | None:
    """The source in "according to X" (or the author of "according to a report by X")."""
    to = next((c for c in token.children if c.lower_ == "to"), None)
    source = next((c for c in (to or token).children if c.dep_ == "pobj"), None)
    if source is None or source.lemma_ in NOT_SOURCES:
        return None
    if source.lemma_ in DOCUMENTS and _author(source) is None:
        return None
    return _named(source, sent)


def _attribution(sent: Any) -> _Found | None:
    """The speaker ``sent`` attributes its claim to, as the sentence names it."""
    found: list[tuple[int, _Found]] = []
    for token in sent:
        if token.lower_ == "according":
            speaker = _according_to(token, sent)
        elif token.lemma_ in SAY_VERBS and token.pos_ == "VERB" and _reports(token):
            subject = _subject(token)
            speaker = _named(subject, sent) if subject is not None else None
        else:
            continue
        if speaker is not None:
            found.append((sum(1 for _ in token.ancestors), speaker))
    return min(found, key=lambda f: f[0])[1] if found else None


def _attributions(sentences: Sequence[str]) -> list[_Found | None]:
    """:func:`_attribution` of each sentence, parsed alone, from the cache when seen."""
    with _lock:
        known = {s: _sentences[s] for s in sentences if s in _sentences}
        new = list(dict.fromkeys(s for s in sentences if s not in known))
        for sentence, doc in zip(new, parse(new), strict=True):
            known[sentence] = _attribution(doc[:])
            _put(_sentences, sentence, known[sentence], CACHE_SIZE)
    return [known[s] for s in sentences]


def _resolve(
    pronoun: str, position: int, here: int, mentions: Sequence[_Mention]
) -> _Mention | None:
    """The mention before ``position`` that ``pronoun`` (in sentence ``here``) stands for."""
    kinds = PRONOUNS[pronoun.lower()]
    fitting = [m for m in mentions if m.position < position and m.kind in kinds]
    recent = [m for m in fitting if m.speaker and m.sentence >= here - SPEAKER_REACH]
    return max(recent or fitting, key=lambda m: m.position, default=None)


def _mentions(sent: Any, index: int, before: Sequence[_Mention]) -> list[_Mention]:
    """The speaker (resolved) and the named entities of sentence number ``index``."""
    found = []
    speaker = _attribution(sent)
    at = sent.start_char + (speaker.offset if speaker else 0)
    if speaker is not None and speaker.kind == "pronoun":
        meant = _resolve(speaker.name, sent.start_char, index, before)
        if meant is not None:
            found.append(_Mention(meant.name, at, meant.kind, index, True))
    elif speaker is not None:
        found.append(_Mention(speaker.name, at, speaker.kind, index, True))
    for ent in sent.ents:
        name = _phrase(list(ent), sent) if ent.label_ in ENTITY_KINDS else None
        if name is not None:
            kind = ENTITY_KINDS[ent.label_]
            found.append(_Mention(name.name, ent.start_char, kind, index, False))
    return found


def _article(text: str) -> _Article:
    """The named entities and speakers of ``text``, pronoun speakers resolved in order."""
    with _lock:
        if text in _articles:
            return _articles[text]
        doc = parse([text])[0]
    mentions: list[_Mention] = []
    starts = []
    for index, sent in enumerate(doc.sents):
        starts.append(sent.start_char)
        mentions += _mentions(sent, index, mentions)
    article = _Article(tuple(mentions), tuple(starts))
    with _lock:
        _put(_articles, text, article, ARTICLE_CACHE_SIZE)
    return article


def speakers(text: str, spans: Sequence[tuple[int, int]]) -> list[str | None]:
    """For each sentence ``text[start:end]``, who it attributes its claim to.

    Args:
        text: The whole article, so that a pronoun ("he said") can be resolved to a name
            given earlier in it.
        spans: ``(start, end)`` character offsets of the sentences to look at.

    Returns:
        For each span, the speaker as the article writes them: the proper name when there is
        one ("Dmitry Peskov"), else the noun phrase ("a Kremlin spokesman", "officials");
        None when the sentence attributes nothing or a pronoun speaker cannot be resolved.
    """
    found = _attributions([text[a:b] for a, b in spans])
    result: list[str | None] = []
    for (start, _), speaker in zip(spans, found, strict=True):
        if speaker is None or speaker.kind != "pronoun":
            result.append(speaker.name if speaker else None)
            continue
        article = _article(text)
        here = bisect.bisect_right(article.starts, start) - 1
        meant = _resolve(speaker.name, start, here, article.mentions)
        result.append(meant.name if meant is not None else None)
    return result


def speaker(text: str, start: int, end: int) -> str | None:
    """Who the sentence ``text[start:end]`` attributes its claim to (see :func:`speakers`).

    Args:
        text: The whole article.
        start: Where the sentence starts in ``text``.
        end: Where it ends.

    Returns:
        The speaker's name or noun phrase, or None.
    """
    return speakers(text, [(start, end)])[0]


_SAY_FORMS = (
    r"(?:say|says|said|saying|tell|tells|told|claim(?:s|ed)?|describe[sd]?|warn(?:s|ed)?|"
    r"announce[sd]?|state[sd]?|insist(?:s|ed)?|argue[sd]?|wr[io]te|tweet(?:s|ed)?|"
    r"explain(?:s|ed)?|acknowledge[sd]?|den(?:y|ies|ied)|note[sd]?|add(?:s|ed)?|"
    r"admit(?:s|ted)?|accuse[sd]?|suggest(?:s|ed)?|predict(?:s|ed)?|confirm(?:s|ed)?|"
    r"declare[sd]?|allege[sd]?|stress(?:es|ed)?|complain(?:s|ed)?|"
    r"call(?:s|ed)?(?!\s+(?:for|on|off|in|up)\b))"
)
_WHO_SAID = re.compile(
    rf"^\s*(?:who|which(?:\s+[\w'’-]+){{1,3}}?)\s+(?:(?:has|have|had|did|was|is)\s+)?"
    rf"(?:first\s+|also\s+|publicly\s+)?(?:quoted\s+as\s+)?{_SAY_FORMS}\b|according\s+to\s+whom",
    re.IGNORECASE,
)
_ASKED = (
    re.compile(r"\baccording\s+to\s+(?P<who>(?!whom\b)[^,?]+)", re.IGNORECASE),
    re.compile(
        r"\b(?:did|does|do|has|have|had|will|would|could|is|are|was|were)\s+"
        rf"(?P<who>(?:[\w'’.-]+\s+){{0,5}}?[\w'’.-]+)\s+(?:also\s+)?"
        rf"(?:{_SAY_FORMS}|respond|react|reply|comment)\b",
        re.IGNORECASE,
    ),
    re.compile(
        r"\b(?:is|are|was|were|has\s+been)\s+(?P<who>(?:[\w'’.-]+\s+){0,5}?[\w.-]+)['’]s?\s+"
        r"(?:reaction|response|comments?|position|views?|stance|statement|remarks|message|"
        r"explanation|answer|reply|assessment|verdict|claim|argument|warning)\b",
        re.IGNORECASE,
    ),
)
_NOT_NAMES = _words_of("it there this that these those he she they we you i who what which")
"""Words a speaker's name does not start with ("what did it say" asks about no one)."""


def asks_who_said(question: str) -> bool:
    """Whether ``question`` asks who made a statement ("Who warned that ...?").

    Args:
        question: The user's question.

    Returns:
        True for "Who said/called/described/warned ...?", "Which official said ...?" and
        "According to whom ...?"; False otherwise (including "Who won the election?").
    """
    return _WHO_SAID.search(question) is not None


def asked_speaker(question: str) -> str | None:
    """The person or body whose statements ``question`` asks about.

    Args:
        question: The user's question, e.g. "What did Peskov say about the memorandum?".

    Returns:
        The speaker as the question writes them ("Peskov", "the Kremlin"), or None when the
        question asks about no one's statements or asks who made one.
    """
    if asks_who_said(question):
        return None
    for pattern in _ASKED:
        match = pattern.search(question)
        if match is not None:
            who = match.group("who").strip()
            if who.split()[0].lower() not in _NOT_NAMES:
                return who
    return None


_HONORIFICS = frozenset({"the", "a", "an", "mr", "mrs", "ms", "dr", "mr.", "mrs.", "ms.", "dr."})


def _words(name: str) -> list[str]:
    words = [re.sub(r"['’]s$|['’]$", "", w) for w in re.findall(r"[\w'’.-]+", name.casefold())]
    words = [w.strip(".") for w in words if w.strip(".")]
    while words and words[0] in _HONORIFICS:
        words = words[1:]
    return words


def same_speaker(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` name the same speaker, loosely.

    Case is ignored, a leading "the"/"a" or "Mr" is dropped, and the shorter name may be the
    end of the longer one ("Peskov" ~ "Dmitry Peskov", "Kremlin" ~ "the Kremlin").

    Args:
        a: One speaker, as written.
        b: The other.

    Returns:
        True when they name the same speaker.
    """
    x, y = _words(a), _words(b)
    if not x or not y:
        return False
    short, long = sorted((x, y), key=len)
    return long[-len(short) :] == short
