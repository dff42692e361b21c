# Quickstart stage 1: the stage-1 recipe
# (configs/posewarper-stage1_hrnet-w48_posetrack18.py) with a tiny HRNet,
# 96x64 inputs, a short schedule and the generated sparse-label videos.
# Everything else is the recipe's; tests/test_configs checks that only the
# settings commented here differ.
_base_ = ['./_base_/quickstart_schedule.py']

# runtime: 1900 iterations, about 42 passes over the 1461 labeled persons
# of the 96 generated training videos (the recipe: 10 epochs). The model
# tells the left leg from the right only late: until about iteration 1400
# (at this learning rate) both knee maps and both ankle maps peak on the
# same leg, so knees and ankles score 20-30 AP whatever else it learned;
# between 1400 and 1600 it learns which leg is which (the one nearer the
# camera and the way the figure faces). Seed 0 at 1200 iterations (steps
# at 800/1044): 54.6 held-out Mean AP, knees 28.6, ankles 20.4; at 2400
# (steps at 1600/2088): 77.7, knees 61.3, ankles 54.2. Within 1200
# iterations (steps at 800/1044) neither a 1.5x stronger near/far shading,
# mmpose's OHKM loss, a 32-wide first branch nor lr 8e-3 got there; nor
# did batch 16 for 2400 iterations or 1800 iterations with a step at 1200.
# With the recipe's half-body crops, whether a run made the split by its
# learning-rate step was chance: changing nothing but float rounding (the
# data preprocessor's channels_last=True) took seed 0 from 92% of probe
# figures with both legs right to 0.5%, and seed 1 from 17.5% to 67.5%.
# That seed-0 run did not split with 2600 iterations either (steps at
# 2300/2480: 0-1% at every 300); a linear warm-up over the first 200
# iterations (from 1/100 of the rate) made it split (39% at 1500, 90% at
# 1800) but moved seed 1 in the default layout only from 17.5% to 26%.
# Without the half-body crops (RandomHalfBody prob 0, below; a lower-body
# crop hides the face and chest that say which way the figure faces) both
# of those runs split early: seed 1 (default layout) 66% at 1200, 99% at
# 1500, 99.5% at 1900; the channels-last seed 0 86.5% at 1200, 98.5% at
# 1500, 100% at 1900. So the quickstart trains without them: in two-seed
# `make demo` runs of both layouts every seed split (100% and 99.5%), and
# held-out Mean AP rose from 74.4 (72.2-76.6) to 87.0 (86.1-88.0)
train_cfg = dict(max_iters=1900, val_interval=1900)

# optimizer: a larger learning rate for training from scratch (the recipe:
# 1e-4 from COCO weights); 4e-3 learned faster than 2e-3 (with the rotation
# range below: 33.0 -> 41.7 held-out Mean AP)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=4e-3))

# learning policy: steps late, at about 7/8 and 19/20 of the run (the
# recipe: 1/2 and 7/10), so the left/right split above happens at the full
# learning rate (a step at 1200 stopped it); tools/quickstart.py scales
# both with the length
param_scheduler = [
    dict(
        type='MultiStepLR',
        begin=0,
        end=1900,
        milestones=[1650, 1800],
        gamma=0.1,
        by_epoch=False)
]

# automatically scaling LR based on the actual training batch size: one
# process x 32 (the recipe: 8 GPUs x 16)
auto_scale_lr = dict(base_batch_size=32)

# hooks: the checkpoint at the end of the run
default_hooks = dict(checkpoint=dict(interval=1900))
# mmpose's default SyncBuffersHook (as the recipe), and the weights check:
# trained from scratch by design (no pretrained tiny HRNet exists), so it
# says so once instead of warning
custom_hooks = [
    dict(type='SyncBuffersHook'),
    dict(type='InitialWeightsCheckHook', from_scratch=True)
]
load_from = None

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

# model settings: the recipe's single-frame estimator with a tiny HRNet
# (one block per branch, one module per stage, branches 16-128 wide)
model = dict(
    type='TopdownPoseEstimator',
    data_preprocessor=dict(
        type='MultiFramePoseDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        single_frame_output=True,
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
                num_channels=(16, 32, 64, 128)))),
    head=dict(
        type='HeatmapHead',
        in_channels=16,  # the tiny HRNet's first branch
        out_channels=17,
        deconv_out_channels=None,
        loss=dict(type='KeypointMSELoss', use_target_weight=True),
        decoder=codec),
    # UDP's flip needs no shift (the recipe: shift_heatmap=True)
    test_cfg=dict(flip_test=True, flip_mode='heatmap', shift_heatmap=False))

# base dataset settings: the generated videos
dataset_type = 'PoseTrackVideoPairDataset'
data_mode = 'topdown'
data_root = 'data/quickstart/'

# pipelines: the recipe's, without half-body crops
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
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackVideoPoseInputs')
]
val_pipeline = [
    dict(type='LoadVideoFrames'),
    dict(type='GetBBoxCenterScale', padding=1.25),
    dict(type='TopdownAffine', input_size=codec['input_size'], use_udp=True),
    dict(type='PackVideoPoseInputs')
]

# data loaders: 32 training images per batch (the recipe: 16 per GPU); one
# loader process beside the training process uses both cores of a small
# machine, and validation loads in the main process
train_dataloader = dict(
    batch_size=32,
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
        # labels on every 5th frame only
        ann_file='annotations/posetrack18_train_sparse.json',
        single_frame=True,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32,
    num_workers=0,
    persistent_workers=False,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/posetrack18_val.json',
        single_frame=True,
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
