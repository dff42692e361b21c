# Stage 1 of PoseWarper: single-frame HRNet-W48 384x288 fine-tuned on
# PoseTrack18 from COCO weights (Adam 1e-4, 10 epochs, steps [5, 7],
# 16 images per GPU x 8 GPUs, flip test), as in the official recipe.
_base_ = ['mmpose::_base_/default_runtime.py']

custom_imports = dict(imports=['posewarper_mm'], allow_failed_imports=False)

# a fixed seed: model initialisation, data order and augmentation repeat
# from run to run (see the README on resuming)
randomness = dict(seed=0)

# runtime
train_cfg = dict(max_epochs=10, val_interval=1)

# optimizer
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-4))

# learning policy (the official recipe has no warm-up)
param_scheduler = [
    dict(
        type='MultiStepLR',
        begin=0,
        end=10,
        milestones=[5, 7],
        gamma=0.1,
        by_epoch=True)
]

# automatically scaling LR based on the actual training batch size
auto_scale_lr = dict(base_batch_size=128)

# hooks: a checkpoint every epoch (short schedule), keeping the best AP,
# written so that a failed write never costs the previous checkpoint
default_hooks = dict(
    checkpoint=dict(
        type='AtomicCheckpointHook',
        save_best='posetrack18/AP',
        rule='greater',
        interval=1))
# mmpose's default SyncBuffersHook (mmengine's DDP wrapper does not
# broadcast buffers, so BN statistics are averaged over ranks before each
# validation), then a warning at the start of training when no pretrained
# weights are given.
custom_hooks = [
    dict(type='SyncBuffersHook'),
    dict(
        type='InitialWeightsCheckHook',
        hint='Give the COCO-pretrained HRNet (mmpose model zoo, '
        'td-hm_hrnet-w48_8xb32-210e_coco-384x288) with --cfg-options '
        'load_from=PATH.')
]
# COCO-pretrained HRNet-W48 384x288 (mmpose model zoo); give a local path
load_from = None

# codec settings
codec = dict(
    type='MSRAHeatmap', input_size=(288, 384), heatmap_size=(72, 96), sigma=3)

# model settings: mmpose's own single-frame estimator, fed by the
# multi-frame pipeline with T = 1 (the preprocessor drops the frame axis)
model = dict(
    type='TopdownPoseEstimator',
    data_preprocessor=dict(
        type='MultiFramePoseDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        single_frame_output=True),
    backbone=dict(
        type='HRNet',
        in_channels=3,
        extra=dict(
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
                num_channels=(48, 96, 192, 384)))),
    head=dict(
        type='HeatmapHead',
        in_channels=48,
        out_channels=17,
        deconv_out_channels=None,
        loss=dict(type='KeypointMSELoss', use_target_weight=True),
        decoder=codec),
    test_cfg=dict(flip_test=True, flip_mode='heatmap', shift_heatmap=True))

# base dataset settings (dataset_type and data_mode are read by mmpose's
# inferencer and demos)
dataset_type = 'PoseTrackVideoPairDataset'
data_mode = 'topdown'
data_root = 'data/posetrack18/'

# pipelines: the augmentation of the official recipe: flip 0.5, half body
# 0.3 (> 8 visible joints), scale in [0.65, 1.35], rotation (prob 0.6) up
# to 90 degrees with a spread close to the official clip(N(0, 45), -90, 90).
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
    dict(type='PackVideoPoseInputs')
]
val_pipeline = [
    dict(type='LoadVideoFrames'),
    dict(type='GetBBoxCenterScale', padding=1.25),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='PackVideoPoseInputs')
]

# data loaders: the key frame alone (T = 1)
train_dataloader = dict(
    batch_size=16,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    # the batch's crops leave the loader process stacked into one tensor
    # (mmengine's default_collate; the data samples stay a list): one
    # shared-memory handle per batch instead of one per crop
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/posetrack18_train.json',
        single_frame=True,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32,
    num_workers=4,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/posetrack18_val.json',
        single_frame=True,
        # detection boxes of the PoseWarper supplementary files; set
        # ``bbox_file=None`` (or ``tools/test.py --gt-bboxes``) to evaluate
        # with ground-truth boxes instead
        bbox_file=data_root + 'posetrack18_precomputed_boxes/val_boxes.json',
        filter_cfg=dict(bbox_score_thr=0.2),
        test_mode=True,
        pipeline=val_pipeline))
test_dataloader = val_dataloader

# evaluators
val_evaluator = dict(
    type='PoseTrackAPMetric',
    ann_file=data_root + 'annotations/posetrack18_val.json',
    gt_folder=data_root + 'annotations/val')
test_evaluator = val_evaluator
