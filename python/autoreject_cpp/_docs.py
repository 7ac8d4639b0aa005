"""Shared parameter descriptions for docstrings (MNE's ``docdict`` idea).

Write ``%(name)s`` on its own line, indented like a parameter, and decorate
the function with :func:`fill_doc`; the entry is inserted with that
indentation.
"""

from __future__ import annotations

docdict = {
    "backend": """backend : str | None
    Compute backend of the compiled core: ``'auto'``, ``'scalar'``,
    ``'openmp'`` or ``'cuda'`` (see :func:`autoreject_cpp.backends`). None
    (default) uses the ``AUTOREJECT_BACKEND`` environment variable, then
    ``'auto'`` (``'openmp'`` when compiled in and more than one thread is
    available, else ``'scalar'``; ``'cuda'`` first when a GPU is usable). An
    unknown or unavailable backend raises ``ValueError``. Results do not
    depend on it.""",
    "dtype": """dtype : str
    ``'float64'`` (default) computes in double precision and gives
    autoreject's decisions exactly. ``'float32'`` converts the data once to
    float32 and runs the bulk computations (peak-to-peak amplitudes,
    medians, means of the kept epochs and their scores, interpolation
    products) in single precision, on every backend: faster, with
    thresholds and labels that may differ slightly from float64's (see the
    README's measured drift). Epochs returned are still float64.""",
    "n_jobs": """n_jobs : int
    Number of channels whose thresholds are searched in parallel (threads).
    Other than 1, also the number of threads of the core's kernels (-1:
    every core); with 1 (default) the kernels use the OpenMP default
    (``OMP_NUM_THREADS``, else every core). Results do not depend on it.""",
    "report_in": """report : mne.Report
    The report to add to (modified in place).""",
    "section_replace": """section : str | None
    Group the content under this section name, as in
    :meth:`mne.Report.add_figure`. Defaults to None (the title).
replace : bool
    Whether to replace content with the same title and section. Defaults
    to False.""",
    "report_out": """report : mne.Report
    The same report, for chaining.""",
}


def fill_doc(func):
    """Replace ``%(name)s`` lines of ``func``'s docstring with docdict entries."""
    doc = func.__doc__
    if not doc:
        return func
    lines = []
    for line in doc.splitlines():
        stripped = line.strip()
        if stripped.startswith("%(") and stripped.endswith(")s"):
            indent = line[: len(line) - len(line.lstrip())]
            entry = docdict[stripped[2:-2]]
            lines.extend(indent + part if part else part for part in entry.splitlines())
        else:
            lines.append(line)
    func.__doc__ = "\n".join(lines)
    return func
