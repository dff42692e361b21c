"""Generate a synthetic PoseTrack18-format video pose dataset.

Example::

    python -m tools.quickstart.generate data/synthetic_posetrack \
        --num-videos 8 --num-frames 30 --seed 0
"""
import argparse
import json
import time

from . import synthetic


def _add_range(parser: argparse.ArgumentParser, flag: str, kind: type,
               default: tuple, help: str) -> None:
    """A ``MIN MAX`` option."""
    parser.add_argument(
        flag,
        type=kind,
        nargs=2,
        default=default,
        metavar=('MIN', 'MAX'),
        help=help)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Write synthetic PoseTrack18-format videos (frames, '
        'merged and per-video GT, sparse-label variant, detections).')
    parser.add_argument('out_dir', help='output root folder')
    parser.add_argument('--num-videos', type=int, default=8)
    parser.add_argument('--num-frames', type=int, default=30)
    parser.add_argument('--width', type=int, default=320)
    parser.add_argument('--height', type=int, default=240)
    _add_range(parser, '--persons', int, (1, 3),
               'labeled figures per video (inclusive range)')
    parser.add_argument(
        '--splits', nargs='+', default=['train', 'val'], help='split names')
    parser.add_argument(
        '--videos-per-split',
        type=int,
        nargs='+',
        default=None,
        help='video count of each split (overrides --num-videos)')
    parser.add_argument(
        '--sparse-every',
        type=int,
        default=5,
        help='label stride of the sparse train variant')
    parser.add_argument(
        '--sparse-splits',
        nargs='*',
        default=['train'],
        help='splits that get a sparse-label json')
    parser.add_argument('--seed', type=int, default=0)
    _add_range(
        parser, '--occluder-speed', float, synthetic.OCCLUDER_SPEED,
        'occluder speed range in frame widths per frame (the quickstart: '
        '0.10 0.16, so a joint is covered for about one frame)')
    parser.add_argument(
        '--max-occluders',
        type=int,
        default=synthetic.MAX_OCCLUDERS,
        help='each video draws from 0 to this many occluders (the '
        'quickstart: 4)')
    parser.add_argument(
        '--shake-blur-prob',
        type=float,
        default=0.0,
        help='chance that a frame is blurred on its own by a camera shake '
        '(the quickstart: 0.35)')
    _add_range(parser, '--shake-blur-strength', float,
               synthetic.SHAKE_BLUR_STRENGTH,
               'shake blur length range in frame widths')
    args = parser.parse_args(argv)
    if not 0.0 <= args.shake_blur_prob <= 1.0:
        parser.error('--shake-blur-prob must be in [0, 1], got '
                     f'{args.shake_blur_prob}')
    if args.max_occluders < 0:
        parser.error(f'--max-occluders must be >= 0, got {args.max_occluders}')
    for name in ('occluder_speed', 'shake_blur_strength'):
        low, high = getattr(args, name)
        if not 0.0 <= low <= high:
            flag = '--' + name.replace('_', '-')
            parser.error(f'{flag} needs 0 <= MIN <= MAX, got {low} {high}')
    return args


def main(argv=None) -> dict:
    args = parse_args(argv)
    start = time.perf_counter()
    out = synthetic.generate_posetrack_dataset(
        args.out_dir,
        num_videos=args.num_videos,
        num_frames=args.num_frames,
        width=args.width,
        height=args.height,
        persons_per_video=tuple(args.persons),
        splits=tuple(args.splits),
        sparse_every=args.sparse_every,
        seed=args.seed,
        videos_per_split=args.videos_per_split,
        sparse_splits=tuple(args.sparse_splits),
        occluder_speed=tuple(args.occluder_speed),
        max_occluders=args.max_occluders,
        shake_blur_prob=args.shake_blur_prob,
        shake_blur_strength=tuple(args.shake_blur_strength))
    elapsed = time.perf_counter() - start
    summary = {
        k: v
        for k, v in out.items() if k not in ('frame_files', 'video_ann_files')
    }
    print(json.dumps(summary, indent=2))
    print(f'wrote {out["num_images"]} frames and {out["num_annotations"]} '
          f'person annotations in {elapsed:.2f} s')
    return out


if __name__ == '__main__':
    main()
