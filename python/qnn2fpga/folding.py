"""Folding: how many elements each hardware layer processes per cycle (PE/SIMD) and how
it keeps its parameters (mem_mode, ram_style), from a folding config JSON in FINN's
format or automatically from a throughput target on a board.

Folding config (FINN's format):

    {"Defaults": {"ram_style": ["block", ["MVAU"]], "mem_mode": ["internal_decoupled", "all"]},
     "MVAU_0": {"PE": 16, "SIMD": 49, "ram_style": "distributed"}, ...}

`apply_config` sets every attribute the node declares, checks the result (typed errors
name the node and the constraint) and reports what matched nothing: node names not in
the graph and attributes a node does not have. A value the layer accepts but no backend
implements yet (its attribute's `not_implemented`, e.g. resType "dsp" or
preferred_impl_style "hls") is not applied and is reported with the reason. `hw_config` writes the same format back
(final_hw_config.json).

`auto_fold` picks, per layer, the configuration with the least board-weighted resource
cost (qnn2fpga.estimate) among all legal folds and memory options whose cycles per frame
meet the target; layers are independent given the target, so this is the minimum of the
summed cost. Folds a layer must share with its consumer (`fold_ties`) are chosen jointly.
When the target is out of reach (a layer cannot go fast enough, or the design does not
fit the board) it raises a FoldingError/BoardError that states the achievable fps.

Block RAM left idle saves nothing, while LUTs are what a dense design runs out of first
and what makes timing closure hard. So once the folds are chosen, `auto_fold` spends
idle BRAM on LUTs: it moves memories (weights, thresholds, line buffers) from LUTs to
block RAM, keeping every layer's PE/SIMD, those saving the most LUTs per BRAM_18K first,
while the design's BRAM stays within `bram_fill` (default half) of the board's. A move
must save at least MIN_FILL_SAVING LUTs: a small memory is not worth a BRAM.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

from qonnx.core.modelwrapper import ModelWrapper

from qnn2fpga import estimate
from qnn2fpga.errors import BoardError, FoldingError, InputFileError, QnnError
from qnn2fpga.layers import numerics
from qnn2fpga.layers.registry import get_layer, is_hw_layer

# The attribute of a layer's parallel variant (a sliding window producing a whole window per
# cycle): automatic folding takes it only where no other option meets the target.
PARALLEL = "parallel_window"
# Attributes a folding config may set (FINN's vocabulary); a node takes those it declares.
CONFIG_ATTRS = ("PE", "SIMD", "ram_style", "mem_mode", "resType", "runtime_writeable_weights",
                "depth_trigger_bram", "depth_trigger_uram", "inFIFODepths", "outFIFODepths", "depth",
                "impl_style", "fifo_impl", "preferred_impl_style", PARALLEL)
# FINN's default limit on a decoupled weight stream's width (mvau_wwidth_max).
DEFAULT_WWIDTH_MAX = 36
DEFAULT_BRAM_FILL = 0.5  # auto_fold moves memories to block RAM up to this share of the board's BRAM_18K
MIN_FILL_SAVING = 64  # ... each move saving at least this many LUTs (a small memory stays in LUTs)


@dataclass
class ConfigReport:
    """What a folding config changed and what in it matched nothing."""

    applied: dict = field(default_factory=dict)  # node -> {attr: value}
    unknown_nodes: list = field(default_factory=list)
    unused_attrs: list = field(default_factory=list)  # (node, attr)
    unused_defaults: list = field(default_factory=list)
    # (where, attr, value, reason): values a layer accepts but no backend implements yet
    not_implemented: list = field(default_factory=list)

    def warnings(self) -> list[str]:
        out = [f"unused configuration: node '{n}' is not in the graph" for n in self.unknown_nodes]
        out += [f"unused configuration: node '{n}' has no attribute '{a}'" for n, a in self.unused_attrs]
        out += [f"unused configuration: default '{a}' matched no node" for a in self.unused_defaults]
        out += [f"ignored configuration: {where}: {a}={v!r} is not implemented and was not applied: {why}"
                for where, a, v, why in self.not_implemented]
        return out


def hw_nodes(model: ModelWrapper) -> list:
    return [n for n in model.graph.node if is_hw_layer(n)]


def _check_layer(layer) -> None:
    layer.check_node()
    layer.check_folding()


def _set(layer, attr: str, value) -> None:
    try:
        layer.set_attr(attr, value)
    except QnnError as e:
        raise FoldingError(layer.where, e.problem, e.fix) from None


def _apply(layer, attr: str, value, report: ConfigReport) -> None:
    """Sets a declared attribute from the config, unless the value is one no backend
    implements yet: that is reported instead (the attribute keeps its value)."""
    why = layer.declared_attrs()[attr].unimplemented_reason(value)
    if why is not None:
        report.not_implemented.append((layer.where, attr, value, why))
        return
    _set(layer, attr, value)
    report.applied.setdefault(layer.onnx_node.name, {})[attr] = value


def apply_config(model: ModelWrapper, config: dict, where: str = "folding config") -> tuple[ModelWrapper, ConfigReport]:
    """Applies a FINN-format folding config to the hardware layers of `model` (in place)."""
    if not isinstance(config, dict):
        raise InputFileError(where, "is not a JSON object", 'write {"Defaults": {...}, "<node name>": {...}}')
    report = ConfigReport()
    nodes = {n.name: n for n in hw_nodes(model)}
    defaults = config.get("Defaults", {})
    if not isinstance(defaults, dict):
        raise InputFileError(where, '"Defaults" is not an object', 'write "Defaults": {"attr": [value, ["Op", ...]]}')
    for attr, spec in defaults.items():
        if not (isinstance(spec, list) and len(spec) == 2):
            raise InputFileError(where, f'default "{attr}" is {spec!r}, not [value, op types]',
                                 f'write "{attr}": [value, ["MVAU"]] or [value, "all"]')
        value, ops = spec
        ops = None if ops == "all" or ops == ["all"] else set(ops if isinstance(ops, list) else [ops])
        used = False
        for node in nodes.values():
            layer = get_layer(node)
            if (ops is None or node.op_type in ops) and attr in layer.declared_attrs():
                _apply(layer, attr, value, report)
                used = True
        if not used:
            report.unused_defaults.append(attr)
    for name, attrs in config.items():
        if name == "Defaults":
            continue
        if name not in nodes:
            report.unknown_nodes.append(name)
            continue
        if not isinstance(attrs, dict):
            raise InputFileError(where, f"entry '{name}' is {attrs!r}, not an object", f'write "{name}": {{"PE": 4}}')
        layer = get_layer(nodes[name])
        for attr, value in attrs.items():
            if attr not in layer.declared_attrs():
                report.unused_attrs.append((name, attr))
                continue
            _apply(layer, attr, value, report)
    for node in nodes.values():
        _check_layer(get_layer(node))
    for group in _groups(model):
        if len(group) == 2:
            _check_tie(*group)
    return model, report


def _check_tie(producer, consumer) -> None:
    """A producer's tied folds (`fold_ties`) equal its consumer's `producer_fold()`."""
    prod, cons = get_layer(producer), get_layer(consumer)
    fold = cons.producer_fold()
    for attr in prod.fold_ties():
        if prod.attr(attr) != fold:
            raise FoldingError(producer.name, f"{attr}={prod.attr(attr)} must match its consumer {consumer.name}, "
                               f"which reads {fold} elements per word from it",
                               f"set {producer.name} {attr}={fold} (or refold {consumer.name})")


def hw_config(model: ModelWrapper) -> dict:
    """The folding config of `model` in FINN's format (every config attribute each node has)."""
    out = {"Defaults": {}}
    for node in hw_nodes(model):
        layer = get_layer(node)
        declared = layer.declared_attrs()
        out[node.name] = {a: layer.attr(a) for a in CONFIG_ATTRS if a in declared}
    return out


