"""Generate a synthetic PoseTrack18-format video pose dataset.

Example::

    python -m tools.quickstart.generate data/synthetic_posetrack \
        --num-videos 8 --num-frames 30 --seed 0
"""
import argparse
import json
import time
from typing import List, Optional

from . import synthetic


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line; the defaults are the generator's."""
    parser = argparse.ArgumentParser(
        description='Write synthetic PoseTrack18-format videos (frames, '
        'merged and per-video GT, sparse-label variant, detections).')
    parser.add_argument('out_dir', help='output root folder')
    for flag, default in (('--num-videos', 8), ('--num-frames', 30),
                          ('--width', 320), ('--height', 240), ('--seed', 0)):
        parser.add_argument(flag, type=int, default=default)
    ranges = (('--persons', int, (1, 3), 'labeled figures per video'),
              ('--occluder-speed', float, synthetic.OCCLUDER_SPEED,
               'occluder speed range, frame widths per frame'),
              ('--shake-blur-strength', float, synthetic.SHAKE_BLUR_STRENGTH,
               'shake blur length range, frame widths'))
    for flag, kind, default, text in ranges:
        parser.add_argument(flag, type=kind, nargs=2, default=default,
                            metavar=('MIN', 'MAX'), help=text)
    parser.add_argument('--splits', nargs='+', default=['train', 'val'])
    parser.add_argument('--videos-per-split', type=int, nargs='+',
                        help='videos of each split (overrides --num-videos)')
    parser.add_argument('--sparse-every', type=int, default=5,
                        help='label stride of the sparse variant')
    parser.add_argument('--sparse-splits', nargs='*', default=['train'],
                        help='splits that get a sparse-label json')
    parser.add_argument('--max-occluders', type=int,
                        default=synthetic.MAX_OCCLUDERS,
                        help='each video draws from 0 to this many occluders')
    parser.add_argument('--shake-blur-prob', type=float, default=0.0,
                        help='chance that a frame is blurred on its own by a '
                        'camera shake')
    args = parser.parse_args(argv)
    if not 0.0 <= args.shake_blur_prob <= 1.0:
        parser.error('--shake-blur-prob must be in [0, 1], got '
                     f'{args.shake_blur_prob}')
    if args.max_occluders < 0:
        parser.error(f'--max-occluders must be >= 0, got {args.max_occluders}')
    for flag, _, _, _ in ranges[1:]:
        low, high = getattr(args, flag[2:].replace('-', '_'))
        if not 0.0 <= low <= high:
            parser.error(f'{flag} needs 0 <= MIN <= MAX, got {low} {high}')
    return args


def main(argv: Optional[List[str]] = None) -> dict:
    """Generate the dataset and print where its files are; returns the
    generator's summary."""
    args = vars(parse_args(argv))
    args['persons_per_video'] = args.pop('persons')
    start = time.perf_counter()
    out = synthetic.generate_posetrack_dataset(**{
        key: tuple(value) if isinstance(value, list) else value
        for key, value in args.items()})
    summary = {k: v for k, v in out.items()
               if k not in ('frame_files', 'video_ann_files')}
    print(json.dumps(summary, indent=2))
    print(f'wrote {out["num_images"]} frames and {out["num_annotations"]} '
          f'person annotations in {time.perf_counter() - start:.2f} s')
    return out


if __name__ == '__main__':
    main()
