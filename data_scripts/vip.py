#!/usr/bin/env python3
"""Verify, extract and index VIP (Video Instance-level Parsing, the VIP_Fine part) for the part-propagation benchmark.

VIP has no stable public URL we could verify, so the archive is given by hand (`--archive PATH` or `--url URL`),
or VIP_Fine is already extracted. Run `python data_scripts/vip.py --help` for the options.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

try:
    from . import _common as C
except ImportError:  # run as a script: data_scripts/ is on sys.path
    import _common as C

NAME = 'vip'
VAL_VIDEOS, N_CLASSES = 50, 20  # evaluation.md §7/§8: VIP_Fine val, 50 videos, 20 classes
LAYOUT = ('Images', 'Annotations/Category_ids', 'lists/val_videos.txt')

INSTRUCTIONS = f"""\
vip: VIP must be fetched by hand (no stable direct URL is known here).
  1. Get the VIP dataset released by the LIP/VIP authors (Sun Yat-sen University); the STT README links a
     OneDrive folder (canonical URL not verified here). Only the `VIP_Fine` part is needed:
       VIP_Fine/Images/<video>/<frame>.jpg
       VIP_Fine/Annotations/Category_ids/<video>/<frame>.png   (grey category ids 0-19, 255 ignored)
       VIP_Fine/lists/val_videos.txt                           ({VAL_VIDEOS} val videos)
  2. Run:  python data_scripts/vip.py --root DIR --archive /path/to/VIP_Fine.zip   (zip or tar)
     (or put the VIP_Fine/ folder under DIR/{NAME}/ and omit --archive)."""

DESCRIPTION = f"""\
Prepare VIP_Fine for the mIoU part-propagation benchmark (val: {VAL_VIDEOS} videos, {N_CLASSES} classes).

Source: the LIP/VIP release (no automatic download). Give the archive with --archive PATH or --url URL (http(s),
file://). No checksum is published; the result is checked by layout and counts: lists/val_videos.txt has
{VAL_VIDEOS} videos, each with frames in Images/ and category maps in Annotations/Category_ids/ whose first map
holds only ids 0-{N_CLASSES - 1} (or 255).

Result (under --root):
  {NAME}/VIP_Fine/Images/<video>/<frame>.jpg ...
  {NAME}/VIP_Fine/Annotations/Category_ids/<video>/<frame>.png ...
  {NAME}/VIP_Fine/frame_index_val.json    {{video: [frame stems of Images/<video>, sorted]}}
  {NAME}/VIP_Fine/Images_s<N>/...         with --resize-short N (evaluation itself resizes to 560x560)
  {NAME}/.done-<step>                     markers; a rerun skips finished steps

Exit codes: 0 ready; 1 error (one line naming the file); 2 manual download needed (instructions printed)."""


def parse_args(argv):
    p = argparse.ArgumentParser(prog='vip.py', description=DESCRIPTION,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    C.add_common_args(p, archive_help="the VIP (or VIP_Fine) archive you downloaded (zip or tar)", url_default=None)
    p.add_argument('--expect-videos', type=int, metavar='N', default=VAL_VIDEOS,
                   help=f"videos in lists/val_videos.txt (default {VAL_VIDEOS}; negative: no check)")
    return p.parse_args(argv)


def check_category_map(path: Path) -> None:
    "A VIP category map must be a single-channel PNG with ids 0..19 or 255."
    import numpy as np
    from PIL import Image
    try:
        with Image.open(path) as im:
            if im.mode not in ('L', 'P'):
                raise C.PrepError(f"{path}: expected a grey ('L') or indexed ('P') PNG of category ids, "
                                  f"got mode {im.mode!r}")
            ids = np.unique(np.asarray(im))
    except OSError as e:
        raise C.PrepError(f"{path}: cannot read category map ({e})") from None
    bad = [int(i) for i in ids if i >= N_CLASSES and i != 255]
    if bad:
        raise C.PrepError(f"{path}: category id {bad[0]} outside 0-{N_CLASSES - 1} (and 255)")


def main(argv=None) -> int:
    args = parse_args(argv)

    def body():
        home, steps = C.dataset_home(args, NAME)
        present = C.layout_present(home, LAYOUT)
        name = (Path(args.archive).name if args.archive else
                Path(args.url.rstrip('/')).name if args.url else 'VIP_Fine.zip')
        C.obtain_and_extract(home, C.ArchiveSpec(name, None, args.md5, args.sha256), steps, archive=args.archive,
                             url=args.url, layout_present=present, check=not args.no_checksum,
                             remove_archive=args.remove_archive, instructions=INSTRUCTIONS)
        ddir = C.find_dataset_dir(home, LAYOUT)
        list_path = ddir / 'lists' / 'val_videos.txt'
        videos = list(dict.fromkeys(s.strip() for s in list_path.read_text().splitlines() if s.strip()))
        C.check_count('val videos', len(videos), args.expect_videos, list_path)
        index = C.build_frame_index(ddir / 'Images', videos)
        ann_root = ddir / 'Annotations' / 'Category_ids'
        for v, frames in index.items():
            anns = C.frame_files(ann_root / v, ('.png',))
            if not anns:
                raise C.PrepError(f"{ann_root / v}: no category maps")
            orphans = sorted(set(a.stem for a in anns) - set(frames))
            if orphans:
                raise C.PrepError(f"{ann_root / v / (orphans[0] + '.png')}: category map without a frame in "
                                  f"{ddir / 'Images' / v}")
            if anns[0].stem != frames[0]:
                C.say(f"warning: {ann_root / v}: first category map {anns[0].name} is not for the first frame "
                      f"{frames[0]}")
            check_category_map(anns[0])
        C.write_frame_index(ddir / 'frame_index_val.json', index)
        C.resize_step(args, steps, ddir, ddir / 'Images', ddir / f'Images_s{args.resize_short}', videos)
        C.say(f"VIP_Fine ready: {ddir}")

    return C.run_main(body, NAME)


if __name__ == '__main__':
    sys.exit(main())
