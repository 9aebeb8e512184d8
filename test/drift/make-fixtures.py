"""Writes the reference fixtures that @tidemark/drift's unit tests compare against (to 1e-6).

Samples come from numpy's seeded generator and are stored in the fixtures next to the values scipy computes
from them, so the TypeScript tests need neither Python nor numpy's generator. Run through make-fixtures.sh.
"""
import json
import sys
from pathlib import Path

import numpy as np
import scipy
from scipy import special, stats
from scipy.spatial.distance import jensenshannon

OUT = Path(sys.argv[1])
OUT.mkdir(parents=True, exist_ok=True)
META = {"numpy": np.__version__, "scipy": scipy.__version__, "generator": "test/drift/make-fixtures.py"}
OTHER = "__other__"
PSI_EPSILON = 1e-4


def rounded(xs, digits=6):
    # Rounded so the fixtures stay small; the references are computed from exactly these values.
    return [float(round(float(x), digits)) for x in xs]


def write(name, cases):
    path = OUT / f"{name}.json"
    path.write_text(json.dumps({"meta": META, "cases": cases}, separators=(",", ":")) + "\n")
    print(f"wrote {path} ({len(cases)} cases)")


def ks_cases():
    rng = np.random.default_rng(20240607)
    specs = [
        ("equal n, same distribution", lambda: rng.normal(0, 1, 200), lambda: rng.normal(0, 1, 200)),
        ("equal n, location shift", lambda: rng.normal(0, 1, 1000), lambda: rng.normal(0.15, 1, 1000)),
        ("unequal n, scale change", lambda: rng.normal(0, 1, 300), lambda: rng.normal(0, 1.5, 250)),
        ("tiny samples", lambda: rng.normal(0, 1, 5), lambda: rng.normal(1, 1, 7)),
        ("integer ties", lambda: rng.poisson(4, 400), lambda: rng.poisson(4.4, 600)),
        ("equal n 5000", lambda: rng.lognormal(8, 1, 5000), lambda: rng.lognormal(8.02, 1, 5000)),
        ("unequal n 2000 vs 1500, same", lambda: rng.gamma(2, 3, 2000), lambda: rng.gamma(2, 3, 1500)),
        ("asymp large vs small", lambda: rng.normal(0, 1, 10001), lambda: rng.normal(0.3, 1, 60)),
        ("asymp 12000 vs 3000 shift", lambda: rng.normal(0, 1, 12000), lambda: rng.normal(0.05, 1, 3000)),
        ("asymp 11000 vs 11000 same", lambda: rng.exponential(1, 11000), lambda: rng.exponential(1, 11000)),
        ("disjoint", lambda: rng.uniform(0, 1, 50), lambda: rng.uniform(2, 3, 40)),
    ]
    cases = []
    for name, fa, fb in specs:
        a, b = rounded(fa(), 4), rounded(fb(), 4)
        r = stats.ks_2samp(a, b)
        cases.append({
            "name": name, "a": a, "b": b,
            "statistic": float(r.statistic), "pvalue": float(r.pvalue),
            "location": float(r.statistic_location), "sign": int(r.statistic_sign),
            "method": "exact" if max(len(a), len(b)) <= 10000 else "asymp",
        })
        r2 = stats.ks_2samp(a, b, method="asymp")
        cases[-1]["asymp"] = {"statistic": float(r2.statistic), "pvalue": float(r2.pvalue)}
    return cases


def kstwo_cases():
    cases = []
    for n in [1, 2, 3, 5, 10, 50, 100, 140, 141, 500, 1000, 5000, 50000, 200000]:
        for x in [0.0005, 0.001, 0.003, 0.01, 0.02, 0.03, 0.05, 0.08, 0.1, 0.15, 0.2, 0.3, 0.45, 0.5, 0.7, 0.9, 0.999]:
            cases.append({"n": n, "x": x, "sf": float(stats.kstwo.sf(x, n))})
    return cases


def smirnov_cases():
    cases = []
    for n in [1, 2, 5, 10, 40, 141, 1000, 20000]:
        for d in [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.95]:
            cases.append({"n": n, "d": d, "sf": float(special.smirnov(n, d))})
    return cases


def chi2_cases():
    cases = []
    for df in [1, 2, 3, 5, 9, 20, 50, 101]:
        for x in [0.0, 0.01, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 150, 400]:
            cases.append({"x": x, "df": df, "sf": float(stats.chi2.sf(x, df))})
    return cases


