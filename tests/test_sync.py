"""The library is generated from the notebooks: fail when `nbdev_export` or `nbdev_clean` would change anything."""
from pathlib import Path
import filecmp, shutil, subprocess, sys

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

def _copy_project(dst: Path):
    for name in ('settings.ini', 'setup.py', 'pyproject.toml', 'README.md'):
        if (ROOT / name).exists(): shutil.copy(ROOT / name, dst / name)
    shutil.copytree(ROOT / 'nbs', dst / 'nbs', ignore=shutil.ignore_patterns('.ipynb_checkpoints', '_proc'))
    shutil.copytree(ROOT / 'stt_nb', dst / 'stt_nb', ignore=shutil.ignore_patterns('__pycache__'))

def _diff(a: Path, b: Path, pattern: str) -> list[str]:
    fa = {p.relative_to(a) for p in a.rglob(pattern) if '__pycache__' not in p.parts}
    fb = {p.relative_to(b) for p in b.rglob(pattern) if '__pycache__' not in p.parts}
    out = [f'only in repo: {p}' for p in sorted(fa - fb)] + [f'only after export: {p}' for p in sorted(fb - fa)]
    out += [f'differs: {p}' for p in sorted(fa & fb) if not filecmp.cmp(a / p, b / p, shallow=False)]
    return out

def test_library_matches_notebooks(tmp_path):
    _copy_project(tmp_path)
    r = subprocess.run([str(BIN / 'nbdev_export')], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    diffs = _diff(ROOT / 'stt_nb', tmp_path / 'stt_nb', '*.py')
    assert not diffs, "stt_nb/ is out of sync with nbs/ (run nbdev_export and commit):\n" + '\n'.join(diffs)

def test_notebooks_are_clean(tmp_path):
    _copy_project(tmp_path)
    r = subprocess.run([str(BIN / 'nbdev_clean')], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    diffs = _diff(ROOT / 'nbs', tmp_path / 'nbs', '*.ipynb')
    assert not diffs, "notebooks are not clean (run nbdev_clean and commit):\n" + '\n'.join(diffs)

def test_notebook_outputs_stay_light():
    """The outputs of every notebook together (figures, tables, logs: what a clone downloads besides the source)
    stay under 3 MB; figures are saved at most ~1000 px wide with an adaptive palette (see developing.ipynb)."""
    import json
    sizes = {p.relative_to(ROOT).as_posix(): sum(len(json.dumps(c.get('outputs', []))) for c in
                                                   json.loads(p.read_text(encoding='utf-8'))['cells'])
             for p in sorted((ROOT / 'nbs').rglob('*.ipynb')) if '.ipynb_checkpoints' not in p.parts}
    total = sum(sizes.values())
    assert total <= 3_000_000, (f"notebook outputs {total / 1e6:.2f} MB > 3 MB; the largest: "
                                f"{sorted(sizes.items(), key=lambda kv: -kv[1])[:3]}")
