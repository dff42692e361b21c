# Stage 2 with HRNet-W48 at 256x192 input: the 384x288 recipe with the
# smaller codec (64x48 heatmaps, sigma 2 as mmpose's 256x192 configs) and
# the pipelines rebuilt around it.
_base_ = ['./posewarper_hrnet-w48_posetrack18.py']

codec = dict(
    type='MSRAHeatmap', input_size=(192, 256), heatmap_size=(48, 64), sigma=2)

# the base recipe's pipelines with the new input size and codec
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

model = dict(head=dict(decoder=codec))
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader
