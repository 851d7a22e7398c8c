"""No benchmark source is training data (issue 20): every decoded training frame and photo, hashed, against every
benchmark source of a scale, hashed; the training folders are the ones the scale's resolved configs build.

The hashes compare decoded pixels at the clips' native size (`stt_nb.media.check_disjoint`), so a frame or photo that
reaches both sides under another name is caught as well."""
import pytest
from stt_nb.ablations import get_scale, plan_variant, toy_benchmark, toy_spec
from stt_nb.contrastive import build_image_dataset
from stt_nb.correspondence import CORRESPONDENCE_PHOTOS
from stt_nb.stt import build_pair_dataset
from stt_nb.media import benchmark_sources, check_disjoint, training_sources

def train_sources(scale: str):
    "What the step-1 and step-2 configs of `scale` read (full STT's plan: both steps)."
    plan = plan_variant('stt', scale, 0)
    return training_sources(build_image_dataset(plan.depends.config.data).root) | \
           training_sources(build_pair_dataset(plan.config.data).base.root)

def bench_sources(scale: str):
    "Every source of the scale's four benchmarks."
    bench = {}
    for task in ('davis', 'jhmdb', 'vip'): bench |= benchmark_sources(toy_benchmark(scale, task=task))
    photos = dict(toy_spec(scale, 'correspondence')[1]).get('photos', CORRESPONDENCE_PHOTOS)
    return bench | {f'correspondence pairs of scale {scale}: photo {p}': ('photo', p) for p in photos}

@pytest.mark.parametrize('scale,n_train,n_bench', [('quick', 65, 40), ('tiny', 65, 535)])
def test_benchmarks_are_held_out(scale, n_train, n_bench):
    train, bench = train_sources(scale), bench_sources(scale)
    assert len(train) == n_train and len(bench) >= n_bench, (len(train), len(bench))   # the folders were all read
    assert check_disjoint(train, bench) > 0

def test_the_old_scale_is_not_held_out():
    "The check can fail: tiny_v2's benchmarks are built from the media its runs train on, and the error names both."
    bench, train = bench_sources('tiny_v2'), train_sources('quick')
    with pytest.raises(ValueError, match=r'training file .+ has the same pixels as .+Motion/'):
        check_disjoint(train, bench)
