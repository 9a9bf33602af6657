"""GeoJSON polygons as TopoJSON: each border between two ICBs stored once, as whole-number
steps on the grid the boundaries are already snapped to.

The map sends its boundaries with every view of a new ICB geography or option (Streamlit
re-sends the spec). As GeoJSON the April 2026 ICBs are 342 KB, every shared border twice and
every vertex as two decimals; as TopoJSON they are about a third of that, with the same
vertices. Vega-Lite reads TopoJSON natively (``format: {"type": "topojson"}``).

Nothing is simplified: decoding gives back every ring's vertices in the same order (starting
at another vertex of the ring), so areas and winding are unchanged. Only repeated
consecutive vertices are dropped, and a vertex off the grid is refused rather than moved.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

Point = tuple[int, int]


def _rings(geometry: dict[str, Any]) -> list[list[list[Point]]]:
    """The geometry's polygons, each a list of rings of grid points (open: last != first)."""
    polys = (geometry["coordinates"] if geometry["type"] == "MultiPolygon"
             else [geometry["coordinates"]])
    out = []
    for poly in polys:
        rings = []
        for ring in poly:
            pts: list[Point] = []
            for x, y in ring:
                p = (round(x * _GRID), round(y * _GRID))
                if abs(p[0] - x * _GRID) > 1e-6 or abs(p[1] - y * _GRID) > 1e-6:
                    raise ValueError(f"({x}, {y}) is not on the 0.0001° grid: it would move")
                if not pts or pts[-1] != p:
                    pts.append(p)
            if len(pts) > 1 and pts[0] == pts[-1]:
                pts.pop()
            rings.append(pts)
        out.append(rings)
    return out


#: Grid steps per degree (the ONS files are snapped to 0.0001°).
_GRID = 10_000


def _junctions(rings: Iterable[list[Point]]) -> set[Point]:
    """Points where a border starts or ends: a point whose neighbours differ between the
    rings (or places in a ring) it occurs in."""
    seen: dict[Point, frozenset] = {}
    junctions: set[Point] = set()
    for ring in rings:
        n = len(ring)
        for i, p in enumerate(ring):
            pair = frozenset((ring[i - 1], ring[(i + 1) % n]))
            if seen.setdefault(p, pair) != pair:
                junctions.add(p)
    return junctions


def _canonical(ring: list[Point]) -> list[Point]:
    """A ring with no junction, started at its smallest point (so the same ring met twice,
    either way round, is found as one arc)."""
    i = ring.index(min(ring))
    return ring[i:] + ring[:i]


def to_topology(collection: dict[str, Any], name: str) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of (Multi)Polygons as a TopoJSON Topology whose one object
    ``name`` holds every feature, with its properties."""
    features = [(f["properties"], _rings(f["geometry"])) for f in collection["features"]]
    junctions = _junctions(r for _, polys in features for rings in polys for r in rings)
    arcs: list[list[Point]] = []
    index: dict[tuple[Point, ...], int] = {}

    def arc(points: list[Point]) -> int:
        key = tuple(points)
        if key in index:
            return index[key]
        if key[::-1] in index:
            return ~index[key[::-1]]
        index[key] = len(arcs)
        arcs.append(points)
        return index[key]

    def ring_arcs(ring: list[Point]) -> list[int]:
        cuts = [i for i, p in enumerate(ring) if p in junctions]
        if not cuts:
            closed = _canonical(ring)
            return [arc(closed + closed[:1])]
        ring = ring[cuts[0]:] + ring[:cuts[0]]
        cuts = [c - cuts[0] for c in cuts] + [len(ring)]
        ring = ring + ring[:1]
        return [arc(ring[a:b + 1]) for a, b in zip(cuts, cuts[1:], strict=False)]

    geometries = []
    for props, polys in features:
        parts = [[ring_arcs(r) for r in rings] for rings in polys]
        geometries.append({"type": "MultiPolygon", "arcs": parts, "properties": props}
                          if len(parts) > 1 else
                          {"type": "Polygon", "arcs": parts[0], "properties": props})
    x0 = min((x for a in arcs for x, _ in a), default=0)
    y0 = min((y for a in arcs for _, y in a), default=0)
    encoded = []
    for a in arcs:
        prev = (x0, y0)
        steps = []
        for x, y in a:
            steps.append([x - prev[0], y - prev[1]])
            prev = (x, y)
        encoded.append(steps)
    return {"type": "Topology",
            "transform": {"scale": [1 / _GRID, 1 / _GRID], "translate": [x0 / _GRID, y0 / _GRID]},
            "objects": {name: {"type": "GeometryCollection", "geometries": geometries}},
            "arcs": encoded}


def to_text(collection: dict[str, Any], name: str) -> str:
    """``to_topology`` as compact JSON text."""
    return json.dumps(to_topology(collection, name), separators=(",", ":"))


def rings_of(topology: dict[str, Any], name: str) -> list[list[list[list[float]]]]:
    """Each feature's polygons as rings of lon/lat points (closed), decoded as a TopoJSON
    reader does: for tests, and for checking a topology against its source."""
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    decoded = []
    for a in topology["arcs"]:
        x = y = 0
        pts = []
        for dx, dy in a:
            x, y = x + dx, y + dy
            pts.append((x, y))
        decoded.append(pts)

    def ring(ids: list[int]) -> list[list[float]]:
        pts: list[Point] = []
        for i in ids:
            part = decoded[i] if i >= 0 else decoded[~i][::-1]
            pts.extend(part if not pts else part[1:])
        return [[x * sx + tx, y * sy + ty] for x, y in pts]

    out = defaultdict(list)
    for k, g in enumerate(topology["objects"][name]["geometries"]):
        polys = g["arcs"] if g["type"] == "MultiPolygon" else [g["arcs"]]
        out[k] = [[ring(r) for r in poly] for poly in polys]
    return [out[k] for k in range(len(out))]
