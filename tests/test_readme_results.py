"""The README quotes benchmark results; it must quote them as the committed results files hold them.

One number, one home: a result lives in ``benchmarks/results/``. The README's tables are copies for
the reader, so this test re-reads every quoted cell from its source and fails on any difference
(a re-run benchmark whose README was not updated, or a retyped number).
"""

from __future__ import annotations

import json
import re

import pytest

from metalearn_lib.maml_rl import PUBLISHED_MAML_RL
from tests.notebook_tools import REPO_ROOT

README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
RESULTS = REPO_ROOT / "benchmarks" / "results"

#: README row label → the method of ``benchmarks/results/maml_rl_full.json``.
MAML_RL_ROWS = {
    "MAML (LVC inner objective)": "maml",
    "MAML, DiCE inner objective": "maml_dice",
    "MAML, naive inner loss (no sampling term)": "maml_naive",
    "MAML, exact sampling term": "maml_exact",
    "MAML, last iterate (no selection)": "maml_last",
    "pretrained on all goals": "pretrained",
    "pretrained, last iterate (no selection)": "pretrained_last",
    "random initialisation": "random_init",
    "oracle (exact optimum)": "oracle",
}


def _number(text: str) -> float:
    return float(text.replace("−", "-"))


def _table_rows(block_title: str) -> dict[str, list[str]]:
    """``{label: [cells]}`` of the first markdown table after the paragraph starting ``block_title``."""
    start = README.index(block_title)
    lines = README[start:].splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("|"))
    rows = {}
    for line in lines[first + 2:]:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        rows[cells[0]] = cells[1:]
    return rows


def _maml_rl_results() -> dict:
    return json.loads((RESULTS / "maml_rl_full.json").read_text(encoding="utf-8"))


def test_the_maml_rl_table_quotes_the_committed_benchmark():
    results = _maml_rl_results()
    source = {(row["method"], row["steps"]): row for row in results["rows"]}
    rows = _table_rows("**MAML-RL on 2D navigation**")
    unknown = set(rows) - set(MAML_RL_ROWS) - {"MAML, published"}
    assert not unknown, f"README rows with no source in maml_rl_full.json: {sorted(unknown)}"
    quoted_methods = {MAML_RL_ROWS[label] for label in rows if label in MAML_RL_ROWS}
    missing = {method for method, _ in source} - quoted_methods
    assert not missing, f"methods of maml_rl_full.json the README does not quote: {sorted(missing)}"
    for label, cells in rows.items():
        if label == "MAML, published":
            assert [_number(c) for c in cells] == pytest.approx(PUBLISHED_MAML_RL["maml"], abs=5e-3)
            continue
        method = MAML_RL_ROWS[label]
        for steps, cell in enumerate(cells):
            if not cell:
                assert (method, steps) not in source, f"README leaves {label}, k = {steps} empty"
                continue
            mean, ci95 = (_number(part) for part in cell.split("±"))
            row = source[method, steps]
            assert (mean, ci95) == pytest.approx((row["mean_return"], row["ci95"]), abs=5e-3), \
                f"README {label}, k = {steps}: {cell}; maml_rl_full.json: {row['mean_return']:.2f} ± {row['ci95']:.2f}"


def test_the_maml_rl_wall_times_quote_the_committed_benchmark():
    training = {row["method"]: row for row in _maml_rl_results()["training"]}
    block = README[README.index("**MAML-RL on 2D navigation**"):]
    block = block[:block.index("\n\n**") if "\n\n**" in block else len(block)]
    for method, label in (("maml", "MAML trains in"), ("pretrained", "pretrained")):
        seconds = round(training[method]["wall_s"])
        rate = training[method]["meta_iterations"] / training[method]["wall_s"]
        assert re.search(rf"{label} {seconds} s", block), f"README should say '{label} {seconds} s'"
        assert f"{rate:.2f}" in block, f"README should quote {method}'s {rate:.2f} meta-iterations/s"


# --------------------------------------------------------------------------------------------
# chapter 7: meta-RL on MDPs
# --------------------------------------------------------------------------------------------
#: README row label → the policy of ``benchmarks/results/meta_rl_mdps_full.json``.
MDP_ROWS = {
    "random": "random",
    "greedy on the posterior mean (true prior)": "greedy",
    "ε-greedy (true prior; tuned ε = 0)": "epsilon_greedy",
    "PSRL (true prior)": "psrl",
    "UCRL2, finite horizon (tuned widths)": "ucrl2",
    "greedy, the paper's prior": "greedy_paper_prior",
    "ε-greedy, the paper's prior": "epsilon_greedy_paper_prior",
    "PSRL, the paper's prior": "psrl_paper_prior",
    "RL² (A2C, GRU 128)": "rl2",
    "oracle (knows the MDP; exact n·V₀)": "oracle_exact",
}
GRID_ROWS = {"Bayes-optimal (exact DP)": "bayes_optimal", "RL² (A2C, GRU 128)": "rl2",
             "posterior sampling (exact)": "posterior_sampling", "random (exact)": "random"}


