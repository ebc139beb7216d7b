"""JSON API for the address search residents use on the map (/api/v1/addresses).

Public and read-only, like the address layer itself in /ogc and /data: what a city's own site or a
311 app needs to turn "12 Main St" into a point and a district.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from app.deps import SessionDep
from app.layers import addresses

router = APIRouter(prefix="/api/v1", tags=["addresses"])


class AddressSearchOut(BaseModel):
    query: str
    matches: list[addresses.AddressMatch]


@router.get("/addresses", response_model=AddressSearchOut)
def search_addresses(session: SessionDep,
                     q: Annotated[str, Query(min_length=1, max_length=200,
                                             description="The start of an address, house number first: "
                                                         "12 Main St, 12 main street apt 2")],
                     limit: Annotated[int, Query(ge=1, le=addresses.MAX_MATCHES)] = addresses.MAX_MATCHES,
                     ) -> AddressSearchOut:
    """Address points whose address starts with `q` (case, accents, St/Street, Ave/Avenue and
    Apt/#/Unit spellings folded), in address order. Fewer than two characters match nothing."""
    found = addresses.find_addresses(session=session, query=q, limit=limit)
    # 7 decimals: about a centimetre, without the reprojection noise
    return AddressSearchOut(query=q, matches=[replace(m, lon=round(m.lon, 7), lat=round(m.lat, 7)) for m in found])
