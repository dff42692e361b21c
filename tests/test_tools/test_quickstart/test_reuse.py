"""A finished step's output is reused only when this command made it."""
import json

import pytest

from tools.quickstart.reuse import RECORD_SUFFIX, reuse_output


def test_output_is_reused_only_for_its_own_command(tmp_path, capsys):
    ckpt = tmp_path / 'stage1' / 'iter_8.pth'  # its folder is made
    cmd = ['tools/train.py', 'a.py', '--cfg-options', 'randomness.seed=1']
    assert not reuse_output(str(ckpt), cmd, 'stage 1')  # absent: run it
    record = tmp_path / 'stage1' / f'iter_8.pth{RECORD_SUFFIX}'
    assert json.loads(record.read_text()) == cmd
    ckpt.write_bytes(b'weights')
    assert reuse_output(str(ckpt), cmd, 'stage 1')
    assert f'stage 1: using {ckpt}' in capsys.readouterr().out

    other = cmd[:-1] + ['randomness.seed=2']
    with pytest.raises(SystemExit) as err:
        reuse_output(str(ckpt), other, 'stage 1')
    message = str(err.value)
    assert str(ckpt) in message and '--fresh' in message
    assert 'recorded: randomness.seed=1; this run: randomness.seed=2' \
        in message
    assert json.loads(record.read_text()) == cmd  # the record is kept

    record.unlink()  # made before commands were recorded
    with pytest.raises(SystemExit, match='no command is recorded'):
        reuse_output(str(ckpt), cmd, 'stage 1')


def test_a_rerun_after_a_missing_output_records_the_new_command(tmp_path):
    out = tmp_path / 'labels.json'
    assert not reuse_output(str(out), ['x', '--max-distance', '1'], 'labels')
    # the step did not finish: the next command is recorded instead
    assert not reuse_output(str(out), ['x'], 'labels')
    out.write_text('{}')
    assert reuse_output(str(out), ['x'], 'labels')
