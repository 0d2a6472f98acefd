"""Detection quality of the listening detector on a seeded synthetic stream.

    .venv/bin/python bench/listening_detection.py --seed 2 --weeks 3

Generates, per watch, weeks of mentions per minute: a day cycle, quieter weekends, day-to-day
level changes and extra-Poisson noise (gamma-Poisson, i.e. negative binomial), at volume
levels from 0.5 to 60 an hour; harmless reply cascades (3-8 posts in a quarter hour);
expected campaign bursts (declared, 4x for two hours); injected incidents (step, spike,
ramp, viral cascade; 1.5x to 30x) and tone shifts (20% -> 50-70% negative, with or without
a volume change) seen through noisy labels (right 65% of the time, 15% unscored);
duplicates (dropped by the unique key, as ingest does), source outages (lost, or
back-filled hours later: the detector sees only what had arrived at each minute).

Runs the product's detector (incidents.listening.detection, minute by minute, no database)
and reference detectors on the same streams, and prints detection rate by class, median
and p90 delay, false alarms per watch per week and signals per incident. The references'
thresholds are calibrated on the same stream to no more false alarms than the product's
(the most sensitive threshold of a grid that stays at or below it), so delays compare at
equal false alarms. Two weeks of history precede the scored weeks.

Ceilings, calibrated the same way: CUSUMs that know what only the generator knows (the
background's rate and noise; the usual negative share), the quickest detectors of a known
change at a given false-alarm rate: what no detector can beat on this stream.
`--product-only` skips the references and ceilings (for tuning runs).
"""

import argparse
import itertools
import math
import os
import sys
import time
from dataclasses import dataclass

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crisiscell.settings")

from incidents.listening import detection

DAY = 1440
WEEK = 7 * DAY
WARMUP_WEEKS = 2
LEVELS = (0.5, 1, 2, 5, 10, 20, 40, 60)
SIZES = (1.5, 2, 3, 5, 10, 30)
SHAPES = ("step", "spike", "ramp", "viral")
LABEL_RIGHT = 0.65
UNSCORED = 0.15
MATCH_AFTER = 60  # a signal up to an hour after an incident's end still counts for it
TONE_RULES = 12  # points of the labelled share (labels halve a true shift: see the docs)


@dataclass
class Incident:
    watch: int
    start: int
    end: int
    kind: str  # a shape, or "tone" / "tone+volume"
    size: float
    extra_peak_hour: float
    level: float


def day_profile():
    hours = np.arange(DAY) / 60
    return 1 + 0.65 * np.cos(2 * np.pi * (hours - 14) / 24)


