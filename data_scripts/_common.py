"""Shared helpers for the dataset preparation scripts in `data_scripts/`.

Every step a script takes is built from the pieces here:

- `download`: fetch a URL (http, https or file://) into `NAME.part`, resuming an interrupted transfer with an HTTP
  `Range` request (or by appending the rest of a local file), and rename it to `NAME` only when complete.
- `verify_checksum`: md5 / sha256 of an archive against the published value.
- `safe_extract`: unpack a zip or tar (any compression) into a hidden temporary folder, rejecting absolute paths,
  `..` components and links, then move the result into place. A corrupt archive raises `PrepError` and leaves no
  extracted output behind.
- `Steps`: `.done-<step>` marker files so that a rerun skips what already finished.
- `build_frame_index` / `write_frame_index`: the frame-list JSON the readers use, `{video: [frame stems, sorted]}`.
- `resize_short_side` / `resize_tree`: optional copies of the frames with the short side scaled to N pixels.

Only the standard library, Pillow, numpy and tqdm are used. Every file is written to a temporary name in its
destination folder and renamed into place, so an interruption never leaves a half-written output.
"""
from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import re
import shutil
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Callable, Iterable, Iterator, Sequence

__all__ = ['PrepError', 'ManualDownloadRequired', 'say', 'atomic_output', 'atomic_write_bytes', 'atomic_write_json',
           'Steps', 'download', 'file_digest', 'verify_checksum', 'safe_extract', 'find_dataset_dir',
           'IMAGE_EXTS', 'frame_files', 'build_frame_index', 'write_frame_index', 'index_counts', 'check_count',
           'resized_size', 'resize_short_side', 'resize_tree', 'ArchiveSpec', 'obtain_and_extract',
           'default_root', 'add_common_args', 'run_main', 'progress', 'safe_member_path', 'one_line', 'CHUNK']

IMAGE_EXTS = ('.jpg', '.jpeg', '.png')
CHUNK = 1 << 20


# ----------------------------------------------------------------------------------------------------------------
# Errors and messages

class PrepError(Exception):
    "A preparation step failed; the message is one line and names the file, folder or URL at fault."


class ManualDownloadRequired(Exception):
    "The data cannot be fetched automatically; the message holds the instructions for the user."


def one_line(e: BaseException) -> str:
    "The first line of an exception's text, or its class name when it has none."
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def say(msg: str) -> None:
    "Progress message on stdout (flushed, so it interleaves correctly with tqdm bars on stderr)."
    print(msg, flush=True)


def progress(**kw):
    "A tqdm bar that shows only on an interactive terminal; a no-op stand-in when tqdm is missing."
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency, but a bar is never essential
        class _Null:
            def update(self, n=1): pass
            def close(self): pass
            def __enter__(self): return self
            def __exit__(self, *a): pass
        return _Null()
    kw.setdefault('disable', None)  # None: disabled when stderr is not a TTY (tests, logs)
    kw.setdefault('leave', False)
    return tqdm(**kw)


# ----------------------------------------------------------------------------------------------------------------
# Atomic writes

