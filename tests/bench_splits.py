"""What every held-out split's stub test checks of its sources: they are new (no repository of the
tuning set, of an earlier split or of the benches' own lists), nobody else names them (no other
bench module, no earlier split's section of ``fixtures/real/README.md``), every commit is pinned and
every cache name is one source file's."""
from __future__ import annotations

import glob
import importlib
import os
import sys

BENCH = os.path.join(os.path.dirname(__file__), "..", "bench")
if BENCH not in sys.path:
    sys.path.insert(0, BENCH)

import bench_real_pairs  # noqa: E402
import bench_real_sources2  # noqa: E402
import bench_real_sources4  # noqa: E402

#: repositories used by benches before the split modules listed them
EARLIER = {"csjunxu/PolyU-Real-World-Noisy-Images-Dataset", "ND-HowardGroup/Instant-Image-Denoising",
           "scikit-image/scikit-image", "soft-matter/trackpy", "soft-matter/trackpy-examples"}


def earlier_repos(n: int) -> set[str]:
    """Every repository the tuning set and ``bench_real_sources3`` .. ``bench_real_sources{n - 1}`` fetch."""
    repos = set(bench_real_pairs.MIRRORS) | set(bench_real_sources2.SOURCES2) | set(bench_real_sources4.FOCUS_STACKS)
    for i in range(3, n):
        repos |= set(getattr(importlib.import_module(f"bench_real_sources{i}"), f"GIT{i}"))
    return repos | EARLIER


def assert_sources_new(n: int, heading: str, *, readme_allows: str = "") -> None:
    """The checks for ``bench_real_sources{n}`` (its ``GIT{n}``), whose README section starts with
    ``heading``; ``readme_allows`` is a sentence of an earlier section that may name one of them."""
    git = getattr(importlib.import_module(f"bench_real_sources{n}"), f"GIT{n}")
    assert not {r.lower() for r in git} & {r.lower() for r in earlier_repos(n)}
    others = [f for f in glob.glob(os.path.join(BENCH, "*.py")) if not f.endswith(f"bench_real_sources{n}.py")]
    readme = open(os.path.join(BENCH, "..", "fixtures", "real", "README.md"), encoding="utf-8").read()
    readme = readme.split(heading)[0].lower().replace(readme_allows.lower(), "")
    for repo in git:
        assert repo.lower() not in readme
        for f in others:
            assert repo.lower() not in open(f, encoding="utf-8").read().lower(), (repo, f)
    assert all(len(rev) == 40 for files in git.values() for rev, _, _ in files)  # pinned commits
    names = [name for files in git.values() for _, _, name in files]
    assert len(names) == len(set(names))  # one cache name per source file
