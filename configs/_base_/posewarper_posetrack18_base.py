# Shared settings of the PoseWarper PoseTrack18 recipes (stage 1 and 2).
_base_ = ['mmpose::_base_/default_runtime.py']

custom_imports = dict(imports=['posewarper_mm'], allow_failed_imports=False)

# a fixed seed: model initialisation, data order, augmentation and the
# supporting-frame draws repeat from run to run (and an interrupted
# iteration-based run resumes bit for bit on CPU; see the README)
randomness = dict(seed=0)

# read by mmpose's inferencer and demos
dataset_type = 'PoseTrackVideoPairDataset'
data_mode = 'topdown'
data_root = 'data/posetrack18/'
# detection boxes of the PoseWarper supplementary files; set the test
# dataset's ``bbox_file=None`` (or ``tools/test.py --gt-bboxes``) to
# evaluate with ground-truth boxes instead
det_bbox_file = data_root + 'posetrack18_precomputed_boxes/val_boxes.json'

codec = dict(
    type='MSRAHeatmap', input_size=(288, 384), heatmap_size=(72, 96), sigma=3)

hrnet_w48 = dict(
    stage1=dict(
        num_modules=1,
        num_branches=1,
        block='BOTTLENECK',
        num_blocks=(4, ),
        num_channels=(64, )),
    stage2=dict(
        num_modules=1,
        num_branches=2,
        block='BASIC',
        num_blocks=(4, 4),
        num_channels=(48, 96)),
    stage3=dict(
        num_modules=4,
        num_branches=3,
        block='BASIC',
        num_blocks=(4, 4, 4),
        num_channels=(48, 96, 192)),
    stage4=dict(
        num_modules=3,
        num_branches=4,
        block='BASIC',
        num_blocks=(4, 4, 4, 4),
        num_channels=(48, 96, 192, 384)))

preprocessor = dict(
    type='MultiFramePoseDataPreprocessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True)

# PackPoseInputs' default meta keys plus the temporal ones
meta_keys = ('id', 'img_id', 'img_path', 'category_id', 'crowd_index',
             'ori_shape', 'img_shape', 'input_size', 'input_center',
             'input_scale', 'flip', 'flip_direction', 'flip_indices',
             'raw_ann_info', 'dataset_name', 'frame_weights', 'frame_offsets')

# Augmentation of the official recipe: flip 0.5, half body 0.3 (> 8
# visible joints), scale in [0.65, 1.35], rotation (prob 0.6) up to 90
# degrees with a spread close to the official clip(N(0, 45), -90, 90).
# The official code has no box-centre shift (mmpose 0.x adds one with
# shift_factor=0.16, shift_prob=0.3).
train_pipeline = [
    dict(type='LoadVideoFrames'),
    dict(type='GetBBoxCenterScale', padding=1.25),
    dict(type='RandomFlip', direction='horizontal', prob=0.5),
    dict(type='RandomHalfBody', min_total_keypoints=9, prob=0.3),
    dict(
        type='RandomBBoxTransform',
        shift_prob=0.0,
        scale_factor=(0.65, 1.35),
        rotate_factor=90.0,
        rotate_prob=0.6),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs', meta_keys=meta_keys)
]
val_pipeline = [
    dict(type='LoadVideoFrames'),
    dict(type='GetBBoxCenterScale', padding=1.25),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='PackPoseInputs', meta_keys=meta_keys)
]

val_evaluator = dict(
    type='PoseTrackAPMetric',
    ann_file=data_root + 'annotations/posetrack18_val.json',
    gt_folder=data_root + 'annotations/val')
test_evaluator = val_evaluator

default_hooks = dict(
    checkpoint=dict(save_best='posetrack18/AP', rule='greater', interval=1))
