"""The report: the markdown tables of results.md and the time-per-epoch plot."""

from ceiling import fraction_of_ceiling
from systems import SYSTEMS, rows_by_key
from targets import verdict


def _fmt_rate(x):
    return f"{x / 1e6:.2f} M" if x >= 1e6 else f"{x / 1e3:.1f} k" if x >= 1e3 else f"{x:.0f}"


def _fmt_sec(s):
    if s >= 1:
        return f"{s:.2f}"
    if s >= 1e-3:
        return f"{s * 1e3:.1f} ms"
    return f"{s * 1e6:.0f} µs"


def header_lines(res):
    m, c = res["machine"], res["ceilings"]
    load = lambda t: " / ".join(f"{x:.2f}" for x in t)  # noqa: E731
    lines = [
        f"- date: {m['date']}; command: `{res['command']}`",
        f"- machine: {m['cpu']}, {m['logical_cpus']} logical CPUs ({m['usable_cpus']} usable), "
        f"{m['memory_gb']} GB RAM; {m['os']}",
        f"- load average (1/5/15 min) at start {load(m['loadavg_start'])}, "
        f"at end {load(m['loadavg_end'])}",
        f"- versions: Python {m['python']}, numpy {m['numpy']} ({m['numpy_blas']}), "
        f"scipy {m['scipy']}, scikit-learn {m['sklearn']}, PyTorch {m['torch'] or 'absent'}, "
        f"fastnn {m['fastnn']} (git {m['fastnn_commit']}, _core built {m['fastnn_core_built']}, "
        f"OpenMP {m['fastnn_openmp']})",
        f"- threads: {', '.join(map(str, res['threads']))}; repeats: {res['repeats']} "
        f"(median); systems interleaved per repeat"
        + ("; **quick smoke run**" if res["quick"] else ""),
    ]
    shape = "×".join(map(str, c["shape"]))
    lines.append(f"- GEMM ceiling, float32 {shape} (best of {c['calls']} calls of {c['repeats']} "
                 "products, at the start and at the end of the run):")
    for t, g in c["gflops"].items():
        lines.append(f"  - {t} thread(s): Eigen (fastnn's flags, one single-threaded product per "
                     f"thread) **{g['eigen']:.1f} GFLOP/s**; numpy `@` {g['numpy']:.1f} GFLOP/s")
    if m["torch"] is None:
        lines.append("- **PyTorch not installed: its column is skipped.**")
    return lines


def rows_above_ceiling(res):
    """Training rows faster than the same-run GEMM ceiling at their thread count.

    The FLOP count (cases.training_flops_per_sample) counts only the flops of the products a
    training step must do, and the ceiling is the rate of such a product on this machine: a
    row above it is a counting bug, never a result. render_markdown flags each one and run.py
    exits with status 1.
    """
    ceilings = _ceilings(res)
    return [r for r in res["rows"] if (fraction_of_ceiling(r, ceilings) or 0.0) > 1.0]


def _ceilings(res):
    """threads -> GEMM ceilings (int keys, also when res was read back from results.json)."""
    return {int(t): g for t, g in res["ceilings"]["gflops"].items()}


def _fmt_fraction(fraction):
    if fraction is None:
        return "—"
    if fraction > 1.0:
        return f"**{fraction:.1%}: COUNTING BUG**"
    return f"{fraction:.1%}"


def training_table(res):
    ceilings = _ceilings(res)
    by_key = rows_by_key(res["rows"])
    out = ["| case | threads | system | epochs | s/epoch | samples/s | GFLOP/s | % GEMM ceiling "
           "| train acc | fastnn speed-up | target |",
           "| --- | --: | --- | --: | --: | --: | --: | --: | --: | --: | --- |"]
    for r in res["rows"]:
        fast = by_key.get((r["case"], r["threads"], "fastnn"))
        speedup = ("—" if r["system"] == "fastnn" or fast is None
                   else f"{r['seconds_per_epoch'] / fast['seconds_per_epoch']:.2f}×")
        frac = _fmt_fraction(fraction_of_ceiling(r, ceilings))
        name = f"**{r['system']}**" if r["system"] == "fastnn" else r["system"]
        out.append(
            f"| {r['case']} | {r['threads']} | {name} | {r['epochs']} "
            f"| {_fmt_sec(r['seconds_per_epoch'])} | {_fmt_rate(r['samples_per_s'])} "
            f"| {r['gflops']:.2f} | {frac} | {r['accuracy']:.3f} | {speedup} "
            f"| {r.get('target') or ''} |")
    return out


def predict_table(res):
    out = ["| dtype | threads | system | single-row predict (median µs) "
           f"| predict_proba {res['predict'][0]['proba_rows'] if res['predict'] else ''} rows (ms) "
           "| target |", "| --- | --: | --- | --: | --: | --- |"]
    for p in res["predict"]:
        out.append(f"| {p.get('dtype', 'float32')} | {p['threads']} | {p['system']} "
                   f"| {p['predict_1row_us']:.1f} | {p['predict_proba_ms']:.2f} "
                   f"| {p.get('target', '')} |")
    return out