# --- automatic folding ---------------------------------------------------------------------


@dataclass
class Choice:
    attrs: dict
    cycles: int
    resources: dict
    cost: float


@dataclass
class FoldResult:
    fclk_mhz: float
    target_fps: float
    target_cycles: int
    choices: dict  # node name -> Choice

    @property
    def max_cycles(self) -> int:
        return max(c.cycles for c in self.choices.values())

    @property
    def fps(self) -> float:
        return self.fclk_mhz * 1e6 / self.max_cycles

    def total(self) -> dict:
        return estimate.total({n: c.resources for n, c in self.choices.items()})


def memory_axes(layer) -> dict[str, list[str]]:
    """The memory attributes automatic folding chooses for the layer, with their values."""
    declared, axes = layer.declared_attrs(), {}
    if "mem_mode" in declared and layer.attr("mem_mode") != "external":
        axes["mem_mode"] = ["internal_embedded", "internal_decoupled"]
    if "ram_style" in declared and layer.memories() and layer.attr("ram_style") != "ultra":
        axes["ram_style"] = ["distributed", "block"]
    return axes


def _options(layer) -> list[dict]:
    """Every legal assignment of the layer's free fold and memory attributes (and of
    `parallel_window` where declared: combinations the layer refuses are dropped by
    `_evaluate`)."""
    axes = {}
    if not layer.folded_by_neighbours:
        for name, fold in layer.fold_attrs().items():
            axes[name] = numerics.divisors(layer.attr(fold.divides))
        if PARALLEL in layer.declared_attrs():
            axes[PARALLEL] = [0, 1]
    axes.update(memory_axes(layer))
    names = list(axes)
    return [dict(zip(names, values)) for values in itertools.product(*(axes[n] for n in names))]


