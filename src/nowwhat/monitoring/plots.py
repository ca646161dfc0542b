"""The chapter's figures: what Prometheus saw over the run, and each drift feature's distributions."""

from __future__ import annotations

LATENCY = 'review_api_request_duration_seconds_bucket{route="/v1/predict"}'

#: The dashboard a team would build: panel title → {line: the PromQL behind it} (a line named "" takes its
#: name from the series' `label`).
DASHBOARD = {
    "requests per second": {"all routes": "sum(rate(review_api_requests_total[5s]))"},
    "latency of /v1/predict (ms)": {
        f"p{q * 100:g}": f"histogram_quantile({q}, sum by (le) (rate({LATENCY}[5s]))) * 1000"
        for q in (0.5, 0.99)
    },
    "refused share (4xx)": {
        "refused": 'sum(rate(review_api_requests_total{status=~"4.."}[5s]))'
        " / sum(rate(review_api_requests_total[5s]))"
    },
    "label mix (share of predictions)": {
        "": "sum by (label) (rate(review_api_predictions_total[5s]))"
        " / ignoring(label) group_left sum(rate(review_api_predictions_total[5s]))"
    },
}


def dashboard(prometheus, start: float, end: float, step: float = 0.5):
    """Each DASHBOARD panel over [start, end], from Prometheus' range queries."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(DASHBOARD), figsize=(15, 3))
    for ax, (title, lines) in zip(axes, DASHBOARD.items(), strict=True):
        for line, query in lines.items():
            for series in prometheus.query_range(query, start, end, step):
                name = line or series["metric"].get("label")
                ax.plot([t - start for t in series["times"]], series["values"], label=name)
        ax.set(title=title, xlabel="seconds into the run")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def distributions(features: dict[str, dict[str, list]], report: dict[str, dict]):
    """One panel per drift feature, the reference against each sample, with each sample's verdict: the
    cumulative share for numbers (the Kolmogorov-Smirnov test measures the largest vertical gap between
    two such curves), the share of each label for labels."""
    import matplotlib.pyplot as plt
    import numpy as np

    names = list(next(iter(report.values()))["features"])
    fig, axes = plt.subplots(1, len(names), figsize=(4 * len(names), 3.4))
    labels = sorted(set().union(*(set(c["label"]) for c in features.values())))
    for ax, name in zip(axes, names, strict=True):
        for position, (sample, columns) in enumerate(features.items()):
            values = columns[name]
            if name == "label":
                shares = [values.count(x) / len(values) for x in labels]
                ax.bar(np.arange(len(labels)) + position * 0.25, shares, width=0.25, label=sample)
                ax.set_xticks(np.arange(len(labels)) + 0.25, labels)
                ax.set_ylabel("share of predictions")
            else:
                ordered = np.sort(values)
                ax.step(ordered, np.arange(1, len(ordered) + 1) / len(ordered), where="post", label=sample)
                ax.set_ylabel("share of the sample at or below")
        if name == "text_chars":
            ax.set_xscale("log")
        verdicts = []
        for sample, result in report.items():
            feature = result["features"][name]
            verdicts.append(
                f"{sample}: {'DRIFT' if feature['drifted'] else 'same'} (p={feature['p_value']:.2g})"
            )
        ax.set_title(f"{name}\n{', '.join(verdicts)}", fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
