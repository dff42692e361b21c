"""tools/train.py and tools/test.py end with one line on a bad user file."""
import importlib.util
import os.path as osp
import sys

import pytest

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..',
                            'test_engine'))
import quickstart_helpers as qs  # noqa: E402
import tiny_topdown_experiment as tiny  # noqa: E402

MISSING = qs.missing_pieces()
pytestmark = pytest.mark.skipif(
    MISSING is not None, reason=f'quickstart pieces missing: {MISSING}')


def _load_tool(name):
    spec = importlib.util.spec_from_file_location(
        f'posewarper_{name}_tool', osp.join(tiny.TOOLS_DIR, f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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
        _load_tool(tool).main(
            [*argv, '--work-dir', str(tmp_path / 'work'), *options])
    message = str(exc.value.code)
    assert message.startswith(f'{tool}.py: error: '), message
    assert str(bad) in message
    assert '\n' not in message
