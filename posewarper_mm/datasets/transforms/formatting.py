"""Pack a multi-frame sample with the temporal meta keys by default."""
from typing import Sequence

from mmpose.datasets.transforms import PackPoseInputs
from mmpose.registry import TRANSFORMS

from .load_video_frames import MULTI_FRAME_META_KEYS


@TRANSFORMS.register_module()
class PackVideoPoseInputs(PackPoseInputs):
    """:class:`PackPoseInputs` with :data:`MULTI_FRAME_META_KEYS` as the
    default ``meta_keys`` (mmpose's would drop ``frame_weights``); the T
    frames of ``results['img']`` become ``inputs`` (T, C, H, W)."""

    def __init__(self, meta_keys: Sequence[str] = MULTI_FRAME_META_KEYS,
                 pack_transformed: bool = False) -> None:
        super().__init__(
            meta_keys=meta_keys, pack_transformed=pack_transformed)
