"""Tools around the product: `mat replay`, `mat bench` (with its scorer and load bench),
`mat doctor`, `mat demo`, and the writer of labelled simulated recordings."""
