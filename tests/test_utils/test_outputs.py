"""Output files and folders are checked before any work is done."""
import os

import pytest

from posewarper_mm.errors import OutputLocationError
from posewarper_mm.utils import (PendingOutputs, pending_path,
                                 prepare_output_dir, prepare_output_file,
                                 write_file_atomically)


def test_output_locations(tmp_path):
    blocker = tmp_path / 'file'
    blocker.write_text('x')
    with pytest.raises(
            OutputLocationError,
            match=r'--pred-dir .*file/sub: cannot create'):
        prepare_output_dir(str(blocker / 'sub'), '--pred-dir')
    with pytest.raises(OutputLocationError, match='exists and is not a'):
        prepare_output_dir(str(blocker), '--pred-dir')
    with pytest.raises(OutputLocationError, match='is a folder, not a file'):
        prepare_output_file(str(tmp_path), '--out')
    with pytest.raises(OutputLocationError, match=r'--out .*file/m\.json'):
        prepare_output_file(str(blocker / 'm.json'), '--out')
    out = tmp_path / 'new' / 'deeper' / 'm.json'
    assert prepare_output_file(str(out), '--out') == str(out)
    assert out.parent.is_dir() and not out.exists()
    assert list(out.parent.iterdir()) == []  # the probe file is removed


def test_pending_outputs_appear_only_when_committed(tmp_path):
    video, table = str(tmp_path / 'clip.mp4'), str(tmp_path / 'clip.json')
    assert pending_path(video) == str(
        tmp_path / f'.clip.tmp-{os.getpid()}.mp4')
    outputs = PendingOutputs()
    for path in (video, table):
        with open(outputs.add(path), 'w') as f:
            f.write(path)
    assert sorted(os.listdir(tmp_path)) == [
        f'.clip.tmp-{os.getpid()}.json', f'.clip.tmp-{os.getpid()}.mp4']
    assert outputs.commit() == [video, table]
    assert sorted(os.listdir(tmp_path)) == ['clip.json', 'clip.mp4']
    with open(outputs.add(video), 'w') as f:
        f.write('half')
    outputs.discard()
    assert sorted(os.listdir(tmp_path)) == ['clip.json', 'clip.mp4']
    with open(video) as f:
        assert f.read() == video  # the finished file is kept


def test_write_file_atomically_keeps_the_old_file_on_failure(tmp_path):
    path = str(tmp_path / 'labels.json')
    assert write_file_atomically(path, '{"a": 1}') == path
    with open(path) as f:
        assert f.read() == '{"a": 1}'
    with pytest.raises(TypeError):
        write_file_atomically(path, {'not': 'text'})  # fails while writing
    with open(path) as f:
        assert f.read() == '{"a": 1}'  # untouched
    assert os.listdir(tmp_path) == ['labels.json']  # no pending file left
