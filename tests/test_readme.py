"""The README's two set-up commands are what CI runs and what the notebooks document."""
from pathlib import Path
import json, re

ROOT = Path(__file__).resolve().parents[1]

def _ci_command() -> str:
    m = re.search(r"^TEST_CMD='(.*)'$", (ROOT / '.ci' / 'run').read_text(), re.M)
    assert m, ".ci/run must define TEST_CMD='...'"
    return m.group(1)

def test_ci_runs_the_readme_test_command():
    cmd = _ci_command()
    assert cmd in (ROOT / 'README.md').read_text(), f"README.md does not contain the CI test command {cmd!r}"
    src = ''.join(''.join(c['source']) for c in json.loads((ROOT / 'nbs' / 'index.ipynb').read_text())['cells'])
    assert cmd in src, "nbs/index.ipynb (the README's source) does not contain the CI test command"

def test_readme_is_generated_from_index():
    "README.md is the markdown of nbs/index.ipynb (see nbs/index.ipynb for how it is regenerated)."
    from stt_nb.readme import render_readme
    assert render_readme(ROOT / 'nbs' / 'index.ipynb') == (ROOT / 'README.md').read_text(), \
        "README.md is stale: run `python -m stt_nb.readme` after editing nbs/index.ipynb"

def test_quarto_sidebar_lists_every_notebook():
    "Users with Quarto get a page per notebook: nbs/sidebar.yml names each one (and nothing that does not exist)."
    import yaml
    def names(items):
        for it in items:
            if isinstance(it, str): yield it
            else: yield from names(it.get('contents', []))
    listed = set(names(yaml.safe_load((ROOT / 'nbs' / 'sidebar.yml').read_text())['website']['sidebar']['contents']))
    present = {str(p.relative_to(ROOT / 'nbs')) for p in (ROOT / 'nbs').rglob('*.ipynb')
               if '.ipynb_checkpoints' not in p.parts and not p.name.startswith('_')}
    assert listed == present, f"missing from sidebar: {sorted(present - listed)}; listed but absent: {sorted(listed - present)}"
