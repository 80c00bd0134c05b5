"""Small dated corpora written for the news-aware tests.

- ``EVOLVING``: a wildfire told over four days, its acreage, evacuations and containment
  changing every day, plus an undated explainer.
- ``WIRE``: one agency story carried by three outlets (different headlines and bylines, the
  same body), and two unrelated stories.
"""

from __future__ import annotations

import json
from pathlib import Path

EVOLVING = [
    {
        "title": "Wildfire erupts in Larch Valley",
        "published": "2024-07-01",
        "source": "Valley Courier",
        "text": (
            "A wildfire broke out on Sunday afternoon in the hills above Larch Valley, fire "
            "officials said. The Larch Creek fire has burned 1,200 acres so far, according to "
            "the county fire service. About 300 residents of Pine Hollow were told to leave "
            "their homes on Sunday evening. Investigators have not yet determined what started "
            "the blaze. Crews from three neighbouring counties were sent to help."
        ),
    },
    {
        "title": "Larch Creek fire more than doubles in size",
        "published": "2024-07-02",
        "source": "Valley Courier",
        "text": (
            "Strong winds drove the Larch Creek fire across the ridge overnight. The fire has "
            "now burned 3,400 acres, the county fire service said on Tuesday morning. "
            "Evacuation orders were widened to cover 1,100 residents in Pine Hollow and Elm "
            "Ford. The fire was 5 percent contained. A shelter opened at the Larch Valley high "
            "school gym."
        ),
    },
    {
        "title": "Firefighters gain ground on Larch Creek blaze",
        "published": "2024-07-04",
        "source": "Valley Courier",
        "text": (
            "Cooler weather helped firefighters slow the Larch Creek fire on Thursday. The "
            "fire has burned 5,800 acres, the county fire service reported. Containment rose "
            "to 40 percent as crews finished a line along the eastern flank. About 2,000 "
            "residents remained under evacuation orders. Officials said the cause was "
            "still under investigation."
        ),
    },
    {
        "title": "Larch Creek fire nearly contained",
        "published": "2024-07-08",
        "source": "Valley Courier",
        "text": (
            "The Larch Creek fire was 90 percent contained on Monday, and most evacuation "
            "orders were lifted. The final burned area stands at 6,300 acres, the county "
            "fire service said. Investigators said a downed power line started the fire. "
            "Residents of Pine Hollow began returning home on Monday afternoon."
        ),
    },
    {
        "title": "How wildfire containment is measured",
        "source": "Valley Courier",
        "text": (
            "Containment is the share of a fire's edge that crews have surrounded with a "
            "control line. A fire that is 50 percent contained can still grow where its edge "
            "is open. Fire services publish the figure once a day."
        ),
    },
]

WIRE_BODY = (
    "The central bank of Norland raised its main interest rate to 4.75 percent on "
    "Wednesday, its third increase this year. Governor Ilse Marten said inflation was "
    "still too high and that further increases could not be ruled out. The decision was "
    "taken unanimously by the bank's five-member board. Economists had expected the rate "
    "to rise by a quarter of a point. The national currency gained half a percent against "
    "the euro after the announcement."
)

WIRE = [
    {
        "title": "Norland raises interest rate again",
        "published": "2024-03-13",
        "source": "Harbour Times",
        "text": "By Lena Voss, Northern Press Agency\n\n" + WIRE_BODY,
    },
    {
        "title": "Central bank lifts rate to 4.75%",
        "published": "2024-03-13",
        "source": "Daily Ledger",
        "text": "NORTHERN PRESS AGENCY\n\n" + WIRE_BODY + "\n\nRead more business news.",
    },
    {
        "title": "Norland central bank hikes for third time",
        "published": "2024-03-14",
        "source": "Coastal Herald",
        "text": WIRE_BODY,
    },
    {
        "title": "Norland's rate rise worries home buyers",
        "published": "2024-03-15",
        "source": "Coastal Herald",
        "text": (
            "Home buyers in Norland said the latest rate rise would make mortgages harder to "
            "afford. Mortgage approvals fell by 12 percent in February, the national lenders' "
            "association said. Estate agents reported fewer viewings in the capital."
        ),
    },
    {
        "title": "Ferry service to Skarn island resumes",
        "published": "2024-03-14",
        "source": "Harbour Times",
        "text": (
            "The ferry service to Skarn island resumed on Thursday after a two-week break for "
            "repairs. The operator said crossings would run every two hours. The island's "
            "450 residents had relied on a small supply boat during the break."
        ),
    },
]


def write(records: list[dict[str, str]], folder: Path, name: str) -> Path:
    """The records as one JSON Lines file in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path
