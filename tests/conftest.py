"""Shared pytest configuration: the repository root, the notebook test options, and a private cache.

The whole test run (this process, notebook kernels, subprocesses) uses a fresh temporary `STT_NB_CACHE`, so tests
never read results a user (or an older version of the code) left in `~/.cache/stt_nb`, and never write there.

Under pytest-xdist (`pytest -n 2`, the README's command) the workers share the controller's temporary cache, so
that what one worker built (the decoded media, the quick-scale runs that the demo, the tutorials and notebook 41
all use) the other reuses instead of building it again: builds are atomic and runs are trained under a file lock,
so two workers asking for the same run train it once. Each worker gets an equal share of the CPU cores as its
thread count (`OMP_NUM_THREADS`, inherited by the notebook
kernels and subprocesses it starts): two workers with torch's default thread count each would run twice as many
threads as there are cores, and oversubscribed OpenMP threads slow each other several-fold.
"""
from pathlib import Path
import os, shutil, tempfile
import pytest

ROOT = Path(__file__).resolve().parents[1]
_CACHE: dict[str, str] = {}
# the cache a user run would use; xdist workers inherit the controller's environment, in which STT_NB_CACHE already
# points at the controller's temporary folder, so the controller passes the user's on as STT_NB_TEST_USER_CACHE
USER_CACHE = Path(os.environ.get('STT_NB_TEST_USER_CACHE') or os.environ.get('STT_NB_CACHE')
                  or Path.home() / '.cache' / 'stt_nb')

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

