"""``cityops bench`` refuses malformed options before it creates its scratch folder."""


def test_bench_rejects_malformed_histories_before_any_work(tmp_path):
    from typer.testing import CliRunner

    from dagster_project.cli import app

    for wrong in ("6", "6,3", "a,b"):
        result = CliRunner().invoke(
            app, ["bench", "--scale", "city", "--histories", wrong, "--work", str(tmp_path / "w")]
        )
        assert result.exit_code == 2, result.output
        assert "--histories" in result.output
    assert not (tmp_path / "w").exists()
