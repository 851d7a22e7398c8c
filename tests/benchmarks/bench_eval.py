"""Benchmark: the DAVIS evaluation pipeline end to end at 480p (ResNet-18, stride 8, backbone included), CPU by default.

One toy DAVIS sequence at 854×480 (`stt_nb.toys.toy_davis(height=480)`, the size of DAVIS-2017 val frames) goes
through the same functions `run_eval` chains: decoding (`DavisReader`), the test-layout backbone (Lab input, batches,
inference mode, channels-last), propagation of the STT protocol with PNG writing (`predict_segmentation`), and scoring
(`score_davis`). It prints seconds per frame for each stage and projects the time for the 1,999 frames of DAVIS-2017
val: 30 sequences, so 1,969 propagated frames whose context holds n distinct key frames for n <= 20 and 21 after
(35,049 frame-slots in all); the propagation time per frame is fitted as a + b * slots on the measured frames.
Wall-clock times depend on what else runs on the machine, so the CPU time of each stage is printed too: on an idle
machine with 2 cores the wall time of a stage is about its CPU time / 2 (all stages use both cores).

    python tests/benchmarks/bench_eval.py [--frames 24] [--threads 2] [--device cpu|cuda] [--batch-size 10]
"""
import argparse, tempfile, time

DAVIS_VAL_FRAMES, DAVIS_VAL_SEQUENCES = 1999, 30

def davis_val_slots(n_context: int = 20) -> int:
    "Frame-slots of DAVIS-2017 val under the STT context (frame 0 computed once even when it counts twice)."
    per_seq_first = sum(range(1, n_context + 1))                          # n = 1..20: n distinct frames
    rest = DAVIS_VAL_FRAMES - DAVIS_VAL_SEQUENCES * (n_context + 1)        # frames with n > 20
    return DAVIS_VAL_SEQUENCES * per_seq_first + rest * (n_context + 1)

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--frames', type=int, default=24, help='frames of the toy sequence (default 24)')
    p.add_argument('--threads', type=int, default=2, help='torch threads (default 2: the CPU target)')
    p.add_argument('--device', default='cpu'); p.add_argument('--batch-size', type=int, default=10)
    a = p.parse_args(argv)
    import numpy as np, torch
    torch.set_num_threads(a.threads)
    from stt_nb.toys import toy_davis
    from stt_nb.data import DavisReader
    from stt_nb.evaluate import (load_eval_backbone, extract_features, predict_segmentation, score_davis,
                                 task_input_size, write_label_png)
    from stt_nb.propagation import get_protocol, context_frames
    root = toy_davis(n_sequences=1, n_frames=a.frames, height=480)
    cpu = {}
    t0, c0 = time.perf_counter(), time.process_time()
    reader = DavisReader(root)
    sample = reader[0]
    t_read, cpu['decode'] = time.perf_counter() - t0, time.process_time() - c0
    T = len(sample)
    model, _ = load_eval_backbone('random', 18, 8)
    size = task_input_size('davis', *sample.size)
    extract_features(model, sample.frames[:2], size, a.device, a.batch_size)      # warm-up
    t0, c0 = time.perf_counter(), time.process_time()
    feats = extract_features(model, sample.frames, size, a.device, a.batch_size)
    t_backbone, cpu['backbone'] = time.perf_counter() - t0, time.process_time() - c0
    protocol = get_protocol('stt', 'davis', 8)
    with tempfile.TemporaryDirectory() as out:
        stamps = []
        def on_frame(n, mask):
            write_label_png(out, sample.name, sample.frame_names[n], mask)
            stamps.append(time.perf_counter())
        t0, c0 = time.perf_counter(), time.process_time()
        predict_segmentation(sample, feats, protocol, on_frame, a.device)
        t_prop, cpu['propagation'] = time.perf_counter() - t0, time.process_time() - c0
        t0, c0 = time.perf_counter(), time.process_time()
        res = score_davis(root, out, n_workers=1)
        t_metrics, cpu['metrics'] = time.perf_counter() - t0, time.process_time() - c0
    per = np.diff(stamps)                                                   # per[n-1]: frame n (propagate + upsample + PNG)
    slots = np.array([len({f for f, _, r in context_frames(n, protocol) if r}) for n in range(1, T)])
    b, c = np.polyfit(slots, per, 1)
    total_slots = davis_val_slots(protocol.n_context)
    n_prop = DAVIS_VAL_FRAMES - DAVIS_VAL_SEQUENCES
    proj = dict(decode=t_read / T * DAVIS_VAL_FRAMES, backbone=t_backbone / T * DAVIS_VAL_FRAMES,
                propagation=c * n_prop + b * total_slots, metrics=t_metrics / (T - 2) * (DAVIS_VAL_FRAMES - 2 * DAVIS_VAL_SEQUENCES) / max(1, a.threads))
    total = sum(proj.values())
    wall = dict(decode=t_read, backbone=t_backbone, propagation=t_prop, metrics=t_metrics)
    idle = sum(proj[k] * cpu[k] / wall[k] / min(2, a.threads) for k in proj if wall[k] > 0)
    import os
    print(f"DAVIS-size pipeline: {sample.size[1]}x{sample.size[0]} frames, {T} frames, ResNet-18 stride 8 "
          f"({feats.shape[2]}x{feats.shape[3]}x{feats.shape[1]} features), device={a.device}, threads={a.threads}, "
          f"load average {os.getloadavg()[0]:.1f}")
    print("  stage        wall s/frame   CPU s/frame")
    for k in ('decode', 'backbone', 'propagation', 'metrics'):
        n = T - 1 if k == 'propagation' else (T - 2 if k == 'metrics' else T)
        print(f"  {k:<12} {wall[k] / n:>12.3f}   {cpu[k] / n:>11.3f}")
    print(f"  decode     : {t_read / T:.3f} s/frame")
    print(f"  backbone   : {t_backbone / T:.2f} s/frame (batch {a.batch_size}, inference mode, channels-last)")
    print(f"  propagation: {t_prop / (T - 1):.2f} s/frame on this run (mean {slots.mean():.1f} key frames); fitted "
          f"{c:.3f} + {b:.3f} x key frames s/frame -> {c + 21 * b:.2f} s/frame with 21 key frames")
    print(f"  metrics    : {t_metrics / (T - 2):.3f} s/frame (one process)")
    print(f"  this run   : {(t_read + t_backbone + t_prop + t_metrics) / T:.2f} s/frame end to end "
          f"(J&F of the random backbone {res.scores()['J&F-Mean']:.3f})")
    print(f"  projected DAVIS-2017 val ({DAVIS_VAL_FRAMES} frames, {total_slots} frame-slots): {total / 60:.1f} min "
          f"[decode {proj['decode'] / 60:.1f}, backbone {proj['backbone'] / 60:.1f}, propagation "
          f"{proj['propagation'] / 60:.1f}, metrics {proj['metrics'] / 60:.1f} min]   (target <= 40 min on 2 cores)")
    print(f"  projected on {min(2, a.threads)} idle cores (CPU time / {min(2, a.threads)}): {idle / 60:.1f} min")

if __name__ == '__main__': main()
