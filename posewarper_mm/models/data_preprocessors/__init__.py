from .multi_frame_data_preprocessor import MultiFramePoseDataPreprocessor

__all__ = ['MultiFramePoseDataPreprocessor']
