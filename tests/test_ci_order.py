"""The order `tests/conftest.py` gives the collected tests: two contiguous halves of equal expected time (xdist's
worksteal scheduler hands each worker one half), worked out by hand for a small example."""
from conftest import balanced_order

class _Item:
    def __init__(self, name): self.name = name

def test_balanced_order_splits_the_long_tests_between_the_halves():
    secs = {'a': 10, 'b': 8, 'c': 5, 'd': 4}
    items = [_Item(n) for n in 'pqarsbtucvwdxyz']                 # 15 tests, 4 of them long
    got = [it.name for it in balanced_order(items, secs)]
    # a (10) → first half; b (8) → second (8 < 10); c (5) → second (8 < 10, now 13); d (4) → first (10 < 13, now 14);
    # the 11 short ones fill the first half to 15 // 2 = 7 items in their collected order, the rest go to the second
    assert got == ['a', 'd', 'p', 'q', 'r', 's', 't', 'b', 'c', 'u', 'v', 'w', 'x', 'y', 'z']
    assert sorted(got) == sorted(it.name for it in items)

def test_balanced_order_small_cases():
    # equal times: c → first half, b → second, a → first (a tie goes to the first): two heads for the 3 // 2 = 1 place
    # of the first half, so the halves cannot be balanced and the order is plain longest first (ties as collected)
    got = [it.name for it in balanced_order([_Item(n) for n in 'cba'], {'a': 1, 'b': 1, 'c': 1})]
    assert got == ['c', 'b', 'a']
    # a (3) → first; b (2) → second; c (1) → second (2 < 3): 3 seconds each; x fills the first half's second place
    got = [it.name for it in balanced_order([_Item(n) for n in 'xcab'], {'a': 3, 'b': 2, 'c': 1})]
    assert got == ['a', 'x', 'b', 'c']
