"""The dashboard spec read from a folder of YAML files: a broken one is named in the error."""

from pathlib import Path

import pytest
import yaml

from dashboards.settings import REPO
from dashboards.spec import SpecError, load_spec


def test_an_unknown_metric_or_dataset_is_named_in_the_error(tmp_path):
    for source in Path(REPO / "dashboards" / "spec").glob("*.yml"):
        (tmp_path / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    broken = yaml.safe_load((tmp_path / "hotline_grid.yml").read_text(encoding="utf-8"))
    broken["charts"]["total_orders"]["metric"] = "no_such_metric"
    broken["charts"]["total_cases"]["dataset"] = "no_such_dataset"
    (tmp_path / "hotline_grid.yml").write_text(
        yaml.safe_dump(broken, allow_unicode=True), encoding="utf-8"
    )
    with pytest.raises(SpecError) as error:
        load_spec(tmp_path)
    assert "chart total_orders: metric 'no_such_metric'" in str(error.value)
    assert "chart total_cases reads unknown dataset 'no_such_dataset'" in str(error.value)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            lambda charts: charts["total_orders"].update({"colour": "red"}),
            "hotline_grid.yml: charts.total_orders.colour: unknown field",
        ),
        (
            lambda charts: charts["total_orders"].pop("metric"),
            "hotline_grid.yml: charts.total_orders.metric is missing",
        ),
        (
            lambda charts: charts["total_orders"].update({"filters": [["street_code", "=="]]}),
            "hotline_grid.yml: charts.total_orders.filters.1: filter ['street_code', '==']: "
            "operator or value count is wrong",
        ),
    ],
)
def test_a_mistake_in_a_chart_is_named_by_its_field(tmp_path, change, problem):
    for source in Path(REPO / "dashboards" / "spec").glob("*.yml"):
        (tmp_path / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    broken = yaml.safe_load((tmp_path / "hotline_grid.yml").read_text(encoding="utf-8"))
    change(broken["charts"])
    (tmp_path / "hotline_grid.yml").write_text(
        yaml.safe_dump(broken, allow_unicode=True), encoding="utf-8"
    )
    with pytest.raises(SpecError) as error:
        load_spec(tmp_path)
    assert str(error.value).splitlines()[1:] == [f"  - {problem}"]
