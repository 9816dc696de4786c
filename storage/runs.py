"""Training runs, ensembles and their metrics."""
from __future__ import annotations

import math
from collections.abc import Iterable
from numbers import Real
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite

from storage.db import Database, check_choice, get_row
from storage.errors import DatasetNotFound, JobNotFound, RunNotFound
from storage.records import Run
from storage.tables import RUN_KINDS, RUN_STATUSES, DatasetRow, JobRow, MetricRow, RunRow

# The metrics scope that keeps a run's calibration: the temperature fitted on validation.
CALIBRATION_SCOPE = "calibration"


def create_run(db: Database, dataset_id: int, kind: str, name: str, *,
               config: dict[str, Any] | None = None, dir: str | Path | None = None,
               job_id: int | None = None, members: Iterable[int] = (),
               status: str = "running") -> Run:
    """Record a run ('train' or 'ensemble'); `dir` defaults to runs/<id> under home."""
    check_choice(kind, RUN_KINDS, "run kind")
    check_choice(status, RUN_STATUSES, "run status")
    stored_dir = db.stored_path(dir) if dir is not None else None
    member_ids = [int(member) for member in members]
    with db.transaction() as session:
        get_row(session, DatasetRow, dataset_id, DatasetNotFound)
        if job_id is not None:
            get_row(session, JobRow, job_id, JobNotFound)
        for member in member_ids:
            get_row(session, RunRow, member, RunNotFound)
        row = RunRow(dataset_id=dataset_id, job_id=job_id, kind=kind, name=name,
                     config=dict(config or {}), dir=stored_dir or "", status=status,
                     members=member_ids)
        session.add(row)
        session.flush()
        if stored_dir is None:
            row.dir = f"runs/{row.id}"
        return Run.from_row(row)


def get_run(db: Database, run_id: int) -> Run:
    """The run with this id; RunNotFound otherwise."""
    with db.transaction(write=False) as session:
        return Run.from_row(get_row(session, RunRow, run_id, RunNotFound))


def list_runs(db: Database, limit: int | None = 50, offset: int = 0,
              dataset_id: int | None = None, kind: str | None = None) -> list[Run]:
    """Runs newest first, optionally of one dataset and/or one kind."""
    query = _filtered(select(RunRow), dataset_id, kind)
    query = query.order_by(RunRow.id.desc()).offset(offset).limit(limit)
    with db.transaction(write=False) as session:
        return [Run.from_row(row) for row in session.scalars(query)]


def count_runs(db: Database, dataset_id: int | None = None, kind: str | None = None) -> int:
    """How many runs list_runs would return without a limit."""
    query = _filtered(select(func.count(RunRow.id)), dataset_id, kind)
    with db.transaction(write=False) as session:
        return int(session.scalar(query))


def set_run_status(db: Database, run_id: int, status: str) -> Run:
    """Change a run's status (one of RUN_STATUSES)."""
    check_choice(status, RUN_STATUSES, "run status")
    with db.transaction() as session:
        row = get_row(session, RunRow, run_id, RunNotFound, for_update=True)
        row.status = status
        return Run.from_row(row)


def record_metrics(db: Database, run_id: int, scope: str, metrics: dict[str, Any]) -> None:
    """Upsert metrics: numbers go to value (NaN becomes None), anything else to value_json."""
    values = [dict(run_id=run_id, scope=scope, name=name, **_split(value))
              for name, value in metrics.items()]
    with db.transaction() as session:
        get_row(session, RunRow, run_id, RunNotFound)
        if not values:
            return
        dialect = sqlite if session.bind.dialect.name == "sqlite" else postgresql
        statement = dialect.insert(MetricRow).values(values)
        statement = statement.on_conflict_do_update(
            index_elements=["run_id", "scope", "name"],
            set_={"value": statement.excluded.value, "value_json": statement.excluded.value_json})
        session.execute(statement)


def get_metrics(db: Database, run_id: int, scope: str | None = None) -> dict[str, Any]:
    """{name: value} of one scope, or {scope: {name: value}} of all scopes."""
    query = select(MetricRow).where(MetricRow.run_id == run_id).order_by(MetricRow.id)
    if scope is not None:
        query = query.where(MetricRow.scope == scope)
    with db.transaction(write=False) as session:
        get_row(session, RunRow, run_id, RunNotFound)
        rows = session.scalars(query).all()
        by_scope: dict[str, dict[str, Any]] = {}
        for row in rows:
            value = row.value if row.value_json is None else row.value_json
            by_scope.setdefault(row.scope, {})[row.name] = value
    return by_scope.get(scope, {}) if scope is not None else by_scope


def record_calibration(db: Database, run_id: int, fit: dict[str, Any]) -> None:
    """Keep a run's calibration with it: `fit` holds `temperature` (a positive number,
    fitted on validation) and what the fit measured (validation loss and ECE)."""
    temperature = fit.get("temperature")
    if not isinstance(temperature, Real) or not temperature > 0:
        raise ValueError(f"a run's calibration needs a positive 'temperature'; got {temperature!r}")
    record_metrics(db, run_id, CALIBRATION_SCOPE, fit)


def get_temperature(db: Database, run_id: int) -> float | None:
    """The temperature stored with a run, or None when none was fitted yet."""
    value = get_metrics(db, run_id, scope=CALIBRATION_SCOPE).get("temperature")
    return None if value is None else float(value)


def _split(value: Any) -> dict[str, Any]:
    """{'value': float} for a number, {'value_json': ...} for lists, dicts, strings, arrays."""
    if hasattr(value, "tolist"):  # numpy arrays and scalars, without importing numpy
        value = value.tolist()
    if isinstance(value, Real):
        number = float(value)
        return {"value": None if math.isnan(number) else number, "value_json": None}
    return {"value": None, "value_json": value}


def _filtered(query, dataset_id: int | None, kind: str | None):
    """`query` restricted to one dataset and/or one kind."""
    if dataset_id is not None:
        query = query.where(RunRow.dataset_id == dataset_id)
    if kind is not None:
        query = query.where(RunRow.kind == check_choice(kind, RUN_KINDS, "run kind"))
    return query
