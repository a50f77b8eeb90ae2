"""The targets fastnn must reach, judged against this run's measurements."""

from systems import PEERS

TARGET_THREADS = 2


def verdict(ok):
    return "met" if ok else "NOT met"


def evaluate_targets(cases, rows, ceilings, predict_rows, memory_rows):
    """Each target the lead must reach, with the measured value; the per-row ones are also
    attached to the fastnn rows of the table (row['target'])."""
    targets = []
    by_key = {(r["case"], r["threads"], r["system"]): r for r in rows}
    for case in cases:
        for r in (r for r in rows if r["case"] == case.name and r["system"] == "fastnn"):
            t = r["threads"]
            notes = []
            peers = [p for p in ([case.speedup_vs] if case.speedup_vs else PEERS)
                     if (case.name, t, p) in by_key]
            # The issue sets the peer ratios "on this 2-core machine, threads=2"; 1-thread ratios
            # are shown in the table but are not targets.
            if case.min_speedup and peers and t == TARGET_THREADS:
                best = min(peers, key=lambda p: by_key[(case.name, t, p)]["seconds_per_epoch"])
                value = by_key[(case.name, t, best)]["seconds_per_epoch"] / r["seconds_per_epoch"]
                label = (f"≥{case.min_speedup:g}× vs {best}" if case.speedup_vs
                         else f"≥{case.min_speedup:g}× vs faster peer ({best})")
                notes.append((f"{label}: {value:.2f}×", value >= case.min_speedup))
            if case.min_ceiling_fraction and t == 2 and 2 in ceilings:
                value = r["gflops"] / ceilings[2]["eigen"]
                notes.append((f"≥{case.min_ceiling_fraction:.0%} of 2-thread GEMM ceiling: "
                              f"{value:.0%}", value >= case.min_ceiling_fraction))
            if case.min_thread_scaling and t == 2 and (case.name, 1, "fastnn") in by_key:
                one_thread = by_key[(case.name, 1, "fastnn")]["seconds_per_epoch"]
                value = one_thread / r["seconds_per_epoch"]
                notes.append((f"1→2 threads ≥{case.min_thread_scaling:g}×: {value:.2f}×",
                              value >= case.min_thread_scaling))
            r["target"] = "; ".join(f"{text} {verdict(ok)}" for text, ok in notes)
            targets += [dict(scope=f"{case.name}, {t} thr", target=text, met=ok)
                        for text, ok in notes]
    for p in (p for p in predict_rows if p["system"] == "fastnn"):
        ok = p["predict_1row_us"] <= 5.0
        p["target"] = f"≤5 µs: {verdict(ok)}"
        targets.append(dict(scope=f"predict, {p['threads']} thr",
                            target=f"single-row predict ≤5 µs: {p['predict_1row_us']:.1f} µs",
                            met=ok))
    for m in (m for m in memory_rows if m["system"] == "fastnn"):
        ok = m["increase_mb"] <= m["data_mb"] + 100
        m["target"] = f"≤ data + 100 MB: {verdict(ok)}"
        targets.append(dict(scope="memory, mnist fit",
                            target=f"peak fit RSS increase ≤ data ({m['data_mb']:.0f} MB)"
                                   f" + 100 MB: {m['increase_mb']:.0f} MB", met=ok))
    return targets