def _worker_threads() -> int | None:
    "Threads for this xdist worker (cores / workers, at least 1); None outside xdist or when the user set a count."
    if 'PYTEST_XDIST_WORKER' not in os.environ or 'OMP_NUM_THREADS' in os.environ: return None
    cores = len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else (os.cpu_count() or 1)
    return max(1, cores // int(os.environ.get('PYTEST_XDIST_WORKER_COUNT', '1')))

def pytest_configure(config):
    if 'STT_NB_CACHE' in _CACHE or 'shared' in _CACHE: return
    n = _worker_threads()
    if n is not None:
        for k in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS'): os.environ[k] = str(n)
        import sys
        if 'torch' in sys.modules: sys.modules['torch'].set_num_threads(n)
    _CACHE['user'] = os.environ.get('STT_NB_CACHE', '')
    os.environ.setdefault('STT_NB_TEST_USER_CACHE', str(USER_CACHE))
    shared = os.environ.get('STT_NB_TEST_SESSION_CACHE')
    if hasattr(config, 'workerinput') and shared:           # an xdist worker: the controller's cache, not ours to remove
        _CACHE['shared'] = shared
    else:
        _CACHE['STT_NB_CACHE'] = shared = tempfile.mkdtemp(prefix='stt_nb_test_cache_')
        os.environ['STT_NB_TEST_SESSION_CACHE'] = shared     # inherited by the workers xdist starts after this
    os.environ['STT_NB_CACHE'] = shared

def pytest_sessionfinish(session, exitstatus):
    """With xdist, `tests/test_zz_user_cache.py` runs in one worker while the other may still be running tests, so the
    controlling process checks the user's cache once more after every worker has finished, and fails the run if
    anything there was added, removed or changed."""
    if not hasattr(session.config, 'workerinput') and getattr(session.config.option, 'numprocesses', None):
        after = _snapshot(USER_CACHE)
        changed = sorted(set(after) ^ set(USER_CACHE_BEFORE)) + sorted(
            k for k in set(after) & set(USER_CACHE_BEFORE) if after[k] != USER_CACHE_BEFORE[k])
        if changed:
            tr = session.config.pluginmanager.get_plugin('terminalreporter')
            tr.write('\n')
            tr.write_line(
                f"ERROR: the test run changed the user's cache {USER_CACHE}: {changed[:5]}", red=True)
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

def pytest_unconfigure(config):
    path = _CACHE.pop('STT_NB_CACHE', None)
    _CACHE.pop('shared', None)
    if path: shutil.rmtree(path, ignore_errors=True)
    if not hasattr(config, 'workerinput'):
        for k in ('STT_NB_TEST_USER_CACHE', 'STT_NB_TEST_SESSION_CACHE'): os.environ.pop(k, None)
    if _CACHE.get('user'): os.environ['STT_NB_CACHE'] = _CACHE['user']
    else: os.environ.pop('STT_NB_CACHE', None)

@pytest.fixture(scope='session')
def root() -> Path: return ROOT

@pytest.fixture(scope='session')
def test_cache() -> Path:
    "The run's private cache folder (`$STT_NB_CACHE` during the tests)."
    return Path(_CACHE.get('shared') or _CACHE['STT_NB_CACHE'])

# xdist's `worksteal` scheduler hands each of the two workers a contiguous half of the collected list (the first
# len // 2 items to one, the rest to the other), and later moves tests from the tail of the longer queue to an idle
# worker. So the long tests are dealt out here: each, longest first, to the half whose expected load is smaller, at the
# head of that half; the other tests fill both halves up to equal counts. The seconds are --durations of a fresh-clone
# `.ci/run` on a quiet 2-core machine (one thread per worker), for the pass they belong to (the generic-kernel pass
# runs other tests, and slower); a test not named here counts as short. Without xdist this is just an order.
EXPECTED_SECONDS = {
    'default': {'test_notebook[40_ablations.ipynb]': 252, 'test_notebook[10_contrastive.ipynb]': 172,
                'test_notebook[05_toys.ipynb]': 91, 'test_sigkill_then_resume_is_exact': 79,
                'test_notebook[41_demo.ipynb]': 60, 'test_tutorial[02_inside_the_losses.ipynb]': 49,
                'test_notebook[13_stt.ipynb]': 44, 'test_ablate_runs_lists_and_resumes': 44,
                'test_notebook[33_evaluate.ipynb]': 42,
                'test_stt_train_sync_bn_two_processes_equal_one_with_the_global_batch[temporal]': 40,
                'test_tutorial[01_quickstart.ipynb]': 35, 'test_tutorial[03_evaluate_any_features.ipynb]': 33,
                'test_stt_train_sync_bn_two_processes_equal_one_with_the_global_batch[spatial]': 31,
                'test_benchmarks_are_held_out[tiny-65-535]': 30, 'test_notebook[01_backbone.ipynb]': 29},
    'generic': {'test_notebook[33_evaluate.ipynb]': 70, 'test_notebook[13_stt.ipynb]': 55,
                'test_tutorial[02_inside_the_losses.ipynb]': 64, 'test_tutorial[03_evaluate_any_features.ipynb]': 58,
                'test_notebook[01_backbone.ipynb]': 49, 'test_notebook[10_contrastive.ipynb]': 47,
                'test_stt_train_sync_bn_two_processes_equal_one_with_the_global_batch[temporal]': 47,
                'test_stt_train_sync_bn_two_processes_equal_one_with_the_global_batch[spatial]': 32,
                'test_notebook[22_diagnostics.ipynb]': 20, 'test_ddp_ranks_stay_in_sync': 19,
                'test_notebook[31_metrics.ipynb]': 15, 'test_notebook[34_correspondence.ipynb]': 13,
                'test_cpu_sync_batchnorm_equals_batchnorm_on_the_global_batch': 12,
                'test_notebook[30_propagation.ipynb]': 10},
}

def balanced_order(items: list, seconds: dict) -> list:
    "`items` reordered so that two contiguous halves (first len // 2, then the rest) carry equal expected seconds."
    long = sorted((it for it in items if it.name in seconds), key=lambda it: -seconds[it.name])
    rest = [it for it in items if it.name not in seconds]
    heads, load = ([], []), [0.0, 0.0]
    for it in long:                                               # longest first, to the lighter half
        k = int(load[1] < load[0]); heads[k].append(it); load[k] += seconds[it.name]
    fill = len(items) // 2 - len(heads[0])
    if fill < 0: return long + rest                              # too few tests to balance: longest first
    return heads[0] + rest[:fill] + heads[1] + rest[fill:]

def pytest_collection_modifyitems(config, items):
    items[:] = balanced_order(items, EXPECTED_SECONDS['generic' if os.environ.get('ATEN_CPU_CAPABILITY') else 'default'])

# Tests whose claims do not depend on which float kernels run: error messages and bookkeeping (run and result
# identity, caches, locks, reports, the grid's kill/resume layer, the files a command writes), media decoding, the toy
# generators (NumPy and Pillow) and pixel hashing, the official-metric equality (NumPy), the learning-rate schedules
# (Python floats), checkpoint and RNG-state I/O, and exact resume (test_resume: a killed and resumed run against the
# same run uninterrupted, on the same kernels in the same pass; which kernels compute the steps does not change
# whether the state is restored exactly, and the generic pass runs one thread, so it is as deterministic). The generic-kernel pass of
# CI (`ATEN_CPU_CAPABILITY` set: a numerics check, see developing.ipynb) skips them with this reason instead of
# repeating them: every torch float computation they drive is the engine, the models, the propagation and the
# evaluation that the rest of the suite checks under those kernels, with its tolerances (notebooks 00-03, 10-34,
# test_training_ddp, tutorials 02-03). 05_toys also measures its benchmarks' floors with a random
# ResNet, against thresholds several points of J&F away from the measured values (e.g. random <= 0.50, measured
# about 0.2): rounding differences between kernels move a score by far less than that.
KERNEL_INDEPENDENT_FILES = ('test_cli.py', 'test_bad_input.py', 'test_heldout.py', 'test_data_scripts.py',
                            'test_readme.py', 'test_sync.py', 'test_resume.py', 'test_ci_order.py')
KERNEL_INDEPENDENT = tuple(f'test_notebook[{n}.ipynb]' for n in ('04_media', '05_toys', '06_puppets', '08_optim', '09_runfiles', '92_embedded',
                                                                    '21_runs', '23_toytask', '39_scales', '40_ablations',
                                                                    '41_demo', '90_cli', '91_readme')) + \
                     ('test_tutorial[01_quickstart.ipynb]', 'test_tutorial[04_reproduce_the_paper.ipynb]')

def pytest_runtest_setup(item):
    if os.environ.get('ATEN_CPU_CAPABILITY') and (item.name in KERNEL_INDEPENDENT or
                                                  Path(str(item.fspath)).name in KERNEL_INDEPENDENT_FILES):
        pytest.skip('kernel-independent (messages, bookkeeping, media, hashing): run in the default pass, not '
                    'repeated in the generic-kernel pass (tests/conftest.py KERNEL_INDEPENDENT)')