def _evaluate(layer, attrs: dict, family: str, capacity: dict, wwidth_max: int):
    for k, v in attrs.items():
        layer.set_attr(k, v)
    try:
        layer.check_layer()
    except QnnError:
        return None
    if attrs.get("mem_mode", "internal_embedded") != "internal_embedded" and layer.weight_stream_width() > wwidth_max:
        return None
    res = estimate.layer_resources(layer, family)
    return Choice(dict(attrs), layer.cycles(), res, estimate.weighted_cost(res, capacity))


def _candidates(layer, family, capacity, wwidth_max) -> list[Choice]:
    options = _options(layer)
    saved = {k: layer.attr(k) for k in options[0]}
    out = [c for attrs in options if (c := _evaluate(layer, attrs, family, capacity, wwidth_max))]
    for k, v in saved.items():
        layer.set_attr(k, v)
    return out


def _preference(c: Choice) -> tuple:
    """Order among options meeting a target: no parallel window unless needed, then the
    least cost, LUTs and cycles."""
    return (c.attrs.get(PARALLEL, 0), c.cost, c.resources["LUT"], c.cycles, sorted(c.attrs.items()))


def _best(cands: list[Choice], target_cycles: int) -> Choice | None:
    ok = [c for c in cands if c.cycles <= target_cycles]
    if not ok:
        return None
    return min(ok, key=_preference)


def _groups(model: ModelWrapper) -> list[list]:
    """Hardware nodes grouped by fold ties: [producer, consumer] for a tied pair."""
    tied_to = {}
    for node in hw_nodes(model):
        if get_layer(node).fold_ties():
            consumers = [c for c in model.find_consumers(node.output[0]) or [] if is_hw_layer(c)]
            if len(consumers) == 1:
                tied_to[consumers[0].name] = node
    producers = {p.name for p in tied_to.values()}
    groups = []
    for node in hw_nodes(model):
        if node.name in producers:
            continue
        groups.append([tied_to[node.name], node] if node.name in tied_to else [node])
    return groups


def _group_candidates(model, group, family, capacity, wwidth_max) -> list[tuple[Choice, ...]]:
    """Joint candidates of a group: the consumer's options, each with the tied producer
    folded to the consumer's `producer_fold()` (its cheapest memory options)."""
    layers = [get_layer(n) for n in group]
    if len(layers) == 1:
        return [(c,) for c in _candidates(layers[0], family, capacity, wwidth_max)]
    prod, cons = layers
    prod_cands = _candidates(prod, family, capacity, wwidth_max)
    out = []
    for c in _candidates(cons, family, capacity, wwidth_max):
        for k, v in c.attrs.items():
            cons.set_attr(k, v)
        fold = cons.producer_fold()
        matching = [p for p in prod_cands if all(p.attrs.get(t) == fold for t in prod.fold_ties())]
        # the cheapest producer at each speed its options reach (a parallel window is faster)
        for cycles in sorted({p.cycles for p in matching}):
            out.append((min((p for p in matching if p.cycles == cycles), key=_preference), c))
    return out


def achievable_fps(fclk_mhz: float, cycles: int) -> int:
    """The whole frames per second to suggest for `cycles` per frame: rounded down, so
    that --target_fps=<it> asks for at most `cycles` (floor(f / floor(f / c)) >= c)."""
    return math.floor(fclk_mhz * 1e6 / cycles)


def fastest_cycles(model: ModelWrapper, board, wwidth_max: int = DEFAULT_WWIDTH_MAX) -> int:
    """The fewest cycles per frame automatic folding can reach on `board` (every layer at
    its fastest option, resources aside): layers whose cycles do not fall with folding
    (padding, sliding windows, pooling: one pixel per cycle at least) bound it."""
    cands = [_group_candidates(model, g, board.family, board.capacity, wwidth_max) for g in _groups(model)]
    return _fastest(cands)


def _fastest(cands) -> int:
    return max(min(max(x.cycles for x in c) for c in cs) for cs in cands)


def _fill_block_ram(groups, cands, chosen: list, cycles: int, budget: float) -> list:
    """`chosen` with memories moved to block RAM while the design's BRAM_18K stays within
    `budget`: each step takes, among every group's options with the same folds and at
    most `cycles`, the one saving the most LUTs per added BRAM_18K (see the module doc)."""
    def folds(choice):
        return [{k: v for k, v in x.attrs.items() if k not in ("ram_style", "mem_mode")} for x in choice]

    def res(choice, r):
        return sum(x.resources[r] for x in choice)

    chosen = list(chosen)
    used = sum(res(c, "BRAM_18K") for c in chosen)
    while True:
        best = None
        for i, cs in enumerate(cands):
            cur = chosen[i]
            for alt in cs:
                more, saved = res(alt, "BRAM_18K") - res(cur, "BRAM_18K"), res(cur, "LUT") - res(alt, "LUT")
                if (more <= 0 or saved < MIN_FILL_SAVING or used + more > budget or folds(alt) != folds(cur)
                        or max(x.cycles for x in alt) > cycles
                        or any(res(alt, r) > res(cur, r) for r in ("URAM", "DSP"))):
                    continue
                key = (saved / more, saved, [g.name for g in groups[i]])
                if best is None or key > best[0]:
                    best = (key, i, alt, more)
        if best is None:
            return chosen
        _, i, alt, more = best
        chosen[i] = alt
        used += more


