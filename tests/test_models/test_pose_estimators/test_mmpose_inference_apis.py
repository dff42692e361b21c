"""mmpose's single-image inference APIs run the estimator unchanged (T=1)."""
import numpy as np
from mmengine.config import Config
from mmpose.apis import MMPoseInferencer, inference_topdown
from mmpose.datasets.datasets.utils import parse_pose_metainfo

from tests.testing.models import INPUT_SIZE, build, estimator_cfg

METAINFO = dict(from_file='configs/_base_/datasets/posetrack18.py')
PIPELINE = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=INPUT_SIZE),
    dict(type='PackPoseInputs')
]


def _image():
    return np.random.default_rng(0).integers(
        0, 255, (120, 160, 3), dtype=np.uint8)


def test_inference_topdown_runs_single_frame():
    model = build(estimator_cfg()).eval()
    model.cfg = Config(
        dict(
            default_scope='mmpose',
            test_dataloader=dict(dataset=dict(pipeline=PIPELINE))))
    model.dataset_meta = parse_pose_metainfo(METAINFO)
    results = inference_topdown(
        model,
        _image(),
        bboxes=np.array([[10, 10, 90, 110], [50, 0, 150, 120]]))
    assert len(results) == 2
    for result in results:
        keypoints = result.pred_instances.keypoints
        assert keypoints.shape == (1, 17, 2)
        assert np.all(np.isfinite(keypoints))
        # heatmap peaks map back inside the crop window of the person
        center = result.metainfo['input_center']
        half = result.metainfo['input_scale'] / 2
        assert np.all(np.abs(keypoints[0] - center) <= half + 1e-3)


def test_mmpose_inferencer_runs(tmp_path):
    config = tmp_path / 'posewarper_t1.py'
    Config(
        dict(
            default_scope='mmpose',
            custom_imports=dict(imports=['posewarper_mm']),
            model=estimator_cfg(),
            data_mode='topdown',
            dataset_type='CocoDataset',
            train_dataloader=dict(
                dataset=dict(type='CocoDataset', metainfo=METAINFO)),
            test_dataloader=dict(
                dataset=dict(
                    type='CocoDataset', metainfo=METAINFO, pipeline=PIPELINE)),
            visualizer=dict(
                type='PoseLocalVisualizer',
                name='posewarper_t1_visualizer'))).dump(config)
    inferencer = MMPoseInferencer(
        pose2d=str(config), det_model='whole_image', device='cpu')
    result = next(inferencer(_image(), return_vis=False))
    predictions = result['predictions'][0]
    assert len(predictions) == 1
    keypoints = np.asarray(predictions[0]['keypoints'])
    assert keypoints.shape == (17, 2) and np.all(np.isfinite(keypoints))
