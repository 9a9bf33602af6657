"""The map's boundaries as TopoJSON: the same rings as the ONS GeoJSON, borders stored once."""

from __future__ import annotations

import json

import pytest

from core import map_chart, topology


def _square(x: int, y: int) -> list[list[float]]:
    """A unit square (in grid steps of 0.0001°) with its corner at (x, y), closed."""
    pts = [(x, y), (x + 1, y), (x + 1, y + 1), (x, y + 1), (x, y)]
    return [[px / 10_000, py / 10_000] for px, py in pts]


def _collection(*polys: list[list[list[float]]]) -> dict:
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"icb_code": f"Q{i}"},
         "geometry": {"type": "Polygon", "coordinates": p}} for i, p in enumerate(polys)]}


def _cyclic(ring: list[list[float]]) -> list[tuple[int, int]]:
    """A closed ring as grid points, open, started at its smallest point."""
    pts = [(round(x * 10_000), round(y * 10_000)) for x, y in ring]
    assert pts[0] == pts[-1]
    pts = pts[:-1]
    i = pts.index(min(pts))
    return pts[i:] + pts[:i]


def test_two_neighbours_share_their_border():
    topo = topology.to_topology(_collection([_square(0, 0)], [_square(1, 0)]), "icbs")
    # The shared edge once, and each square's other three edges: three arcs, not four rings.
    assert len(topo["arcs"]) == 3
    a, b = (g["arcs"][0] for g in topo["objects"]["icbs"]["geometries"])
    assert set(a) & {~i for i in b}, "the second square reads the shared arc backwards"
    back = topology.rings_of(topo, "icbs")
    assert [_cyclic(poly[0]) for polys in back for poly in polys] == [
        _cyclic(_square(0, 0)), _cyclic(_square(1, 0))]
    assert [g["properties"] for g in topo["objects"]["icbs"]["geometries"]] == [
        {"icb_code": "Q0"}, {"icb_code": "Q1"}]


def test_an_island_and_repeated_vertices():
    ring = _square(5, 5)
    ring.insert(1, ring[0])  # a vertex twice in a row: dropped, nothing else changes
    topo = topology.to_topology(_collection([ring]), "icbs")
    assert len(topo["arcs"]) == 1
    assert [_cyclic(r) for r in topology.rings_of(topo, "icbs")[0][0]] == [
        _cyclic(_square(5, 5))]


@pytest.mark.parametrize("b", ["2022", "2026"])
def test_the_ons_boundaries_come_back_vertex_for_vertex(b):
    source = map_chart.shapes(b)
    topo = json.loads(map_chart.geometry(b))
    back = topology.rings_of(topo, "icbs")
    assert len(back) == len(source["features"])
    for feature, polys in zip(source["features"], back, strict=True):
        g = feature["geometry"]
        want = g["coordinates"] if g["type"] == "MultiPolygon" else [g["coordinates"]]
        assert [[_cyclic(r) for r in p] for p in polys] == [[_cyclic(r) for r in p]
                                                            for p in want]
    assert [g["properties"] for g in topo["objects"]["icbs"]["geometries"]] == [
        f["properties"] for f in source["features"]]
    # Every border once: well under half the GeoJSON's size.
    assert len(map_chart.geometry(b)) < 0.5 * len(json.dumps(source, separators=(",", ":")))


def test_a_vertex_off_the_grid_is_refused_not_moved():
    ring = _square(0, 0)
    ring[1] = [ring[1][0] + 0.00003, ring[1][1]]
    with pytest.raises(ValueError, match="not on the 0.0001° grid"):
        topology.to_topology(_collection([ring]), "icbs")


def test_no_features_make_an_empty_topology():
    topo = topology.to_topology({"type": "FeatureCollection", "features": []}, "icbs")
    assert topo["arcs"] == [] and topo["objects"]["icbs"]["geometries"] == []
