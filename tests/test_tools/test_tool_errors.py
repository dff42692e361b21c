"""tools/train.py and tools/test.py end with one line on a bad user file
or config."""
import pytest

from tests.testing import load_tool
from tests.testing import tiny_quickstart as qs

MISSING = qs.missing_pieces()
pytestmark = pytest.mark.skipif(
    MISSING is not None, reason=f'quickstart pieces missing: {MISSING}')


@pytest.mark.parametrize('tool', ['train', 'test'])
def test_bad_annotation_file_ends_in_one_line(tool, tmp_path):
    bad = tmp_path / 'no_images.json'
    bad.write_text('{"images": [], "annotations": [], "categories": []}')
    loader = 'train_dataloader' if tool == 'train' else 'test_dataloader'
    options = [
        '--cfg-options', f'{loader}.dataset.ann_file={bad}',
        f'{loader}.num_workers=0', f'{loader}.persistent_workers=False'
    ]
    if tool == 'train':
        argv = [qs.STAGE1_CFG, '--no-validate']
    else:
        argv = [qs.STAGE1_CFG, str(tmp_path / 'unused.pth')]
    with pytest.raises(SystemExit) as exc:
        load_tool(f'tools/{tool}.py').main(
            [*argv, '--work-dir',
             str(tmp_path / 'work'), *options])
    message = str(exc.value.code)
    assert message.startswith(f'{tool}.py: error: '), message
    assert str(bad) in message
    assert '\n' not in message


@pytest.mark.parametrize('tool', ['train', 'test'])
def test_config_error_ends_in_one_line(tool, tmp_path):
    """An even ``offsets_kernel`` is a ConfigError of the neck, raised
    while the Runner builds the model."""
    argv = [qs.STAGE2_CFG] if tool == 'train' else [
        qs.STAGE2_CFG, str(tmp_path / 'unused.pth')
    ]
    with pytest.raises(SystemExit) as exc:
        load_tool(f'tools/{tool}.py').main([
            *argv, '--work-dir',
            str(tmp_path / 'work'), '--cfg-options',
            'model.neck.offsets_kernel=2', 'load_from=None'
        ])
    message = str(exc.value.code)
    assert message.startswith(f'{tool}.py: error: '), message
    assert 'PoseWarpingNeck: offsets_kernel must be odd' in message
    assert '\n' not in message


@pytest.mark.parametrize('offsets', ['[1,2]', '[-1,0,1]'])
def test_offsets_that_training_would_ignore_end_in_one_line(
        offsets, tmp_path):
    """The training split draws its offsets (``per_iteration``): given
    offsets are refused, not silently ignored."""
    with pytest.raises(SystemExit) as exc:
        load_tool('tools/train.py').main([
            qs.STAGE2_CFG, '--no-validate', '--work-dir',
            str(tmp_path / 'work'), '--cfg-options', 'load_from=None',
            f'train_dataloader.dataset.frame_offsets={offsets}',
            'train_dataloader.num_workers=0',
            'train_dataloader.persistent_workers=False'
        ])
    message = str(exc.value.code)
    assert message.startswith('train.py: error: '), message
    assert 'frame_offsets' in message or 'key frame 0' in message
    assert '\n' not in message


@pytest.mark.parametrize('how', ['load_from', 'resume'])
def test_unreadable_start_checkpoint_ends_in_one_line(how, tmp_path):
    bad = tmp_path / 'iter_4.pth'
    bad.write_bytes(b'PK\x03\x04 truncated zip')
    option = [f'load_from={bad}'] if how == 'load_from' else []
    resume = ['--resume', str(bad)] if how == 'resume' else []
    with pytest.raises(SystemExit) as exc:
        load_tool('tools/train.py').main([
            qs.STAGE1_CFG, '--work-dir',
            str(tmp_path / 'work'), *resume, '--cfg-options', *option,
            'train_dataloader.num_workers=0'
        ])
    message = str(exc.value.code)
    assert message.startswith('train.py: error: '), message
    assert str(bad) in message and 'not a readable PyTorch checkpoint' \
        in message
    assert message.split(': ')[2] == ('load_from' if how == 'load_from'
                                      else '--resume')
    assert '\n' not in message
