"""The test run leaves the user's cache alone (collected last: pytest runs test files in name order; under xdist
another worker may still be running, and `conftest.pytest_sessionfinish` repeats the check after all have finished).

`conftest.py` points `$STT_NB_CACHE` at a private temporary folder for the whole run; this test checks the
result, not the mechanism: every file of the user's cache (`$STT_NB_CACHE` as the user had it, else
`~/.cache/stt_nb`) has the same size and modification time as before the first test, and none was added.
"""
from pathlib import Path
import os
import conftest
from conftest import _snapshot

def test_user_cache_untouched():
    user, before = conftest.USER_CACHE, conftest.USER_CACHE_BEFORE
    assert Path(os.environ['STT_NB_CACHE']).resolve() != user.resolve()     # the run used its own cache
    after = _snapshot(user)
    added, removed = sorted(set(after) - set(before)), sorted(set(before) - set(after))
    changed = sorted(k for k in set(after) & set(before) if after[k] != before[k])
    assert not (added or removed or changed), (f"the test run changed the user's cache {user}: added {added[:5]}, "
                                               f"removed {removed[:5]}, changed {changed[:5]}")
