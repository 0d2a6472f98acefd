"""Spike and tone-shift detection: when a watch's stream stops looking like itself.

Two layers:

- The **detector** (pure: functions over per-minute counts, no database): `Series` holds a
  watch's mentions, negative and scored mentions per minute; `step` evaluates one minute
  and returns what changed (`Opened`, `Updated`, `Closed`) with the new episode state.
  bench/listening_detection.py runs exactly these functions on synthetic streams.
- The **runner** `detect(now=None)`: for every active watch, evaluates each minute since the
  last one evaluated (CollectorState "detector"), none before the watch existed
  (judged_from: what came before is history), and writes through actions.signal_open /
  signal_update / signal_close.

The rule, minute by minute (docs/architecture.md, "Listening"):

- Volume: the mentions of sliding windows ending at this minute (60 minutes as listening
  vendors compare, and 20 and 10 minutes so a sharp rise is seen sooner, each with a
  slightly higher bar) against what a baseline that knows the time of day and the day of the
  week expects of them, scaled to today's level. The baseline: the same hour on up to 8 past
  days of the same type (weekday or weekend, local time) over the past 4 weeks, their median
  (or their trimmed mean when counts are low: a quiet watch's median is 0) and MAD; while
  history is short (fewer than 3 such days) the last 12 hours are pooled in. Today's level:
  the 6 hours before the last one against their own baselines, shrunk towards 1 (a busier
  day is not an incident; a 5x spike on it is measured against it), each hour counted within
  0.67-1.5x of its baseline (an incident's hours must not hide the next wave), frozen while
  an episode lasts. The deviation is the normal-equivalent of the tail probability of the
  count under a negative binomial with that mean and a variance from chance (on quiet
  watches, the clusters the watch's past days show: reply cascades, the third quartile of 14
  days so a past incident does not count), a share of the days' spread, and the level's and
  the baseline's own errors. A signal opens at `watch.volume_deviations` deviations, with at
  least `watch.volume_min_count` mentions in the hour and 1.5x the expected, outside the
  expected bursts (or, for a burst given its expected size, beyond that many times the
  expected, with as many times its spread). Windows of 120 and 180 minutes (LONG_WINDOWS),
  each hour against its own baseline and today's level as it was before the window,
  accumulate a sustained rise no hour shows (a 3x step, a slow ramp); their minimum count is
  of the window (a quiet watch's 3x step never holds 10 in an hour, but does in three); they
  open a signal, never keep one open, and do not reach back into the last cool-down. Its
  reason is the window that stood out most ("42 mentions in the last 10 minutes where 3 were
  expected").
- Tone: the negative share over the last 60, 180 or 360 minutes, over at least
  `watch.tone_min_scored` scored mentions, `watch.tone_shift_points` points above the
  share of the past week (its last 3 hours left out), and TONE_DEVIATIONS binomial
  deviations above it (never on a few posts: a label is right 60-75% of the time). The
  360-minute window opens a signal but does not keep one open. A tone signal's reason is
  the tone window that stood out most.
- One signal per episode, whatever its kind: while a signal is open, the other kind only
  updates it. It closes once both have been back under half their bars for CLOSE_AFTER
  minutes, and no new signal opens within COOL_DOWN minutes of a close but a clearly
  bigger wave (crisis-grade, twice the last episode's peak hour).
- A signal's start (estimate_start): where the wave's rate took over from the usual one,
  of mentions for a volume signal, of negative mentions for a tone signal.
"""

import logging
import math
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import cache
from itertools import accumulate
from statistics import NormalDist, median
from zoneinfo import ZoneInfo

logger = logging.getLogger(__name__)

