"""A training process for tests/test_resume.py: `stt_train` run in this process, optionally stalled half-way
through a write so that the test can SIGKILL it there.

usage: python _kill_child.py MODE STEP MARKER STT_TRAIN_ARGS...
  MODE run:  train normally (STEP and MARKER unused)
       log:  stall half-way through appending the metrics line of step STEP
       save: stall half-way through writing checkpoints/step_STEP.pt (inside `save_checkpoint`)
       copy: stall half-way through writing latest.pt after step STEP's checkpoint (the copy that replaces it). Hard
             links are switched off for this, so that latest.pt is written as a copy: a hard link, the default where
             the file system has them, has no half-written state to kill (the link to the temporary name is whole or
             absent, and a rename replaces latest.pt)
When it stalls it creates the file MARKER and sleeps until killed.
"""
import json, os, sys, time
from contextlib import contextmanager
from pathlib import Path

import stt_nb.runfiles as R
import stt_nb.training as T
from stt_nb.cli import stt_train_main

HALF = 4 << 20          # bytes of a checkpoint written before stalling (a tiny-run checkpoint is ~130 MB)

def _stall(marker: str):
    Path(marker).write_text('stalled')
    time.sleep(3600)

class _StallingFile:
    "File proxy: forwards writes until `limit` bytes are out, writes up to the limit, flushes, and stalls."
    def __init__(self, f, limit: int, marker: str): self.f, self.left, self.marker = f, limit, marker
    def write(self, b):
        if len(b) >= self.left:
            self.f.write(b[:self.left]); self.f.flush(); _stall(self.marker)
        self.left -= len(b)
        return self.f.write(b)
    def __getattr__(self, name): return getattr(self.f, name)

class _NoHardLinks:
    "`os` for stt_nb.runfiles, as on a file system without hard links."
    def __getattr__(self, name): return getattr(os, name)
    def link(self, *a, **k): raise OSError(1, 'hard links switched off by _kill_child.py')

def main(mode: str, step: int, marker: str, argv: list[str]) -> int:
    if mode == 'log':
        log = T._Logger.log
        def stalling_log(self, row):
            if self.enabled and row['step'] == step:
                line = json.dumps(row) + '\n'
                with open(self.path, 'a') as f: f.write(line[:len(line) // 2]); f.flush()
                _stall(marker)
            return log(self, row)
        T._Logger.log = stalling_log
    elif mode in ('save', 'copy'):
        atomic_write = T.atomic_write
        def target(p: Path) -> bool:
            if mode == 'save': return p.name == f'step_{step:06d}.pt'
            return p.name == 'latest.pt' and (p.parent / f'step_{step:06d}.pt').exists()
        @contextmanager
        def stalling_atomic_write(path, mode='wb'):
            with atomic_write(path, mode) as f:
                yield _StallingFile(f, HALF, marker) if target(Path(path)) else f
        R.atomic_write = stalling_atomic_write        # what save_checkpoint and link_checkpoint's copy call (stt_nb.runfiles)
        if mode == 'copy': R.os = _NoHardLinks()      # link_checkpoint falls back to copying
    elif mode != 'run': raise SystemExit(f'unknown mode {mode!r}')
    return stt_train_main(argv)

if __name__ == '__main__':
    sys.exit(main(sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]))
