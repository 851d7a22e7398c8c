"""DDP on CPU: two gloo processes launched by `torchrun` on 127.0.0.1 train the toy task of `stt_nb.training`
and must end with identical parameters (the notebook runs the same check as a `slow` cell)."""
import os, socket, subprocess, sys
from pathlib import Path

import torch

SCRIPT = '''
import os, sys, torch
from stt_nb.core import config_from_dict
from stt_nb.training import ToyTask, task_config_class, train
out = sys.argv[1]; task = ToyTask()
cfg = config_from_dict(task_config_class(task), {
    'run': {'out_dir': out, 'name': 'ddp', 'log_every': 1, 'ckpt_every': 3, 'progress': False, 'device': 'cpu',
            'tensorboard': False},
    'optim': {'name': 'sgd', 'lr': 0.05}, 'loop': {'epochs': 2, 'batch_size': 4},
    'data': {'n_patches': 24, 'patch': 8}})
res = train(cfg, task)
torch.save(dict(res.model.named_parameters()), os.path.join(out, f"params_rank{os.environ['RANK']}.pt"))
'''

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def test_ddp_ranks_stay_in_sync(tmp_path: Path):
    from stt_nb.training import read_metrics
    (tmp_path / 'script.py').write_text(SCRIPT)
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    for k in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MASTER_ADDR', 'MASTER_PORT'): env.pop(k, None)
    p = subprocess.run([sys.executable, '-m', 'torch.distributed.run', '--nnodes', '1', '--nproc_per_node', '2',
                        '--master_addr', '127.0.0.1', '--master_port', str(_free_port()),
                        str(tmp_path / 'script.py'), str(tmp_path)],
                       env=env, capture_output=True, text=True, timeout=240)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-4000:]
    a, b = (torch.load(tmp_path / f'params_rank{r}.pt', weights_only=True) for r in (0, 1))
    assert set(a) == set(b) and all(torch.equal(a[k], b[k]) for k in a), 'the two ranks ended with different parameters'
    ck = torch.load(tmp_path / 'ddp/checkpoints/latest.pt', weights_only=True)
    assert ck['step'] == 6 and ck['world_size'] == 2 and len(ck['rng']) == 2      # 24 samples / 2 ranks / batch 4 × 2 epochs
    assert all(torch.equal(ck['model'][k], a[k]) for k in a)                      # rank 0 checkpointed these weights
    assert not torch.equal(ck['rng'][0]['torch'], ck['rng'][1]['torch'])          # ranks draw different randomness
    assert read_metrics(tmp_path / 'ddp')['step'].tolist() == list(range(1, 7))   # one log, written by rank 0 only
