"`tests/benchmarks/run_queue.sh`: every queued line runs exactly once, failures are recorded and do not stop the rest."
import os, subprocess
from pathlib import Path

SCRIPT = Path(__file__).parent / 'benchmarks' / 'run_queue.sh'

def test_run_queue(tmp_path):
    out = tmp_path / 'out.txt'
    lines = [f'sleep 0.5; echo "$OMP_NUM_THREADS {k}" >> {out}' for k in range(6)] + ['exit 3']
    q = tmp_path / 'queue.txt'
    q.write_text('\n'.join(lines) + '\n')
    r = subprocess.run(['bash', str(SCRIPT), str(q), str(tmp_path / 'logs')], env={**os.environ, 'WORKERS': '2', 'THREADS': '1'},
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1, r.stderr                                        # one line failed
    got = out.read_text().split('\n')[:-1]
    assert sorted(got) == [f'1 {k}' for k in range(6)]                        # each ran once, with THREADS threads
    assert q.read_text() == ''                                                # the queue is empty
    done = [l.split('\t', 1) for l in (tmp_path / 'queue.txt.done').read_text().splitlines()]
    assert sorted(rc for rc, _ in done) == ['0'] * 6 + ['3'] and {l for _, l in done} == set(lines)
    logs = [(tmp_path / 'logs' / f'worker-{i}.log').read_text() for i in (1, 2)]
    assert all('start:' in l for l in logs)                                   # both workers took lines

def test_run_queue_missing(tmp_path):
    r = subprocess.run(['bash', str(SCRIPT), str(tmp_path / 'nope.txt')], capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and 'nope.txt' in r.stderr

def test_run_queue_bad_workers(tmp_path):
    q = tmp_path / 'queue.txt'; q.write_text('echo hi\n')
    r = subprocess.run(['bash', str(SCRIPT), str(q)], env={**os.environ, 'WORKERS': '0'}, capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and 'WORKERS' in r.stderr and q.read_text() == 'echo hi\n'     # nothing taken from the queue
