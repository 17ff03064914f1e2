"""Graph transformations of the front end, grouped by compiler stage. Each is a qonnx
`Transformation`: `apply(model) -> (model, changed)`."""
