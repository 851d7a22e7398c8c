"""Execute every tutorial (`nbs/tutorials/*.ipynb`) through a real Jupyter kernel, one pytest test per tutorial.

This is how JupyterLab runs a notebook: a fresh `python3` ipykernel process (here: this very interpreter,
`sys.executable`, through a kernelspec written to a temporary folder), the notebook's folder as working directory,
cells sent one by one over the Jupyter protocol by `nbclient`. The kernel gets `STT_NB_FAST=1`, so each tutorial
runs its fast mode. A cell that raises fails the test with the notebook, the cell and the error in the message
(cells tagged `raises-exception` may raise: that is nbclient's and JupyterLab's convention for deliberate errors).
The executed notebook is discarded: nothing is written back into the repository.

`tests/test_notebooks.py` runs the other notebooks in-process with nbdev and leaves `nbs/tutorials/` to this file.
"""
from __future__ import annotations
import json, os, re, sys, time
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL_DIR = ROOT / 'nbs' / 'tutorials'
TUTORIALS = sorted(p for p in TUTORIAL_DIR.glob('*.ipynb') if not p.name.startswith(('_', '.')))
CELL_TIMEOUT = 600                     # seconds per cell
KERNEL_ENV = {'STT_NB_FAST': '1'}      # the tutorials' fast mode

_ANSI = re.compile(r'\x1b\[[0-9;]*[A-Za-z]')

def _write_kernelspec(folder: Path) -> Path:
    "A `python3` kernelspec in `folder/python3` whose kernel is this interpreter (not whatever `python` is on PATH)."
    spec = folder / 'python3'
    spec.mkdir(parents=True, exist_ok=True)
    (spec / 'kernel.json').write_text(json.dumps({
        'argv': [sys.executable, '-m', 'ipykernel_launcher', '-f', '{connection_file}'],
        'display_name': 'Python 3 (ipykernel, tests)', 'language': 'python'}))
    return folder

def _kernel_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    "The environment of the test process, minus a forced matplotlib backend (JupyterLab uses inline), plus `extra`."
    env = {k: v for k, v in os.environ.items() if k != 'MPLBACKEND'}
    env.update(KERNEL_ENV if extra is None else extra)
    return env

def _describe(path: Path, nb, index: int | None, exc: BaseException) -> str:
    "One message naming the notebook, the failing cell (number and first source lines) and the error."
    try: name = path.relative_to(ROOT)
    except ValueError: name = path
    if index is None: return f"{name}: {type(exc).__name__}: {exc}"
    cell = nb.cells[index]
    code_no = sum(c.cell_type == 'code' for c in nb.cells[:index + 1])
    head = '\n'.join('    ' + l for l in cell.source.splitlines()[:4])
    err = next((o for o in cell.get('outputs', []) if o.get('output_type') == 'error'), None)
    if err is not None:
        tb = _ANSI.sub('', '\n'.join(err.get('traceback', [])[-6:]))
        what = f"{err.get('ename')}: {err.get('evalue')}\n  traceback (end):\n{tb}"
    else:
        what = f"{type(exc).__name__}: {_ANSI.sub('', str(exc)).strip()[-1500:]}"
    return f"{name}: cell {index} (code cell {code_no}) failed:\n{head}\n  error: {what}"

def run_notebook(path: str | os.PathLike, kernel_dir: str | os.PathLike, env: dict[str, str] | None = None,
                 timeout: int = CELL_TIMEOUT):
    """Execute notebook `path` in a fresh kernel (cwd = its folder); return the executed notebook (not saved).
    Raises `AssertionError` naming the notebook, the cell and the error when a cell fails, times out or the
    kernel dies. `kernel_dir`: a scratch folder for the kernelspec; `env`: variables added to the kernel's."""
    import nbformat
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    ksm = KernelSpecManager(kernel_dirs=[str(_write_kernelspec(Path(kernel_dir)))])
    km = KernelManager(kernel_name='python3', kernel_spec_manager=ksm)
    client = NotebookClient(nb, km=km, kernel_name='python3', timeout=timeout, allow_errors=False,
                            resources={'metadata': {'path': str(path.parent)}})
    current: dict = {}
    client.on_cell_start = lambda cell=None, cell_index=None, **_: current.update(index=cell_index)
    try: client.execute(env=_kernel_env(env))
    except Exception as e:        # CellExecutionError, CellTimeoutError, DeadKernelError, kernel start failures
        raise AssertionError(_describe(path, nb, current.get('index'), e)) from None
    finally:                      # nbclient leaves a kernel manager it was given running: stop the kernel here
        if client.kc is not None: client.kc.stop_channels()
        if km.has_kernel: km.shutdown_kernel(now=True)
    return nb

@pytest.mark.parametrize('nb', TUTORIALS, ids=[p.name for p in TUTORIALS])
def test_tutorial(nb: Path, tmp_path: Path):
    t0 = time.perf_counter()
    run_notebook(nb, tmp_path / 'kernels')
    print(f"{nb.name}: {time.perf_counter() - t0:.1f} s through a Jupyter kernel with {KERNEL_ENV}")

# The harness itself: a good notebook passes and sees what JupyterLab would give it; a failing cell is reported.
def _write_nb(path: Path, *sources: str) -> Path:
    import nbformat
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell('# scratch')]
                                  + [nbformat.v4.new_code_cell(s) for s in sources])
    nbformat.write(nb, path)
    return path

def test_harness_runs_in_a_real_kernel(tmp_path: Path):
    d = tmp_path / 'tut'; d.mkdir()
    nb = run_notebook(_write_nb(d / 'ok.ipynb',
                                "import os, sys\nprint(os.environ.get('STT_NB_FAST'), sys.executable, os.getcwd())",
                                "from IPython import get_ipython\nprint(type(get_ipython()).__name__)"),
                      tmp_path / 'kernels')
    fast, exe, cwd = nb.cells[1].outputs[0]['text'].split()
    assert fast == '1' and Path(exe) == Path(sys.executable) and Path(cwd).resolve() == d.resolve()
    assert nb.cells[2].outputs[0]['text'].strip() == 'ZMQInteractiveShell'    # a kernel, not an in-process shell

def test_harness_reports_the_failing_cell(tmp_path: Path):
    bad = _write_nb(tmp_path / 'bad.ipynb', "x = 1", "y = x + 1\nraise ValueError('boom: ' + str(y))", "z = 3")
    with pytest.raises(AssertionError) as ei: run_notebook(bad, tmp_path / 'kernels')
    msg = str(ei.value)
    assert 'bad.ipynb' in msg and 'cell 2 (code cell 2)' in msg and "y = x + 1" in msg, msg
    assert 'ValueError: boom: 2' in msg, msg
