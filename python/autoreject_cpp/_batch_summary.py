"""The study summary of ``autoreject-cpp batch``: CSV, JSON and HTML tables."""

# License: BSD-3-Clause

from __future__ import annotations

import csv
import html
import io
import json
import os
from pathlib import Path

#: columns of ``summary.csv`` (``summary.json`` adds per-channel thresholds and outputs)
SUMMARY_COLUMNS = (
    "subject", "status", "n_epochs", "n_dropped", "n_kept", "n_segments_interpolated",
    "n_channels_interpolated", "ransac_bad_channels", "consensus", "n_interpolate",
    "threshold_median", "runtime_s", "wall_s", "backend", "error", "input", "worker",
)  # fmt: skip


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, dict):
        return ";".join(f"{k}={_cell(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ";".join(_cell(v) for v in value)
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def write_summary(rows, out, meta):
    """Write ``summary.csv``, ``summary.json`` and ``summary.html`` to ``out``.

    Returns
    -------
    paths : dict
        ``'csv'``, ``'json'`` and ``'html'`` mapped to the files written.
    """
    from ._fileio import atomic_path

    out = Path(out)
    paths = {ext: out / f"summary.{ext}" for ext in ("csv", "json", "html")}
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(SUMMARY_COLUMNS)
    for row in rows:
        writer.writerow([_cell(row.get(col)) for col in SUMMARY_COLUMNS])
    with atomic_path(paths["csv"]) as tmp:
        tmp.write_text(buffer.getvalue())
    with atomic_path(paths["json"]) as tmp:
        tmp.write_text(json.dumps({**meta, "subjects": rows}, indent=2) + "\n")
    with atomic_path(paths["html"]) as tmp:
        tmp.write_text(_summary_html(rows, out, meta))
    return paths


def _summary_html(rows, out, meta):
    colors = {"done": "#e6f4ea", "skipped": "#eef2f7", "failed": "#fce8e6"}
    head = "".join(f"<th>{html.escape(c)}</th>" for c in SUMMARY_COLUMNS)
    body = []
    for row in rows:
        cells = []
        for col in SUMMARY_COLUMNS:
            text = html.escape(_cell(row.get(col)))
            report = (row.get("outputs") or {}).get("report")
            if col == "subject" and report:
                href = html.escape(os.path.relpath(report, out))
                text = f"<a href='{href}'>{text}</a>"
            cells.append(f"<td>{text}</td>")
        color = colors.get(row.get("status"), "white")
        body.append(f"<tr style='background:{color}'>{''.join(cells)}</tr>")
    counts = ", ".join(f"{n} {status}" for status, n in _counts(rows).items())
    info = html.escape(
        f"autoreject_cpp {meta['autoreject_cpp']}, {meta['created']}, {counts}; "
        f"scheduler: {meta['scheduler']}, {meta['threads_per_worker']} thread(s) per job"
    )
    return (
        "<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>autoreject_cpp batch "
        "summary</title><style>body{font-family:sans-serif}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:2px 6px;font-size:90%}</style></head><body>"
        f"<h1>autoreject_cpp batch summary</h1><p>{info}</p><table><thead><tr>{head}</tr>"
        f"</thead><tbody>{''.join(body)}</tbody></table></body></html>\n"
    )


def _counts(rows):
    counts = {"done": 0, "skipped": 0, "failed": 0}
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    return counts
