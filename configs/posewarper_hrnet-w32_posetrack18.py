# Stage 2 with HRNet-W32 (384x288): the W48 recipe with the W32 branch
# widths and the neck input matching them.
_base_ = ['./posewarper_hrnet-w48_posetrack18.py']

# the W32 stage-1 checkpoint
load_from = 'work_dirs/posewarper-stage1_hrnet-w32_posetrack18/best.pth'

# HRNet-W32: the W48 layout with narrower branches
model = dict(
    backbone=dict(
        extra=dict(
            stage2=dict(num_channels=(32, 64)),
            stage3=dict(num_channels=(32, 64, 128)),
            stage4=dict(num_channels=(32, 64, 128, 256)))),
    neck=dict(in_channels=32))
