#!/usr/bin/env python3
"""Verify, extract and index JHMDB (frames + joint positions) for the keypoint-propagation benchmark.

JHMDB has no stable direct URL we could verify, so the archives are given by hand (`--archive`, repeatable, or
`--url`, repeatable), or the folders are already extracted. Run `python data_scripts/jhmdb.py --help`.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

try:
    from . import _common as C
except ImportError:  # run as a script: data_scripts/ is on sys.path
    import _common as C

NAME = 'jhmdb'
TEST_VIDEOS = 268  # evaluation.md §6/§8: split-1 test list, 268 videos, 15 joints
LAYOUT = ('Rename_Images', 'joint_positions')

INSTRUCTIONS = f"""\
jhmdb: JHMDB must be fetched by hand (no stable direct URL is known here).
  1. Open http://jhmdb.is.tue.mpg.de (MPI for Intelligent Systems; page layout not verified here) and download
     - the frames, which unpack to  Rename_Images/<class>/<video>/00001.png ...
     - the joint positions, which unpack to  joint_positions/<class>/<video>/joint_positions.mat
     - the split-1 test list: either the official split files (<class>_test_split1.txt, lines "<video>.avi 2"
       for test videos) or a list of "<...>/joint_positions/<class>/<video>/joint_positions.mat
       <...>/Rename_Images/<class>/<video>" lines such as testlist_split1.txt of Liusifei/UVC ({TEST_VIDEOS} lines).
  2. Run:  python data_scripts/jhmdb.py --root DIR --archive FRAMES_ARCHIVE --archive JOINTS_ARCHIVE \\
              --split-list testlist_split1.txt
     (or put Rename_Images/ and joint_positions/ under DIR/{NAME}/ and omit --archive)."""

DESCRIPTION = f"""\
Prepare JHMDB for the PCK keypoint-propagation benchmark (split-1 test: {TEST_VIDEOS} videos, 15 joints).

