"""tools/env/check_gpu_table.py: the GPU table and goals of the check."""
import json

import pytest

from tests.testing import load_tool

table = load_tool('tools/env/check_gpu_table.py')


@pytest.mark.parametrize('name, peak', [
    ('NVIDIA H100 80GB HBM3', 989.4), ('NVIDIA H200', 989.4),
    ('NVIDIA H200 NVL', 835.5), ('NVIDIA H100 NVL', 835.5),
    ('NVIDIA H100 PCIe', 756.5), ('NVIDIA H100 80GB HBM3 MIG 3g.40gb', None),
    ('Tesla T4', None)])
def test_peak_by_card_name(name, peak, monkeypatch):
    monkeypatch.delenv('PWMM_PEAK_TFLOPS', raising=False)
    assert table.peak_tflops(name) == peak
    monkeypatch.setenv('PWMM_PEAK_TFLOPS', '500')
    assert table.peak_tflops(name) == 500.0


def _case(key, seconds, flops=None):
    case = dict(key=key, section='inference', label=key,
                per_crop_seconds=dict(median=seconds))
    if flops is not None:
        case['flops_per_crop'] = flops
    return case


def _write_run(folder, tag, batch, mode, cases):
    (folder / f'bench_{tag}.json').write_text(json.dumps(dict(
        meta=dict(device_name='NVIDIA H100 80GB HBM3', batch=batch),
        results=[dict(mode=mode, cases=cases)])))


def test_rates_goals_and_missing_flop_counts(tmp_path, monkeypatch):
    monkeypatch.delenv('PWMM_PEAK_TFLOPS', raising=False)
    # FLOPs per crop come from the batch-1 run; the batched case has none
    _write_run(tmp_path, 'b1-fp32', 1, 'fp32',
               [_case('single', 0.01, flops=2.0e12)])
    _write_run(tmp_path, 'b32-bf16-cl', 32, 'bf16-cl',
               [_case('single', 0.001), _case('batched', 0.002)])
    text = table.gpu_table(str(tmp_path))
    # 2 x 2e12 FLOPs per crop at 1000 crops/s: 4000 TFLOP/s, 404% of 989.4
    assert '| batch 32 | bf16-cl | single | 1.00 | 1000.0 | 4000.00 | ' \
        '404.3 |' in text
    assert '| batch 32 | bf16-cl | batched | 2.00 | 500.0 | n/a |  |' in text
    assert '- single, bf16-cl, batch 32: at least 20%: 404.3% (met)' in text
    assert '- batched, bf16-cl, batch 32: at least 15%: not measured ' \
        '(no FLOP count)' in text
    assert '0.0% (NOT met)' not in text


def test_unknown_peak_gives_the_rate_alone(tmp_path, monkeypatch):
    monkeypatch.delenv('PWMM_PEAK_TFLOPS', raising=False)
    (tmp_path / 'bench_b32-bf16-cl.json').write_text(json.dumps(dict(
        meta=dict(device_name='NVIDIA H100 MIG 1g.10gb', batch=32),
        results=[dict(mode='bf16-cl', cases=[
            _case('single', 0.01, flops=1.0e12)])])))
    text = table.gpu_table(str(tmp_path))
    assert 'unknown (set PWMM_PEAK_TFLOPS)' in text
    assert '- single, bf16-cl, batch 32: at least 20%: 200.00 TFLOP/s; the ' \
        'peak of this card is unknown (set PWMM_PEAK_TFLOPS)' in text


def test_lever_runs_are_tagged_and_kept_out_of_the_goals(tmp_path,
                                                         monkeypatch):
    monkeypatch.setenv('PWMM_PEAK_TFLOPS', '1000')
    _write_run(tmp_path, 'b1-fp32', 1, 'fp32',
               [_case('batched', 0.1, flops=1.0e12)])
    _write_run(tmp_path, 'b32-bf16-cl', 32, 'bf16-cl',
               [_case('batched', 0.01)])  # 200 TFLOP/s: 20%
    lever = json.loads((tmp_path / 'bench_b32-bf16-cl.json').read_text())
    lever['meta'].update(compiled=True, lever='deform-backends')
    lever['results'][0]['cases'][0]['per_crop_seconds']['median'] = 0.001
    (tmp_path / 'bench_b32-bf16-cl-lever.json').write_text(json.dumps(lever))
    text = table.gpu_table(str(tmp_path))
    assert '| batch 32 torch.compile deform-backends | bf16-cl | batched | ' \
        '1.00 | 1000.0 | 2000.00 | 200.0 |' in text
    assert '- batched, bf16-cl, batch 32: at least 15%: 20.0% (met)' in text
