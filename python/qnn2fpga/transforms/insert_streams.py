"""Stream plumbing between folded hardware layers (run after folding):

- `InsertDWC`: where a layer's output words are not as wide as its consumer's input
  words (different folds), a StreamingDataWidthConverter between them.
- `InsertFIFO`: a StreamingFIFO on every stream between two hardware layers, as deep as
  the larger of the producer's `outFIFODepths` and the consumer's `inFIFODepths` entry
  (FIFO sizing sets those; folding configs may too).

Only direct layer-to-layer streams are handled (a stream whose consumer reads it in
another shape, after a removed Reshape/Flatten, gets nodes in a shape both folds suit); the inserted nodes are named
`<op>_<n>` like every hardware layer, numbered in stream order. Execution results do
not change (both layers pass data through).
"""

from __future__ import annotations

import math

from qonnx.core.modelwrapper import ModelWrapper

from qnn2fpga.graph import insert_after, new_tensor
from qnn2fpga.layers.registry import get_layer, is_hw_layer
from qnn2fpga.transforms.base import Pass


def hw_streams(model: ModelWrapper):
    """(producer, output index, consumer, input index, tensor) for every stream that
    runs directly from one hardware layer into another."""
    out = []
    for prod in model.graph.node:
        if not is_hw_layer(prod):
            continue
        for i, tensor in enumerate(prod.output):
            for cons in model.find_consumers(tensor) or []:
                if is_hw_layer(cons):
                    out.append((prod, i, cons, list(cons.input).index(tensor), tensor))
    return out


def stream_view(model: ModelWrapper, tensor: str, cons, j: int, folds: tuple[int, ...]) -> list[int]:
    """A shape of the stream `tensor` (into consumer input j) whose innermost axis every
    fold in `folds` divides, for a node spliced into it: the tensor's own shape, else
    the consumer's view of it (the two differ where a Reshape/Flatten between the layers
    was removed), else the flat (batch, elements per frame)."""
    shape = list(model.get_tensor_shape(tensor))
    views = [shape, [shape[0], *get_layer(cons).get_normal_input_shape(j)[1:]], [shape[0], math.prod(shape[1:])]]
    return next(v for v in views if all(v[-1] % f == 0 for f in folds))


def _splice(model: ModelWrapper, prod, cons, j: int, tensor: str, make, shape=None) -> None:
    """Puts the node `make(new_tensor)` returns between `tensor` and consumer input j;
    the new tensor has `shape` (default: the tensor's)."""
    shape = model.get_tensor_shape(tensor) if shape is None else shape
    mid = new_tensor(model, shape, model.get_tensor_datatype(tensor))
    node = make(tensor, mid)
    cons.input[j] = mid
    insert_after(model, prod, [node])


def _renumber(model: ModelWrapper, op_type: str) -> None:
    for k, n in enumerate(n for n in model.graph.node if n.op_type == op_type and is_hw_layer(n)):
        n.name = f"{op_type}_{k}"


class InsertDWC(Pass):
    def apply(self, model: ModelWrapper):
        from qnn2fpga.layers import StreamingDataWidthConverter  # noqa: PLC0415

        changed = False
        for prod, i, cons, j, tensor in hw_streams(model):
            p, c = get_layer(prod), get_layer(cons)
            fin, fout = p.output_folds()[i], c.input_folds()[j]
            if fin == fout:
                continue
            shape = stream_view(model, tensor, cons, j, (fin, fout))
            dt = p.output_datatypes()[i]
            _splice(model, prod, cons, j, tensor, lambda a, b: StreamingDataWidthConverter.make_node(
                [a], [b], name="StreamingDataWidthConverter_new", NumChannels=shape[-1], inFold=fin, outFold=fout,
                dataType=dt.name, numInputVectors=list(shape[:-1])), shape)
            changed = True
        if changed:
            _renumber(model, "StreamingDataWidthConverter")
        return model, False


class InsertFIFO(Pass):
    def apply(self, model: ModelWrapper):
        from qnn2fpga.layers import StreamingFIFO  # noqa: PLC0415

        changed = False
        for prod, i, cons, j, tensor in hw_streams(model):
            if prod.op_type == "StreamingFIFO" or cons.op_type == "StreamingFIFO":
                continue
            p, c = get_layer(prod), get_layer(cons)
            depth = max(_entry(p.outFIFODepths, i), _entry(c.inFIFODepths, j))
            fold = c.input_folds()[j]
            shape = stream_view(model, tensor, cons, j, (fold,))
            dt = c.input_datatypes()[j]
            _splice(model, prod, cons, j, tensor, lambda a, b: StreamingFIFO.make_node(
                [a], [b], name="StreamingFIFO_new", NumChannels=shape[-1], PE=fold, dataType=dt.name,
                numInputVectors=list(shape[:-1]), depth=depth), shape)
            changed = True
        if changed:
            _renumber(model, "StreamingFIFO")
        return model, False


def _entry(depths: list[int], index: int) -> int:
    """The depth for stream `index` (the last entry repeats, as FINN reads short lists)."""
    return depths[min(index, len(depths) - 1)] if depths else 2