Source: jhmdb.is.tue.mpg.de (no automatic download). Pass the frame and joint-position archives with --archive
(repeatable; zip or tar), or --url (repeatable; http(s) or file://). No checksums are published; the result is
checked by layout (every listed video has frames and a joint_positions.mat) and by the number of test videos.

Result (under --root):
  {NAME}/Rename_Images/<class>/<video>/00001.png ...
  {NAME}/joint_positions/<class>/<video>/joint_positions.mat
  {NAME}/frame_index_all.json            {{"<class>/<video>": ["00001", "00002", ...]}}  every video found
  {NAME}/frame_index_split1_test.json    same, only the split-1 test videos (with --split-list)
  {NAME}/Rename_Images_s<N>/...          with --resize-short N (evaluation itself resizes to 320x320)
  {NAME}/.done-<step>                    markers; a rerun skips finished steps
Keys are "<class>/<video>" relative to Rename_Images; values are .png frame stems, sorted.

Exit codes: 0 ready; 1 error (one line naming the file); 2 manual download needed (instructions printed)."""


def parse_args(argv):
    p = argparse.ArgumentParser(prog='jhmdb.py', description=DESCRIPTION,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    C.add_common_args(p, archive_help="a JHMDB archive you downloaded (frames or joint positions); repeat for "
                                      "each archive", url_default=None, several=True)
    p.add_argument('--split-list', type=Path, default=None,
                   help="the split-1 test list: a file of UVC/STT-style lines (paths containing "
                        "Rename_Images/<class>/<video> or joint_positions/<class>/<video>, or '<class>/<video>'), "
                        "or a folder of official <class>_test_split1.txt files (label 2 = test)")
    p.add_argument('--expect-videos', type=int, metavar='N', default=TEST_VIDEOS,
                   help=f"videos in the split list (default {TEST_VIDEOS}; negative: no check)")
    return p.parse_args(argv)


_PATH_RE = re.compile(r'(?:Rename_Images|joint_positions)/([^/\s]+)/([^/\s]+)')


def read_split_list(path: Path) -> list[str]:
    """'<class>/<video>' names of the split-1 test videos, in file order without duplicates.

    A file: each non-empty line yields the first `Rename_Images/<c>/<v>` or `joint_positions/<c>/<v>` it contains,
    or is itself '<class>/<video>'. A folder: every `<class>_test_split1.txt` in it, lines '<video>.avi <label>' with
    label 2 = test (the official JHMDB split format as we understand it; not verified here)."""
    names: list[str] = []
    if path.is_dir():
        files = sorted(path.glob('*_test_split1.txt'))
        if not files:
            raise C.PrepError(f"{path}: no *_test_split1.txt files")
        for f in files:
            cls = f.name[:-len('_test_split1.txt')]
            for k, line in enumerate(f.read_text().splitlines(), 1):
                tok = line.split()
                if not tok:
                    continue
                if len(tok) != 2 or tok[1] not in ('0', '1', '2'):
                    raise C.PrepError(f"{f}:{k}: expected '<video>.avi <0|1|2>', got {line.strip()!r}")
                if tok[1] == '2':
                    names.append(f"{cls}/{Path(tok[0]).stem}")
    elif path.is_file():
        for k, line in enumerate(path.read_text().splitlines(), 1):
            s = line.strip().replace('\\', '/')
            if not s:
                continue
            m = _PATH_RE.search(s)
            if m:
                names.append(f"{m.group(1)}/{m.group(2)}")
            elif re.fullmatch(r'[^/\s]+/[^/\s]+', s):
                names.append(s)
            else:
                raise C.PrepError(f"{path}:{k}: cannot find '<class>/<video>' in {s[:80]!r}")
    else:
        raise C.PrepError(f"{path}: split list not found")
    return list(dict.fromkeys(names))


def all_videos(frames_root: Path) -> list[str]:
    "'<class>/<video>' for every video folder under Rename_Images."
    return sorted(f"{c.name}/{v.name}" for c in frames_root.iterdir() if c.is_dir() and not c.name.startswith('.')
                  for v in c.iterdir() if v.is_dir() and not v.name.startswith('.'))


def main(argv=None) -> int:
    args = parse_args(argv)

    def body():
        home, steps = C.dataset_home(args, NAME)
        present = all((home / d).is_dir() for d in LAYOUT)
        sources = [(a, None) for a in (args.archive or [])] + [(None, u) for u in (args.url or [])]
        if not sources and not present:
            raise C.ManualDownloadRequired(INSTRUCTIONS)
        if (args.md5 or args.sha256) and len(sources) != 1:
            raise C.PrepError("--md5/--sha256 name the checksum of one archive; give a single --archive or --url "
                              "per run to check several")
        for archive, url in sources:
            name = Path(archive).name if archive else Path(url.rstrip('/')).name
            C.obtain_and_extract(home, C.ArchiveSpec(name, None, args.md5, args.sha256), steps, archive=archive,
                                 url=url, check=not args.no_checksum, remove_archive=args.remove_archive,
                                 instructions=INSTRUCTIONS)
        for d in LAYOUT:
            if not (home / d).is_dir():
                raise C.PrepError(f"{home / d}: folder not found after extraction (did you give both the frames "
                                  f"and the joint-positions archive?)")
        frames_root, joints_root = home / 'Rename_Images', home / 'joint_positions'
        index = C.build_frame_index(frames_root, all_videos(frames_root), exts=('.png',))
        C.write_frame_index(home / 'frame_index_all.json', index)
        videos = sorted(index)
        if args.split_list is not None:
            test = read_split_list(args.split_list)
            C.check_count('split-1 test videos', len(test), args.expect_videos, args.split_list)
            missing = [v for v in test if v not in index]
            if missing:
                raise C.PrepError(f"{frames_root / missing[0]}: video of the split list not found "
                                  f"({len(missing)} missing)")
            for v in test:
                mat = joints_root / v / 'joint_positions.mat'
                if not mat.is_file():
                    raise C.PrepError(f"{mat}: joint positions not found")
            C.write_frame_index(home / 'frame_index_split1_test.json', {v: index[v] for v in test})
            videos = test
        else:
            C.say(f"{home}: no --split-list given; only frame_index_all.json written (the benchmark uses the "
                  f"{TEST_VIDEOS} split-1 test videos)")
        C.resize_step(args, steps, home, frames_root, home / f'Rename_Images_s{args.resize_short}', videos,
                      exts=('.png',), marker={'videos': len(videos)})
        C.say(f"JHMDB ready: {home}")

    return C.run_main(body, NAME)


if __name__ == '__main__':
    sys.exit(main())
