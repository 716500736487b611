"""District outline, synthetic grid and street shapes, and their projection for the maps.

**The district outline is real**, at about 100 m resolution: 静安区 and its neighbours as
ECharts' map of Shanghai draws them (the PyPI package ``echarts-china-cities-pypkg`` 0.0.9,
MIT licence, file ``shanghai.js``). ``python -m dashboards.geo import-outline <shanghai.js>``
decodes it into ``geo/shanghai_districts.geojson`` (committed; the package is not a
dependency).

**The grid and street shapes are synthetic** (示意网格): the district's real grid boundaries
are not open data, and ``ingestion/reference/grids.csv`` holds only each grid's centre (an
assumption itself, see dbt/README.md). Each grid is the part of the district nearer its centre
than any other grid's centre (a Voronoi cell cut to the real outline); a street is the union
of its grids' cells. The same inputs give the same file, byte for byte:
``python -m dashboards.geo`` rewrites ``geo/jingan_areas_synthetic.geojson``, and a unit test
fails when the committed file is stale. Every area feature carries ``synthetic: true``.

:func:`svg_frame` projects longitude and latitude onto the overview map's SVG canvas
(equirectangular around the district's mean latitude, which is exact enough for 10 km).
"""

from __future__ import annotations

import csv
import json
import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import shapely
from shapely.geometry import MultiPolygon, Point, Polygon, mapping, shape
from shapely.ops import unary_union

REPO = Path(__file__).resolve().parents[1]
GRIDS_CSV = REPO / "ingestion" / "reference" / "grids.csv"
STREETS_CSV = REPO / "ingestion" / "reference" / "streets.csv"
GEO_DIR = Path(__file__).resolve().parent / "geo"
GEOJSON = GEO_DIR / "jingan_areas_synthetic.geojson"
DISTRICTS = GEO_DIR / "shanghai_districts.geojson"
DISTRICT_CODE = "310106"  # 静安区
# The neighbours drawn around the district for orientation, with the district itself.
OUTLINE_CODES = ("310106", "310101", "310104", "310105", "310107", "310109", "310113")
OUTLINE_SOURCE = (
    "echarts-china-cities-pypkg 0.0.9 (PyPI, MIT), shanghai.js; sha256 of the sdist "
    "11367c5872a05142fd12218770f2fd123cfcc558d4e9d07446e45bc5e1487f36"
)
METRES_PER_DEGREE = 111_320.0
DECIMALS = 5  # ≈ 1 m, plenty for a schematic map
SIMPLIFY_METRES = 15.0
OUTLINE_TOLERANCE_METRES = 200.0
# The overview map's canvas: the district's bounding box, scaled to this height in SVG units.
SVG_HEIGHT = 1000.0
SVG_MARGIN = 20.0


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


# -- the real outline -------------------------------------------------------------------------


def decode_echarts_ring(encoded: str, offset: list[int], scale: int = 1024) -> list[list[float]]:
    """One ring of ECharts' compressed GeoJSON: zig-zag deltas of x and y, one char each.

    Each pair of characters is ``64 + zigzag(dx)``, ``64 + zigzag(dy)`` in 1/scale degrees
    after the ring's start ``offset``; the string starts with the ``@@`` marker.
    """
    body = encoded[2:] if encoded.startswith("@@") else encoded
    x, y = offset
    ring = []
    for index in range(0, len(body) - 1, 2):
        dx, dy = ord(body[index]) - 64, ord(body[index + 1]) - 64
        x += (dx >> 1) ^ -(dx & 1)
        y += (dy >> 1) ^ -(dy & 1)
        ring.append([x / scale, y / scale])
    return ring


_FEATURE = re.compile(
    r'\{id:"(?P<code>\d+)",type:"Feature",geometry:\{type:"(?P<kind>\w+)",'
    r"coordinates:(?P<coordinates>\[.*?\]),encodeOffsets:(?P<offsets>\[.*?\])\},"
    r'properties:\{cp:\[[\d.,]+\],name:"(?P<name>[^"]+)"'
)