def auto_fold(model: ModelWrapper, board, target_fps: float, fclk_mhz: float | None = None,
              wwidth_max: int = DEFAULT_WWIDTH_MAX, max_utilization: float = 1.0,
              bram_fill: float = DEFAULT_BRAM_FILL) -> tuple[ModelWrapper, FoldResult]:
    """Folds every hardware layer of `model` (in place) for `target_fps` at `fclk_mhz` on
    `board` (a boards.Board) with the least board-weighted resources, then moves
    memories to idle block RAM up to `bram_fill` of the board's; see the module doc."""
    fclk = fclk_mhz or board.default_clock_mhz
    if not target_fps or target_fps <= 0:
        raise FoldingError("target_fps", f"is {target_fps}", "give a positive frames-per-second target")
    target_cycles = int(math.floor(fclk * 1e6 / target_fps))
    if target_cycles < 1:
        raise FoldingError("target_fps", f"{target_fps:g} fps exceeds one frame per cycle at {fclk:g} MHz",
                           f"ask for at most {fclk * 1e6:g} fps or raise the clock")
    groups = _groups(model)
    cands = [_group_candidates(model, g, board.family, board.capacity, wwidth_max) for g in groups]

    def pick(cycles: int):
        chosen = []
        for g, cs in zip(groups, cands):
            ok = [c for c in cs if max(x.cycles for x in c) <= cycles]
            if not ok:
                return None, g
            chosen.append(min(ok, key=lambda c: (sum(x.attrs.get(PARALLEL, 0) for x in c), sum(x.cost for x in c),
                                                 sum(x.resources["LUT"] for x in c), max(x.cycles for x in c),
                                                 [sorted(x.attrs.items()) for x in c])))
        return chosen, None

    def fits(chosen) -> dict:
        tot = estimate.total({f"{i}.{j}": x.resources for i, c in enumerate(chosen) for j, x in enumerate(c)})
        return estimate.over_capacity(tot, board.capacity, max_utilization)

    chosen, stuck = pick(target_cycles)
    if chosen is None:
        fastest = _fastest(cands)
        names = ", ".join(n.name for n in stuck)
        raise FoldingError(f"layer {names}", f"cannot reach {target_fps:g} fps ({target_cycles} cycles per frame at "
                           f"{fclk:g} MHz) even fully unfolded",
                           f"achievable: {achievable_fps(fclk, fastest)} fps ({fastest} cycles); lower target_fps "
                           "or raise the clock")
    over = fits(chosen)
    if over:
        # The largest fps that fits: the smallest feasible cycle budget, by bisection
        # over the distinct cycle counts (cost falls as the budget grows).
        budgets = sorted({max(x.cycles for x in c) for cs in cands for c in cs
                          if max(x.cycles for x in c) > target_cycles})
        lo, hi, best = 0, len(budgets) - 1, None
        while lo <= hi:
            mid = (lo + hi) // 2
            ch, _ = pick(budgets[mid])
            if ch is not None and not fits(ch):
                best, hi = budgets[mid], mid - 1
            else:
                lo = mid + 1
        need = ", ".join(f"{r} {n}" for r, n in sorted(over.items()))
        cap = ", ".join(f"{r} {int(board.capacity[r] * max_utilization)}" for r in sorted(over))
        achievable = (f"achievable on {board.name}: {achievable_fps(fclk, best)} fps ({best} cycles per frame)"
                      if best else f"nothing fits {board.name}")
        raise BoardError(f"board '{board.key}'", f"{target_fps:g} fps needs {need} but the board has {cap}",
                         f"{achievable}; lower target_fps or pick a larger board")
    filled = _fill_block_ram(groups, cands, chosen, target_cycles,
                             min(bram_fill, max_utilization) * board.capacity.get("BRAM_18K", 0))
    if not fits(filled):
        chosen = filled
    result = FoldResult(fclk, target_fps, target_cycles, {})
    for group, choice in zip(groups, chosen):
        for node, c in zip(group, choice):
            layer = get_layer(node)
            for k, v in c.attrs.items():
                layer.set_attr(k, v)
            _check_layer(layer)
            result.choices[node.name] = c
    return model, result
