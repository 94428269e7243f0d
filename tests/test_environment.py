"""environment.yml must list exactly the dependencies pinned in pyproject.toml (runtime + extras)."""
from pathlib import Path
import tomllib

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _pyproject_pins() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = set(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        pins |= set(extra)
    return {p.replace(" ", "").lower() for p in pins}


def _environment_pins() -> set[str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    return {p.replace(" ", "").lower() for p in pip}


def test_environment_yml_mirrors_pyproject():
    assert _environment_pins() == _pyproject_pins()


def test_every_dependency_is_pinned_exactly():
    assert all("==" in p for p in _pyproject_pins()), sorted(p for p in _pyproject_pins() if "==" not in p)


def test_jupyter_book_stays_on_1x():
    pin = next(p for p in _pyproject_pins() if p.startswith("jupyter-book=="))
    assert pin.split("==")[1].startswith("1."), pin


def test_lock_agrees_with_direct_pins():
    lock = {}
    for line in (ROOT / "requirements-lock.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==")
            lock[name.lower().replace("_", "-")] = version.strip()
    for pin in _pyproject_pins():
        name, version = pin.split("==")
        assert lock.get(name.replace("_", "-")) == version, f"{pin} vs lock {lock.get(name)}"
