"""The README's two set-up commands are what CI runs and what the notebooks document."""
from pathlib import Path
import json, re

ROOT = Path(__file__).resolve().parents[1]

def _ci_command(name: str = 'TEST_CMD') -> str:
    m = re.search(rf"^{name}='(.*)'$", (ROOT / '.ci' / 'run').read_text(), re.M)
    assert m, f".ci/run must define {name}='...'"
    return m.group(1)

def test_ci_runs_the_readme_test_command():
    "CI runs the README's test command, then the same suite under the README's portable-numerics settings."
    src = ''.join(''.join(c['source']) for c in json.loads((ROOT / 'nbs' / 'index.ipynb').read_text())['cells'])
    for name in ('TEST_CMD', 'PORTABLE_CMD'):
        cmd = _ci_command(name)
        assert cmd in (ROOT / 'README.md').read_text(), f"README.md does not contain the CI command {cmd!r}"
        assert cmd in src, f"nbs/index.ipynb (the README's source) does not contain the CI command {cmd!r}"
    run = (ROOT / '.ci' / 'run').read_text()
    assert '"$TEST_CMD"' in run and '"$PORTABLE_CMD"' in run, ".ci/run must run both commands"

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

def _duplicated_table_rows(text: str) -> list[str]:
    "Rows that appear more than once in the same Markdown table of `text` (tables inside ``` fences are not tables)."
    dups, seen, fenced = [], set(), False
    for line in text.splitlines():
        if line.lstrip().startswith('```'): fenced = not fenced
        if fenced or not line.lstrip().startswith('|'):
            seen = set(); continue                                  # a non-table line ends the table
        row = ' | '.join(c.strip() for c in line.strip().strip('|').split('|'))
        if set(row) <= set('-:| '): continue                         # the header separator |---|---|
        if row in seen: dups.append(line)
        seen.add(row)
    return dups

def test_duplicate_row_detector():
    "The detector itself: a repeated row in one table is found; the same row in two tables or in a code block is not."
    t = "| a | b |\n|---|---|\n| x | 1 |\n| y | 2 |\n|x|1|\n\n| a | b |\n|---|---|\n| x | 1 |\n```\n| y | 2 |\n| y | 2 |\n```\n"
    assert _duplicated_table_rows(t) == ['|x|1|']

def test_readme_tables_have_no_duplicated_rows():
    "Each row of each README table is there once (the status table once listed the ablation row three times)."
    dups = _duplicated_table_rows((ROOT / 'README.md').read_text(encoding='utf-8'))
    assert not dups, f"README.md (from nbs/index.ipynb) repeats table rows: {dups}"

def test_readme_grid_table_is_the_record():
    "The README's grid table is the record's mean ± seed std × 100 per variant and benchmark: it cannot drift from it."
    from stt_nb.ablations import BENCHMARK_TASKS, PRIMARY_METRIC, read_results
    d = read_results(ROOT / 'tests' / 'benchmarks' / 'results' / 'grid_tiny_v4' / 'results.csv')
    labels = {"random init (the students' init)": 'random', 'random init, release scheme': 'random_other_init',
              'spatial only': 'spatial', 'temporal only': 'temporal', 'joint': 'joint', 'spatial-then-temporal': 'st_plain',
              'full STT': 'stt'}
    rows = {}
    for line in (ROOT / 'README.md').read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip('|').split('|')]
        if cells[0] in labels and len(cells) == 1 + len(BENCHMARK_TASKS): rows[labels[cells[0]]] = cells[1:]
    assert set(rows) == set(labels.values()), f"README grid table rows: {sorted(rows)}"
    for v, cells in rows.items():
        for t, cell in zip(BENCHMARK_TASKS, cells):
            x = d[(d['variant'] == v) & (d['task'] == t)][PRIMARY_METRIC[t]] * 100
            assert cell == f'{x.mean():.1f} ± {x.std():.1f}', (v, t, cell, f'{x.mean():.1f} ± {x.std():.1f}')
