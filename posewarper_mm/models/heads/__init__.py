from .temporal_aggregation_head import TemporalAggregationHead

__all__ = ['TemporalAggregationHead']
