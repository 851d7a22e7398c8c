"""Tests of data_scripts/: download resume, checksums, safe extraction, step markers, frame indexes, resizing and the
five dataset scripts, on tiny archives built in tmp_path (nothing is downloaded; http tests use a local stub server).
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import _archives as A  # noqa: E402  (tests/ is on sys.path under pytest)
from data_scripts import _common as C  # noqa: E402
from data_scripts import davis2017, imagenet, jhmdb, vip, youtube_vos2018  # noqa: E402

SCRIPTS = ['davis2017', 'youtube_vos2018', 'jhmdb', 'vip', 'imagenet']


def url_of(path: Path) -> str:
    return path.resolve().as_uri()


def one_error_line(err: str) -> str:
    "The captured stderr must be exactly one non-empty line; return it."
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    return lines[0]


# ------------------------------------------------------------------------------------------------ --help

@pytest.mark.parametrize('name', SCRIPTS)
def test_help_exits_zero(name):
    r = subprocess.run([sys.executable, f'data_scripts/{name}.py', '--help'], cwd=REPO, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert '--root' in r.stdout and '--archive' in r.stdout and '--url' in r.stdout
    assert 'Result (under --root)' in r.stdout
    if name in ('davis2017', 'imagenet'):
        assert 'not verified here' in r.stdout  # the published URL / md5 is flagged as unverified


# ------------------------------------------------------------------------------------------------ download

def test_download_resumes_file_url(tmp_path):
    data = os.urandom(100_003)
    src = tmp_path / 'src.bin'
    src.write_bytes(data)
    dest = tmp_path / 'dl' / 'file.bin'
    dest.parent.mkdir()
    part = dest.with_name('file.bin.part')
    part.write_bytes(data[:40_000])
    inode = part.stat().st_ino
    n = C.download(url_of(src), dest)
    assert n == 100_003 - 40_000  # only the remainder was read
    assert dest.read_bytes() == data and not part.exists()
    assert dest.stat().st_ino == inode  # the .part file was appended to and renamed, not rewritten
    assert C.download(url_of(src), dest) == 0  # complete file: nothing transferred


def test_download_part_larger_than_source_is_an_error(tmp_path):
    src = tmp_path / 'src.bin'
    src.write_bytes(b'abc')
    dest = tmp_path / 'x.bin'
    dest.with_name('x.bin.part').write_bytes(b'abcdef')
    with pytest.raises(C.PrepError, match='x.bin.part.*larger than the source'):
        C.download(url_of(src), dest)
    with pytest.raises(C.PrepError, match='missing.bin: file not found'):
        C.download(url_of(tmp_path / 'missing.bin'), tmp_path / 'y.bin')


class _Server:
    """A local HTTP server for one file that honours `Range: bytes=N-` (206) unless `honor_range` is off, can cut
    the connection after `cut_at` bytes, and records the bytes sent and the Range headers received."""

    def __init__(self, data: bytes):
        self.data, self.honor_range, self.cut_at, self.sent, self.ranges = data, True, None, 0, []
        outer = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                rng = self.headers.get('Range')
                outer.ranges.append(rng)
                start = int(rng.split('=')[1].rstrip('-')) if (rng and outer.honor_range) else 0
                body = outer.data[start:]
                self.send_response(206 if start else 200)
                if start:
                    self.send_header('Content-Range', f'bytes {start}-{len(outer.data) - 1}/{len(outer.data)}')
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                if outer.cut_at is not None:
                    body = body[:outer.cut_at]
                self.wfile.write(body)
                outer.sent += len(body)
                self.close_connection = True

        self.httpd = ThreadingHTTPServer(('127.0.0.1', 0), H)
        self.url = f'http://127.0.0.1:{self.httpd.server_address[1]}/file.zip'
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *a):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_http_download_interrupted_then_resumed_with_range(tmp_path):
    data = os.urandom(200_000)
    dest = tmp_path / 'file.zip'
    with _Server(data) as srv:
        srv.cut_at = 70_000  # the connection drops after 70,000 bytes
        with pytest.raises(C.PrepError, match='rerun to resume'):
            C.download(srv.url, dest)
        part = dest.with_name('file.zip.part')
        assert part.stat().st_size == 70_000 and not dest.exists()
        srv.cut_at, srv.sent = None, 0
        n = C.download(srv.url, dest)
    assert srv.ranges == [None, 'bytes=70000-']
    assert n == srv.sent == 130_000  # the server sent only the remainder
    assert dest.read_bytes() == data and not part.exists()


def test_http_server_ignoring_range_restarts(tmp_path):
    data = os.urandom(50_000)
    dest = tmp_path / 'file.zip'
    dest.with_name('file.zip.part').write_bytes(b'x' * 10_000)  # stale bytes that must not survive
    with _Server(data) as srv:
        srv.honor_range = False
        assert C.download(srv.url, dest) == 50_000
    assert dest.read_bytes() == data


# ------------------------------------------------------------------------------------------------ extraction

def test_safe_extract_zip_and_tar_roundtrip(tmp_path):
    files = {'top/a.txt': b'alpha', 'top/sub/b.bin': os.urandom(3000)}
    for arc in (A.make_zip(tmp_path / 'x.zip', files, zipfile.ZIP_DEFLATED),
                A.make_tar(tmp_path / 'x.tar.gz', files), A.make_tar(tmp_path / 'x.tar', files, 'w')):
        out = tmp_path / f'out_{arc.name}'
        assert C.safe_extract(arc, out) == 2
        assert (out / 'top/a.txt').read_bytes() == b'alpha'
        assert (out / 'top/sub/b.bin').read_bytes() == files['top/sub/b.bin']
        assert sorted(p.name for p in out.iterdir()) == ['top']  # no temporary folder left


@pytest.mark.parametrize('kind,member', [('zip', '../evil.txt'), ('zip', '/abs/evil.txt'),
                                         ('tar', 'ok/../../evil.txt'), ('tar', '/tmp/evil.txt')])
def test_safe_extract_rejects_path_traversal(tmp_path, kind, member):
    files = {'good/a.txt': b'a', member: b'evil'}
    arc = (A.make_zip if kind == 'zip' else A.make_tar)(tmp_path / f'bad.{kind}', files)
    out = tmp_path / 'deep' / 'out'
    with pytest.raises(C.PrepError, match=r'bad\.(zip|tar).*unsafe member'):
        C.safe_extract(arc, out)
    assert not any(tmp_path.rglob('evil.txt')) and not any(out.iterdir())


def test_safe_extract_rejects_tar_link(tmp_path):
    import io
    import tarfile
    arc = tmp_path / 'link.tar'
    with tarfile.open(arc, 'w') as tf:
        ti = tarfile.TarInfo('d/a.txt')
        ti.size = 1
        tf.addfile(ti, io.BytesIO(b'a'))
        link = tarfile.TarInfo('d/passwd')
        link.type, link.linkname = tarfile.SYMTYPE, '/etc/passwd'
        tf.addfile(link)
    with pytest.raises(C.PrepError, match="link.tar: member 'd/passwd' is a link"):
        C.safe_extract(arc, tmp_path / 'out')
    assert not any((tmp_path / 'out').iterdir())


def test_safe_extract_filter(tmp_path):
    arc = A.make_zip(tmp_path / 'train.zip', A.ytvos_files())
    C.safe_extract(arc, tmp_path / 'o', keep=youtube_vos2018.jpeg_only)
    got = sorted(str(p.relative_to(tmp_path / 'o')) for p in (tmp_path / 'o').rglob('*') if p.is_file())
    assert got == ['train/JPEGImages/vidA/00000.jpg', 'train/JPEGImages/vidA/00005.jpg',
                   'train/JPEGImages/vidA/00010.jpg', 'train/JPEGImages/vidB/00000.jpg',
                   'train/JPEGImages/vidB/00005.jpg', 'train/meta.json']


# ------------------------------------------------------------------------------------------------ markers, index

def test_steps_markers(tmp_path):
    s = C.Steps(tmp_path)
    assert not s.done('extract-a.zip')
    s.mark('extract-a.zip', size=10)
    assert s.done('extract-a.zip') and s.done('extract-a.zip', size=10)
    assert not s.done('extract-a.zip', size=11)  # recorded for another archive size
    assert not C.Steps(tmp_path, force=True).done('extract-a.zip')
    assert json.loads((tmp_path / '.done-extract-a.zip').read_text())['size'] == 10
    s.clear('extract-a.zip')
    assert not s.done('extract-a.zip')


def test_frame_index_sorting_and_filters(tmp_path):
    v = tmp_path / 'frames' / 'v1'
    v.mkdir(parents=True)
    for name in ('00010.jpg', '00005.JPG', '100000.jpg', '00000.jpg', 'notes.txt', '.00003.jpg.tmp'):
        (v / name).write_bytes(b'x')
    (tmp_path / 'frames' / 'v2').mkdir()
    (tmp_path / 'frames' / 'v2' / 'b.png').write_bytes(b'x')
    (tmp_path / 'frames' / 'v2' / 'a.png').write_bytes(b'x')
    idx = C.build_frame_index(tmp_path / 'frames')
    assert idx == {'v1': ['00000', '00005', '00010', '100000'], 'v2': ['a', 'b']}
    out = C.write_frame_index(tmp_path / 'index.json', idx)
    assert json.loads(out.read_text()) == idx
    (v / '00005.png').write_bytes(b'x')
    with pytest.raises(C.PrepError, match=r"v1: several files for frame '00005'"):
        C.build_frame_index(tmp_path / 'frames')
    with pytest.raises(C.PrepError, match='nope: folder not found'):
        C.build_frame_index(tmp_path / 'frames', ['nope'])


# ------------------------------------------------------------------------------------------------ resize

@pytest.mark.parametrize('w,h,expected', [(320, 180, (455, 256)), (200, 300, (256, 384)), (854, 480, (455, 256)),
                                          (300, 300, (256, 256)), (256, 700, (256, 700))])
def test_resized_size(w, h, expected):
    # 320 * 256 / 180 = 455.1; 300 * 256 / 200 = 384; 854 * 256 / 480 = 455.5 -> 455 (round half to even)
    assert C.resized_size(w, h, 256) == expected


def test_resize_short_side_content_and_antialias(tmp_path):
    rgb = np.zeros((500, 1000, 3), np.uint8)
    rgb[:, :500] = (255, 0, 0)
    rgb[:, 500:] = (0, 0, 255)
    Image.fromarray(rgb).save(tmp_path / 'lr.png')
    assert C.resize_short_side(tmp_path / 'lr.png', tmp_path / 'o' / 'lr.png', 256) == (512, 256)
    out = np.asarray(Image.open(tmp_path / 'o' / 'lr.png'))
    assert out.shape == (256, 512, 3)
    assert (out[:, :250] == (255, 0, 0)).all() and (out[:, 262:] == (0, 0, 255)).all()
    # 1-px vertical stripes shrunk 3x: an antialiased filter averages them to grey; a point-sampling resize would
    # return pure 0 / 255 columns.
    stripes = np.tile((np.arange(768) % 2 * 255).astype(np.uint8), (768, 1))
    Image.fromarray(stripes).save(tmp_path / 'stripes.png')
    C.resize_short_side(tmp_path / 'stripes.png', tmp_path / 'o' / 'stripes.png', 256)
    s = np.asarray(Image.open(tmp_path / 'o' / 'stripes.png')).astype(int)
    assert s.shape == (256, 256) and s.min() > 60 and s.max() < 195
    # already at the target size: copied byte for byte; no temporary files left
    Image.fromarray(rgb[:256, :300]).save(tmp_path / 'same.png')
    C.resize_short_side(tmp_path / 'same.png', tmp_path / 'o' / 'same.png', 256)
    assert (tmp_path / 'o' / 'same.png').read_bytes() == (tmp_path / 'same.png').read_bytes()
    assert sorted(p.name for p in (tmp_path / 'o').iterdir()) == ['lr.png', 'same.png', 'stripes.png']
    (tmp_path / 'broken.jpg').write_bytes(b'not a jpeg')
    with pytest.raises(C.PrepError, match='broken.jpg: cannot read image'):
        C.resize_short_side(tmp_path / 'broken.jpg', tmp_path / 'o' / 'broken.jpg')
    assert not (tmp_path / 'o' / 'broken.jpg').exists()


# ------------------------------------------------------------------------------------------------ DAVIS-2017

DAVIS_TINY = ['--expect-sequences', '1', '--expect-frames', '3', '--expect-objects', '2']


@pytest.fixture
def davis_zip(tmp_path):
    return A.make_zip(tmp_path / 'DAVIS-2017-trainval-480p.zip', A.davis_files())


def test_davis_end_to_end_and_rerun_skips(tmp_path, davis_zip, capsys, monkeypatch):
    root = tmp_path / 'data'
    rc = davis2017.main(['--root', str(root), '--url', url_of(davis_zip), '--workers', '1',
                         '--resize-short', '8', *DAVIS_TINY])
    out, err = capsys.readouterr()
    assert rc == 0, err
    ddir = root / 'davis2017' / 'DAVIS'
    assert json.loads((ddir / 'frame_index_val.json').read_text()) == {'cat': ['00000', '00001', '00002']}
    assert json.loads((ddir / 'frame_index_train.json').read_text()) == {'dog': ['00000', '00001']}
    assert (root / 'davis2017' / 'downloads' / davis_zip.name).read_bytes() == davis_zip.read_bytes()
    assert (root / 'davis2017' / '.done-extract-DAVIS-2017-trainval-480p.zip').exists()
    # 24 x 16 frames, short side 8 -> 12 x 8
    assert Image.open(ddir / 'JPEGImages' / '480p_s8' / 'cat' / '00002.jpg').size == (12, 8)
    assert Image.open(ddir / 'JPEGImages' / '480p_s8' / 'dog' / '00001.jpg').size == (12, 8)
    from stt_nb.data import DavisReader                 # the prepared folder is what the package's reader expects
    seq = DavisReader(ddir, split='val')['cat']
    assert seq.frames.shape[:3] == (3, 16, 24) and seq.masks.shape == (3, 16, 24)

    def boom(*a, **k):
        raise AssertionError('a finished step was redone')
    monkeypatch.setattr(C, 'safe_extract', boom)
    monkeypatch.setattr(C, 'download', boom)
    monkeypatch.setattr(C, 'resize_tree', boom)
    (root / 'davis2017' / 'downloads' / davis_zip.name).unlink()  # not needed any more
    rc = davis2017.main(['--root', str(root), '--url', url_of(davis_zip), '--resize-short', '8', *DAVIS_TINY])
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert 'already extracted' in out and 'already resized' in out
    calls = []
    monkeypatch.setattr(C, 'safe_extract', lambda *a, **k: calls.append(a))
    rc = davis2017.main(['--root', str(root), '--archive', str(davis_zip), '--force', *DAVIS_TINY])
    assert rc == 0 and len(calls) == 1  # --force redoes the extraction


def test_davis_resumes_partial_download(tmp_path, davis_zip, capsys):
    root = tmp_path / 'data'
    dl = root / 'davis2017' / 'downloads'
    dl.mkdir(parents=True)
    data = davis_zip.read_bytes()
    (dl / (davis_zip.name + '.part')).write_bytes(data[:len(data) // 2])
    assert davis2017.main(['--root', str(root), '--url', url_of(davis_zip), *DAVIS_TINY]) == 0
    out = capsys.readouterr().out
    assert f'resuming at byte {len(data) // 2:,}' in out
    assert f'{len(data) - len(data) // 2:,} transferred now' in out
    assert (dl / davis_zip.name).read_bytes() == data


def test_davis_wrong_counts(tmp_path, davis_zip, capsys):
    rc = davis2017.main(['--root', str(tmp_path / 'd'), '--archive', str(davis_zip),
                         '--expect-sequences', '1', '--expect-frames', '4'])
    line = one_error_line(capsys.readouterr().err)
    assert rc == 1 and 'JPEGImages/480p: expected 4 val frames, found 3' in line
    rc = davis2017.main(['--root', str(tmp_path / 'd'), '--archive', str(davis_zip), *DAVIS_TINY[:4],
                         '--expect-objects', '3'])
    line = one_error_line(capsys.readouterr().err)
    assert rc == 1 and 'Annotations/480p: expected 3 val objects, found 2' in line
    rc = davis2017.main(['--root', str(tmp_path / 'd'), '--archive', str(davis_zip)])  # the real DAVIS numbers
    assert rc == 1 and 'expected 30 val sequences, found 1' in one_error_line(capsys.readouterr().err)


def test_davis_missing_annotation(tmp_path, capsys):
    files = A.davis_files()
    del files['DAVIS/Annotations/480p/cat/00001.png']
    arc = A.make_zip(tmp_path / 'd.zip', files)
    rc = davis2017.main(['--root', str(tmp_path / 'd'), '--archive', str(arc), *DAVIS_TINY])
    line = one_error_line(capsys.readouterr().err)
    assert rc == 1 and 'Annotations/480p/cat: annotations do not match the 3 frames (e.g. 00001)' in line


def _corrupt_member_data(path: Path) -> None:
    "Flip bytes inside the stored data of the zip's largest member (the CRC check must then fail)."
    with zipfile.ZipFile(path) as zf:
        info = max(zf.infolist(), key=lambda i: i.compress_size)
    raw = bytearray(path.read_bytes())
    name_len = int.from_bytes(raw[info.header_offset + 26:info.header_offset + 28], 'little')
    extra_len = int.from_bytes(raw[info.header_offset + 28:info.header_offset + 30], 'little')
    start = info.header_offset + 30 + name_len + extra_len + info.compress_size // 2
    raw[start:start + 8] = bytes(b ^ 0xFF for b in raw[start:start + 8])
    path.write_bytes(bytes(raw))


@pytest.mark.parametrize('damage', ['flipped bytes', 'truncated'])
def test_davis_corrupt_archive_rejected_without_output(tmp_path, davis_zip, capsys, damage):
    if damage == 'truncated':
        davis_zip.write_bytes(davis_zip.read_bytes()[:davis_zip.stat().st_size // 2])
    else:
        _corrupt_member_data(davis_zip)
    root = tmp_path / 'data'
    rc = davis2017.main(['--root', str(root), '--archive', str(davis_zip), *DAVIS_TINY])
    line = one_error_line(capsys.readouterr().err)
    assert rc == 1 and str(davis_zip) in line
    assert ('corrupt archive (Bad CRC-32' in line) if damage == 'flipped bytes' else ('not a zip or tar' in line)
    home = root / 'davis2017'
    assert sorted(p.name for p in home.iterdir()) == []  # nothing extracted, no temp folder, no marker


def test_checksum_mismatch_and_match(tmp_path, davis_zip, capsys):
    root = tmp_path / 'data'
    rc = davis2017.main(['--root', str(root), '--url', url_of(davis_zip), '--md5', '0' * 32, *DAVIS_TINY])
    line = one_error_line(capsys.readouterr().err)
    dl = root / 'davis2017' / 'downloads'
    assert rc == 1 and f'{dl / davis_zip.name}: checksum mismatch: expected md5 {"0" * 32}' in line
    assert (dl / (davis_zip.name + '.corrupt')).exists() and not (dl / davis_zip.name).exists()
    assert not (root / 'davis2017' / 'DAVIS').exists()
    # a user-given archive is never moved
    rc = davis2017.main(['--root', str(root), '--archive', str(davis_zip), '--sha256', 'ab' * 32, *DAVIS_TINY])
    assert rc == 1 and 'expected sha256' in one_error_line(capsys.readouterr().err) and davis_zip.exists()
    md5 = hashlib.md5(davis_zip.read_bytes()).hexdigest()
    sha = hashlib.sha256(davis_zip.read_bytes()).hexdigest()
    rc = davis2017.main(['--root', str(root), '--url', url_of(davis_zip), '--md5', md5, '--sha256', sha,
                         *DAVIS_TINY])
    assert rc == 0
    rec = json.loads((root / 'davis2017' / '.done-checksum-DAVIS-2017-trainval-480p.zip').read_text())
    assert rec['md5'] == md5 and rec['sha256'] == sha


# ------------------------------------------------------------------------------------------------ YouTube-VOS

def test_youtube_vos_end_to_end_with_resize(tmp_path, capsys):
    arc = A.make_zip(tmp_path / 'train.zip', A.ytvos_files(), zipfile.ZIP_DEFLATED)
    root = tmp_path / 'data'
    rc = youtube_vos2018.main(['--root', str(root), '--archive', str(arc), '--expect-videos', '2',
                               '--expect-frames', '5', '--resize-short', '256', '--workers', '2'])
    assert rc == 0, capsys.readouterr().err
    ddir = root / 'youtube_vos2018' / 'train'
    idx = {'vidA': ['00000', '00005', '00010'], 'vidB': ['00000', '00005']}
    assert json.loads((ddir / 'frame_index.json').read_text()) == idx
    assert not (ddir / 'Annotations').exists() and (ddir / 'meta.json').exists()  # JPEGImages only by default
    rs = ddir / 'JPEGImages_s256'
    assert C.build_frame_index(rs) == idx
    assert Image.open(rs / 'vidA' / '00010.jpg').size == (455, 256)  # 320 x 180 -> 455.1 x 256
    assert Image.open(rs / 'vidB' / '00000.jpg').size == (256, 384)  # 200 x 300 -> 256 x 384
    assert not [p for p in rs.rglob('*') if p.name.startswith('.')]  # no temporary files
    # the index the script writes is the one the package's step-2 dataset reads
    from stt_nb.data import FramePairDataset
    ds = FramePairDataset(rs, index=ddir / 'frame_index.json', size=32, seed=0)
    assert len(ds) == 2 and ds[0]['lab'].shape == (2, 3, 32, 32)


def test_youtube_vos_all_frames_archive_hint(tmp_path, capsys):
    files = A.ytvos_files()
    files['train/JPEGImages/vidA/00001.jpg'] = files['train/JPEGImages/vidA/00000.jpg']
    arc = A.make_zip(tmp_path / 'train.zip', files)
    rc = youtube_vos2018.main(['--root', str(tmp_path / 'd'), '--archive', str(arc), '--expect-videos', '2',
                               '--expect-frames', '5'])
    line = one_error_line(capsys.readouterr().err)
    assert rc == 1 and 'expected 5 frames, found 6 (1 frame name(s) not a multiple of 5' in line


def test_manual_dataset_without_archive_prints_instructions(tmp_path):
    r = subprocess.run([sys.executable, 'data_scripts/youtube_vos2018.py', '--root', str(tmp_path / 'd')],
                       cwd=REPO, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert 'CodaLab' in r.stderr and 'train.zip' in r.stderr and '--archive' in r.stderr


@pytest.mark.parametrize('mod,needle', [(imagenet, 'image-net.org'), (jhmdb, 'jhmdb.is.tue.mpg.de'),
                                        (vip, 'VIP_Fine')])
def test_manual_instructions_other_datasets(tmp_path, capsys, mod, needle):
    assert mod.main(['--root', str(tmp_path / 'd')]) == 2
    assert needle in capsys.readouterr().err


def test_missing_archive_path(tmp_path, capsys):
    assert youtube_vos2018.main(['--root', str(tmp_path), '--archive', str(tmp_path / 'nope.zip')]) == 1
    assert 'nope.zip: archive not found' in one_error_line(capsys.readouterr().err)


# ------------------------------------------------------------------------------------------------ JHMDB

def test_jhmdb_two_archives_and_split_list(tmp_path, capsys):
    frames = A.make_tar(tmp_path / 'Rename_Images.tar.gz', A.jhmdb_frames_files())
    joints = A.make_zip(tmp_path / 'joint_positions.zip', A.jhmdb_joints_files())
    split = tmp_path / 'testlist_split1.txt'
    split.write_text('/elsewhere/JHMDB/joint_positions/clap/v1/joint_positions.mat '
                     '/elsewhere/JHMDB/Rename_Images/clap/v1\n'
                     'JHMDB/joint_positions/run/v2/joint_positions.mat JHMDB/Rename_Images/run/v2\n')
    root = tmp_path / 'data'
    rc = jhmdb.main(['--root', str(root), '--archive', str(frames), '--archive', str(joints),
                     '--split-list', str(split), '--expect-videos', '2', '--resize-short', '12', '--workers', '1'])
    assert rc == 0, capsys.readouterr().err
    home = root / 'jhmdb'
    assert json.loads((home / 'frame_index_split1_test.json').read_text()) == {
        'clap/v1': ['00001', '00002', '00003'], 'run/v2': ['00001', '00002']}
    assert json.loads((home / 'frame_index_all.json').read_text())['run/v3'] == ['00001']
    assert Image.open(home / 'Rename_Images_s12' / 'run' / 'v2' / '00002.png').size == (16, 12)  # 32 x 24 -> 16 x 12
    assert not (home / 'Rename_Images_s12' / 'run' / 'v3').exists()  # only the test videos are resized


def test_jhmdb_official_split_files_and_missing_joints(tmp_path, capsys):
    splits = tmp_path / 'splits'
    splits.mkdir()
    (splits / 'clap_test_split1.txt').write_text('v1.avi 2\nvx.avi 1\n')
    (splits / 'run_test_split1.txt').write_text('v2.avi 1 \nv3.avi 2\n')
    assert jhmdb.read_split_list(splits) == ['clap/v1', 'run/v3']
    frames = A.make_tar(tmp_path / 'f.tar', A.jhmdb_frames_files(), 'w')
    joints = A.make_zip(tmp_path / 'j.zip', A.jhmdb_joints_files(('clap/v1', 'run/v2')))
    rc = jhmdb.main(['--root', str(tmp_path / 'd'), '--archive', str(frames), '--archive', str(joints),
                     '--split-list', str(splits), '--expect-videos', '2'])
    line = one_error_line(capsys.readouterr().err)
    assert rc == 1 and 'joint_positions/run/v3/joint_positions.mat: joint positions not found' in line


# ------------------------------------------------------------------------------------------------ VIP

def test_vip_end_to_end_and_bad_category_id(tmp_path, capsys):
    arc = A.make_tar(tmp_path / 'VIP_Fine.tar.gz', A.vip_files())
    root = tmp_path / 'data'
    assert vip.main(['--root', str(root), '--archive', str(arc), '--expect-videos', '2']) == 0, capsys.readouterr()
    ddir = root / 'vip' / 'VIP_Fine'
    assert json.loads((ddir / 'frame_index_val.json').read_text()) == {
        'vid1': ['000000000001', '000000000002'], 'vid2': ['000000000001', '000000000002', '000000000003']}
    capsys.readouterr()
    bad = A.make_tar(tmp_path / 'bad.tar.gz', A.vip_files(bad_id=True))
    rc = vip.main(['--root', str(tmp_path / 'd2'), '--archive', str(bad), '--expect-videos', '2'])
    line = one_error_line(capsys.readouterr().err)
    assert rc == 1 and 'Category_ids/vid2/000000000001.png: category id 23 outside 0-19' in line


# ------------------------------------------------------------------------------------------------ ImageNet

def test_imagenet_per_class_extraction_and_resume(tmp_path, capsys):
    arc = A.imagenet_outer_tar(tmp_path / 'ILSVRC2012_img_train.tar')
    md5 = hashlib.md5(arc.read_bytes()).hexdigest()
    root = tmp_path / 'data'
    args = ['--root', str(root), '--archive', str(arc), '--md5', md5, '--expect-classes', '2', '--expect-images', '3']
    assert imagenet.main(args) == 0, capsys.readouterr().err
    home = root / 'imagenet'
    idx = {'n00000001': ['n00000001_10', 'n00000001_7'], 'n00000002': ['n00000002_3']}
    assert json.loads((home / 'train_index.json').read_text()) == idx
    kept = (home / 'train' / 'n00000001' / 'n00000001_7.JPEG').stat().st_ino
    # interrupted run: class 2 never finished; the rerun unpacks only that class
    import shutil
    shutil.rmtree(home / 'train' / 'n00000002')
    (home / '.done-extract-ILSVRC2012_img_train.tar').unlink()
    assert imagenet.main(args) == 0
    assert 'extracted 1 images' in capsys.readouterr().out
    assert (home / 'train' / 'n00000001' / 'n00000001_7.JPEG').stat().st_ino == kept
    assert C.build_frame_index(home / 'train') == idx


def test_imagenet_truncated_archive(tmp_path, capsys):
    arc = A.imagenet_outer_tar(tmp_path / 'ILSVRC2012_img_train.tar')
    import tarfile
    with tarfile.open(arc) as tf:
        cut = tf.getmember('n00000002.tar').offset_data + 1500  # inside the second class's images
    arc.write_bytes(arc.read_bytes()[:cut])
    rc = imagenet.main(['--root', str(tmp_path / 'd'), '--archive', str(arc), '--no-checksum'])
    line = one_error_line(capsys.readouterr().err)
    assert rc == 1 and str(arc) in line and 'corrupt archive' in line
    train = tmp_path / 'd' / 'imagenet' / 'train'
    assert sorted(p.name for p in train.iterdir()) == ['n00000001']  # finished class kept, no temp folder
    assert not (tmp_path / 'd' / 'imagenet' / '.done-extract-ILSVRC2012_img_train.tar').exists()