def _mdp_results() -> dict:
    return json.loads((RESULTS / "meta_rl_mdps_full.json").read_text(encoding="utf-8"))


def _mdp_block() -> str:
    block = README[README.index("**Meta-RL on MDPs**"):]
    return block[:block.index("\n## ")]


def test_the_tabular_mdp_table_quotes_the_committed_benchmark():
    results = _mdp_results()
    source = {(r["policy"], r["episodes"]): r for r in results["rows"] if r["env"] == "tabular"}
    rows = _table_rows("**Meta-RL on MDPs**")
    assert set(rows) == set(MDP_ROWS), f"README rows {sorted(rows)}"
    quoted = {MDP_ROWS[label] for label in rows}
    assert {policy for policy, _ in source} - {"oracle"} <= quoted  # every policy but the played oracle
    for label, cells in rows.items():
        policy = MDP_ROWS[label]
        for n, cell in zip((10, 25, 50), cells, strict=True):
            published = results["published"][str(n)].get(policy.removesuffix("_paper_prior"))
            match = re.fullmatch(r"(?:(−?[\d.]+) ± ([\d.]+)|not trained)(?: \(([\d.]+)\))?", cell)
            assert match, f"README {label}, n = {n}: {cell!r}"
            if match.group(3) is not None or published is not None:
                assert _number(match.group(3)) == pytest.approx(published), f"{label}, n = {n}: published"
            if (policy, n) not in source:
                assert cell.startswith("not trained"), f"README {label}, n = {n} quotes a row the results lack"
                continue
            row = source[policy, n]
            assert (_number(match.group(1)), _number(match.group(2))) == pytest.approx(
                (row["mean_reward"], row["ci95"]), abs=0.05 + 1e-9), f"README {label}, n = {n}: {cell}"


def test_the_gridworld_table_and_the_rl2_prose_quote_the_committed_benchmark():
    results = _mdp_results()
    source = {r["policy"]: r for r in results["rows"] if r["env"] == "gridworld"}
    rows = _table_rows("task:\n")
    assert set(rows) == set(GRID_ROWS)
    for label, (cell,) in rows.items():
        row = source[GRID_ROWS[label]]
        parts = [_number(p) for p in cell.split("±")]
        assert parts[0] == pytest.approx(row["mean_return"], abs=5e-3 if len(parts) == 2 else 5e-4), label
        if len(parts) == 2:
            assert parts[1] == pytest.approx(row["ci95"], abs=5e-3), label
    block = _mdp_block()
    training = results["rl2_training"]
    from metalearn_lib.meta_rl_mdps import shipped_rl2_info

    for name in ("tabular_n10", "gridworld"):
        info = shipped_rl2_info(name)
        assert f"{info['wall_s'] / 60:.1f} min" in block, f"README should quote {name}'s training time"
        assert f"{info['num_iterations']:,} iterations" in block
        assert training[name]["wall_s"] == pytest.approx(info["wall_s"])
    fraction = source["rl2"]["mean_return"] / source["bayes_optimal"]["mean_return"]
    assert f"{100 * fraction:.1f} %" in block
    assert f"{results['gridworld']['num_belief_states']:,} belief states" in block
    assert results["gridworld"]["bayes_optimal_fraction"] in block


# ----------------------------------------------------------------------------------------------
# chapter 8: applications
# ----------------------------------------------------------------------------------------------
APPLICATION_MULTI_TASK_ROWS = {
    "multi-task, no regularisation": "multi_task_no_reg", "multi-task, ℓ2 (weight decay)": "multi_task_l2",
    "multi-task, regularised to the mean": "multi_task_mean_reg", "pretrained on all tasks": "pretrained",
    "MAML": "maml",
}
APPLICATION_SHIFT_COLUMNS = [("amplitude", 0.0), ("amplitude", 7.5), ("phase", 3.141592653589793), ("input", 2.5),
                             ("square", 0.0), ("line", 0.0)]
APPLICATION_STARTS = {"MAML": "maml", "Meta-SGD": "meta_sgd", "MAML on every phase": "maml_broad",
                      "pretrained": "pretrained", "from scratch": "scratch"}
APPLICATION_ONLINE_ROWS = {"frozen (pretrained)": "frozen", "fine-tuning on": "fine_tune_last",
                           "re-adapting MAML": "maml_readapt", "online meta-learning": "online_meta",
                           "Hedge over regime experts": "hedge", "Hedge with fixed share": "hedge_fixed_share"}
