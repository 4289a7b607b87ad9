"""How far a day's category mix moved from the trailing days': total variation distance between the two shares."""

from collections import Counter


def shares(counts: Counter) -> dict[str, float]:
    total = sum(counts.values())
    return {k: v / total for k, v in counts.items()} if total else {}


def total_variation(today: Counter, trailing: Counter) -> float:
    """Half the sum of absolute share differences: 0 for the same mix, 1 for disjoint categories."""
    a, b = shares(today), shares(trailing)
    return 0.5 * sum(abs(a.get(k, 0.0) - b.get(k, 0.0)) for k in a.keys() | b.keys())


def largest_moves(today: Counter, trailing: Counter, n: int = 3) -> list[tuple[str, float]]:
    """The categories whose share changed most, with the signed change."""
    a, b = shares(today), shares(trailing)
    moves = [(k, a.get(k, 0.0) - b.get(k, 0.0)) for k in a.keys() | b.keys()]
    return sorted(moves, key=lambda m: (-abs(m[1]), m[0]))[:n]
