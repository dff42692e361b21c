# Quickstart stage 1: the real stage-1 recipe with a tiny HRNet, 96x64
# inputs, a short schedule and the generated sparse-label videos.
_base_ = [
    '../posewarper-stage1_hrnet-w48_posetrack18.py',
    './_base_/synthetic_tiny.py'
]

data_root = 'data/quickstart/'
codec = {{_base_.tiny_codec}}

train_cfg = dict(
    _delete_=True, by_epoch=False, max_iters=800, val_interval=800)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=2e-3))
param_scheduler = [
    dict(
        type='MultiStepLR',
        begin=0,
        end=800,
        milestones=[530, 700],
        gamma=0.1,
        by_epoch=False)
]
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(
        by_epoch=False,
        interval=800,
        max_keep_ckpts=1,
        save_last=True,
        save_best=None))
log_processor = dict(by_epoch=False)
auto_scale_lr = dict(base_batch_size=32)
# trained from scratch by design (no pretrained tiny HRNet exists): the
# check says so once instead of warning
load_from = None
custom_hooks = [dict(type='InitialWeightsCheckHook', from_scratch=True)]

model = dict(
    backbone=dict(extra={{_base_.tiny_hrnet}}),
    head=dict(in_channels=16, decoder={{_base_.tiny_codec}}),
    # no flip test: left and right differ by shade (see the pipeline)
    test_cfg=dict(flip_test=False))

# one loader process beside the training process uses both cores
train_dataloader = dict(
    batch_size=32,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        data_root=data_root,
        ann_file='annotations/posetrack18_train_sparse.json',
        pipeline={{_base_.tiny_train_pipeline}}))
val_dataloader = dict(
    batch_size=32,
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
