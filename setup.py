"""The wheel carries the app's non-Python parts inside the package.

``templates/``, ``static/``, ``translations/`` and ``migrations/`` live beside ``pymes/``
in the checkout (where the app reads them, ``pymes.config.resource``). Building a wheel
copies them to ``pymes/_bundle/`` so an installed app finds them there. What is copied is
what exists at build time: build the wheel after ``scripts/setup``, which puts the
vendored htmx/Pico/Chart.js in ``static/vendor/`` and compiles the ``.mo`` catalogs
(both git-ignored). Everything else is in pyproject.toml.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
BUNDLED = ("templates", "static", "translations", "migrations")
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc")


class BuildWithBundle(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads the checkout's folders directly
        target = Path(self.build_lib) / "pymes" / "_bundle"
        shutil.rmtree(target, ignore_errors=True)  # nothing stale from an earlier build
        for name in BUNDLED:
            shutil.copytree(HERE / name, target / name, ignore=SKIP)


setup(cmdclass={"build_py": BuildWithBundle})
