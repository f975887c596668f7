"""The installed package: one importable name (`newswire`), a wheel that installs beside an
application's own `services` and `schemas` packages, and imports that flow one way."""

import ast
import os
import re
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = {"schemas": 0, "services": 1, "workers": 2}  # may import only what is below


def imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append(node.module)
    return found


@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_imports_flow_one_way_under_one_name(layer: str) -> None:
    for path in sorted((ROOT / layer).rglob("*.py")):
        for module in imports(path):
            top = module.split(".")[0]
            assert top not in LAYERS, f"{path}: `{module}` must be imported as newswire.{module}"
            if top == "newswire" and module.count(".") >= 1:
                other = module.split(".")[1]
                if other in LAYERS:
                    assert LAYERS[other] <= LAYERS[layer], f"{path} imports {module} (upwards)"


def test_wheel_installs_beside_generic_packages(tmp_path: Path) -> None:
    """Build the sdist and the wheel as CI would, check their metadata, install the wheel (not
    editable) into a fresh venv that already has its own `services` and `schemas`."""
    dist = tmp_path / "dist"
    build = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(ROOT)],
        check=False, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    assert "Installing" not in build.stderr  # no setuptools warnings about package layout
    wheels = list(dist.glob("*.whl"))
    sdists = list(dist.glob("*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, os.listdir(dist)
    twine = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", *map(str, wheels + sdists)],
        check=False, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert twine.returncode == 0, twine.stdout + twine.stderr

    names = zipfile.ZipFile(wheels[0]).namelist()
    tops = {name.split("/")[0] for name in names}
    assert tops == {"newswire", wheels[0].name.split("-")[0] + "-" + wheels[0].name.split("-")[1]
                    + ".dist-info"}, tops  # fmt: skip
    assert "newswire/schemas/article.v2.schema.json" in names
    assert "newswire/services/identity/data/clearurls/data.min.json" in names
    assert "newswire/services/lua/publish_new.lua" in names
    assert "newswire/services/sinks/sql/001_archive.sql" in names  # the archive's migrations

    env_dir = tmp_path / "app-venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    purelib = Path(
        subprocess.check_output(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True
        ).strip()
    )
    # The application's own generic packages, already installed.
    for name in ("services", "schemas"):
        (purelib / name).mkdir()
        (purelib / name / "__init__.py").write_text(f"OWNER = 'the application ({name})'\n")
    install = subprocess.run(
        [python, "-m", "pip", "install", "--no-deps", "--no-index", str(wheels[0])],
        check=False, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert install.returncode == 0, install.stdout + install.stderr
    # Dependencies come from the test venv (appended after the app's own site-packages, so
    # its packages still win); this venv has no newswire on its path, only the wheel's.
    (purelib / "zz-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    check = subprocess.run(
        [python, "-c",
         "import services, schemas, newswire, newswire.subscribe, newswire.schemas\n"
         "from newswire.subscribe import Consumer\n"
         "from newswire.schemas import Article\n"
         "print(services.OWNER); print(schemas.OWNER); print(newswire.__file__)\n"
         "print(Article.model_json_schema()['title'])"],
        check=False, capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert check.returncode == 0, check.stderr
    lines = check.stdout.splitlines()
    assert lines[:2] == ["the application (services)", "the application (schemas)"]
    assert lines[2].startswith(str(purelib / "newswire")), lines[2]
    assert lines[3] == "Article"
    cli = subprocess.run(
        [env_dir / "bin" / "newswire", "--help"], check=False, capture_output=True, text=True, timeout=120,
        cwd=tmp_path,
    )  # fmt: skip
    assert cli.returncode == 0, cli.stderr
    assert "usage: newswire" in cli.stdout


def test_test_modules_do_not_import_each_other() -> None:
    """Shared helpers live in tests/support; a test module importing another one would run
    (and couple to) its tests."""
    for path in sorted((ROOT / "tests").glob("*.py")):
        for module in imports(path):
            assert not module.startswith("tests.test_"), f"{path.name} imports {module}"


KEY_SPELLING = re.compile(r"""f["']\{[a-z_.]*(prefix|stream)[a-z_]*\}:""")


def test_only_the_keys_module_spells_redis_keys() -> None:
    """services/keys.py owns every key name: a key built elsewhere would escape
    NEWSWIRE_KEY_PREFIX or the stream's namespace the day someone changes them."""
    for layer in ("services", "workers"):
        for path in sorted((ROOT / layer).rglob("*.py")):
            if path.name == "keys.py":
                continue
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                assert not KEY_SPELLING.search(line), f"{path}:{n}: {line.strip()}"
                assert ":minute:" not in line, f"{path}:{n}: {line.strip()}"


REDIS_RECEIVERS = {"_redis", "client", "pipe"}
NOT_A_ROUND_TRIP = {"register_script", "pipeline"}  # no command is sent by these alone


def _redis_call(node: ast.Call) -> bool:
    func = node.func
    if not isinstance(func, ast.Attribute) or func.attr in NOT_A_ROUND_TRIP:
        return False
    owner = func.value
    name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
    return name in REDIS_RECEIVERS


def _behind_error_root(stack: list[ast.AST]) -> bool:
    for node in stack:
        if isinstance(node, ast.With | ast.AsyncWith):
            for item in node.items:
                call = item.context_expr
                if isinstance(call, ast.Call) and ast.unparse(call.func) == "redis_errors":
                    return True
        if isinstance(node, ast.Try) and any(
            h.type is not None and "RedisError" in ast.unparse(h.type) for h in node.handlers
        ):
            return True
    return False


def test_every_redis_call_in_services_sits_behind_the_error_root() -> None:
    """A Redis exception that leaves services/ unwrapped is neither waited out as an outage
    nor reported as a refused command: each call is inside `with redis_errors(...)` (or a
    handler that maps RedisError itself)."""
    bare: list[str] = []

    def walk(node: ast.AST, stack: list[ast.AST], path: Path) -> None:
        if isinstance(node, ast.Call) and _redis_call(node) and not _behind_error_root(stack):
            bare.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node.func)}")
        for child in ast.iter_child_nodes(node):
            walk(child, [*stack, node], path)

    for path in sorted((ROOT / "services").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if "import redis" in text:
            walk(ast.parse(text), [], path)
    assert bare == []


def test_the_tree_holds_no_symbolic_links() -> None:
    """The stage folders install by package-dir mapping: a clone without symlinks (Windows'
    default, core.symlinks=false) must be the same tree."""
    skip = {".git", ".venv", ".mypy_cache", ".ruff_cache", ".pytest_cache", "build", "dist"}
    links = []
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in skip and not d.endswith(".egg-info")]
        links += [Path(folder, n) for n in dirs + files if Path(folder, n).is_symlink()]
    assert links == []


def test_modules_and_classes_stay_small() -> None:
    """No module over 400 lines and no class over 200: a stage that grows past them is split
    into modules of its package."""
    for layer in ("services", "workers", "schemas"):
        for path in sorted((ROOT / layer).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            assert text.count("\n") <= 400, f"{path.relative_to(ROOT)}: {text.count(chr(10))} lines"
            for node in ast.walk(ast.parse(text)):
                if isinstance(node, ast.ClassDef):
                    size = (node.end_lineno or node.lineno) - node.lineno + 1
                    assert size <= 200, f"{path.relative_to(ROOT)}: class {node.name}, {size} lines"
