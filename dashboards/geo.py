"""Synthetic grid and street shapes for the warning map, derived from ingestion/reference/grids.csv.

The district's real grid boundaries are not open data; grids.csv holds each grid's centre
(an assumption itself, see dbt/README.md). The map therefore draws **synthetic** shapes (示意网格):
each grid is the part of the plane nearer its centre than any other grid's centre (a Voronoi
cell), cut to at most ``RADIUS_METRES`` around the centre so the district's edge grids do not
sprawl; a street is the union of its grids' cells (a MultiPolygon). The same CSV gives the
same file, byte for byte: ``python -m dashboards.geo`` rewrites ``dashboards/geo/``, and a unit
test fails when the committed file is stale. Every feature carries ``synthetic: true``.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GRIDS_CSV = REPO / "ingestion" / "reference" / "grids.csv"
STREETS_CSV = REPO / "ingestion" / "reference" / "streets.csv"
GEOJSON = Path(__file__).resolve().parent / "geo" / "jingan_areas_synthetic.geojson"

# Half the typical spacing of neighbouring grid centres in grids.csv (≈ 250–450 m) plus a
# margin: cells of inner grids are bounded by their neighbours long before this.
RADIUS_METRES = 650.0
# A 24-gon approximates the circle a lone cell is cut to.
CIRCLE_SIDES = 24
METRES_PER_DEGREE = 111_320.0
DECIMALS = 5  # ≈ 1 m, plenty for a schematic map


@dataclass(frozen=True)
class Grid:
    """One grid's identity and centre from grids.csv."""

    grid_code: str
    grid_name: str
    street_code: str
    longitude: float
    latitude: float


def read_grids(path: Path = GRIDS_CSV) -> list[Grid]:
    """The grids of the reference list, in file order."""
    with path.open(encoding="utf-8", newline="") as handle:
        return [
            Grid(
                row["grid_code"],
                row["grid_name"],
                row["street_code"],
                float(row["center_lng"]),
                float(row["center_lat"]),
            )
            for row in csv.DictReader(handle)
        ]


def read_street_names(path: Path = STREETS_CSV) -> dict[str, str]:
    """Street code → Chinese name."""
    with path.open(encoding="utf-8", newline="") as handle:
        return {row["street_code"]: row["street_name"] for row in csv.DictReader(handle)}


Point = tuple[float, float]


def _clip(polygon: list[Point], origin: Point, normal: Point, offset: float) -> list[Point]:
    """Keep the part of a convex polygon where ``(p - origin)·normal <= offset``."""

    def side(point: Point) -> float:
        return (point[0] - origin[0]) * normal[0] + (point[1] - origin[1]) * normal[1] - offset

    kept: list[Point] = []
    for index, current in enumerate(polygon):
        previous = polygon[index - 1]
        current_side, previous_side = side(current), side(previous)
        if (current_side <= 0) != (previous_side <= 0):
            ratio = previous_side / (previous_side - current_side)
            kept.append(
                (
                    previous[0] + ratio * (current[0] - previous[0]),
                    previous[1] + ratio * (current[1] - previous[1]),
                )
            )
        if current_side <= 0:
            kept.append(current)
    return kept


def grid_cells(grids: list[Grid]) -> dict[str, list[list[float]]]:
    """Grid code → closed ring ``[[lng, lat], …]`` of its synthetic cell."""
    latitude0 = sum(grid.latitude for grid in grids) / len(grids)
    scale = math.cos(math.radians(latitude0))  # local metres: x = lng·cos φ0, y = lat
    points = {
        grid.grid_code: (
            grid.longitude * scale * METRES_PER_DEGREE,
            grid.latitude * METRES_PER_DEGREE,
        )
        for grid in grids
    }
    cells: dict[str, list[list[float]]] = {}
    for grid in grids:
        x0, y0 = points[grid.grid_code]
        polygon = [
            (
                x0 + RADIUS_METRES * math.cos(2 * math.pi * k / CIRCLE_SIDES),
                y0 + RADIUS_METRES * math.sin(2 * math.pi * k / CIRCLE_SIDES),
            )
            for k in range(CIRCLE_SIDES)
        ]
        for other in grids:
            if other.grid_code == grid.grid_code:
                continue
            x1, y1 = points[other.grid_code]
            normal = (x1 - x0, y1 - y0)
            # The perpendicular bisector: points nearer this centre than the other one.
            offset = (normal[0] ** 2 + normal[1] ** 2) / 2
            polygon = _clip(polygon, (x0, y0), normal, offset)
        ring = [
            [
                round(x / scale / METRES_PER_DEGREE, DECIMALS),
                round(y / METRES_PER_DEGREE, DECIMALS),
            ]
            for x, y in polygon
        ]
        cells[grid.grid_code] = [*ring, ring[0]]
    return cells


def feature_collection(grids: list[Grid], street_names: dict[str, str]) -> dict:
    """The GeoJSON FeatureCollection: one feature per street, then one per grid."""
    cells = grid_cells(grids)
    features = []
    for street_code, street_name in street_names.items():
        rings = [[cells[grid.grid_code]] for grid in grids if grid.street_code == street_code]
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "area_level": "street",
                    "area_code": street_code,
                    "name": street_name,
                    "street_code": street_code,
                    "synthetic": True,
                },
                "geometry": {"type": "MultiPolygon", "coordinates": rings},
            }
        )
    for grid in grids:
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "area_level": "grid",
                    "area_code": grid.grid_code,
                    "name": grid.grid_name,
                    "street_code": grid.street_code,
                    "synthetic": True,
                },
                "geometry": {"type": "Polygon", "coordinates": [cells[grid.grid_code]]},
            }
        )
    return {
        "type": "FeatureCollection",
        "name": "静安区街镇与城运网格（示意形状，非真实边界）synthetic shapes",
        "features": features,
    }


def render() -> str:
    """The GeoJSON text as committed: one feature per line, so diffs stay readable."""
    collection = feature_collection(read_grids(), read_street_names())
    lines = [
        json.dumps(feature, ensure_ascii=False, separators=(",", ":"))
        for feature in collection["features"]
    ]
    head = json.dumps({"type": collection["type"], "name": collection["name"]}, ensure_ascii=False)
    return head[:-1] + ',"features":[\n' + ",\n".join(lines) + "\n]}\n"


def load(path: Path = GEOJSON) -> list[dict]:
    """The committed features."""
    return json.loads(path.read_text(encoding="utf-8"))["features"]


if __name__ == "__main__":  # python -m dashboards.geo
    GEOJSON.parent.mkdir(parents=True, exist_ok=True)
    GEOJSON.write_text(render(), encoding="utf-8")
    print(f"wrote {GEOJSON}")
