#!/usr/bin/env python3
"""Summarise py-spy collapsed stacks (run.py --py-spy): the functions with
the most samples, cumulative (on the stack) and own (at the top).

    .venv/bin/python bench/perf/spy_top.py bench/results/*py-spy*.txt [-n 40]
"""
import argparse
import collections
import re


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('files', nargs='+')
    parser.add_argument('-n', type=int, default=40)
    parser.add_argument('--filter', default='',
        help='only stacks containing this text')
    args = parser.parse_args()
    total = 0
    cumulative, own = collections.Counter(), collections.Counter()
    for path in args.files:
        for line in open(path):
            stack, _, count = line.rstrip().rpartition(' ')
            if not stack or args.filter not in stack:
                continue
            count = int(count)
            frames = [re.sub(r' \((.*?)/site-packages/', ' (',
                    f.replace('/work/main/', '')) for f in stack.split(';')]
            if any('wait (threading.py' in f or 'select (selectors' in f
                    or 'accept (socket' in f for f in frames[-2:]):
                continue  # idle threads
            total += count
            for frame in set(frames):
                cumulative[frame] += count
            own[frames[-1]] += count
    print(f'{total} busy samples')
    print('--- cumulative')
    for frame, count in cumulative.most_common(args.n):
        print(f'{100 * count / total:5.1f}%  {frame}')
    print('--- own')
    for frame, count in own.most_common(args.n // 2):
        print(f'{100 * count / total:5.1f}%  {frame}')


if __name__ == '__main__':
    main()