APPLICATION_STREAMS = ["slow_drift", "slow_drift_with_jumps", "wandering_out", "switching"]
APPLICATION_SWITCHING_ROWS = {"RL² trained on switching bandits": "rl2_switching", "UCB1 (tuned)": "ucb1",
                              "sliding-window UCB (tuned)": "sw_ucb", "Thompson sampling": "thompson",
                              "RL² trained on stationary bandits (chapter 5)": "rl2_stationary"}


def _applications() -> list[dict]:
    return json.loads((RESULTS / "applications_full.json").read_text(encoding="utf-8"))["rows"]


def _pair(cell: str) -> tuple[float, float]:
    mean, ci = cell.split("±")
    return _number(mean.strip()), _number(ci.strip())


def _applications_block() -> str:
    block = README[README.index("**Applications** (chapter 8)"):]
    return block[:block.index("\n## ")]


def test_the_multi_task_table_quotes_the_committed_benchmark():
    rows = _applications()
    table = _table_rows("**Applications** (chapter 8)")
    assert set(table) == set(APPLICATION_MULTI_TASK_ROWS)
    for label, cells in table.items():
        method = APPLICATION_MULTI_TASK_ROWS[label]
        tuned = method != "maml"
        source = {r["steps"]: r for r in rows if r["experiment"] == "multi_task" and r["method"] == method
                  and r["tuned"] == tuned}
        lam = source[1].get("reg_strength")
        assert cells[0] == ("—" if lam is None else f"{lam:g}"), label
        for steps, cell in zip((1, 5, 10), cells[1:], strict=True):
            match = re.fullmatch(r"([\d.]+) ± ([\d.]+) \(([\d.]+)\)", cell)
            assert match, f"{label}: {cell!r}"
            row = source[steps]
            assert (float(match.group(1)), float(match.group(2))) == pytest.approx((row["mse"], row["ci95"]),
                                                                                   abs=0.005 + 1e-9), label
            assert float(match.group(3)) == pytest.approx(row["published"]), label


def test_the_shift_switching_and_online_tables_quote_the_committed_benchmark():
    rows = _applications()
    block = _applications_block()
    shift = _table_rows("*Cross-domain shift*")
    assert set(shift) == set(APPLICATION_STARTS)
    for label, cells in shift.items():
        for (kind, value), cell in zip(APPLICATION_SHIFT_COLUMNS, cells, strict=True):
            method = APPLICATION_STARTS[label]
            (row,) = [r for r in rows if r["experiment"] == "shift_sinusoid" and r["method"] == method
                      and r["shift_kind"] == kind and abs(r["shift"] - value) < 1e-9 and r["steps"] == 1]
            assert _pair(cell) == pytest.approx((row["nmse"], row["nmse_ci95"]), abs=0.005 + 1e-9), (label, kind)
    switching = _table_rows("0.03), dynamic regret")
    assert set(switching) == set(APPLICATION_SWITCHING_ROWS)
    for label, (cell,) in switching.items():
        (row,) = [r for r in rows if r["experiment"] == "switching_bandit" and "round" not in r
                  and r["method"] == APPLICATION_SWITCHING_ROWS[label]]
        assert _pair(cell) == pytest.approx((row["regret"], row["ci95"]), abs=0.005 + 1e-9), label
    online = _table_rows("*Adaptive learning*")
    assert set(online) == set(APPLICATION_ONLINE_ROWS)
    summary = {(r["stream"], r["method"]): r for r in rows if r["experiment"].startswith("online")
               and r["kind"] == "summary" and r["subset"] == "all"}
    for label, cells in online.items():
        for stream, cell in zip(APPLICATION_STREAMS, cells, strict=True):
            key = (stream, APPLICATION_ONLINE_ROWS[label])
            if key not in summary:
                assert cell == "—", (label, stream)
                continue
            assert _pair(cell) == pytest.approx((summary[key]["loss"], summary[key]["ci95"]), abs=0.0005 + 1e-9)
    needed = {r["method"]: r["num_shots"] for r in rows
              if r["experiment"] == "points_needed" and r["target_mse"] == 0.5}
    assert f"MAML reaches a 5-shot MSE of 0.5 with K = {needed['maml']} points" in block
    assert f"from scratch needs K = {needed['scratch_adam']}" in block
    assert f"the pretrained one K = {needed['pretrained_adam']}" in block

    def nmse(method, kind="amplitude", shift=0.0, steps=1, field="nmse"):
        (row,) = [r for r in rows if r["experiment"] == "shift_sinusoid" and r["method"] == method
                  and r["shift_kind"] == kind and r["shift"] == shift and r["steps"] == steps]
        return row[field]

    assert f"a factor of {nmse('maml_broad') / nmse('maml'):.1f} in distribution" in block
    assert f"10 steps: {nmse('meta_sgd', steps=10, field='diverged_fraction'):.0%}".replace("%", " %") in block