def chisquare_cases():
    rng = np.random.default_rng(7)
    cases = []
    for k, n, shift in [(2, 50, 0), (3, 500, 0), (5, 1000, 0.05), (8, 2000, 0), (12, 300, 0.2), (20, 10000, 0.01)]:
        p = rng.dirichlet(np.ones(k) * 5)
        q = p + shift * rng.uniform(-1, 1, k)
        q = np.clip(q, 1e-3, None)
        q = q / q.sum()
        obs = rng.multinomial(n, q).astype(float)
        exp = p * n
        exp = exp * (obs.sum() / exp.sum())
        r = stats.chisquare(obs, exp)
        cases.append({"observed": obs.tolist(), "expected": exp.tolist(),
                      "statistic": float(r.statistic), "pvalue": float(r.pvalue)})
    return cases


def mood_cases():
    rng = np.random.default_rng(20261203)
    cases = []
    specs = [
        ("same distribution", rng.normal(0, 1, 60), rng.normal(0, 1, 80)),
        ("2x scale", rng.normal(0, 1, 100), rng.normal(0, 2, 100)),
        ("narrower window", rng.normal(5, 3, 400), rng.normal(5, 1, 250)),
        ("location shift only", rng.normal(0, 1, 300), rng.normal(0.5, 1, 300)),
        ("ties: rounded sizes", np.round(rng.lognormal(8, 1, 200), -3), np.round(rng.lognormal(8, 1.5, 150), -3)),
        ("many zeros", np.where(rng.uniform(size=120) < 0.3, 0, rng.normal(10, 2, 120)),
         np.where(rng.uniform(size=90) < 0.5, 0, rng.normal(10, 2, 90))),
        ("three values", [1.0, 2.0], [3.5]),
        ("large, far tail", rng.normal(0, 1, 1000), rng.normal(0, 3, 1000)),
    ]
    for name, a, b in specs:
        a = rounded(a)
        b = rounded(b)
        r = stats.mood(a, b)
        cases.append({"name": name, "a": a, "b": b, "statistic": float(r.statistic), "pvalue": float(r.pvalue)})
    return cases


def homogeneity_cases():
    rng = np.random.default_rng(11)
    cases = []
    for k, n, m, shift in [(2, 50, 60, 0), (5, 1000, 300, 0), (6, 80, 2000, 0.1), (12, 300, 300, 0.3),
                           (20, 50, 50, 0)]:
        p = rng.dirichlet(np.ones(k))
        q = np.clip(p + shift * rng.uniform(-1, 1, k), 1e-3, None)
        q = q / q.sum()
        a = rng.multinomial(n, p)
        b = rng.multinomial(m, q)
        keep = (a + b) > 0
        r = stats.chi2_contingency(np.array([a[keep], b[keep]]), correction=False)
        cases.append({"a": a.tolist(), "b": b.tolist(), "statistic": float(r.statistic),
                      "pvalue": float(r.pvalue), "df": int(r.dof)})
    return cases


def js_cases():
    rng = np.random.default_rng(11)
    cases = []
    for k in [2, 3, 6, 15]:
        for zeros in [False, True]:
            p = rng.uniform(0, 10, k)
            q = rng.uniform(0, 3, k)
            if zeros:
                p[0] = 0
                q[-1] = 0
            for base in [2.0, float(np.e)]:
                cases.append({"p": p.tolist(), "q": q.tolist(), "base": base,
                              "distance": float(jensenshannon(p, q, base=base))})
    cases.append({"p": [1, 0], "q": [0, 1], "base": 2.0, "distance": float(jensenshannon([1, 0], [0, 1], base=2))})
    cases.append({"p": [3, 1], "q": [6, 2], "base": 2.0, "distance": float(jensenshannon([3, 1], [6, 2], base=2))})
    return cases


def psi_reference(baseline, current, bins, eps=PSI_EPSILON):
    """Reference PSI: inner edges = baseline quantiles i/bins (numpy 'linear'), duplicates dropped,
    right-closed bins (searchsorted side='left'), zero shares replaced by eps."""
    baseline = np.asarray(baseline, dtype=float)
    current = np.asarray(current, dtype=float)
    qs = np.linspace(0, 1, bins + 1)[1:-1]
    edges = np.unique(np.quantile(baseline, qs))
    b = np.bincount(np.searchsorted(edges, baseline, side="left"), minlength=len(edges) + 1) / len(baseline)
    c = np.bincount(np.searchsorted(edges, current, side="left"), minlength=len(edges) + 1) / len(current)
    bb = np.where(b == 0, eps, b)
    cc = np.where(c == 0, eps, c)
    return float(np.sum((cc - bb) * np.log(cc / bb))), edges.tolist(), b.tolist(), c.tolist()