MINUTE = 60
DAY = 1440
WINDOW = 60
# (minutes, extra deviations asked of this window): shorter windows react sooner, and are
# noisier relative to the baseline's own error, so they need a little more.
VOLUME_WINDOWS = ((60, 0.0), (20, 0.3), (10, 0.6))
# Longer windows accumulate a sustained rise (a 3x step, a slow ramp) that no single hour
# shows at the bar: (minutes, extra deviations), each hour of them against its own baseline.
LONG_WINDOWS = ((120, 0.0), (180, 0.2))
# Today's level: the mentions of the recent LEVEL_HOURS hours (the last LEVEL_GAP minutes
# left out, so an episode does not become its own baseline) over what their baselines
# expected, shrunk towards 1 by LEVEL_PRIOR expected mentions and kept within LEVEL_RANGE.
# A day runs busier or quieter than the same hour on past days (news, a season): the
# expected count follows it, and a spike is measured against the day as it runs.
LEVEL_HOURS = 6
LEVEL_GAP = 60
LEVEL_PRIOR = 25.0
LEVEL_RANGE = (0.5, 2.0)
LEVEL_HOUR_RANGE = (1 / 1.5, 1.5)
# The spread of the same hour on past days (the MAD) mostly says how days differ, which
# today's level now follows: a window's extra variance keeps this share of it.
SPREAD_SHARE = 0.3
# Quiet watches (under QUIET expected mentions an hour): their mentions come in clusters
# (a reply cascade is a few posts within minutes), measured over DISPERSION_DAYS.
QUIET = 5.0
DISPERSION_DAYS = 14
DISPERSION_PRIOR = 10.0
# Which of the days' clustering counts: high enough for the cascades most days have, below
# the few days an incident's hours (hundreds of posts in a few quarters) dominate.
DISPERSION_QUANTILE = 0.75
# A labelled share moves slowly (labels right ~65% of the time halve a true shift): the
# longest window sees a 20% -> 50% shift on watches at 10-20 an hour.
TONE_WINDOWS = (60, 180)
# ... and a longer one for slow shifts on modest watches: it opens a signal, it does not keep
# one open (it stays up for hours after the shift).
LONG_TONE_WINDOWS = (360,)
TONE_DEVIATIONS = 3.5
HISTORY_DAYS = 28
MAX_SAMPLES = 8
MIN_SAMPLES = 3
RECENT_HOURS = 12
# The tone baseline: the past week's share, the last hours left out (a slow shift is not
# its own baseline).
TONE_HISTORY = 7 * DAY
TONE_RECENT_GAP = 180
MIN_RATIO = 1.5
# The least a baseline expects in an hour (mentions, or negative mentions for a tone
# signal's start): at a rate of 0 any mention would be infinitely unlikely.
MIN_HOURLY = 0.1
# Extra variance relative to the mean squared (a negative binomial's 1/k): what the days'
# spread cannot show below it, e.g. from 8 samples.
MIN_OVERDISPERSION = 0.05
MAX_OVERDISPERSION = 1.0
CLOSE_FRACTION = 0.5
CLOSE_AFTER = 30
COOL_DOWN = 120
# During a cool-down only a clearly bigger wave opens a new signal: a crisis-grade volume
# reading (severity 3 or more) with WAVE_RATIO times the last episode's peak hour. A false
# alarm (or a tone signal) must not silence a 30x step for two hours; the last episode's
# own tail, or a second wave of its size, stays in it.
WAVE_RATIO = 2.0
WAVE_SEVERITY = 3
# After an expected burst ends, its mentions stay in the hour window for an hour.
BURST_TAIL = WINDOW
# How far a campaign may run from its declared size, relative to it.
BURST_SIZE_SPREAD = 0.25
# How far before the first minute evaluated a burst still matters: its mentions in the
# longest window, and its hours left out of today's level (measured before that window).
BURST_REACH = max(length for length, _bar in LONG_WINDOWS) + LEVEL_GAP + LEVEL_HOURS * WINDOW
# The history a runner loads before the first minute it evaluates.
HISTORY_MINUTES = HISTORY_DAYS * DAY + max(TONE_WINDOWS + LONG_TONE_WINDOWS)

_NORMAL = NormalDist()


@dataclass(frozen=True)
class Rules:
    """A watch's alert rules (Watch fields of the same names)."""

    volume_deviations: float = 4.0
    volume_min_count: int = 10
    tone_shift_points: float = 25
    tone_min_scored: int = 25

    @classmethod
    def of(cls, watch) -> "Rules":
        return cls(
            volume_deviations=watch.volume_deviations,
            volume_min_count=watch.volume_min_count,
            tone_shift_points=watch.tone_shift_points,
            tone_min_scored=watch.tone_min_scored,
        )


