"""Tiny synthetic dataset archives for tests/test_data_scripts.py.

Each `*_files()` function returns `{relative path: bytes}` with the layout of one dataset, small enough to build in
milliseconds; `make_zip` / `make_tar` pack such a dict. The frame counts and ids are chosen by hand so that the
tests can state the expected frame index, counts and object numbers literally."""
from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image


def jpeg_bytes(w: int, h: int, color=(200, 30, 30)) -> bytes:
    "A solid-colour RGB JPEG of w x h."
    buf = io.BytesIO()
    Image.new('RGB', (w, h), color).save(buf, format='JPEG', quality=95)
    return buf.getvalue()


def png_rgb_bytes(w: int, h: int, color=(10, 200, 10)) -> bytes:
    "A solid-colour RGB PNG of w x h."
    buf = io.BytesIO()
    Image.new('RGB', (w, h), color).save(buf, format='PNG')
    return buf.getvalue()


def png_ids_bytes(ids: np.ndarray, mode: str = 'P') -> bytes:
    "A single-channel PNG holding the integer map `ids` (mode 'P' with a grey palette, or 'L')."
    im = Image.fromarray(ids.astype(np.uint8), mode='L')
    if mode == 'P':
        im = im.convert('P')
        im.putpalette([v for i in range(256) for v in (i, i, i)])
    buf = io.BytesIO()
    im.save(buf, format='PNG')
    return buf.getvalue()


def make_zip(path: Path, files: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> Path:
    "Write `files` into a zip at `path` (members in sorted order)."
    with zipfile.ZipFile(path, 'w', compression) as zf:
        for name in sorted(files):
            zf.writestr(name, files[name])
    return path


def make_tar(path: Path, files: dict[str, bytes], mode: str = 'w:gz') -> Path:
    "Write `files` into a tar at `path` (members in sorted order); `mode` picks the compression."
    with tarfile.open(path, mode) as tf:
        for name in sorted(files):
            ti = tarfile.TarInfo(name)
            ti.size = len(files[name])
            tf.addfile(ti, io.BytesIO(files[name]))
    return path


def tar_bytes(files: dict[str, bytes]) -> bytes:
    "An uncompressed tar of `files`, as bytes."
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w') as tf:
        for name in sorted(files):
            ti = tarfile.TarInfo(name)
            ti.size = len(files[name])
            tf.addfile(ti, io.BytesIO(files[name]))
    return buf.getvalue()


def davis_files() -> dict[str, bytes]:
    """DAVIS layout: val = ['cat'] (3 frames, first mask holds ids 0, 1, 2 and a 255 void border: 2 objects),
    train = ['dog'] (2 frames, 1 object). Frames 24 x 16, one annotation per frame."""
    f = {'DAVIS/ImageSets/2017/val.txt': b'cat\n', 'DAVIS/ImageSets/2017/train.txt': b'dog\n\n'}
    first = np.zeros((16, 24), np.uint8)
    first[2:6, 2:6], first[8:12, 10:20], first[0, :] = 1, 2, 255
    for seq, n, ids in (('cat', 3, first), ('dog', 2, (np.arange(16 * 24).reshape(16, 24) % 2).astype(np.uint8))):
        for i in range(n):
            f[f'DAVIS/JPEGImages/480p/{seq}/{i:05d}.jpg'] = jpeg_bytes(24, 16, (40 * i, 100, 100))
            f[f'DAVIS/Annotations/480p/{seq}/{i:05d}.png'] = png_ids_bytes(ids)
    return f


def ytvos_files() -> dict[str, bytes]:
    """YouTube-VOS 2018 train layout: vidA 3 frames 320 x 180 (00000, 00005, 00010), vidB 2 frames 200 x 300
    (00000, 00005), one annotation and meta.json."""
    f = {'train/meta.json': b'{"videos": {}}', 'train/Annotations/vidA/00000.png': png_ids_bytes(np.ones((180, 320)))}
    for i in (0, 5, 10):
        f[f'train/JPEGImages/vidA/{i:05d}.jpg'] = jpeg_bytes(320, 180)
    for i in (0, 5):
        f[f'train/JPEGImages/vidB/{i:05d}.jpg'] = jpeg_bytes(200, 300, (20, 20, 220))
    return f


def jhmdb_frames_files() -> dict[str, bytes]:
    "JHMDB frames: clap/v1 (3 frames), run/v2 (2), run/v3 (1); PNGs 32 x 24 named 00001.png, ..."
    f = {}
    for vid, n in (('clap/v1', 3), ('run/v2', 2), ('run/v3', 1)):
        for i in range(1, n + 1):
            f[f'Rename_Images/{vid}/{i:05d}.png'] = png_rgb_bytes(32, 24)
    return f


def jhmdb_joints_files(videos=('clap/v1', 'run/v2', 'run/v3')) -> dict[str, bytes]:
    "JHMDB joint positions: a placeholder joint_positions.mat per video (content is not read by the script)."
    return {f'joint_positions/{v}/joint_positions.mat': b'MATLAB 5.0 MAT-file placeholder' for v in videos}


def vip_files(bad_id: bool = False) -> dict[str, bytes]:
    """VIP_Fine layout: val videos vid1 (2 frames) and vid2 (3 frames), category maps for every frame
    (ids 0..19; with `bad_id` vid2's first map holds 23)."""
    f = {'VIP_Fine/lists/val_videos.txt': b'vid1\nvid2\n', 'VIP_Fine/lists/train_videos.txt': b'vid3\n'}
    for vid, n in (('vid1', 2), ('vid2', 3), ('vid3', 1)):
        for i in range(n):
            stem = f'{i + 1:012d}'
            ids = np.full((20, 30), 19 if i else 0, np.uint8)
            ids[5:10, 5:10] = 13
            if bad_id and vid == 'vid2' and i == 0:
                ids[0, 0] = 23
            f[f'VIP_Fine/Images/{vid}/{stem}.jpg'] = jpeg_bytes(30, 20)
            f[f'VIP_Fine/Annotations/Category_ids/{vid}/{stem}.png'] = png_ids_bytes(ids, 'L')
    return f


def imagenet_outer_tar(path: Path) -> Path:
    "ILSVRC-2012 train layout: an outer tar of n00000001.tar (2 images) and n00000002.tar (1 image)."
    inner = {
        'n00000001.tar': tar_bytes({'n00000001_10.JPEG': jpeg_bytes(40, 30), 'n00000001_7.JPEG': jpeg_bytes(30, 40)}),
        'n00000002.tar': tar_bytes({'n00000002_3.JPEG': jpeg_bytes(50, 50)}),
    }
    return make_tar(path, inner, mode='w')
