"""Field mapping: which source column fills which field of a layer kind, and how values are read.

THE MAPPING TABLE. For each kind, each field lists the column names it is found under,
compared case-insensitively, best first (a name may be a pattern: ``PCI_\\d{4}`` matches
PCI_2014, and the latest year wins). ``--map FIELD=COLUMN`` (or the preview form) overrides it.

| kind        | field            | columns detected                                                      |
|-------------|------------------|-----------------------------------------------------------------------|
| every kind  | source_id        | per kind below, then ID, OBJECTID, FID, GlobalID                       |
| pavement    | street_name      | Street, STREETNAME, ST_NAME, STREET_NAME, FULLNAME, Label, Name        |
|             | from_street      | From, From1, FROM_ST, FROMSTREET, FROM_STREET, BEGIN_DESC              |
|             | to_street        | To, To1, TO_ST, TOSTREET, TO_STREET, END_DESC                          |
|             | functional_class | FUNC_CLASS, FUNCCLASS, Functional, FunctionalClass, FCLASS, F_SYSTEM, |
|             |                  | ROAD_CLASS, CLASS                                                      |
|             | width            | Width, WIDTH_FT, WIDTH_M, PavementWi, PAVEMENT_WIDTH, PAVE_WIDTH,     |
|             |                  | PAVEWIDTH, ST_WIDTH (converted to width_m)                             |
|             | lanes            | Lanes, NUM_LANES, LANE_COUNT, NUMLANES                                 |
|             | pci              | PCI, OCI, PCI_<year>, OCI_<year>, PCI_SCORE, Condition, COND           |
|             | survey_date      | SURVEY_DATE, SurveyDate, Inspection, INSP_DATE, InspectionDate, SURVEYED |
|             | source_id        | SEGMENT_ID, SEG_ID, SegmentID                                          |
|             | length           | only with --map length=COLUMN: the surveyed length (app.importers.lengths) |
| sidewalk    | street_name      | Street, STREETNAME, ST_NAME, STREET_NAME, FULLNAME, Location, Name     |
|             | side             | Side, SIDE_OF_STREET, STREET_SIDE                                      |
|             | width            | Width, SW_WIDTH, WIDTH_FT, WIDTH_M                                     |
|             | condition        | Condition, COND, CONDITION_RATING, Rating, SW_COND                     |
|             | is_gap           | Gap, IS_GAP, Missing                                                   |
|             | trip_hazards     | TripHazards, TRIP_HAZARDS, HAZARDS, Trip_Haz                            |
|             | length           | only with --map length=COLUMN, as for pavement                          |
| ramp        | street_name      | Street, STREETNAME, ST_NAME, LOCATION, Intersection                     |
|             | condition        | Condition, COND, RAMP_COND, Rating                                      |
|             | source_id        | RAMP_ID, RampID                                                        |
| streetlight | pole_id          | PoleID, POLE_ID, POLE_NO, PoleNumber, LIGHT_ID, ASSET_ID                |
|             | street_name      | StreetName, Street, ST_NAME, STREETNAME, Location                       |
|             | fixture          | Fixture, FIXTURE_TYPE, HeadType, Description                            |
|             | lamp_type        | LampType, LAMP_TYPE, Lamp, LightType, LIGHT_TYPE, LampSource            |
|             | wattage          | Wattage, WATTS, Watt, LAMP_WATTS                                       |
|             | owner            | Owner, OWNERSHIP, OWNED_BY, Owned                                      |
|             | status           | Status, LIGHT_STATUS, STATE, Working                                   |
|             | source_id        | PoleID, POLE_ID                                                        |
| district    | name             | Name, DISTRICT_NAME, DIST_NAME, District, Neighborhood, Label          |
|             | code             | Code, N_HOOD, DISTRICT_ID, DIST_NUM, District_No, Number               |
|             | population       | Population, POP, TOTPOP, POP2020                                       |
|             | name_es          | name_es, NAME_ES, Nombre, NOMBRE (the Spanish name; optional)          |
| tract       | geoid            | GEOID, GEOID20, GEOID10, GEO_ID                                         |
|             | name             | NAMELSAD, NAME, NAME20, NAME10, NAMELSAD20, NAMELSAD10                 |
|             | population       | Population, POP, TOTPOP, TOTAL_POP, P1_001N                            |
|             | poverty_rate     | POVERTY_RATE, PovertyRate, Poverty, PCT_POVERTY, PCT_POV, POV_RATE, PovPct |
|             | source_id        | GEOID, GEOID20, GEOID10                                                |
| address     | full_address     | Full_Addr, FULLADDR, FullAddress, FULL_ADDRESS, ADDRESS_FULL, SITE_ADDR, |
|             |                  | SITEADDR, SITE_ADDRESS, Address, ADDR                                  |
|             | house_number     | Add_Number, ADDNUM, ADDR_NUM, ADDRNUM, ADDRESS_NUMBER, AddressNumber,  |
|             |                  | StNum, ST_NUM, StNm (Cambridge: street *number*), HOUSE_NUM, HOUSENUM,  |
|             |                  | HOUSE_NUMBER, Number, NUM                                              |
|             | number_prefix    | AddNum_Pre, ADD_NUM_PRE                                                |
|             | number_suffix    | AddNum_Suf, ADDRNUMSUF, ADDNUMSUF, ADD_NUM_SUF, HOUSE_SUF               |
|             | street_name      | FULL_STREET, FULLSTREET, FULL_ST_NAME, FULLNAME, STREET_NAME,          |
|             |                  | STREETNAME, StName, Street, St_Name, STNAME                            |
|             | street_predir    | St_PreDir, PREDIR, PRE_DIR, PREFIX_DIR, ST_PREFIX                       |
|             | street_pretype   | St_PreTyp, PRETYPE, PRE_TYPE                                           |
|             | street_type      | St_PosTyp, ST_TYPE, STREET_TYPE, STTYPE, SUFTYPE, POSTTYPE, ST_SUFFIX,  |
|             |                  | StreetType                                                             |
|             | street_postdir   | St_PosDir, POSTDIR, POST_DIR, SUFDIR, SUFFIX_DIR                       |
|             | unit_type        | UNITTYPE, UNIT_TYPE, UNIT_DESIG                                        |
|             | unit             | Unit, UNIT_NUM, UNITNUM, UNITID, UNIT_ID, UnitNumber, Apt, Suite       |
|             | zip_code         | Post_Code, ZIP, ZIPCODE, ZIP_CODE, ZIP5, POSTCODE, POSTAL_CODE, PostalCode |
|             | source_id        | address_id, ADDRESSID, ADDR_ID, AddressPtID, Site_NGUID                |

Values are normalized (see the ``_read_*`` functions): functional class to arterial,
collector or local (AR/CO/RT/RE codes, FHWA classes 1–7, words); owner to city, utility or
other; status to working, out or reported; sidewalk and ramp condition to excellent, good,
fair or poor (also E/G/F/P); lamp type to LED, HPS, MH, LPS, MV, INC, CFL, IND, FL; poverty
rate to 0..1 (a percent is divided by 100). Widths are converted to metres. A ZIP read as a
number gets its leading zeros back. Address parts (NENA NG9-1-1 names, e.g. St_PreDir St_Name
St_PosTyp) are joined into the street name and, when there is no full address, into one
(``app.importers.addresses``); an address point with no address at all is rejected.

A number that cannot be read or is out of range (PCI 140, "abc") rejects the row, naming the
field; a category that is not recognized is kept empty (or the kind's default) with a warning.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from app.spreadsheet import restored_cell
from models.layers import LayerKind

STREET = ("Street", "STREETNAME", "ST_NAME", "STREET_NAME", "FULLNAME", "Label", "Name")
WIDTH = ("Width", "WIDTH_FT", "WIDTH_M", "PavementWi", "PAVEMENT_WIDTH", "PAVE_WIDTH", "PAVEWIDTH", "ST_WIDTH")
GENERIC_IDS = ("ID", "OBJECTID", "FID", "GlobalID")
# Groundwork's own exports (/data, `groundwork export`): its columns by name, the stable key in
# ``source_id`` (``id`` is only Groundwork's row number), the source's columns as ``src_<name>``.
OWN_KEY = "source_id"
OWN_SOURCE_PREFIX = "src_"
_OWN_COLUMN = {"width": "width_m"}


class ValueProblem(ValueError):
    """A value that rejects its row."""


class ValueWarning(ValueError):
    """A value that could not be recognized; the field is left at its default."""


def _number(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueProblem(f"{value!r} is not a number")
    if isinstance(value, int | float):
        if isinstance(value, float) and math.isinf(value):
            raise ValueProblem(f"{value!r} is not a number")
        return None if math.isnan(value) else float(value)
    text = str(value).strip().replace(",", "")
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        raise ValueProblem(f"{str(value)[:40]!r} is not a number") from None
    if math.isnan(number) or math.isinf(number):
        raise ValueProblem(f"{str(value)[:40]!r} is not a number")
    return number


def _read_pci(value: Any) -> float | None:
    pci = _number(value)
    if pci is not None and not 0 <= pci <= 100:
        raise ValueProblem(f"PCI must be between 0 and 100, not {pci:g}")
    return pci


def _read_positive(value: Any) -> float | None:
    number = _number(value)
    if number is not None and number < 0:
        raise ValueProblem(f"must not be negative, not {number:g}")
    return number or None  # a width of 0 means "not measured"


def _read_length(value: Any) -> float | None:
    """A surveyed length: a number above zero (blank: not surveyed, the geometry's length is used)."""
    number = _number(value)
    if number is not None and number <= 0:
        raise ValueProblem(f"a length must be more than 0, not {number:g}")
    return number


def _read_count(value: Any) -> int | None:
    number = _number(value)
    if number is None:
        return None
    if number < 0 or number != int(number):
        raise ValueProblem(f"must be a whole number, not {number:g}")
    return int(number)


def _read_text(limit: int) -> Callable[[Any], str | None]:
    def read(value: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, float):
            if math.isnan(value):
                return None
            if value == int(value):
                value = int(value)
        text = str(value).strip()
        return text[:limit] or None

    return read


_CLASS_WORDS = (("arter", "arterial"), ("highway", "arterial"), ("freeway", "arterial"), ("interstate", "arterial"),
                ("expressway", "arterial"), ("collect", "collector"), ("local", "local"), ("resid", "local"),
                ("dead end", "local"), ("alley", "local"), ("cul-de-sac", "local"))
_CLASS_CODES = {"a": "arterial", "ar": "arterial", "art": "arterial", "pa": "arterial", "ma": "arterial",
                "c": "collector", "co": "collector", "col": "collector", "mc": "collector",
                "l": "local", "lo": "local", "loc": "local", "rt": "local", "re": "local", "r": "local",
                # FHWA functional classification (HPMS F_SYSTEM)
                "1": "arterial", "2": "arterial", "3": "arterial", "4": "arterial",
                "5": "collector", "6": "collector", "7": "local"}


def _read_functional_class(value: Any) -> str | None:
    text = _read_text(80)(value)
    if text is None:
        return None
    lowered = text.lower()
    for word, found in _CLASS_WORDS:
        if word in lowered:
            return found
    code = re.split(r"\s*-\s*|\s+", lowered)[0]
    if code in _CLASS_CODES:
        return _CLASS_CODES[code]
    raise ValueWarning(f"functional class {text!r} is not recognized; stored as local")


_OWNERS = (("city", "city"), ("town", "city"), ("municipal", "city"), ("county", "city"), ("public works", "city"),
           ("utility", "utility"), ("power", "utility"), ("electric", "utility"), ("energy", "utility"),
           ("eversource", "utility"), ("nstar", "utility"), ("duke", "utility"), ("leased", "utility"),
           ("private", "other"), ("state", "other"), ("dcr", "other"), ("university", "other"), ("other", "other"))


def _read_owner(value: Any) -> str | None:
    text = _read_text(80)(value)
    if text is None:
        return None
    lowered = text.lower()
    for word, found in _OWNERS:
        if word in lowered:
            return found
    return "other"


_STATUSES = {"working": "working", "on": "working", "ok": "working", "active": "working", "good": "working",
             "functional": "working", "in service": "working", "yes": "working",
             "out": "out", "off": "out", "dark": "out", "not working": "out", "outage": "out", "broken": "out",
             "no": "out", "out of service": "out", "reported": "reported", "pending": "reported", "open": "reported"}


def _read_status(value: Any) -> str | None:
    text = _read_text(80)(value)
    if text is None:
        return None
    if text.lower() in _STATUSES:
        return _STATUSES[text.lower()]
    raise ValueWarning(f"status {text!r} is not recognized; stored as working")


_CONDITIONS = {"excellent": "excellent", "e": "excellent", "very good": "excellent", "new": "excellent",
               "good": "good", "g": "good", "fair": "fair", "f": "fair", "satisfactory": "fair",
               "poor": "poor", "p": "poor", "bad": "poor", "very poor": "poor", "failed": "poor",
               "1": "excellent", "2": "good", "3": "fair", "4": "poor"}


def _read_condition(value: Any) -> str | None:
    text = _read_text(40)(value)
    if text is None:
        return None
    found = _CONDITIONS.get(text.lower())
    if found is None:
        raise ValueWarning(f"condition {text!r} is not recognized (excellent, good, fair or poor); left empty")
    return found


_LAMPS = (("led", "LED"), ("light emitting", "LED"), ("high pressure sodium", "HPS"), ("hps", "HPS"),
          ("low pressure sodium", "LPS"), ("lps", "LPS"), ("metal halide", "MH"), ("mh", "MH"),
          ("mercury", "MV"), ("mv", "MV"), ("incandescent", "INC"), ("inc", "INC"), ("cfl", "CFL"),
          ("compact fluorescent", "CFL"), ("induction", "IND"), ("fluorescent", "FL"), ("sodium", "HPS"))


def _read_lamp_type(value: Any) -> str | None:
    text = _read_text(80)(value)
    if text is None:
        return None
    lowered = text.lower()
    for word, found in _LAMPS:
        if re.search(rf"\b{re.escape(word)}\b", lowered):
            return found
    return text.upper()[:20]


def _read_poverty_rate(value: Any) -> float | None:
    if isinstance(value, str) and value.strip().endswith("%"):
        number = _number(value.strip()[:-1])
        return None if number is None else _share(number / 100)
    number = _number(value)
    if number is None:
        return None
    return _share(number / 100 if number > 1 else number)


def _share(rate: float) -> float:
    if not 0 <= rate <= 1:
        raise ValueProblem(f"a poverty rate must be a share (0–1) or a percent (0–100), not {rate:g}")
    return rate


def _read_zip(value: Any) -> str | None:
    """A ZIP read as a number (2139.0) gets its leading zeros back (02139); ZIP+4 and other postcodes stay text."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if isinstance(value, float) and (math.isnan(value) or value != int(value)):
            return None if math.isnan(value) else str(value)
        return f"{int(value):05d}" if 0 < value < 100_000 else str(int(value))
    return _read_text(20)(value)


def _read_bool(value: Any) -> bool | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip().lower()
    if text in ("1", "true", "t", "yes", "y", "gap", "missing"):
        return True
    if text in ("0", "false", "f", "no", "n", ""):
        return False
    raise ValueWarning(f"{str(value)[:40]!r} is not yes or no; read as no")


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y", "%Y/%m/%d", "%d.%m.%Y", "%Y")


def _read_date(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if math.isnan(value):
            return None
        if value > 1e11:  # ArcGIS dates: milliseconds since 1970
            return datetime.utcfromtimestamp(value / 1000).date()
    text = str(value).strip()
    if not text:
        return None
    iso = _ISO_DATE.match(text)
    head = text[:10] if iso else text
    if iso:  # the common case, without strptime's cost
        try:
            return date.fromisoformat(head)
        except ValueError:
            pass
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(head, pattern).date()
        except ValueError:
            continue
    raise ValueWarning(f"{text[:40]!r} is not a date; left empty")


@dataclass(frozen=True)
class FieldSpec:
    name: str
    columns: tuple[str, ...]
    read: Callable[[Any], Any]
    default: Any = None


FIELDS: dict[LayerKind, tuple[FieldSpec, ...]] = {
    LayerKind.pavement: (
        FieldSpec("street_name", STREET, _read_text(200)),
        FieldSpec("from_street", ("From", "From1", "FROM_ST", "FROMSTREET", "FROM_STREET", "BEGIN_DESC"),
                  _read_text(200)),
        FieldSpec("to_street", ("To", "To1", "TO_ST", "TOSTREET", "TO_STREET", "END_DESC"), _read_text(200)),
        FieldSpec("functional_class", ("FUNC_CLASS", "FUNCCLASS", "Functional", "FunctionalClass", "FCLASS",
                                       "F_SYSTEM", "ROAD_CLASS", "CLASS"), _read_functional_class, "local"),
        FieldSpec("width", WIDTH, _read_positive),
        FieldSpec("lanes", ("Lanes", "NUM_LANES", "LANE_COUNT", "NUMLANES"), _read_count),
        FieldSpec("pci", ("PCI", "OCI", r"PCI_?\d{4}", r"OCI_?\d{4}", "PCI_SCORE", "Condition", "COND"), _read_pci),
        FieldSpec("survey_date", ("SURVEY_DATE", "SurveyDate", "Inspection", "INSP_DATE", "InspectionDate",
                                  "SURVEYED"), _read_date),
        FieldSpec("length", (), _read_length),  # only with --map length=COLUMN (app.importers.lengths)
    ),
    LayerKind.sidewalk: (
        FieldSpec("street_name", ("Street", "STREETNAME", "ST_NAME", "STREET_NAME", "FULLNAME", "Location", "Name"),
                  _read_text(200)),
        FieldSpec("side", ("Side", "SIDE_OF_STREET", "STREET_SIDE"), _read_text(20)),
        FieldSpec("width", ("Width", "SW_WIDTH", "WIDTH_FT", "WIDTH_M"), _read_positive),
        FieldSpec("condition", ("Condition", "COND", "CONDITION_RATING", "Rating", "SW_COND"), _read_condition),
        FieldSpec("is_gap", ("Gap", "IS_GAP", "Missing"), _read_bool, False),
        FieldSpec("trip_hazards", ("TripHazards", "TRIP_HAZARDS", "HAZARDS", "Trip_Haz"), _read_count, 0),
        FieldSpec("length", (), _read_length),
    ),
    LayerKind.ramp: (
        FieldSpec("street_name", ("Street", "STREETNAME", "ST_NAME", "LOCATION", "Intersection"), _read_text(200)),
        FieldSpec("condition", ("Condition", "COND", "RAMP_COND", "Rating"), _read_condition),
    ),
    LayerKind.streetlight: (
        FieldSpec("pole_id", ("PoleID", "POLE_ID", "POLE_NO", "PoleNumber", "LIGHT_ID", "ASSET_ID"), _read_text(80)),
        FieldSpec("street_name", ("StreetName", "Street", "ST_NAME", "STREETNAME", "Location"), _read_text(200)),
        FieldSpec("fixture", ("Fixture", "FIXTURE_TYPE", "HeadType", "Description"), _read_text(80)),
        FieldSpec("lamp_type", ("LampType", "LAMP_TYPE", "Lamp", "LightType", "LIGHT_TYPE", "LampSource"),
                  _read_lamp_type),
        FieldSpec("wattage", ("Wattage", "WATTS", "Watt", "LAMP_WATTS"), _read_count),
        FieldSpec("owner", ("Owner", "OWNERSHIP", "OWNED_BY", "Owned"), _read_owner),
        FieldSpec("status", ("Status", "LIGHT_STATUS", "STATE", "Working"), _read_status, "working"),
    ),
    LayerKind.district: (
        FieldSpec("name", ("Name", "DISTRICT_NAME", "DIST_NAME", "District", "Neighborhood", "Label"),
                  _read_text(200)),
        FieldSpec("code", ("Code", "N_HOOD", "DISTRICT_ID", "DIST_NUM", "District_No", "Number"), _read_text(40)),
        FieldSpec("population", ("Population", "POP", "TOTPOP", "POP2020"), _read_count),
        FieldSpec("name_es", ("name_es", "NAME_ES", "Nombre", "NOMBRE"), _read_text(200)),
    ),
    LayerKind.tract: (
        FieldSpec("geoid", ("GEOID", "GEOID20", "GEOID10", "GEO_ID"), _read_text(20)),
        FieldSpec("name", ("NAMELSAD", "NAME", "NAME20", "NAME10", "NAMELSAD20", "NAMELSAD10"), _read_text(200)),
        FieldSpec("population", ("Population", "POP", "TOTPOP", "TOTAL_POP", "P1_001N"), _read_count),
        FieldSpec("poverty_rate", ("POVERTY_RATE", "PovertyRate", "Poverty", "PCT_POVERTY", "PCT_POV", "POV_RATE",
                                   "PovPct"), _read_poverty_rate),
    ),
    LayerKind.address: (
        FieldSpec("full_address", ("Full_Addr", "FULLADDR", "FullAddress", "FULL_ADDRESS", "ADDRESS_FULL", "SITE_ADDR",
                                   "SITEADDR", "SITE_ADDRESS", "Address", "ADDR"), _read_text(300)),
        FieldSpec("house_number", ("Add_Number", "ADDNUM", "ADDR_NUM", "ADDRNUM", "ADDRESS_NUMBER", "AddressNumber",
                                   "StNum", "ST_NUM", "StNm", "HOUSE_NUM", "HOUSENUM", "HOUSE_NUMBER", "Number",
                                   "NUM"), _read_text(30)),
        FieldSpec("number_prefix", ("AddNum_Pre", "ADD_NUM_PRE"), _read_text(10)),
        FieldSpec("number_suffix", ("AddNum_Suf", "ADDRNUMSUF", "ADDNUMSUF", "ADD_NUM_SUF", "HOUSE_SUF"),
                  _read_text(10)),
        FieldSpec("street_name", ("FULL_STREET", "FULLSTREET", "FULL_ST_NAME", "FULLNAME", "STREET_NAME", "STREETNAME",
                                  "StName", "Street", "St_Name", "STNAME"), _read_text(200)),
        FieldSpec("street_predir", ("St_PreDir", "PREDIR", "PRE_DIR", "PREFIX_DIR", "ST_PREFIX"), _read_text(20)),
        FieldSpec("street_pretype", ("St_PreTyp", "PRETYPE", "PRE_TYPE"), _read_text(40)),
        FieldSpec("street_type", ("St_PosTyp", "ST_TYPE", "STREET_TYPE", "STTYPE", "SUFTYPE", "POSTTYPE", "ST_SUFFIX",
                                  "StreetType"), _read_text(40)),
        FieldSpec("street_postdir", ("St_PosDir", "POSTDIR", "POST_DIR", "SUFDIR", "SUFFIX_DIR"), _read_text(20)),
        FieldSpec("unit_type", ("UNITTYPE", "UNIT_TYPE", "UNIT_DESIG"), _read_text(20)),
        FieldSpec("unit", ("Unit", "UNIT_NUM", "UNITNUM", "UNITID", "UNIT_ID", "UnitNumber", "Apt", "Suite"),
                  _read_text(40)),
        FieldSpec("zip_code", ("Post_Code", "ZIP", "ZIPCODE", "ZIP_CODE", "ZIP5", "POSTCODE", "POSTAL_CODE",
                               "PostalCode"), _read_zip),
    ),
}

SOURCE_IDS: dict[LayerKind, tuple[str, ...]] = {
    LayerKind.pavement: ("SEGMENT_ID", "SEG_ID", "SegmentID"),
    LayerKind.ramp: ("RAMP_ID", "RampID"),
    LayerKind.streetlight: ("PoleID", "POLE_ID"),
    LayerKind.tract: ("GEOID", "GEOID20", "GEOID10"),
    LayerKind.address: ("address_id", "ADDRESSID", "ADDR_ID", "AddressPtID", "Site_NGUID"),
}


def field_names(kind: LayerKind) -> list[str]:
    return [spec.name for spec in FIELDS[kind]] + ["source_id"]


def _find(columns: list[str], candidates: tuple[str, ...]) -> str | None:
    by_lower = {c.lower(): c for c in columns}
    for candidate in candidates:
        if candidate.lower() in by_lower:
            return by_lower[candidate.lower()]
        if "\\" in candidate:
            matches = sorted(c for c in columns if re.fullmatch(candidate, c, flags=re.IGNORECASE))
            if matches:
                return matches[-1]  # the latest survey year
    return None


def detect_mapping(kind: LayerKind, columns: list[str], overrides: dict[str, str] | None = None) -> dict[str, str]:
    """Field → column for this kind: the overrides, then the detected names. Raises ValueError for an
    override naming an unknown field or a column the source does not have."""
    overrides = overrides or {}
    known = field_names(kind)
    for name, column in overrides.items():
        if name not in known:
            raise ValueError(f"--map {name}={column}: {kind.value} has no field {name!r}; "
                             f"its fields are {', '.join(known)}")
        if column and column not in columns:
            raise ValueError(f"--map {name}={column}: the source has no column {column!r}; "
                             f"its columns are {', '.join(columns) or '(none)'}")
    mapping: dict[str, str] = {}
    if is_own_export(columns):
        candidates = {spec.name: (_OWN_COLUMN.get(spec.name, spec.name), *spec.columns) for spec in FIELDS[kind]}
        candidates["source_id"] = (OWN_KEY,)
    else:
        candidates = {spec.name: spec.columns for spec in FIELDS[kind]}
        candidates["source_id"] = SOURCE_IDS.get(kind, ()) + GENERIC_IDS
    for name, names in candidates.items():
        found = overrides[name] if name in overrides else _find(columns, names)
        if found:
            mapping[name] = found
    return mapping


def is_own_export(columns: list[str]) -> bool:
    """A file Groundwork wrote: its own ``id`` and ``source_id`` columns side by side."""
    return "id" in columns and OWN_KEY in columns


def own_attributes(row: dict[str, Any], *, from_text: bool = False) -> dict[str, Any]:
    """The source's own columns of a row of Groundwork's export, under their original names (a CSV
    export's formula guard, a leading apostrophe, taken off again). ``from_text``: the values are a
    CSV's text, so ``true``/``false`` and numbers written the way the export writes them are read back
    as booleans and numbers."""
    attributes = {}
    for column, value in row.items():
        if column.startswith(OWN_SOURCE_PREFIX):
            value = restored_cell(value)
            attributes[column[len(OWN_SOURCE_PREFIX):]] = _typed(value) if from_text else value
    return attributes


def own_column(values: list[Any], *, from_text: bool = False) -> list[Any]:
    """``own_attributes`` of one ``src_`` column's values, all at once."""
    restored = [restored_cell(value) for value in values]
    return [_typed(value) for value in restored] if from_text else restored


_INTEGER = re.compile(r"-?(0|[1-9][0-9]*)")


def _typed(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if value in ("true", "false"):
        return value == "true"
    if _INTEGER.fullmatch(value):
        return int(value)
    try:
        number = float(value)
    except ValueError:
        return value
    return number if repr(number) == value else value


def width_unit_from_name(column: str) -> str | None:
    """``WIDTH_FT`` says feet, ``WIDTH_M`` metres; None when the name does not say."""
    lowered = column.lower()
    if re.search(r"(_|\b)(ft|feet|foot)$", lowered):
        return "feet"
    if re.search(r"(_|\b)(m|metres|meters)$", lowered):
        return "metres"
    return None


def specs(kind: LayerKind) -> tuple[FieldSpec, ...]:
    return FIELDS[kind]


def parse_pairs(values: list[str], option: str) -> dict[str, str]:
    """``["pci=OCI", "width=PAVE_W"]`` → ``{"pci": "OCI", "width": "PAVE_W"}``; ValueError when malformed."""
    pairs: dict[str, str] = {}
    for value in values:
        if not value.strip():
            continue
        name, sep, column = value.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"{option} {value.strip()!r}: write it as FIELD=VALUE, e.g. {option} pci=OCI.")
        pairs[name.strip()] = column.strip()
    return pairs
