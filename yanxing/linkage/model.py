"""Fellegi–Sunter weights learned from the data, without labels.

For each comparison and level: m = P(level | same person), u = P(level | different people).
m, u and the share of matches among candidate pairs come from expectation–maximisation over the
candidate pairs, which the blocking keys make rich in matches. A pair's weight is log2 of the prior odds plus the sum of
log2(m/u) over the fields present; its score is the posterior probability.

Frequent names count for less: an exact name agreement is weighed against how often that name
occurs (u of the name itself, not the average), so that two 王伟 agree less than two 冉懿.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .compare import COMPARISONS, NAME, VILLAGE

#: Never let a probability reach 0 or 1: unseen levels keep some weight.
FLOOR = 1e-6
NAME_COLUMN = COMPARISONS.index(NAME)
VILLAGE_COLUMN = COMPARISONS.index(VILLAGE)

#: m and u for tables too small to learn from (a village's list, one report-in), set by hand:
#: m from the error rates of self-registration (a few per cent of homophones, ID slips, changed
#: phones and employers), u from how often two different people of one county agree by chance
#: (random pairs, not namesakes), so that these weights lean on the rules in engine.may_match
#: and on review by a person; see docs/linkage.md. EM also starts from DEFAULT_M.
DEFAULT_M = {
    "id_number": [0.0, 0.95, 0.03, 0.015, 0.005],
    "name": [0.0, 0.88, 0.06, 0.02, 0.02, 0.02],
    "birth_date": [0.0, 0.94, 0.02, 0.01, 0.01, 0.02],
    "sex": [0.0, 0.99, 0.01],
    "phone": [0.0, 0.7, 0.3],
    "home_village": [0.0, 0.7, 0.2, 0.1],
    "city": [0.0, 0.85, 0.15],
    "employer": [0.0, 0.6, 0.2, 0.2],
}
DEFAULT_U = {
    "id_number": [0.0, 1e-6, 1e-5, 0.05, 0.95],
    "name": [0.0, 1e-4, 1e-4, 2e-4, 3e-3, 0.9966],
    "birth_date": [0.0, 5e-5, 5e-4, 1e-5, 2e-3, 0.99744],
    "sex": [0.0, 0.5, 0.5],
    "phone": [0.0, 1e-6, 0.999999],
    "home_village": [0.0, 5e-3, 1e-3, 0.994],
    "city": [0.0, 0.1, 0.9],
    "employer": [0.0, 1e-3, 1e-3, 0.998],
}
DEFAULT_PRIOR = 0.3
#: Below these sizes EM has too little to learn from and the default model is used.
MIN_PAIRS_TO_LEARN = 5_000
MIN_RECORDS_TO_LEARN = 1_000


@dataclass
class Model:
    m: list[np.ndarray]
    u: list[np.ndarray]
    #: Share of same-person pairs among candidate pairs (the prior for a candidate).
    prior: float
    iterations: int
    #: Chance that two random records share a name (for the name-frequency adjustment).
    name_agreement: float | None = None

    def level_weights(self) -> list[np.ndarray]:
        """log2(m/u) per comparison and level (0 for the missing level)."""
        weights = []
        for m, u in zip(self.m, self.u, strict=True):
            w = np.log2(np.maximum(m, FLOOR) / np.maximum(u, FLOOR))
            w[0] = 0.0
            weights.append(w)
        return weights


def default_model() -> Model:
    return Model(
        m=[np.array(DEFAULT_M[c.field], dtype=float) for c in COMPARISONS],
        u=[np.array(DEFAULT_U[c.field], dtype=float) for c in COMPARISONS],
        prior=DEFAULT_PRIOR,
        iterations=0,
    )


def level_shares(levels: np.ndarray, counts: np.ndarray | None = None) -> list[np.ndarray]:
    """Share of each level among pairs where the field is present, per comparison."""
    shares = []
    for k, comparison in enumerate(COMPARISONS):
        size = len(comparison.levels)
        tally = np.bincount(levels[:, k], weights=counts, minlength=size)[:size].astype(float)
        tally[0] = 0.0
        total = tally.sum()
        shares.append(tally / total if total else np.full(size, 1.0 / max(size - 1, 1)))
    return shares


def encode(levels: np.ndarray) -> np.ndarray:
    """One integer per comparison pattern (levels are below 8: three bits each)."""
    code = np.zeros(len(levels), dtype=np.int64)
    for k in range(levels.shape[1]):
        code |= levels[:, k].astype(np.int64) << (3 * k)
    return code


def decode(codes: np.ndarray, width: int) -> np.ndarray:
    return np.stack([(codes >> (3 * k)) & 7 for k in range(width)], axis=1).astype(np.int8)


def fit(
    levels: np.ndarray,
    name_agreement: float | None = None,
    *,
    max_iterations: int = 60,
    tolerance: float = 1e-5,
) -> Model:
    """EM for m, u and the share of matches over the distinct patterns of candidate pairs.

    u is learned among the candidates too: the people a candidate pair wrongly brings together
    (namesakes of one village, one surname and birthday) agree far more often than random
    pairs, and they are the pairs a decision has to tell apart. ``name_agreement`` (of random
    pairs) is kept for the name-frequency adjustment."""
    codes, counts = np.unique(encode(levels), return_counts=True)
    patterns = decode(codes, levels.shape[1])
    counts = counts.astype(float)
    m = [np.array(DEFAULT_M[c.field], dtype=float) for c in COMPARISONS]
    u = level_shares(patterns, counts)
    prior = 0.3
    iterations = 0
    for iterations in range(1, max_iterations + 1):  # noqa: B007
        log_m = sum(
            np.log(np.maximum(m[k][patterns[:, k]], FLOOR)) * (patterns[:, k] > 0)
            for k in range(len(m))
        )
        log_u = sum(
            np.log(np.maximum(u[k][patterns[:, k]], FLOOR)) * (patterns[:, k] > 0)
            for k in range(len(u))
        )
        odds = np.log(prior) - np.log1p(-prior) + log_m - log_u
        posterior = 1.0 / (1.0 + np.exp(-np.clip(odds, -700, 700)))
        new_m = level_shares(patterns, posterior * counts)
        new_u = level_shares(patterns, (1 - posterior) * counts)
        new_prior = float((posterior * counts).sum() / counts.sum())
        change = max(float(np.abs(x - y).max()) for x, y in zip(new_m + new_u, m + u, strict=True))
        m = [np.maximum(x, FLOOR) for x in new_m]
        u = [np.maximum(x, FLOOR) for x in new_u]
        prior = min(max(new_prior, 1e-6), 1 - 1e-6)
        if change < tolerance:
            break
    return Model(m=m, u=u, prior=prior, iterations=iterations, name_agreement=name_agreement)


def pair_weights(
    model: Model,
    levels: np.ndarray,
    name_frequency: np.ndarray,
    village_namesakes: np.ndarray | None = None,
) -> np.ndarray:
    """Total log2 weight per pair, with the exact-name weight adjusted for the name's frequency.

    ``name_frequency`` is, per pair, the share of records on the left that carry the left
    record's name."""
    weights = model.level_weights()
    total = np.full(len(levels), np.log2(model.prior / (1 - model.prior)))
    for k, w in enumerate(weights):
        total += w[levels[:, k]]
    exact_name = levels[:, NAME_COLUMN] == 1
    if exact_name.any():
        u_exact = model.name_agreement or model.u[NAME_COLUMN][1]
        # Only ever less: a name rarer than average is not better evidence than the model says.
        u_name = np.maximum(name_frequency[exact_name], u_exact)
        total[exact_name] += np.log2(u_exact / u_name)
    if village_namesakes is not None:
        # Where the village agrees too, what counts is how many people of that name the
        # village has, not the county: the evidence is shared among the village's namesakes.
        in_village = exact_name & np.isin(levels[:, VILLAGE_COLUMN], (1, 2))
        u_exact = model.name_agreement or model.u[NAME_COLUMN][1]
        u_name = np.maximum(name_frequency[in_village], u_exact)
        total[in_village] -= np.log2(u_exact / u_name)
        total[in_village] -= np.log2(np.maximum(village_namesakes[in_village], 1))
    return total


def probability(weight: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp2(-np.clip(weight, -60, 60)))
