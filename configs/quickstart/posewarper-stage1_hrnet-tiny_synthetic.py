# Quickstart stage 1: the stage-1 recipe on the generated sparse-label videos
# with a tiny HRNet trained from scratch; only what differs is written here.
# Tuning history: docs/quickstart_runs.md.
_base_ = ['../posewarper-stage1_hrnet-w48_posetrack18.py']

# a short run, counted in iterations (the recipe: 10 epochs)
train_cfg = dict(
    _delete_=True, by_epoch=False, max_iters=1900, val_interval=1900)

# a larger rate: trained from scratch (the recipe: 1e-4 from COCO weights)
optim_wrapper = dict(optimizer=dict(lr=4e-3))

# late steps: the model tells left legs from right only at the full rate
param_scheduler = [
    dict(
        type='MultiStepLR',
        begin=0,
        end=1900,
        milestones=[1650, 1800],
        gamma=0.1,
        by_epoch=False)
]

# one process of 32 images (the recipe: 8 GPUs x 16)
auto_scale_lr = dict(base_batch_size=32)

# one checkpoint, at the end (no validation picks a best one), in iterations
default_hooks = dict(
    checkpoint=dict(
        _delete_=True,
        type='AtomicCheckpointHook',
        interval=1900,
        by_epoch=False,
        max_keep_ckpts=1,
        save_last=True))
log_processor = dict(by_epoch=False)  # logs counted in iterations
# no pretrained tiny HRNet exists: the weights check says so once
custom_hooks = [
    dict(type='SyncBuffersHook'),
    dict(type='InitialWeightsCheckHook', from_scratch=True)
]

# 96x64 inputs; UDP, whose flip test lines up exactly at this heatmap size
codec = dict(
    type='UDPHeatmap', input_size=(64, 96), heatmap_size=(16, 24), sigma=2)

model = dict(
    # frames stored channels-last: faster convolutions on a CPU
    data_preprocessor=dict(channels_last=True),
    # a tiny HRNet: one block per branch, one module per stage
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
    head=dict(in_channels=16, decoder=codec),  # the tiny first branch
    test_cfg=dict(shift_heatmap=False))  # UDP's flip needs no shift

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
    batch_size=32,  # on one process (the recipe: 16 per GPU x 8)
    num_workers=1,  # one loader process beside training: 2 CPU cores
    sampler=dict(type='InfiniteSampler'),  # iterations: it never runs out
    dataset=dict(
        data_root=data_root,
        ann_file='annotations/posetrack18_train_sparse.json',  # every 5th
        pipeline=train_pipeline))
# ground-truth boxes: the AP scores the pose model alone; loaded in-process
val_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(data_root=data_root, bbox_file=None, pipeline=val_pipeline))
test_dataloader = val_dataloader

# scored on the generated held-out videos
val_evaluator = dict(
    ann_file=data_root + 'annotations/posetrack18_val.json',
    gt_folder=data_root + 'annotations/val')
test_evaluator = val_evaluator
