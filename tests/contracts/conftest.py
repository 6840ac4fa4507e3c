"""Shared fixtures for the payer-contract tests.

The CMS public files are not part of the repository.  :func:`cms_data` finds them in
``$PAYCASCADE_CMS_DATA`` or, by default, in ``<repo root>/../shared/data/cms``.  When they are
missing the tests that need them are skipped with a reason naming the path looked for, except
under CI (the ``CI`` environment variable is set), where the data must be present and a
missing folder fails the run.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
CMS_ENV = "PAYCASCADE_CMS_DATA"


def cms_data_dir() -> Path:
    """Where the CMS data is expected (it may not exist)."""
    configured = os.environ.get(CMS_ENV)
    if configured:
        return Path(configured).expanduser().resolve()
    return (REPO_ROOT.parent / "shared" / "data" / "cms").resolve()


@pytest.fixture(scope="session")
def cms_data() -> Path:
    """The folder holding ``mssp_puf_py2018/`` … ``mssp_puf_py2024/``."""
    folder = cms_data_dir()
    if (folder / "mssp_puf_py2024").is_dir():
        return folder
    how = f"${CMS_ENV}" if os.environ.get(CMS_ENV) else f"default; set ${CMS_ENV} to override"
    reason = (
        f"CMS public data NOT FOUND at {folder} ({how}): the MSSP PUF fidelity tests "
        "cannot run without it"
    )
    if os.environ.get("CI"):
        pytest.fail(reason + " — under CI the data must be present", pytrace=False)
    pytest.skip(reason)
