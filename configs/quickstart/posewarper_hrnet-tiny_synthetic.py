# Quickstart stage 2: the PoseWarper recipe on the generated sparse-label
# videos, on the quickstart's stage-1 tiny HRNet; only what differs is
# written here. Tuning history: docs/quickstart_runs.md.
_base_ = ['../posewarper_hrnet-w48_posetrack18.py']

# a short run, counted in iterations (the recipe: 20 epochs)
train_cfg = dict(
    _delete_=True, by_epoch=False, max_iters=450, val_interval=450)

# a larger rate for the short run (the recipe: 1e-4)
optim_wrapper = dict(optimizer=dict(lr=4e-3))

# steps at about 2/3 and 7/8 of the run (the recipe: 1/2 and 3/4)
param_scheduler = [
    dict(
        type='MultiStepLR',
        begin=0,
        end=450,
        milestones=[300, 392],
        gamma=0.1,
        by_epoch=False)
]

# one process of 16 samples (the recipe: 8 GPUs x 8)
auto_scale_lr = dict(base_batch_size=16)

# one checkpoint, at the end (no validation picks a best one), in iterations
default_hooks = dict(
    checkpoint=dict(
        _delete_=True,
        type='AtomicCheckpointHook',
        interval=450,
        by_epoch=False,
        max_keep_ckpts=1,
        save_last=True))
log_processor = dict(by_epoch=False)  # logs counted in iterations
# the quickstart's stage-1 checkpoint
load_from = 'work_dirs/quickstart/stage1/iter_1900.pth'

# 96x64 inputs; UDP, whose flip test lines up exactly at this heatmap size
codec = dict(
    type='UDPHeatmap', input_size=(64, 96), heatmap_size=(16, 24), sigma=2)

model = dict(
    # frames stored channels-last: faster convolutions on a CPU
    data_preprocessor=dict(channels_last=True),
    # stage 1's tiny HRNet: one block per branch, one module per stage
    backbone=dict(
        extra=dict(
            stage1=dict(num_blocks=(1, ), num_channels=(32, )),
            stage2=dict(num_blocks=(1, 1), num_channels=(16, 32)),
            stage3=dict(
                num_modules=1,
                num_blocks=(1, 1, 1),
                num_channels=(16, 32, 64)),
            stage4=dict(
                num_modules=1,
                num_blocks=(1, 1, 1, 1),
                num_channels=(16, 32, 64, 128)))),
    # scaled to the tiny backbone and the 4x smaller heatmaps
    neck=dict(
        in_channels=16,
        inner_channels=32,
        dilations=(1, 2, 3, 4, 6),
        res_blocks_cfg=dict(num_blocks=4),
        deform_backend='pytorch'),  # mmcv's CPU backward is slow
    head=dict(decoder=codec),
    test_cfg=dict(
        flip_test=True,  # as stage 1: the stages differ in the warping alone
        shift_heatmap=False))  # UDP's flip needs no shift

# the generated videos (written by python -m tools.quickstart)
data_root = 'data/quickstart/'

# the recipe's steps at the codec's input size, with UDP's affine transform
train_pipeline = [
    dict(type='LoadVideoFrames'),
    dict(type='GetBBoxCenterScale', padding=1.25),
    dict(type='RandomFlip', direction='horizontal', prob=0.5),
    # no half-body crops: they hide which way a generated figure faces
    dict(type='RandomHalfBody', min_total_keypoints=9, prob=0.0),
    dict(
        type='RandomBBoxTransform',
        shift_prob=0.0,
        scale_factor=(0.65, 1.35),
        rotate_factor=30.0,  # the generated figures stand upright
        rotate_prob=0.6),
    dict(type='TopdownAffine', input_size=codec['input_size'], use_udp=True),
    # occluders on the key frame: the neck learns to fetch covered joints
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

train_dataloader = dict(
    batch_size=16,  # on one process (the recipe: 8 per GPU x 8)
    num_workers=1,  # one loader process beside training: 2 CPU cores
    sampler=dict(type='InfiniteSampler'),  # iterations: it never runs out
    dataset=dict(
        data_root=data_root,
        ann_file='annotations/posetrack18_train_sparse.json',  # every 5th
        # two supporting frames (the recipe: one), the loss on their mean
        num_sampled_frames=2,
        frame_weights=(0.0, 0.5, 0.5),
        pipeline=train_pipeline))
# ground-truth boxes: the AP scores the pose model alone; loaded in-process
val_dataloader = dict(
    batch_size=16,  # as in training (the recipe: 8)
    num_workers=0,
    persistent_workers=False,
    dataset=dict(data_root=data_root, bbox_file=None, pipeline=val_pipeline))
test_dataloader = val_dataloader

# scored on the generated held-out videos
val_evaluator = dict(
    ann_file=data_root + 'annotations/posetrack18_val.json',
    gt_folder=data_root + 'annotations/val')
test_evaluator = val_evaluator
