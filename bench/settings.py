"""The production settings, with the channel layer the benchmark's --layer asks for
(BENCH_CHANNEL_LAYER), so one checkout can compare them. Never used outside bench/."""

import os

from crisiscell.settings import *  # noqa: F403
from crisiscell.settings import CHANNEL_LAYERS

LAYERS = {
    "pubsub": "channels_redis.pubsub.RedisPubSubChannelLayer",
    "core": "channels_redis.core.RedisChannelLayer",
}
if os.environ.get("BENCH_CHANNEL_LAYER"):
    CHANNEL_LAYERS["default"]["BACKEND"] = LAYERS[os.environ["BENCH_CHANNEL_LAYER"]]
