"""Which governed place a name is, from GeoNames' countries, US states and cities."""

from __future__ import annotations

import pytest

from assistant.places import fits, is_country, is_place, is_state, same_actor


@pytest.mark.parametrize("name", ["Ukraine", "the United States", "U.S.", "Russia", "China"])
def test_countries_are_known_by_name_and_code(name: str) -> None:
    assert is_country(name)


@pytest.mark.parametrize("name", ["Istanbul", "Anchorage", "Michigan", "NRG Stadium"])
def test_other_places_are_not_countries(name: str) -> None:
    assert not is_country(name)


def test_us_states_are_known() -> None:
    assert is_state("Michigan")
    assert is_state("Pennsylvania")
    assert not is_state("Philadelphia")


@pytest.mark.parametrize(
    ("kind", "name", "answers"),
    [
        ("city", "Istanbul", True),
        ("city", "Ukraine", False),
        ("city", "Pennsylvania", False),
        ("country", "China", True),
        ("country", "Anchorage", False),
        ("state", "Michigan", True),
        ("state", "China", False),
        ("place", "Ukraine", True),
    ],
)
def test_a_place_fits_the_kind_asked_for(kind: str, name: str, answers: bool) -> None:
    assert fits(kind, name) is answers


def test_cities_countries_and_states_are_places_and_people_are_not() -> None:
    for name in ("Kyiv", "Istanbul", "Ukraine", "the U.S.", "Ohio"):
        assert is_place(name), name
    for name in ("Erdogan", "Rustem Umerov", "Medinsky"):
        assert not is_place(name), name


def test_a_country_acts_under_its_names_its_people_its_capital_and_its_seat() -> None:
    russia = same_actor("Russia")
    assert {"russia", "russian", "russians", "moscow", "kremlin"} <= russia
    assert same_actor("the Kremlin") == same_actor("Moscow") == russia  # acting for the state
    assert same_actor("Moscow", acting=False) == frozenset({"moscow", "kremlin"})  # a place
    assert {"united states", "us", "american", "washington", "white house"} <= same_actor("U.S.")
    assert "northern mariana islands" not in same_actor("American")  # the most populous wins
    assert same_actor("Türkiye") == same_actor("Turkey")
    assert same_actor("Medinsky") == frozenset()
