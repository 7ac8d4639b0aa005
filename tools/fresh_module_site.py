"""sitecustomize for a scratch copy of the package with a freshly built module.

tools/gpu-check.sh and .ci/run test a module built outside the virtual
environment (with CUDA, or on the emulated GPU) from a scratch copy of
``python/autoreject_cpp`` put on ``PYTHONPATH``. An editable install of the
package (``pip install -e .``, as tools/_setup.sh makes) registers an import
hook that answers for ``autoreject_cpp`` before ``sys.path`` is searched, so
the scratch copy would be ignored. Copied into the scratch folder as
``sitecustomize.py``, this file removes such hooks at interpreter start, in
the test process and in every Python process it starts with that folder on
``PYTHONPATH``.
"""

# License: BSD-3-Clause

import sys


def _is_editable_hook(finder):
    """True for an editable install's finder (scikit-build-core, setuptools)."""
    module = getattr(type(finder), "__module__", "") or ""
    return module.startswith(("_editable_", "__editable__"))


sys.meta_path[:] = [finder for finder in sys.meta_path if not _is_editable_hook(finder)]
