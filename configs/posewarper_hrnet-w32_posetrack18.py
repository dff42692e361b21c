# Stage 2 with HRNet-W32 (384x288); otherwise the W48 recipe.
_base_ = ['./posewarper_hrnet-w48_posetrack18.py', './_base_/hrnet_w32.py']

load_from = 'work_dirs/posewarper-stage1_hrnet-w32_posetrack18/best.pth'
model = dict(
    backbone=dict(extra={{_base_.hrnet_w32}}), neck=dict(in_channels=32))
