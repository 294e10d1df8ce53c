"""The app pattern's import direction is enforced: `lint-imports` (in `make lint`) passes on the code and fails
on a forbidden import, even one tucked into a function."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _run(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 (our own tool on our own copy of the code)
        [str(LINT_IMPORTS)], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def _copy_project(tmp_path: Path) -> Path:
    target = tmp_path / "project"
    shutil.copytree(ROOT / "qiaoliang", target / "qiaoliang", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copy(ROOT / "pyproject.toml", target / "pyproject.toml")
    return target


def test_the_code_keeps_every_contract() -> None:
    result = _run(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout


def test_core_importing_an_app_inside_a_function_breaks_the_layers(tmp_path: Path) -> None:
    project = _copy_project(tmp_path)
    text = project / "qiaoliang" / "core" / "text.py"
    text.write_text(
        text.read_text(encoding="utf-8")
        + "\n\ndef _sneaky() -> object:\n    from qiaoliang.orgs.models import Enterprise\n\n    return Enterprise\n",
        encoding="utf-8",
    )
    result = _run(project)
    assert result.returncode == 1
    assert "qiaoliang.core.text -> qiaoliang.orgs.models" in result.stdout


def test_an_app_reaching_into_another_apps_private_module_is_refused(tmp_path: Path) -> None:
    project = _copy_project(tmp_path)
    selectors = project / "qiaoliang" / "exchange" / "selectors.py"
    selectors.write_text(
        selectors.read_text(encoding="utf-8") + "\nfrom qiaoliang.orgs.importers import roster_spec  # noqa\n",
        encoding="utf-8",
    )
    result = _run(project)
    assert result.returncode == 1
    assert "qiaoliang.exchange.selectors -> qiaoliang.orgs.importers" in result.stdout
