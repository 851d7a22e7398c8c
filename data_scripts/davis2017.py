#!/usr/bin/env python3
"""Download, verify and index DAVIS-2017 trainval 480p (the semi-supervised VOS benchmark; evaluation on val).

Steps: fetch `DAVIS-2017-trainval-480p.zip` (resumable) → checksum if one is given → safe extraction into
`<root>/davis2017/` → layout and val-split count checks → frame-index JSON per split → optional resized copy.
Run `python data_scripts/davis2017.py --help` for the options.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

try:
    from . import _common as C
except ImportError:  # run as a script: data_scripts/ is on sys.path
    import _common as C

NAME = 'davis2017'
ARCHIVE = C.ArchiveSpec(
    filename='DAVIS-2017-trainval-480p.zip',
    url='https://data.vision.ee.ethz.ch/csergi/share/davis/DAVIS-2017-trainval-480p.zip',
    md5=None, sha256=None)
# DAVIS-2017 val in 480p (evaluation.md §8): 30 sequences, 61 objects, 1,999 frames.
VAL_SEQUENCES, VAL_FRAMES, VAL_OBJECTS = 30, 1999, 61
LAYOUT = ('JPEGImages/480p', 'Annotations/480p', 'ImageSets/2017')

DESCRIPTION = f"""\
Prepare DAVIS-2017 (trainval, 480p) for label-propagation evaluation.

Source: the DAVIS challenge (https://davischallenge.org, "DAVIS 2017" page). Default download URL
  {ARCHIVE.url}
  (as published by the DAVIS site and used widely by third-party scripts; not verified here). No md5/sha256 is
  published, so the archive is checked by its zip CRCs and by file counts: the val split must have
  {VAL_SEQUENCES} sequences, {VAL_FRAMES:,} frames and {VAL_OBJECTS} objects (largest id in each first-frame mask),
  with one annotation PNG per frame.

Result (under --root):
  davis2017/downloads/DAVIS-2017-trainval-480p.zip   (kept unless --remove-archive)
  davis2017/DAVIS/JPEGImages/480p/<seq>/00000.jpg ...
  davis2017/DAVIS/Annotations/480p/<seq>/00000.png ...  (indexed PNGs, object ids)
  davis2017/DAVIS/ImageSets/2017/{{train,val}}.txt
  davis2017/DAVIS/frame_index_<split>.json   {{sequence: ["00000", "00001", ...]}}  (stems of the .jpg frames,
                                              sorted; one file per ImageSets/2017 list)
  davis2017/DAVIS/JPEGImages/480p_s<N>/...  with --resize-short N (training use only: evaluation reads 480p)
  davis2017/.done-<step>                      markers; a rerun skips finished steps

Exit codes: 0 ready; 1 error (one line naming the file); 2 manual action needed."""


def parse_args(argv):
    p = argparse.ArgumentParser(prog='davis2017.py', description=DESCRIPTION,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    C.add_common_args(p, archive_help="use this already downloaded DAVIS-2017-trainval-480p.zip instead of "
                                      "downloading", url_default=ARCHIVE.url)
    p.add_argument('--expect-sequences', type=int, metavar='N', default=VAL_SEQUENCES,
                   help=f"sequences in ImageSets/2017/val.txt (default {VAL_SEQUENCES}; negative: no check)")
    p.add_argument('--expect-frames', type=int, metavar='N', default=VAL_FRAMES,
                   help=f"frames of the val sequences (default {VAL_FRAMES}; negative: no check)")
    p.add_argument('--expect-objects', type=int, metavar='N', default=VAL_OBJECTS,
                   help=f"objects in the val first-frame masks (default {VAL_OBJECTS}; negative: no check)")
    return p.parse_args(argv)


def read_split(path: Path) -> list[str]:
    "Sequence names of an ImageSets list (one per line; blank lines ignored)."
    return [s.strip() for s in path.read_text().splitlines() if s.strip()]


def count_objects(ann_dir: Path, first: str) -> int:
    "Largest object id in a sequence's first annotation (255 = void counts as background), as the evaluator does."
    import numpy as np
    from PIL import Image
    path = ann_dir / f'{first}.png'
    try:
        with Image.open(path) as im:
            if im.mode not in ('P', 'L'):
                raise C.PrepError(f"{path}: expected an indexed ('P') or grey ('L') PNG, got mode {im.mode!r}")
            ids = np.asarray(im)
    except OSError as e:
        raise C.PrepError(f"{path}: cannot read annotation ({e})") from None
    ids = ids[ids != 255]
    return int(ids.max()) if ids.size else 0


def verify_and_index(ddir: Path, args) -> dict[str, dict[str, list[str]]]:
    "Check every split's sequences (frames and one annotation per frame), val counts; write the indexes."
    sets = ddir / 'ImageSets' / '2017'
    splits = sorted(p.stem for p in sets.glob('*.txt'))
    if 'val' not in splits:
        raise C.PrepError(f"{sets / 'val.txt'}: file not found")
    frames_root, ann_root = ddir / 'JPEGImages' / '480p', ddir / 'Annotations' / '480p'
    indexes = {}
    for split in splits:
        seqs = read_split(sets / f'{split}.txt')
        index = C.build_frame_index(frames_root, seqs, exts=('.jpg', '.jpeg'))
        for s, frames in index.items():
            anns = [p.stem for p in C.frame_files(ann_root / s, ('.png',))]
            if anns != frames:
                missing = sorted(set(frames) - set(anns)) or sorted(set(anns) - set(frames))
                raise C.PrepError(f"{ann_root / s}: annotations do not match the {len(frames)} frames "
                                  f"(e.g. {missing[0] if missing else 'order'}); re-extract with --force")
        indexes[split] = index
        if split == 'val':
            n_seq, n_frames = C.index_counts(index)
            C.check_count('val sequences', n_seq, args.expect_sequences, sets / 'val.txt')
            C.check_count('val frames', n_frames, args.expect_frames, frames_root)
            n_obj = sum(count_objects(ann_root / s, fr[0]) for s, fr in index.items())
            C.check_count('val objects', n_obj, args.expect_objects, ann_root)
    for split, index in indexes.items():
        C.write_frame_index(ddir / f'frame_index_{split}.json', index)
    return indexes


def main(argv=None) -> int:
    args = parse_args(argv)

    def body():
        home, steps = C.dataset_home(args, NAME)
        spec = C.ArchiveSpec(ARCHIVE.filename, ARCHIVE.url, args.md5 or ARCHIVE.md5, args.sha256 or ARCHIVE.sha256)
        present = C.layout_present(home, LAYOUT)
        C.obtain_and_extract(home, spec, steps, archive=args.archive, url=args.url, layout_present=present,
                             check=not args.no_checksum, remove_archive=args.remove_archive,
                             instructions=f"davis2017: cannot download; fetch {ARCHIVE.url} yourself and pass "
                                          f"--archive PATH")
        ddir = C.find_dataset_dir(home, LAYOUT)
        indexes = verify_and_index(ddir, args)
        src = ddir / 'JPEGImages' / '480p'
        C.resize_step(args, steps, ddir, src, src.with_name(f'480p_s{args.resize_short}'),
                      sorted({s for idx in indexes.values() for s in idx}))
        C.say(f"DAVIS-2017 ready: {ddir}")

    return C.run_main(body, NAME)


if __name__ == '__main__':
    sys.exit(main())
