# Quickstart stage 2: the real PoseWarper recipe with a tiny HRNet, 96x64
# inputs, a short schedule and the generated sparse-label videos. The
# warping neck is scaled with the input: the heatmaps are 4x smaller than
# at 384x288, so the dilations shrink from (3, 6, 12, 18, 24) to
# (1, 2, 3, 4, 6), and the offset network is narrower (32 channels,
# 4 blocks) to match the tiny backbone.
_base_ = [
    '../posewarper_hrnet-w48_posetrack18.py', './_base_/synthetic_tiny.py'
]

data_root = 'data/quickstart/'
codec = {{_base_.tiny_codec}}

train_cfg = dict(
    _delete_=True, by_epoch=False, max_iters=250, val_interval=250)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-3))
param_scheduler = [
    dict(
        type='MultiStepLR',
        begin=0,
        end=250,
        milestones=[170, 220],
        gamma=0.1,
        by_epoch=False)
]
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(
        by_epoch=False,
        interval=250,
        max_keep_ckpts=1,
        save_last=True,
        save_best=None))
log_processor = dict(by_epoch=False)
auto_scale_lr = dict(base_batch_size=16)
load_from = 'work_dirs/quickstart/stage1/iter_800.pth'

model = dict(
    backbone=dict(extra={{_base_.tiny_hrnet}}),
    neck=dict(
        in_channels=16,
        inner_channels=32,
        dilations=(1, 2, 3, 4, 6),
        res_blocks_cfg=dict(block='BASIC', num_blocks=4)),
    head=dict(decoder={{_base_.tiny_codec}}))

# one loader process beside the training process uses both cores
train_dataloader = dict(
    batch_size=16,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        data_root=data_root,
        ann_file='annotations/posetrack18_train_sparse.json',
        pipeline={{_base_.tiny_train_pipeline}}))
val_dataloader = dict(
    batch_size=16,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        data_root=data_root,
        ann_file='annotations/posetrack18_val.json',
        bbox_file=None,
        pipeline={{_base_.tiny_val_pipeline}}))
test_dataloader = val_dataloader
val_evaluator = dict(
    ann_file=data_root + 'annotations/posetrack18_val.json',
    gt_folder=data_root + 'annotations/val')
test_evaluator = val_evaluator
