"""Order records so that every prefix holds their groups in given proportions.

A CPU recipe trains on the first N records of sft.jsonl. After a plain shuffle the share of a small
task in that prefix is left to chance (the safety task: 100 of 17 616 conversations, 4 in the first
720). `weighted_interleave` instead picks, at every position, the group furthest below its target
share (smooth weighted round robin), keeping each group's own order.
"""

from __future__ import annotations

from typing import Callable, Hashable, Mapping, Sequence, TypeVar

Record = TypeVar("Record")


def is_positive_weight(value: object) -> bool:
    """Whether `value` can be a group's weight for `weighted_interleave`: a number > 0, not a bool."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


def weighted_interleave(records: Sequence[Record], group_of: Callable[[Record], Hashable],
                        weights: Mapping[Hashable, float]) -> list[Record]:
    """`records` reordered: groups named in `weights` interleaved in those proportions while they
    last (a group that runs out drops out), then the records of unnamed groups in their order."""
    queues: dict[Hashable, list[Record]] = {name: [] for name in weights}
    rest: list[Record] = []
    for record in records:
        queue = queues.get(group_of(record))
        (queue if queue is not None else rest).append(record)
    taken = dict.fromkeys(queues, 0)
    out: list[Record] = []
    while True:
        open_groups = [name for name in queues if taken[name] < len(queues[name])]
        if not open_groups:
            break
        # the group whose next record keeps it closest to its share; ties by the mix's order
        name = min(open_groups, key=lambda n: (taken[n] + 1) / weights[n])
        out.append(queues[name][taken[name]])
        taken[name] += 1
    return out + rest
