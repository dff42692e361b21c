# Stage 2 of PoseWarper: HRNet-W48 384x288 frozen (stage-1 weights), the
# warping neck trained on (key, key + delta) pairs, delta drawn at every
# iteration from [-2, 2]; Adam 1e-4, 20 epochs, steps [10, 15], 8 pairs per
# GPU x 8 GPUs. Test: 5 frames (-2..2) aggregated with weights 0.1 / 0.25 /
# 0.3 / 0.25 / 0.1 on detection boxes with score >= 0.2.
_base_ = ['mmpose::_base_/default_runtime.py']

custom_imports = dict(imports=['posewarper_mm'], allow_failed_imports=False)

# a fixed seed: model initialisation, data order, augmentation and the
# supporting-frame draws repeat from run to run (see the README on resuming)
randomness = dict(seed=0)

# runtime
train_cfg = dict(max_epochs=20, val_interval=1)

# optimizer
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-4))

# learning policy (the official recipe has no warm-up)
param_scheduler = [
    dict(
        type='MultiStepLR',
        begin=0,
        end=20,
        milestones=[10, 15],
        gamma=0.1,
        by_epoch=True)
]

# automatically scaling LR based on the actual training batch size
auto_scale_lr = dict(base_batch_size=64)

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
# validation), then a warning at the start of training if load_from is
# unset (the backbone is frozen, so random weights there never improve).
custom_hooks = [
    dict(type='SyncBuffersHook'),
    dict(
        type='InitialWeightsCheckHook',
        hint='Give the stage-1 checkpoint with --cfg-options '
        'load_from=PATH.')
]
# The stage-1 checkpoint; its head conv moves into the neck automatically.
load_from = 'work_dirs/posewarper-stage1_hrnet-w48_posetrack18/best.pth'

# codec settings
codec = dict(
    type='MSRAHeatmap', input_size=(288, 384), heatmap_size=(72, 96), sigma=3)

# model settings: the stage-1 backbone, then the warping neck, which turns
# each frame's heatmaps into the key frame's, and a head that sums them
# with the frame weights
model = dict(
    type='PoseWarperEstimator',
    data_preprocessor=dict(
        type='MultiFramePoseDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
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
                num_channels=(48, 96, 192, 384))),
        frozen_stages=4),
    # 'frozen': backbone BN statistics frozen too (mmpose 0.x);
    # 'train': they keep updating as in the official code.
    backbone_bn_mode='frozen',
    neck=dict(
        type='PoseWarpingNeck',
        in_channels=48,
        out_channels=17,
        inner_channels=128,
        deform_groups=17,
        dilations=(3, 6, 12, 18, 24),
        trans_conv_kernel=1,
        res_blocks_cfg=dict(block='BASIC', num_blocks=20),
        offsets_kernel=3,
        deform_conv_kernel=3,
        freeze_trans_layer=True,
        im2col_step=80),
    head=dict(
        type='TemporalAggregationHead',
        in_channels=17,
        out_channels=17,
        loss=dict(type='KeypointMSELoss', use_target_weight=True),
        decoder=codec),
    test_cfg=dict(flip_test=False, flip_mode='heatmap', shift_heatmap=True))

# base dataset settings (dataset_type and data_mode are read by mmpose's
# inferencer and demos)
dataset_type = 'PoseTrackVideoPairDataset'
data_mode = 'topdown'
data_root = 'data/posetrack18/'

# pipelines: the augmentation of the official recipe: flip 0.5, half body
# 0.3 (> 8 visible joints), scale in [0.65, 1.35], rotation (prob 0.6) up
# to 90 degrees with a spread close to the official clip(N(0, 45), -90, 90).
# The official code has no box-centre shift (mmpose 0.x adds one with
# shift_factor=0.16, shift_prob=0.3). Every frame of a sample gets the same
# transform.
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

# data loaders
train_dataloader = dict(
    batch_size=8,
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
        # the key frame and one supporting frame at a random offset in
        # [-2, 2], drawn anew at every iteration; the loss is on the
        # supporting frame warped onto the key frame
        frame_sampler_mode='per_iteration',
        frame_range=(-2, 2),
        num_sampled_frames=1,
        frame_weights=(0.0, 1.0),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/posetrack18_val.json',
        frame_sampler_mode='fixed',
        frame_offsets=(-2, -1, 0, 1, 2),
        frame_weights=(0.1, 0.25, 0.3, 0.25, 0.1),
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
