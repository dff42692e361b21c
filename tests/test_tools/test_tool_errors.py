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
            'model.neck.offsets_kernel=2'
        ])
    message = str(exc.value.code)
    assert message.startswith(f'{tool}.py: error: '), message
    assert 'PoseWarpingNeck: offsets_kernel must be odd' in message
    assert '\n' not in message
