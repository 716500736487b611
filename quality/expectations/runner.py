"""Run a suite over a DataFrame with Great Expectations, and keep Data Docs current.

With a project root (``$CITYOPS_HOME/quality/gx``) the run goes through a file-backed GX
project: the suite, its validation definition and checkpoint are written from code on every
run (the code is the source of truth; the JSON files are GX's copy), the validation result
is stored, and the checkpoint's ``UpdateDataDocsAction`` re-renders the static site at
:func:`data_docs_index`. Dagster may run checks in several processes at once, so every use
of the project holds an exclusive ``flock`` on ``<root>/.lock``.

Without a root the run uses an ephemeral context (nothing written) — for unit tests and
quick looks.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")  # no network: usage statistics off

import great_expectations as gx
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.data_context.types.base import ProgressBarsConfig

from ingestion.lake import locked_folder
from quality.expectations.suite import ERROR, WARN, Suite

DATASOURCE = "cityops"
EXAMPLES = 10  # unexpected values kept per failed expectation

logging.getLogger("great_expectations").setLevel(logging.WARNING)


@dataclass(frozen=True)
class Finding:
    """One failed expectation."""

    check: str
    severity: str
    expectation: str
    column: str | None
    unexpected_count: int | None
    unexpected_percent: float | None
    examples: tuple[str, ...] = ()
    error: str | None = None

    def describe(self) -> str:
        """One line: ``check (severity): n unexpected (p %), e.g. …``."""
        if self.error:
            return f"{self.check} ({self.severity}): error — {self.error}"
        count = "" if self.unexpected_count is None else f": {self.unexpected_count} unexpected"
        share = "" if self.unexpected_percent is None else f" ({self.unexpected_percent:.3g} %)"
        sample = f", e.g. {', '.join(self.examples[:3])}" if self.examples else ""
        return f"{self.check} ({self.severity}){count}{share}{sample}"


@dataclass(frozen=True)
class Outcome:
    """The result of one suite over one batch (a partition day, or a mart)."""

    suite: str
    batch: str
    rows: int
    evaluated: int
    findings: tuple[Finding, ...] = field(default_factory=tuple)
    docs_page: str | None = None

    @property
    def passed(self) -> bool:
        """No expectation failed."""
        return not self.findings

    @property
    def severity(self) -> str:
        """ERROR when any ERROR expectation failed, else WARN."""
        return ERROR if any(f.severity == ERROR for f in self.findings) else WARN

    def failed_checks(self, severity: str | None = None) -> list[str]:
        """Names of the failed checks (of one severity, or all)."""
        return [f.check for f in self.findings if severity in (None, f.severity)]


def gx_root(home: Path) -> Path:
    """The GX project folder under ``$CITYOPS_HOME``."""
    return home / "quality" / "gx"


def data_docs_index(home: Path) -> Path:
    """The Data Docs site's index page (a static site; open it in a browser)."""
    return _site(gx_root(home)) / "index.html"


def _context(root: Path | None) -> Any:
    if root is None:
        context = gx.get_context(mode="ephemeral")
    else:
        context = gx.get_context(mode="file", project_root_dir=str(root))
    bars = context.variables.progress_bars
    enabled = (
        bars.get("globally", True) if isinstance(bars, dict) else getattr(bars, "globally", True)
    )
    if bars is None or enabled:
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        if root is not None:
            context.variables.save()
    return context


def _examples(result: dict[str, Any]) -> tuple[str, ...]:
    values = result.get("partial_unexpected_list") or []
    return tuple(str(value) for value in values[:EXAMPLES])


def _findings(validation: Any) -> tuple[Finding, ...]:
    findings = []
    for result in validation.results:
        if result.success:
            continue
        config = result.expectation_config
        meta = config.meta or {}
        details = result.result or {}
        exception = result.exception_info or {}
        error = exception.get("exception_message") if exception.get("raised_exception") else None
        findings.append(
            Finding(
                check=str(meta.get("check", config.type)),
                severity=str(meta.get("severity", ERROR)),
                expectation=str(config.type),
                column=config.kwargs.get("column"),
                unexpected_count=details.get("unexpected_count"),
                unexpected_percent=details.get("unexpected_percent"),
                examples=_examples(details),
                error=error,
            )
        )
    return tuple(findings)