class Series:
    """A watch's per-minute counts; minute `i` is `[origin + i, origin + i + 1)` where
    `origin` is an epoch minute (int(timestamp // 60)). `weekend_of` tells whether an
    epoch minute falls on a weekend in the watch's local time. Sums over any window are
    O(1) (prefix sums)."""

    def __init__(self, origin: int, mentions, negative, scored, *, tz=UTC):
        self.origin = origin
        self.length = len(mentions)
        self._m = list(accumulate(mentions, initial=0))
        self._n = list(accumulate(negative, initial=0))
        self._s = list(accumulate(scored, initial=0))
        start = datetime.fromtimestamp(origin * MINUTE, tz=UTC).astimezone(tz)
        # Local minutes since a Monday 00:00: DST shifts are an hour twice a year, ignored.
        self._local = start.weekday() * DAY + start.hour * 60 + start.minute - origin
        # Baselines already computed, by (minute, history_start, min_scored): a minute's
        # baseline serves again an hour later for today's level.
        self._memo = {}

    def baseline(self, minute, *, history_start, min_scored=25):
        key = (minute, history_start, min_scored)
        if key not in self._memo:
            if len(self._memo) > 4 * DAY:
                self._memo.clear()
            self._memo[key] = baseline(
                self, minute, history_start=history_start, min_scored=min_scored
            )
        return self._memo[key]

    def weekend(self, minute: int) -> bool:
        return ((minute + self._local) // DAY) % 7 >= 5

    def _sum(self, prefix, end: int, length: int) -> int:
        """Sum over the `length` minutes ending at epoch minute `end` (inclusive)."""
        hi = min(max(end - self.origin + 1, 0), self.length)
        lo = min(max(end - self.origin + 1 - length, 0), self.length)
        return prefix[hi] - prefix[lo]

    def mentions(self, end, length=WINDOW) -> int:
        return self._sum(self._m, end, length)

    def negative(self, end, length=WINDOW) -> int:
        return self._sum(self._n, end, length)

    def scored(self, end, length=WINDOW) -> int:
        return self._sum(self._s, end, length)

    def minute_counts(self, end, length):
        """[(mentions, negative, scored)] of the `length` minutes ending at `end`."""
        first = end - length + 1
        return [
            (
                self._sum(self._m, m, 1),
                self._sum(self._n, m, 1),
                self._sum(self._s, m, 1),
            )
            for m in range(first, end + 1)
        ]


@dataclass(frozen=True)
class Baseline:
    """What the hour ending at a minute is expected to hold: `mean` mentions,
    `overdispersion` (variance = mean + overdispersion * mean^2), from `samples` windows;
    the negative share of the past week (None below tone_min_scored), over its `scored`
    mentions, and the share of its mentions that were scored (None with the share)."""

    mean: float
    overdispersion: float
    samples: int
    negative_share: float | None
    scored: int
    scored_fraction: float | None = None

    def window(self, length=WINDOW, factor=1.0, weight=math.inf, clustered=1.0):
        """(mean, variance) of the mentions of a `length`-minute window (at most an hour)
        on a day at `factor` times the baseline, known with `weight` (level()), on a watch
        whose mentions are `clustered` (dispersion()). The variance holds: chance (Poisson,
        or the clusters' on quiet watches), what today's level does not explain of the days'
        spread (streams cluster at short time scales, so relative to its mean a short window
        varies more than the hour the spread was measured on), the level's own error, and
        the baseline's (a median of n samples is off by about sqrt(pi/2n) of their spread).
        """
        mean = self.mean * factor * length / WINDOW
        return mean, self.variance(mean, length, weight, clustered)

    def variance(self, mean, length=WINDOW, weight=math.inf, clustered=1.0):
        """The variance of `mean` expected mentions over `length` minutes (see window())."""
        spread = SPREAD_SHARE * self.overdispersion * math.sqrt(WINDOW / length)
        chance = max(mean * clustered, mean + spread * mean * mean)
        return (chance + mean * mean / weight) * (1 + math.pi / (2 * self.samples))


def baseline(series: Series, minute: int, *, history_start: int, min_scored: int = 25):
    """The Baseline of the hour ending at `minute`, or None without an hour of history.
    `history_start`: the first epoch minute with data (a watch's creation)."""
    weekend = series.weekend(minute)
    samples = []
    for days in range(1, HISTORY_DAYS + 1):
        then = minute - days * DAY
        if then - WINDOW + 1 < history_start:
            break
        if series.weekend(then) == weekend:
            samples.append(series.mentions(then))
            if len(samples) == MAX_SAMPLES:
                break
    if len(samples) < MIN_SAMPLES:
        for hours in range(1, RECENT_HOURS + 1):
            then = minute - hours * WINDOW
            if then - WINDOW + 1 < history_start:
                break
            samples.append(series.mentions(then))
    if not samples:
        return None
    middle = median(samples)
    spread = 1.4826 * median(abs(x - middle) for x in samples)
    trimmed = sorted(samples)[: -1 if len(samples) >= MIN_SAMPLES else None]
    mean = max(middle, sum(trimmed) / len(trimmed), MIN_HOURLY)
    overdispersion = (spread * spread - mean) / (mean * mean)
    overdispersion = min(max(overdispersion, MIN_OVERDISPERSION), MAX_OVERDISPERSION)
    tone_end = minute - TONE_RECENT_GAP
    tone_length = max(0, min(TONE_HISTORY, tone_end - history_start + 1))
    scored = series.scored(tone_end, tone_length) if tone_length else 0
    share = series.negative(tone_end, tone_length) / scored if scored >= min_scored else None
    fraction = None
    if share is not None:
        fraction = scored / max(series.mentions(tone_end, tone_length), scored)
    return Baseline(mean, overdispersion, len(samples), share, scored, fraction)


def upper_tail(count: int, mean: float, variance: float) -> float:
    """P(X >= count) for X negative binomial with this mean and variance (Poisson when the
    variance is the mean's)."""
    if count <= 0:
        return 1.0
    if variance <= mean * 1.0001:
        log_pmf = count * math.log(mean) - mean - math.lgamma(count + 1)

        def ratio(x):
            return mean / (x + 1)
    else:
        size = mean * mean / (variance - mean)
        q = mean / (size + mean)
        log_pmf = (
            math.lgamma(count + size)
            - math.lgamma(size)
            - math.lgamma(count + 1)
            + size * math.log(1 - q)
            + count * math.log(q)
        )

        def ratio(x):
            return (x + size) / (x + 1) * q

    term = math.exp(log_pmf) if log_pmf > -745 else 0.0
    if term == 0.0:
        # Far in the tail: the first term dominates; keep the order of magnitude.
        return math.exp(max(log_pmf, -690))
    total, x = 0.0, count
    for _ in range(5000):
        total += term
        term *= ratio(x)
        x += 1
        if term < total * 1e-12:
            break
    return min(total, 1.0)


def deviations(count: int, mean: float, variance: float) -> float:
    """How far above `mean` the count is, in normal-equivalent deviations of its tail
    probability (0 when not above)."""
    if count <= mean:
        return 0.0
    tail = upper_tail(count, mean, variance)
    if tail >= 0.5:
        return 0.0
    return -_NORMAL.inv_cdf(max(tail, 1e-300))


def volume_severity(observed: float, expected: float) -> int:
    """1..4 from the size of a volume deviation over an hour: 3 is crisis-grade (5x and 30
    more mentions than expected), 4 is 10x and 100 more."""
    ratio, extra = observed / max(expected, 0.5), observed - expected
    if ratio >= 10 and extra >= 100:
        return 4
    if ratio >= 5 and extra >= 30:
        return 3
    if ratio >= 3 and extra >= 15:
        return 2
    return 1


def tone_severity(shift: float) -> int:
    """1..3 from a negative share's rise (0..1): 0.25 -> 2, 0.40 -> 3."""
    return 3 if shift >= 0.40 else 2 if shift >= 0.25 else 1


@dataclass(frozen=True)
class Reading:
    """One minute's measures. `observed`/`expected`: mentions in the hour and the baseline;
    `deviations`: the largest volume deviation over the windows (its extra bar removed)."""

    minute: int
    observed: int
    expected: float
    deviations: float
    volume_alert: bool
    volume_elevated: bool
    negative_share: float | None
    baseline_negative_share: float | None
    tone_shift: float
    tone_alert: bool
    tone_elevated: bool
    severity: int
    level: tuple = (1.0, LEVEL_PRIOR)
    # The volume window that stands out most: (minutes, mentions, expected), or None.
    trigger: tuple | None = None
    # The tone window that stands out most: (minutes, scored, negative share, the usual
    # share), or None.
    tone_trigger: tuple | None = None
    # The negative mentions per minute usual at this time of day (the usual share of the
    # hour's expected mentions, as many scored as usual), or None without a usual share.
    baseline_negative_per_minute: float | None = None


def level(series, minute, *, history_start, min_scored=25, bursts=()):
    """Today's level against the baseline at `minute`: (factor, weight). The factor is the
    recent hours' mentions over what their baselines expected, shrunk towards 1; `weight`
    (in mentions) says how sure it is: its relative variance is 1 / weight."""
    observed = expected = 0.0
    for hour in range(LEVEL_HOURS):
        end = minute - LEVEL_GAP - hour * WINDOW
        if any(start <= end and end - WINDOW < stop for start, stop, _size in bursts):
            continue
        base = series.baseline(end, history_start=history_start, min_scored=min_scored)
        if base is None:
            break
        # An hour counts for at most LEVEL_HOUR_RANGE of its baseline: a busier day is
        # many hours a little above, an incident (or an outage) a few hours far from it,
        # which must not teach the detector to expect the next wave.
        low, high = LEVEL_HOUR_RANGE
        observed += min(max(series.mentions(end), base.mean * low), base.mean * high + 2)
        expected += base.mean
    weight = LEVEL_PRIOR + observed
    factor = weight / (LEVEL_PRIOR + expected)
    return min(max(factor, LEVEL_RANGE[0]), LEVEL_RANGE[1]), weight


def dispersion(series, minute, *, history_start) -> float:
    """How clustered the watch's mentions are (1 for a Poisson stream): over the past
    DISPERSION_DAYS whole days, how much the quarter hours of each hour differ from a
    quarter of the hour's count, relative to what chance gives, day by day; the days' third
    quartile (DISPERSION_QUANTILE), so that an incident's hours (hundreds of posts in a few
    quarters) do not make the next quiet nights look clustered, while the reply cascades
    of most days (a few posts within minutes) still make it more than 1. Computed once a
    day (memoized on the series)."""
    day = minute // DAY
    key = ("dispersion", day, history_start)
    if key in series._memo:
        return series._memo[key]
    days = []
    for past in range(day - 1, day - DISPERSION_DAYS - 1, -1):
        if (past + 1) * DAY - 1 < history_start:
            break
        squares = total = 0.0
        for hour_end in range((past + 1) * DAY - 1, past * DAY, -60):
            quarters = [series.mentions(hour_end - 15 * q, 15) for q in range(4)]
            hour = sum(quarters)
            if hour:
                squares += sum((q - hour / 4) ** 2 for q in quarters)
                total += 0.75 * hour
        prior = DISPERSION_PRIOR / DISPERSION_DAYS
        days.append((squares + prior) / (total + prior))
    days.sort()
    value = max(1.0, days[int(DISPERSION_QUANTILE * (len(days) - 1))]) if days else 1.0
    series._memo[key] = value
    return value


def _expected(
    series, minute, base, length, today, clustered, history_start, rules, frozen=False, bursts=()
):
    """(mean, variance) of the mentions of the `length` minutes ending at `minute`. Up to an
    hour: the hour's baseline (Baseline.window). Longer: each hour against its own baseline
    (the day cycle), the level's error shared by all of them; (None, None) without them."""
    factor, weight = today
    if length <= WINDOW:
        return base.window(length, factor, weight, clustered)
    if not frozen:
        # Today's level as it was before the window began: a sustained step's own hours
        # must not raise what the window is measured against.
        factor, weight = level(
            series,
            minute - length + WINDOW,
            history_start=history_start,
            min_scored=rules.tone_min_scored,
            bursts=bursts,
        )
    mean = 0.0
    for hour in range(length // WINDOW):
        then = (
            base
            if hour == 0
            else series.baseline(
                minute - hour * WINDOW,
                history_start=history_start,
                min_scored=rules.tone_min_scored,
            )
        )
        if then is None:
            return None, None
        mean += then.mean * factor
    return mean, base.variance(mean, length, weight, clustered)


def read(
    series, minute, rules: Rules, *, history_start, bursts=(), today=None, since=None
) -> Reading | None:
    """Measure the minute against its baseline; None without a baseline yet. `today`: the
    level (factor, weight) to use instead of the recent hours' (an open episode's);
    `since`: the windows over an hour start after it (the last episode's cool-down)."""
    base = series.baseline(minute, history_start=history_start, min_scored=rules.tone_min_scored)
    if base is None:
        return None
    factor, weight = today or level(
        series,
        minute,
        history_start=history_start,
        min_scored=rules.tone_min_scored,
        bursts=bursts,
    )
    observed = series.mentions(minute)
    best, alert, elevated = 0.0, False, False
    trigger = None
    clustered = 1.0
    if base.mean * factor < QUIET:
        clustered = dispersion(series, minute, history_start=history_start)
    # The hour's expected mentions, a campaign of known size included (what the signal
    # shows, its severity and where its excess began are measured against it).
    campaign = [size for start, end, size in bursts if start <= minute < end + BURST_TAIL]
    expected = base.mean * factor * max([size for size in campaign if size], default=1.0)
    for length, extra_bar in VOLUME_WINDOWS + LONG_WINDOWS:
        if length > WINDOW and since is not None and minute - length < since:
            # A long window reaches no further back than the hour's window does at the
            # end of the cool-down: what came during it is the last episode's.
            continue
        count = series.mentions(minute, length)
        # The minimum count: of the hour for the windows up to an hour, of the window for
        # the longer ones (three hours at three times a quiet watch's rate).
        enough = count if length > WINDOW else observed
        if enough < rules.volume_min_count * CLOSE_FRACTION:
            continue
        mean, variance = _expected(
            series,
            minute,
            base,
            length,
            (factor, weight),
            clustered,
            history_start,
            rules,
            frozen=today is not None,
            bursts=bursts,
        )
        if mean is None:
            continue
        # An expected burst's mentions stay in a window as long as the window. One with no
        # size silences it; one with a size multiplies what the window should hold, give or
        # take BURST_SIZE_SPREAD of it (a campaign's size is a guess): only a wave well
        # beyond it alerts.
        tail = max(length, BURST_TAIL)
        sizes = [size for start, end, size in bursts if start <= minute < end + tail]
        silenced = any(size is None for size in sizes)
        if sizes and not silenced:
            mean *= max(sizes)
            spread = BURST_SIZE_SPREAD * mean
            variance = base.variance(mean, length, weight, clustered) + spread**2
        if count < MIN_RATIO * mean:
            continue
        z = deviations(count, mean, variance)
        if z - extra_bar > best:
            trigger = (length, count, mean)
        best = max(best, z - extra_bar)
        # A long window stays up for hours after the excess: it opens a signal, it does
        # not keep one open (nor its episode, which would hide the next incident).
        if z >= rules.volume_deviations * CLOSE_FRACTION and length <= WINDOW:
            elevated = True
        if z >= rules.volume_deviations + extra_bar and enough >= rules.volume_min_count:
            alert = alert or not silenced
    share, shift, tone_alert, tone_elevated, tone_trigger = None, 0.0, False, False, None
    base_share = base.negative_share
    if base_share is not None:
        bar = rules.tone_shift_points / 100
        for length in TONE_WINDOWS + LONG_TONE_WINDOWS:
            if length not in TONE_WINDOWS and since is not None and minute - length < since:
                continue  # as the long volume windows
            scored = series.scored(minute, length)
            if scored < rules.tone_min_scored * CLOSE_FRACTION:
                continue
            window_share = series.negative(minute, length) / scored
            window_shift = window_share - base_share
            if share is None or window_shift > shift:
                share, shift = window_share, window_shift
                tone_trigger = (length, scored, window_share, base_share)
            spread = math.sqrt(max(base_share * (1 - base_share), 0.01) / scored)
            if (
                window_shift >= bar * CLOSE_FRACTION
                and window_shift / spread >= TONE_DEVIATIONS * CLOSE_FRACTION
                and length in TONE_WINDOWS
            ):
                tone_elevated = True
            if (
                scored >= rules.tone_min_scored
                and window_shift >= bar
                and window_shift / spread >= TONE_DEVIATIONS
            ):
                tone_alert = True
    severity = max(
        volume_severity(observed, expected) if alert or elevated else 1,
        tone_severity(shift) if tone_alert or tone_elevated else 1,
    )
    return Reading(
        minute=minute,
        observed=observed,
        expected=expected,
        deviations=round(best, 2),
        volume_alert=alert,
        volume_elevated=elevated,
        negative_share=share,
        baseline_negative_share=base_share,
        tone_shift=shift,
        tone_alert=tone_alert,
        tone_elevated=tone_elevated,
        severity=severity,
        level=(factor, weight),
        trigger=trigger,
        tone_trigger=tone_trigger,
        baseline_negative_per_minute=None
        if base_share is None
        else base_share * base.scored_fraction * expected / WINDOW,
    )


@dataclass(frozen=True)
class Opened:
    kind: str  # "volume" or "tone" (SignalKind values)
    minute: int
    started: int  # the epoch minute the abnormal stream began (estimated)
    reading: Reading


@dataclass(frozen=True)
class Updated:
    minute: int
    reading: Reading  # the new peak


@dataclass(frozen=True)
class Closed:
    minute: int


@dataclass(frozen=True)
class Episode:
    """The detector's memory for one watch (JSON-able through `to_json`/`from_json`)."""

    open: bool = False
    kind: str = ""
    started: int = 0
    peak_observed: float = 0
    peak_shift: float = 0
    severity: int = 0
    below_since: int | None = None
    closed_at: int | None = None
    # The last episode's peak hour (mentions), kept through its cool-down.
    last_peak: float = 0
    # Today's level (factor, weight) when the episode opened: kept while it lasts, so the
    # episode is measured against the day as it was before it.
    level: tuple | None = None

    def to_json(self) -> dict:
        return {
            "open": self.open,
            "kind": self.kind,
            "started": self.started,
            "peak_observed": self.peak_observed,
            "peak_shift": self.peak_shift,
            "severity": self.severity,
            "below_since": self.below_since,
            "closed_at": self.closed_at,
            "last_peak": self.last_peak,
            "level": list(self.level) if self.level else None,
        }

    @classmethod
    def from_json(cls, data: dict | None) -> "Episode":
        data = data or {}
        values = {k: data[k] for k in cls().to_json() if k in data}
        if values.get("level"):
            values["level"] = tuple(values["level"])
        return cls(**values)


def estimate_start(
    series, minute, usual_per_minute, wave_per_minute, length=WINDOW, column=0
) -> int:
    """The epoch minute a wave began, looked for over the `length` minutes up to `minute`:
    where the cumulative excess of a count per minute (Series.minute_counts' `column`: 0
    mentions, 1 negative mentions) over a threshold rate, counted back from `minute`, is
    largest (`minute` itself when it never exceeds it). The count is modelled as Poisson,
    its rate rising from the usual one (`usual_per_minute`, at least MIN_HOURLY an hour) to
    the wave's (`wave_per_minute`); each minute counts against the rate at which a count is
    as likely from the wave as from the usual stream (the Poisson likelihood ratio's
    threshold, between the two), so quiet minutes pull the sum down: on a quiet watch a
    lone post long before the wave does not pull its start, and first mention, back to it.
    A wave not above the usual rate is counted against the usual rate."""
    usual = max(usual_per_minute, MIN_HOURLY / WINDOW)
    threshold = usual
    if wave_per_minute > usual:
        threshold = (wave_per_minute - usual) / math.log(wave_per_minute / usual)
    counts = series.minute_counts(minute, length)
    best, best_at, running = 0.0, minute, 0.0
    for offset, row in enumerate(reversed(counts)):
        running += row[column] - threshold
        if running > best + 1e-6:  # not float noise on a flat stream
            best, best_at = running, minute - offset
    return best_at


def step(series, minute, rules: Rules, episode: Episode, *, history_start, bursts=()):
    """Evaluate one epoch minute: (new Episode, [Opened | Updated | Closed])."""
    today = episode.level if episode.open else None
    reading = read(
        series,
        minute,
        rules,
        history_start=history_start,
        bursts=bursts,
        today=today,
        since=None
        if episode.open or episode.closed_at is None
        else episode.closed_at + COOL_DOWN - WINDOW,
    )
    if reading is None:
        return episode, []
    if not episode.open:
        cooling = episode.closed_at is not None and minute < episode.closed_at + COOL_DOWN
        bigger_wave = (
            reading.volume_alert
            and volume_severity(reading.observed, reading.expected) >= WAVE_SEVERITY
            and reading.observed >= WAVE_RATIO * max(episode.last_peak, 1)
        )
        if (cooling and not bigger_wave) or not (reading.volume_alert or reading.tone_alert):
            return episode, []
        if reading.volume_alert:
            kind = "volume"
            started = estimate_start(
                series, minute, reading.expected / WINDOW, reading.observed / WINDOW
            )
        else:
            kind = "tone"
            # Negative mentions per minute: the usual ones (the usual share of the usual
            # scored mentions) rising to those of the tone window that triggered.
            length, scored, share, _usual_share = reading.tone_trigger
            started = estimate_start(
                series,
                minute,
                reading.baseline_negative_per_minute or 0,
                share * scored / length,
                max(TONE_WINDOWS + LONG_TONE_WINDOWS),
                column=1,
            )
        new = Episode(
            open=True,
            kind=kind,
            started=started,
            peak_observed=reading.observed,
            peak_shift=reading.tone_shift,
            severity=reading.severity,
            closed_at=episode.closed_at,
            level=reading.level,
        )
        return new, [Opened(kind, minute, started, reading)]
    events = []
    if reading.observed > episode.peak_observed or reading.severity > episode.severity:
        episode = replace(
            episode,
            peak_observed=max(reading.observed, episode.peak_observed),
            peak_shift=max(reading.tone_shift, episode.peak_shift),
            severity=max(reading.severity, episode.severity),
        )
        events.append(Updated(minute, reading))
    if reading.volume_elevated or reading.tone_elevated:
        return replace(episode, below_since=None), events
    below_since = episode.below_since if episode.below_since is not None else minute
    if minute - below_since + 1 >= CLOSE_AFTER:
        closed = Episode(closed_at=minute, last_peak=episode.peak_observed)
        return closed, [*events, Closed(minute)]
    return replace(episode, below_since=below_since), events


def run(series, first, last, rules, episode=None, *, history_start, bursts=()):
    """Evaluate epoch minutes first..last (inclusive): (Episode, [events])."""
    episode = episode or Episode()
    events = []
    for minute in range(first, last + 1):
        episode, new = step(
            series, minute, rules, episode, history_start=history_start, bursts=bursts
        )
        events += new
    return episode, events


def epoch_minute(moment: datetime) -> int:
    return int(moment.timestamp() // MINUTE)


# A watch can alert once the hour before the hour it judges lies in its history (baseline()
# falls back to the last hours while the history is short, and has nothing before that).
LEARNING_MINUTES = 2 * WINDOW - 1


def alerts_from(history_start: datetime) -> datetime:
    """When a watch whose history starts at `history_start` (its creation, or its oldest
    mention if earlier) can first raise a signal."""
    return from_epoch_minute(epoch_minute(history_start) + LEARNING_MINUTES)


def from_epoch_minute(minute: int) -> datetime:
    return datetime.fromtimestamp(minute * MINUTE, tz=UTC)


def band(series, first, last, width, rules=Rules(), *, history_start):
    """The baseline band of buckets of `width` minutes from epoch minute `first` to `last`
    (exclusive): [(expected, low, high)] mentions per bucket, or None where there is no
    baseline yet. `high` is where the volume bar stands (rules.volume_deviations)."""
    out = []
    for start in range(first, last, width):
        end = min(start + width, last) - 1
        base = series.baseline(end, history_start=history_start)
        if base is None:
            out.append(None)
            continue
        factor, weight = level(series, end, history_start=history_start)
        clustered = 1.0
        if base.mean * factor < QUIET:
            clustered = dispersion(series, end, history_start=history_start)
        mean, variance = base.window(end - start + 1, factor, weight, clustered)
        sd = math.sqrt(variance)
        out.append((mean, max(0.0, mean - 2 * sd), mean + rules.volume_deviations * sd))
    return out


# --- The runner (database) ----------------------------------------------------------------

STATE_NAME = "detector"
# Minutes a run evaluates per watch at most: after a long stop it catches up on the last
# day, not on weeks (what was missed then is history, not news).
MAX_CATCH_UP = DAY
# A watch evaluated for the first time starts this far back, never before it existed
# (judged_from).
FIRST_RUN = WINDOW


def judged_from(watch, last: int) -> int:
    """The first epoch minute the detector judges for `watch`, whose last complete minute
    by the detector's clock is `last`: the minute it was created in (alerted at its end,
    after the creation). A minute is judged once, when the watch exists: the posts from
    before then (imported, sent with past times, sorted into it) are its history, as a late
    back-fill's are for a watch that judged their minutes without them: they feed the
    baselines, and count in the windows of the minutes judged after they arrived (the
    hour's, and the longer ones), never in an alert dated before the watch existed.
    A creation stamped more than a minute ahead of `last + 1` came from a clock ahead of the
    detector's (another machine): judged from `last`, not silently skipped until the
    clocks meet."""
    created = epoch_minute(watch.created_at)
    return created if created <= last + 1 else last


@cache
def _epoch_minute_sql():
    """An expression: a UTC datetime column's minutes since the epoch, an integer computed
    by the database (rows of integers: no datetime built per row, which cost more than the
    query on four weeks of a busy watch)."""
    from django.db.models import BigIntegerField, Func

    class EpochMinute(Func):
        output_field = BigIntegerField()

        def as_postgresql(self, compiler, connection, **extra):
            template = "FLOOR(EXTRACT(EPOCH FROM %(expressions)s) / 60)::bigint"
            return self.as_sql(compiler, connection, template=template, **extra)

        def as_sqlite(self, compiler, connection, **extra):
            # "%%%%s": "%%s" once the template is filled in, which the SQLite backend turns
            # into strftime's "%s" (seconds since the epoch) rather than a parameter.
            template = "(CAST(strftime('%%%%s', %(expressions)s) AS INTEGER) / 60)"
            return self.as_sql(compiler, connection, template=template, **extra)

    return EpochMinute


def _load(watch_id, first, last, tz):
    """The watch's Series from HISTORY_MINUTES before `first` to `last` (epoch minutes,
    inclusive): one query grouped by minute over MentionMatch's copied fields."""
    from django.db.models import Count, Q

    from .choices import Sentiment
    from .models import MentionMatch

    origin = first - HISTORY_MINUTES
    size = last - origin + 1
    mentions, negative, scored = [0] * size, [0] * size, [0] * size
    rows = (
        MentionMatch.objects.filter(
            watch_id=watch_id,
            posted_at__gte=from_epoch_minute(origin),
            posted_at__lt=from_epoch_minute(last + 1),
        )
        .annotate(minute=_epoch_minute_sql()("posted_at"))
        .values("minute")
        .annotate(
            n=Count("id"),
            neg=Count("id", filter=Q(sentiment=Sentiment.NEGATIVE)),
            sc=Count("id", filter=~Q(sentiment=Sentiment.UNKNOWN)),
        )
        .order_by()
        .values_list("minute", "n", "neg", "sc")
    )
    first_seen = None
    for minute, n, neg, sc in rows:
        index = minute - origin
        if 0 <= index < size:
            mentions[index] += n
            negative[index] += neg
            scored[index] += sc
            first_seen = index if first_seen is None else min(first_seen, index)
    series = Series(origin, mentions, negative, scored, tz=tz)
    return series, (origin + first_seen if first_seen is not None else None)


def _bursts(watch_id, first, last):
    """[(first epoch minute, end epoch minute, expected size or None)] of the watch's
    expected bursts that reach into first..last (or into the windows that end there)."""
    from .models import ExpectedBurst

    rows = ExpectedBurst.objects.filter(
        watch_id=watch_id,
        starts_at__lt=from_epoch_minute(last + 1),
        ends_at__gte=from_epoch_minute(first - BURST_REACH),
    ).order_by("-ends_at")  # past the bound, the latest are the ones kept
    rows = rows.values_list("starts_at", "ends_at", "expected_size")
    return [(epoch_minute(start), epoch_minute(end), size) for start, end, size in rows[:100]]


def detect(now=None) -> dict:
    """Evaluate every active watch up to the last whole minute before `now`, from the
    minute after the last one evaluated (kept in CollectorState "detector"), and write the
    signals. Each watch is read and evaluated outside any transaction (weeks of minutes: on
    SQLite a transaction holds the whole database's write lock), then written in a short
    one of its own, under the state row's lock, only if no other runner evaluated it
    meanwhile (then its events are that runner's): two runners at once open one signal and
    alert once. Idempotent: a minute is evaluated once. Returns {"watches", "opened",
    "closed"}."""
    from django.conf import settings
    from django.db import transaction
    from django.utils import timezone

    from . import actions
    from .models import CollectorState, Signal, SignalStatus, Watch

    now = now or timezone.now()
    last = epoch_minute(now) - 1
    tz = ZoneInfo(settings.TIME_ZONE)
    done = {"watches": 0, "opened": 0, "closed": 0}
    row = actions.collector_state_open(name=STATE_NAME, now=now)
    active = list(Watch.objects.filter(is_active=True))
    # A stopped watch is evaluated no more: its open signal closes now (it would stay open
    # for good, "still above normal" in its incident), and the watch is paused where it
    # was: resumed within COOL_DOWN while the episode goes on, the same signal opens again
    # (no second alert for the same burst); resumed later, it starts afresh.
    stopped = Signal.objects.filter(status=SignalStatus.OPEN, watch__is_active=False)
    if stopped.exists():
        with transaction.atomic():
            row = CollectorState.objects.select_for_update().get(name=STATE_NAME)
            paused = {}
            for signal in stopped.select_for_update():
                actions.signal_close(signal=signal, now=now)
                done["closed"] += 1
                mine = row.state.get(str(signal.watch_id), {})
                paused[str(signal.watch_id)] = {
                    "last": last,
                    "episode": mine.get("episode"),
                    "signal": signal.pk,
                    "paused": last,
                }
            actions.collector_state_merge(row=row, entries=paused)
    failed = []
    for watch in active:
        try:
            outcome = _evaluate(watch, row.state.get(str(watch.pk), {}), last, tz)
        except Exception:  # one watch's fault (a bug, a database error) stops no other
            logger.exception("Detection failed for watch %s; the others go on", watch.pk)
            failed.append(watch.pk)
            continue
        if outcome is not None:
            done["watches"] += 1
            done["opened"] += outcome[0]
            done["closed"] += outcome[1]
    error = None
    if failed:
        listed = ", ".join(str(pk) for pk in failed)
        error = f"Failed for watches {listed} (see the log); retried next minute."
    actions.collector_state_record(name=STATE_NAME, error=error, now=now)
    return done


def _evaluate(watch, mine, last, tz) -> tuple[int, int] | None:
    """A watch evaluated from the minute after `mine["last"]` to `last` and its events
    written: (opened, closed), or None when it was already evaluated (up to date, or by
    another runner meanwhile, whose events are written). A watch resumed after a pause
    (`mine["paused"]`, detect) is evaluated from now: the minutes it was stopped collected
    nothing. No minute before the watch existed is evaluated (judged_from)."""
    from django.db import transaction

    from . import actions
    from .models import CollectorState

    start, episode, reopen = mine.get("last", last - FIRST_RUN), mine.get("episode"), False
    if mine.get("paused") is not None:
        if last - mine["paused"] > COOL_DOWN:
            start, episode = last - FIRST_RUN, None  # afresh
        else:
            start, reopen = last - 1, Episode.from_json(episode).open
    first = max(start + 1, last - MAX_CATCH_UP + 1, judged_from(watch, last))
    if first > last:
        return None
    series, first_seen = _load(watch.pk, first, last, tz)
    created = epoch_minute(watch.known_since)
    history_start = min(created, first_seen) if first_seen is not None else created
    episode, events = run(
        series,
        first,
        last,
        Rules.of(watch),
        Episode.from_json(episode),
        history_start=history_start,
        bursts=_bursts(watch.pk, first, last),
    )
    with transaction.atomic():
        row = CollectorState.objects.select_for_update().get(name=STATE_NAME)
        if row.state.get(str(watch.pk), {}).get("last") != mine.get("last"):
            return None
        signal_id = mine.get("signal") if reopen or not mine.get("paused") else None
        opened, closed, signal = _write(watch, signal_id, events, reopen=reopen)
        standing = {
            "last": last,
            "episode": episode.to_json(),
            "signal": signal.pk if signal is not None and episode.open else None,
        }
        actions.collector_state_merge(row=row, entries={str(watch.pk): standing})
    return opened, closed


def _write(watch, signal_id, events, *, reopen=False):
    """A watch's events written through the actions: (opened, closed, the open signal).
    `reopen`: the signal closed by a pause opens again (the episode it measured goes on)."""
    from . import actions
    from .models import Signal, SignalStatus

    signal = None
    if signal_id:
        signal = Signal.objects.filter(pk=signal_id).first()
        if signal is not None and signal.status != SignalStatus.OPEN:
            signal = actions.signal_reopen(signal=signal) if reopen else None
    opened = closed = 0
    for event in events:
        at = from_epoch_minute(event.minute + 1)
        if isinstance(event, Opened):
            signal = actions.signal_open(
                watch=watch,
                kind=event.kind,
                started_at=from_epoch_minute(event.started),
                reading=event.reading,
                now=at,
            )
            opened += 1
        elif isinstance(event, Updated) and signal is not None:
            actions.signal_update(signal=signal, reading=event.reading, now=at)
        elif isinstance(event, Closed) and signal is not None:
            actions.signal_close(signal=signal, now=at)
            signal = None
            closed += 1
    return opened, closed, signal


def baseline_band(watch, start: datetime, end: datetime, width: timedelta):
    """The baseline band of a watch's volume curve, bucket by bucket as
    selectors.volume_series gives them (`width` a whole number of minutes):
    [{"start", "expected", "low", "high"}] in mentions per bucket (None where there is no
    history yet); `high` is where the volume bar stands. One query."""
    from django.conf import settings

    minutes = int(width.total_seconds() // 60)
    first, stop = epoch_minute(start), epoch_minute(end - timedelta(microseconds=1)) + 1
    series, first_seen = _load(watch.pk, first, stop - 1, ZoneInfo(settings.TIME_ZONE))
    created = epoch_minute(watch.known_since)
    history_start = min(created, first_seen) if first_seen is not None else created
    values = band(series, first, stop, minutes, Rules.of(watch), history_start=history_start)
    out = []
    for index, value in enumerate(values):
        expected, low, high = value if value is not None else (None, None, None)
        out.append(
            {
                "start": from_epoch_minute(first + index * minutes),
                "expected": None if expected is None else round(expected, 2),
                "low": None if low is None else round(low, 2),
                "high": None if high is None else round(high, 2),
            }
        )
    return out
