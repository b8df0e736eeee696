"""The metrics table: one row per metric, one column per version of the answers (raw, calibrated …).

All the numbers come from :mod:`engine.references.scoring` (MIREX via ``mir_eval``); this module only
lays them side by side over the same songs, so raw and calibrated are always comparable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from engine.references.scoring import KEY_RELATIONS, RATIO_CLASSES, score

RATIO_NAMES = (*RATIO_CLASSES, "other")
ROOT_OFFSETS = tuple(range(-5, 7))

TempoColumn = Sequence[float | None]
KeyColumn = Sequence[str | None]


def tempo_rows(reference: Sequence[float], columns: Mapping[str, TempoColumn]) -> list[dict[str, Any]]:
    """Acc1, Acc2, MAE, precision and ratio-class counts of each column against ``reference``.

    Precision (the BPM error at the matched level, its median and the share within 0.05 BPM) is over
    the Acc1 hits and over the Acc2 hits: a tempo at the right level can still drift off a DJ's grid.
    """
    scored = {name: score(list(zip(values, reference, strict=True)), []) for name, values in columns.items()}
    n = len(reference)
    rows = [
        _row("tempo_acc1", n, {c: s.acc1 for c, s in scored.items()}),
        _row("tempo_acc2", n, {c: s.acc2 for c, s in scored.items()}),
        _row("tempo_mae_bpm", n, {c: s.bpm_mae for c, s in scored.items()}),
        _row("tempo_bpm_error_median_acc1", n, {c: s.bpm_error_median_acc1 for c, s in scored.items()}),
        _row("tempo_within_0.05_acc1", n, {c: s.bpm_precise_acc1 for c, s in scored.items()}),
        _row("tempo_bpm_error_median_acc2", n, {c: s.bpm_error_median_acc2 for c, s in scored.items()}),
        _row("tempo_within_0.05_acc2", n, {c: s.bpm_precise_acc2 for c, s in scored.items()}),
    ]
    for ratio in RATIO_NAMES:
        rows.append(_row(f"tempo_ratio_{ratio}", n, {c: s.ratio_classes.get(ratio, 0) for c, s in scored.items()}))
    return rows


def key_rows(reference: Sequence[str], columns: Mapping[str, KeyColumn]) -> list[dict[str, Any]]:
    """Exact, MIREX, relation counts and the root-offset histogram of each column against ``reference``."""
    scored = {name: score([], list(zip(values, reference, strict=True))) for name, values in columns.items()}
    n = len(reference)
    rows = [
        _row("key_exact", n, {c: s.key_exact for c, s in scored.items()}),
        _row("key_mirex", n, {c: s.mirex for c, s in scored.items()}),
    ]
    for relation in KEY_RELATIONS:
        rows.append(
            _row(f"key_relation_{relation}", n, {c: s.key_relations.get(relation, 0) for c, s in scored.items()})
        )
    for offset in ROOT_OFFSETS:
        rows.append(
            _row(f"key_root_offset_{offset:+d}", n, {c: s.root_offsets.get(offset, 0) for c, s in scored.items()})
        )
    return rows


def _row(metric: str, n: int, values: Mapping[str, Any]) -> dict[str, Any]:
    return {"metric": metric, "n": n, **{c: _round(v) for c, v in values.items()}}


def _round(value: Any) -> Any:
    return round(value, 4) if isinstance(value, float) else ("" if value is None else value)


@dataclass(frozen=True)
class HeadlineMetric:
    """One of the scores a user looks at first: its row in metrics.csv and what to call it."""

    name: str
    label: str
    """In a sentence on the command line: ``tempo Acc1``."""
    short: str
    """In a table column or a panel: ``Acc1``."""


HEADLINE = (
    HeadlineMetric("tempo_acc1", "tempo Acc1", "Acc1"),
    HeadlineMetric("tempo_acc2", "tempo Acc2", "Acc2"),
    HeadlineMetric("key_exact", "key exact", "Key exact"),
    HeadlineMetric("key_mirex", "key MIREX", "MIREX"),
)
"""The headline scores, the one definition the command line, run.json, history.csv and the window share."""
PRECISION = (
    HeadlineMetric(
        "tempo_bpm_error_median_acc1", "median BPM error at the matched level, over the Acc1 hits", "±BPM (Acc1)"
    ),
    HeadlineMetric("tempo_within_0.05_acc1", "share of the Acc1 hits within 0.05 BPM", "≤0.05 (Acc1)"),
    HeadlineMetric(
        "tempo_bpm_error_median_acc2", "median BPM error at the matched level, over the Acc2 hits", "±BPM (Acc2)"
    ),
    HeadlineMetric("tempo_within_0.05_acc2", "share of the Acc2 hits within 0.05 BPM", "≤0.05 (Acc2)"),
)
"""How exact the tempo is where its level is right: a DJ beatmatches by the number (issue 23)."""
WINDOW_METRICS = (*HEADLINE[:2], *PRECISION, *HEADLINE[2:])
"""What the window's metrics table shows: the level, then its exactness, then the key."""
TEMPO_HEADLINE = tuple(m for m in HEADLINE if m.name.startswith("tempo_"))
KEY_HEADLINE = tuple(m for m in HEADLINE if m.name.startswith("key_"))


def headline(rows: Sequence[Mapping[str, Any]], column: str) -> dict[str, Any]:
    """The headline scores from one column of the table, with the tempo error in BPM beside them (run.json)."""
    wanted = (*(m.name for m in TEMPO_HEADLINE), "tempo_mae_bpm", *(m.name for m in KEY_HEADLINE))
    by_metric = {r["metric"]: r for r in rows}
    return {m: by_metric[m].get(column, "") for m in wanted if m in by_metric}


class MetricRow(NamedTuple):
    """One headline score as a window shows it: raw, calibrated cross-validated and in-sample, over ``n`` songs."""

    label: str
    raw: float | None
    calibrated_cv: float | None
    calibrated_in_sample: float | None
    n: int
    description: str = ""
    """What the number is, in words (the window's tooltip)."""


def headline_view(rows: Sequence[Mapping[str, Any]], metrics: Sequence[HeadlineMetric] = HEADLINE) -> list[MetricRow]:
    """The ``metrics`` of a metrics table (a fit's, or raw-only rows), in their fixed order."""
    by_metric = {r["metric"]: r for r in rows}
    view = []
    for metric in metrics:
        row = by_metric.get(metric.name)
        if row is not None:
            view.append(
                MetricRow(
                    metric.short,
                    _number(row.get("raw")),
                    _number(row.get("calibrated_cv")),
                    _number(row.get("calibrated_in_sample")),
                    int(row.get("n", 0)),
                    metric.label,
                )
            )
    return view


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None
