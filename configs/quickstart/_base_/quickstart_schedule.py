# Runtime and schedule shared by the two quickstart stages: mmpose's default
# runtime with this package imported and a fixed seed, counted in
# iterations instead of the real recipes' epochs (the quickstart runs for a
# few hundred iterations). Each stage sets its length, learning rate and LR
# steps.
_base_ = ['mmpose::_base_/default_runtime.py']

custom_imports = dict(imports=['posewarper_mm'], allow_failed_imports=False)

# a fixed seed: model initialisation, data order, augmentation and the
# supporting-frame draws repeat from run to run, and a run interrupted
# between checkpoints resumes bit for bit on CPU (see the README)
randomness = dict(seed=0)

# runtime: iteration-based training (each stage sets max_iters)
train_cfg = dict(by_epoch=False)

# hooks: one checkpoint at the end of a stage (each stage sets the
# interval to its length), counted in iterations; only the last one kept
default_hooks = dict(
    checkpoint=dict(by_epoch=False, max_keep_ckpts=1, save_last=True))
log_processor = dict(by_epoch=False)
