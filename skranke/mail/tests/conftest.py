"""Lets the pure parser tests run with ``-p no:django`` (no settings, no database)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_media(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    # Same behaviour as the project-wide fixture of this name when pytest-django is active;
    # without it (the parser tests' fast path) there is no ``settings`` fixture to ask for.
    if request.config.pluginmanager.hasplugin("django"):
        from conftest import configure_test_settings

        configure_test_settings(request.getfixturevalue("settings"), tmp_path)
