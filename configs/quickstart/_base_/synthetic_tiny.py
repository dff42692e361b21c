# What the quickstart changes in the real recipes: a tiny HRNet, 96x64
# inputs and the generated data (the schedule is set in each config).
# Names differ from the real recipes' so both can be bases of one config.

tiny_codec = dict(
    type='MSRAHeatmap', input_size=(64, 96), heatmap_size=(16, 24), sigma=2)

tiny_hrnet = dict(
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
        num_channels=(16, 32, 64, 128)))

tiny_meta_keys = ('id', 'img_id', 'img_path', 'category_id', 'crowd_index',
                  'ori_shape', 'img_shape', 'input_size', 'input_center',
                  'input_scale', 'flip', 'flip_direction', 'flip_indices',
                  'raw_ann_info', 'dataset_name', 'frame_weights',
                  'frame_offsets')
tiny_train_pipeline = [
    dict(type='LoadVideoFrames'),
    dict(type='GetBBoxCenterScale', padding=1.25),
    # The generated figures tell left from right by shade only (lighter
    # left limbs); a horizontal flip would swap the labels but keep the
    # shades, so the quickstart trains and tests without flipping.
    dict(type='RandomFlip', direction='horizontal', prob=0.0),
    dict(type='RandomHalfBody', min_total_keypoints=9, prob=0.3),
    dict(
        type='RandomBBoxTransform',
        shift_prob=0.0,
        scale_factor=(0.65, 1.35),
        rotate_factor=90.0,
        rotate_prob=0.6),
    dict(type='TopdownAffine', input_size=tiny_codec['input_size']),
    dict(type='GenerateTarget', encoder=tiny_codec),
    dict(type='PackPoseInputs', meta_keys=tiny_meta_keys)
]
tiny_val_pipeline = [
    dict(type='LoadVideoFrames'),
    dict(type='GetBBoxCenterScale', padding=1.25),
    dict(type='TopdownAffine', input_size=tiny_codec['input_size']),
    dict(type='PackPoseInputs', meta_keys=tiny_meta_keys)
]
