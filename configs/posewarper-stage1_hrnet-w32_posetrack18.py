# Stage 1 with HRNet-W32 (384x288); otherwise the W48 recipe.
_base_ = [
    './posewarper-stage1_hrnet-w48_posetrack18.py', './_base_/hrnet_w32.py'
]

model = dict(
    backbone=dict(extra={{_base_.hrnet_w32}}), head=dict(in_channels=32))
