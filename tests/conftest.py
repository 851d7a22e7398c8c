"""Shared pytest configuration: the repository root, the notebook test options, and a private cache.

The whole test run (this process, notebook kernels, subprocesses) uses a fresh temporary `STT_NB_CACHE`, so tests
never read results a user (or an older version of the code) left in `~/.cache/stt_nb`, and never write there.
"""
from pathlib import Path
import os, shutil, tempfile
import pytest

ROOT = Path(__file__).resolve().parents[1]
_CACHE: dict[str, str] = {}
USER_CACHE = Path(os.environ.get('STT_NB_CACHE') or Path.home() / '.cache' / 'stt_nb')   # the cache a user run would use

def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    "Relative path → (size, mtime) of every file under `root`."
    if not root.is_dir(): return {}
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob('*') if p.is_file()}

USER_CACHE_BEFORE = _snapshot(USER_CACHE)      # read by tests/test_zz_user_cache.py at the end of the run

def pytest_addoption(parser):
    parser.addoption('--nb-flags', default='',
                     help="space-separated notebook test flags to run besides 'slow' (from settings.ini tst_flags: "
                          "'gpu data grid'), e.g. --nb-flags grid")
    parser.addoption('--full', action='store_true',
                     help="run the notebooks' slow cells at their documented size instead of CI size")

def pytest_configure(config):
    if 'STT_NB_CACHE' in _CACHE: return
    _CACHE['user'] = os.environ.get('STT_NB_CACHE', '')
    _CACHE['STT_NB_CACHE'] = tempfile.mkdtemp(prefix='stt_nb_test_cache_')
    os.environ['STT_NB_CACHE'] = _CACHE['STT_NB_CACHE']

def pytest_unconfigure(config):
    path = _CACHE.pop('STT_NB_CACHE', None)
    if path: shutil.rmtree(path, ignore_errors=True)
    if _CACHE.get('user'): os.environ['STT_NB_CACHE'] = _CACHE['user']
    else: os.environ.pop('STT_NB_CACHE', None)

@pytest.fixture(scope='session')
def root() -> Path: return ROOT

@pytest.fixture(scope='session')
def test_cache() -> Path:
    "The run's private cache folder (`$STT_NB_CACHE` during the tests)."
    return Path(_CACHE['STT_NB_CACHE'])