def decode_echarts_map(text: str, codes: tuple[str, ...] = OUTLINE_CODES) -> dict:
    """The districts ``codes`` of an ECharts map script as a GeoJSON FeatureCollection."""
    features = []
    for match in _FEATURE.finditer(text):
        if match["code"] not in codes:
            continue
        coordinates, offsets = json.loads(match["coordinates"]), json.loads(match["offsets"])
        if match["kind"] == "Polygon":
            polygons = [list(zip(coordinates, offsets, strict=True))]
        else:
            polygons = [
                list(zip(rings, ring_offsets, strict=True))
                for rings, ring_offsets in zip(coordinates, offsets, strict=True)
            ]
        geometry = MultiPolygon(
            [
                Polygon(
                    decode_echarts_ring(*polygon[0]),
                    [decode_echarts_ring(*hole) for hole in polygon[1:]],
                )
                for polygon in polygons
            ]
        )
        features.append(
            {
                "type": "Feature",
                "properties": {"district_code": match["code"], "name": match["name"]},
                "geometry": mapping(geometry),
            }
        )
    missing = set(codes) - {feature["properties"]["district_code"] for feature in features}
    if missing:
        raise ValueError(f"the map script has no district {sorted(missing)}")
    features.sort(key=lambda feature: codes.index(feature["properties"]["district_code"]))
    return {"type": "FeatureCollection", "source": OUTLINE_SOURCE, "features": features}


def districts(path: Path = DISTRICTS) -> dict[str, tuple[str, MultiPolygon]]:
    """District code → (name, shape) of the committed outlines."""
    collection = json.loads(path.read_text(encoding="utf-8"))
    return {
        feature["properties"]["district_code"]: (
            feature["properties"]["name"],
            shape(feature["geometry"]),
        )
        for feature in collection["features"]
    }


# -- the synthetic cells ---------------------------------------------------------------------


class _Local:
    """Local metres around a reference latitude: x = lng·cos φ0, y = lat."""

    def __init__(self, latitude0: float) -> None:
        self.scale = math.cos(math.radians(latitude0)) * METRES_PER_DEGREE

    def to_metres(self, geometry):
        return shapely.transform(
            geometry, lambda xy: xy * [self.scale, METRES_PER_DEGREE], include_z=False
        )

    def to_degrees(self, geometry):
        return shapely.transform(
            geometry, lambda xy: xy / [self.scale, METRES_PER_DEGREE], include_z=False
        )


def _rounded(geometry) -> list:
    """GeoJSON coordinates rounded to DECIMALS, rings closed, as lists."""
    geometry = shapely.set_precision(geometry, 10**-DECIMALS)
    coordinates = json.loads(json.dumps(mapping(geometry)["coordinates"]))
    return coordinates


def grid_cells(grids: list[Grid], outline: MultiPolygon) -> dict[str, Polygon]:
    """Grid code → its synthetic cell (degrees): the Voronoi cell of its centre in the outline."""
    local = _Local(sum(grid.latitude for grid in grids) / len(grids))
    area = local.to_metres(outline)
    centres = [local.to_metres(Point(grid.longitude, grid.latitude)) for grid in grids]
    # The outline is drawn at about 100 m; a centre a little outside it is still the district's.
    outside = [
        grid.grid_code
        for grid, centre in zip(grids, centres, strict=True)
        if area.distance(centre) > OUTLINE_TOLERANCE_METRES
    ]
    if outside:
        raise ValueError(f"grid centres outside the district outline: {outside}")
    regions = shapely.voronoi_polygons(shapely.MultiPoint(centres), extend_to=area.envelope)
    cells: dict[str, Polygon] = {}
    for region in regions.geoms:
        owner = next(i for i, centre in enumerate(centres) if region.contains(centre))
        cell = region.intersection(area).simplify(SIMPLIFY_METRES)
        if isinstance(cell, MultiPolygon):  # a sliver cut off by the outline's bays
            cell = max(cell.geoms, key=lambda part: part.area)
        cells[grids[owner].grid_code] = local.to_degrees(cell)
    return cells


def feature_collection(
    grids: list[Grid], street_names: dict[str, str], outline: MultiPolygon
) -> dict:
    """The GeoJSON FeatureCollection: one feature per street, then one per grid."""
    cells = grid_cells(grids, outline)
    features = []
    for street_code, street_name in street_names.items():
        union = unary_union(
            [cells[grid.grid_code] for grid in grids if grid.street_code == street_code]
        )
        features.append(_feature("street", street_code, street_name, street_code, union))
    for grid in grids:
        features.append(
            _feature(
                "grid", grid.grid_code, grid.grid_name, grid.street_code, cells[grid.grid_code]
            )
        )
    return {
        "type": "FeatureCollection",
        "name": "静安区街镇与城运网格（示意形状，非真实边界；区界为真实轮廓）synthetic shapes",
        "features": features,
    }