@contextmanager
def atomic_output(path: str | os.PathLike, mode: str = 'wb') -> Iterator:
    """Open a temporary file next to `path`; on a clean exit flush, fsync and rename it to `path`.

    On an exception the temporary file is removed and `path` is left untouched (absent or the previous version)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f'.{path.name}.', suffix='.tmp', dir=path.parent)
    try:
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with _suppress_os():
            os.unlink(tmp)
        raise


@contextmanager
def _suppress_os():
    try:
        yield
    except OSError:
        pass


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    "Write `data` to `path` via a temporary file and a rename."
    with atomic_output(path, 'wb') as f:
        f.write(data)
    return Path(path)


def atomic_write_json(path: str | os.PathLike, obj, indent: int | None = 1) -> Path:
    "Write `obj` as UTF-8 JSON (keys sorted) to `path` via a temporary file and a rename."
    text = json.dumps(obj, indent=indent, sort_keys=True, ensure_ascii=False) + '\n'
    return atomic_write_bytes(path, text.encode('utf-8'))


# ----------------------------------------------------------------------------------------------------------------
# Step markers

class Steps:
    """`.done-<step>` marker files in `home`.

    A marker is a small JSON file written after a step finished. `done(step, **info)` is true when the marker exists
    and every given `info` value equals the recorded one (so a marker for another archive size or another resize
    target does not count). With `force=True` no marker counts."""

    def __init__(self, home: str | os.PathLike, force: bool = False):
        self.home, self.force = Path(home), force

    def marker(self, step: str) -> Path:
        "Path of the marker file for `step`."
        return self.home / f'.done-{step}'

    def record(self, step: str) -> dict | None:
        "The recorded info of `step`, or None when it has no (readable) marker."
        try:
            return json.loads(self.marker(step).read_text())
        except (OSError, ValueError):
            return None

    def done(self, step: str, **info) -> bool:
        "True when `step` finished before with the same `info` (and `force` is off)."
        if self.force:
            return False
        rec = self.record(step)
        return rec is not None and all(rec.get(k) == v for k, v in info.items())

    def mark(self, step: str, **info) -> None:
        "Record that `step` finished, with `info` (JSON-serialisable values)."
        atomic_write_json(self.marker(step), {'step': step, 'finished': time.strftime('%Y-%m-%dT%H:%M:%S'), **info})

    def clear(self, step: str) -> None:
        "Forget that `step` finished."
        with _suppress_os():
            self.marker(step).unlink()


# ----------------------------------------------------------------------------------------------------------------
# Download with resume

def _file_url_path(url: str) -> Path:
    parsed = urllib.parse.urlparse(url)
    if parsed.netloc not in ('', 'localhost'):
        raise PrepError(f"{url}: file:// URLs must name a local path (file:///abs/path)")
    return Path(urllib.request.url2pathname(parsed.path))


def download(url: str, dest: str | os.PathLike, *, timeout: float = 60.0) -> int:
    """Download `url` to `dest`, resuming from `dest.part` if an earlier attempt was interrupted.

    http(s): the bytes already in `.part` are skipped with a `Range: bytes=N-` request; a server that answers 200
    instead of 206 sends the whole file again and `.part` is restarted. file://: the remainder of the local file is
    appended. `dest` appears (by rename) only once the transfer is complete. Returns the number of bytes transferred
    by this call (0 when `dest` already existed)."""
    dest = Path(dest)
    if dest.exists():
        say(f"{dest}: already downloaded")
        return 0
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + '.part')
    have = part.stat().st_size if part.exists() else 0
    scheme = urllib.parse.urlparse(url).scheme.lower()
    if scheme == 'file':
        n = _copy_file_url(url, part, have)
    elif scheme in ('http', 'https'):
        n = _http_download(url, part, have, timeout)
    else:
        raise PrepError(f"{url}: unsupported URL scheme {scheme or '(none)'!r}; use http, https or file://")
    os.replace(part, dest)
    say(f"{dest}: download complete ({dest.stat().st_size:,} bytes, {n:,} transferred now)")
    return n


def _copy_file_url(url: str, part: Path, have: int) -> int:
    src = _file_url_path(url)
    if not src.is_file():
        raise PrepError(f"{src}: file not found (from {url})")
    total = src.stat().st_size
    if have > total:
        raise PrepError(f"{part}: partial download ({have:,} bytes) is larger than the source {src} "
                        f"({total:,} bytes); delete it and rerun")
    if have:
        say(f"{part}: resuming at byte {have:,} of {total:,}")
    n = 0
    with open(src, 'rb') as fin, open(part, 'ab') as fout, \
            progress(total=total, initial=have, unit='B', unit_scale=True, desc=part.name) as bar:
        fin.seek(have)
        while chunk := fin.read(CHUNK):
            fout.write(chunk)
            n += len(chunk)
            bar.update(len(chunk))
    return n


def _http_download(url: str, part: Path, have: int, timeout: float) -> int:
    headers = {'User-Agent': 'stt_nb-data-scripts/1 (+urllib)'}
    if have:
        headers['Range'] = f'bytes={have}-'
    try:
        resp = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)
    except urllib.error.HTTPError as e:
        if e.code == 416 and have:  # the requested range starts at the end: .part is already complete
            say(f"{part}: server reports nothing left to fetch; keeping the {have:,} bytes already downloaded")
            return 0
        raise PrepError(f"{url}: HTTP {e.code} {e.reason}") from None
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, 'reason', e)
        raise PrepError(f"{url}: cannot connect ({one_line(reason) if isinstance(reason, BaseException) else reason})"
                        + (f"; {have:,} bytes kept in {part}, rerun to resume" if have else '')) from None
    with resp:
        status = getattr(resp, 'status', 200)
        length = resp.headers.get('Content-Length')
        if have and status == 206:
            m = re.match(r'bytes\s+(\d+)-', resp.headers.get('Content-Range', ''))
            if not m or int(m.group(1)) != have:
                raise PrepError(f"{url}: server answered the resume request with a wrong range "
                                f"({resp.headers.get('Content-Range')!r}); delete {part} and rerun")
            mode, start = 'ab', have
            say(f"{part}: resuming at byte {have:,}")
        else:
            if have:
                say(f"{part}: server ignored the resume request; downloading from the start")
            mode, start = 'wb', 0
        total = start + int(length) if length is not None else None
        n = 0
        try:
            with open(part, mode) as fout, \
                    progress(total=total, initial=start, unit='B', unit_scale=True, desc=part.name) as bar:
                while chunk := resp.read(CHUNK):
                    fout.write(chunk)
                    n += len(chunk)
                    bar.update(len(chunk))
        except (OSError, http.client.HTTPException) as e:
            raise PrepError(f"{url}: download interrupted after {start + n:,} bytes ({one_line(e)}); "
                            f"the partial data stays in {part}, rerun to resume") from None
    if total is not None and part.stat().st_size != total:
        raise PrepError(f"{url}: download stopped at {part.stat().st_size:,} of {total:,} bytes; "
                        f"the partial data stays in {part}, rerun to resume")
    return n


# ----------------------------------------------------------------------------------------------------------------
# Checksums

def file_digest(path: str | os.PathLike, algo: str = 'md5') -> str:
    "Hex digest of a file, read in 1 MiB chunks."
    h = hashlib.new(algo)
    path = Path(path)
    with open(path, 'rb') as f, progress(total=path.stat().st_size, unit='B', unit_scale=True,
                                          desc=f'{algo} {path.name}') as bar:
        while chunk := f.read(CHUNK):
            h.update(chunk)
            bar.update(len(chunk))
    return h.hexdigest()


def verify_checksum(path: str | os.PathLike, md5: str | None = None, sha256: str | None = None) -> None:
    "Raise `PrepError` naming `path` when its md5 or sha256 differs from the expected hex digest."
    path = Path(path)
    for algo, expected in (('md5', md5), ('sha256', sha256)):
        if not expected:
            continue
        got = file_digest(path, algo)
        if got.lower() != expected.strip().lower():
            raise PrepError(f"{path}: checksum mismatch: expected {algo} {expected.strip().lower()}, got {got} "
                            f"(corrupt or incomplete file)")
        say(f"{path}: {algo} OK")


# ----------------------------------------------------------------------------------------------------------------
# Safe extraction

_DRIVE = re.compile(r'^[A-Za-z]:')


def safe_member_path(name: str, archive: Path) -> PurePosixPath | None:
    """The relative path a member may be written to, None for the archive root, or `PrepError` for a name that
    would escape the destination (absolute, drive letter, `..`)."""
    norm = name.replace('\\', '/')
    if norm.startswith('/') or _DRIVE.match(norm):
        raise PrepError(f"{archive}: unsafe member {name!r} (absolute path); refusing to extract")
    parts = [p for p in norm.split('/') if p not in ('', '.')]
    if any(p == '..' for p in parts):
        raise PrepError(f"{archive}: unsafe member {name!r} (path traversal); refusing to extract")
    return PurePosixPath(*parts) if parts else None


def _extract_zip(archive: Path, tmp: Path, keep: Callable[[str], bool] | None) -> int:
    n = 0
    with zipfile.ZipFile(archive) as zf:
        infos = zf.infolist()
        for info in infos:  # check every name before writing anything
            rel = safe_member_path(info.filename, archive)
            if (info.external_attr >> 16) & 0o170000 == 0o120000:
                raise PrepError(f"{archive}: member {info.filename!r} is a symbolic link; refusing to extract")
        with progress(total=len(infos), unit='file', desc=archive.name) as bar:
            for info in infos:
                bar.update(1)
                rel = safe_member_path(info.filename, archive)
                if rel is None or (keep is not None and not keep(str(rel))):
                    continue
                target = tmp / rel
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(target, 'wb') as dst:  # zf.open checks the CRC at the end
                    shutil.copyfileobj(src, dst, CHUNK)
                n += 1
    return n


def _extract_tar(archive: Path, tmp: Path, keep: Callable[[str], bool] | None) -> int:
    n = 0
    with tarfile.open(archive, 'r|*') as tf, progress(unit='file', desc=archive.name) as bar:
        for m in tf:
            bar.update(1)
            rel = safe_member_path(m.name, archive)
            if m.issym() or m.islnk():
                raise PrepError(f"{archive}: member {m.name!r} is a link; refusing to extract")
            if not (m.isfile() or m.isdir()):
                raise PrepError(f"{archive}: member {m.name!r} is not a regular file or folder; refusing to extract")
            if rel is None or (keep is not None and not keep(str(rel))):
                continue
            target = tmp / rel
            if m.isdir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            src = tf.extractfile(m)
            with src, open(target, 'wb') as dst:
                shutil.copyfileobj(src, dst, CHUNK)
            n += 1
    return n


def _merge_tree(src: Path, dst: Path) -> None:
    "Move the contents of `src` into `dst` (same file system: renames); files replace files of the same name."
    dst.mkdir(parents=True, exist_ok=True)
    for entry in sorted(src.iterdir()):
        target = dst / entry.name
        if entry.is_dir() and target.is_dir():
            _merge_tree(entry, target)
        elif entry.is_dir() != target.is_dir() and target.exists():
            raise PrepError(f"{target}: exists as a {'folder' if target.is_dir() else 'file'}, but the archive "
                            f"holds a {'folder' if entry.is_dir() else 'file'} there; move it away and rerun")
        else:
            os.replace(entry, target)


def safe_extract(archive: str | os.PathLike, dest: str | os.PathLike,
                 keep: Callable[[str], bool] | None = None) -> int:
    """Extract a zip or tar archive (gz/bz2/xz) into `dest`; return the number of files written.

    Members are unpacked into a hidden temporary folder inside `dest` and moved into place only after the whole
    archive was read without error, so a corrupt or truncated archive (bad CRC, unexpected end of data) or an unsafe
    member (absolute path, `..`, link, device) raises `PrepError` and leaves nothing behind. `keep(relpath)` may
    select members (posix relative paths); folders of skipped members are not created."""
    archive, dest = Path(archive), Path(dest)
    if not archive.is_file():
        raise PrepError(f"{archive}: archive not found")
    dest.mkdir(parents=True, exist_ok=True)
    tmp = dest / f'.extract-{archive.name}.tmp'
    if tmp.exists():  # left over from an interrupted run
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        if zipfile.is_zipfile(archive):
            n = _extract_zip(archive, tmp, keep)
        elif tarfile.is_tarfile(archive):
            n = _extract_tar(archive, tmp, keep)
        else:
            raise PrepError(f"{archive}: not a zip or tar archive (corrupt or incomplete download?)")
        _merge_tree(tmp, dest)
    except PrepError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, tarfile.TarError, EOFError, zlib.error, OSError,
            ValueError) as e:
        raise PrepError(f"{archive}: corrupt archive ({one_line(e)})") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    say(f"{archive}: extracted {n:,} files into {dest}")
    return n


# ----------------------------------------------------------------------------------------------------------------
# Layout, frame index and counts

def find_dataset_dir(base: str | os.PathLike, required: Sequence[str], max_depth: int = 2) -> Path:
    """The unique folder at most `max_depth` levels below `base` (itself included) that holds every relative path
    in `required`; hidden folders are skipped. `PrepError` when there is none or more than one."""
    base = Path(base)
    found, level = [], [base] if base.is_dir() else []
    for _ in range(max_depth + 1):
        found = [d for d in level if all((d / r).exists() for r in required)]
        if found:
            break
        level = [c for d in level for c in sorted(d.iterdir()) if c.is_dir() and not c.name.startswith('.')]
    if not found:
        raise PrepError(f"{base}: no folder holding {', '.join(required)} (searched {max_depth} levels down)")
    if len(found) > 1:
        raise PrepError(f"{base}: several folders hold {', '.join(required)}: {', '.join(map(str, found))}")
    return found[0]


def _frame_key(stem: str):
    "Sort key: all-digit stems numerically (00005 < 00010 < 100000), others after them, lexicographically."
    return (0, int(stem), stem) if stem.isdigit() else (1, 0, stem)


def frame_files(video_dir: str | os.PathLike, exts: Sequence[str] = IMAGE_EXTS) -> list[Path]:
    """The image files of one video folder (extensions `exts`, case-insensitive; hidden files ignored), sorted by
    frame stem. `PrepError` when the folder is missing or two files share a stem."""
    video_dir = Path(video_dir)
    if not video_dir.is_dir():
        raise PrepError(f"{video_dir}: folder not found")
    files = [p for p in video_dir.iterdir()
             if p.is_file() and not p.name.startswith('.') and p.suffix.lower() in exts]
    stems = [p.stem for p in files]
    if len(set(stems)) != len(stems):
        dup = sorted({s for s in stems if stems.count(s) > 1})[0]
        raise PrepError(f"{video_dir}: several files for frame {dup!r} (different extensions)")
    return sorted(files, key=lambda p: _frame_key(p.stem))


def build_frame_index(frames_root: str | os.PathLike, videos: Iterable[str] | None = None,
                      exts: Sequence[str] = IMAGE_EXTS) -> dict[str, list[str]]:
    """`{video: [frame stems, sorted]}` for the folders `frames_root/<video>`.

    `videos=None` takes every non-hidden sub-folder. Stems have no extension; all-digit stems sort numerically.
    `PrepError` names the folder when a video is missing or has no frames."""
    frames_root = Path(frames_root)
    if videos is None:
        if not frames_root.is_dir():
            raise PrepError(f"{frames_root}: folder not found")
        videos = sorted(p.name for p in frames_root.iterdir() if p.is_dir() and not p.name.startswith('.'))
    index = {}
    for v in videos:
        files = frame_files(frames_root / v, exts)
        if not files:
            raise PrepError(f"{frames_root / v}: no frames ({'/'.join(exts)})")
        index[v] = [p.stem for p in files]
    return index


def write_frame_index(path: str | os.PathLike, index: dict[str, list[str]]) -> Path:
    "Write a frame index atomically as JSON (videos sorted by name; one frame list per video)."
    path = Path(path)
    atomic_write_json(path, index)
    n_v, n_f = index_counts(index)
    say(f"{path}: frame index with {n_v:,} videos, {n_f:,} frames")
    return path


def index_counts(index: dict[str, list[str]]) -> tuple[int, int]:
    "(number of videos, total number of frames) of a frame index."
    return len(index), sum(len(v) for v in index.values())


def check_count(what: str, found: int, expected: int | None, where: str | os.PathLike, hint: str = '') -> None:
    "`PrepError` naming `where` when `found != expected`; `expected` None or negative disables the check."
    if expected is None or expected < 0:
        return
    if found != expected:
        raise PrepError(f"{where}: expected {expected:,} {what}, found {found:,}{hint}")
    say(f"{where}: {found:,} {what} (as expected)")


# ----------------------------------------------------------------------------------------------------------------
# Resizing

def resized_size(w: int, h: int, short: int) -> tuple[int, int]:
    "(width, height) after scaling so that the shorter side becomes `short`, keeping the aspect ratio (rounded)."
    if w <= 0 or h <= 0 or short <= 0:
        raise ValueError(f"resized_size: sizes must be positive, got w={w}, h={h}, short={short}")
    if w <= h:
        return short, max(1, round(h * short / w))
    return max(1, round(w * short / h)), short


def resize_short_side(src: str | os.PathLike, dst: str | os.PathLike, short: int = 256,
                      jpeg_quality: int = 95) -> tuple[int, int]:
    """Write a copy of image `src` to `dst` with its short side scaled to `short` (aspect kept).

    Pillow bilinear resampling, which widens its kernel when shrinking (antialiased). JPEG output at
    `jpeg_quality`, PNG lossless; the format follows `dst`'s extension. An image already at the target size is
    copied byte for byte. The write is atomic. Returns the new (width, height)."""
    from PIL import Image, UnidentifiedImageError
    src, dst = Path(src), Path(dst)
    try:
        with Image.open(src) as im:
            im.load()
            size = resized_size(*im.size, short)
            if im.size == size:
                with open(src, 'rb') as f:
                    atomic_write_bytes(dst, f.read())
                return size
            if im.mode not in ('RGB', 'L'):
                im = im.convert('RGB')
            out = im.resize(size, Image.Resampling.BILINEAR)
    except (UnidentifiedImageError, OSError, SyntaxError) as e:
        raise PrepError(f"{src}: cannot read image ({one_line(e)})") from None
    fmt = 'PNG' if dst.suffix.lower() == '.png' else 'JPEG'
    with atomic_output(dst, 'wb') as f:
        out.save(f, format=fmt, **({'quality': jpeg_quality} if fmt == 'JPEG' else {}))
    return size


def _resize_job(job):
    src, dst, short = job
    resize_short_side(src, dst, short)
    return 1


def resize_tree(src_root: str | os.PathLike, dst_root: str | os.PathLike, videos: Iterable[str], short: int = 256,
                workers: int = 1, overwrite: bool = False, exts: Sequence[str] = IMAGE_EXTS) -> int:
    """Resize every frame of `src_root/<video>/` into `dst_root/<video>/` (same file names), short side `short`.

    Files that already exist in `dst_root` are complete (writes are atomic) and are skipped unless `overwrite`, so an
    interrupted run resumes where it stopped. `workers > 1` uses a process pool. Returns the number written now."""
    src_root, dst_root = Path(src_root), Path(dst_root)
    jobs = []
    for v in videos:
        for f in frame_files(src_root / v, exts):
            out = dst_root / v / f.name
            if overwrite or not out.exists():
                jobs.append((str(f), str(out), short))
    if not jobs:
        return 0
    with progress(total=len(jobs), unit='img', desc=f'resize s{short}') as bar:
        if workers <= 1:
            for j in jobs:
                bar.update(_resize_job(j))
        else:
            import multiprocessing as mp
            with mp.get_context().Pool(workers) as pool:
                for k in pool.imap_unordered(_resize_job, jobs, chunksize=16):
                    bar.update(k)
    return len(jobs)


# ----------------------------------------------------------------------------------------------------------------
# The shared fetch → checksum → extract pipeline

@dataclass
class ArchiveSpec:
    "One archive of a dataset: its file name under `downloads/`, a public URL (None: manual) and known checksums."
    filename: str
    url: str | None = None
    md5: str | None = None
    sha256: str | None = None


def obtain_and_extract(home: Path, spec: ArchiveSpec, steps: Steps, *, instructions: str,
                       archive: str | None = None, url: str | None = None, layout_present: bool = False,
                       check: bool = True, keep: Callable[[str], bool] | None = None,
                       remove_archive: bool = False,
                       extract: Callable[[Path, Path], int] | None = None) -> None:
    """Make sure `spec`'s archive is extracted into `home`, doing only the steps that are not finished.

    1. **extract marker**: if `.done-extract-<filename>` exists and the archive is gone or has the recorded size,
       nothing is left to do.
    2. **fetch**: `archive` (a path the user gave) is used in place; otherwise `home/downloads/<filename>` is
       downloaded (resumably) from `url` or `spec.url`. With neither, an already extracted layout
       (`layout_present`) is accepted, else `ManualDownloadRequired(instructions)` is raised.
    3. **checksum** (when known and `check`): `.done-checksum-<filename>` records size, mtime and the expected
       value; a downloaded file that fails is renamed to `<filename>.corrupt` so the next run fetches it again.
    4. **extract** with `safe_extract` (or the `extract(archive, home)` callable given), then the marker."""
    user_given = archive is not None
    local = Path(archive).expanduser() if user_given else home / 'downloads' / spec.filename
    if user_given and not local.is_file():
        raise PrepError(f"{local}: archive not found (given with --archive)")
    step = f'extract-{spec.filename}'
    rec = steps.record(step)
    if not steps.force and rec is not None and (not local.is_file() or rec.get('size') == local.stat().st_size):
        say(f"{home}: {spec.filename} already extracted (marker {steps.marker(step).name}); skipping")
        return
    if not local.is_file():
        src_url = url or spec.url
        if src_url:
            say(f"downloading {src_url}\n  -> {local}")
            download(src_url, local)
        elif layout_present:
            say(f"{home}: extracted data found; no archive needed")
            return
        else:
            raise ManualDownloadRequired(instructions)
    st = local.stat()
    if check and (spec.md5 or spec.sha256):
        info = dict(size=st.st_size, mtime_ns=st.st_mtime_ns, md5=spec.md5, sha256=spec.sha256)
        if steps.done(f'checksum-{spec.filename}', **info):
            say(f"{local}: checksum verified earlier; skipping")
        else:
            try:
                verify_checksum(local, spec.md5, spec.sha256)
            except PrepError as e:
                if not user_given:
                    bad = local.with_name(local.name + '.corrupt')
                    os.replace(local, bad)
                    raise PrepError(f"{e}; moved to {bad}, rerun to download again") from None
                raise
            steps.mark(f'checksum-{spec.filename}', **info)
    elif check:
        say(f"{local}: no published checksum known; relying on archive CRCs and file counts")
    try:
        (extract or (lambda a, d: safe_extract(a, d, keep)))(local, home)
    except PrepError as e:
        if user_given:
            raise
        raise PrepError(f"{e}; if the download is damaged, delete {local} and rerun to fetch it again") from None
    steps.mark(step, archive=str(local), size=st.st_size)
    if remove_archive and not user_given:
        local.unlink()
        say(f"{local}: removed (--remove-archive)")


# ----------------------------------------------------------------------------------------------------------------
# Command line

def default_root() -> Path:
    "`$STT_NB_CACHE/data`, with `$STT_NB_CACHE` defaulting to `~/.cache/stt_nb`."
    return Path(os.environ.get('STT_NB_CACHE', '~/.cache/stt_nb')).expanduser() / 'data'


def dataset_home(args: argparse.Namespace, name: str) -> tuple[Path, Steps]:
    "The folder of dataset `name` under `--root` (default `default_root()`) and its step markers (`--force` aware)."
    home = (args.root or default_root()).expanduser() / name
    return home, Steps(home, force=args.force)


def layout_present(home: Path, layout: Sequence[str]) -> bool:
    "Whether the extracted `layout` folders already exist somewhere below `home` (see `find_dataset_dir`)."
    try:
        find_dataset_dir(home, layout)
        return True
    except PrepError:
        return False


def resize_step(args: argparse.Namespace, steps: Steps, where: Path, src: Path, dst: Path, videos: Iterable[str],
                what: str = 'frames', exts: Sequence[str] = IMAGE_EXTS, marker: dict | None = None) -> None:
    "With `--resize-short N`: resize `src/<video>` into `dst/<video>` once (a step marker records it), else nothing."
    n, marker = args.resize_short, marker or {}
    if not n:
        return
    step = f'resize-s{n}'
    if steps.done(step, **marker):                      # `marker` entries must match too (e.g. the video count)
        say(f"{where}: {what} already resized to short side {n}; skipping")
        return
    videos = sorted(videos) if isinstance(videos, (dict, set)) else list(videos)    # index keys, or a list in order
    resize_tree(src, dst, videos, n, args.workers, overwrite=args.force, exts=exts)
    steps.mark(step, short=n, **marker)


def add_common_args(p: argparse.ArgumentParser, *, archive_help: str, url_default: str | None,
                    resize: bool = True, several: bool = False) -> None:
    """The options every script shares (root, archive/url overrides, checksum overrides, force, resize).

    `several=True` makes `--archive` and `--url` repeatable (lists) for datasets made of several archives."""
    action = 'append' if several else 'store'
    p.add_argument('--root', type=Path, default=None,
                   help="destination folder for all datasets (default: $STT_NB_CACHE/data, "
                        "with $STT_NB_CACHE defaulting to ~/.cache/stt_nb)")
    p.add_argument('--archive', metavar='PATH', default=None, action=action, help=archive_help)
    p.add_argument('--url', metavar='URL', default=None, action=action,
                   help="download from this URL instead (http, https or file://); "
                        + (f"default: {url_default}" if url_default else "no public URL is known"))
    p.add_argument('--md5', metavar='HEX', default=None, help="expected md5 of the archive (overrides the default)")
    p.add_argument('--sha256', metavar='HEX', default=None, help="expected sha256 of the archive")
    p.add_argument('--no-checksum', action='store_true', help="skip the archive checksum (not recommended)")
    p.add_argument('--remove-archive', action='store_true',
                   help="delete a downloaded archive after a successful extraction (never one given with --archive)")
    p.add_argument('--force', action='store_true',
                   help="ignore the .done-<step> markers and redo checksum, extraction and resizing "
                        "(a complete download is kept)")
    if resize:
        p.add_argument('--resize-short', metavar='N', type=int, default=None,
                       help="also write copies of the frames with the short side resized to N pixels "
                            "(Pillow bilinear, antialiased; the method's training frames use 256) into a sibling "
                            "folder named <frames folder>_s<N>; the originals are kept")
        p.add_argument('--workers', type=int, metavar='N', default=min(8, os.cpu_count() or 1),
                       help="processes used for resizing (default: min(8, CPU count))")


def run_main(fn: Callable[[], None], prog: str) -> int:
    """Run a script body; turn failures into one line on stderr and an exit code.

    0 success; 1 a `PrepError` (corrupt archive, checksum mismatch, wrong counts, missing files); 2 manual download
    needed (the instructions are printed); 130 interrupted (rerun to resume)."""
    try:
        fn()
    except ManualDownloadRequired as e:
        print(str(e), file=sys.stderr)
        return 2
    except PrepError as e:
        print(f"{prog}: error: {one_line(e)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{prog}: interrupted; rerun the same command to resume", file=sys.stderr)
        return 130
    return 0
