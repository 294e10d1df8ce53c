"""Project settings plus a bare view for the benchmark's baseline (never used outside bench/)."""

from qiaoliang.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
