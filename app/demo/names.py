"""Street names for the demo city: north-Georgia flavoured, drawn without repeats while they last."""

from __future__ import annotations

import random

ROOTS = (
    "Oak", "Pine", "Maple", "Cedar", "Elm", "Hickory", "Magnolia", "Dogwood", "Poplar", "Willow", "Chestnut",
    "Walnut", "Pecan", "Sycamore", "Birch", "Laurel", "Holly", "Cypress", "Juniper", "Mulberry", "Persimmon",
    "Redbud", "Sassafras", "Beech", "Hawthorn", "Locust", "Catalpa", "Cherry", "Prince", "Lumpkin", "Milledge",
    "Hancock", "Dougherty", "Baxter", "Clayton", "Pulaski", "Jackson", "Thomas", "Hull", "Barber", "Chase",
    "Hoyt", "Oglethorpe", "Cobb", "Franklin", "Madison", "Monroe", "Meigs", "Finley", "Harris", "Rutherford",
    "Cloverhurst", "Springdale", "Woodlawn", "Bloomfield", "Westview", "Pinecrest", "Riverside", "Highland",
    "Fairview", "Glenwood", "Brookwood", "Oakland", "Parkview", "Hillcrest", "Lakeview", "Ridgewood", "Meadow",
    "Sunset", "Greenway", "Forest", "Mill", "Church", "College", "Market", "Depot", "Railroad", "Spring", "Water",
    "Mitchell", "Reese", "Strong", "Billups", "Pope", "Carlton", "Lyndon", "Nantahala", "Satula", "Bobbin Mill",
    "Whitehall", "Cherokee", "Tallassee", "Vine", "Peter", "Nellie B", "Cleveland", "Gaines School", "Morton",
    "Rocksprings", "Hiawassee", "Paris", "Dearing", "Wilkerson", "Oak Grove", "Cedar Shoals", "Chinquapin",
    "Pinewood", "Brookhaven", "Kingswood", "Sandy Creek", "Cooper", "Stanton", "Ruth", "Evans", "Bailey",
    "Chandler", "Gordon", "Grady", "Henderson", "Mathis", "Newton", "Peabody", "Rogers", "Sims", "Tate", "Wray",
    "Young", "Alps", "Beverly", "Clover", "Dubose", "Emerson", "Fortson", "Gran Ellen", "Hampton", "Ivy",
    "Jennings", "King", "Lenox", "Marigold", "Noble", "Orchard", "Plaza", "Quail", "Rose", "Sumter", "Trail Creek",
)
SUFFIXES = {
    "arterial": ("Ave", "Blvd", "Rd", "Pkwy", "Hwy"),
    "collector": ("Rd", "Ave", "St", "Dr"),
    "local": ("St", "Dr", "Ln", "Way", "Ct", "Cir", "Pl", "Ter", "Trl", "St", "Dr"),
}
ARTERIALS = (
    "Prince Ave", "Atlanta Hwy", "Lexington Rd", "Commerce Rd", "Jefferson Rd", "Macon Hwy", "Danielsville Rd",
    "Winterville Rd", "Barnett Shoals Rd", "Oconee St", "Broad St", "Hawthorne Ave", "Epps Bridge Pkwy",
    "Oglethorpe Ave", "Tallassee Rd", "Old Hull Rd", "Olympic Dr", "Gaines School Rd", "Morton Rd", "Timothy Rd",
)
RING = "Perimeter Pkwy"
_PREFIXES = ("", "N ", "S ", "E ", "W ", "Old ")


class NamePicker:
    """Unique names while the combinations last, then repeats (as real cities have)."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._used: set[str] = set()
        self._arterials = list(ARTERIALS)
        rng.shuffle(self._arterials)

    def arterial(self) -> str:
        while self._arterials:
            name = self._arterials.pop()
            if name not in self._used:
                self._used.add(name)
                return name
        return self.street("arterial")

    def street(self, functional_class: str) -> str:
        suffixes = SUFFIXES[functional_class]
        name = ""
        for attempt in range(40):
            prefix = self._rng.choice(_PREFIXES) if attempt > 10 else ""
            name = f"{prefix}{self._rng.choice(ROOTS)} {self._rng.choice(suffixes)}"
            if name not in self._used:
                break
        self._used.add(name)
        return name
