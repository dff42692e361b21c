# Stage 1 of PoseWarper: single-frame HRNet-W48 384x288 fine-tuned on
# PoseTrack18 from COCO weights (Adam 1e-4, 10 epochs, steps [5, 7],
# 16 images per GPU x 8 GPUs, flip test), as in the official recipe.
_base_ = ['./_base_/posewarper_posetrack18_base.py']

train_cfg = dict(max_epochs=10, val_interval=1)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-4))
param_scheduler = [
    dict(
        type='MultiStepLR',
        begin=0,
        end=10,
        milestones=[5, 7],
        gamma=0.1,
        by_epoch=True)
]
auto_scale_lr = dict(base_batch_size=128)

# COCO-pretrained HRNet-W48 384x288 (mmpose model zoo); give a local path
load_from = None
# warns at the start of training when no pretrained weights are given
custom_hooks = [
    dict(
        type='InitialWeightsCheckHook',
        hint='Give the COCO-pretrained HRNet (mmpose model zoo, '
        'td-hm_hrnet-w48_8xb32-210e_coco-384x288) with --cfg-options '
        'load_from=PATH.')
]

# mmpose's own single-frame estimator, fed by the multi-frame pipeline with
# T = 1 (the preprocessor drops the frame axis)
model = dict(
    type='TopdownPoseEstimator',
    data_preprocessor=dict(
        type='MultiFramePoseDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        single_frame_output=True),
    backbone=dict(type='HRNet', in_channels=3, extra={{_base_.hrnet_w48}}),
    head=dict(
        type='HeatmapHead',
        in_channels=48,
        out_channels=17,
        deconv_out_channels=None,
        loss=dict(type='KeypointMSELoss', use_target_weight=True),
        decoder={{_base_.codec}}),
    test_cfg=dict(flip_test=True, flip_mode='heatmap', shift_heatmap=True))

train_dataloader = dict(
    batch_size=16,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type={{_base_.dataset_type}},
        data_root={{_base_.data_root}},
        ann_file='annotations/posetrack18_train.json',
        single_frame=True,
        pipeline={{_base_.train_pipeline}}))
val_dataloader = dict(
    batch_size=32,
    num_workers=4,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(
        type={{_base_.dataset_type}},
        data_root={{_base_.data_root}},
        ann_file='annotations/posetrack18_val.json',
        single_frame=True,
        bbox_file={{_base_.det_bbox_file}},
        filter_cfg=dict(bbox_score_thr=0.2),
        test_mode=True,
        pipeline={{_base_.val_pipeline}}))
test_dataloader = val_dataloader
