#!/usr/bin/env python3
"""Verify and unpack the ILSVRC-2012 (ImageNet-1k) training images for STT step 1 (spatial contrastive learning).

ImageNet needs a registration, so the archive is given by hand (`--archive PATH` or `--url URL`). The outer tar
holds one tar per class; each class is unpacked into a temporary folder and renamed to `train/<wnid>/` when
complete, so an interrupted run resumes class by class. Run `python data_scripts/imagenet.py --help`.
"""
from __future__ import annotations

import argparse
import re
import shutil
import sys
import tarfile
from pathlib import Path

try:
    from . import _common as C
except ImportError:  # run as a script: data_scripts/ is on sys.path
    import _common as C

NAME = 'imagenet'
# File name and md5 as published by image-net.org and used by torchvision and many scripts; not verified here.
ARCHIVE = C.ArchiveSpec(filename='ILSVRC2012_img_train.tar', url=None, md5='1d675b47d978889d74fa0da5fadfb00e')
CLASSES, IMAGES = 1000, 1281167
_WNID = re.compile(r'^n\d{8}$')

INSTRUCTIONS = f"""\
imagenet: ImageNet (ILSVRC-2012) must be downloaded by hand (registration required).
  1. Create an account at https://image-net.org, request access, and from the ILSVRC 2012 download page fetch
     the training images `{ARCHIVE.filename}` (about 138 GB; md5 {ARCHIVE.md5} as published, not verified here).
  2. Run:  python data_scripts/imagenet.py --root DIR --archive /path/to/{ARCHIVE.filename} [--resize-short 256]
     (or put the class folders under DIR/{NAME}/train/<wnid>/ and omit --archive)."""

DESCRIPTION = f"""\
Prepare the ImageNet-1k (ILSVRC-2012) training images for STT step 1.

Source: image-net.org (registration required): no automatic download; give --archive PATH or --url URL (http(s),
file://). The archive is checked against md5 {ARCHIVE.md5} (as published; not verified here), then each of
its per-class tars is unpacked; the result must hold {CLASSES:,} classes and {IMAGES:,} images.

Result (under --root):
  {NAME}/train/<wnid>/<wnid>_<n>.JPEG ...   (the torchvision ImageFolder layout)
  {NAME}/train_index.json                   {{wnid: [image stems, sorted]}}  (files are <stem>.JPEG)
  {NAME}/train_s<N>/<wnid>/...              with --resize-short N
  {NAME}/.done-<step>                       markers; a rerun skips finished steps, and an interrupted
                                            extraction keeps finished classes (even with --force: delete
                                            train/ to unpack everything again)

Exit codes: 0 ready; 1 error (one line naming the file); 2 manual download needed (instructions printed)."""


def parse_args(argv):
    p = argparse.ArgumentParser(prog='imagenet.py', description=DESCRIPTION,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    C.add_common_args(p, archive_help=f"the {ARCHIVE.filename} you downloaded from image-net.org",
                      url_default=None)
    p.add_argument('--expect-classes', type=int, metavar='N', default=CLASSES,
                   help=f"class folders in train/ (default {CLASSES}; negative: no check)")
    p.add_argument('--expect-images', type=int, metavar='N', default=IMAGES,
                   help=f"images in train/ (default {IMAGES}; negative: no check)")
    return p.parse_args(argv)


def extract_per_class(archive: Path, home: Path) -> int:
    """Unpack the outer tar's `<wnid>.tar` members into `home/train/<wnid>/`, one class at a time.

    A class folder that already exists is complete (it is renamed into place only after its tar was read without
    error) and is skipped. Returns the number of images written now."""
    train = home / 'train'
    train.mkdir(parents=True, exist_ok=True)
    n = 0
    try:
        with tarfile.open(archive, 'r|*') as outer, C.progress(total=CLASSES, unit='class', desc='classes') as bar:
            for m in outer:
                bar.update(1)
                rel = C.safe_member_path(m.name, archive)
                if m.isdir() or rel is None:
                    continue
                if not m.isfile() or rel.suffix != '.tar' or not _WNID.match(rel.stem):
                    raise C.PrepError(f"{archive}: unexpected member {m.name!r} (expected <wnid>.tar files only)")
                wnid = rel.stem
                if (train / wnid).is_dir():
                    continue
                tmp = train / f'.{wnid}.tmp'
                shutil.rmtree(tmp, ignore_errors=True)
                tmp.mkdir()
                try:
                    with outer.extractfile(m) as fobj, tarfile.open(fileobj=fobj, mode='r|*') as inner:
                        for im in inner:
                            irel = C.safe_member_path(im.name, archive)
                            if im.isdir() or irel is None:
                                continue
                            if not im.isfile() or len(irel.parts) != 1:
                                raise C.PrepError(f"{archive}: unexpected member {m.name}/{im.name} "
                                                  f"(expected plain image files)")
                            with inner.extractfile(im) as src, open(tmp / irel.name, 'wb') as dst:
                                shutil.copyfileobj(src, dst, C.CHUNK)
                            n += 1
                    tmp.rename(train / wnid)
                finally:
                    shutil.rmtree(tmp, ignore_errors=True)
    except C.PrepError:
        raise
    except (tarfile.TarError, EOFError, OSError, ValueError) as e:
        raise C.PrepError(f"{archive}: corrupt archive ({C.one_line(e)}); finished classes are kept, rerun "
                          f"to resume") from None
    C.say(f"{archive}: extracted {n:,} images into {train}")
    return n


def main(argv=None) -> int:
    args = parse_args(argv)

    def body():
        home, steps = C.dataset_home(args, NAME)
        spec = C.ArchiveSpec(ARCHIVE.filename, None, args.md5 or ARCHIVE.md5, args.sha256 or ARCHIVE.sha256)
        present = (home / 'train').is_dir() and any((home / 'train').iterdir())
        C.obtain_and_extract(home, spec, steps, archive=args.archive, url=args.url, layout_present=present,
                             check=not args.no_checksum, remove_archive=args.remove_archive,
                             instructions=INSTRUCTIONS, extract=extract_per_class)
        train = home / 'train'
        index = C.build_frame_index(train, exts=('.jpeg', '.jpg', '.png'))
        n_c, n_i = C.index_counts(index)
        C.check_count('classes', n_c, args.expect_classes, train)
        C.check_count('images', n_i, args.expect_images, train)
        C.write_frame_index(home / 'train_index.json', index)
        C.resize_step(args, steps, home, train, home / f'train_s{args.resize_short}', index, what='images',
                      exts=('.jpeg', '.jpg', '.png'))
        C.say(f"ImageNet train ready: {train}")

    return C.run_main(body, NAME)


if __name__ == '__main__':
    sys.exit(main())
