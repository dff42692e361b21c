# Quickstart stage 2 with a loss on each supporting frame's warp beside the
# loss on their weighted mean; everything else is the quickstart's stage 2.
_base_ = ['./posewarper_hrnet-tiny_synthetic.py']

# each warp against the key frame's targets: one warp alone stays exact
model = dict(head=dict(loss_weights=dict(aggregate=1.0, per_warp=1.0)))
