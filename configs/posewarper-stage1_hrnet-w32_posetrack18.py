# Stage 1 with HRNet-W32 (384x288): the W48 recipe with the W32 branch
# widths and the head input matching them.
_base_ = ['./posewarper-stage1_hrnet-w48_posetrack18.py']

# HRNet-W32: the W48 layout with narrower branches
model = dict(
    backbone=dict(
        extra=dict(
            stage2=dict(num_channels=(32, 64)),
            stage3=dict(num_channels=(32, 64, 128)),
            stage4=dict(num_channels=(32, 64, 128, 256)))),
    head=dict(in_channels=32))