def everyday_table(res):
    out = ["| data (float64) | solver | threads | fastnn | scikit-learn | speed-up | n_iter_ "
           "(fastnn / scikit-learn) | score (fastnn / scikit-learn) | target |",
           "| --- | --- | --: | --: | --: | --: | --: | --: | --- |"]
    for r in res.get("everyday", []):
        f, k = r["fastnn"], r["scikit_learn"]
        out.append(f"| {r['dataset']} | {r['solver']} | {r['threads']} | {_fmt_sec(f['seconds'])} "
                   f"| {_fmt_sec(k['seconds'])} | {r['speedup']:.2f}× "
                   f"| {f['n_iter']} / {k['n_iter']} | {f['score']:.4f} / {k['score']:.4f} "
                   f"| {r.get('target', '')} |")
    a = res.get("after_blas")
    if a:
        out += ["", f"fastnn's digits `adam` fit, {a['threads']} threads: "
                f"{_fmt_sec(a['quiet'])} after a pause, {_fmt_sec(a['after BLAS'])} right after a "
                f"numpy matrix product ({a['ratio']:.2f}×). {a.get('target', '')}"]
    return out


def memory_table(res):
    out = ["| system | data (X.nbytes) | RSS before fit | peak fit RSS increase "
           "| increase / data | target |", "| --- | --: | --: | --: | --: | --- |"]
    for m in res["memory"]:
        out.append(f"| {m['system']} | {m['data_mb']:.0f} MB | {m['rss_before_mb']:.0f} MB "
                   f"| {m['increase_mb']:.1f} MB | {m['increase_mb'] / m['data_mb']:.3f} "
                   f"| {m.get('target', '')} |")
    return out


def case_lines(res):
    out = []
    for c in res["cases"]:
        peer = (f"; peers run {c['peer_epochs']} epochs (time reported per epoch)"
                if c["peer_epochs"] else "")
        outputs = "outputs" if c["multilabel"] else "classes"
        out.append(f"- `{c['name']}`: {c['n_samples']} × {c['n_features']} float32, hidden "
                   f"{tuple(c['hidden'])}, {c['n_classes']} {outputs}, "
                   f"batch {c['batch_size']}, {c['activation']}/{c['solver']}, "
                   f"{c['epochs']} epochs{peer}; {c['n_weights']:,} weights, "
                   f"{c['flops_per_sample']:,} training flops per sample")
    return out


def above_ceiling_lines(res):
    bad = rows_above_ceiling(res)
    if not bad:
        return []
    where = ", ".join(f"{r['case']} {r['threads']} thr {r['system']}" for r in bad)
    return [f"**COUNTING BUG: {len(bad)} row(s) above 100% of the GEMM ceiling ({where}).** "
            "No run can beat the ceiling: the FLOP count (bench/cases.py, "
            "`training_flops_per_sample`) is wrong, and so are every GFLOP/s and % GEMM ceiling "
            "below.", ""]


def render_markdown(res):
    lines = ["# fastnn benchmark results", "", *above_ceiling_lines(res), *header_lines(res),
             "", "## Cases", "",
             *case_lines(res), "", "## Training (seconds per epoch = median fit time / epochs)",
             "", *training_table(res), "",
             "## Inference (models fitted on `small`)", "", *predict_table(res), "",
             "## Everyday fits (scikit-learn's defaults, float64; median fit time)", "",
             *everyday_table(res), "",
             "## Memory (fit `mnist`, one epoch, fresh process)", "", *memory_table(res), "",
             "## Targets", ""]
    for t in res["targets"]:
        lines.append(f"- {t['scope']}: {t['target']} — **{verdict(t['met'])}**")
    n_met = sum(t["met"] for t in res["targets"])
    lines += ["", f"{n_met} of {len(res['targets'])} targets met.", ""]
    lines += [f"Note: {n}" for n in res["notes"]]
    return "\n".join(lines) + "\n"


def plot(res, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = list(dict.fromkeys((r["case"], r["threads"]) for r in res["rows"]))
    systems = [s for s in SYSTEMS if any(r["system"] == s for r in res["rows"])]
    by_key = rows_by_key(res["rows"])
    width = 0.8 / len(systems)
    fig, ax = plt.subplots(figsize=(max(8, 1.1 * len(groups)), 5))
    for i, system in enumerate(systems):
        xs, ys = [], []
        for g, (case, threads) in enumerate(groups):
            r = by_key.get((case, threads, system))
            if r:
                xs.append(g + (i - (len(systems) - 1) / 2) * width)
                ys.append(r["seconds_per_epoch"])
        ax.bar(xs, ys, width, label=system)
    ax.set_yscale("log")
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels([f"{c}\n{t} thr" for c, t in groups])
    ax.set_ylabel("seconds per epoch (log scale, lower is better)")
    ax.set_title("Training time per epoch: fastnn vs scikit-learn vs PyTorch (CPU)")
    ax.grid(axis="y", which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
