__version__ = '0.1.0'

# OpenMMLab versions tested and accepted: [lowest, first refused).
MMCV_RANGE = ('2.0.0', '2.2.0')
MMENGINE_RANGE = ('0.10.0', '1.0.0')
MMPOSE_RANGE = ('1.3.0', '1.4.0')