def _feature(level: str, code: str, name: str, street_code: str, geometry) -> dict:
    label = geometry.representative_point() if level == "grid" else _label_point(geometry)
    geometry = MultiPolygon([geometry]) if isinstance(geometry, Polygon) else geometry
    return {
        "type": "Feature",
        "properties": {
            "area_level": level,
            "area_code": code,
            "name": name,
            "street_code": street_code,
            "label": [round(label.x, DECIMALS), round(label.y, DECIMALS)],
            "synthetic": True,
        },
        "geometry": {"type": "MultiPolygon", "coordinates": _rounded(geometry)},
    }


def _label_point(geometry) -> Point:
    """Where a name reads best: the centroid when inside, else the largest part's inner point."""
    centroid = geometry.centroid
    if geometry.contains(centroid):
        return centroid
    parts = geometry.geoms if isinstance(geometry, MultiPolygon) else [geometry]
    return max(parts, key=lambda part: part.area).representative_point()


def render() -> str:
    """The GeoJSON text as committed: one feature per line, so diffs stay readable."""
    outline = districts()[DISTRICT_CODE][1]
    collection = feature_collection(read_grids(), read_street_names(), outline)
    return _lines(collection, {"type": collection["type"], "name": collection["name"]})


def _lines(collection: dict, head: dict) -> str:
    lines = [
        json.dumps(feature, ensure_ascii=False, separators=(",", ":"))
        for feature in collection["features"]
    ]
    text = json.dumps(head, ensure_ascii=False)
    return text[:-1] + ',"features":[\n' + ",\n".join(lines) + "\n]}\n"


def load(path: Path = GEOJSON) -> list[dict]:
    """The committed area features."""
    return json.loads(path.read_text(encoding="utf-8"))["features"]


# -- the overview map's SVG canvas ------------------------------------------------------------


@dataclass(frozen=True)
class SvgFrame:
    """Longitude/latitude → SVG x/y.

    ``x = (lng - west)·kx + margin`` and ``y = (north - lat)·ky + margin``.
    """

    west: float
    north: float
    kx: float
    ky: float
    width: float
    height: float

    def xy(self, longitude: float, latitude: float) -> tuple[float, float]:
        """The point's SVG coordinates, rounded to 0.1."""
        return (
            round((longitude - self.west) * self.kx + SVG_MARGIN, 1),
            round((self.north - latitude) * self.ky + SVG_MARGIN, 1),
        )

    def path(self, geometry) -> str:
        """An SVG path ``d`` of a (Multi)Polygon, every ring closed with ``Z``."""
        parts = geometry.geoms if isinstance(geometry, MultiPolygon) else [geometry]
        commands = []
        for polygon in parts:
            for ring in (polygon.exterior, *polygon.interiors):
                points = [self.xy(x, y) for x, y in ring.coords[:-1]]
                commands.append("M" + "L".join(f"{x:g},{y:g}" for x, y in points) + "Z")
        return "".join(commands)


def svg_frame() -> SvgFrame:
    """The canvas around the district's outline."""
    west, south, east, north = districts()[DISTRICT_CODE][1].bounds
    ky = SVG_HEIGHT / (north - south)
    kx = ky * math.cos(math.radians((north + south) / 2))
    width = (east - west) * kx + 2 * SVG_MARGIN
    return SvgFrame(west, north, kx, ky, round(width, 1), SVG_HEIGHT + 2 * SVG_MARGIN)


def _import_outline(script: Path) -> None:
    collection = decode_echarts_map(script.read_text(encoding="utf-8"))
    DISTRICTS.write_text(
        _lines(collection, {"type": collection["type"], "source": collection["source"]}),
        encoding="utf-8",
    )
    print(f"wrote {DISTRICTS}")


if __name__ == "__main__":  # python -m dashboards.geo [import-outline shanghai.js]
    if sys.argv[1:2] == ["import-outline"]:
        _import_outline(Path(sys.argv[2]))
    else:
        GEOJSON.write_text(render(), encoding="utf-8")
        print(f"wrote {GEOJSON}")