def make_watch(rng, level, weeks, index, burst_size=4.0):
    """(mentions, negative, scored, visible_at, incidents, bursts, duplicates, known_rate,
    usual_negative) for one watch: per-minute arrays, then what only the generator knows
    (the background's rate per minute with the declared bursts and the cascades' average,
    and the true negative share outside tone shifts), which the ceiling detectors use."""
    minutes = weeks * WEEK
    t = np.arange(minutes)
    profile = day_profile()[t % DAY]
    weekend = ((t // DAY) % 7) >= 5
    daily = rng.gamma(25, 1 / 25, size=weeks * 7 + 1)[t // DAY]
    rate = level / 60 * profile * np.where(weekend, 0.6, 1.0) * daily
    rate = rate / rate[: 7 * DAY].mean() * level / 60
    # Extra-Poisson noise: a gamma multiplier per 10-minute block (negative binomial counts).
    blocks = rng.gamma(6, 1 / 6, size=minutes // 10 + 1)[t // 10]
    base_rate = rate.copy()
    rate = rate * blocks
    extra = np.zeros(minutes)
    usual_negative = rng.uniform(0.15, 0.25)
    negative_true = np.full(minutes, usual_negative)
    incidents, bursts = [], []
    scored_from = WARMUP_WEEKS * WEEK
    # Harmless reply cascades: about one a day.
    for start in rng.integers(0, minutes - 30, size=weeks * 7):
        size = rng.integers(3, 9)
        for offset in rng.integers(0, 15, size=size):
            extra[start + offset] += 1
    # What a detector that knew the generator would expect: the background (without the
    # 10-minute noise), the declared bursts and the cascades' average (5.5 posts a day).
    known_rate = base_rate + 5.5 / DAY
    # Expected campaign bursts: about one a week, declared (4x for two hours) with their size
    # (`burst_size`; None: declared without one, which silences their window).
    for week in range(weeks):
        start = week * WEEK + int(rng.integers(DAY, 6 * DAY))
        bursts.append((start, start + 120, burst_size))
        extra[start : start + 120] += 3 * base_rate[start : start + 120]
        known_rate[start : start + 120] += 3 * base_rate[start : start + 120]
    # Injected incidents: every 30-54 hours in the scored weeks.
    at = scored_from + int(rng.integers(6 * 60, 30 * 60))
    while at < minutes - 10 * 60:
        roll = rng.random()
        hour_rate = base_rate[at : at + 60].sum()
        if roll < 0.2:
            kind = "tone" if rng.random() < 0.5 else "tone+volume"
            size = 2.0 if kind == "tone+volume" else 1.0
            length = int(rng.integers(180, 360))
            negative_true[at : at + length] = rng.uniform(0.5, 0.7)
            if kind == "tone+volume":
                extra[at : at + length] += base_rate[at : at + length]
            incidents.append(Incident(index, at, at + length, kind, size, hour_rate, level))
        else:
            kind = SHAPES[int(rng.integers(0, len(SHAPES)))]
            size = float(SIZES[int(rng.integers(0, len(SIZES)))])
            extra_hour = (size - 1) * max(hour_rate, 1e-9)
            length, shape = incident_shape(rng, kind)
            extra[at : at + length] += shape * extra_hour
            incidents.append(Incident(index, at, at + length, kind, size, extra_hour, level))
        at += length + int(rng.integers(30 * 60, 54 * 60))
    counts = rng.poisson(rate + np.maximum(extra, 0))
    # Duplicates: 3% delivered twice (two connectors); the unique key drops them, so the
    # per-minute counts are unchanged: counted only for the report.
    duplicates = int(rng.binomial(counts.sum(), 0.03))
    # Labels: true sentiment, then right 65% of the time; 15% in a language not scored.
    scored = rng.binomial(counts, 1 - UNSCORED)
    true_negative = rng.binomial(scored, negative_true)
    kept = rng.binomial(true_negative, LABEL_RIGHT)
    # A wrong label is one of the two other classes: half of the non-negative wrong ones
    # become negative.
    flipped = rng.binomial(scored - true_negative, (1 - LABEL_RIGHT) / 2)
    negative = kept + flipped
    # Source outages: about one a week, 1-3 hours; half lost, half back-filled 2-6 h later.
    visible_at = t.copy()
    for _ in range(weeks):
        start = int(rng.integers(0, minutes - 400))
        length = int(rng.integers(60, 180))
        if rng.random() < 0.5:
            counts[start : start + length] = 0
            negative[start : start + length] = 0
            scored[start : start + length] = 0
        else:
            visible_at[start : start + length] = start + length + int(rng.integers(120, 360))
    return (
        counts,
        negative,
        scored,
        visible_at,
        incidents,
        bursts,
        duplicates,
        known_rate,
        usual_negative,
    )


def incident_shape(rng, kind):
    """(minutes, extra rate per minute as a fraction of the peak hour's extra)."""
    if kind == "step":
        length = int(rng.integers(120, 360))
        return length, np.full(length, 1 / 60)
    if kind == "spike":
        length = 120
        curve = np.exp(-np.arange(length) / 20.0)
        return length, curve / curve[:60].sum()
    if kind == "ramp":
        length = 180
        curve = np.minimum(np.arange(length) / 90.0, 1.0)
        return length, curve / curve[90:150].sum()
    length = 240  # viral: doubles every 10 minutes up to its peak, then decays
    up = 2 ** (np.arange(60) / 10.0)
    curve = np.concatenate([up, up[-1] * np.exp(-np.arange(length - 60) / 30.0)])
    best = max(curve[i : i + 60].sum() for i in range(0, length - 60, 5))
    return length, curve / best


def visible_series(counts, negative, scored, visible_at, now):
    """What had arrived by minute `now` (late back-fills are not there yet); minutes on time
    are there when their minute is evaluated."""
    mask = (visible_at == np.arange(len(visible_at))) | (visible_at <= now)
    return counts * mask, negative * mask, scored * mask


def run_product(watch, rules):
    counts, negative, scored, visible_at, _, bursts = watch[:6]
    minutes = len(counts)
    late = np.nonzero(visible_at > np.arange(minutes))[0]
    # The stream as seen: rebuilt at each back-fill's arrival (a handful per watch).
    arrivals = sorted(set(visible_at[late].tolist()))
    checkpoints = [WARMUP_WEEKS * WEEK] + [a for a in arrivals if a > WARMUP_WEEKS * WEEK]
    checkpoints.append(minutes)
    episode, opened = detection.Episode(), []
    for first, last in itertools.pairwise(checkpoints):
        seen = visible_series(counts, negative, scored, visible_at, first)
        series = detection.Series(0, *[x.tolist() for x in seen])
        episode, events = detection.run(
            series, first, last - 1, rules, episode, history_start=0, bursts=bursts
        )
        opened += [e.minute for e in events if isinstance(e, detection.Opened)]
    return opened


def reference_alarms(kind, counts, threshold, min_count):
    """Minutes where a reference detector's condition holds (vectorised)."""
    hour = np.convolve(counts, np.ones(60), mode="full")[: len(counts)]
    if kind == "ratio":  # last hour vs the hour before, with a minimum count
        previous = np.concatenate([np.zeros(60), hour[:-60]])
        return (hour >= min_count) & (hour >= threshold * np.maximum(previous, 1))
    if kind == "vendor":  # last hour vs the hourly mean of the past 12 hours
        past = np.convolve(counts, np.ones(720), mode="full")[: len(counts)]
        past = np.concatenate([np.zeros(60), past[:-60]]) / 12
        return (hour >= min_count) & (hour >= threshold * np.maximum(past, 0.5))
    # robust z-score of the hour against the past 24 hourly windows (median, MAD)
    lagged = np.stack([np.concatenate([np.zeros(60 * k), hour[: -60 * k]]) for k in range(1, 25)])
    med = np.median(lagged, axis=0)
    mad = np.median(np.abs(lagged - med), axis=0) * 1.4826
    z = (hour - med) / np.maximum(mad, 1.0)
    return (hour >= min_count) & (z >= threshold)


def cusum(llr):
    """Page's CUSUM: the running sum of per-minute log-likelihood ratios, floored at 0."""
    out, total = np.empty(len(llr)), 0.0
    for index, value in enumerate(llr.tolist()):
        total = max(0.0, total + value)
        out[index] = total
    return out


NOISE_SHAPE = 6  # the gamma multiplier of each 10-minute block (make_watch)


def _log_nb(x, mean, size, lgamma_table):
    """log P(X = x) of a negative binomial (mean, size), up to lgamma(x + 1)."""
    return (
        lgamma_table[x]
        - math.lgamma(size)
        + size * np.log(size / (size + mean))
        + x * np.log(mean / (size + mean))
    )


def ceiling_statistics(kind, watch, design):
    """The CUSUM statistic per minute of a ceiling detector over what had arrived (as the
    references see it). It knows what no product can: the background's rate per minute
    and its noise (volume: the counts of each 10-minute block are negative binomial around
    it; the test is for `design` times that rate), or the usual negative share (tone:
    labels are Bernoulli; the test is for a true share of `design`, as labelled). CUSUM is
    the quickest test of a known change at a given false-alarm rate (Lorden; Moustakides),
    so no detector does much better on this stream. Within a block the statistic is the
    last block's plus the block so far (its counts share one multiplier)."""
    counts, negative, scored = visible_series(*watch[:3], watch[3], len(watch[0]))
    if kind == "tone":

        def labelled(share):  # what labels right LABEL_RIGHT of the time read
            return share * LABEL_RIGHT + (1 - share) * (1 - LABEL_RIGHT) / 2

        usual, shifted = labelled(watch[8]), labelled(design)
        return cusum(
            negative * np.log(shifted / usual)
            + (scored - negative) * np.log((1 - shifted) / (1 - usual))
        )
    minutes = len(counts)
    block = np.arange(minutes) // 10
    starts = np.searchsorted(block, block)  # each minute's block's first minute
    so_far = np.cumsum(counts) - np.concatenate([[0], np.cumsum(counts)])[starts]
    expected = np.cumsum(watch[7]) - np.concatenate([[0], np.cumsum(watch[7])])[starts]
    expected = np.maximum(expected, 1e-9)
    # Under the change the extra mentions are not multiplied by the block's noise: the
    # same extra variance, so a size of NOISE_SHAPE * design^2.
    shifted_size = NOISE_SHAPE * design**2
    top = int(so_far.max()) + 1
    table0 = np.array([math.lgamma(x + NOISE_SHAPE) for x in range(top)])
    table1 = np.array([math.lgamma(x + shifted_size) for x in range(top)])
    llr = _log_nb(so_far, design * expected, shifted_size, table1) - _log_nb(
        so_far, expected, NOISE_SHAPE, table0
    )
    ends = np.nonzero(np.diff(block, append=block[-1] + 1))[0]  # each block's last minute
    before = np.concatenate([[0.0], cusum(llr[ends])[:-1]])  # the statistic before a block
    return np.maximum(0.0, before[block] + llr)


def episodes_of(alarm, first):
    """Signals of a reference: an alarm opens one, which lasts until the condition has been
    off for 30 minutes; no new one within 120 minutes (the product's hysteresis)."""
    opened, last_on, closed = [], None, -(10**9)
    for minute in np.nonzero(alarm[first:])[0] + first:
        minute = int(minute)
        if last_on is not None and minute - last_on <= 30:
            last_on = minute  # the same episode goes on
            continue
        if last_on is not None:
            closed, last_on = last_on + 30, None
        if minute >= closed + 120:
            opened.append(minute)
            last_on = minute
    return opened


def score(opened_by_watch, watches, weeks):
    """Per incident: first signal minute (or None) and signal count; false alarms."""
    results, false_alarms = [], 0
    for index, watch in enumerate(watches):
        incidents = watch[4]
        opened = opened_by_watch[index]
        matched = set()
        for incident in incidents:
            mine = [m for m in opened if incident.start <= m < incident.end + MATCH_AFTER]
            matched.update(mine)
            results.append((incident, (mine[0] - incident.start) if mine else None, len(mine)))
        false_alarms += len([m for m in opened if m not in matched])
    return results, false_alarms / len(watches) / weeks


def classes(incident):
    names = ["all"]
    if incident.kind.startswith("tone"):
        return [incident.kind]
    if incident.size >= 5 and incident.extra_peak_hour >= 30:
        names.append("crisis-grade (>=5x, >=30 extra/h)")
        names.append(
            "crisis-grade, >=5/h watches" if incident.level >= 5 else "crisis-grade, <=2/h watches"
        )
    if incident.size == 3:
        names.append("3x")
        names.append("3x, >=5/h watches" if incident.level >= 5 else "3x, <=2/h watches")
        if incident.extra_peak_hour >= 30:
            names.append("3x, >=30 extra/h")
    if incident.size <= 2:
        names.append("<=2x (not asked)")
    return names


def table(rows_by_detector, false_alarms):
    order = [
        "crisis-grade (>=5x, >=30 extra/h)",
        "crisis-grade, >=5/h watches",
        "crisis-grade, <=2/h watches",
        "3x",
        "3x, >=5/h watches",
        "3x, <=2/h watches",
        "3x, >=30 extra/h",
        "<=2x (not asked)",
        "tone",
        "tone+volume",
    ]
    lines = [
        "| detector | class | incidents | detected | median delay | p90 delay | one signal |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for name, results in rows_by_detector.items():
        for cls in order:
            chosen = [r for r in results if cls in classes(r[0])]
            if not chosen:
                continue
            delays = [r[1] for r in chosen if r[1] is not None]
            one = [r for r in chosen if r[2] == 1]
            med = f"{np.median(delays):.0f} min" if delays else "-"
            p90 = f"{np.percentile(delays, 90):.0f} min" if delays else "-"
            lines.append(
                f"| {name} | {cls} | {len(chosen)} | {100 * len(delays) / len(chosen):.0f}% "
                f"| {med} | {p90} | {100 * len(one) / len(chosen):.0f}% |"
            )
    lines.append("")
    lines.append("| detector | false alarms per watch per week |")
    lines.append("|---|---:|")
    for name, value in false_alarms.items():
        lines.append(f"| {name} | {value:.2f} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=2, help="stream seed (tuned on 1)")
    parser.add_argument("--weeks", type=int, default=3, help="scored weeks (after 2 of history)")
    parser.add_argument("--replicas", type=int, default=3, help="watches per volume level")
    parser.add_argument("--min-count", type=int, default=10)
    parser.add_argument("--deviations", type=float, default=4.0)
    parser.add_argument(
        "--product-only", action="store_true", help="skip the references and ceilings"
    )
    parser.add_argument(
        "--bursts-without-size",
        action="store_true",
        help="declare the campaign bursts without their expected size (silenced windows)",
    )
    args = parser.parse_args(argv)
    began = time.monotonic()
    rng = np.random.default_rng(args.seed)
    total_weeks = args.weeks + WARMUP_WEEKS
    watches = [
        make_watch(rng, level, total_weeks, i, None if args.bursts_without_size else 4.0)
        for i, level in enumerate(level for level in LEVELS for _ in range(args.replicas))
    ]
    rules = detection.Rules(
        volume_deviations=args.deviations,
        volume_min_count=args.min_count,
        tone_shift_points=TONE_RULES,
        tone_min_scored=25,
    )
    product = [run_product(watch, rules) for watch in watches]
    product_time = time.monotonic() - began
    results = {"product": score(product, watches, args.weeks)}
    first = WARMUP_WEEKS * WEEK
    grids = {
        "ratio (hour vs previous hour)": ("ratio", [1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]),
        "robust z (24 hourly windows)": ("z", [3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30]),
        "vendor (hour vs past 12 h mean)": ("vendor", [1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]),
    }
    budget = results["product"][1]
    if args.product_only:
        grids = {}
    for name, (kind, grid) in grids.items():
        chosen = None
        for threshold in grid:  # most sensitive first
            opened = [
                episodes_of(
                    reference_alarms(
                        kind, visible_series(*w[:3], w[3], len(w[0]))[0], threshold, args.min_count
                    ),
                    first,
                )
                for w in watches
            ]
            scored = score(opened, watches, args.weeks)
            chosen = (threshold, scored)
            if scored[1] <= budget:
                break
        results[f"{name} @ {chosen[0]}"] = chosen[1]
    # Ceilings: CUSUMs that know the generator, calibrated the same way (each on its own
    # to the product's whole false-alarm budget, which the product shares between volume
    # and tone): no detector can do better on this stream.
    ceilings = {
        "ceiling: volume CUSUM for 2x": ("volume", 2.0),
        "ceiling: volume CUSUM for 3x": ("volume", 3.0),
        "ceiling: volume CUSUM for 5x": ("volume", 5.0),
        "ceiling: tone CUSUM for 50%": ("tone", 0.5),
    }
    for name, (kind, design) in ({} if args.product_only else ceilings).items():
        statistics = [ceiling_statistics(kind, w, design) for w in watches]
        chosen = None
        for threshold in (2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 14, 16, 20, 25, 30, 40, 50):
            opened = [episodes_of(s >= threshold, first) for s in statistics]
            scored = score(opened, watches, args.weeks)
            chosen = (threshold, scored)
            if scored[1] <= budget:
                break
        results[f"{name} @ {chosen[0]}"] = chosen[1]
    incidents = sum(len(w[4]) for w in watches)
    print(
        f"seed {args.seed}: {len(watches)} watches ({', '.join(map(str, LEVELS))}/h x "
        f"{args.replicas}), {args.weeks} scored weeks after {WARMUP_WEEKS} of history, "
        f"{incidents} incidents, {sum(w[6] for w in watches)} duplicates dropped; "
        f"product detector {product_time:.0f} s, total {time.monotonic() - began:.0f} s\n"
    )
    print(
        table(
            {name: value[0] for name, value in results.items()},
            {name: value[1] for name, value in results.items()},
        )
    )


if __name__ == "__main__":
    main()