def psi_cases():
    rng = np.random.default_rng(99)
    specs = [
        ("same distribution", 10, lambda: rng.normal(0, 1, 5000), lambda: rng.normal(0, 1, 2000)),
        ("location shift, 10 bins", 10, lambda: rng.normal(0, 1, 5000), lambda: rng.normal(0.5, 1, 2000)),
        ("location shift, 5 bins", 5, lambda: rng.normal(0, 1, 5000), lambda: rng.normal(0.5, 1, 2000)),
        ("location shift, 20 bins", 20, lambda: rng.normal(0, 1, 5000), lambda: rng.normal(0.5, 1, 2000)),
        ("scale change", 10, lambda: rng.normal(0, 1, 3000), lambda: rng.normal(0, 2, 3000)),
        ("far shift leaves empty bins", 10, lambda: rng.normal(0, 1, 1000), lambda: rng.normal(10, 1, 500)),
        ("ties: many zeros", 10, lambda: np.where(rng.uniform(size=4000) < 0.35, 0, rng.integers(1, 50, 4000)),
         lambda: np.where(rng.uniform(size=3000) < 0.6, 0, rng.integers(1, 50, 3000))),
        ("constant baseline", 10, lambda: np.full(100, 7.0), lambda: rng.integers(6, 9, 80)),
        ("3 bins lognormal", 3, lambda: rng.lognormal(6, 2, 2000), lambda: rng.lognormal(6.3, 2, 2000)),
    ]
    cases = []
    for name, bins, fb, fc in specs:
        b, c = rounded(fb(), 4), rounded(fc(), 4)
        value, edges, bs, cs = psi_reference(b, c, bins)
        cases.append({"name": name, "bins": bins, "baseline": b, "current": c, "psi": value,
                      "edges": edges, "baselineShares": bs, "currentShares": cs})
    return cases


def compare_categories(baseline, window, top_k, smoothing=0.5):
    """Reference for compareCategories in packages/drift/src/compare/categories.ts."""
    nb = sum(baseline.values())
    nw = sum(window.values())
    names = sorted((set(baseline) | set(window)) - {OTHER})
    score = {c: max(baseline.get(c, 0) / nb, window.get(c, 0) / nw) for c in names}
    ranked = sorted(names, key=lambda c: (-score[c], c))
    kept, rest = ranked[:top_k], ranked[top_k:]
    other_b = baseline.get(OTHER, 0) + sum(baseline.get(c, 0) for c in rest)
    other_w = window.get(OTHER, 0) + sum(window.get(c, 0) for c in rest)
    cats = list(kept) + ([OTHER] if other_b + other_w > 0 else [])
    b = np.array([other_b if c == OTHER else baseline.get(c, 0) for c in cats], dtype=float)
    w = np.array([other_w if c == OTHER else window.get(c, 0) for c in cats], dtype=float)
    k = len(cats)
    expected = nw * (b + smoothing) / (nb + smoothing * k)
    chi = stats.chisquare(w, expected)
    keep = (b + w) > 0
    hom = stats.chi2_contingency(np.array([b[keep], w[keep]]), correction=False)
    return {"categories": cats, "statistic": float(chi.statistic), "pvalue": float(chi.pvalue),
            "df": k - 1, "js": float(jensenshannon(b, w, base=2)),
            "homogeneity": {"statistic": float(hom.statistic), "pvalue": float(hom.pvalue), "df": int(hom.dof)}}


def category_cases():
    rng = np.random.default_rng(5)
    langs = ["en", "de", "fr", "es", "it", "nl", "pt", "sv", "pl", "ja", "zh", "ko"]
    cases = []

    def counts(p, n, names):
        return {c: int(v) for c, v in zip(names, rng.multinomial(n, p)) if v > 0}

    p = rng.dirichlet(np.ones(len(langs)) * 2)
    specs = [
        ("same distribution", 20, counts(p, 5000, langs), counts(p, 1000, langs)),
        ("same distribution, top 4", 4, counts(p, 5000, langs), counts(p, 1000, langs)),
        ("new category und", 20, counts(p, 5000, langs), {**counts(p, 600, langs), "und": 400}),
        ("new category beyond top-K", 3, counts(p, 5000, langs), {**counts(p, 600, langs), "und": 400}),
        ("category vanished", 20, {**counts(p, 4000, langs), "policy": 1000}, counts(p, 1000, langs)),
        ("with other bucket", 5, {**counts(p, 4000, langs), OTHER: 120}, {**counts(p, 900, langs), OTHER: 40}),
        ("two categories", 20, {"public": 700, "internal": 300}, {"public": 640, "internal": 360}),
    ]
    for name, top_k, base, win in specs:
        cases.append({"name": name, "topK": top_k, "baseline": base, "window": win,
                      **compare_categories(base, win, top_k)})
    return cases


write("ks2samp", ks_cases())
write("kstwo", kstwo_cases())
write("smirnov", smirnov_cases())
write("chi2", chi2_cases())
write("chisquare", chisquare_cases())
write("mood", mood_cases())
write("homogeneity", homogeneity_cases())
write("jensenshannon", js_cases())
write("psi", psi_cases())
write("categories", category_cases())
