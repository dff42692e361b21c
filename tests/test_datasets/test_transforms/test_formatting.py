"""PackVideoPoseInputs: mmpose's packing with the video meta keys."""
import numpy as np
import torch
from mmpose.datasets.transforms import PackPoseInputs
from mmpose.registry import TRANSFORMS

from posewarper_mm.datasets.transforms import (MULTI_FRAME_META_KEYS,
                                               PackVideoPoseInputs)


def _results(num_frames: int = 3) -> dict:
    rng = np.random.default_rng(0)
    return dict(
        img=[
            rng.integers(0, 255, (8, 6, 3), dtype=np.uint8)
            for _ in range(num_frames)
        ],
        img_id=7,
        img_path=['key.jpg', 'prev.jpg', 'next.jpg'][:num_frames],
        img_shape=(8, 6),
        ori_shape=(8, 6),
        frame_weights=np.full(num_frames, 1 / num_frames, np.float32),
        frame_offsets=np.arange(num_frames),
        vid_id='000001',
        nframes=30,
        not_a_meta_key='dropped')


def test_default_meta_keys_are_the_package_ones():
    pack = TRANSFORMS.build(dict(type='PackVideoPoseInputs'))
    assert isinstance(pack, PackPoseInputs)
    assert tuple(pack.meta_keys) == tuple(MULTI_FRAME_META_KEYS)
    # mmpose's own defaults are all kept
    assert set(PackPoseInputs().meta_keys) <= set(pack.meta_keys)


def test_packs_frames_and_temporal_meta():
    packed = PackVideoPoseInputs()(_results())
    inputs, meta = packed['inputs'], packed['data_samples'].metainfo
    assert isinstance(inputs, torch.Tensor)
    assert tuple(inputs.shape) == (3, 3, 8, 6)
    np.testing.assert_allclose(meta['frame_weights'], [1 / 3] * 3)
    np.testing.assert_array_equal(meta['frame_offsets'], [0, 1, 2])
    assert meta['vid_id'] == '000001' and meta['nframes'] == 30
    assert 'not_a_meta_key' not in meta


def test_same_result_as_pack_pose_inputs_with_the_keys():
    ours = PackVideoPoseInputs()(_results(2))
    theirs = PackPoseInputs(meta_keys=MULTI_FRAME_META_KEYS)(_results(2))
    assert torch.equal(ours['inputs'], theirs['inputs'])
    assert ours['data_samples'].metainfo.keys() == \
        theirs['data_samples'].metainfo.keys()


def test_meta_keys_can_still_be_given():
    pack = PackVideoPoseInputs(meta_keys=('img_id', 'frame_weights'))
    meta = pack(_results(1))['data_samples'].metainfo
    assert set(meta) == {'img_id', 'frame_weights'}
