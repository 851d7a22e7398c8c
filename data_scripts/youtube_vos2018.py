#!/usr/bin/env python3
"""Verify, extract and index the YouTube-VOS 2018 training frames (step-2 training data of STT).

The archive needs a CodaLab registration, so this script never downloads it by default: it prints instructions
unless `--archive PATH` (or `--url URL`, e.g. a mirror or file://) is given, or the frames are already extracted.
Run `python data_scripts/youtube_vos2018.py --help` for the options.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import PurePosixPath

try:
    from . import _common as C
except ImportError:  # run as a script: data_scripts/ is on sys.path
    import _common as C

NAME = 'youtube_vos2018'
ARCHIVE = C.ArchiveSpec(filename='train.zip', url=None, md5=None, sha256=None)
# method.md §4.1: the training list holds 3,471 videos and 94,588 frames (6-fps subsampling: 00000, 00005, ...).
VIDEOS, FRAMES = 3471, 94588
LAYOUT = ('JPEGImages',)

INSTRUCTIONS = f"""\
youtube_vos2018: the YouTube-VOS 2018 training set must be downloaded by hand (registration required).
  1. Open https://youtube-vos.org (Dataset page, "2018" challenge) and follow the link to the
     CodaLab competition of the 2018 VOS track; register and accept the terms.
  2. In the competition's data section download the training archive `train.zip` (the 6-fps frames
     JPEGImages/<video>/00000.jpg, 00005.jpg, ... and Annotations/). Do NOT use `train_all_frames.zip`
     (every 30-fps frame; it does not match the {FRAMES:,}-frame list the method uses).
     (Page and file names as published; not verified here.)
  3. Run:  python data_scripts/youtube_vos2018.py --root DIR --archive /path/to/train.zip [--resize-short 256]
     or, if you already unpacked it, move the `train/` folder to DIR/{NAME}/train and run without --archive."""

DESCRIPTION = f"""\
Prepare the YouTube-VOS 2018 training frames (STT step 2 trains on train/JPEGImages only).

Source: youtube-vos.org -> CodaLab (registration required): no automatic download. Give the archive with
--archive PATH (or --url URL for a mirror or a file:// path). No checksum is published; the archive is checked by
its zip CRCs and by counts: {VIDEOS:,} videos and {FRAMES:,} frames (method.md §4.1). Only JPEGImages/ (and
meta.json) are extracted unless --with-annotations.

Result (under --root):
  {NAME}/train/JPEGImages/<video>/00000.jpg, 00005.jpg, ...
  {NAME}/train/frame_index.json          {{video: ["00000", "00005", ...]}}  (stems of the .jpg frames, sorted)
  {NAME}/train/JPEGImages_s<N>/...       with --resize-short N (the method's research configs read short side 256;
                                         same file names, so frame_index.json serves both folders)
  {NAME}/.done-<step>                    markers; a rerun skips finished steps

Exit codes: 0 ready; 1 error (one line naming the file); 2 manual download needed (instructions printed)."""


def parse_args(argv):
    p = argparse.ArgumentParser(prog='youtube_vos2018.py', description=DESCRIPTION,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    C.add_common_args(p, archive_help="the YouTube-VOS 2018 `train.zip` you downloaded from CodaLab",
                      url_default=None)
    p.add_argument('--with-annotations', action='store_true',
                   help="extract the whole archive (Annotations/ too), not only JPEGImages/ and meta.json")
    p.add_argument('--expect-videos', type=int, metavar='N', default=VIDEOS,
                   help=f"videos in JPEGImages (default {VIDEOS}; negative: no check)")
    p.add_argument('--expect-frames', type=int, metavar='N', default=FRAMES,
                   help=f"frames in JPEGImages (default {FRAMES}; negative: no check)")
    return p.parse_args(argv)


def jpeg_only(relpath: str) -> bool:
    "Member filter: keep files under a JPEGImages/ folder and meta.json."
    parts = PurePosixPath(relpath).parts
    return 'JPEGImages' in parts or parts[-1] == 'meta.json'


def main(argv=None) -> int:
    args = parse_args(argv)

    def body():
        home, steps = C.dataset_home(args, NAME)
        spec = C.ArchiveSpec(ARCHIVE.filename, None, args.md5, args.sha256)
        present = C.layout_present(home, LAYOUT)
        C.obtain_and_extract(home, spec, steps, archive=args.archive, url=args.url, layout_present=present,
                             check=not args.no_checksum, remove_archive=args.remove_archive,
                             keep=None if args.with_annotations else jpeg_only, instructions=INSTRUCTIONS)
        ddir = C.find_dataset_dir(home, LAYOUT)
        frames_root = ddir / 'JPEGImages'
        index = C.build_frame_index(frames_root, exts=('.jpg', '.jpeg'))
        n_v, n_f = C.index_counts(index)
        off_grid = sum(1 for fr in index.values() for s in fr if not (s.isdigit() and int(s) % 5 == 0))
        hint = (f" ({off_grid:,} frame name(s) not a multiple of 5: is this train_all_frames.zip? use train.zip)"
                if off_grid else '')
        C.check_count('videos', n_v, args.expect_videos, frames_root, hint)
        C.check_count('frames', n_f, args.expect_frames, frames_root, hint)
        C.write_frame_index(ddir / 'frame_index.json', index)
        C.resize_step(args, steps, ddir, frames_root, ddir / f'JPEGImages_s{args.resize_short}', index)
        C.say(f"YouTube-VOS 2018 train ready: {ddir}")

    return C.run_main(body, NAME)


if __name__ == '__main__':
    sys.exit(main())
