# Stage 2 of PoseWarper: HRNet-W48 384x288 frozen (stage-1 weights), the
# warping neck trained on (key, key + delta) pairs, delta drawn at every
# iteration from [-2, 2]; Adam 1e-4, 20 epochs, steps [10, 15], 8 pairs per
# GPU x 8 GPUs. Test: 5 frames (-2..2) aggregated with weights 0.1 / 0.25 /
# 0.3 / 0.25 / 0.1 on detection boxes with score >= 0.2.
_base_ = ['./_base_/posewarper_posetrack18_base.py']

train_cfg = dict(max_epochs=20, val_interval=1)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-4))
param_scheduler = [
    dict(
        type='MultiStepLR',
        begin=0,
        end=20,
        milestones=[10, 15],
        gamma=0.1,
        by_epoch=True)
]
auto_scale_lr = dict(base_batch_size=64)

# The stage-1 checkpoint; its head conv moves into the neck automatically.
load_from = 'work_dirs/posewarper-stage1_hrnet-w48_posetrack18/best.pth'
# warns at the start of training if load_from is unset (the backbone is
# frozen, so random weights there would never improve)
custom_hooks = [
    dict(
        type='InitialWeightsCheckHook',
        hint='Give the stage-1 checkpoint with --cfg-options '
        'load_from=PATH.')
]

model = dict(
    type='PoseWarperEstimator',
    data_preprocessor={{_base_.preprocessor}},
    backbone=dict(
        type='HRNet',
        in_channels=3,
        extra={{_base_.hrnet_w48}},
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
        decoder={{_base_.codec}}),
    test_cfg=dict(flip_test=False, flip_mode='heatmap', shift_heatmap=True))

train_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type={{_base_.dataset_type}},
        data_root={{_base_.data_root}},
        ann_file='annotations/posetrack18_train.json',
        frame_sampler_mode='per_iteration',
        frame_range=(-2, 2),
        num_sampled_frames=1,
        frame_weights=(0.0, 1.0),
        pipeline={{_base_.train_pipeline}}))
val_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(
        type={{_base_.dataset_type}},
        data_root={{_base_.data_root}},
        ann_file='annotations/posetrack18_val.json',
        frame_sampler_mode='fixed',
        frame_offsets=(-2, -1, 0, 1, 2),
        frame_weights=(0.1, 0.25, 0.3, 0.25, 0.1),
        bbox_file={{_base_.det_bbox_file}},
        filter_cfg=dict(bbox_score_thr=0.2),
        test_mode=True,
        pipeline={{_base_.val_pipeline}}))
test_dataloader = val_dataloader