# (project root, suite name) → its checkpoint, for the life of the process: writing the suite,
# validation definition and checkpoint JSON again for every partition would double the cost
# of a small table's validation. Suites are code, so they cannot change within a process.
_CHECKPOINTS: dict[tuple[str, str], Any] = {}


def _checkpoint(root: Path | None, suite: Suite) -> Any:
    """The checkpoint that validates ``suite``, written to the project once per process."""
    cache_key = (str(root), suite.name)
    if root is not None and cache_key in _CHECKPOINTS:
        return _CHECKPOINTS[cache_key]
    context = _context(root)
    source = context.data_sources.add_or_update_pandas(DATASOURCE)
    try:
        asset = source.get_asset(suite.name)
    except LookupError:
        asset = source.add_dataframe_asset(suite.name)
    try:
        batch_definition = asset.get_batch_definition("frame")
    except KeyError:
        batch_definition = asset.add_batch_definition_whole_dataframe("frame")
    gx_suite = context.suites.add_or_update(
        gx.ExpectationSuite(
            name=suite.name,
            expectations=[e.copy() for e in suite.expectations],
            meta={"description": suite.description},
        )
    )
    definition = context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=suite.name, data=batch_definition, suite=gx_suite)
    )
    checkpoint = context.checkpoints.add_or_update(
        gx.Checkpoint(
            name=suite.name,
            validation_definitions=[definition],
            result_format={"result_format": "SUMMARY", "partial_unexpected_count": EXAMPLES},
        )
    )
    if root is not None:
        _CHECKPOINTS[cache_key] = checkpoint
    return checkpoint


def validate(suite: Suite, frame: Any, *, batch: str, root: Path | None = None) -> Outcome:
    """Validate ``frame`` (a pandas DataFrame) against ``suite``.

    ``batch`` names what was validated (``2024-07-05``, ``warehouse``); with a ``root`` it is
    the GX run name, so Data Docs list the runs of each suite by batch.
    """
    with locked_folder(root) if root is not None else contextlib.nullcontext():
        checkpoint = _checkpoint(root, suite)
        run = checkpoint.run(
            batch_parameters={"dataframe": frame},
            run_id=RunIdentifier(run_name=batch, run_time=dt.datetime.now(dt.UTC)),
        )
    (identifier, result), *_ = run.run_results.items()
    docs_page = str(_docs_page(root, identifier)) if root is not None else None
    return Outcome(
        suite=suite.name,
        batch=batch,
        rows=len(frame),
        evaluated=len(result.results),
        findings=_findings(result),
        docs_page=docs_page,
    )


def _site(root: Path) -> Path:
    return root / "gx" / "uncommitted" / "data_docs" / "local_site"


def _docs_page(root: Path, identifier: Any) -> Path:
    """Where the site renders one validation result (GX's own layout)."""
    *folders, name = identifier.to_tuple()
    return _site(root) / "validations" / Path(*folders) / f"{name}.html"


def build_data_docs(home: Path, *, keep_per_suite: int = 90) -> Path | None:
    """Render the validation results not yet on the site, and the index; return the index.

    Runs once per pipeline run rather than once per validation: GX's site builder re-renders
    the index on every call, which would make a 30-day backfill quadratic. Results beyond the
    newest ``keep_per_suite`` of each suite are removed with their pages, so the site stays a
    quick read (90 keeps three months of daily partitions). Returns None without a project.
    """
    root = gx_root(home)
    if not (root / "gx" / "great_expectations.yml").exists():
        return None
    with locked_folder(root):
        context = _context(root)
        store = context.validation_results_store
        by_suite: dict[str, list[Any]] = {}
        for key in store.list_keys():
            by_suite.setdefault(key.expectation_suite_identifier.name, []).append(key)
        fresh: list[Any] = []
        for keys in by_suite.values():
            keys.sort(key=lambda key: key.run_id.run_time or dt.datetime.min.replace(tzinfo=dt.UTC))
            for old in keys[:-keep_per_suite]:
                store.remove_key(old)
                _docs_page(root, old).unlink(missing_ok=True)
            fresh.extend(
                key for key in keys[-keep_per_suite:] if not _docs_page(root, key).exists()
            )
        index = _site(root) / "index.html"
        if fresh or not index.exists():
            suites = {key.expectation_suite_identifier for key in fresh}
            context.build_data_docs(resource_identifiers=[*fresh, *suites] or None)
    return data_docs_index(home)
